"""The `deepgram.transcribe` action: every error a caller can meet."""

from __future__ import annotations

from functools import partial
from pathlib import Path
import shutil
import time
from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram import services
from custom_components.deepgram.api import rest as rest_module
from custom_components.deepgram.api.redact import REDACTED
from custom_components.deepgram.const import (
    CONF_MODEL,
    DOMAIN,
    RECOMMENDED_STT_OPTIONS,
)
from tests.conftest import API_KEY, entry_with_profiles, key_leaks, set_up_entry
from tests.deepgram_server import FakeDeepgram, Faults, Latency, script_from_text
from tests.deepgram_server.testing import wav_silence
from tests.services_helpers import (
    WAV,
    Transcribe,
    call_transcribe,
    posts,
)


async def expect_error(
    transcribe: Transcribe,
    key: str,
    cls: type[HomeAssistantError] = ServiceValidationError,
    **data: object,
) -> HomeAssistantError:
    """Call the action; it must raise `cls` with translation key `key`."""
    with pytest.raises(cls) as info:
        await transcribe(**data)
    assert type(info.value) is cls
    assert info.value.translation_domain == DOMAIN
    assert info.value.translation_key == key
    assert str(info.value)  # the translated message, placeholders filled in
    return info.value


# A profile of a streaming-only model, which the action cannot use.
FLUX_PROFILE = {**RECOMMENDED_STT_OPTIONS, CONF_MODEL: "flux-general-en"}


@pytest.fixture
def voicemail(allowed: Path) -> Path:
    """A small WAV in the allowed directory."""
    path = allowed / "voicemail.wav"
    path.write_bytes(wav_silence(1.0))
    return path


# -- the recording -------------------------------------------------------------


async def test_path_outside_the_allowed_directories(
    server: FakeDeepgram, allowed: Path, tmp_path: Path, transcribe: Transcribe
) -> None:
    """A file outside allowlist_external_dirs, or a relative path, is refused."""
    outside = tmp_path / "secret.wav"
    shutil.copy(WAV, outside)
    error = await expect_error(transcribe, "path_not_allowed", path=str(outside))
    assert str(outside) in str(error)
    await expect_error(transcribe, "path_not_allowed", path="allowed/voicemail.wav")
    linked = allowed / "link.wav"
    linked.symlink_to(outside)
    await expect_error(transcribe, "path_not_allowed", path=str(linked))
    assert posts(server) == []


async def test_missing_file(
    server: FakeDeepgram, allowed: Path, transcribe: Transcribe
) -> None:
    """A file that does not exist, or a directory, is reported by name."""
    error = await expect_error(
        transcribe, "file_not_found", path=str(allowed / "nothing.wav")
    )
    assert "nothing.wav" in str(error)
    await expect_error(transcribe, "file_not_found", path=str(allowed))
    assert posts(server) == []


