"""Diagnostics of entries that are not loaded (issue 18 item 8), and of voices.

Support needs diagnostics most when setup failed: the download answers from
the entry's stored data, with the key redacted, instead of failing.

Voice profiles (issue 20) show their settings, their entity and the last
messages they spoke, spoken here through Home Assistant's TTS stream against
the local server: their figures, never their text.
"""

from __future__ import annotations

from http import HTTPStatus
import json
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.deepgram.api import BUILTIN_VOICES
from tests.conftest import API_KEY, set_up_entry
from tests.deepgram_server import FakeDeepgram, Faults
from tests.deepgram_server.testing import unreachable_url
from tests.speak_helpers import REPLY, SENTENCES
from tests.tts_helpers import (
    AURA,
    FLUX,
    read_all,
    speak_stream,
    text_of,
    tts_entity,
    voice_entry,
)


async def download(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, entry: MockConfigEntry
) -> tuple[str, dict[str, Any]]:
    """The diagnostics file of `entry` as Home Assistant serves it: text, data."""
    assert await async_setup_component(hass, "diagnostics", {})
    await hass.async_block_till_done()
    client = await hass_client()
    response = await client.get(f"/api/diagnostics/config_entry/{entry.entry_id}")
    assert response.status == HTTPStatus.OK
    text = await response.text()
    data: dict[str, Any] = json.loads(text)["data"]
    return text, data


