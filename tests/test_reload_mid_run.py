"""A reload mid-run, then Home Assistant stops (issue 18 item 12).

A reload (a profile edited while someone speaks) leaves the command running;
when Home Assistant then stops, the session of that run must still be ended
with `CloseStream`, not dropped with the HTTP session.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import weakref

from homeassistant.components.assist_pipeline import PipelineEvent, PipelineEventType
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram import DATA_UNLOADED, stt as stt_module
from tests.deepgram_server import FakeDeepgram, script_from_text
from tests.deepgram_server.testing import client_sockets_to, wait_for

from .pipeline_helpers import (
    chunks,
    setup_pipeline,
    speech_pcm,
    start_held_pipeline,
    transcribe,
)

SCRIPT = script_from_text(
    "turn on the kitchen light", start=0.5, end=2.3, words_per_segment=3
)


async def reload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


# The pipeline's chat session keeps its cleanup timer past Home Assistant's stop.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_stop_after_a_reload_mid_run_sends_close_stream(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The run survives the reload; stopping ends its session with CloseStream."""
    server.script = SCRIPT
    pipeline_id = await setup_pipeline(hass)
    events: list[PipelineEvent] = []
    task, hold, session = await start_held_pipeline(
        hass, server, pipeline_id, 24000, events
    )
    await wait_for(lambda: session.audio_bytes >= 16000)
    old_load = setup_integration.runtime_data
    await reload(hass, setup_integration)
    assert not task.done()  # a reload does not kill the command
    assert old_load in hass.data[DATA_UNLOADED]  # kept for the stop

    started = time.monotonic()
    await hass.async_stop()
    assert time.monotonic() - started < 5  # bounded
    assert session.got_close_stream
    assert not hass.data[DATA_UNLOADED]  # let go of once stopped
    await server.wait_for_sessions_closed(timeout=2)
    assert session.close_code == 1000
    hold.set()
    async with asyncio.timeout(5):
        await task
    assert any(e.type is PipelineEventType.ERROR for e in events)
    assert client_sockets_to(server.port) == 0
    assert not [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith("custom_components")
    ]


async def test_a_run_through_a_reload_still_returns_its_words(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """A reload while the user speaks: the command is still understood."""
    server.script = SCRIPT
    pipeline_id = await setup_pipeline(hass)
    events: list[PipelineEvent] = []
    task, hold, session = await start_held_pipeline(
        hass, server, pipeline_id, 24000, events
    )
    await wait_for(lambda: session.audio_bytes >= 16000)
    await reload(hass, setup_integration)
    hold.set()
    async with asyncio.timeout(10):
        await task
    stt_end = next(e for e in events if e.type is PipelineEventType.STT_END)
    assert stt_end.data is not None
    assert stt_end.data["stt_output"]["text"] == "turn on the kitchen light"
    await server.wait_for_sessions_closed()
    assert session.got_close_stream


async def test_the_old_load_is_let_go_of_when_its_run_ends(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """Once the run and its background close are over, its load is not held.

    Without a further reload or unload: the data of the load (its HTTP
    session, history and key terms) is dropped as soon as it is idle.
    """
    server.script = SCRIPT
    pipeline_id = await setup_pipeline(hass)
    events: list[PipelineEvent] = []
    task, hold, session = await start_held_pipeline(
        hass, server, pipeline_id, 24000, events
    )
    await wait_for(lambda: session.audio_bytes >= 16000)
    old_load = weakref.ref(setup_integration.runtime_data)
    await reload(hass, setup_integration)
    assert old_load() in hass.data[DATA_UNLOADED]  # the run goes on
    hold.set()
    async with asyncio.timeout(10):
        await task
    await server.wait_for_sessions_closed()
    await wait_for(lambda: not hass.data[DATA_UNLOADED])
    await hass.async_block_till_done()
    gc.collect()
    assert old_load() is None  # nothing else holds it either


# The pipeline's chat session keeps its cleanup timer past Home Assistant's stop.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_a_stubborn_matcher_neither_hides_nor_holds_the_session(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run ends while a sentence matcher call ignores its cancellation.

    Its session is closing (with CloseStream) while the detector's cleanup
    waits for that call, and that wait is bounded: a reload then Home
    Assistant stopping in that window neither drop the socket unannounced
    nor leave the run hanging.
    """
    server.script = SCRIPT
    cancelled = asyncio.Event()
    release = asyncio.Event()

    async def stubborn(text: str) -> bool:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                cancelled.set()  # ignored: it goes on waiting
        return False

    monkeypatch.setattr(stt_module, "sentence_matcher", lambda *_: stubborn)
    run = asyncio.create_task(transcribe(hass, chunks(speech_pcm())))
    try:
        # The stream ended, the run has its words: the detector's cleanup
        # cancelled the matcher call, which goes on.
        async with asyncio.timeout(10):
            await cancelled.wait()
        (session,) = server.sessions
        await reload(hass, setup_integration)
        await hass.async_stop()
        async with asyncio.timeout(5):  # ABORT_TIMEOUT, generously
            result = await run
        assert result.text == "turn on the kitchen light"
        assert session.got_close_stream
        assert session.close_code == 1000
    finally:
        release.set()
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)
