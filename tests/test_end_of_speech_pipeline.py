"""End of speech through the real pipeline, its detector and the espeak-ng fixtures.

The satellite streams at real time and keeps streaming after the speech (as
ESPHome and Wyoming satellites do until the run ends). The detector ends the
stream no earlier than 0.7 s of silence after the last word (its default),
so a stage that ends before that much audio was read ended on Deepgram's
signals.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from homeassistant.components.assist_pipeline import PipelineEvent, PipelineEventType
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram.const import (
    CONF_END_OF_SPEECH,
    CONF_UTTERANCE_END_MS,
    RECOMMENDED_STT_OPTIONS,
)
from custom_components.deepgram.end_of_speech import EndedBy
from tests.deepgram_server import FakeDeepgram

from .pipeline_helpers import ENTITY_ID, run_pipeline, setup_pipeline
from .speech_fixtures import (
    COMPLETE,
    FREE_FORM,
    LONG,
    PAUSED,
    Satellite,
    Speech,
    load,
)

DETECTOR_MIN_SILENCE = 0.7  # assist_pipeline/vad.py, default sensitivity
HOME_ASSISTANT = {**RECOMMENDED_STT_OPTIONS, CONF_END_OF_SPEECH: "home_assistant"}
DEEPGRAM = {**RECOMMENDED_STT_OPTIONS, CONF_END_OF_SPEECH: "deepgram"}


class Events(list[PipelineEvent]):
    """The run's events, noting how much audio was read at each."""

    def __init__(self, satellite: Satellite) -> None:
        super().__init__()
        self.satellite = satellite
        self.audio_at: dict[PipelineEventType, float] = {}

    def append(self, event: PipelineEvent) -> None:
        super().append(event)
        self.audio_at.setdefault(event.type, self.satellite.audio_seconds)


@dataclass
class Run:
    """What a run did: its events and how much audio was read at each."""

    satellite: Satellite
    events: Events = field(init=False)

    def __post_init__(self) -> None:
        self.events = Events(self.satellite)

    @property
    def audio_at(self) -> dict[PipelineEventType, float]:
        return self.events.audio_at

    @property
    def types(self) -> list[PipelineEventType]:
        return [event.type for event in self.events]

    @property
    def text(self) -> str:
        stt_end = next(e for e in self.events if e.type is PipelineEventType.STT_END)
        assert stt_end.data is not None
        return str(stt_end.data["stt_output"]["text"])


async def run_speech(
    hass: HomeAssistant,
    server: FakeDeepgram,
    speech: Speech,
    stt_engine: str = ENTITY_ID,
) -> Run:
    """Run the pipeline (STT to intent) on `speech`; wait for the request's end."""
    server.script = speech.script
    pipeline_id = await setup_pipeline(hass, stt_engine=stt_engine)
    run = Run(Satellite(speech.pcm, catch_up=False))
    async with asyncio.timeout(20):
        await run_pipeline(hass, pipeline_id, run.satellite.stream(), run.events)
    await server.wait_for_sessions_closed()
    # The pipeline never reads the stream again: nothing was read after stt-end.
    await asyncio.sleep(0.05)
    assert run.satellite.audio_seconds == pytest.approx(
        run.audio_at[PipelineEventType.STT_END]
    )
    return run


def light(hass: HomeAssistant) -> Any:
    state = hass.states.get("light.kitchen_light")
    assert state is not None
    return state


def ended_by(entry: MockConfigEntry) -> str | None:
    ended: str | None = entry.runtime_data.history[-1].ended_by
    return ended


