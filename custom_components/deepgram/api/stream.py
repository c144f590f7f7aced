"""What every Deepgram streaming session shares, `/v1/listen` and `/v2/listen`.

`StreamSession` opens the socket in the background, holds audio (bounded)
until it is open, sends audio in frames with bounded sends, turns every
failure into a typed `DeepgramError`, and ends the request: `CloseStream`,
a bounded wait for the server's close, then closes (`close()`), or the same
within about a second for cancellation (`abort()`).

Subclasses give the path, parse the server's text frames
(`_handle_text`), may start tasks once connected (`_on_open`) and wake their
own waiters when the session fails (`_on_fail`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
import contextlib
from dataclasses import dataclass
import logging
import time
from typing import Any, ClassVar, Final

import aiohttp

from .endpoint import Endpoint
from .errors import (
    DeepgramConnectionError,
    DeepgramError,
    DeepgramTimeoutError,
    error_for_close,
    error_for_status,
)

_LOGGER = logging.getLogger(__name__)

CLOSE_STREAM: Final = '{"type": "CloseStream"}'

DEFAULT_CONNECT_TIMEOUT: Final = 10.0
DEFAULT_CLOSE_TIMEOUT: Final = 5.0
DEFAULT_ABORT_TIMEOUT: Final = 1.0
DEFAULT_SEND_TIMEOUT: Final = 5.0
DEFAULT_MAX_BUFFER_SECONDS: Final = 30.0
_UNKNOWN_RATE_BUFFER: Final = 1 << 20


@dataclass(slots=True)
class StreamStats:
    """What one session did and how long it took, for diagnostics."""

    connect_seconds: float | None = None
    audio_bytes: int = 0
    audio_frames: int = 0
    close_code: int | None = None
    clean_close: bool = False


class StreamSession:
    """A streaming request over one WebSocket; see the module docstring."""

    path: ClassVar[str]
    exact_frames: ClassVar[bool] = False
    """Send audio only in whole frames of `frame_ms` while streaming."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        endpoint: Endpoint,
        query: Sequence[tuple[str, str]],
        *,
        bytes_per_second: int | None,
        stats: StreamStats,
        connect_timeout: float,
        frame_ms: int,
        max_frame_ms: int,
        max_buffer_seconds: float,
    ) -> None:
        """Prepare a session for an already validated query."""
        self._query = list(query)
        self._http = http
        self._endpoint = endpoint
        self._connect_timeout = connect_timeout
        rate = bytes_per_second
        self._frame_bytes = rate * frame_ms // 1000 if rate else 0
        self._max_frame_bytes = rate * max_frame_ms // 1000 if rate else 1 << 16
        self._max_buffer = (
            int(rate * max_buffer_seconds) if rate else _UNKNOWN_RATE_BUFFER
        )
        self._bytes_per_second = rate
        self.request_id: str | None = None
        self.stats = stats

        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._pending = bytearray()
        self._send_lock = asyncio.Lock()
        self._connect_task: asyncio.Task[None] | None = None
        self._receive_task: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()
        self._closed = asyncio.Event()
        self._error: DeepgramError | None = None
        self._close_stream_sent = False
        self._closing = False
        self._last_send = 0.0
        self._started_at = 0.0

    # -- public API --------------------------------------------------------

    @property
    def error(self) -> DeepgramError | None:
        """The error that ended the session, if one did."""
        return self._error

    @property
    def connected(self) -> bool:
        """True while the socket is open."""
        return self._ws is not None and not self._ws.closed

    @property
    def audio_seconds(self) -> float | None:
        """Seconds of audio sent so far, when the encoding tells."""
        if not self._bytes_per_second:
            return None
        return self.stats.audio_bytes / self._bytes_per_second

    def start(self) -> None:
        """Start connecting in the background (idempotent)."""
        if self._connect_task is None:
            self._started_at = time.monotonic()
            self._connect_task = asyncio.create_task(
                self._connect(), name=f"deepgram {self.path} connect"
            )

    async def connect(self) -> None:
        """Start connecting and wait until the socket is open."""
        self.start()
        await self._wait_connected()

    async def send_audio(self, data: bytes) -> None:
        """Queue audio; it is sent in frames of about `frame_ms` once connected."""
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

    async def close(self, timeout: float = DEFAULT_CLOSE_TIMEOUT) -> None:
        """End the request cleanly: CloseStream, bounded wait, close. Never raises."""
        await self._shutdown(timeout, flush=True)

    async def abort(self, timeout: float = DEFAULT_ABORT_TIMEOUT) -> None:
        """End the request quickly for cancellation; never raises."""
        await self._shutdown(timeout, flush=False)

    # -- hooks -------------------------------------------------------------

    def _handle_text(self, text: str) -> None:
        raise NotImplementedError

    def _on_open(self) -> None:
        """Called once the socket is open (start tasks with `_spawn`)."""

    def _on_fail(self) -> None:
        """Called when the session fails: wake the subclass's waiters."""

    def _spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        """Run a task that ends with the session."""
        self._tasks.append(asyncio.create_task(coro, name=name))

    # -- connection --------------------------------------------------------

    async def _connect(self) -> None:
        url = self._endpoint.ws_url(self.path)
        try:
            async with asyncio.timeout(self._connect_timeout):
                ws = await self._http.ws_connect(
                    url,
                    params=self._query,
                    headers=self._endpoint.auth_headers(),
                    timeout=aiohttp.ClientWSTimeout(ws_close=DEFAULT_ABORT_TIMEOUT),
                    autoping=True,
                )
        except aiohttp.WSServerHandshakeError as err:
            self._fail(error_for_status(err.status, err.headers))
            return
        except TimeoutError:
            self._fail(
                DeepgramTimeoutError(
                    f"Deepgram at {self._endpoint.host} did not answer within "
                    f"{self._connect_timeout:g} s"
                )
            )
            return
        except (aiohttp.ClientError, OSError) as err:
            self._fail(
                DeepgramConnectionError(
                    f"Cannot reach Deepgram at {self._endpoint.host}: "
                    f"{type(err).__name__}"
                )
            )
            return
        except Exception as err:  # e.g. "Session is closed" while stopping
            self._fail(
                DeepgramConnectionError(
                    f"Could not connect to Deepgram: {type(err).__name__}: {err}"
                )
            )
            return
        self._ws = ws
        # aiohttp has no public accessor for the handshake's headers.
        response = getattr(ws, "_response", None)
        headers = getattr(response, "headers", None)
        if headers is not None:
            self.request_id = headers.get("dg-request-id")
        self.stats.connect_seconds = time.monotonic() - self._started_at
        self._last_send = time.monotonic()
        self._receive_task = asyncio.create_task(
            self._receive(ws), name=f"deepgram {self.path} receive"
        )
        self._on_open()
        self._connected.set()
        _LOGGER.debug(
            "Connected to Deepgram at %s%s in %.3f s",
            self._endpoint.host,
            self.path,
            self.stats.connect_seconds,
        )
        if self._error is None and len(self._pending) >= self._frame_bytes:
            with contextlib.suppress(DeepgramError):
                await self._flush(complete=not self.exact_frames)

    async def _wait_connected(self) -> None:
        self.start()
        task = self._connect_task
        if task is not None and not task.done():
            # Not `await task`: an abort cancels the task, not its waiters.
            await asyncio.wait({task})
        self._raise_if_failed()
        if task is not None and task.cancelled():
            raise DeepgramConnectionError("The Deepgram session was aborted")

    # -- sending -----------------------------------------------------------

    async def _flush(self, *, complete: bool = True) -> None:
        """Send held audio in frames of at most the largest frame size.

        Without `complete`, a remainder smaller than one frame stays held.
        """
        async with self._send_lock:
            while self._pending:
                if not complete and len(self._pending) < self._max_frame_bytes:
                    return
                frame = bytes(self._pending[: self._max_frame_bytes])
                del self._pending[: len(frame)]
                await self._send(frame)

    async def _send_text(self, text: str) -> None:
        async with self._send_lock:
            await self._send(text)

    async def _send(self, data: bytes | str) -> None:
        # No check of self._error here: CloseStream must still go out after
        # an in-band error, while the socket is open.
        ws = self._ws
        if ws is None or ws.closed:
            raise self._error or DeepgramConnectionError(
                "The Deepgram stream is closed"
            )
        try:
            async with asyncio.timeout(DEFAULT_SEND_TIMEOUT):
                if isinstance(data, bytes):
                    await ws.send_bytes(data)
                    self.stats.audio_bytes += len(data)
                    self.stats.audio_frames += 1
                else:
                    await ws.send_str(data)
        except TimeoutError:
            self._fail(
                DeepgramTimeoutError(
                    "Deepgram stopped taking audio", request_id=self.request_id
                )
            )
            self._raise_if_failed()
        except (aiohttp.ClientError, ConnectionError) as err:
            self._fail(
                DeepgramConnectionError(
                    f"Lost the connection to Deepgram: {type(err).__name__}",
                    request_id=self.request_id,
                )
            )
            self._raise_if_failed()
        self._last_send = time.monotonic()

    # -- receiving ---------------------------------------------------------

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        reason: str | None = None
        try:
            while True:
                msg = await ws.receive()
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self._handle_text(msg.data)
                elif msg.type is aiohttp.WSMsgType.CLOSE:
                    reason = msg.extra or None
                    break
                elif msg.type is aiohttp.WSMsgType.BINARY:
                    _LOGGER.debug("Ignoring a binary frame from Deepgram")
                else:
                    break
        finally:
            self._on_closed(ws.close_code, reason)

    def _on_closed(self, code: int | None, reason: str | None) -> None:
        self.stats.close_code = code
        self.stats.clean_close = code == 1000 and self._close_stream_sent
        if not (self._closing or self.stats.clean_close):
            if code in (1008, 1011):
                self._fail(error_for_close(code, reason, self.request_id))
            else:
                self._fail(
                    DeepgramConnectionError(
                        "The Deepgram stream ended early"
                        + (f" (close {code})" if code else ""),
                        status=code,
                        reason=reason,
                        request_id=self.request_id,
                    )
                )
        self._closed.set()

    # -- failure and shutdown ----------------------------------------------

    def _fail(self, error: DeepgramError) -> None:
        if self._error is None:
            self._error = error
            if not self._closing:
                _LOGGER.debug("Deepgram session failed: %s", error)
        self._on_fail()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    async def _shutdown(self, timeout: float, *, flush: bool) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self._end_stream(flush=flush)
        except TimeoutError:
            _LOGGER.debug(
                "Deepgram did not close within %.1f s (request %s); closing the socket",
                timeout,
                self.request_id,
            )
        finally:
            await self._teardown()

    async def _end_stream(self, *, flush: bool) -> None:
        if self._connect_task is None:
            return
        await asyncio.wait({self._connect_task})
        if self._ws is None or self._ws.closed:
            return
        try:
            if flush and self._error is None:
                await self._flush()
            if not self._close_stream_sent:
                self._close_stream_sent = True
                await self._send_text(CLOSE_STREAM)
        except DeepgramError as err:
            _LOGGER.debug("Could not send CloseStream: %s", err)
            return
        await self._closed.wait()

    async def _teardown(self) -> None:
        self._closing = True
        for task in (self._connect_task, *self._tasks):
            if task is not None:
                task.cancel()  # a no-op for a finished task
        if self._ws is not None and not self._ws.closed:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(DEFAULT_ABORT_TIMEOUT):
                    await self._ws.close()
        if self._receive_task is not None:
            self._receive_task.cancel()
        tasks = (self._connect_task, *self._tasks, self._receive_task)
        await asyncio.gather(
            *(t for t in tasks if t is not None), return_exceptions=True
        )
        self._closed.set()
