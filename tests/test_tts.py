"""The voice entity: a message spoken as it is written, through Home Assistant."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest

from tests.conftest import set_up_entry
from tests.deepgram_server import FakeDeepgram
from tests.deepgram_server.testing import decode_speech
from tests.speak_helpers import REPLY, SENTENCES
from tests.tts_helpers import (
    AURA,
    FLUX,
    read_all,
    speak_stream,
    text_of,
    tts_entity,
    voice_entry,
    wav_params,
)


@pytest.mark.parametrize("voice", [AURA, FLUX])
async def test_message_spoken_as_a_satellite_hears_it(
    hass: HomeAssistant, server: FakeDeepgram, voice: str
) -> None:
    """A reply written in deltas comes out as 16 kHz mono 16-bit WAV holding
    every sentence once, in order; the socket ends with Close."""
    entry = await set_up_entry(hass, voice_entry(server, voice))
    entity_id = tts_entity(hass, entry, voice)
    pieces = [REPLY[i : i + 40] for i in range(0, len(REPLY), 40)]
    data = await read_all(speak_stream(hass, entity_id, text_of(pieces)))
    rate, channels, width, frames = wav_params(data)
    assert (rate, channels, width) == (16000, 1, 2)
    assert decode_speech(frames, 16000) == SENTENCES
    await server.wait_for_speak_sessions(1)
    (session,) = server.speak_sessions
    assert session.control_messages()[-1] == "Close"
