"""A Flux run's early return on EagerEndOfTurn, by the sentence-matcher rule.

The matcher stands in for Home Assistant's own (wired by the end-of-speech
work); what is tested is the rule: return the eager words only when they
form a complete command and no TurnResumed came since.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import dataclasses

from homeassistant.components import stt
from homeassistant.components.stt import SpeechResultState
from homeassistant.core import HomeAssistant
import pytest

from custom_components.deepgram import end_of_speech, flux_transcriber
from custom_components.deepgram.api import FluxOptions, FluxTurn
from custom_components.deepgram.const import (
    CONF_EAGER_EOT_THRESHOLD,
    CONF_KEYTERMS,
    CONF_MIP_OPT_OUT,
)
from custom_components.deepgram.flux_transcriber import (
    FluxTranscriber,
    flux_language,
    flux_options,
)
from custom_components.deepgram.language import MULTI
from tests.deepgram_server import FakeDeepgram, Faults
from tests.deepgram_server.testing import wait_for, wav_silence

from .pipeline_helpers import METADATA, chunks, speech_pcm
from .test_flux_pipeline import FLUX_ENTITY, PAUSED, SCRIPT, SENTENCE, add_flux_entry

COMMANDS = {"Turn on the kitchen light."}
BEFORE_END_OF_TURN = 76800  # 2.4 s: the eager (2.33 s) but not the end (2.46 s)


async def run(
    hass: HomeAssistant,
    server: FakeDeepgram,
    matcher: end_of_speech.SentenceMatcher | None,
    after: int = BEFORE_END_OF_TURN,
) -> tuple[str | None, str | None]:
    """One run with eager_eot_threshold 0.35; (text, ended_by)."""
    entry = await add_flux_entry(hass, server, **{CONF_EAGER_EOT_THRESHOLD: 0.35})
    (subentry,) = entry.subentries.values()
    transcriber = FluxTranscriber(hass, entry, FLUX_ENTITY)
    hold = asyncio.Event()
    result = await asyncio.wait_for(
        transcriber.async_transcribe_flux(
            flux_options(subentry.data, METADATA),
            chunks(speech_pcm(), hold=hold, after=after),
            matcher,
        ),
        5,
    )
    hold.set()
    return result.text, entry.runtime_data.history[-1].ended_by


async def is_command(text: str) -> bool:
    return text in COMMANDS


async def test_eager_end_of_a_complete_command_returns_early(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """The eager words are a command: returned before Flux's EndOfTurn."""
    server.script = SCRIPT
    text, ended_by = await run(hass, server, is_command)
    assert (text, ended_by) == (SENTENCE, "eager_end_of_turn")
    events = [m.get("event") for m in server.sessions[0].sent]
    assert "EagerEndOfTurn" in events
    assert "EndOfTurn" not in events  # the audio stopped before it