async def test_unreadable_file(
    server: FakeDeepgram,
    voicemail: Path,
    transcribe: Transcribe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file that cannot be opened is reported with the reason."""

    def refuse(self: Path, *args: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    error = await expect_error(transcribe, "file_unreadable", path=str(voicemail))
    assert "Permission denied" in str(error)
    assert posts(server) == []


async def test_file_failing_on_disk(
    server: FakeDeepgram,
    voicemail: Path,
    transcribe: Transcribe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Disk errors while checking or reading the file are reported plainly."""
    real_stat = Path.stat

    def failing_stat(self: Path, **kwargs: Any) -> Any:
        if self == voicemail:
            raise OSError(5, "Input/output error")
        return real_stat(self, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Path, "stat", failing_stat)
        error = await expect_error(transcribe, "file_unreadable", path=str(voicemail))
    assert "Input/output error" in str(error)
    assert posts(server) == []

    real_open = Path.open

    def failing_reads(self: Path, *args: Any) -> Any:
        handle = real_open(self, *args)

        class Failing:
            name = handle.name

            def read(self, size: int) -> bytes:
                raise OSError(5, "Input/output error")

            def close(self) -> None:
                handle.close()

        return Failing()

    monkeypatch.setattr(Path, "open", failing_reads)
    error = await expect_error(transcribe, "file_unreadable", path=str(voicemail))
    assert "voicemail.wav" in str(error)


async def test_unknown_media(
    server: FakeDeepgram, media_dir: Path, transcribe: Transcribe
) -> None:
    """Ids that are no media source id, or name no source, are refused."""
    for media_id in ("voicemail.wav", "media-source://no_such_source/clip.wav"):
        error = await expect_error(
            transcribe, "media_not_found", media_content_id=media_id
        )
        assert media_id in str(error)
    await expect_error(
        transcribe,
        "file_not_found",
        media_content_id="media-source://media_source/local/missing.wav",
    )
    assert posts(server) == []


async def test_media_source_not_loaded(
    server: FakeDeepgram, transcribe: Transcribe
) -> None:
    """Without the media source integration a media id cannot be resolved."""
    await expect_error(
        transcribe,
        "media_not_found",
        media_content_id="media-source://media_source/local/memo.ogg",
    )


async def test_one_input_exactly(voicemail: Path, transcribe: Transcribe) -> None:
    """A path and a media id together, or neither, are refused by the schema."""
    with pytest.raises(probatio.Invalid):
        await transcribe(
            path=str(voicemail),
            media_content_id="media-source://media_source/local/x.wav",
        )
    with pytest.raises(probatio.Invalid):
        await transcribe(language="en")
    with pytest.raises(probatio.Invalid):
        await transcribe(path=str(voicemail), language="en", detect=True)
    with pytest.raises(probatio.Invalid):
        await transcribe(path=str(voicemail), max_size=0)


async def test_invalid_language(
    server: FakeDeepgram, voicemail: Path, transcribe: Transcribe
) -> None:
    """A language tag Deepgram cannot take is refused before any request."""
    error = await expect_error(
        transcribe, "invalid_options", path=str(voicemail), language="english!"
    )
    assert "english!" in str(error)
    assert posts(server) == []


# -- the profile ---------------------------------------------------------------


async def test_unknown_profile(
    hass: HomeAssistant, server: FakeDeepgram, voicemail: Path, transcribe: Transcribe
) -> None:
    """An entity that is not one of this integration's STT entities."""
    for entity_id in ("stt.nothing_here", "sensor.deepgram_nova_3"):
        error = await expect_error(
            transcribe, "unknown_profile", path=str(voicemail), profile=entity_id
        )
        assert entity_id in str(error)
    assert posts(server) == []


async def test_profile_not_loaded_and_no_profile(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    voicemail: Path,
    transcribe: Transcribe,
) -> None:
    """An unloaded entry's profile, or no loaded profile at all."""
    assert await hass.config_entries.async_unload(setup_integration.entry_id)
    await expect_error(
        transcribe,
        "profile_not_loaded",
        path=str(voicemail),
        profile="stt.deepgram_nova_3",
    )
    await expect_error(transcribe, "no_profile", path=str(voicemail))
    assert posts(server) == []


async def test_flux_profile_is_unsupported(
    hass: HomeAssistant, server: FakeDeepgram, voicemail: Path
) -> None:
    """A Flux profile only streams: refused by name, skipped as the default."""
    profiles = {"Flux": FLUX_PROFILE, "Nova": dict(RECOMMENDED_STT_OPTIONS)}
    await set_up_entry(hass, entry_with_profiles(server, profiles))
    transcribe = partial(call_transcribe, hass)
    error = await expect_error(
        transcribe, "unsupported_profile", path=str(voicemail), profile="stt.flux"
    )
    assert "flux-general-en" in str(error)
    response = await transcribe(path=str(voicemail))
    assert response["entity_id"] == "stt.nova"
    assert [r.query["model"] for r in posts(server)] == ["nova-3"]


async def test_only_flux_profiles_is_no_profile(
    hass: HomeAssistant, server: FakeDeepgram, voicemail: Path
) -> None:
    """With no profile that takes recordings there is no default."""
    await set_up_entry(hass, entry_with_profiles(server, {"Flux": FLUX_PROFILE}))
    transcribe = partial(call_transcribe, hass)
    await expect_error(transcribe, "no_profile", path=str(voicemail))
    assert posts(server) == []


# -- Deepgram's answers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "key"),
    [
        (403, "transcribe_forbidden"),
        (429, "transcribe_rate_limited"),
        (400, "transcribe_bad_request"),
        (500, "transcribe_failed"),
        (503, "transcribe_failed"),
    ],
)
async def test_deepgram_refuses(
    server: FakeDeepgram,
    voicemail: Path,
    transcribe: Transcribe,
    status: int,
    key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each refusal has its own message with Deepgram's reason; one log line."""
    server.faults = Faults(prerecorded_status=status)
    error = await expect_error(transcribe, key, HomeAssistantError, path=str(voicemail))
    assert f"HTTP {status}" in str(error)
    [line] = [r for r in caplog.records if "could not transcribe" in r.getMessage()]
    assert "voicemail.wav" in line.getMessage()


async def test_rejected_key_starts_reauth(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    voicemail: Path,
    transcribe: Transcribe,
) -> None:
    """401: a translated error and a re-authentication flow."""
    server.faults = Faults(prerecorded_status=401)
    await expect_error(
        transcribe, "transcribe_auth_failed", HomeAssistantError, path=str(voicemail)
    )
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert flows[0]["context"]["entry_id"] == setup_integration.entry_id


async def test_out_of_credits_raises_the_repair(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    voicemail: Path,
    transcribe: Transcribe,
) -> None:
    """402: the payment repair issue appears, and goes after a success."""
    issue_id = f"payment_required_{setup_integration.entry_id}"
    registry = ir.async_get(hass)
    server.faults = Faults(prerecorded_status=402)
    await expect_error(
        transcribe,
        "transcribe_payment_required",
        HomeAssistantError,
        path=str(voicemail),
    )
    assert registry.async_get_issue(DOMAIN, issue_id) is not None
    server.faults = Faults()
    await transcribe(path=str(voicemail))
    assert registry.async_get_issue(DOMAIN, issue_id) is None


async def test_undecodable_file(
    server: FakeDeepgram, allowed: Path, transcribe: Transcribe
) -> None:
    """A file that is not audio: Deepgram's 400, said plainly."""
    path = allowed / "notes.wav"
    path.write_text("not audio at all")
    error = await expect_error(
        transcribe, "transcribe_bad_request", HomeAssistantError, path=str(path)
    )
    assert "corrupt or unsupported data" in str(error)
    [request] = posts(server)
    assert request.headers["Content-Type"] == "audio/x-wav"


@pytest.mark.parametrize(
    "faults", [Faults(stall_prerecorded=True), Faults(drop_prerecorded=True)]
)
async def test_no_answer_is_bounded(
    server: FakeDeepgram,
    voicemail: Path,
    transcribe: Transcribe,
    monkeypatch: pytest.MonkeyPatch,
    faults: Faults,
) -> None:
    """A server that never answers (or hangs up) fails within the bound."""
    monkeypatch.setattr(services, "TIMEOUT_BASE", 0.5)
    monkeypatch.setattr(services, "TIMEOUT_PER_MEGABYTE", 0.0)
    server.faults = faults
    started = time.monotonic()
    key = "transcribe_timeout" if faults.stall_prerecorded else "transcribe_failed"
    error = await expect_error(transcribe, key, HomeAssistantError, path=str(voicemail))
    assert time.monotonic() - started < 1.5
    if faults.stall_prerecorded:
        assert "did not finish the transcription within" in str(error)


async def test_the_bound_grows_with_the_file(
    server: FakeDeepgram,
    allowed: Path,
    transcribe: Transcribe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A larger file gets a longer bound: base plus seconds per megabyte."""
    monkeypatch.setattr(services, "TIMEOUT_BASE", 0.3)
    monkeypatch.setattr(services, "TIMEOUT_PER_MEGABYTE", 4.0)
    server.latency = Latency(prerecorded_base=0.8)
    server.script = script_from_text("hello", start=0.1)
    small = allowed / "small.wav"
    small.write_bytes(wav_silence(0.1))  # 3.2 kB: about 0.31 s allowed
    large = allowed / "large.wav"
    large.write_bytes(wav_silence(8.0))  # 256 kB: about 1.3 s allowed
    await expect_error(
        transcribe, "transcribe_timeout", HomeAssistantError, path=str(small)
    )
    response = await transcribe(path=str(large))
    assert response["text"] == "hello"


# -- answers that cannot be trusted (issue 18, items 3 and 4) -------------------


async def test_a_request_id_echoing_the_key_is_scrubbed(
    server: FakeDeepgram,
    voicemail: Path,
    transcribe: Transcribe,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A proxy putting the Authorization header into the request id: the
    response (and every log line, checked by conftest) shows no key."""
    server.script = script_from_text("hello", start=0.1)
    server.faults = Faults(echo_authorization_in_request_id=True)
    response = await transcribe(path=str(voicemail))
    [request] = posts(server)
    assert request.request_id == f"Token {API_KEY}"  # what the server sent
    assert response["text"] == "hello"
    assert response["request_id"] == f"Token {REDACTED}"
    assert API_KEY not in str(response)
    assert key_leaks(caplog.records) == []


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"metadata": {}, "results": {"channels": [{"alternatives": [{"transcript":'
        b' "hi", "confidence": ' + b"9" * 400 + b"}]}]}}",
    ],
    ids=["deep", "huge-number"],
)
async def test_an_answer_that_cannot_be_understood(
    server: FakeDeepgram,
    voicemail: Path,
    transcribe: Transcribe,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
) -> None:
    """Odd JSON from POST /v1/listen: the translated error, one log line."""
    server.faults = Faults(odd_rest_answer=("/v1/listen", body))
    error = await expect_error(
        transcribe, "transcribe_failed", HomeAssistantError, path=str(voicemail)
    )
    assert "POST /v1/listen" in str(error)
    [line] = [r for r in caplog.records if "could not transcribe" in r.getMessage()]
    assert "voicemail.wav" in line.getMessage()


async def test_a_refusal_whose_request_id_echoes_the_key(
    server: FakeDeepgram,
    voicemail: Path,
    transcribe: Transcribe,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A refusal's dg-request-id echoing the key: the error and log show none."""
    server.faults = Faults(
        prerecorded_status=500, echo_authorization_in_request_id=True
    )
    error = await expect_error(
        transcribe, "transcribe_failed", HomeAssistantError, path=str(voicemail)
    )
    assert f"request id: Token {REDACTED}" in str(error)
    assert API_KEY not in str(error)
    assert key_leaks(caplog.records) == []


async def test_an_answer_larger_than_the_cap(
    server: FakeDeepgram,
    voicemail: Path,
    transcribe: Transcribe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A transcript answer over the read cap is refused, not held in memory.

    The cap grows with the upload (4 times the file's bytes): an answer
    over MAX_ANSWER is read for a file large enough, one over the grown cap
    is not.
    """
    monkeypatch.setattr(rest_module, "MAX_ANSWER", 64 * 1024)
    cap = 4 * len(wav_silence(1.0))  # the voicemail fixture's bytes
    assert cap > 64 * 1024
    answer = (
        b'{"metadata": {}, "results": {"channels": [{"alternatives": '
        b'[{"transcript": "hi"}]}]}}'
    )
    server.faults = Faults(odd_rest_answer=("/v1/listen", answer.ljust(cap)))
    response = await transcribe(path=str(voicemail))
    assert response["text"] == "hi"
    server.faults = Faults(odd_rest_answer=("/v1/listen", answer.ljust(cap + 1)))
    error = await expect_error(
        transcribe, "transcribe_failed", HomeAssistantError, path=str(voicemail)
    )
    assert f"larger than {cap:,} bytes" in str(error)
