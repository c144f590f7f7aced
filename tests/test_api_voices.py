"""Text-to-speech voices: `DeepgramRestClient.list_voices` and `api/voices.py`.

Against the fake Deepgram (both model lists, its faults) and hand-written
servers for answers it never gives (one list refused, one stalled).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.deepgram.api import (
    DeepgramAuthError,
    DeepgramProtocolError,
    DeepgramRestClient,
    DeepgramServerError,
    Endpoint,
)
from custom_components.deepgram.api.speak_options import SPEAK_PATHS, speak_family
from custom_components.deepgram.api.voices import (
    BUILTIN_VOICES,
    FAMILIES,
    MAX_TAGS,
    MAX_TEXT,
    Voice,
    family_of,
    merge_voices,
    parse_voices,
    sorted_voices,
    voices_or_fallback,
)
from tests.conftest import API_KEY, Handler, OddServer, key_leaks
from tests.deepgram_server import FakeDeepgram, Faults
from tests.deepgram_server.speak_voices import Voice as ServerVoice, speak_voice

LOGGER = "custom_components.deepgram.api.voices"


@pytest.fixture
def server(deepgram_server: FakeDeepgram) -> FakeDeepgram:
    """The fake Deepgram expecting the distinctive test key."""
    deepgram_server.api_key = API_KEY
    return deepgram_server


def client(
    base_url: str, http: aiohttp.ClientSession, **kwargs: Any
) -> DeepgramRestClient:
    """A REST client with the test key."""
    return DeepgramRestClient(http, Endpoint(base_url, API_KEY), **kwargs)


def by_name(voices: list[Voice]) -> dict[str, Voice]:
    """The voices by model string."""
    return {voice.name: voice for voice in voices}


def json_answer(body: Any, status: int = 200) -> Handler:
    """A handler answering `body` (JSON-encoded unless bytes)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return web.Response(status=status, body=raw, content_type="application/json")

    return handler


def families(voices: list[Voice]) -> set[str]:
    """The families among `voices`."""
    return {voice.family for voice in voices}


def sort_key(voice: Voice) -> tuple[int, str, str, str]:
    """The documented order: family, language, name."""
    return (
        FAMILIES.index(voice.family),
        voice.language,
        voice.display_name,
        voice.name,
    )


# -- both lists ---------------------------------------------------------------


