"""The STT entity against the local Deepgram server: results, errors, bounds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import io
import logging
import re
import time
from typing import Any
import wave

from homeassistant.components import stt
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.deepgram import transcriber
from custom_components.deepgram.const import (
    CONF_ENDPOINTING,
    CONF_KEYTERMS,
    CONF_MODEL,
    CONF_MULTILINGUAL,
    CONSOLE_URL,
    DOMAIN,
    EVENT_TRANSCRIPT,
    ISSUE_PAYMENT_REQUIRED,
    RECOMMENDED_STT_OPTIONS,
    SUBENTRY_STT,
)
from tests.deepgram_server import (
    FakeDeepgram,
    Faults,
    Latency,
    Segment,
    Word,
    script_from_text,
)
from tests.deepgram_server.testing import silence, wait_for

from .pipeline_helpers import (
    CHUNK,
    ENTITY_ID,
    METADATA,
    chunks,
    speech_pcm,
    start_held_run,
    stt_entity,
    transcribe,
)

SCRIPT = script_from_text(
    "turn on the kitchen light", start=0.2, end=1.4, words_per_segment=3
)


# Seconds a loaded machine may add to a bounded wait (see docs/mutation.md).
FINALIZE_SLACK = 0.5


async def add_entry_with_profile(
    hass: HomeAssistant,
    template: MockConfigEntry,
    profile: dict[str, Any],
    title: str,
) -> MockConfigEntry:
    """Set up an entry like `template` whose one profile has `profile` settings."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Deepgram",
        data=dict(template.data),
        subentries_data=(
            ConfigSubentryData(
                data={**RECOMMENDED_STT_OPTIONS, **profile},
                subentry_type=SUBENTRY_STT,
                title=title,
                unique_id=None,
            ),
        ),
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    return entry


