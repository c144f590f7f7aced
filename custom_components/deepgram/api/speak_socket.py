"""What both speak sockets share, `/v1/speak` (Aura) and `/v2/speak` (Flux TTS).

`SpeakSocket` builds on `DeepgramSocket` (`socket.py`: connecting, errors,
bounds, closing) and adds what speaking needs: text going out (`Speak`),
`Flush`, and the audio of the current message coming back as an async
iterator (`audio()`), which ends when Deepgram says the message is complete
(`Flushed` on `/v1`, `SpeechMetadata` on `/v2`: each kind says when, with
`_message_complete()`).

Every wait on Deepgram is bounded while it owes audio: from a `Flush` to
its first audio (`first_audio_timeout`), then between frames
(`frame_gap_timeout`). While no `Flush` is outstanding the iterator waits
for the caller's next text, which the caller bounds. `close()` sends `Close`
and waits (bounded) for the server's close; `abort()` sends what the kind
needs to stop the audio (`Clear` on `/v1`) then `Close`, within about a
second.

What a speak socket takes is bounded by its audio rate: an hour of audio
(Deepgram's longest socket) plus room for the messages.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
import json
import logging
import time
from typing import ClassVar, Final, override

import aiohttp

from .endpoint import Endpoint
from .errors import (
    DeepgramOptionsError,
    DeepgramProtocolError,
    DeepgramTimeoutError,
)
from .socket import (
    DEFAULT_ABORT_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    DeepgramSocket,
    SocketStats,
)
from .speak_options import SpeakOptions

_LOGGER = logging.getLogger(__name__)

CLOSE: Final = '{"type": "Close"}'
FLUSH: Final = '{"type": "Flush"}'
DEFAULT_FIRST_AUDIO_TIMEOUT: Final = 10.0
"""Longest wait from a `Flush` to its first audio (or its answer)."""
DEFAULT_FRAME_GAP_TIMEOUT: Final = 5.0
"""Longest wait between two audio frames while Deepgram owes audio."""
MAX_SOCKET_SECONDS: Final = 3600
"""Deepgram closes a speak socket after an hour."""
SPEAK_MAX_MESSAGE_BYTES: Final = 1 << 20
"""Largest frame a speak socket takes: audio frames are a fraction of a
second (about 100 kB for a second at 48 kHz)."""
MESSAGE_ROOM_BYTES: Final = 16 * 1024 * 1024
"""What a speak socket takes beyond its hour of audio: its text messages."""
MAX_UNREAD_SECONDS: Final = 600
"""Most audio held unread (ten minutes): Deepgram sends faster than real
time and a listener plays at real time, so a long reply is held a while;
more means a reader that stopped or a server gone wrong."""
MAX_SPEAK_TEXT: Final = 2000
"""Most characters one `Speak` may carry (Deepgram refuses more)."""


@dataclass(slots=True)
class SpeakStats(SocketStats):
    """What one speak socket did, for diagnostics."""

    characters: int = 0
    """Characters of text sent."""
    flushes: int = 0
    audio_bytes: int = 0
    audio_frames: int = 0
    first_audio_seconds: float | None = None
    """From the first `Flush` to the first audio frame (on `/v2/speak`,
    which speaks without one, from the first text)."""
    warnings: int = 0


class SpeakSocket(DeepgramSocket):
    """One speak request: text in, the message's audio out; see the module."""

    close_message: ClassVar[str] = CLOSE
    stalled_send: ClassVar[str] = "Deepgram stopped taking text"
    max_message_bytes: ClassVar[int] = SPEAK_MAX_MESSAGE_BYTES
    max_received_bytes: ClassVar[int] = MESSAGE_ROOM_BYTES
    speaks_before_flush: ClassVar[bool] = False
    """Deepgram speaks text before its `Flush` (`/v2/speak` finds sentence
    ends itself): first audio is then timed from the first text."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        endpoint: Endpoint,
        options: SpeakOptions,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        first_audio_timeout: float = DEFAULT_FIRST_AUDIO_TIMEOUT,
        frame_gap_timeout: float = DEFAULT_FRAME_GAP_TIMEOUT,
    ) -> None:
        """Prepare a socket for validated options of this socket's path."""
        if options.path != self.path:
            raise DeepgramOptionsError(
                f"The voice {options.model} is spoken on {options.path}, "
                f"not {self.path}"
            )
        self.options = options
        super().__init__(
            http,
            endpoint,
            options.query(),
            stats=SpeakStats(),
            connect_timeout=connect_timeout,
        )
        self.stats: SpeakStats
        self._first_audio_timeout = first_audio_timeout
        self._frame_gap_timeout = frame_gap_timeout
        self._audio: deque[bytes] = deque()
        self._wake: asyncio.Event = asyncio.Event()
        self._owed = 0
        """Flushes Deepgram has not answered yet."""
        self._owed_since: float | None = None
        """When Deepgram last made progress on what it owes (a flush, a frame)."""
        self._heard_since_flush = False
        self._unflushed = False
        """Text was sent since the last `Flush`."""
        self._ended = False
        self._complete = False
        self._first_flush_at: float | None = None
        self._first_text_at: float | None = None
        self._interrupted: BaseException | None = None
        self._unread = 0
        self._aborted = False

    @override
    def _received_bound(self) -> int:
        return self.options.bytes_per_second * MAX_SOCKET_SECONDS + MESSAGE_ROOM_BYTES

    # -- public API --------------------------------------------------------

    @property
    def complete(self) -> bool:
        """True once Deepgram sent the whole message's audio."""
        return self._complete

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio received so far."""
        return self.stats.audio_bytes / self.options.bytes_per_second

    async def send_text(self, text: str) -> None:
        """Send text of the message (`Speak`); empty text is not sent.

        A caller sends at most `MAX_SPEAK_TEXT` characters at once: longer
        text is refused here, before Deepgram would refuse it.
        """
        if not text:
            return
        if len(text) > MAX_SPEAK_TEXT:
            raise DeepgramOptionsError(
                f"One Speak message holds at most {MAX_SPEAK_TEXT} characters"
            )
        await self._wait_connected()
        await self._send_text(json.dumps({"type": "Speak", "text": text}))
        if self._first_text_at is None:
            self._first_text_at = time.monotonic()
        self.stats.characters += len(text)
        self._unflushed = True

    async def flush(self) -> None:
        """Have Deepgram speak what it holds (`Flush`); a no-op without text."""
        if not self._unflushed:
            return
        await self._wait_connected()
        # Counted before it goes: its Flushed may come back before the send
        # returns (a send that waits for the socket to drain).
        now = time.monotonic()
        if self._owed == 0:
            self._owed_since = now
            self._heard_since_flush = False
        self._owed += 1
        try:
            await self._send_text(FLUSH)
        except BaseException:
            self._owed -= 1
            raise
        self._unflushed = False
        self.stats.flushes += 1
        if self._first_flush_at is None:
            self._first_flush_at = now
        self._wake.set()

    async def end(self) -> None:
        """The message's text is complete: flush the rest.

        `audio()` ends once Deepgram has sent all of it (at once when no
        text was sent at all).
        """
        self._raise_if_failed()
        await self.flush()
        self._ended = True
        if self._owed == 0:
            self._message_complete()

    def interrupt(self, error: BaseException) -> None:
        """End `audio()` with `error` (the caller's text source failed).

        The socket stays open: the caller aborts it.
        """
        if self._interrupted is None:
            self._interrupted = error
        self._wake.set()

    async def audio(self) -> AsyncIterator[bytes]:
        """The message's audio as it arrives; ends when the message is complete.

        Raises the socket's error (a `DeepgramTimeoutError` when Deepgram
        owes audio and sends none in time).
        """
        while True:
            if self._interrupted is not None:
                raise self._interrupted
            if self._aborted:
                self._raise_if_failed()
            if self._audio:
                chunk = self._audio.popleft()
                self._unread -= len(chunk)
                yield chunk
                continue
            if self._complete:
                return
            self._raise_if_failed()
            self._wake.clear()
            timeout = self._time_left()
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                self._owing_too_long()

    # -- for the kinds -----------------------------------------------------

    @override
    async def abort(
        self,
        timeout: float = DEFAULT_ABORT_TIMEOUT,
        *,
        reason: str = "The Deepgram session was aborted",
    ) -> None:
        """Stop at once: audio held or still coming is dropped, a reader gets
        the abort's error; then the kind's stop message and `Close`."""
        self._aborted = True
        self._drop_queued()
        await super().abort(timeout, reason=reason)

    @override
    def _handle_binary(self, data: bytes) -> None:
        # Nothing is kept once the socket stopped or failed.
        if self._aborted or self._error is not None or self._dropping_audio():
            return
        if not data:
            return
        if (
            self._unread + len(data)
            > MAX_UNREAD_SECONDS * self.options.bytes_per_second
        ):
            self._drop_queued()
            self._fail(
                DeepgramProtocolError(
                    "More audio than this client holds unread "
                    f"({MAX_UNREAD_SECONDS // 60} minutes)",
                    request_id=self.request_id,
                )
            )
            return
        self._unread += len(data)
        now = time.monotonic()
        began = (
            self._first_text_at if self.speaks_before_flush else self._first_flush_at
        )
        if self.stats.audio_frames == 0 and began is not None:
            self.stats.first_audio_seconds = now - began
        self.stats.audio_bytes += len(data)
        self.stats.audio_frames += 1
        self._audio.append(data)
        self._heard_since_flush = True
        if self._owed_since is not None:
            self._owed_since = now
        self._wake.set()

    def _drop_queued(self) -> None:
        """Forget the audio received and not yet read."""
        self._audio.clear()
        self._unread = 0

    def _dropping_audio(self) -> bool:
        """True while audio is dropped (`/v1` between `Clear` and `Cleared`)."""
        return False

    def _flush_answered(self) -> None:
        """Deepgram sent all the audio of the oldest outstanding `Flush`."""
        if self._owed:
            self._owed -= 1
        # The next outstanding Flush's first audio is timed from now.
        self._owed_since = time.monotonic() if self._owed else None
        self._heard_since_flush = False
        if self._ended and self._owed == 0:
            self._message_complete()
        self._wake.set()

    def _message_complete(self) -> None:
        self._complete = True
        self._owed = 0
        self._owed_since = None
        self._wake.set()

    def _warned(self, code: str, description: str) -> None:
        """Log a `Warning` from Deepgram (scrubbed) and count it."""
        self.stats.warnings += 1
        _LOGGER.warning(
            "Deepgram warned on %s: %s %s (request %s)",
            self.path,
            self._scrub(code, 100),
            self._scrub(description, 500),
            self.request_id,
        )

    @override
    def _on_fail(self) -> None:
        self._wake.set()

    # -- waiting -----------------------------------------------------------

    def _time_left(self) -> float | None:
        """Seconds the audio may take to come, None while nothing is owed."""
        if self._owed_since is None:
            return None
        bound = (
            self._frame_gap_timeout
            if self._heard_since_flush
            else self._first_audio_timeout
        )
        return max(0.0, self._owed_since + bound - time.monotonic())

    def _owing_too_long(self) -> None:
        if self._heard_since_flush:
            message = (
                f"Deepgram's audio stopped for {self._frame_gap_timeout:g} s "
                "in the middle of a message"
            )
        else:
            message = (
                f"Deepgram sent no audio within {self._first_audio_timeout:g} s "
                "of Flush"
            )
        self._fail(DeepgramTimeoutError(message, request_id=self.request_id))
        self._raise_if_failed()