@pytest.mark.parametrize("stt_profile", [DEEPGRAM])
async def test_complete_command_ends_before_the_detector(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """a: speech_final + a matching sentence end the stage; the light switches."""
    speech = load(COMPLETE)
    run = await run_speech(hass, server, speech)

    assert run.text == "Turn on the kitchen light."
    assert PipelineEventType.STT_VAD_END not in run.types
    assert PipelineEventType.ERROR not in run.types
    assert run.audio_at[PipelineEventType.STT_END] < (
        speech.last_word_end + DETECTOR_MIN_SILENCE
    )
    assert PipelineEventType.INTENT_END in run.types
    assert light(hass).state == "on"
    assert ended_by(setup_integration) == EndedBy.MATCH
    (session,) = server.sessions
    controls = [c for c in session.control_messages() if c != "KeepAlive"]
    assert controls == ["CloseStream"]
    assert session.close_code == 1000
    # Only audio read before the end of the turn reached Deepgram.
    assert session.audio_bytes <= run.satellite.delivered * 320
    query = session.query
    assert query["utterance_end_ms"] == "1000"
    assert query["vad_events"] == "true"
    assert query["endpointing"] == "300"


@pytest.mark.parametrize("stt_profile", [DEEPGRAM])
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (PAUSED, "Turn on the kitchen light."),
        (FREE_FORM, "Tell me a story about a dragon and a knight."),
        (LONG, "Set the brightness of the kitchen light to 50%."),
    ],
)
async def test_pauses_never_cut_the_sentence(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    name: str,
    expected: str,
) -> None:
    """b, c, d: a pause mid-sentence does not end it; no last word is lost."""
    speech = load(name)
    run = await run_speech(hass, server, speech)

    assert run.text == expected
    assert PipelineEventType.ERROR not in run.types
    assert PipelineEventType.INTENT_END in run.types
    # Ended after the last word, by Deepgram, before the detector would have.
    assert run.audio_at[PipelineEventType.STT_END] > speech.last_word_end
    assert run.audio_at[PipelineEventType.STT_END] < (
        speech.last_word_end + DETECTOR_MIN_SILENCE + 0.5
    )
    assert ended_by(setup_integration) in {
        EndedBy.MATCH,
        EndedBy.UTTERANCE_END,
        EndedBy.STREAM_END_SETTLED,
    }
    if name == PAUSED:
        assert light(hass).state == "on"
        assert ended_by(setup_integration) == EndedBy.MATCH
    if name == FREE_FORM:
        # Nothing matches: the long pause (UtteranceEnd) or the detector ends it.
        assert ended_by(setup_integration) != EndedBy.MATCH


@pytest.mark.parametrize("stt_profile", [HOME_ASSISTANT])
@pytest.mark.parametrize("name", [COMPLETE, PAUSED])
async def test_home_assistant_mode_is_unchanged(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    name: str,
) -> None:
    """The detector ends the stream, then Finalize, as before."""
    speech = load(name)
    run = await run_speech(hass, server, speech)

    assert run.text == "Turn on the kitchen light."
    assert PipelineEventType.STT_VAD_END in run.types
    assert run.audio_at[PipelineEventType.STT_VAD_END] >= (
        speech.last_word_end + DETECTOR_MIN_SILENCE
    )
    assert light(hass).state == "on"
    assert ended_by(setup_integration) is None
    (session,) = server.sessions
    controls = [c for c in session.control_messages() if c != "KeepAlive"]
    assert controls == ["Finalize", "CloseStream"]
    assert "utterance_end_ms" not in session.query
    assert "vad_events" not in session.query


@pytest.mark.parametrize("stt_profile", [DEEPGRAM])
async def test_without_the_sentence_matcher(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A matcher that fails (another release changed it): rules 2 and 3 still
    end the stage, with the whole command, and the run does not fail."""
    from homeassistant.components.conversation.default_agent import (
        DefaultAgent,
    )

    original = DefaultAgent.async_recognize_intent
    calls: list[bool] = []

    async def changed(self: DefaultAgent, user_input: Any, **kwargs: Any) -> Any:
        if kwargs.get("strict_intents_only"):
            calls.append(True)
            raise TypeError("recognize changed")
        return await original(self, user_input, **kwargs)

    monkeypatch.setattr(DefaultAgent, "async_recognize_intent", changed)
    speech = load(COMPLETE)
    run = await run_speech(hass, server, speech)

    assert calls == [True]  # asked once, then no more
    assert run.text == "Turn on the kitchen light."
    assert PipelineEventType.ERROR not in run.types
    assert light(hass).state == "on"
    assert ended_by(setup_integration) in {
        EndedBy.UTTERANCE_END,
        EndedBy.STREAM_END_SETTLED,
    }
    assert "Sentence matching is unavailable" in caplog.text


@pytest.mark.parametrize("stt_profile", [{**DEEPGRAM, CONF_UTTERANCE_END_MS: 5000}])
async def test_detector_after_everything_was_final_returns_at_once(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """c with a 5 s longest pause: the detector ends the stream after Deepgram
    finalised every word; the text is returned without a Finalize round trip."""
    speech = load(FREE_FORM)
    run = await run_speech(hass, server, speech)

    assert run.text == "Tell me a story about a dragon and a knight."
    assert PipelineEventType.STT_VAD_END in run.types
    assert ended_by(setup_integration) == EndedBy.STREAM_END_SETTLED
    (session,) = server.sessions
    controls = [c for c in session.control_messages() if c != "KeepAlive"]
    assert controls == ["CloseStream"]
