"""Partial results (Home Assistant 2026.11's `..._with_progress`), on 2026.10.

Home Assistant 2026.11 reads the entity through
`async_process_audio_stream_with_progress` under `aclosing` and stops at the
first `SpeechResult`; 2026.10 never calls it. `consume` does here what
2026.11's `internal_async_process_audio_stream` does, so this is the code
path 2026.11 runs (the smoke test in .ci/run runs it in a real 2026.11).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from contextlib import aclosing
import time

from homeassistant.components import stt
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram import stt as deepgram_stt
from tests.deepgram_server import FakeDeepgram, Faults, script_from_text
from tests.deepgram_server.testing import silence

from .pipeline_helpers import METADATA, chunks, stt_entity

SCRIPT = script_from_text(
    "turn on the kitchen light please", start=0.2, end=2.6, words_per_segment=2
)


async def consume(
    hass: HomeAssistant,
    audio: AsyncIterable[bytes],
    partials: list[str],
    seen: asyncio.Event | None = None,
) -> stt.SpeechResult:
    """Home Assistant 2026.11's consumer: read until the first SpeechResult."""
    generator = stt_entity(hass).async_process_audio_stream_with_progress(
        METADATA, audio
    )
    async with aclosing(generator) as results:
        async for result in results:
            if isinstance(result, stt.SpeechResult):
                return result
            assert isinstance(result, deepgram_stt.PartialSpeechResult)
            assert result.speaker_id is None
            partials.append(result.text)
            if seen is not None:
                seen.set()
    raise AssertionError("no SpeechResult")


async def slow(audio: bytes, seconds_per_chunk: float) -> AsyncIterable[bytes]:
    """The audio in 10 ms chunks, paced so the server's results come in between."""
    async for chunk in chunks(audio):
        yield chunk
        await asyncio.sleep(seconds_per_chunk)


async def test_partials_then_one_result(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """Each partial is the whole text so far, growing; then the final result."""
    server.script = SCRIPT
    partials: list[str] = []
    result = await consume(hass, slow(silence(3.0), 0.002), partials)
    assert result == stt.SpeechResult(
        "turn on the kitchen light please", stt.SpeechResultState.SUCCESS
    )
    assert len(partials) >= 3
    assert all(text.startswith("turn on") for text in partials)
    assert partials[-1] == result.text
    assert len(set(partials)) == len(partials), "a text is never repeated"
    lengths = [len(text.split()) for text in partials]
    assert lengths == sorted(lengths)
    await server.wait_for_sessions_closed()
    assert server.sessions[0].got_close_stream


async def test_result_not_delayed_by_the_close(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """Closing the generator at the result awaits nothing: the close runs on."""
    server.script = SCRIPT
    server.faults = Faults(never_close=True)
    started = time.monotonic()
    result = await consume(hass, chunks(silence(3.0)), [])
    assert time.monotonic() - started < 2
    assert result.text == "turn on the kitchen light please"
    session = server.sessions[0]
    assert not session.closed.is_set()
    await server.wait_for_sessions_closed(timeout=8)
    assert session.got_close_stream


async def test_cancelled_consumer_sends_close_stream(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """A cancelled run (2026.11 cancels its consumer) aborts with CloseStream."""
    server.script = SCRIPT
    hold = asyncio.Event()
    seen = asyncio.Event()
    audio = chunks(silence(3.0), hold=hold, after=int(32000 * 1.5))
    task = asyncio.create_task(consume(hass, audio, [], seen))
    async with asyncio.timeout(5):
        await seen.wait()
    started = time.monotonic()
    task.cancel()
    results = await asyncio.gather(task, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert time.monotonic() - started < 1.5
    await server.wait_for_sessions_closed(timeout=2)
    session = server.sessions[0]
    assert session.got_close_stream
    assert not session.got_finalize


async def test_errors_end_in_one_error_result(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """A refused stream yields no partial and one error result."""
    server.faults = Faults(handshake_status=400)
    partials: list[str] = []
    result = await consume(hass, chunks(silence(0.5)), partials)
    assert result.result is stt.SpeechResultState.ERROR
    assert partials == []


def test_partial_result_class_of_this_release() -> None:
    """2026.11's class where it exists, else a stand-in with its fields."""
    native = getattr(stt, "PartialSpeechResult", None)
    assert deepgram_stt.PartialSpeechResult is (
        native or deepgram_stt._PartialSpeechResult
    )
    assert deepgram_stt.PartialSpeechResult("a").text == "a"
