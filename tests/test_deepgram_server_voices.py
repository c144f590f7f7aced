"""The fake server's text-to-speech voice catalogue (``speak_voices.py``)."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.deepgram_server import FakeDeepgram, Faults
from tests.deepgram_server.speak_voices import (
    V1_SPEAK_PATH,
    V2_SPEAK_PATH,
    Voice,
    default_voices,
    is_v2_voice,
    speak_voice,
    voices_on,
)


def test_catalogue_names_follow_deepgram_model_strings() -> None:
    """Every voice is named as a socket's model: family, voice, language."""
    voices = default_voices()
    names = [v.canonical_name for v in voices]
    assert len(names) == len(set(names))
    for voice in voices:
        family, name, lang = (
            voice.canonical_name.rsplit("-", 2)
            if voice.family != "aura-2"
            else ("aura-2", *voice.canonical_name.removeprefix("aura-2-").split("-"))
        )
        assert (family, name) == (voice.family, voice.name)
        assert voice.languages[0] == lang
    languages = {v.languages[0] for v in voices if v.family == "aura-2"}
    assert languages == {"en", "es", "de", "nl", "fr", "it", "ja"}
    assert {v.family for v in voices} == {"aura", "aura-2", "flux"}


def test_speak_voice_finds_known_models_only() -> None:
    """A model is found by its canonical name (any case); anything else is None."""
    thalia = speak_voice("aura-2-thalia-en")
    assert thalia is not None
    assert thalia.display_name == "Thalia"
    assert speak_voice("AURA-2-Thalia-EN") == thalia
    assert speak_voice("aura-2-nobody-en") is None
    assert speak_voice("thalia") is None
    custom = [Voice("flux-test-en", "test", "flux", ("en",), "American", "feminine")]
    assert speak_voice("flux-test-en", custom) == custom[0]
    assert speak_voice("aura-2-thalia-en", custom) is None


def test_family_decides_the_socket() -> None:
    """Flux voices are served on /v2/speak, Aura and Aura-2 on /v1/speak."""
    haley = speak_voice("flux-haley-en")
    asteria = speak_voice("aura-asteria-en")
    celeste = speak_voice("aura-2-celeste-es")
    assert haley is not None
    assert asteria is not None
    assert celeste is not None
    assert is_v2_voice(haley)
    assert haley.speak_path == V2_SPEAK_PATH
    assert not is_v2_voice(asteria)
    assert asteria.speak_path == V1_SPEAK_PATH
    assert not is_v2_voice(celeste)
    assert celeste.speak_path == V1_SPEAK_PATH
    v2 = voices_on(V2_SPEAK_PATH)
    assert v2
    assert all(v.family == "flux" for v in v2)
    v1 = voices_on(V1_SPEAK_PATH, default_voices())
    assert {v.family for v in v1} == {"aura", "aura-2"}
    assert len(v1) + len(v2) == len(default_voices())


def test_listed_entry_mirrors_deepgram_tts_shape() -> None:
    """``as_json`` has the fields of Deepgram's ``tts`` model entries."""
    zeus = speak_voice("aura-2-zeus-en")
    assert zeus is not None
    entry = zeus.as_json()
    assert entry["name"] == "zeus"
    assert entry["canonical_name"] == "aura-2-zeus-en"
    assert entry["architecture"] == "aura-2"
    assert entry["languages"] == ["en", "en-US"]
    assert entry["uuid"] == zeus.uuid
    assert entry["uuid"] == default_voices()[default_voices().index(zeus)].uuid
    assert set(entry["metadata"]) == {
        "accent", "age", "color", "image", "sample", "tags", "use_cases"
    }  # fmt: skip
    assert entry["metadata"]["tags"][0] == "masculine"
    assert entry["metadata"]["sample"].endswith("Aura-2-zeus.wav")
    haley = speak_voice("flux-haley-en")
    assert haley is not None
    assert haley.as_json()["metadata"]["sample"].endswith("Flux-haley.wav")
    assert haley.version != zeus.version


def test_server_starts_with_the_default_catalogue() -> None:
    """``FakeDeepgram.voices`` is a fresh, editable copy of the catalogue."""
    one, two = FakeDeepgram(), FakeDeepgram()
    assert one.voices == default_voices()
    one.voices.clear()
    assert two.voices == default_voices()


async def _get(server: FakeDeepgram, path: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.get(server.base_url + path) as resp:
            return resp.status, await resp.json(content_type=None)


async def test_models_list_voices_by_socket(deepgram_server: FakeDeepgram) -> None:
    """/v1/models lists the /v1/speak voices, /v2/models the Flux ones (no key)."""
    status, v1 = await _get(deepgram_server, "/v1/models")
    assert status == 200
    assert [e["canonical_name"] for e in v1["tts"]] == [
        v.canonical_name for v in voices_on(V1_SPEAK_PATH, deepgram_server.voices)
    ]
    assert v1["tts"][0] == deepgram_server.voices[0].as_json()
    assert any(e["canonical_name"] == "flux-general-en" for e in v1["stt"])
    status, v2 = await _get(deepgram_server, "/v2/models")
    assert status == 200
    assert [e["canonical_name"] for e in v2["tts"]] == [
        v.canonical_name for v in voices_on(V2_SPEAK_PATH, deepgram_server.voices)
    ]
    assert {e["architecture"] for e in v2["tts"]} == {"flux"}
    assert {e["architecture"] for e in v2["stt"]} == {"flux"}
    assert deepgram_server.rest_requests[-1].path == "/v2/models"
    assert deepgram_server.rest_requests[-1].status == 200


async def test_models_follow_the_server_voices(deepgram_server: FakeDeepgram) -> None:
    """Editing ``voices`` changes what both lists say."""
    only = Voice("flux-solo-en", "solo", "flux", ("en",), "American", "masculine")
    deepgram_server.voices = [only]
    _, v1 = await _get(deepgram_server, "/v1/models")
    _, v2 = await _get(deepgram_server, "/v2/models")
    assert v1["tts"] == []
    assert v2["tts"] == [only.as_json()]


async def test_v2_models_faults(deepgram_server: FakeDeepgram) -> None:
    """models_status fails /v1/models alone; rest_status and odd answers reach v2."""
    deepgram_server.faults = Faults(models_status=503)
    assert (await _get(deepgram_server, "/v1/models"))[0] == 503
    assert (await _get(deepgram_server, "/v2/models"))[0] == 200
    deepgram_server.faults = Faults(rest_status=401)
    status, body = await _get(deepgram_server, "/v2/models")
    assert status == 401
    assert body["err_code"] == "INVALID_AUTH"
    deepgram_server.faults = Faults(odd_rest_answer=("/v2/models", b'{"tts": 7}'))
    assert await _get(deepgram_server, "/v2/models") == (200, {"tts": 7})
    assert (await _get(deepgram_server, "/v1/models"))[1]["tts"]
