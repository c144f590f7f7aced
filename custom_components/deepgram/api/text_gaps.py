"""An agent's text cut into segments at its pauses (a tool call, a slow step).

A reply is spoken while it is written; when the writing stops for a while
(the agent calls a tool for several seconds), what was written so far is
spoken to its end and the socket closed, rather than left idle for Deepgram
to close. The text after the pause is a new segment, spoken on a new socket.
Nothing is lost or said twice: a reader task takes the source's text as it
comes and each segment hands on only text no earlier segment had.

    gaps = TextGaps(text, gap=1.5)
    async for piece in gaps.segment(): ...     # until a pause or the end
    while await gaps.more():                   # text after the pause
        async for piece in gaps.segment(): ...
    await gaps.aclose()
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from typing import Final, cast
import unicodedata

_END: Final = object()
"""The source's end (or its error, which follows it in `error`)."""


class TextGaps:
    """Segments of one text source, cut where it pauses for `gap` seconds."""

    def __init__(self, source: AsyncIterable[str], gap: float) -> None:
        """Start reading `source` (in a task of its own); `gap` in seconds."""
        self._gap = gap
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._ended = False
        self._held = ""
        self._closing = False
        """The end of the text after its last space or punctuation mark."""
        self.error: BaseException | None = None
        """What the source raised, if it failed (raised by `segment` too)."""
        self._reader = asyncio.create_task(
            self._read(source), name="deepgram text source"
        )

    @property
    def ended(self) -> bool:
        """Whether a segment met the end of the text."""
        return self._ended

    async def _read(self, source: AsyncIterable[str]) -> None:
        try:
            async for piece in source:
                if piece:
                    self._queue.put_nowait(piece)
        except Exception as err:
            self.error = err
        except asyncio.CancelledError as err:
            if not self._closing:  # the source cancelled itself: not an end
                self.error = err
            raise
        finally:
            self._queue.put_nowait(_END)

    async def segment(self) -> AsyncIterator[str]:
        """The text until it pauses for `gap` after some text, or ends.

        Waits without bound for the segment's first text (the caller bounds
        the whole message). A pause never cuts a word: text after the last
        space or punctuation mark is held until the word is complete, and a
        pause carries it over to the next segment (unless it is all this
        segment has). Raises the source's error at its end.
        """
        yielded = False
        some = False
        while not self._ended:
            if some and self._queue.empty():
                try:
                    async with asyncio.timeout(self._gap):
                        item = await self._queue.get()
                except TimeoutError:
                    # A pause: the next text starts a new segment.
                    if not yielded and self._held:
                        yield self._take_held()
                    return
            else:
                item = await self._queue.get()
            if item is _END:
                self._ended = True
                if self._held:
                    yield self._take_held()
                if self.error is not None:
                    raise self.error
                return
            text = self._held + cast("str", item)
            cut = _after_last_boundary(text)
            self._held = text[cut:]
            some = True
            if cut:
                yielded = True
                yield text[:cut]

    def _take_held(self) -> str:
        held, self._held = self._held, ""
        return held

    async def more(self) -> bool:
        """Wait for text to say; False when the text ended first.

        Blank text (whitespace) alone is not enough: a message or a part of
        it that says nothing opens no socket. Takes nothing away: the next
        `segment` yields all of it, in order.
        """
        if self._ended:
            return False
        waited: list[object] = []
        try:
            while True:
                item = await self._queue.get()
                waited.append(item)
                if item is _END:
                    break
                if not (self._held + "".join(map(str, waited))).isspace():
                    return True
        finally:
            # Put back in front: the queue holds only what came after them.
            rest = [*waited, *self._drain()]
            for kept in rest:
                self._queue.put_nowait(kept)
        # The end, with nothing (or only blanks) to say before it.
        self._ended = True
        if self.error is not None:
            raise self.error
        return False

    def _drain(self) -> list[object]:
        items: list[object] = []
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        return items

    async def aclose(self) -> None:
        """Stop reading the source (bounded by the source's own stop)."""
        self._closing = True
        if not self._reader.done():
            self._reader.cancel()
        await asyncio.wait({self._reader}, timeout=1.0)


def _after_last_boundary(text: str) -> int:
    """Where the text's last word ends: after its last space or punctuation.

    0 when it has none (one unfinished word, or a run of text with no space
    such as Japanese between its punctuation marks).
    """
    for index in range(len(text) - 1, -1, -1):
        char = text[index]
        if char.isspace() or unicodedata.category(char).startswith("P"):
            return index + 1
    return 0
