"""Faults through Home Assistant: stopping mid-run, stalled audio, requests
that cannot be sent, a Deepgram that stops reading, and what setup says."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import logging
import time

from homeassistant.components import stt
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.deepgram import audio_bounds, flux_transcriber, transcriber
from custom_components.deepgram.const import (
    CONF_END_OF_SPEECH,
    DOMAIN,
    RECOMMENDED_STT_OPTIONS,
)
from custom_components.deepgram.end_of_speech import EndOfSpeech
from tests.deepgram_server import FakeDeepgram, Faults, Latency, script_from_text
from tests.deepgram_server.testing import (
    BYTES_PER_SECOND,
    cancel_and_time,
    client_sockets_to,
    deepgram_tasks,
    silence,
    unreachable_url,
    wait_for,
    wav_file,
)

from .conftest import API_KEY
from .pipeline_helpers import (
    ENTITY_ID,
    METADATA,
    chunks,
    speech_pcm,
    start_held_run,
    transcribe,
)
from .test_flux_pipeline import FLUX_ENTITY, add_flux_entry

SCRIPT = script_from_text(
    "turn on the kitchen light", start=0.2, end=1.4, words_per_segment=3
)
ERROR = stt.SpeechResult(None, stt.SpeechResultState.ERROR)


async def paced(pcm_bytes: bytes) -> AsyncIterator[bytes]:
    """10 ms chunks at (about) real time, as a satellite sends them."""
    for start in range(0, len(pcm_bytes), 320):
        yield pcm_bytes[start : start + 320]
        await asyncio.sleep(0.01)


# -- Home Assistant stopping ---------------------------------------------------


async def test_stopping_mid_run_ends_the_session_with_close_stream(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A real stop: CloseStream and a clean close before the HTTP session goes."""
    server.script = SCRIPT
    # The satellite is mid-sentence.
    run, hold = await start_held_run(hass, server, after=24000)
    session = server.sessions[0]
    await wait_for(lambda: session.audio_bytes >= 16000)
    started = time.monotonic()
    await hass.async_stop()
    assert time.monotonic() - started < 3
    # Deepgram saw the end of the request, not a dropped socket (1006).
    assert session.got_close_stream
    await server.wait_for_sessions_closed(timeout=1)
    assert session.closed_by == "server"
    assert session.close_code == 1000
    hold.set()
    assert await run == ERROR
    # The failed run's close (of a session already ended) runs briefly.
    await wait_for(lambda: not deepgram_tasks(), timeout=1)
    assert client_sockets_to(server.port) == 0
    assert "was still running after final writes" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_stopping_while_a_session_closes_in_the_background(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """Home Assistant cancels background tasks when stopping: CloseStream anyway."""
    server.script = SCRIPT
    server.latency = Latency(rtt=0.6)  # the background close takes a while
    result = await transcribe(hass, chunks(silence(1.5)))
    assert result.text == "turn on the kitchen light"
    assert setup_integration.runtime_data.closing
    await hass.async_stop()
    await server.wait_for_sessions_closed(timeout=2)
    session = server.sessions[0]
    assert session.got_close_stream
    assert session.close_code == 1000
    assert client_sockets_to(server.port) == 0
    assert not deepgram_tasks()


# -- an audio source that stalls or never ends --------------------------------


async def test_stalled_audio_ends_the_run_with_what_was_heard(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No audio for AUDIO_IDLE_TIMEOUT: Finalize, the words so far, CloseStream."""
    monkeypatch.setattr(audio_bounds, "AUDIO_IDLE_TIMEOUT", 0.3)
    server.script = SCRIPT
    hold = asyncio.Event()  # never set: the satellite stalls
    started = time.monotonic()
    result = await transcribe(hass, chunks(silence(2.0), hold=hold, after=48000))
    assert time.monotonic() - started < 3
    assert result == stt.SpeechResult(
        "turn on the kitchen light", stt.SpeechResultState.SUCCESS
    )
    assert "No audio for 0 s; transcribing what was heard" in [
        record.getMessage() for record in caplog.records
    ]
    await server.wait_for_sessions_closed()
    assert server.sessions[0].control_messages()[-2:] == ["Finalize", "CloseStream"]
    assert server.sessions[0].close_code == 1000


@pytest.mark.parametrize(
    "speed",
    [
        pytest.param(0.5, id="slower than real time: the time bound ends it"),
        pytest.param(1.25, id="a little faster: the audio bound ends it, quietly"),
    ],
)
async def test_endless_audio_ends_at_the_run_bound(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    speed: float,
) -> None:
    """A source that never ends: the run ends at MAX_RUN_SECONDS, in time or
    in audio, with what was heard and CloseStream; never more audio than that.

    At 1.25 times real time the 1 s of audio comes 0.2 s ahead of the clock,
    within AUDIO_LEAD_SECONDS: a live source, not a recording.
    """
    monkeypatch.setattr(audio_bounds, "MAX_RUN_SECONDS", 1.0)
    monkeypatch.setattr(audio_bounds, "AUDIO_LEAD_SECONDS", 0.5)
    server.script = SCRIPT

    async def endless() -> AsyncIterator[bytes]:
        while True:  # sleeping at least 10 ms: at most `speed` times real time
            yield silence(0.01 * speed)
            await asyncio.sleep(0.01)

    started = time.monotonic()
    result = await transcribe(hass, endless())
    assert time.monotonic() - started < 4
    assert result.result is stt.SpeechResultState.SUCCESS
    assert "The audio did not end within 1 s; transcribing what was heard" in [
        record.getMessage() for record in caplog.records
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await server.wait_for_sessions_closed()
    assert server.sessions[0].got_close_stream
    assert 0 < server.sessions[0].audio_bytes <= BYTES_PER_SECOND  # the bound
    assert setup_integration.runtime_data.history[-1].outcome == "success"
    assert not setup_integration.runtime_data.live  # the run let go of it


@pytest.mark.parametrize(
    "stt_profile",
    [{**RECOMMENDED_STT_OPTIONS, CONF_END_OF_SPEECH: EndOfSpeech.HOME_ASSISTANT}],
)
async def test_a_satellite_pre_roll_ends_quietly_at_the_run_bound(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A satellite forwards at once the 1.5 s it buffered before the wake word
    (the command in it), then streams a little faster than real time and
    never ends (Home Assistant's voice activity detector never hears the
    end): the run ends quietly with the words, as at the time bound, and
    Deepgram gets no more than MAX_RUN_SECONDS of audio.

    The audio reaches the 3 s bound about 1.5 s ahead of the clock, within
    AUDIO_LEAD_SECONDS (2 s here): a live source, not a recording.
    """
    monkeypatch.setattr(audio_bounds, "MAX_RUN_SECONDS", 3.0)
    monkeypatch.setattr(audio_bounds, "AUDIO_LEAD_SECONDS", 2.0)
    server.script = SCRIPT  # the words lie within the pre-roll

    async def satellite() -> AsyncIterator[bytes]:
        yield silence(1.5)  # the pre-roll, in one burst
        while True:  # then at most 1.05 times real time
            await asyncio.sleep(0.02)
            yield silence(0.021)

    started = time.monotonic()
    result = await transcribe(hass, satellite())
    assert time.monotonic() - started < 6
    assert result == stt.SpeechResult(
        "turn on the kitchen light", stt.SpeechResultState.SUCCESS
    )
    assert "The audio did not end within 3 s; transcribing what was heard" in [
        record.getMessage() for record in caplog.records
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await server.wait_for_sessions_closed()
    (session,) = server.sessions
    assert 0 < session.audio_bytes <= 3 * BYTES_PER_SECOND  # the bound, not more
    assert session.control_messages()[-2:] == ["Finalize", "CloseStream"]
    record = setup_integration.runtime_data.history[-1]
    assert (record.outcome, record.error) == ("success", None)


async def test_audio_faster_than_real_time_is_cut_at_the_run_bound(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    hass_client: ClientSessionGenerator,
) -> None:
    """A 5 s file posted to /api/stt with a 2 s bound: Deepgram gets 2 s of
    it, the run ends in an error that says why.

    The 2 s come at once, further ahead of the clock than AUDIO_LEAD_SECONDS
    (0.5 s here): a recording, not a live source.
    """
    monkeypatch.setattr(audio_bounds, "MAX_RUN_SECONDS", 2.0)
    monkeypatch.setattr(audio_bounds, "AUDIO_LEAD_SECONDS", 0.5)
    server.script = SCRIPT
    client = await hass_client()
    response = await client.post(
        f"/api/stt/{ENTITY_ID}",
        headers={
            "X-Speech-Content": "format=wav; codec=pcm; sample_rate=16000; "
            "bit_rate=16; channel=1; language=en-US"
        },
        data=wav_file(silence(5.0)),
    )
    assert response.status == 200
    assert await response.json() == {"text": None, "result": "error"}
    assert (
        "The audio is longer than 2 s, the most one run sends to Deepgram: the "
        "run ended with an error after sending the first 2 s. Transcribe longer "
        "recordings with the deepgram.transcribe action"
    ) in [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    await server.wait_for_sessions_closed()
    (session,) = server.sessions
    assert session.audio_bytes == 2 * BYTES_PER_SECOND  # the bound, not more
    assert session.got_close_stream
    record = setup_integration.runtime_data.history[-1]
    assert (record.outcome, record.error) == ("error", "audio_too_long")
    await wait_for(lambda: not deepgram_tasks(), timeout=1)
    assert client_sockets_to(server.port) == 0


async def test_a_flux_run_is_cut_at_the_run_bound_too(
    hass: HomeAssistant,
    server: FakeDeepgram,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The same bound on /v2/listen: 5 s pushed at once, 2 s sent, an error."""
    monkeypatch.setattr(audio_bounds, "MAX_RUN_SECONDS", 2.0)
    monkeypatch.setattr(audio_bounds, "AUDIO_LEAD_SECONDS", 0.5)
    entry = await add_flux_entry(hass, server)

    async def pushed() -> AsyncIterator[bytes]:
        audio = silence(5.0)
        for start in range(0, len(audio), 3200):
            yield audio[start : start + 3200]

    result = await transcribe(hass, pushed(), entity_id=FLUX_ENTITY)
    assert result == ERROR
    assert "The audio is longer than 2 s" in caplog.text
    await server.wait_for_sessions_closed()
    (session,) = server.sessions
    assert 0 < session.audio_bytes <= 2 * BYTES_PER_SECOND
    assert entry.runtime_data.history[-1].error == "audio_too_long"


@pytest.mark.parametrize(
    "stt_profile",
    [{**RECOMMENDED_STT_OPTIONS, CONF_END_OF_SPEECH: mode} for mode in EndOfSpeech],
)
async def test_a_failure_while_the_audio_stalls_ends_the_run_at_once(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The satellite stalls, then Deepgram closes 1011: the run ends with the
    error at once, not when the idle bound finds the audio gone."""
    monkeypatch.setattr(audio_bounds, "AUDIO_IDLE_TIMEOUT", 5.0)  # far below 15
    server.script = SCRIPT
    server.idle_timeout = 0.3  # 1011 NET-0001 once the audio stops
    run, hold = await start_held_run(hass, server, after=16000)
    async with asyncio.timeout(10):
        result = await run
    assert result == ERROR
    assert not hold.is_set()  # the audio was still stalled
    assert "No audio for" not in caplog.text  # the idle bound never fired
    session = server.sessions[0]
    assert (session.close_code, session.close_reason) == (1011, "NET-0001")
    record = setup_integration.runtime_data.history[-1]
    assert (record.outcome, record.error) == ("error", "DeepgramServerError")
    assert "Finalize" not in session.control_messages()
    await wait_for(lambda: not deepgram_tasks(), timeout=1)
    assert client_sockets_to(server.port) == 0


async def test_a_flux_failure_while_the_audio_stalls_ends_the_run_at_once(
    hass: HomeAssistant,
    server: FakeDeepgram,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The same on /v2/listen: the 1011 close ends the run before the stall
    bound would end the turn."""
    monkeypatch.setattr(flux_transcriber, "STALL_TIMEOUT", 5.0)
    server.idle_timeout = 0.3
    entry = await add_flux_entry(hass, server)
    hold = asyncio.Event()
    async with asyncio.timeout(10):
        result = await transcribe(
            hass, chunks(silence(1.5), hold=hold, after=16000), entity_id=FLUX_ENTITY
        )
    assert result == ERROR
    assert server.sessions[0].close_code == 1011
    assert "ForceEndTurn" not in server.sessions[0].control_messages()
    assert entry.runtime_data.history[-1].error == "DeepgramServerError"


async def test_a_flux_satellite_ahead_of_real_time_ends_quietly_too(
    hass: HomeAssistant,
    server: FakeDeepgram,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """/v2/listen shares the bound: a 0.5 s pre-roll, then about real time
    forever, ends quietly at the 2 s of audio it may send, no error."""
    monkeypatch.setattr(audio_bounds, "MAX_RUN_SECONDS", 2.0)
    monkeypatch.setattr(audio_bounds, "AUDIO_LEAD_SECONDS", 1.0)
    entry = await add_flux_entry(hass, server)

    async def satellite() -> AsyncIterator[bytes]:
        yield silence(0.5)
        while True:
            await asyncio.sleep(0.02)
            yield silence(0.021)

    result = await transcribe(hass, satellite(), entity_id=FLUX_ENTITY)
    assert result.result is stt.SpeechResultState.SUCCESS
    assert "The audio did not end within 2 s; transcribing what was heard" in [
        record.getMessage() for record in caplog.records
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await server.wait_for_sessions_closed()
    (session,) = server.sessions
    assert 0 < session.audio_bytes <= 2 * BYTES_PER_SECOND
    assert entry.runtime_data.history[-1].outcome == "success"


async def test_an_audio_source_raising_timeout_is_its_own_error(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """The source's own TimeoutError is not taken for the idle bound."""

    async def failing() -> AsyncIterator[bytes]:
        yield silence(0.1)
        raise TimeoutError("the satellite timed out")

    assert await transcribe(hass, failing()) == ERROR
    await server.wait_for_sessions(1)
    await server.wait_for_sessions_closed()
    assert server.sessions[0].got_close_stream


# -- Deepgram stops reading ----------------------------------------------------


async def test_audio_deepgram_never_read_is_an_error(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Audio paced in real time to a server that stopped reading: no success."""
    server.script = SCRIPT
    server.faults = Faults(stop_reading_after_audio_seconds=0.1)
    started = time.monotonic()
    result = await transcribe(hass, paced(silence(1.0)))
    assert result == ERROR
    # The audio (about 1 s at real time) plus the Finalize bound (1.5 s).
    assert time.monotonic() - started < 5
    assert "Deepgram did not take the audio" in caplog.text
    record = setup_integration.runtime_data.history[-1]
    assert record.outcome == "error"
    await setup_integration.runtime_data.closing.pop()
    assert client_sockets_to(server.port) == 0


# -- requests that cannot be sent ----------------------------------------------


async def test_a_stored_key_that_cannot_be_sent_asks_for_a_new_one(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """A key with a line break: reauthentication, not endless retries."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_API_KEY: API_KEY + "\n", CONF_URL: server.base_url},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))
    assert "line break" in (entry.reason or "")
    assert server.rest_requests == []


async def test_url_credentials_with_a_key_are_not_retried(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """aiohttp cannot send them: a setup error saying so, no retry loop."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            CONF_API_KEY: API_KEY,
            CONF_URL: f"http://user:pw@127.0.0.1:{server.port}",
        },
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert "user name or password" in (entry.reason or "")
    assert not list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))


# -- what setup says -----------------------------------------------------------


async def test_setup_says_it_once_in_words(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """'Cannot reach Deepgram: 127.0.0.1 refused the connection', no class name."""
    entry = MockConfigEntry(
        domain=DOMAIN, data={CONF_API_KEY: API_KEY, CONF_URL: unreachable_url()}
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason == "Cannot reach Deepgram: 127.0.0.1 refused the connection"


async def test_a_refused_key_is_said_once(
    hass: HomeAssistant, config_entry: MockConfigEntry, server: FakeDeepgram
) -> None:
    """The reauth reason names the status and Deepgram's reason, once."""
    server.api_key = "another-key"
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    reason = config_entry.reason or ""
    assert reason.startswith("Deepgram rejected the API key: HTTP 401; reason: ")
    assert reason.count("rejected the API key") == 1


# -- the rest of the matrix -------------------------------------------------------


async def test_cancelled_while_waiting_for_the_flush(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """Cancelled during Finalize's wait: CloseStream, closed, within the bound."""
    server.script = SCRIPT
    server.faults = Faults(stall_after_finalize=True)
    run = asyncio.create_task(transcribe(hass, chunks(silence(1.5))))
    await server.wait_for_sessions(1)
    session = server.sessions[0]
    await wait_for(lambda: session.got_finalize)
    assert await cancel_and_time(run) < 2
    assert session.got_close_stream
    await server.wait_for_sessions_closed(timeout=1)
    assert session.close_code == 1000
    assert setup_integration.runtime_data.history[-1].outcome == "cancelled"
    assert client_sockets_to(server.port) == 0
    assert not deepgram_tasks()


async def test_entry_removed_mid_run(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """The entry is deleted while someone speaks: the run ends, CloseStream."""
    server.script = SCRIPT
    run, hold = await start_held_run(hass, server)
    await hass.config_entries.async_remove(setup_integration.entry_id)
    hold.set()
    result = await run
    assert result.text == "turn on the kitchen light"
    await server.wait_for_sessions_closed()
    assert server.sessions[0].got_close_stream
    await hass.async_block_till_done()
    assert client_sockets_to(server.port) == 0
    assert not deepgram_tasks()


async def test_two_runs_on_one_entity_at_once(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """Two satellites on one entity: two sessions, two results, two ends."""
    server.script = SCRIPT
    results = await asyncio.gather(
        transcribe(hass, paced(silence(1.5))), transcribe(hass, paced(silence(1.5)))
    )
    assert [r.text for r in results] == ["turn on the kitchen light"] * 2
    await server.wait_for_sessions_closed()
    assert len(server.sessions) == 2
    assert all(s.got_close_stream and s.close_code == 1000 for s in server.sessions)
    await hass.async_block_till_done()
    assert client_sockets_to(server.port) == 0
    assert not deepgram_tasks()


async def test_a_matcher_still_asking_when_the_run_ends_is_cancelled(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """The stream ends while the matcher thinks: the run returns, the call ends."""
    server.script = SCRIPT
    asked = asyncio.Event()
    cancelled = asyncio.Event()

    async def thinking(text: str) -> bool:
        if not text:
            return False  # the warm-up
        asked.set()
        try:
            await asyncio.sleep(0.8)  # under the matcher's own 1 s bound
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return False

    (subentry,) = setup_integration.subentries.values()
    run = transcriber.Transcriber(
        hass,
        setup_integration,
        ENTITY_ID,
        EndOfSpeech.DEEPGRAM,
        thinking,
    )
    options = transcriber.live_options(subentry.data, "en", METADATA)
    result = await asyncio.wait_for(
        run.async_transcribe(options, chunks(speech_pcm())), 5
    )
    assert result.result is stt.SpeechResultState.SUCCESS
    assert asked.is_set()
    assert cancelled.is_set()


@pytest.mark.parametrize(
    "stt_profile",
    [{**RECOMMENDED_STT_OPTIONS, CONF_END_OF_SPEECH: EndOfSpeech.HOME_ASSISTANT}],
)
async def test_audio_ending_exactly_at_the_run_bound_ends_the_run_at_once(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A live source whose audio fills the run's room exactly, then stalls:
    the run ends then, saying it reached the run bound, instead of waiting
    for a next chunk (here the 30 s bound's time, or the idle bound)."""
    monkeypatch.setattr(audio_bounds, "MAX_RUN_SECONDS", 30.0)
    monkeypatch.setattr(audio_bounds, "AUDIO_LEAD_SECONDS", 30.0)  # a live source
    monkeypatch.setattr(audio_bounds, "AUDIO_IDLE_TIMEOUT", 60.0)
    server.script = SCRIPT

    async def bound_then_stalled() -> AsyncIterator[bytes]:
        yield silence(30.0)  # exactly the room
        await asyncio.Event().wait()
        yield b""  # pragma: no cover

    async with asyncio.timeout(10):  # well under the 30 s bound
        result = await transcribe(hass, bound_then_stalled())
    assert result.result is stt.SpeechResultState.SUCCESS
    messages = [record.getMessage() for record in caplog.records]
    assert "The audio did not end within 30 s; transcribing what was heard" in messages
    assert not [m for m in messages if m.startswith("No audio")]
    await server.wait_for_sessions_closed()
    assert server.sessions[0].audio_bytes == 30 * BYTES_PER_SECOND
    assert server.sessions[0].got_close_stream


@pytest.mark.parametrize(
    "stt_profile",
    [{**RECOMMENDED_STT_OPTIONS, CONF_END_OF_SPEECH: EndOfSpeech.HOME_ASSISTANT}],
)
async def test_a_recording_filling_the_run_bound_exactly_fails_at_once(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """30 s of audio at once (far ahead of the clock: a recording) filling
    the room exactly, then a stall: the run fails as too long at once,
    instead of waiting for a next chunk until the run's time bound."""
    monkeypatch.setattr(audio_bounds, "MAX_RUN_SECONDS", 30.0)
    monkeypatch.setattr(audio_bounds, "AUDIO_IDLE_TIMEOUT", 60.0)
    server.script = SCRIPT

    async def bound_then_stalled() -> AsyncIterator[bytes]:
        yield silence(30.0)
        await asyncio.Event().wait()
        yield b""  # pragma: no cover

    async with asyncio.timeout(10):  # well under the 30 s bound
        result = await transcribe(hass, bound_then_stalled())
    assert result.result is stt.SpeechResultState.ERROR
    record = setup_integration.runtime_data.history[-1]
    assert (record.outcome, record.error) == ("error", "audio_too_long")
