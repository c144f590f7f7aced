"""What a misbehaving server does to a voice command (issue 18, items 1 and 4).

Valid JSON with a field of an odd type or value (a number for the languages,
400 digits for a float, nesting 100 000 deep) used to end the voice command
with "The Deepgram stream ended early (close None)". Now each is one log
line at most and the command still switches the light, on nova and on Flux.

A handshake whose `dg-request-id` echoes the `Authorization` header (a
careless proxy) used to put the key into the `deepgram_transcript` event,
the error log and diagnostics; the request id is scrubbed and cut now.
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.components import stt
from homeassistant.components.assist_pipeline import PipelineEvent, PipelineEventType
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.deepgram.api.redact import REDACTED
from custom_components.deepgram.const import (
    CONF_END_OF_SPEECH,
    EVENT_TRANSCRIPT,
    RECOMMENDED_FLUX_OPTIONS,
    RECOMMENDED_STT_OPTIONS,
    SUBENTRY_FLUX,
)
from custom_components.deepgram.end_of_speech import EndOfSpeech
from tests.conftest import API_KEY, entry_with_profiles, set_up_entry
from tests.deepgram_server import FakeDeepgram, Faults, Segment, Word
from tests.deepgram_server.testing import wait_for
from tests.test_api_hardening import ODD_FLUX, ODD_LIVE, malformed_logged

from .pipeline_helpers import (
    chunks,
    run_pipeline,
    setup_pipeline,
    speech_pcm,
    transcribe,
)

SENTENCE = "Turn on the kitchen light."
HOME_ASSISTANT = {
    **RECOMMENDED_STT_OPTIONS,
    CONF_END_OF_SPEECH: EndOfSpeech.HOME_ASSISTANT,
}
ECHOED_ID = f"Token {REDACTED}"
"""The request id a handshake echoing `Authorization` leaves, scrubbed."""
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


@pytest.mark.parametrize("stt_profile", [HOME_ASSISTANT])
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


# -- item 4: a handshake request id echoing the key ---------------------------


@pytest.mark.parametrize("stt_profile", [HOME_ASSISTANT])
async def test_an_echoed_request_id_is_scrubbed_in_the_transcript_event(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """The event carries the scrubbed id (the log guard checks every line)."""
    server.script = SCRIPT
    server.faults = Faults(echo_authorization_in_request_id=True)
    transcripts = async_capture_events(hass, EVENT_TRANSCRIPT)
    pipeline_id = await setup_pipeline(hass)
    events: list[PipelineEvent] = []
    await run_pipeline(hass, pipeline_id, chunks(speech_pcm()), events)
    assert light_state(hass) == "on"
    (event,) = transcripts
    assert event.data["request_id"] == ECHOED_ID
    assert API_KEY not in str(event.data)


async def test_an_echoed_request_id_is_scrubbed_in_the_error_and_diagnostics(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A run Deepgram ends (1011): its error line and its session record."""
    server.script = SCRIPT
    server.faults = Faults(
        echo_authorization_in_request_id=True, close_1011_after_audio_seconds=0.5
    )
    result = await transcribe(hass, chunks(speech_pcm()))
    assert result.result is stt.SpeechResultState.ERROR
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(f"request id: {ECHOED_ID}" in line for line in errors), errors
    await server.wait_for_sessions_closed()
    await hass.async_block_till_done()
    assert await async_setup_component(hass, "diagnostics", {})
    diagnostics: dict[str, Any] = await get_diagnostics_for_config_entry(
        hass, hass_client, setup_integration
    )
    assert API_KEY not in str(diagnostics)
    (session,) = diagnostics["sessions"]
    assert session["request_id"] == ECHOED_ID
