"""A flooding Deepgram through Home Assistant: the run ends with one clear error.

Past a bound on what a session keeps or takes, the pipeline's speech-to-text
stage fails (an error result), the log has one line saying which bound, the
request is ended with `CloseStream` and nothing is left running. Malformed
messages make one warning and one summary, and the run goes on.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from homeassistant.components import stt
from homeassistant.components.assist_pipeline import PipelineEvent, PipelineEventType
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram import socket_runs
from custom_components.deepgram.api import FluxSession, LiveSession
from custom_components.deepgram.const import (
    CONF_END_OF_SPEECH,
    RECOMMENDED_FLUX_OPTIONS,
    RECOMMENDED_STT_OPTIONS,
    SUBENTRY_FLUX,
)
from custom_components.deepgram.end_of_speech import EndOfSpeech
from tests.conftest import entry_with_profiles, set_up_entry
from tests.deepgram_server import FakeDeepgram, Faults, Segment, Word
from tests.deepgram_server.testing import (
    client_sockets_to,
    deepgram_tasks,
    silence,
    wait_for,
)

from .pipeline_helpers import (
    chunks,
    setup_pipeline,
    start_held_pipeline,
    start_held_run,
    transcribe,
)

SCRIPT = [
    Segment((Word("Turn", 0.55, 0.8), Word("on", 0.8, 0.95), Word("the", 0.95, 1.1))),
    Segment((Word("kitchen", 1.2, 1.7), Word("light.", 1.7, 2.2))),
]
ERROR = stt.SpeechResult(None, stt.SpeechResultState.ERROR)


@pytest.fixture(params=list(EndOfSpeech))
def stt_profile(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Whoever ends the speech, a flood ends the run the same way."""
    return {**RECOMMENDED_STT_OPTIONS, CONF_END_OF_SPEECH: request.param}


