"""One Deepgram live (`/v1/listen`) session over a WebSocket.

The life of a session (connecting, held audio, bounded sends, typed errors
and closing are shared with Flux, in `stream.py`):

1. `start()` opens the socket in the background; `send_audio()` may be called
   at once, audio is held (bounded) until the socket is open, then sent.
2. `send_audio()` coalesces small chunks into frames of about `frame_ms`,
   never sends an empty frame, and keeps the socket alive with `KeepAlive`
   while no audio flows. Frames always hold whole samples of every channel,
   whatever the chunks.
3. `finalize()` sends what is held, then `Finalize` and a ping, and returns
   the transcript as soon as the flushed result (`from_finalize`) arrives,
   or when a short bounded wait runs out: with what arrived if the server
   answered the ping (it read all the audio), with an error if it did not.
4. `close()` ends the request cleanly: `CloseStream`, a bounded wait for the
   remaining results, `Metadata` and the server's close, then closes.
   `abort()` does the same within about a second, for cancellation. A socket
   that does not close in time is torn down (its transport aborted), and a
   close that is itself cancelled still sends `CloseStream` (bounded).

Every wait is bounded; messages, the transcript, the finals and words kept
and the frames received (`intake.py`) are capped, so a flooding server ends the
session with a clear error; failures raise a `DeepgramError` subclass. Text
from the server is scrubbed of the key before it is kept or logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import logging
import time
from typing import Final

import aiohttp

from .endpoint import Endpoint
from .errors import (
    DeepgramError,
    DeepgramProtocolError,
    DeepgramServerError,
    DeepgramTimeoutError,
)
from .intake import LISTEN_RECEIVED_BYTES
from .messages import (
    ErrorMessage,
    MessageFormatError,
    Metadata,
    Results,
    ServerMessage,
    parse_message,
)
from .options import LiveOptions
from .stream import (
    CLOSE_STREAM,
    DEFAULT_ABORT_TIMEOUT,
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_BUFFER_SECONDS,
    DEFAULT_SEND_TIMEOUT,
    MAX_MESSAGE_BYTES,
    SAMPLE_BYTES,
    StreamSession,
    StreamStats,
)
from .transcript import Transcript

_LOGGER = logging.getLogger(__name__)

KEEP_ALIVE: Final = '{"type": "KeepAlive"}'
FINALIZE: Final = '{"type": "Finalize"}'

DEFAULT_FINALIZE_TIMEOUT: Final = 2.0
DEFAULT_KEEPALIVE_INTERVAL: Final = 4.0
DEFAULT_FRAME_MS: Final = 50
MAX_FRAME_MS: Final = 250
MAX_TRANSCRIPT_CHARS: Final = 10_000
"""Longest transcript a session keeps (minutes of dictation)."""
MAX_FINALS: Final = 5_000
"""Most final results a session keeps.

Deepgram sends a final every few seconds of audio (empty ones for silence,
more with short endpointing): a couple of minutes brings under 200.
"""
MAX_WORDS: Final = 10_000
"""Most words a session keeps (its final results' and the latest interim's).

