"""Deepgram voices in Home Assistant's own flows: a voice command answered by a
streaming agent through the real assist pipeline, and `tts.speak` to a media
player."""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.components import tts
from homeassistant.components.assist_pipeline import (
    PipelineEventType,
    async_pipeline_from_audio_stream,
)
from homeassistant.components.assist_pipeline.models import PipelineStage
from homeassistant.components.tts.const import (
    ATTR_MEDIA_PLAYER_ENTITY_ID,
    ATTR_MESSAGE,
    ATTR_OPTIONS,
    DOMAIN as TTS_DOMAIN,
)
from homeassistant.core import Context, HomeAssistant
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.agent_helpers import (
    FIRST_AUDIO,
    LAST_DELTA,
    Satellite,
    StreamingAgent,
    add_agent,
    voice_pipeline,
)
from tests.conftest import set_up_entry
from tests.deepgram_server import FakeDeepgram, Latency, script_from_text
from tests.deepgram_server.testing import decode_speech
from tests.pipeline_helpers import METADATA, chunks, speech_pcm
from tests.player_helpers import (
    RecordingPlayer,
    add_player,
    decoded_seconds,
    mp3_format,
)
from tests.speak_helpers import REPLY, SENTENCES
from tests.tts_helpers import AURA, FLUX, tts_entity, voice_entry, wav_params

COMMAND = "Turn on the kitchen light."
NATURAL_PACE = Latency(speak_seconds_per_char=0.065)
"""About 15 characters a second of speech, as Aura-2 speaks (audio sent at once)."""


@pytest.mark.parametrize("voice", [AURA, FLUX])
async def test_streaming_agent_answer_spoken_as_it_is_written(
    hass: HomeAssistant, server: FakeDeepgram, voice: str
) -> None:
    """Speech in, a streaming agent's answer out as a satellite hears it.

    The answer is 16 kHz mono 16-bit WAV holding every sentence once, in
    order, and its first audio reaches the satellite before the agent wrote
    its last delta: Home Assistant streamed the text to the voice and the
    voice spoke it as it came.
    """
    server.script = script_from_text(COMMAND, start=0.55, end=2.2)
    # Speech of a natural length: Home Assistant converts the satellite's
    # WAV with ffmpeg, which sends nothing on until about 2 s of audio went
    # in; the fake server's default (fast tests) makes the answer shorter.
    server.latency = NATURAL_PACE
    entry = await set_up_entry(hass, voice_entry(server, voice))
    order: list[str] = []
    agent = StreamingAgent(order)
    pipeline_id = await voice_pipeline(
        hass, await add_agent(hass, agent), tts_entity(hass, entry, voice)
    )
    satellite = Satellite(hass, order)
    agent.hold_last = satellite.heard

    await async_pipeline_from_audio_stream(
        hass,
        context=Context(),
        event_callback=satellite.on_event,
        stt_metadata=METADATA,
        stt_stream=chunks(speech_pcm()),
        pipeline_id=pipeline_id,
        start_stage=PipelineStage.STT,
        end_stage=PipelineStage.TTS,
        tts_audio_output="wav",
    )
    data = await satellite.answer()

    assert not satellite.event_data(PipelineEventType.ERROR)
    (stt_end,) = satellite.event_data(PipelineEventType.STT_END)
    assert stt_end["stt_output"]["text"] == COMMAND
    (run_start,) = satellite.event_data(PipelineEventType.RUN_START)
    assert run_start["tts_output"]["stream_response"] is True
    progress = satellite.event_data(PipelineEventType.INTENT_PROGRESS)
    assert {"tts_start_streaming": True} in progress
    (tts_end,) = satellite.event_data(PipelineEventType.TTS_END)
    assert tts_end["tts_output"]["token"] == run_start["tts_output"]["token"]
    assert "".join(agent.deltas) == REPLY

    rate, channels, width, frames = wav_params(data)
    assert (rate, channels, width) == (16000, 1, 2)
    assert decode_speech(frames, 16000) == SENTENCES
    assert order == [FIRST_AUDIO, LAST_DELTA]
    await server.wait_for_speak_sessions(1)
    assert all(s.control_messages()[-1] == "Close" for s in server.speak_sessions)


@pytest.mark.parametrize(
    ("voice", "options"),
    [(AURA, {tts.ATTR_PREFERRED_FORMAT: "mp3"}), (FLUX, None)],
    ids=["aura-mp3-asked", "flux-default"],
)
async def test_speak_action_plays_mp3_on_a_media_player(
    hass: HomeAssistant,
    server: FakeDeepgram,
    hass_client_no_auth: ClientSessionGenerator,
    voice: str,
    options: dict[str, str] | None,
) -> None:
    """`tts.speak` to a media player: it is asked to announce a TTS URL that
    serves MP3 (Home Assistant converts the voice's WAV with ffmpeg, MP3
    being asked or its default) as long as the speech Deepgram sent."""
    server.latency = NATURAL_PACE
    entry = await set_up_entry(hass, voice_entry(server, voice))
    player = RecordingPlayer()
    player_id = await add_player(hass, player)
    data: dict[str, Any] = {
        ATTR_MEDIA_PLAYER_ENTITY_ID: player_id,
        ATTR_MESSAGE: REPLY,
    }
    if options is not None:
        data[ATTR_OPTIONS] = options

    await hass.services.async_call(
        TTS_DOMAIN,
        "speak",
        data,
        target={"entity_id": tts_entity(hass, entry, voice)},
        blocking=True,
    )

    (played,) = player.calls
    assert played.announce
    assert played.media_id.startswith("media-source://tts/")
    assert played.mime_type == "audio/mpeg"
    assert played.url.startswith("/api/tts_proxy/")
    client = await hass_client_no_auth()
    async with asyncio.timeout(30):
        response = await client.get(played.url)
        assert response.status == 200
        mp3 = await response.read()
    # MPEG frames at the voice's rate, playing as long as the speech sent
    # (give or take the encoder's padding, a few 1152-sample frames).
    (record,) = entry.runtime_data.speak_history
    assert record.outcome == "success"
    assert mp3_format(mp3) == (record.sample_rate, 1)
    assert record.audio_seconds > 5.0  # the whole reply at a natural pace
    seconds = await decoded_seconds(hass, mp3, record.sample_rate)
    assert abs(seconds - record.audio_seconds) < 0.2
