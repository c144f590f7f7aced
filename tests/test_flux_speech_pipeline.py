"""Flux profiles through the real pipeline with the end-of-speech fixtures.

The same espeak-ng fixtures and streaming satellite as the nova tests in
test_end_of_speech_pipeline.py. In the local server's Flux model a script
segment is one complete thought, so each fixture's segments are joined into
one: its pause is inside the sentence, as the speaker meant it.
"""

from __future__ import annotations

import dataclasses

from homeassistant.components.assist_pipeline import PipelineEventType
from homeassistant.core import HomeAssistant
import pytest

from custom_components.deepgram.const import CONF_EOT_THRESHOLD, CONF_EOT_TIMEOUT_MS
from tests.deepgram_server import FakeDeepgram, Segment

from .speech_fixtures import ALL, Speech, load
from .test_end_of_speech_pipeline import DETECTOR_MIN_SILENCE, Run, run_speech
from .test_flux_pipeline import FLUX_ENTITY, add_flux_entry, light_on

EXPECTED = {
    "a_complete_command": "Turn on the kitchen light.",
    "b_command_with_pause": "Turn on the kitchen light.",
    "c_free_form_with_pause": "Tell me a story about a dragon and a knight.",
    "d_long_command": "Set the brightness of the kitchen light to 50%.",
}


def as_one_thought(speech: Speech) -> Speech:
    """The fixture with its segments joined: one thought for the Flux model."""
    words = tuple(word for segment in speech.script for word in segment.words)
    return dataclasses.replace(speech, script=[Segment(words)])


async def run_flux(hass: HomeAssistant, server: FakeDeepgram, name: str) -> Run:
    run = await run_speech(
        hass, server, as_one_thought(load(name)), stt_engine=FLUX_ENTITY
    )
    assert run.text == EXPECTED[name]  # never cut at the pause
    assert PipelineEventType.ERROR not in run.types
    assert PipelineEventType.INTENT_END in run.types
    if EXPECTED[name].startswith("Turn on"):
        assert light_on(hass)
    return run


@pytest.mark.parametrize("name", ALL)
async def test_flux_end_of_turn_returns_the_whole_sentence(
    hass: HomeAssistant, server: FakeDeepgram, name: str
) -> None:
    """a-d: EndOfTurn after the last word ends the stage, before the detector;
    the pause inside b and c does not end the turn."""
    entry = await add_flux_entry(hass, server)
    run = await run_flux(hass, server, name)

    speech = load(name)
    assert PipelineEventType.STT_VAD_END not in run.types
    assert run.audio_at[PipelineEventType.STT_END] > speech.last_word_end
    assert run.audio_at[PipelineEventType.STT_END] < (
        speech.last_word_end + DETECTOR_MIN_SILENCE
    )
    assert entry.runtime_data.history[-1].ended_by == "end_of_turn"
    (session,) = server.sessions
    assert session.control_messages() == ["CloseStream"]  # no ForceEndTurn
    ends = [m for m in session.sent if m.get("event") == "EndOfTurn"]
    assert len(ends) == 1  # one turn: none at the pause
    assert ends[0]["transcript"] == EXPECTED[name]


@pytest.mark.parametrize("name", ALL)
async def test_flux_detector_first_returns_the_whole_turn(
    hass: HomeAssistant, server: FakeDeepgram, name: str
) -> None:
    """a-d with Flux's own turn end off (1.0): the detector ends the stream,
    ForceEndTurn brings back the whole turn."""
    entry = await add_flux_entry(
        hass, server, **{CONF_EOT_THRESHOLD: 1.0, CONF_EOT_TIMEOUT_MS: 60000}
    )
    run = await run_flux(hass, server, name)

    speech = load(name)
    assert PipelineEventType.STT_VAD_END in run.types
    assert run.audio_at[PipelineEventType.STT_VAD_END] >= (
        speech.last_word_end + DETECTOR_MIN_SILENCE
    )
    assert entry.runtime_data.history[-1].ended_by == "manual"
    (session,) = server.sessions
    assert session.control_messages() == ["ForceEndTurn", "CloseStream"]
    end = session.sent_of_type("TurnInfo")[-1]
    assert (end["event"], end["trigger"]) == ("EndOfTurn", "manual")
    assert end["transcript"] == EXPECTED[name]