async def test_eager_words_that_are_no_command_wait(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """ "Turn on the" is no command: the turn goes on (TurnResumed) to the end."""
    server.script = PAUSED
    asked: list[str] = []

    async def matcher(text: str) -> bool:
        asked.append(text)
        return await is_command(text)

    text, ended_by = await run(hass, server, matcher)
    assert text == SENTENCE
    assert ended_by == "eager_end_of_turn"
    assert asked == ["", "Turn on the", SENTENCE]  # "": the warm-up


async def test_stale_match_after_turn_resumed_is_ignored(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """A slow yes for "Turn on the" arriving after TurnResumed changes nothing."""
    server.script = PAUSED

    async def slow_yes(text: str) -> bool:
        if text == "Turn on the":
            await wait_for(
                lambda: any(
                    m.get("event") == "TurnResumed" for m in server.sessions[0].sent
                )
            )
            await asyncio.sleep(0.05)
            return True
        return False

    text, ended_by = await run(hass, server, slow_yes, after=len(speech_pcm()))
    assert (text, ended_by) == (SENTENCE, "end_of_turn")


async def test_no_matcher_waits_for_end_of_turn(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Without a matcher the eager event is not used."""
    server.script = SCRIPT
    text, ended_by = await run(hass, server, None, after=len(speech_pcm()))
    assert (text, ended_by) == (SENTENCE, "end_of_turn")


async def test_failing_or_slow_matcher_is_dropped(
    hass: HomeAssistant,
    server: FakeDeepgram,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A matcher that raises or is too slow never fails the run."""
    server.script = PAUSED
    monkeypatch.setattr(end_of_speech, "MATCH_TIMEOUT", 0.05)
    calls: list[str] = []

    async def broken(text: str) -> bool:
        calls.append(text)
        raise RuntimeError("no conversation agent")

    text, ended_by = await run(hass, server, broken, after=len(speech_pcm()))
    assert (text, ended_by) == (SENTENCE, "end_of_turn")
    assert calls == [""]  # failed at the warm-up: not asked again
    assert "Sentence matching is unavailable" in caplog.text

    async def slow(text: str) -> bool:
        if not text:
            return False  # the warm-up: quick (the question waits for it)
        await asyncio.sleep(1)
        return True

    # Audio held after the eager event: the stalled stream ends the turn.
    monkeypatch.setattr(flux_transcriber, "STALL_TIMEOUT", 0.3)
    server.script = SCRIPT
    text, ended_by = await run(hass, server, slow)
    assert (text, ended_by) == (SENTENCE, "manual")
    assert "took over" in caplog.text


async def test_matcher_still_asking_when_the_turn_ends_is_cancelled(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """EndOfTurn while the matcher thinks: the run returns, the call is cancelled."""
    server.script = SCRIPT
    cancelled = asyncio.Event()

    async def thinking(text: str) -> bool:
        try:
            await asyncio.sleep(0.5)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return True

    text, ended_by = await run(hass, server, thinking, after=len(speech_pcm()))
    assert (text, ended_by) == (SENTENCE, "end_of_turn")
    assert cancelled.is_set()


async def test_failing_audio_source_still_ends_the_request(
    hass: HomeAssistant, server: FakeDeepgram, caplog: pytest.LogCaptureFixture
) -> None:
    """The audio source breaking: an error result, and CloseStream all the same."""
    server.script = SCRIPT
    entry = await add_flux_entry(hass, server)
    (subentry,) = entry.subentries.values()

    async def broken() -> AsyncIterator[bytes]:
        yield bytes(3200)
        raise RuntimeError("satellite went away")

    result = await FluxTranscriber(hass, entry, FLUX_ENTITY).async_transcribe_flux(
        flux_options(subentry.data, METADATA), broken()
    )
    assert result.result is SpeechResultState.ERROR
    assert "Unexpected error during Deepgram speech-to-text" in caplog.text
    await server.wait_for_sessions_closed()
    assert server.sessions[0].got_close_stream
    assert entry.runtime_data.history[-1].error == "unexpected"


async def test_invalid_flux_profile_fails_before_connecting(
    hass: HomeAssistant, server: FakeDeepgram, caplog: pytest.LogCaptureFixture
) -> None:
    """Options Deepgram would refuse: an error result, no socket."""
    entry = await add_flux_entry(hass, server, **{CONF_EAGER_EOT_THRESHOLD: 0.9})
    (subentry,) = entry.subentries.values()
    result = await FluxTranscriber(hass, entry, FLUX_ENTITY).async_transcribe_flux(
        flux_options(subentry.data, METADATA), chunks(speech_pcm())
    )
    assert result.result is SpeechResultState.ERROR
    assert "above eot_threshold" in caplog.text
    assert server.handshakes == []


async def test_wav_in_another_format_is_refused(
    hass: HomeAssistant, server: FakeDeepgram, caplog: pytest.LogCaptureFixture
) -> None:
    """A WAV that is not what the request declared: a clear error, no noise sent."""
    entry = await add_flux_entry(hass, server)
    (subentry,) = entry.subentries.values()

    async def wav() -> AsyncIterator[bytes]:
        yield wav_silence(0.5, rate=44100)

    result = await FluxTranscriber(hass, entry, FLUX_ENTITY).async_transcribe_flux(
        flux_options(subentry.data, METADATA), wav()
    )
    assert result.result is SpeechResultState.ERROR
    assert "The audio cannot be sent to Deepgram" in caplog.text
    assert entry.runtime_data.history[-1].error == "audio_format"
    await server.wait_for_sessions_closed()
    assert all(record.audio_bytes == 0 for record in server.sessions)


async def test_wav_of_the_declared_format_is_sent_without_its_header(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """A mono 16 kHz WAV (what the request declares): its samples, no header."""
    entry = await add_flux_entry(hass, server)
    (subentry,) = entry.subentries.values()

    async def wav() -> AsyncIterator[bytes]:
        yield wav_silence(0.5)

    await FluxTranscriber(hass, entry, FLUX_ENTITY).async_transcribe_flux(
        flux_options(subentry.data, METADATA), wav()
    )
    assert entry.runtime_data.history[-1].error is None
    assert entry.runtime_data.history[-1].entity_id == FLUX_ENTITY
    await server.wait_for_sessions_closed()
    (record,) = server.sessions
    assert record.audio_bytes == 16000  # 0.5 s of 16-bit mono samples


def test_the_profiles_own_keyterms_without_the_homes() -> None:
    """No fitted list for the profile (not known yet): its own terms are sent."""
    options = flux_options({CONF_KEYTERMS: ["kitchen light"]}, METADATA)
    assert options.keyterms == ("kitchen light",)
    assert flux_options({}, METADATA).keyterms == ()
    fitted = flux_options({CONF_KEYTERMS: ["kitchen light"]}, METADATA, ["porch"])
    assert fitted.keyterms == ("porch",)


def test_the_request_follows_the_profile_and_the_audio() -> None:
    """Opt-out from the profile; the sample rate from the run's audio."""
    metadata = dataclasses.replace(
        METADATA, sample_rate=stt.AudioSampleRates.SAMPLERATE_8000
    )
    options = flux_options({CONF_MIP_OPT_OUT: True}, metadata)
    assert (options.mip_opt_out, options.sample_rate) == (True, 8000)


def test_the_language_a_run_is_in() -> None:
    """English model: en; multilingual: its hints, or "multi" without any."""
    assert flux_language(FluxOptions()) == "en"
    multi = FluxOptions(model="flux-general-multi", language_hints=("de", "en"))
    assert flux_language(multi) == "de,en"
    assert flux_language(FluxOptions(model="flux-general-multi")) == MULTI


async def test_words_so_far_are_handed_on_as_updates(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """`on_turn` sees the first turn grow, each marked as an update."""
    server.script = SCRIPT
    entry = await add_flux_entry(hass, server)
    (subentry,) = entry.subentries.values()
    seen: list[FluxTurn] = []
    await asyncio.wait_for(
        FluxTranscriber(hass, entry, FLUX_ENTITY).async_transcribe_flux(
            flux_options(subentry.data, METADATA),
            chunks(speech_pcm()),
            on_turn=seen.append,
        ),
        5,
    )
    assert seen
    assert {turn.ended_by for turn in seen} == {"update"}
    assert seen[-1].transcript == SENTENCE


async def test_a_stalled_handshake_ends_within_the_connect_bound(
    hass: HomeAssistant, server: FakeDeepgram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's own connect bound applies, not the client's longer default."""
    monkeypatch.setattr(flux_transcriber, "CONNECT_TIMEOUT", 0.2)
    server.faults = Faults(stall_handshake=True)
    entry = await add_flux_entry(hass, server)
    (subentry,) = entry.subentries.values()
    result = await asyncio.wait_for(
        FluxTranscriber(hass, entry, FLUX_ENTITY).async_transcribe_flux(
            flux_options(subentry.data, METADATA), chunks(speech_pcm())
        ),
        3,
    )
    assert result.result is SpeechResultState.ERROR
