"""What the listen sessions share, `/v1/listen` and `/v2/listen`: audio going out.

`StreamSession` builds on `DeepgramSocket` (`socket.py`: the socket's life,
errors, bounds and closing) and adds what only listening needs: audio held
(bounded) until the socket is open, then sent in frames of whole samples
with bounded sends, and `CloseStream` to end the request after the last
held audio went out.
"""

from __future__ import annotations

from collections.abc import Sequence
import contextlib
from dataclasses import dataclass
from typing import ClassVar, Final, override

import aiohttp

from .endpoint import Endpoint
from .errors import DeepgramConnectionError, DeepgramError
from .socket import (
    DEFAULT_ABORT_TIMEOUT,
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_SEND_TIMEOUT,
    MAX_EXCEPTION_LINE,
    MAX_MESSAGE_BYTES,
    MAX_TRACE,
    DeepgramSocket,
    SocketStats,
    loggable_trace,
)

__all__ = [
    "CLOSE_STREAM",
    "DEFAULT_ABORT_TIMEOUT",
    "DEFAULT_CLOSE_TIMEOUT",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_BUFFER_SECONDS",
    "DEFAULT_SEND_TIMEOUT",
    "MAX_EXCEPTION_LINE",
    "MAX_MESSAGE_BYTES",
    "MAX_TRACE",
    "SAMPLE_BYTES",
    "StreamSession",
    "StreamStats",
    "loggable_trace",
]

CLOSE_STREAM: Final = '{"type": "CloseStream"}'

DEFAULT_MAX_BUFFER_SECONDS: Final = 30.0
_UNKNOWN_RATE_BUFFER: Final = 1 << 20
_UNKNOWN_RATE_FRAME: Final = 1 << 16
"""Largest frame when the byte rate is unknown: 64 KiB of whole samples."""
SAMPLE_BYTES: Final = {"linear16": 2, "linear32": 4, "mulaw": 1, "alaw": 1}


@dataclass(slots=True)
class StreamStats(SocketStats):
    """What one listen session did and how long it took, for diagnostics."""

    audio_bytes: int = 0
    audio_frames: int = 0


class StreamSession(DeepgramSocket):
    """A streaming listen request over one WebSocket; see the module docstring."""

    close_message: ClassVar[str] = CLOSE_STREAM
    stalled_send: ClassVar[str] = "Deepgram stopped taking audio"
    exact_frames: ClassVar[bool] = False
    """Send audio only in whole frames of `frame_ms` while streaming."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        endpoint: Endpoint,
        query: Sequence[tuple[str, str]],
        *,
        bytes_per_second: int | None,
        sample_block: int,
        stats: StreamStats,
        connect_timeout: float,
        frame_ms: int,
        max_frame_ms: int,
        max_buffer_seconds: float,
    ) -> None:
        """Prepare a session for an already validated query.

        `sample_block` is the size of one sample of every channel: frames
        always hold whole ones, whatever the chunks.
        """
        super().__init__(
            http, endpoint, query, stats=stats, connect_timeout=connect_timeout
        )
        self.stats: StreamStats
        rate = bytes_per_second
        block = max(1, sample_block)
        self._block = block
        self._frame_bytes = (
            max(block, rate * frame_ms // 1000 // block * block) if rate else 0
        )
        self._max_frame_bytes = (
            rate * max_frame_ms // 1000 // block * block
            if rate
            else _UNKNOWN_RATE_FRAME // block * block
        )
        self._max_buffer = (
            int(rate * max_buffer_seconds) if rate else _UNKNOWN_RATE_BUFFER
        )
        self._bytes_per_second = rate
        self._pending = bytearray()

    @property
    def audio_seconds(self) -> float | None:
        """Seconds of audio sent so far, when the encoding tells."""
        if not self._bytes_per_second:
            return None
        return self.stats.audio_bytes / self._bytes_per_second

    async def send_audio(self, data: bytes) -> None:
        """Queue audio; it is sent in frames of about `frame_ms` once connected.

        Frames hold whole samples: a chunk that splits one keeps the rest
        back until the next chunk completes it.
        """
        self._raise_if_failed()
        if not data:
            return  # an empty frame would end the stream at Deepgram
        self.start()
        self._pending += data
        if not self._connected.is_set():
            if len(self._pending) > self._max_buffer:
                self._pending.clear()  # never sent, so never billed
                self._fail(
                    DeepgramConnectionError(
                        "Too much audio held while connecting to Deepgram"
                    )
                )
                self._raise_if_failed()
            return
        if len(self._pending) >= self._frame_bytes:
            await self._flush(complete=not self.exact_frames)

    @override
    async def _after_connect(self) -> None:
        if self._error is None and len(self._pending) >= self._frame_bytes:
            with contextlib.suppress(DeepgramError):
                await self._flush(complete=not self.exact_frames)

    @override
    async def _before_close_message(self, *, flush: bool) -> None:
        if flush and self._error in (None, self._abort_error):
            await self._flush()

    async def _flush(self, *, complete: bool = True) -> None:
        """Send held whole samples in frames of at most the largest frame size.

        Without `complete`, a remainder smaller than one frame stays held. A
        split sample always stays held for the next chunk (at the end it is
        never sent: a part of a sample is not audio).
        """
        async with self._send_lock:
            whole = len(self._pending) // self._block * self._block
            while whole:
                if not complete and whole < self._max_frame_bytes:
                    return
                size = min(whole, self._max_frame_bytes)
                frame = bytes(self._pending[:size])
                del self._pending[:size]
                whole -= size
                await self._send(frame)
                self.stats.audio_bytes += size
                self.stats.audio_frames += 1