async def set_up_failing(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


@pytest.mark.parametrize(
    ("faults", "state"),
    [
        (Faults(rest_status=401), ConfigEntryState.SETUP_ERROR),
        (Faults(rest_status=503), ConfigEntryState.SETUP_RETRY),
    ],
)
async def test_failed_setup_still_has_diagnostics(
    hass: HomeAssistant,
    server: FakeDeepgram,
    config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    faults: Faults,
    state: ConfigEntryState,
) -> None:
    """A revoked key or a failing Deepgram: the stored settings, no key."""
    server.faults = faults
    await set_up_failing(hass, config_entry)
    assert config_entry.state is state

    text, data = await download(hass, hass_client, config_entry)
    assert API_KEY not in text
    assert data["entry"][CONF_API_KEY] == "**REDACTED**"
    assert data["entry"][CONF_URL] == server.base_url
    assert data["state"] == state.value
    assert data["reason"]
    assert data["profiles"][0]["model"] == "nova-3"
    # Only what is stored (README: Diagnostics): nothing of a load.
    assert set(data) == {"entry", "state", "reason", "profiles", "voice_profiles"}
    assert data["voice_profiles"] == {}


@pytest.mark.parametrize(
    ("credentials", "state"),
    [
        ("", ConfigEntryState.SETUP_RETRY),
        ("user:pw-4b1e@", ConfigEntryState.SETUP_ERROR),
    ],
)
async def test_unreachable_server_still_has_diagnostics(
    hass: HomeAssistant,
    server: FakeDeepgram,
    hass_client: ClientSessionGenerator,
    credentials: str,
    state: ConfigEntryState,
) -> None:
    """Nothing listening at the stored URL; credentials in it are redacted."""
    url = unreachable_url().replace("://", f"://{credentials}")
    entry = MockConfigEntry(
        domain="deepgram", title="Deepgram", data={CONF_API_KEY: API_KEY, CONF_URL: url}
    )
    await set_up_failing(hass, entry)
    assert entry.state is state

    text, data = await download(hass, hass_client, entry)
    assert API_KEY not in text
    assert "pw-4b1e" not in text
    assert data["entry"][CONF_URL].startswith("http://***@" if credentials else url)
    assert data["state"] == state.value


async def test_unloaded_entry_has_diagnostics(
    hass: HomeAssistant,
    server: FakeDeepgram,
    config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    """An entry the user disabled or unloaded: stored settings, no run-time data."""
    await set_up_entry(hass, config_entry)
    text, data = await download(hass, hass_client, config_entry)
    assert data["state"] == ConfigEntryState.LOADED.value
    assert data["models_from_server"] is True

    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
    text, data = await download(hass, hass_client, config_entry)
    assert API_KEY not in text
    assert data["state"] == ConfigEntryState.NOT_LOADED.value
    assert "models" not in data


def voice_profile(data: dict[str, Any], voice: str) -> dict[str, Any]:
    """The diagnostics of the voice profile speaking `voice`."""
    profiles: dict[str, dict[str, Any]] = data["voice_profiles"]
    (profile,) = [p for p in profiles.values() if p["voice"] == voice]
    return profile


async def speak(hass: HomeAssistant, entity_id: str, text: str) -> bytes:
    """Speak `text` through Home Assistant, written in pieces; wait for the
    socket's close in the background (which completes the record)."""
    pieces = [text[i : i + 40] for i in range(0, len(text), 40)]
    audio = await read_all(speak_stream(hass, entity_id, text_of(pieces)))
    await hass.async_block_till_done(wait_background_tasks=True)
    return audio


async def test_voice_profiles_and_their_runs(
    hass: HomeAssistant, server: FakeDeepgram, hass_client: ClientSessionGenerator
) -> None:
    """Each voice profile's settings and entity, and under it the messages it
    spoke: how each went and ended, with Deepgram's request ids, and no word
    of what was said; whether the voices came from Deepgram, and how many."""
    entry = await set_up_entry(
        hass, voice_entry(server, AURA, FLUX, speed=0.9, mip_opt_out=True)
    )
    aura, flux = tts_entity(hass, entry, AURA), tts_entity(hass, entry, FLUX)
    assert await speak(hass, aura, REPLY)
    server.faults = Faults(handshake_status=402)
    with pytest.raises(HomeAssistantError):
        await speak(hass, flux, "Out of credits, this is never heard.")

    text, data = await download(hass, hass_client, entry)
    assert API_KEY not in text
    for said in [REPLY, *SENTENCES, "kitchen light", "never heard"]:
        assert said not in text
    assert data["voices"] == {"from_server": True, "count": len(server.voices)}
    profile = voice_profile(data, AURA)
    assert profile["title"] == f"Deepgram {AURA}"
    assert profile["entity_id"] == aura
    assert (profile["speed"], profile["expressivity"]) == (0.9, None)
    assert profile["mip_opt_out"] is True
    (run,) = profile["runs"]
    (session,) = server.speak_sessions
    assert run["entity_id"] == aura
    assert run["voice"] == AURA
    assert run["started"]
    assert run["outcome"] == "success"
    assert run["error"] is None
    assert run["sockets"] == 1
    assert run["request_ids"] == [session.request_id]
    assert run["characters"] == len(REPLY)
    assert run["audio_seconds"] > 0
    assert run["first_audio_seconds"] is not None
    assert run["first_audio_seconds"] >= 0
    assert run["ended_by"] == "close"
    assert run["close_code"] == 1000

    (failed,) = voice_profile(data, FLUX)["runs"]
    assert failed["entity_id"] == flux
    assert failed["outcome"] == "error"
    assert failed["error"] == "DeepgramPaymentRequiredError"
    assert failed["characters"] == 0
    assert failed["request_ids"] == []
    assert data["other_speak_runs"] == []


async def test_runs_of_a_renamed_entity_stay(
    hass: HomeAssistant, server: FakeDeepgram, hass_client: ClientSessionGenerator
) -> None:
    """A message spoken before its entity got another id is still listed,
    apart from the profiles; the profile shows the entity's new id."""
    entry = await set_up_entry(hass, voice_entry(server, AURA))
    old = tts_entity(hass, entry, AURA)
    await speak(hass, old, SENTENCES[0])
    er.async_get(hass).async_update_entity(old, new_entity_id="tts.kitchen_voice")
    await hass.async_block_till_done()

    _, data = await download(hass, hass_client, entry)
    profile = voice_profile(data, AURA)
    assert profile["entity_id"] == "tts.kitchen_voice"
    assert profile["runs"] == []
    (run,) = data["other_speak_runs"]
    assert (run["entity_id"], run["outcome"]) == (old, "success")


async def test_builtin_voices_in_diagnostics(
    hass: HomeAssistant, server: FakeDeepgram, hass_client: ClientSessionGenerator
) -> None:
    """Voices Deepgram did not list: the built-in ones, said so."""
    server.faults = Faults(models_status=503)
    entry = await set_up_entry(hass, voice_entry(server, AURA))
    _, data = await download(hass, hass_client, entry)
    assert data["voices"] == {"from_server": False, "count": len(BUILTIN_VOICES)}
    assert voice_profile(data, AURA)["runs"] == []


async def test_voice_profiles_of_an_entry_not_loaded(
    hass: HomeAssistant, server: FakeDeepgram, hass_client: ClientSessionGenerator
) -> None:
    """Unloaded, the stored voice profiles and their entities, no runs; never
    set up (a revoked key), the profiles without an entity."""
    entry = await set_up_entry(hass, voice_entry(server, AURA))
    entity_id = tts_entity(hass, entry, AURA)
    await speak(hass, entity_id, SENTENCES[0])
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    text, data = await download(hass, hass_client, entry)
    assert SENTENCES[0] not in text
    assert "voices" not in data
    assert voice_profile(data, AURA) == {
        "title": f"Deepgram {AURA}",
        "voice": AURA,
        "speed": 1.0,
        "expressivity": None,
        "mip_opt_out": False,
        "entity_id": entity_id,
    }

    server.faults = Faults(rest_status=401)
    revoked = voice_entry(server, FLUX)
    await set_up_failing(hass, revoked)
    assert revoked.state is ConfigEntryState.SETUP_ERROR
    _, data = await download(hass, hass_client, revoked)
    assert voice_profile(data, FLUX)["entity_id"] is None
    assert "runs" not in voice_profile(data, FLUX)
