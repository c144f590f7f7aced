"""How much of a run's audio is sent: bounded in time, in length, when idle.

Shared by nova and Flux runs (`transcriber.py`, `flux_transcriber.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator

from .const import AUDIO_IDLE_TIMEOUT, AUDIO_LEAD_SECONDS, LOGGER, MAX_RUN_SECONDS


class AudioTooLongError(Exception):
    """The audio holds more than one run may send (`MAX_RUN_SECONDS`)."""

    def __init__(self, seconds: float) -> None:
        """`seconds`: the most one run sends (what was sent)."""
        super().__init__(f"The audio is longer than {seconds:.0f} s")
        self.seconds = seconds


async def bounded_audio(
    audio: AsyncIterable[bytes], bytes_per_second: int | None
) -> AsyncIterator[bytes]:
    """PCM `audio` until it ends, stalls for AUDIO_IDLE_TIMEOUT or runs too long.

    What Deepgram bills is bounded: at most `MAX_RUN_SECONDS` of audio (at
    `bytes_per_second`) is yielded, and nothing after `MAX_RUN_SECONDS` of
    the run's time. A source that never ends reaches one bound or the other:
    at the time bound, or at the audio bound no more than
    `AUDIO_LEAD_SECONDS` ahead of the clock (a satellite's pre-roll, bursts),
    it is a live source and the run ends quietly with what was heard. Audio
    reaching the audio bound further ahead than that was pushed faster than
    real time (a recording): the audio up to the bound is yielded, then
    `AudioTooLongError` is raised, since the transcript would silently lack
    the rest.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + MAX_RUN_SECONDS
    room = int(MAX_RUN_SECONDS * bytes_per_second) if bytes_per_second else None
    chunks = aiter(audio)
    while True:
        left = deadline - loop.time()
        if left <= 0:
            _warn_run_bound()
            return
        try:
            async with asyncio.timeout(min(AUDIO_IDLE_TIMEOUT, left)) as bound:
                chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except TimeoutError:
            if not bound.expired():
                raise  # the audio source's own error
            if left <= AUDIO_IDLE_TIMEOUT:
                continue  # the run's bound: reported above
            LOGGER.warning(
                "No audio for %.0f s; transcribing what was heard",
                AUDIO_IDLE_TIMEOUT,
            )
            return
        if room is not None:
            if len(chunk) > room:
                if room:
                    yield chunk[:room]
                # MAX_RUN_SECONDS of audio came this soon: how far ahead.
                if loop.time() - started < MAX_RUN_SECONDS - AUDIO_LEAD_SECONDS:
                    raise AudioTooLongError(MAX_RUN_SECONDS)
                _warn_run_bound()
                return
            room -= len(chunk)
        yield chunk
        if room == 0:  # used up exactly: decide now, not at a next chunk
            if loop.time() - started < MAX_RUN_SECONDS - AUDIO_LEAD_SECONDS:
                raise AudioTooLongError(MAX_RUN_SECONDS)
            _warn_run_bound()
            return


def _warn_run_bound() -> None:
    """A live source that never ended: the run ends with what was heard."""
    LOGGER.warning(
        "The audio did not end within %.0f s; transcribing what was heard",
        MAX_RUN_SECONDS,
    )
