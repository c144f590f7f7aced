"""Odd server messages through Home Assistant (issue 18, item 1).

Valid JSON with a field of an odd type or value (a number for the languages,
400 digits for a float, nesting 100 000 deep) used to end the voice command
with "The Deepgram stream ended early (close None)". Now each is one log
line at most and the command still switches the light, on nova and on Flux.
"""

from __future__ import annotations

from homeassistant.components.assist_pipeline import PipelineEvent, PipelineEventType
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram.const import (
    CONF_END_OF_SPEECH,
    RECOMMENDED_FLUX_OPTIONS,
    RECOMMENDED_STT_OPTIONS,
    SUBENTRY_FLUX,
)
from custom_components.deepgram.end_of_speech import EndOfSpeech
from tests.conftest import entry_with_profiles, set_up_entry
from tests.deepgram_server import FakeDeepgram, Faults, Segment, Word
from tests.deepgram_server.testing import wait_for
from tests.test_api_hardening import ODD_FLUX, ODD_LIVE, malformed_logged

from .pipeline_helpers import chunks, run_pipeline, setup_pipeline, speech_pcm

SENTENCE = "Turn on the kitchen light."
SCRIPT = [
    Segment(
        (
            Word("Turn", 0.55, 0.8),
            Word("on", 0.8, 0.95),
            Word("the", 0.95, 1.1),
            Word("kitchen", 1.2, 1.7),
            Word("light.", 1.7, 2.2),
        )
    )
]


def light_state(hass: HomeAssistant) -> str:
    state = hass.states.get("light.kitchen_light")
    assert state is not None
    return state.state


async def run_command(
    hass: HomeAssistant, stt_engine: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Say the command through the real pipeline; it must switch the light.

    The log says the malformed messages once (first, then a summary), and
    nothing else.
    """
    pipeline_id = await setup_pipeline(hass, stt_engine=stt_engine)
    assert light_state(hass) != "on"
    events: list[PipelineEvent] = []
    await run_pipeline(hass, pipeline_id, chunks(speech_pcm()), events)
    types = [e.type for e in events]
    assert PipelineEventType.ERROR not in types
    stt_end = next(e for e in events if e.type is PipelineEventType.STT_END)
    assert stt_end.data is not None
    assert stt_end.data["stt_output"]["text"] == SENTENCE
    assert light_state(hass) == "on"
    await wait_for(lambda: malformed_logged(caplog.records))


@pytest.mark.parametrize(
    "stt_profile",
    [{**RECOMMENDED_STT_OPTIONS, CONF_END_OF_SPEECH: EndOfSpeech.HOME_ASSISTANT}],
)
async def test_odd_messages_do_not_lose_a_nova_command(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """/v1: the odd messages come with the first audio; the light goes on."""
    server.script = SCRIPT
    server.faults = Faults(odd_messages=ODD_LIVE)
    await run_command(hass, "stt.deepgram_nova_3", caplog)


async def test_odd_messages_do_not_lose_a_flux_command(
    hass: HomeAssistant, server: FakeDeepgram, caplog: pytest.LogCaptureFixture
) -> None:
    """/v2: the same in TurnInfo and ConfigureSuccess."""
    server.script = SCRIPT
    server.faults = Faults(odd_messages=ODD_FLUX)
    entry = entry_with_profiles(
        server, {"Deepgram Flux": RECOMMENDED_FLUX_OPTIONS}, subentry_type=SUBENTRY_FLUX
    )
    await set_up_entry(hass, entry)
    await run_command(hass, "stt.deepgram_flux", caplog)