A spoken command has tens of words, minutes of dictation a few hundred; a
transcript within `MAX_TRANSCRIPT_CHARS` holds about 2,000.
"""

__all__ = [
    "CLOSE_STREAM",
    "DEFAULT_ABORT_TIMEOUT",
    "DEFAULT_CLOSE_TIMEOUT",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_FINALIZE_TIMEOUT",
    "DEFAULT_FRAME_MS",
    "DEFAULT_KEEPALIVE_INTERVAL",
    "DEFAULT_MAX_BUFFER_SECONDS",
    "DEFAULT_SEND_TIMEOUT",
    "FINALIZE",
    "KEEP_ALIVE",
    "LISTEN_RECEIVED_BYTES",
    "MAX_FINALS",
    "MAX_FRAME_MS",
    "MAX_MESSAGE_BYTES",
    "MAX_TRANSCRIPT_CHARS",
    "MAX_WORDS",
    "LiveSession",
    "SessionStats",
]


@dataclass(slots=True)
class SessionStats(StreamStats):
    """What one session did and how long it took, for diagnostics."""

    finalize_seconds: float | None = None
    finalize_answered: bool = False
    keepalives: int = 0


class LiveSession(StreamSession):
    """A live transcription session; see the module docstring."""

    path = "/v1/listen"
    max_received_bytes = LISTEN_RECEIVED_BYTES

    def __init__(
        self,
        http: aiohttp.ClientSession,
        endpoint: Endpoint,
        options: LiveOptions,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        keepalive_interval: float = DEFAULT_KEEPALIVE_INTERVAL,
        frame_ms: int = DEFAULT_FRAME_MS,
        max_buffer_seconds: float = DEFAULT_MAX_BUFFER_SECONDS,
        on_message: Callable[[ServerMessage], None] | None = None,
    ) -> None:
        """Prepare a session; raises `DeepgramOptionsError` for bad options."""
        super().__init__(
            http,
            endpoint,
            options.query(),
            bytes_per_second=options.bytes_per_second,
            sample_block=SAMPLE_BYTES.get(options.encoding or "", 1)
            * (options.channels or 1),
            stats=SessionStats(),
            connect_timeout=connect_timeout,
            frame_ms=frame_ms,
            max_frame_ms=MAX_FRAME_MS,
            max_buffer_seconds=max_buffer_seconds,
        )
        self.stats: SessionStats
        self._keepalive_interval = keepalive_interval
        self._on_message = on_message
        self.transcript = Transcript()
        self.metadata: Metadata | None = None
        self._finalized = asyncio.Event()
        self._over_cap = False

    async def finalize(self, timeout: float = DEFAULT_FINALIZE_TIMEOUT) -> Transcript:
        """Flush Deepgram and return the transcript (bounded by `timeout`).

        Waits for the `from_finalize` result; when it does not come in time,
        returns what was collected. Raises the session's error if it failed.
        """
        await self._wait_connected()
        # Every whole sample goes out first; a split one stays held for the
        # next chunk (the stream goes on after Finalize).
        await self._flush()
        sent_at = time.monotonic()
        self._finalized.clear()
        self._pong.clear()
        await self._send_text(FINALIZE)
        # Its pong proves the server read everything sent before it.
        await self._send_ping()
        waiters = [
            asyncio.create_task(self._finalized.wait()),
            asyncio.create_task(self._closed.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._raise_if_failed()
        if self._finalized.is_set():
            self.stats.finalize_answered = True
            self.stats.finalize_seconds = time.monotonic() - sent_at
        elif not self._pong.is_set():
            self._fail(
                DeepgramTimeoutError(
                    f"Deepgram did not take the audio: no answer within {timeout:g} s",
                    request_id=self.request_id,
                )
            )
            self._raise_if_failed()
        else:
            _LOGGER.debug(
                "No answer to Finalize within %.1f s (request %s); using what arrived",
                timeout,
                self.request_id,
            )
        return self.transcript

    # -- hooks -------------------------------------------------------------

    def _on_open(self) -> None:
        self._spawn("deepgram live keepalive", self._keepalive())

    def _on_fail(self) -> None:
        self._finalized.set()

    async def _keepalive(self) -> None:
        # Every turn sleeps first: no failure can make this loop spin and
        # starve the event loop.
        delay = self._keepalive_interval
        while True:
            await asyncio.sleep(delay)
            if self._close_sent:
                return
            delay = self._keepalive_interval - (time.monotonic() - self._last_send)
            if delay > 0:
                continue  # something was sent meanwhile
            try:
                await self._send_text(KEEP_ALIVE)
            except DeepgramError:
                return
            self.stats.keepalives += 1
            delay = self._keepalive_interval

    def _handle_text(self, text: str) -> None:
        # Past a bound the session has failed: nothing more is even parsed.
        if self._over_cap:
            return
        try:
            message = parse_message(text)
        except MessageFormatError as err:
            self._note_malformed(str(err), text)
            return
        if message is None:
            _LOGGER.debug(
                "Ignoring a Deepgram message of unknown type: %s",
                self._scrub(text[:80]),
            )
            return
        if isinstance(message, Results):
            self.request_id = self.request_id or self._scrub.request_id(
                message.request_id
            )
            self.transcript.add(message)
            if (over := self._over_bound()) is not None:
                self._over_cap = True
                self.transcript = Transcript()  # what it kept is let go
                self._fail(DeepgramProtocolError(over, request_id=self.request_id))
                return
            if message.from_finalize:
                self._finalized.set()
        elif isinstance(message, Metadata):
            self.metadata = message
            self.request_id = (
                self._scrub.request_id(message.request_id) or self.request_id
            )
        elif isinstance(message, ErrorMessage):
            description = self._scrub(message.description)
            _LOGGER.debug(
                "Deepgram reported an error: %s (request %s)",
                description,
                self.request_id,
            )
            self._fail(
                DeepgramServerError(
                    "Deepgram reported an error",
                    reason=description,
                    request_id=self.request_id,
                )
            )
        if self._on_message is not None:
            try:
                self._on_message(message)
            except Exception:
                _LOGGER.exception("Error in a Deepgram message callback")

    def _over_bound(self) -> str | None:
        """Which bound on what the session keeps the transcript passed, if any."""
        transcript = self.transcript
        if len(transcript.text) > MAX_TRANSCRIPT_CHARS:
            return (
                "Deepgram's transcript is longer than this client accepts "
                f"({MAX_TRANSCRIPT_CHARS:,} characters)"
            )
        if len(transcript.finals) > MAX_FINALS:
            return (
                "Deepgram sent more final results than this client keeps "
                f"({MAX_FINALS:,})"
            )
        if transcript.word_count > MAX_WORDS:
            return f"Deepgram sent more words than this client keeps ({MAX_WORDS:,})"
        return None
