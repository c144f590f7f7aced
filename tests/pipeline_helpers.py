"""Running the real assist pipeline on the committed speech fixture."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
import wave

from homeassistant.components import stt
from homeassistant.components.assist_pipeline import (
    PipelineEvent,
    async_pipeline_from_audio_stream,
)
from homeassistant.components.assist_pipeline.models import PipelineStage
from homeassistant.components.assist_pipeline.pipeline import KEY_ASSIST_PIPELINE
from homeassistant.core import Context, HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.deepgram.stt import DeepgramSttEntity
from tests.deepgram_server import FakeDeepgram, LiveSessionRecord
from tests.deepgram_server.testing import silence

FIXTURES = Path(__file__).parent / "fixtures"
SPEECH_WAV = FIXTURES / "turn_on_the_kitchen_light.wav"
CHUNK = 320  # 10 ms of 16 kHz 16-bit mono, as Home Assistant delivers it
ENTITY_ID = "stt.deepgram_nova_3"
METADATA = stt.SpeechMetadata(
    language="en-US",
    format=stt.AudioFormats.WAV,
    codec=stt.AudioCodecs.PCM,
    bit_rate=stt.AudioBitRates.BITRATE_16,
    sample_rate=stt.AudioSampleRates.SAMPLERATE_16000,
    channel=stt.AudioChannels.CHANNEL_MONO,
)


def stt_entity(hass: HomeAssistant, entity_id: str = ENTITY_ID) -> DeepgramSttEntity:
    """Our STT entity `entity_id`, which must exist."""
    found = stt.async_get_speech_to_text_entity(hass, entity_id)
    assert isinstance(found, DeepgramSttEntity)
    return found


async def transcribe(
    hass: HomeAssistant,
    audio: AsyncIterator[bytes],
    metadata: stt.SpeechMetadata = METADATA,
    entity_id: str = ENTITY_ID,
) -> stt.SpeechResult:
    """Hand `audio` to the STT entity as the pipeline does; its result."""
    entity = stt_entity(hass, entity_id)
    return await entity.internal_async_process_audio_stream(metadata, audio)


def speech_pcm() -> bytes:
    """The fixture's PCM: 0.5 s silence, the sentence (to ~2.3 s), 2 s silence."""
    with wave.open(str(SPEECH_WAV), "rb") as wav:
        return wav.readframes(wav.getnframes())


async def chunks(
    pcm: bytes, *, hold: asyncio.Event | None = None, after: int | None = None
) -> AsyncIterator[bytes]:
    """Yield `pcm` in 10 ms chunks; optionally stop after `after` bytes and
    wait for `hold` (a satellite still connected but silent)."""
    for start in range(0, len(pcm), CHUNK):
        if after is not None and start >= after and hold is not None:
            await hold.wait()
        yield pcm[start : start + CHUNK]
        await asyncio.sleep(0)


async def start_held_run(
    hass: HomeAssistant, server: FakeDeepgram, seconds: float = 1.5, after: int = 16000
) -> tuple[asyncio.Task[stt.SpeechResult], asyncio.Event]:
    """Start a run whose satellite goes silent mid-sentence.

    It sends `after` bytes of `seconds` of silence, then waits for the
    returned event before sending the rest. Returns once Deepgram has the
    session: the run's task and the event.
    """
    hold = asyncio.Event()
    run = asyncio.create_task(
        transcribe(hass, chunks(silence(seconds), hold=hold, after=after))
    )
    await server.wait_for_sessions(1)
    return run, hold


async def setup_pipeline(
    hass: HomeAssistant, stt_language: str = "en-US", stt_engine: str = ENTITY_ID
) -> str:
    """Set up Assist with our STT entity and a real light; return the pipeline id."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {"light": [{"name": "Kitchen light", "turn_on": [], "turn_off": []}]}
            ]
        },
    )
    assert await async_setup_component(hass, "assist_pipeline", {})
    await hass.async_block_till_done()
    store = hass.data[KEY_ASSIST_PIPELINE].pipeline_store
    pipeline = await store.async_create_item(
        {
            "conversation_engine": "conversation.home_assistant",
            "conversation_language": "en",
            "language": "en",
            "name": "Deepgram test",
            "stt_engine": stt_engine,
            "stt_language": stt_language,
            "tts_engine": None,
            "tts_language": None,
            "tts_voice": None,
            "wake_word_entity": None,
            "wake_word_id": None,
        }
    )
    return pipeline.id


async def run_pipeline(
    hass: HomeAssistant,
    pipeline_id: str,
    stream: AsyncIterator[bytes],
    events: list[PipelineEvent],
    end_stage: PipelineStage = PipelineStage.INTENT,
) -> None:
    """Run the pipeline from STT to `end_stage`, collecting its events."""
    await async_pipeline_from_audio_stream(
        hass,
        context=Context(),
        event_callback=events.append,
        stt_metadata=METADATA,
        stt_stream=stream,
        pipeline_id=pipeline_id,
        start_stage=PipelineStage.STT,
        end_stage=end_stage,
    )


async def start_held_pipeline(
    hass: HomeAssistant,
    server: FakeDeepgram,
    pipeline_id: str,
    after: int,
    events: list[PipelineEvent] | None = None,
) -> tuple[asyncio.Task[None], asyncio.Event, LiveSessionRecord]:
    """Start a pipeline run on the speech fixture whose satellite goes silent.

    It sends `after` bytes, then waits for the returned event before sending
    the rest. Returns once Deepgram has the session: the run's task, the
    event and the server's record of the session.
    """
    hold = asyncio.Event()
    stream = chunks(speech_pcm(), hold=hold, after=after)
    task = asyncio.create_task(
        run_pipeline(hass, pipeline_id, stream, [] if events is None else events)
    )
    await server.wait_for_sessions(1)
    return task, hold, server.sessions[0]
