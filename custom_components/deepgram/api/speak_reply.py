"""Speak a reply while it is still being written: text in, audio out, at once.

`speak_reply(session, text)` sends an agent's text to an open speak socket
as it arrives and yields the message's audio as Deepgram sends it:

- Aura (`/v1/speak`): the text goes through `SpeakSchedule`, which says
  when to `Flush` (the first sentence at once, then groups) within
  Deepgram's limits (2000 characters a `Speak`, 20 `Flush` and 2400
  characters a minute, by waiting, never by dropping text).
- Flux TTS (`/v2/speak`): the text goes as it comes (in pieces of at most
  2000 characters); Deepgram finds the sentence ends itself.

When the text ends the rest is flushed, and the audio ends with the message.
A failing text source ends the audio with its error. The session stays the
caller's: it closes it (`close()`) after the audio, or aborts it (`abort()`)
when it stops early, fails or is cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterator
import time
from typing import Final

from .aura import AuraSession
from .speak_schedule import Flush, Speak, SpeakSchedule, Wait
from .speak_socket import MAX_SPEAK_TEXT, SpeakSocket

FEEDER_STOP_TIMEOUT: Final = 1.0
"""Longest wait for the text source to stop once the audio ended."""
_END: Final = object()
"""The text source's end (what `anext` returns when it is exhausted)."""


async def speak_reply(
    session: SpeakSocket,
    text: AsyncIterable[str],
    *,
    schedule: SpeakSchedule | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncGenerator[bytes]:
    """Send `text` to `session` as it comes; yield the audio of the message.

    `schedule` (Aura only) decides when to flush; a new one by default.
    Raises the session's error, or the text source's.
    """
    if session.complete:
        raise RuntimeError("A speak socket speaks one message: open a new one")
    if isinstance(session, AuraSession):
        feed = _feed_aura(session, text, schedule or SpeakSchedule(), clock)
    else:
        feed = _feed_as_written(session, text)
    feeder = asyncio.create_task(feed, name=f"deepgram {session.path} text")
    feeder.add_done_callback(lambda task: _stop_audio_on_failure(session, task))
    try:
        async for chunk in session.audio():
            yield chunk
    finally:
        # Normally the text ended first (the feeder is done); a message
        # cleared, a consumer gone or a failure leave it reading: stop it.
        if not feeder.done():
            feeder.cancel()
        # Bounded: a text source slow to stop must not hold the caller.
        await asyncio.wait({feeder}, timeout=FEEDER_STOP_TIMEOUT)
    if feeder.done() and not feeder.cancelled():
        feeder.result()


def _stop_audio_on_failure(session: SpeakSocket, task: asyncio.Task[None]) -> None:
    """A text source that failed ends the audio with its error."""
    if not task.cancelled() and (error := task.exception()) is not None:
        session.interrupt(error)


async def _feed_as_written(session: SpeakSocket, text: AsyncIterable[str]) -> None:
    async for delta in text:
        for piece in split_text(delta, MAX_SPEAK_TEXT):
            await session.send_text(piece)
    await session.end()


async def _feed_aura(
    session: SpeakSocket,
    text: AsyncIterable[str],
    schedule: SpeakSchedule,
    clock: Callable[[], float],
) -> None:
    """Send what the schedule says when it says; read text meanwhile."""
    deltas = aiter(text)
    reading: asyncio.Future[object] | None = None
    ended = False
    try:
        while True:
            step = schedule.next_step(clock())
            while isinstance(step, Speak | Flush):
                if isinstance(step, Speak):
                    await session.send_text(step.text)
                else:
                    await session.flush()
                step = schedule.next_step(clock())
            if schedule.done:
                await session.end()
                return
            timeout = max(0.0, step.until - clock()) if isinstance(step, Wait) else None
            if ended:
                # After the end the schedule only ever waits (for a limit).
                if not isinstance(step, Wait):
                    raise RuntimeError("The speak schedule stopped before its end")
                await asyncio.sleep(step.until - clock())
                continue
            if reading is None:
                reading = asyncio.ensure_future(anext(deltas, _END))
            done, _ = await asyncio.wait({reading}, timeout=timeout)
            if reading in done:
                delta = reading.result()
                reading = None
                if isinstance(delta, str):
                    schedule.add(delta)
                else:
                    schedule.end()
                    ended = True
    finally:
        if reading is not None:
            reading.cancel()
            # Its end (an error included) is taken when it comes: never
            # awaited here, a source slow to stop does not hold this up.
            reading.add_done_callback(_retrieve)


def _retrieve(task: asyncio.Future[object]) -> None:
    if not task.cancelled():
        task.exception()


def split_text(text: str, limit: int) -> Iterator[str]:
    """`text` in pieces of at most `limit` characters, cut after whitespace
    where there is some (else at `limit`); joined, they are `text`."""
    while len(text) > limit:
        cut = text.rfind(" ", 0, limit) + 1 or limit
        yield text[:cut]
        text = text[cut:]
    if text:
        yield text
