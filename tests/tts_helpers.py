"""Helpers of the voice entity's tests: an entry with voices, a spoken stream."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
import io
from typing import Any
import wave

from homeassistant.components import tts
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram.const import (
    CONF_VOICE,
    DEFAULT_STT_NAME,
    RECOMMENDED_STT_OPTIONS,
    RECOMMENDED_TTS_OPTIONS,
)
from tests.conftest import entry_with_profiles
from tests.deepgram_server import FakeDeepgram

AURA = "aura-2-thalia-en"
FLUX = "flux-haley-en"
SATELLITE = {
    tts.ATTR_PREFERRED_FORMAT: "wav",
    tts.ATTR_PREFERRED_SAMPLE_RATE: 16000,
    tts.ATTR_PREFERRED_SAMPLE_CHANNELS: 1,
    tts.ATTR_PREFERRED_SAMPLE_BYTES: 2,
}
"""What a voice satellite asks for (the assist pipeline's `tts_audio_output`)."""


def voice_entry(server: FakeDeepgram, *voices: str, **profile: Any) -> MockConfigEntry:
    """An entry on the local server: one listening profile and these voices."""
    return entry_with_profiles(
        server,
        {DEFAULT_STT_NAME: dict(RECOMMENDED_STT_OPTIONS)},
        voices={
            f"Deepgram {voice}": {
                **RECOMMENDED_TTS_OPTIONS,
                CONF_VOICE: voice,
                **profile,
            }
            for voice in voices
        },
    )


def tts_entity(hass: HomeAssistant, entry: MockConfigEntry, voice: str) -> str:
    """The entity id of the entry's voice profile speaking `voice`."""
    for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        subentry = entry.subentries.get(entity.config_subentry_id or "")
        if entity.domain == "tts" and subentry and subentry.data[CONF_VOICE] == voice:
            return entity.entity_id
    raise AssertionError(f"no voice entity for {voice}")


async def text_of(pieces: list[str]) -> AsyncGenerator[str]:
    """A message stream of these pieces."""
    for piece in pieces:
        yield piece


def speak_stream(
    hass: HomeAssistant,
    entity_id: str,
    message: AsyncGenerator[str],
    options: dict[str, Any] | None = None,
) -> AsyncIterator[bytes]:
    """Home Assistant's TTS stream of `message`, read as a satellite reads it."""
    stream = tts.async_create_stream(
        hass, entity_id, options=SATELLITE if options is None else options
    )
    stream.async_set_message_stream(message)
    return stream.async_stream_result()


async def read_all(audio: AsyncIterator[bytes]) -> bytes:
    """Every byte of a stream."""
    return b"".join([chunk async for chunk in audio])


def wav_params(data: bytes) -> tuple[int, int, int, bytes]:
    """(rate, channels, width, frames) of a WAV file, streamed or not."""
    with wave.open(io.BytesIO(data)) as wav:
        # A streaming header gives no length: read what is there.
        return (
            wav.getframerate(),
            wav.getnchannels(),
            wav.getsampwidth(),
            data[44:] if wav.getnframes() >= 0x7FFFFFF else wav.readframes(1 << 30),
        )


def voice_entity(hass: HomeAssistant, entity_id: str) -> tts.TextToSpeechEntity:
    """The voice entity object (to drive its stream as Home Assistant does)."""
    from homeassistant.components.tts.const import DATA_COMPONENT

    entity = hass.data[DATA_COMPONENT].get_entity(entity_id)
    assert entity is not None
    return entity