async def test_entity_device_and_languages(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """One entity per profile, named after it, on a service device."""
    subentry = next(iter(setup_integration.subentries.values()))
    entry = er.async_get(hass).async_get(ENTITY_ID)
    assert entry is not None
    assert entry.unique_id == subentry.subentry_id
    assert entry.config_subentry_id == subentry.subentry_id
    device = dr.async_get(hass).async_get(entry.device_id or "")
    assert isinstance(device, dr.DeviceEntry)
    assert device.name == "Deepgram nova-3"
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    languages = stt_entity(hass).supported_languages
    for tag in ("en", "en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "nl-NL"):
        assert tag in languages
    assert "multi" not in languages
    processing = stt_entity(hass).audio_processing
    assert processing.requires_external_vad


async def test_final_segments_and_finalize(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """The last words arrive only through Finalize; every final is kept."""
    server.script = [
        Segment((Word("Turn", 0.1, 0.3), Word("on", 0.3, 0.5))),
        Segment((Word("the", 0.7, 0.8), Word("light.", 0.8, 1.2))),
    ]
    result = await transcribe(hass, chunks(silence(1.2)))
    assert result == stt.SpeechResult(
        "Turn on the light.", stt.SpeechResultState.SUCCESS
    )
    await server.wait_for_sessions_closed()
    (session,) = server.sessions
    finals = [m for m in session.sent_of_type("Results") if m["is_final"]]
    assert [
        m["from_finalize"]
        for m in finals
        if m["channel"]["alternatives"][0]["transcript"]
    ] == [False, True]
    assert session.query["model"] == "nova-3"
    assert session.query["language"] == "en-US"
    assert session.query["encoding"] == "linear16"
    assert session.query["sample_rate"] == "16000"
    assert session.query["numerals"] == "true"
    assert session.query["smart_format"] == "false"
    assert session.authorization is not None
    # 10 ms chunks were sent as fewer, larger frames; nothing was held back.
    sizes = session.binary_frame_sizes()
    assert len(sizes) < len(silence(1.2)) // CHUNK
    assert sum(sizes) == len(silence(1.2))
    assert 0 not in sizes


async def test_audio_held_while_connecting_is_sent(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """A slow handshake loses nothing: what arrived meanwhile goes out first."""
    server.script = SCRIPT
    server.latency = Latency(rtt=0.5)
    audio = silence(1.5)
    result = await transcribe(hass, chunks(audio))
    assert result.text == "turn on the kitchen light"
    await server.wait_for_sessions_closed()
    session = server.sessions[0]
    # The audio held during the handshake went out as a backlog of 250 ms
    # frames (live audio goes in 50 ms frames), and all of it arrived.
    sizes = session.binary_frame_sizes()
    assert sizes[0] == 8000
    assert max(sizes) == 8000
    assert session.audio_bytes == len(audio)


async def test_transcript_returned_before_close(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """The user does not wait for CloseStream: it happens afterwards."""
    server.script = SCRIPT
    server.faults = Faults(never_close=True)
    result = await transcribe(hass, chunks(silence(1.5)))
    assert result.text == "turn on the kitchen light"
    session = server.sessions[0]
    assert not session.closed.is_set()
    # The background close ends the request within its bound.
    await server.wait_for_sessions_closed(timeout=8)
    assert session.got_close_stream


async def test_finalize_not_answered(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No answer to Finalize: what arrived is returned after a short bound."""
    server.script = [
        Segment((Word("Turn", 0.1, 0.3), Word("on", 0.3, 0.5))),
        Segment((Word("the", 0.7, 0.8), Word("light.", 0.8, 1.9))),
    ]
    server.faults = Faults(stall_after_finalize=True)
    ended: list[float] = []

    async def audio() -> AsyncIterator[bytes]:
        async for chunk in chunks(silence(1.3)):
            yield chunk
        ended.append(time.monotonic())

    result = await transcribe(hass, audio())
    waited = time.monotonic() - ended[0]
    # The README's promise: the text comes after at most 1.5 s without an
    # answer, plus slack for a loaded machine (measured: see docs/mutation.md).
    assert 1.5 <= waited < 1.5 + FINALIZE_SLACK
    # The final segment, plus the latest interim for the rest (interim
    # results are asked for so that these trailing words are not lost).
    assert result.text == "Turn on the"
    assert result.result is stt.SpeechResultState.SUCCESS
    record = setup_integration.runtime_data.history[-1]
    await server.wait_for_sessions_closed()
    assert record.finalize_answered is False
    # Results came: nothing hints at a problem with the model.
    assert "Deepgram sent nothing back" not in caplog.text


async def test_audio_without_any_answer_warns(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Audio sent, no message at all, Finalize unanswered: the run's empty
    success comes with a warning naming the likely causes."""
    server.script = []  # nothing is heard: no results at all
    server.faults = Faults(stall_after_finalize=True)
    result = await transcribe(hass, chunks(silence(1.0)))
    assert result == stt.SpeechResult("", stt.SpeechResultState.SUCCESS)
    await server.wait_for_sessions_closed()
    (session,) = server.sessions
    assert session.got_finalize
    # Only what CloseStream brings, after the run: nothing during it.
    assert session.sent_types() == ["Results", "Metadata"]
    (warning,) = [
        r for r in caplog.records if "Deepgram sent nothing back" in r.getMessage()
    ]
    assert warning.levelno == logging.WARNING
    assert warning.getMessage() == (
        "Deepgram sent nothing back for 1.0 s of audio (request "
        f"{session.request_id}), not even an answer to Finalize: the model "
        "nova-3 may not work with language en-US or the profile's 0 key terms. "
        "Check the profile's model and key terms, and the request in "
        "Deepgram's usage logs"
    )


async def test_no_audio_returns_empty_without_finalize(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """A stream that ends at once: empty success, request still closed cleanly."""

    async def nothing() -> AsyncIterator[bytes]:
        for _ in ():
            yield b""

    result = await transcribe(hass, nothing())
    assert result == stt.SpeechResult("", stt.SpeechResultState.SUCCESS)
    await server.wait_for_sessions(1)
    await server.wait_for_sessions_closed()
    assert server.sessions[0].control_messages() == ["CloseStream"]


async def test_http_stt_api_with_wav(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    """POST /api/stt/<entity> with a WAV body: the header is not sent as audio."""
    server.script = SCRIPT
    pcm_data = speech_pcm()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(pcm_data)
    client = await hass_client()
    response = await client.post(
        f"/api/stt/{ENTITY_ID}",
        headers={
            "X-Speech-Content": "format=wav; codec=pcm; sample_rate=16000; "
            "bit_rate=16; channel=1; language=en-US"
        },
        data=buffer.getvalue(),
    )
    assert response.status == 200
    assert await response.json() == {
        "text": "turn on the kitchen light",
        "result": "success",
    }
    await server.wait_for_sessions_closed()
    assert server.sessions[0].audio_bytes == len(pcm_data)


async def test_transcript_event(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """Every successful transcription is announced on the bus."""
    server.script = SCRIPT
    events = async_capture_events(hass, EVENT_TRANSCRIPT)
    await transcribe(hass, chunks(silence(1.6)))
    await hass.async_block_till_done()
    (event,) = events
    assert event.data["entity_id"] == ENTITY_ID
    assert event.data["text"] == "turn on the kitchen light"
    assert 0 < event.data["confidence"] <= 1
    assert event.data["language"] == "en-US"
    assert event.data["model"] == "nova-3"
    assert event.data["audio_seconds"] == pytest.approx(1.6, abs=0.01)
    assert event.data["request_id"] == server.sessions[0].request_id


@pytest.mark.parametrize(
    ("pipeline_language", "sent"),
    [("en-US", "en-US"), ("de-DE", "de"), ("fr-CA", "fr-CA"), ("nl-NL", "nl")],
)
async def test_pipeline_language_is_mapped(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    pipeline_language: str,
    sent: str,
) -> None:
    """The pipeline's language is sent, mapped to the model's tags."""
    metadata = stt.SpeechMetadata(
        language=pipeline_language,
        format=METADATA.format,
        codec=METADATA.codec,
        bit_rate=METADATA.bit_rate,
        sample_rate=METADATA.sample_rate,
        channel=METADATA.channel,
    )
    assert stt_entity(hass).check_metadata(metadata)
    await transcribe(hass, chunks(silence(0.3)), metadata)
    await server.wait_for_sessions_closed()
    assert server.sessions[0].query["language"] == sent


async def test_multilingual_profile_sends_multi(
    hass: HomeAssistant, server: FakeDeepgram, config_entry: MockConfigEntry
) -> None:
    """A multilingual profile sends language=multi whatever the pipeline says."""
    await add_entry_with_profile(
        hass,
        config_entry,
        {CONF_MULTILINGUAL: True, CONF_KEYTERMS: ["Hue", "Zigbee"]},
        "Deepgram nova-3",
    )
    await transcribe(hass, chunks(silence(0.3)))
    await server.wait_for_sessions_closed()
    query = server.sessions[0].query
    assert query["language"] == "multi"
    assert query.getall("keyterm") == ["Hue", "Zigbee"]


async def test_model_from_profile(
    hass: HomeAssistant, server: FakeDeepgram, config_entry: MockConfigEntry
) -> None:
    """Another profile's model is what goes on the wire."""
    await add_entry_with_profile(
        hass, config_entry, {CONF_MODEL: "nova-2"}, "Deepgram nova-2"
    )
    assert "da-DK" in stt_entity(hass, "stt.deepgram_nova_2").supported_languages
    await transcribe(hass, chunks(silence(0.3)), entity_id="stt.deepgram_nova_2")
    await server.wait_for_sessions_closed()
    assert server.sessions[0].query["model"] == "nova-2"


async def test_invalid_profile_fails_before_connecting(
    hass: HomeAssistant,
    server: FakeDeepgram,
    config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A profile Deepgram would refuse fails clearly, without a socket."""
    await add_entry_with_profile(
        hass, config_entry, {CONF_ENDPOINTING: 70000}, "Deepgram nova-3"
    )
    result = await transcribe(hass, chunks(silence(0.3)))
    assert result == stt.SpeechResult(None, stt.SpeechResultState.ERROR)
    assert "Invalid endpointing" in caplog.text
    assert server.handshakes == []


async def test_flux_model_in_a_nova_profile_streams_on_v2(
    hass: HomeAssistant, server: FakeDeepgram, config_entry: MockConfigEntry
) -> None:
    """A Flux model (from an older profile) is served on /v2/listen, mono only."""
    await add_entry_with_profile(
        hass, config_entry, {CONF_MODEL: "flux-general-en"}, "Deepgram nova-3"
    )
    assert stt_entity(hass).supported_channels == [stt.AudioChannels.CHANNEL_MONO]
    result = await transcribe(hass, chunks(silence(0.3)))
    assert result == stt.SpeechResult("", stt.SpeechResultState.SUCCESS)
    assert server.handshakes[0].path == "/v2/listen"


@pytest.mark.parametrize("seconds", [0.5, 0.0])
async def test_auth_error_starts_reauth(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    seconds: float,
) -> None:
    """401 in a session (even one without audio): error and reauth.

    403 does not: see test_model_not_allowed.py.
    """
    server.faults = Faults(handshake_status=401)
    result = await transcribe(hass, chunks(silence(seconds)))
    assert result == stt.SpeechResult(None, stt.SpeechResultState.ERROR)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_failing_audio_source_still_ends_the_request(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unexpected error: error result, and Deepgram still gets CloseStream."""
    server.script = SCRIPT

    async def broken() -> AsyncIterator[bytes]:
        yield silence(0.5)
        raise RuntimeError("satellite went away")

    result = await transcribe(hass, broken())
    assert result == stt.SpeechResult(None, stt.SpeechResultState.ERROR)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "Unexpected error during Deepgram speech-to-text"
    ]
    record = setup_integration.runtime_data.history[-1]
    assert (record.outcome, record.error) == ("error", "unexpected")
    await server.wait_for_sessions(1)
    await server.wait_for_sessions_closed()
    session = server.sessions[0]
    assert session.got_close_stream
    assert session.close_code == 1000


async def test_reload_during_a_run(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """The entry reloads (a profile changed) while someone speaks: no crash,
    the run returns its transcript and the request is still closed."""
    server.script = SCRIPT
    run, hold = await start_held_run(hass, server)
    assert await hass.config_entries.async_unload(setup_integration.entry_id)
    hold.set()
    result = await run
    assert result.text == "turn on the kitchen light"
    await server.wait_for_sessions_closed()
    assert server.sessions[0].got_close_stream
    await hass.async_block_till_done()


async def test_silence_fires_no_event(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """No words, no transcript event (the pipeline says it heard nothing)."""
    events = async_capture_events(hass, EVENT_TRANSCRIPT)
    result = await transcribe(hass, chunks(silence(1.0)))
    assert result == stt.SpeechResult("", stt.SpeechResultState.SUCCESS)
    await hass.async_block_till_done()
    assert events == []


async def test_payment_required_raises_repair_issue(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """402 shows a repair issue; the next success clears it."""
    issues = ir.async_get(hass)
    issue_id = f"{ISSUE_PAYMENT_REQUIRED}_{setup_integration.entry_id}"
    server.faults = Faults(handshake_status=402)
    result = await transcribe(hass, chunks(silence(0.5)))
    assert result.result is stt.SpeechResultState.ERROR
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.is_fixable is False  # credits are added at Deepgram
    assert issue.translation_key == ISSUE_PAYMENT_REQUIRED
    # Every placeholder of the issue's text is filled (hassfest: no URLs in texts).
    assert issue.translation_placeholders == {
        "console_url": CONSOLE_URL,
        "entry_title": setup_integration.title,
    }
    server.faults = Faults()
    result = await transcribe(hass, chunks(silence(0.5)))
    assert result.result is stt.SpeechResultState.SUCCESS
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    # Removing the entry removes its issue too.
    server.faults = Faults(handshake_status=402)
    await transcribe(hass, chunks(silence(0.5)))
    assert issues.async_get_issue(DOMAIN, issue_id) is not None
    await hass.config_entries.async_remove(setup_integration.entry_id)
    assert issues.async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.parametrize(
    ("status", "level", "pattern"),
    [
        (
            429,
            "WARNING",
            "Deepgram's limit of concurrent streams for the project was reached: "
            "(.+)[.] Try again shortly; if it persists, check other applications "
            "using the same project or raise the limit",
        ),
        (400, "ERROR", "Deepgram rejected model nova-3 with language en-US: (.+)"),
        (
            403,
            "ERROR",
            "Deepgram does not let this key or project use model nova-3 [(]or "
            "one of its features[)] for profile Deepgram nova-3: (.+)[.] Choose "
            "another model in the profile or allow the model in the Deepgram "
            "console",
        ),
        (
            401,
            "ERROR",
            "Deepgram rejected the key for profile Deepgram nova-3 [(]model "
            "nova-3[)]: (.+)[.] Re-authenticate the Deepgram integration",
        ),
        (402, "ERROR", "Deepgram project is out of credits: (.+)"),
        (500, "ERROR", "Deepgram speech-to-text failed: (.*HTTP 500.*)"),
        (503, "ERROR", "Deepgram speech-to-text failed: (.*HTTP 503.*)"),
    ],
)
async def test_handshake_errors_are_logged(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    status: int,
    level: str,
    pattern: str,
) -> None:
    """Each refusal ends in an error result and one clear log line with the id."""
    server.faults = Faults(handshake_status=status)
    result = await transcribe(hass, chunks(silence(0.5)))
    assert result == stt.SpeechResult(None, stt.SpeechResultState.ERROR)
    [line] = [
        r
        for r in caplog.records
        if r.name.startswith("custom_components") and r.levelno >= logging.WARNING
    ]
    assert line.levelname == level
    said = re.fullmatch(pattern, line.getMessage())
    assert said is not None, line.getMessage()
    request_id = server.handshakes[-1].request_id
    assert request_id is not None
    assert request_id in said.group(1)
    record = setup_integration.runtime_data.history[-1]
    assert record.request_id == request_id


async def test_mid_stream_failure(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """Deepgram closing 1011 mid-utterance gives an error result, no exception."""
    server.script = SCRIPT
    server.faults = Faults(close_1011_after_audio_seconds=0.5)
    result = await transcribe(hass, chunks(silence(2.0)))
    assert result == stt.SpeechResult(None, stt.SpeechResultState.ERROR)
    record = setup_integration.runtime_data.history[-1]
    assert record.outcome == "error"
    assert record.error == "DeepgramServerError"


@pytest.mark.parametrize("fault", ["refuse", "stall_handshake"])
async def test_unreachable_is_bounded(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    """A refused or stalled handshake ends in an error within the bound."""
    monkeypatch.setattr(transcriber, "CONNECT_TIMEOUT", 0.5)
    server.faults = (
        Faults(refuse=True) if fault == "refuse" else Faults(stall_handshake=True)
    )
    started = time.monotonic()
    result = await transcribe(hass, chunks(silence(0.5)))
    assert result == stt.SpeechResult(None, stt.SpeechResultState.ERROR)
    assert time.monotonic() - started < 5


async def test_unload_waits_for_closing_sessions(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """Unloading right after a run leaves nothing running."""
    server.script = SCRIPT
    server.latency = Latency(rtt=0.2)
    await transcribe(hass, chunks(silence(1.5)))
    [closing] = setup_integration.runtime_data.closing
    assert closing.get_name() == f"deepgram close {server.sessions[0].request_id}"
    assert await hass.config_entries.async_unload(setup_integration.entry_id)
    assert server.sessions[0].got_close_stream


async def test_diagnostics_redact_the_key(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    """Diagnostics show settings and recent sessions, never the key."""
    from pytest_homeassistant_custom_component.components.diagnostics import (
        get_diagnostics_for_config_entry,
    )

    from .conftest import API_KEY

    server.script = SCRIPT
    await transcribe(hass, chunks(silence(1.5)))
    await server.wait_for_sessions_closed()
    await hass.async_block_till_done()
    assert await async_setup_component(hass, "diagnostics", {})
    diagnostics: dict[str, Any] = await get_diagnostics_for_config_entry(
        hass, hass_client, setup_integration
    )
    assert API_KEY not in str(diagnostics)
    assert diagnostics["entry"]["api_key"] == "**REDACTED**"
    (session,) = diagnostics["sessions"]
    assert session["outcome"] == "success"
    assert session["request_id"] == server.sessions[0].request_id
    assert session["finalize_answered"] is True
    assert session["finalize_seconds"] > 0
    assert session["entity_id"] == ENTITY_ID
    assert session["close_code"] == 1000
    assert diagnostics["profiles"][0]["model"] == "nova-3"


async def test_many_runs_leave_nothing_running(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """Several runs in a row: one socket each, each ended with CloseStream."""
    server.script = SCRIPT
    for _ in range(3):
        result = await transcribe(hass, chunks(silence(1.5)))
        assert result.text == "turn on the kitchen light"
    await server.wait_for_sessions_closed()
    assert len(server.sessions) == 3
    assert all(s.got_close_stream and s.close_code == 1000 for s in server.sessions)
    await asyncio.sleep(0)
    assert not setup_integration.runtime_data.closing


async def test_endpointing_from_the_profile(
    hass: HomeAssistant, server: FakeDeepgram, config_entry: MockConfigEntry
) -> None:
    """The profile's endpointing (ms) is what Deepgram is sent."""
    await add_entry_with_profile(
        hass, config_entry, {CONF_ENDPOINTING: 750}, "Deepgram nova-3"
    )
    await transcribe(hass, chunks(silence(0.3)))
    await server.wait_for_sessions_closed()
    query = server.sessions[0].query
    assert query["endpointing"] == "750"
    assert query["interim_results"] == "true"
    assert query["encoding"] == "linear16"  # raw PCM needs its encoding named
    assert query.getall("tag") == ["home-assistant"]  # usage shows where from
    # Every switch is sent explicitly, as the profile has it.
    assert {
        key: query[key]
        for key in (
            "punctuate",
            "smart_format",
            "numerals",
            "profanity_filter",
            "filler_words",
            "mip_opt_out",
        )
    } == {
        "punctuate": "true",
        "smart_format": "false",
        "numerals": "true",
        "profanity_filter": "false",
        "filler_words": "false",
        "mip_opt_out": "false",
    }


async def test_endpointing_off_in_a_profile_is_sent_as_false(
    hass: HomeAssistant, server: FakeDeepgram, config_entry: MockConfigEntry
) -> None:
    """A profile stored with endpointing 0 (off) sends `endpointing=false`."""
    await add_entry_with_profile(
        hass, config_entry, {CONF_ENDPOINTING: 0}, "Deepgram nova-3"
    )
    await transcribe(hass, chunks(silence(0.3)))
    await server.wait_for_sessions_closed()
    assert server.sessions[0].query["endpointing"] == "false"


async def test_multilingual_event_language_is_the_one_detected_most(
    hass: HomeAssistant, server: FakeDeepgram, config_entry: MockConfigEntry
) -> None:
    """A multilingual run's event names the language most of the words were in."""
    await add_entry_with_profile(
        hass, config_entry, {CONF_MULTILINGUAL: True}, "Deepgram nova-3"
    )
    server.script = [
        Segment(
            (
                Word("Hey", 0.1, 0.3, language="en"),
                Word("schalte", 0.3, 0.6, language="de"),
                Word("das", 0.6, 0.7, language="de"),
                Word("Licht", 0.7, 0.9, language="de"),
                Word("an.", 0.9, 1.0, language="de"),
            )
        )
    ]
    events = async_capture_events(hass, EVENT_TRANSCRIPT)
    result = await transcribe(hass, chunks(silence(1.3)))
    assert result.text == "Hey schalte das Licht an."
    await hass.async_block_till_done()
    (event,) = events
    assert event.data["language"] == "de"


async def test_cancelled_run_is_recorded_for_diagnostics(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """A cancelled run's record tells what happened up to the abort."""
    server.script = SCRIPT
    run, _ = await start_held_run(hass, server)  # the satellite never resumes
    await wait_for(lambda: server.sessions[0].audio_bytes >= 8000)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    record = setup_integration.runtime_data.history[-1]
    assert record.outcome == "cancelled"
    assert record.error is None
    assert record.request_id == server.sessions[0].request_id
    assert record.connect_seconds is not None
    await server.wait_for_sessions_closed()
    assert record.audio_seconds == server.sessions[0].audio_bytes / 32000
    assert record.finalize_answered is False
    assert record.close_code == 1000


async def test_diagnostics_keep_the_last_20_sessions(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """The session history is bounded: the last 20 runs, oldest dropped first."""

    async def nothing() -> AsyncIterator[bytes]:
        for _ in ():
            yield b""

    for _ in range(21):
        await transcribe(hass, nothing())
    await server.wait_for_sessions_closed()
    history = setup_integration.runtime_data.history
    assert len(history) == 20
    assert history[0].request_id == server.sessions[1].request_id
    assert history[-1].request_id == server.sessions[-1].request_id
