"""End to end through the real assist pipeline and its voice activity detector."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from homeassistant.components.assist_pipeline import (
    PipelineEvent,
    PipelineEventType,
)
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.deepgram.const import (
    CONF_END_OF_SPEECH,
    EVENT_TRANSCRIPT,
    RECOMMENDED_STT_OPTIONS,
)
from custom_components.deepgram.end_of_speech import EndOfSpeech
from tests.deepgram_server import FakeDeepgram, Faults, Segment, Word
from tests.deepgram_server.testing import cancel_and_time, wait_for

from .pipeline_helpers import (
    chunks,
    run_pipeline,
    setup_pipeline,
    speech_pcm,
    start_held_pipeline,
)

# What the fixture audio says, on its timeline (seconds of audio).
SCRIPT = [
    Segment((Word("Turn", 0.55, 0.8), Word("on", 0.8, 0.95), Word("the", 0.95, 1.1))),
    Segment((Word("kitchen", 1.2, 1.7), Word("light.", 1.7, 2.2))),
]


HOME_ASSISTANT = {**RECOMMENDED_STT_OPTIONS, CONF_END_OF_SPEECH: "home_assistant"}


@pytest.fixture(params=list(EndOfSpeech))
def stt_profile(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Every behaviour here holds whoever ends the speech."""
    return {**RECOMMENDED_STT_OPTIONS, CONF_END_OF_SPEECH: request.param}


def light_state(hass: HomeAssistant) -> str:
    state = hass.states.get("light.kitchen_light")
    assert state is not None
    return state.state


def _types(events: list[PipelineEvent]) -> list[PipelineEventType]:
    return [event.type for event in events]


@pytest.mark.parametrize("stt_profile", [HOME_ASSISTANT])
async def test_voice_command_switches_the_light(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """VAD ends the stream -> Finalize, transcript -> intent -> light on."""
    server.script = SCRIPT
    pipeline_id = await setup_pipeline(hass)
    assert light_state(hass) != "on"
    transcripts = async_capture_events(hass, EVENT_TRANSCRIPT)
    events: list[PipelineEvent] = []

    await run_pipeline(hass, pipeline_id, chunks(speech_pcm()), events)

    types = _types(events)
    assert PipelineEventType.STT_VAD_END in types
    stt_end = next(e for e in events if e.type is PipelineEventType.STT_END)
    assert stt_end.data is not None
    assert stt_end.data["stt_output"]["text"] == "Turn on the kitchen light."
    assert PipelineEventType.INTENT_END in types
    assert PipelineEventType.ERROR not in types
    assert light_state(hass) == "on"

    await server.wait_for_sessions_closed()
    (session,) = server.sessions
    controls = [c for c in session.control_messages() if c != "KeepAlive"]
    assert controls == ["Finalize", "CloseStream"]
    assert session.closed_by == "server"
    assert session.close_code == 1000
    finals = [m for m in session.sent_of_type("Results") if m["is_final"]]
    assert (
        len([m for m in finals if m["channel"]["alternatives"][0]["transcript"]]) >= 2
    )
    assert any(m["from_finalize"] for m in finals)
    assert 0 not in session.binary_frame_sizes()
    # The VAD ended the stream before the audio did: not all of it was sent.
    assert session.audio_bytes < len(speech_pcm())

    (event,) = transcripts
    assert event.data["text"] == "Turn on the kitchen light."
    assert event.data["entity_id"] == "stt.deepgram_nova_3"
    assert event.data["request_id"] == session.request_id
    assert event.data["audio_seconds"] > 2.0


async def test_socket_opens_when_the_run_starts(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """Audio flows to Deepgram while the user is still speaking."""
    server.script = SCRIPT
    pipeline_id = await setup_pipeline(hass)
    pcm = speech_pcm()
    hold = asyncio.Event()
    events: list[PipelineEvent] = []

    async def satellite() -> AsyncIterator[bytes]:
        # Hold the first chunk until Deepgram saw the handshake: the socket
        # must open when the STT stage starts, not on the first audio.
        await server.wait_for_handshakes(1)
        async for chunk in chunks(pcm, hold=hold, after=32000):
            yield chunk

    task = asyncio.create_task(run_pipeline(hass, pipeline_id, satellite(), events))
    await server.wait_for_sessions(1)
    session = server.sessions[0]
    await wait_for(lambda: session.audio_bytes >= 16000)
    # One second of the utterance has been spoken: most of it is already there.
    assert session.audio_bytes >= 16000
    assert not session.got_finalize
    hold.set()
    await task
    stt_end = next(e for e in events if e.type is PipelineEventType.STT_END)
    assert stt_end.data is not None
    assert stt_end.data["stt_output"]["text"] == "Turn on the kitchen light."


async def test_abort_sends_close_stream(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """Cancelling the run mid-utterance: CloseStream, socket closed, quickly."""
    server.script = SCRIPT
    pipeline_id = await setup_pipeline(hass)
    events: list[PipelineEvent] = []
    # The satellite never resumes: the user is mid-sentence.
    task, _, session = await start_held_pipeline(
        hass, server, pipeline_id, 24000, events
    )
    await wait_for(lambda: session.audio_bytes >= 16000)
    assert session.audio_bytes >= 16000

    # About one second (the abort bound), with some room for a busy machine.
    assert await cancel_and_time(task) < 2
    # By the time the cancellation propagated the request was over.
    assert session.got_close_stream
    assert "Finalize" not in session.control_messages()
    await server.wait_for_sessions_closed(timeout=1)
    assert session.closed.is_set()
    record = setup_integration.runtime_data.history[-1]
    assert record.outcome == "cancelled"


async def test_abort_when_deepgram_does_not_close(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """A server that never closes does not hold the cancellation for long."""
    server.script = SCRIPT
    server.faults = Faults(never_close=True)
    pipeline_id = await setup_pipeline(hass)
    task, _, session = await start_held_pipeline(hass, server, pipeline_id, 8000)
    await wait_for(lambda: session.audio_bytes >= 3200)
    # About one second (the abort bound), with some room for a busy machine.
    assert await cancel_and_time(task) < 2
    assert session.got_close_stream
    await server.wait_for_sessions_closed(timeout=2)
    assert session.closed_by == "client"


async def test_silence_is_no_text_recognized(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """Speech that yields no words ends in the pipeline's 'no text' error."""
    server.script = []
    pipeline_id = await setup_pipeline(hass)
    events: list[PipelineEvent] = []
    await run_pipeline(hass, pipeline_id, chunks(speech_pcm()), events)
    error = next(e for e in events if e.type is PipelineEventType.ERROR)
    assert error.data is not None
    assert error.data["code"] == "stt-no-text-recognized"
    await server.wait_for_sessions_closed()
    assert server.sessions[0].got_close_stream
