"""Flux profiles end to end: the real assist pipeline, its detector, /v2/listen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import time
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
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.deepgram.const import (
    CONF_EAGER_EOT_THRESHOLD,
    CONF_EOT_THRESHOLD,
    CONF_EOT_TIMEOUT_MS,
    CONF_KEYTERMS,
    CONF_LANGUAGE_HINTS,
    CONF_MODEL,
    DOMAIN,
    EVENT_TRANSCRIPT,
    RECOMMENDED_FLUX_OPTIONS,
    SUBENTRY_FLUX,
)
from tests.conftest import API_KEY, entry_with_profiles, set_up_entry
from tests.deepgram_server import FakeDeepgram, Faults, Latency, Segment, Word
from tests.deepgram_server.testing import cancel_and_time, client_sockets_to, wait_for
from tests.deepgram_server.turn_rules import check_turn_rules

from .pipeline_helpers import (
    METADATA,
    chunks,
    run_pipeline,
    setup_pipeline,
    speech_pcm,
    start_held_pipeline,
    stt_entity,
)

FLUX_ENTITY = "stt.deepgram_flux"
SENTENCE = "Turn on the kitchen light."
# The fixture's words as one thought (one segment): a short pause after
# "the" is inside the sentence, the turn ends 0.26 s after "light." (2.46 s).
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
# The same command said with a long pause in the middle: "Turn on the" ...
PAUSED = [
    Segment(
        (
            Word("Turn", 0.55, 0.8),
            Word("on", 0.8, 0.95),
            Word("the", 0.95, 1.1),
            Word("kitchen", 1.8, 2.0),
            Word("light.", 2.0, 2.2),
        )
    )
]


async def add_flux_entry(
    hass: HomeAssistant, server: FakeDeepgram, **profile: Any
) -> MockConfigEntry:
    """An entry with one Flux profile, set up."""
    entry = entry_with_profiles(
        server,
        {"Deepgram Flux": {**RECOMMENDED_FLUX_OPTIONS, **profile}},
        subentry_type=SUBENTRY_FLUX,
    )
    return await set_up_entry(hass, entry)


def stt_text(events: list[PipelineEvent]) -> str:
    """The text of the pipeline's stt-end event."""
    stt_end = next(e for e in events if e.type is PipelineEventType.STT_END)
    assert stt_end.data is not None
    text: str = stt_end.data["stt_output"]["text"]
    return text


def light_on(hass: HomeAssistant) -> bool:
    state = hass.states.get("light.kitchen_light")
    assert state is not None
    return state.state == "on"