async def test_both_lists_become_one(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Aura and Aura-2 from /v1/models, Flux from /v2/models, each once, sorted."""
    voices = await client(server.base_url, http).list_voices()
    assert sorted(r.path for r in server.rest_requests) == ["/v1/models", "/v2/models"]
    assert {v.name for v in voices} == {v.canonical_name for v in server.voices}
    assert all(speak_family(v.name) == v.family for v in voices)
    assert len(voices) == len(server.voices)
    assert voices == sorted(voices, key=sort_key)
    assert voices[0].family == "flux"
    assert not any(v.builtin for v in voices)
    thalia = by_name(voices)["aura-2-thalia-en"]
    assert thalia == Voice(
        name="aura-2-thalia-en",
        display_name="Thalia",
        family="aura-2",
        languages=("en", "en-US"),
        accent="American",
        gender="feminine",
        tags=("feminine", "clear", "confident"),
    )
    assert thalia.speak_path == SPEAK_PATHS["aura-2"]
    assert thalia.language == "en"
    haley = by_name(voices)["flux-haley-en"]
    assert haley.speak_path == SPEAK_PATHS["flux"]
    assert haley.family == "flux"
    assert by_name(voices)["aura-asteria-en"].family == "aura"
    assert by_name(voices)["aura-2-celeste-es"].accent == "Colombian"


async def test_a_voice_in_both_lists_is_listed_once(
    server: FakeDeepgram, odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """Deduplicated by model string: the first answer's entry is kept."""
    entry = server.voices[0].as_json()
    twin = {**entry, "name": "twin"}
    base = await odd_server(
        {
            "GET /v1/models": json_answer({"tts": [entry]}),
            "GET /v2/models": json_answer({"tts": [twin, entry]}),
        }
    )
    voices = await client(base, http).list_voices()
    listed = [v for v in voices if v.name == entry["canonical_name"]]
    assert [v.display_name for v in listed] == ["Thalia"]
    # /v2/models named no Flux voice: the built-in ones stand in for them.
    assert {v.name for v in voices if v.family == "flux"} == {
        v.name for v in BUILTIN_VOICES if v.family == "flux"
    }


# -- one list fails ----------------------------------------------------------


async def test_v1_failing_uses_builtin_aura_and_server_flux(
    server: FakeDeepgram, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """/v1/models answering 503: built-in Aura-2 voices, Flux from /v2/models."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    server.faults = Faults(models_status=503, echo_authorization_in_request_id=True)
    voices = await client(server.base_url, http).list_voices()
    flux = [v for v in voices if v.family == "flux"]
    assert flux
    assert not any(v.builtin for v in flux)
    aura = [v for v in voices if v.family != "flux"]
    assert aura == [v for v in BUILTIN_VOICES if v.family == "aura-2"]
    assert {v.language for v in aura} == {"en", "es", "de", "nl", "fr", "it", "ja"}
    assert voices == sorted(voices, key=sort_key)
    [record] = caplog.records
    assert "/v1/models" in record.getMessage()
    assert "aura/aura-2" in record.getMessage()
    assert "HTTP 503" in record.getMessage()
    assert "request id: Token **REDACTED**" in record.getMessage()
    assert not key_leaks(caplog.records)


async def test_v2_odd_answer_uses_builtin_flux(
    server: FakeDeepgram, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """/v2/models with `tts` not a list: a protocol error, built-in Flux voices."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    server.faults = Faults(odd_rest_answer=("/v2/models", b'{"tts": {"a": 1}}'))
    voices = await client(server.base_url, http).list_voices()
    assert [v for v in voices if v.family == "flux"] == [
        v for v in BUILTIN_VOICES if v.family == "flux"
    ]
    assert by_name(voices)["aura-asteria-en"].builtin is False
    [record] = caplog.records
    assert "/v2/models" in record.getMessage()
    assert "Unexpected answer from /v2/models" in record.getMessage()


async def test_v2_deep_json_uses_builtin_flux(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """JSON nested too deeply on /v2/models is refused, not a crash."""
    deep = b'{"tts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    server.faults = Faults(odd_rest_answer=("/v2/models", deep))
    voices = await client(server.base_url, http).list_voices()
    assert all(v.builtin for v in voices if v.family == "flux")
    assert not any(v.builtin for v in voices if v.family != "flux")


async def test_v2_missing_uses_builtin_flux(
    server: FakeDeepgram, odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """A server without /v2/models (404, an older self-hosted one) still works."""
    v1 = {"tts": [v.as_json() for v in server.voices if v.family != "flux"]}
    base = await odd_server({"GET /v1/models": json_answer(v1)})
    voices = await client(base, http).list_voices()
    assert families(voices) == {"flux", "aura-2", "aura"}
    assert all(v.builtin for v in voices if v.family == "flux")


async def test_each_list_is_bounded_by_the_timeout(
    server: FakeDeepgram, odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """A stalled /v2/models ends at the client's timeout; /v1/models is kept."""
    v1 = {"tts": [v.as_json() for v in server.voices if v.family != "flux"]}

    release = asyncio.Event()

    async def stall(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(status=503)

    base = await odd_server(
        {"GET /v1/models": json_answer(v1), "GET /v2/models": stall}
    )
    try:
        async with asyncio.timeout(10):
            voices = await client(base, http, timeout=0.3).list_voices()
    finally:
        release.set()
    assert all(v.builtin for v in voices if v.family == "flux")
    assert not any(v.builtin for v in voices if v.family != "flux")


async def test_an_empty_list_is_stood_in_for(
    server: FakeDeepgram, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """A list naming no voice of its families: built-in voices, no error logged."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    server.voices = [v for v in server.voices if v.family == "flux"]
    voices = await client(server.base_url, http).list_voices()
    assert [v for v in voices if v.family != "flux"] == [
        v for v in BUILTIN_VOICES if v.family == "aura-2"
    ]
    assert not any(v.builtin for v in voices if v.family == "flux")
    assert not caplog.records


# -- both fail, auth ------------------------------------------------------------


async def test_both_failing_raises_and_the_fallback_never_fails(
    server: FakeDeepgram, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """Both lists refused: `list_voices` raises; `voices_or_fallback` is built-in."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    server.faults = Faults(rest_status=503)
    rest = client(server.base_url, http)
    with pytest.raises(DeepgramServerError):
        await rest.list_voices()
    assert not caplog.records
    assert await voices_or_fallback(rest) == list(BUILTIN_VOICES)
    [record] = caplog.records
    assert record.getMessage().startswith("Using built-in voices")


async def test_a_bad_key_surfaces_as_an_auth_error(
    server: FakeDeepgram, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """401 on the lists: an auth error for the caller who asks; no key in logs."""
    caplog.set_level(logging.DEBUG)
    server.faults = Faults(rest_status=401, echo_authorization_in_request_id=True)
    rest = client(server.base_url, http)
    with pytest.raises(DeepgramAuthError) as raised:
        await rest.list_voices()
    assert API_KEY not in str(raised.value)
    assert API_KEY not in repr(raised.value)
    assert await voices_or_fallback(rest) == list(BUILTIN_VOICES)
    assert not key_leaks(caplog.records)


async def test_an_auth_error_of_one_list_is_raised(
    server: FakeDeepgram, odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """A key refused on /v2/models alone is not hidden behind built-in voices."""
    v1 = {"tts": [v.as_json() for v in server.voices]}
    refused = {"err_code": "INVALID_AUTH", "err_msg": "Invalid credentials."}
    base = await odd_server(
        {
            "GET /v1/models": json_answer(v1),
            "GET /v2/models": json_answer(refused, status=401),
        }
    )
    with pytest.raises(DeepgramAuthError):
        await client(base, http).list_voices()


async def test_odd_answers_of_both_are_a_protocol_error(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """Wrong types on both lists: `DeepgramProtocolError`, the v1 one first."""
    base = await odd_server(
        {
            "GET /v1/models": json_answer({"stt": []}),
            "GET /v2/models": json_answer([1, 2]),
        }
    )
    with pytest.raises(DeepgramProtocolError, match="/v1/models"):
        await client(base, http).list_voices()


def test_other_exceptions_pass_through() -> None:
    """A cancellation or a bug is never taken for a list that failed."""
    with pytest.raises(asyncio.CancelledError):
        merge_voices([], asyncio.CancelledError())
    with pytest.raises(RuntimeError):
        merge_voices(RuntimeError("bug"), [])


# -- parsing entries -------------------------------------------------------


def entry(model: Any, **fields: Any) -> dict[str, Any]:
    """A `tts` entry with this canonical name."""
    return {"canonical_name": model, **fields}


def test_unusable_entries_are_left_out() -> None:
    """Entries naming no voice a speak socket takes are skipped, not errors."""
    entries: list[Any] = [
        "aura-2-thalia-en",
        7,
        None,
        {"name": "thalia"},
        entry(12),
        entry(""),
        entry("aura-2-thalia-en&x=1"),
        entry("aura-2 thalia-en"),
        entry(" aura-2-thalia-en"),
        entry("Aura-2-Thalia-en"),
        entry("flux-general-en"),
        entry("a" * 101),
        entry("nova-3-general"),
        entry("aura-2-thalia"),
        entry("aura--en"),
        entry("flux-haley-"),
        entry("aura-2-thalia-en"),
    ]
    assert [v.name for v in parse_voices({"tts": entries})] == ["aura-2-thalia-en"]


def test_missing_fields_have_defaults() -> None:
    """Only the model string is needed: name and language come from it."""
    [voice] = parse_voices({"tts": [entry("flux-heather-en", metadata=[1])]})
    assert voice == Voice(
        name="flux-heather-en",
        display_name="Heather",
        family="flux",
        languages=("en",),
    )


def test_display_name_accent_tags_and_languages() -> None:
    """display_name wins over name; odd, long or repeated strings are dropped."""
    long = "x" * (MAX_TEXT + 1)
    [voice] = parse_voices(
        {
            "tts": [
                entry(
                    "aura-2-luna-es",
                    name="luna",
                    languages=["es", 3, "es", "", "es-419", long, "bad\nline"],
                    metadata={
                        "display_name": " Luna María ",
                        "accent": long,
                        "tags": ["warm", "masculine", "feminine", 5, "warm"],
                    },
                )
            ]
        }
    )
    assert voice.display_name == "Luna María"
    assert voice.family == "aura-2"
    assert voice.languages == ("es", "es-419")
    assert voice.accent is None
    assert voice.gender == "masculine"
    assert voice.tags == ("warm", "masculine", "feminine")
    [named] = parse_voices(
        {"tts": [entry("aura-orion-en", name="orion", metadata={"display_name": 1})]}
    )
    assert named.display_name == "Orion"
    assert named.tags == ()
    assert named.gender is None


def test_lists_are_bounded() -> None:
    """At most MAX_TAGS tags are kept, whatever the answer holds."""
    tags = [f"tag{i}" for i in range(MAX_TAGS * 3)]
    [voice] = parse_voices(
        {"tts": [entry("flux-kai-en", languages="en", metadata={"tags": tags})]}
    )
    assert voice.tags == tuple(tags[:MAX_TAGS])
    assert voice.languages == ("en",)


@pytest.mark.parametrize("body", [{}, {"tts": None}, {"tts": "aura-2-thalia-en"}])
def test_tts_not_a_list_is_refused(body: dict[str, Any]) -> None:
    """The REST client makes this TypeError a `DeepgramProtocolError`."""
    with pytest.raises(TypeError):
        parse_voices(body)


def test_family_of() -> None:
    """The family a model string names, or None."""
    assert family_of("aura-2-thalia-en") == "aura-2"
    assert family_of("aura-asteria-en") == "aura"
    assert family_of("flux-haley-en") == "flux"
    assert family_of("FLUX-haley-en") is None
    assert family_of("flux-general-multi") is None
    assert family_of("nova-3") is None
    assert family_of("aura-2-") is None


# -- the built-in list ---------------------------------------------------------


def test_builtin_voices() -> None:
    """Real Aura-2 voices in seven languages and Flux ones, sorted, each once."""
    assert BUILTIN_VOICES
    assert all(v.builtin for v in BUILTIN_VOICES)
    assert list(BUILTIN_VOICES) == sorted_voices(BUILTIN_VOICES)
    assert list(BUILTIN_VOICES) == sorted(BUILTIN_VOICES, key=sort_key)
    assert families(list(BUILTIN_VOICES)) == {"flux", "aura-2"}
    assert {v.language for v in BUILTIN_VOICES if v.family == "aura-2"} == {
        "en", "es", "de", "nl", "fr", "it", "ja"
    }  # fmt: skip
    for voice in BUILTIN_VOICES:
        assert family_of(voice.name) == speak_family(voice.name) == voice.family
        assert voice.gender in voice.tags
        assert voice.name.split("-")[-1] == voice.language


def test_builtin_voices_are_spoken_by_the_fake_server() -> None:
    """Each built-in voice is one the fake server (Deepgram's names) knows."""
    known = [speak_voice(v.name) for v in BUILTIN_VOICES]
    assert all(isinstance(v, ServerVoice) for v in known)
