"""What setting up the entry does for voices: the list read, no STT entity."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram.const import (
    DEFAULT_STT_NAME,
    RECOMMENDED_STT_OPTIONS,
    RECOMMENDED_TTS_OPTIONS,
    SUBENTRY_TTS,
)
from tests.conftest import entry_with_profiles, set_up_entry
from tests.deepgram_server import FakeDeepgram, Faults
from tests.flow_helpers import stt_entities


async def test_voices_read_at_setup(
    hass: HomeAssistant, setup_integration: MockConfigEntry, server: FakeDeepgram
) -> None:
    """The entry knows Deepgram's voices, Aura-2 and Flux, as listed."""
    voices = setup_integration.runtime_data.voices
    names = {voice.name for voice in voices}
    assert names == {voice.canonical_name for voice in server.voices}
    assert {voice.family for voice in voices} >= {"aura-2", "flux"}
    assert not any(voice.builtin for voice in voices)


async def test_builtin_voices_when_list_fails(
    hass: HomeAssistant, config_entry: MockConfigEntry, server: FakeDeepgram
) -> None:
    """A model list Deepgram does not give leaves the built-in voices."""
    server.faults = Faults(models_status=503)
    entry = await set_up_entry(hass, config_entry)
    voices = entry.runtime_data.voices
    assert voices
    assert any(voice.builtin for voice in voices)


async def test_voice_profile_is_no_stt_entity(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """A voice profile does not become a speech-to-text entity."""
    entry = entry_with_profiles(
        server,
        {DEFAULT_STT_NAME: dict(RECOMMENDED_STT_OPTIONS)},
        voices={"Deepgram Thalia": dict(RECOMMENDED_TTS_OPTIONS)},
    )
    await set_up_entry(hass, entry)
    assert len(stt_entities(hass, entry)) == 1
    voice_id = next(
        key
        for key, sub in entry.subentries.items()
        if sub.subentry_type == SUBENTRY_TTS
    )
    registry = er.async_get(hass)
    assert not [
        e
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if e.config_subentry_id == voice_id and e.domain == "stt"
    ]