async def test_end_of_turn_ends_the_stage_before_the_detector(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Flux's EndOfTurn returns the sentence while the satellite still streams."""
    server.script = SCRIPT
    entry = await add_flux_entry(hass, server)
    pipeline_id = await setup_pipeline(hass, stt_engine=FLUX_ENTITY)
    transcripts = async_capture_events(hass, EVENT_TRANSCRIPT)
    events: list[PipelineEvent] = []
    hold = asyncio.Event()  # the satellite goes on "streaming" 2.6 s in
    await run_pipeline(
        hass, pipeline_id, chunks(speech_pcm(), hold=hold, after=83200), events
    )
    types = [e.type for e in events]
    assert stt_text(events) == SENTENCE
    assert PipelineEventType.STT_VAD_END not in types  # the detector never ended it
    assert PipelineEventType.ERROR not in types
    assert light_on(hass)
    await server.wait_for_sessions_closed()
    (session,) = server.sessions
    assert session.path == "/v2/listen"
    assert session.control_messages() == ["CloseStream"]  # no ForceEndTurn needed
    assert (session.closed_by, session.close_code) == ("server", 1000)
    sizes = session.binary_frame_sizes()
    assert set(sizes[:-1]) == {2560}  # 80 ms frames; the rest at CloseStream
    assert sizes[-1] <= 2560
    assert session.query["model"] == "flux-general-en"
    assert session.query["eot_threshold"] == "0.7"
    assert session.query.getall("tag") == ["home-assistant"]
    check_turn_rules(session.sent)
    (event,) = transcripts
    assert event.data["text"] == SENTENCE
    assert event.data["entity_id"] == FLUX_ENTITY
    assert event.data["model"] == "flux-general-en"
    assert event.data["request_id"] == session.request_id
    assert event.data["confidence"] == pytest.approx(0.99)
    assert event.data["language"] == "en"
    record = entry.runtime_data.history[-1]
    assert (record.outcome, record.ended_by) == ("success", "end_of_turn")
    hold.set()


async def test_paused_command_is_not_cut(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """A pause inside the sentence, even with an eager threshold, keeps the turn."""
    server.script = PAUSED
    await add_flux_entry(hass, server, **{CONF_EAGER_EOT_THRESHOLD: 0.4})
    pipeline_id = await setup_pipeline(hass, stt_engine=FLUX_ENTITY)
    events: list[PipelineEvent] = []
    hold = asyncio.Event()
    await run_pipeline(
        hass, pipeline_id, chunks(speech_pcm(), hold=hold, after=83200), events
    )
    assert stt_text(events) == SENTENCE
    await server.wait_for_sessions_closed()
    sent = server.sessions[0].sent
    turn_events = [m["event"] for m in sent if m.get("event") not in {None, "Update"}]
    assert turn_events[:4] == [
        "StartOfTurn",
        "EagerEndOfTurn",
        "TurnResumed",
        "EagerEndOfTurn",
    ]
    check_turn_rules(sent)
    hold.set()


async def test_detector_ending_first_still_returns_the_whole_turn(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """The detector ends the stream first: ForceEndTurn, the whole turn comes back."""
    server.script = SCRIPT
    server.latency = Latency(finalize=0.05)
    # 1.0 switches Flux's own turn end off: only the detector can end it.
    entry = await add_flux_entry(
        hass, server, **{CONF_EOT_THRESHOLD: 1.0, CONF_EOT_TIMEOUT_MS: 60000}
    )
    pipeline_id = await setup_pipeline(hass, stt_engine=FLUX_ENTITY)
    events: list[PipelineEvent] = []
    await run_pipeline(hass, pipeline_id, chunks(speech_pcm()), events)
    assert PipelineEventType.STT_VAD_END in [e.type for e in events]
    assert stt_text(events) == SENTENCE
    assert light_on(hass)
    await server.wait_for_sessions_closed()
    (session,) = server.sessions
    assert session.control_messages() == ["ForceEndTurn", "CloseStream"]
    end = session.sent_of_type("TurnInfo")[-1]
    assert (end["event"], end["trigger"]) == ("EndOfTurn", "manual")
    record = entry.runtime_data.history[-1]
    assert record.ended_by == "manual"
    assert record.finalize_answered
    assert record.finalize_seconds is not None


async def test_detector_first_and_no_answer_uses_the_last_update(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """ForceEndTurn unanswered: the last Update is the turn, within the bound."""
    server.script = SCRIPT
    server.faults = Faults(ignore_force_end_turn=True)
    entry = await add_flux_entry(
        hass, server, **{CONF_EOT_THRESHOLD: 1.0, CONF_EOT_TIMEOUT_MS: 60000}
    )
    pipeline_id = await setup_pipeline(hass, stt_engine=FLUX_ENTITY)
    events: list[PipelineEvent] = []
    await run_pipeline(hass, pipeline_id, chunks(speech_pcm()), events)
    assert stt_text(events) == SENTENCE
    record = entry.runtime_data.history[-1]
    assert record.ended_by == "last_update"
    assert record.finalize_answered is False
    await server.wait_for_sessions_closed()
    assert server.sessions[0].control_messages() == ["ForceEndTurn", "CloseStream"]


async def test_abort_sends_close_stream_quickly(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Cancelling a Flux run mid-turn: CloseStream and closed within a second."""
    server.script = SCRIPT
    entry = await add_flux_entry(hass, server)
    pipeline_id = await setup_pipeline(hass, stt_engine=FLUX_ENTITY)
    task, _, session = await start_held_pipeline(hass, server, pipeline_id, 40000)
    await wait_for(lambda: session.audio_bytes >= 38400)
    assert await cancel_and_time(task) < 1.5
    assert session.got_close_stream
    assert "ForceEndTurn" not in session.control_messages()
    await server.wait_for_sessions_closed(timeout=1)
    assert entry.runtime_data.history[-1].outcome == "cancelled"


# The pipeline's chat session keeps its cleanup timer past Home Assistant's stop.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_stopping_mid_turn_ends_the_session_with_close_stream(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Home Assistant stopping mid-turn: CloseStream, not a dropped socket."""
    server.script = SCRIPT
    await add_flux_entry(hass, server)
    pipeline_id = await setup_pipeline(hass, stt_engine=FLUX_ENTITY)
    # The satellite is mid-sentence.
    task, hold, session = await start_held_pipeline(hass, server, pipeline_id, 40000)
    await wait_for(lambda: session.audio_bytes >= 38400)
    started = time.monotonic()
    await hass.async_stop()
    assert time.monotonic() - started < 3
    assert session.got_close_stream
    await server.wait_for_sessions_closed(timeout=1)
    assert session.close_code == 1000
    assert client_sockets_to(server.port) == 0
    hold.set()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_stalled_satellite_ends_the_turn(
    hass: HomeAssistant, server: FakeDeepgram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audio stops mid-run (no KeepAlive on v2): the turn ends, not the socket."""
    from custom_components.deepgram import flux_transcriber

    monkeypatch.setattr(flux_transcriber, "STALL_TIMEOUT", 0.3)
    server.script = SCRIPT
    server.idle_timeout = 2.0
    entry = await add_flux_entry(
        hass, server, **{CONF_EOT_THRESHOLD: 1.0, CONF_EOT_TIMEOUT_MS: 60000}
    )
    found = stt_entity(hass, FLUX_ENTITY)
    hold = asyncio.Event()
    result = await asyncio.wait_for(
        found.internal_async_process_audio_stream(
            METADATA, chunks(speech_pcm(), hold=hold, after=83200)
        ),
        2,
    )
    assert result == stt.SpeechResult(SENTENCE, stt.SpeechResultState.SUCCESS)
    await server.wait_for_sessions_closed()
    session = server.sessions[0]
    assert session.control_messages() == ["ForceEndTurn", "CloseStream"]
    assert session.close_code == 1000  # not the server's 1011 idle timeout
    assert entry.runtime_data.history[-1].ended_by == "manual"
    hold.set()


@pytest.mark.parametrize("status", [401, 402, 429, 500])
async def test_refusals_are_reported_as_for_nova(
    hass: HomeAssistant,
    server: FakeDeepgram,
    status: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A refused handshake: an error result, the same logs, reauth and repairs."""
    server.faults = Faults(handshake_status=status)
    entry = await add_flux_entry(hass, server)
    found = stt_entity(hass, FLUX_ENTITY)
    result = await found.internal_async_process_audio_stream(
        METADATA, chunks(speech_pcm()[:16000])
    )
    assert result == stt.SpeechResult(None, stt.SpeechResultState.ERROR)
    await hass.async_block_till_done()
    record = entry.runtime_data.history[-1]
    assert record.outcome == "error"
    assert record.request_id == server.handshakes[0].request_id
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert bool(flows) is (status == 401)
    assert f"HTTP {status}" in caplog.text


async def test_profile_options_reach_the_wire(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Thresholds, keyterms and language hints of a multi profile are sent."""
    server.script = SCRIPT
    await add_flux_entry(
        hass,
        server,
        **{
            CONF_MODEL: "flux-general-multi",
            CONF_EOT_THRESHOLD: 0.8,
            CONF_EAGER_EOT_THRESHOLD: 0.5,
            CONF_EOT_TIMEOUT_MS: 4000,
            CONF_KEYTERMS: ["kitchen light"],
            CONF_LANGUAGE_HINTS: ["en", "de"],
        },
    )
    found = stt_entity(hass, FLUX_ENTITY)
    assert "de-DE" in found.supported_languages
    assert "multi" not in found.supported_languages
    result = await found.internal_async_process_audio_stream(
        METADATA, chunks(speech_pcm())
    )
    assert result.text == SENTENCE
    query = server.sessions[0].query
    assert query["model"] == "flux-general-multi"
    assert (query["eot_threshold"], query["eager_eot_threshold"]) == ("0.8", "0.5")
    assert query["eot_timeout_ms"] == "4000"
    assert query.getall("keyterm") == ["kitchen light"]
    assert query.getall("language_hint") == ["en", "de"]


async def test_english_flux_offers_english_only(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """flux-general-en: the languages of the model list, English only, mono."""
    await add_flux_entry(hass, server)
    found = stt_entity(hass, FLUX_ENTITY)
    assert all(lang.startswith("en") for lang in found.supported_languages)
    assert "en-GB" in found.supported_languages
    assert found.supported_channels == [stt.AudioChannels.CHANNEL_MONO]


async def test_diagnostics_show_flux_runs(
    hass: HomeAssistant, server: FakeDeepgram, hass_client: ClientSessionGenerator
) -> None:
    """Diagnostics list the Flux profile and its runs, without the key."""
    from pytest_homeassistant_custom_component.components.diagnostics import (
        get_diagnostics_for_config_entry,
    )

    server.script = SCRIPT
    entry = await add_flux_entry(hass, server)
    found = stt_entity(hass, FLUX_ENTITY)
    await found.internal_async_process_audio_stream(METADATA, chunks(speech_pcm()))
    await server.wait_for_sessions_closed()
    await hass.async_block_till_done()
    assert await async_setup_component(hass, "diagnostics", {})
    diagnostics: dict[str, Any] = await get_diagnostics_for_config_entry(
        hass, hass_client, entry
    )
    assert API_KEY not in str(diagnostics)
    (run,) = diagnostics["sessions"]
    assert run["model"] == "flux-general-en"
    assert run["ended_by"] == "end_of_turn"
    assert run["close_code"] == 1000
    assert diagnostics["profiles"][0]["type"] == "flux"


async def test_silence_is_no_text(hass: HomeAssistant, server: FakeDeepgram) -> None:
    """Audio without words: the pipeline's no-text error, the request ended."""
    server.script = []
    await add_flux_entry(hass, server)
    pipeline_id = await setup_pipeline(hass, stt_engine=FLUX_ENTITY)
    events: list[PipelineEvent] = []
    await run_pipeline(hass, pipeline_id, chunks(speech_pcm()), events)
    error = next(e for e in events if e.type is PipelineEventType.ERROR)
    assert error.data is not None
    assert error.data["code"] == "stt-no-text-recognized"
    await server.wait_for_sessions_closed()
    assert server.sessions[0].got_close_stream


async def test_home_terms_reach_a_flux_request(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """The profile's own key terms, then the home's exposed names, on /v2/listen."""
    from homeassistant.components.homeassistant.exposed_entities import (
        async_expose_entity,
    )

    server.script = SCRIPT
    pipeline_id = await setup_pipeline(hass, stt_engine=FLUX_ENTITY)
    async_expose_entity(hass, "conversation", "light.kitchen_light", True)
    entry = await add_flux_entry(hass, server, **{CONF_KEYTERMS: ["Anouk"]})
    await hass.async_block_till_done()
    (subentry_id,) = entry.subentries
    await wait_for(
        lambda: (
            entry.runtime_data.keyterms.terms(subentry_id) is not None
            and "Kitchen light"
            in (entry.runtime_data.keyterms.terms(subentry_id) or ())
        )
    )
    events: list[PipelineEvent] = []
    await run_pipeline(hass, pipeline_id, chunks(speech_pcm()), events)
    assert stt_text(events) == SENTENCE
    keyterms = server.sessions[-1].query.getall("keyterm")
    assert keyterms[0] == "Anouk"
    assert "Kitchen light" in keyterms


async def test_partial_results_of_a_flux_turn(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Home Assistant 2026.11's progress: the turn's words so far, then the turn."""
    from contextlib import aclosing

    server.script = SCRIPT
    await add_flux_entry(hass, server)
    found = stt_entity(hass, FLUX_ENTITY)
    partials: list[str] = []
    result: stt.SpeechResult | None = None

    async def paced() -> AsyncIterator[bytes]:
        async for chunk in chunks(speech_pcm()):
            yield chunk
            await asyncio.sleep(0.001)

    generator = found.async_process_audio_stream_with_progress(METADATA, paced())
    async with aclosing(generator) as results:
        async for item in results:
            if isinstance(item, stt.SpeechResult):
                result = item
                break
            partials.append(item.text)
    assert result == stt.SpeechResult(SENTENCE, stt.SpeechResultState.SUCCESS)
    assert partials[0] == "Turn"
    assert partials[-1] == SENTENCE
    assert len(set(partials)) == len(partials) >= 3


async def test_eager_end_of_a_known_command_with_home_assistants_matcher(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Eager threshold set: Home Assistant's own sentence matcher accepts the
    eager words, and the stage ends before Flux's EndOfTurn."""
    server.script = SCRIPT
    entry = await add_flux_entry(hass, server, **{CONF_EAGER_EOT_THRESHOLD: 0.35})
    pipeline_id = await setup_pipeline(hass, stt_engine=FLUX_ENTITY)
    events: list[PipelineEvent] = []
    hold = asyncio.Event()  # audio to 2.4 s: the eager (2.33 s), not the end (2.46 s)
    await run_pipeline(
        hass, pipeline_id, chunks(speech_pcm(), hold=hold, after=76800), events
    )
    assert stt_text(events) == SENTENCE
    assert light_on(hass)
    assert entry.runtime_data.history[-1].ended_by == "eager_end_of_turn"
    await server.wait_for_sessions_closed()
    sent = [m.get("event") for m in server.sessions[0].sent]
    assert "EagerEndOfTurn" in sent
    assert "EndOfTurn" not in sent
    hold.set()


async def test_stream_end_after_an_eager_end_uses_its_words(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """The detector ends the stream after an eager end with nothing new since:
    those words are the turn, without a ForceEndTurn round trip."""
    server.script = [
        Segment(
            (Word("Turn", 0.55, 0.8), Word("on", 0.8, 0.95), Word("the", 0.95, 1.1))
        ),
    ]  # "Turn on the": no command, eager but never a confident end
    await add_flux_entry(
        hass,
        server,
        **{
            CONF_EAGER_EOT_THRESHOLD: 0.3,
            CONF_EOT_THRESHOLD: 1.0,
            CONF_EOT_TIMEOUT_MS: 60000,
        },
    )
    pipeline_id = await setup_pipeline(hass, stt_engine=FLUX_ENTITY)
    events: list[PipelineEvent] = []
    await run_pipeline(hass, pipeline_id, chunks(speech_pcm()), events)
    assert stt_text(events) == "Turn on the"
    await server.wait_for_sessions_closed()
    assert server.sessions[0].control_messages() == ["CloseStream"]