def logged(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    """What the integration logged at `level` or above."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= level and r.name.startswith("custom_components")
    ]


async def assert_all_ended(entry: MockConfigEntry, server: FakeDeepgram) -> None:
    """The request ended with CloseStream; no task, no socket, no session left."""
    closing = entry.runtime_data.closing
    if closing:
        await asyncio.wait(closing, timeout=5)
    await server.wait_for_sessions_closed(timeout=5)
    assert server.sessions[0].got_close_stream
    assert not entry.runtime_data.live
    await wait_for(lambda: not deepgram_tasks(), timeout=2)
    await wait_for(lambda: client_sockets_to(server.port) == 0, timeout=2)


async def test_a_flood_of_finals_fails_the_pipeline_run(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """6 000 empty finals mid-command: the session fails at MAX_FINALS, the
    stage ends in stt-stream-failed with one error line naming the bound."""
    server.script = SCRIPT
    server.faults = Faults(flood_empty_finals=6_000)
    pipeline_id = await setup_pipeline(hass)
    events: list[PipelineEvent] = []
    run, hold, record = await start_held_pipeline(
        hass, server, pipeline_id, 16000, events
    )
    # The satellite is silent while the flood arrives; then it goes on.
    await wait_for(lambda: bool(setup_integration.runtime_data.live))
    (session,) = setup_integration.runtime_data.live
    assert isinstance(session, LiveSession)
    await wait_for(lambda: session.error is not None, timeout=30)
    hold.set()
    await asyncio.wait_for(run, 10)
    errors = [e for e in events if e.type is PipelineEventType.ERROR]
    assert [e.data["code"] for e in errors if e.data] == ["stt-stream-failed"]
    assert logged(caplog, logging.ERROR) == [
        "Deepgram speech-to-text failed: Deepgram sent more final results than "
        f"this client keeps (5,000); request id: {record.request_id}"
    ]
    assert logged(caplog, logging.WARNING) == logged(caplog, logging.ERROR)
    history = setup_integration.runtime_data.history[-1]
    assert (history.outcome, history.error) == ("error", "DeepgramProtocolError")
    assert not session.transcript.finals  # what it kept was let go
    await assert_all_ended(setup_integration, server)


@pytest.mark.parametrize("stt_profile", [RECOMMENDED_STT_OPTIONS])
async def test_binary_frames_past_the_bound_fail_the_run(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """20 binary frames of 256 KiB against a bound lowered to 1 MiB: they
    count, so the run fails with one error line naming the bound."""
    monkeypatch.setattr(LiveSession, "max_received_bytes", 1024 * 1024)
    server.script = SCRIPT
    server.faults = Faults(flood_binary=20)
    result = await transcribe(hass, chunks(silence(2.5)))
    assert result == ERROR
    assert logged(caplog, logging.WARNING) == [
        "Deepgram speech-to-text failed: Deepgram sent more than this client takes "
        "in one session (1,048,576 bytes); request id: "
        f"{server.sessions[0].request_id}"
    ]
    await assert_all_ended(setup_integration, server)


@pytest.mark.parametrize("stt_profile", [RECOMMENDED_STT_OPTIONS])
async def test_binary_frames_below_the_bound_change_nothing(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A few binary frames (Deepgram sends none on /v1/listen): the command is
    transcribed; one debug line for the first, one summary for the rest."""
    caplog.set_level(logging.DEBUG, logger="custom_components.deepgram")
    server.script = SCRIPT
    server.faults = Faults(flood_binary=3)
    result = await transcribe(hass, chunks(silence(2.5)))
    assert result == stt.SpeechResult(
        "Turn on the kitchen light.", stt.SpeechResultState.SUCCESS
    )
    await assert_all_ended(setup_integration, server)
    assert server.sessions[0].sent_binary == 3
    assert [m for m in logged(caplog, logging.DEBUG) if "binary" in m] == [
        "Ignoring a binary frame from Deepgram (262144 bytes)",
        "Ignored 2 more binary frames from Deepgram "
        f"(request {server.sessions[0].request_id})",
    ]
    assert logged(caplog, logging.WARNING) == []


@pytest.mark.parametrize("stt_profile", [RECOMMENDED_STT_OPTIONS])
async def test_malformed_messages_make_one_warning_and_one_summary(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """2 000 malformed frames: the command is still transcribed; the log has
    the first one and, once the request is closed, how many more there were."""
    server.script = SCRIPT
    server.faults = Faults(flood_malformed=2_000)
    result = await transcribe(hass, chunks(silence(2.5)))
    assert result == stt.SpeechResult(
        "Turn on the kitchen light.", stt.SpeechResultState.SUCCESS
    )
    await assert_all_ended(setup_integration, server)
    first, summary = logged(caplog, logging.WARNING)
    assert first.startswith("Ignoring a malformed message from Deepgram (Not JSON: ")
    assert first.endswith("): '{not json 0'")
    assert summary == (
        "Ignored 1999 more malformed messages from Deepgram "
        f"(request {server.sessions[0].request_id})"
    )


async def test_flux_text_past_the_bound_fails_the_run(
    hass: HomeAssistant,
    server: FakeDeepgram,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A Flux run taking more than max_received_bytes (lowered): an error
    result and one error line naming the bound."""
    monkeypatch.setattr(FluxSession, "max_received_bytes", 1_000)
    server.script = SCRIPT
    entry = await set_up_entry(
        hass,
        entry_with_profiles(
            server,
            {"Deepgram Flux": dict(RECOMMENDED_FLUX_OPTIONS)},
            subentry_type=SUBENTRY_FLUX,
        ),
    )
    result = await transcribe(hass, chunks(silence(2.5)), entity_id="stt.deepgram_flux")
    assert result == ERROR
    (line,) = logged(caplog, logging.WARNING)
    assert line == (
        "Deepgram speech-to-text failed: Deepgram sent more than this client takes "
        "in one session (1,000 bytes); request id: "
        f"{server.sessions[0].request_id}"
    )
    await assert_all_ended(entry, server)


@pytest.mark.parametrize("stt_profile", [RECOMMENDED_STT_OPTIONS])
async def test_a_flooding_session_is_cut_after_close_stream(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A session failed by a flood is aborted (CloseStream, then closed
    within ABORT_TIMEOUT), not left reading the flood for CLOSE_TIMEOUT
    while waiting for a close frame such a server never sends."""
    monkeypatch.setattr(socket_runs, "CLOSE_TIMEOUT", 60.0)
    server.script = SCRIPT
    # A server that floods and never answers CloseStream with a close frame.
    server.faults = Faults(flood_empty_finals=6_000, never_close=True)
    run, hold = await start_held_run(hass, server)
    await wait_for(lambda: bool(setup_integration.runtime_data.live))
    (session,) = setup_integration.runtime_data.live
    assert isinstance(session, LiveSession)
    await wait_for(lambda: session.error is not None, timeout=30)
    hold.set()
    assert await asyncio.wait_for(run, 10) == ERROR
    closing = setup_integration.runtime_data.closing
    if closing:
        await asyncio.wait(closing, timeout=10)  # far under the 60 s
    assert not closing
    assert server.sessions[0].got_close_stream
