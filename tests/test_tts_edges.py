"""The voice entity's edges: formats, languages, the whole-message call."""

from __future__ import annotations

from homeassistant.components import tts
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest

from custom_components.deepgram.tts import voice_languages
from tests.conftest import set_up_entry
from tests.deepgram_server import FakeDeepgram
from tests.deepgram_server.testing import decode_speech
from tests.speak_helpers import REPLY, SENTENCES
from tests.tts_helpers import (
    AURA,
    read_all,
    speak_stream,
    text_of,
    tts_entity,
    voice_entity,
    voice_entry,
    wav_params,
)


async def test_whole_message_at_once(hass: HomeAssistant, server: FakeDeepgram) -> None:
    """`async_get_tts_audio` (a caller that wants the whole message) takes the
    streaming path: WAV with every sentence."""
    entry = await set_up_entry(hass, voice_entry(server, AURA))
    entity = voice_entity(hass, tts_entity(hass, entry, AURA))
    extension, data = await entity.async_get_tts_audio(REPLY, "en", {})
    assert extension == "wav"
    assert data is not None
    rate, channels, width, frames = wav_params(data)
    assert (channels, width) == (1, 2)
    assert decode_speech(frames, rate) == SENTENCES


async def test_other_rates_and_channels(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """A rate Deepgram does not offer and stereo: WAV exactly as asked."""
    entry = await set_up_entry(hass, voice_entry(server, AURA))
    entity_id = tts_entity(hass, entry, AURA)
    options = {
        tts.ATTR_PREFERRED_FORMAT: "wav",
        tts.ATTR_PREFERRED_SAMPLE_RATE: 22050,
        tts.ATTR_PREFERRED_SAMPLE_CHANNELS: 2,
        tts.ATTR_PREFERRED_SAMPLE_BYTES: 2,
    }
    data = await read_all(speak_stream(hass, entity_id, text_of([REPLY]), options))
    rate, channels, width, frames = wav_params(data)
    assert (rate, channels, width) == (22050, 2, 2)
    (session,) = server.speak_sessions
    assert session.sample_rate == 24000  # resampled down, never up
    seconds = len(frames) / (22050 * 4)
    assert seconds == pytest.approx(len(session.audio) / (24000 * 2), abs=0.01)


async def test_audio_it_cannot_make_is_a_clear_error(
    hass: HomeAssistant, server: FakeDeepgram, caplog: pytest.LogCaptureFixture
) -> None:
    """An impossible format: a translated error, one log line, no socket."""
    entry = await set_up_entry(hass, voice_entry(server, AURA))
    entity = voice_entity(hass, tts_entity(hass, entry, AURA))
    with pytest.raises(HomeAssistantError) as raised:
        await entity.async_get_tts_audio(
            REPLY, "en", {tts.ATTR_PREFERRED_SAMPLE_RATE: 100}
        )
    assert raised.value.translation_key == "speak_options"
    assert "cannot speak as asked" in caplog.text
    assert not server.speak_sessions


async def test_languages_of_a_voice_not_listed(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """A voice typed in by hand speaks the language its model names."""
    entry = await set_up_entry(hass, voice_entry(server, "aura-2-newvoice-de"))
    assert "de" in voice_languages("aura-2-newvoice-de", entry)
    entity = voice_entity(hass, tts_entity(hass, entry, "aura-2-newvoice-de"))
    assert entity.default_language == "de"
    assert voice_languages("not-a-voice", entry) == []
