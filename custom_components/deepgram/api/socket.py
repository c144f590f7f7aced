"""The life of every Deepgram WebSocket: listening and speaking alike.

`DeepgramSocket` opens the socket in the background (bounded), receives,
turns every failure into a typed `DeepgramError` (handshake status, close
code, lost connection, a frame refused), and ends the request: the kind's
own closing message (`CloseStream` when listening, `Close` when speaking),
a bounded wait for the server's close, then closes (`close()`), or the
same within about a second for cancellation (`abort()`). A socket that does
not close in time is torn down (its transport aborted), and a close that is
itself cancelled still sends the closing message (bounded). Messages are
capped in size (`max_message_bytes`); a frame refused for its size or its
bytes still ends the request with the closing message before aiohttp
closes the socket (`_close_message_first`). Every frame received (text,
binary, ping, pong) is counted against the class's `max_received_bytes`
(`intake.py`): past it the session fails with a clear error and reads
nothing more into its state. Text from the server, the handshake's request
id too, is scrubbed of the key before it is kept or logged.

Subclasses give the path, the closing message and the bounds on what they
take, parse the server's text frames (`_handle_text`, noting malformed ones
with `_note_malformed`), may take binary frames (`_handle_binary`: by
default they are unexpected, ignored and only counted), may start tasks
once connected (`_on_open`), send what they held once connected
(`_after_connect`), send what must precede the closing message
(`_before_close_message`) and wake their own waiters when the session
fails (`_on_fail`). What each kind sends and keeps lives in its own file:
`stream.py` (audio, listening), the speak sessions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
import contextlib
from dataclasses import dataclass
import logging
import socket
import struct
import time
import traceback
from typing import Any, ClassVar, Final

import aiohttp

from .endpoint import Endpoint
from .errors import (
    DeepgramConnectionError,
    DeepgramError,
    DeepgramProtocolError,
    DeepgramTimeoutError,
    error_for_close,
    error_for_status,
)
from .intake import Intake, frame_bytes
from .redact import Redactor, secrets_of
from .transport import check_request, client_failure

_LOGGER = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT: Final = 10.0
DEFAULT_CLOSE_TIMEOUT: Final = 5.0
DEFAULT_ABORT_TIMEOUT: Final = 1.0
DEFAULT_SEND_TIMEOUT: Final = 5.0
MAX_MESSAGE_BYTES: Final = 256 * 1024
"""Largest server message a listen session takes (a long Results is a few kB)."""
MAX_TRACE: Final = 4000
"""Longest part of a traceback logged before its exception line: its end,
the innermost frames (after scrubbing)."""
MAX_EXCEPTION_LINE: Final = 1000
"""Longest exception line logged with a traceback: its start (after scrubbing)."""
_DATA_FRAMES: Final = frozenset(
    {
        aiohttp.WSMsgType.TEXT,
        aiohttp.WSMsgType.BINARY,
        aiohttp.WSMsgType.PING,
        aiohttp.WSMsgType.PONG,
    }
)
"""Frames counted against the bound on what a session takes."""


@dataclass(slots=True)
class SocketStats:
    """What one socket did and how long it took, for diagnostics."""

    connect_seconds: float | None = None
    close_code: int | None = None
    clean_close: bool = False
    """Closed by the server with 1000 after this client's closing message."""


class DeepgramSocket:
    """A request over one Deepgram WebSocket; see the module docstring."""

    path: ClassVar[str]
    close_message: ClassVar[str]
    """What ends this kind of request (`CloseStream`, `Close`), sent once."""
    max_received_bytes: ClassVar[int]
    """Most this kind of session takes from the server (`intake.py`): each
    kind of session sets its own; listen sessions take
    `LISTEN_RECEIVED_BYTES`."""
    max_message_bytes: ClassVar[int] = MAX_MESSAGE_BYTES
    """Largest single frame taken; a larger one ends the request."""
    stalled_send: ClassVar[str] = "Deepgram stopped taking what was sent"
    """The error when a send does not complete in time."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        endpoint: Endpoint,
        query: Sequence[tuple[str, str]],
        *,
        stats: SocketStats,
        connect_timeout: float,
    ) -> None:
        """Prepare a session for an already validated query."""
        self._query = list(query)
        self._http = http
        self._endpoint = endpoint
        self._scrub = Redactor(secrets_of(endpoint.api_key, endpoint.base_url))
        self._connect_timeout = connect_timeout
        self.request_id: str | None = None
        self.stats = stats

        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._send_lock = asyncio.Lock()
        self._connect_task: asyncio.Task[None] | None = None
        self._receive_task: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._transport: asyncio.Transport | None = None
        self._pong = asyncio.Event()
        self._connected = asyncio.Event()
        self._closed = asyncio.Event()
        self._failed = asyncio.Event()
        self._error: DeepgramError | None = None
        self._abort_error: DeepgramError | None = None
        self._intake = Intake(self._scrub, self._fail, self._received_bound())
        self._close_sent = False
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

    async def wait_failed(self) -> None:
        """Wait until the session fails, then raise its error.

        A caller whose audio stalled sends nothing, so without this it would
        learn that Deepgram ended the session only at its own idle bound.
        """
        await self._failed.wait()
        self._raise_if_failed()

    async def close(self, timeout: float = DEFAULT_CLOSE_TIMEOUT) -> None:
        """End the request cleanly: its closing message, bounded wait, close.

        Never raises.
        """
        await self._shutdown(timeout, flush=True)

    async def abort(
        self,
        timeout: float = DEFAULT_ABORT_TIMEOUT,
        *,
        reason: str = "The Deepgram session was aborted",
    ) -> None:
        """End the request quickly (cancellation, stopping); never raises.

        Whoever still uses the session gets an error saying `reason`.
        """
        self._abort_error = DeepgramConnectionError(reason, request_id=self.request_id)
        self._fail(self._abort_error)
        await self._shutdown(timeout, flush=False)

    # -- hooks -------------------------------------------------------------

    def _handle_text(self, text: str) -> None:
        raise NotImplementedError

    def _received_bound(self) -> int:
        """Most this session takes from the server: the class's bound, unless
        a kind's bound depends on its options (speak: its audio rate)."""
        return self.max_received_bytes

    def _handle_binary(self, data: bytes) -> None:
        """A binary frame (already counted): unexpected unless overridden.

        Listen sessions ignore them: the first is logged at debug, the rest
        summarised at the close. Speak sessions take audio here.
        """
        self._intake.note_binary(len(data))

    def _note_malformed(self, reason: str, text: str) -> None:
        """Note a malformed text message: the first is logged, the rest
        summarised at the close."""
        self._intake.note_malformed(reason, text)

    def _on_open(self) -> None:
        """Called once the socket is open (start tasks with `_spawn`)."""

    def _on_fail(self) -> None:
        """Called when the session fails: wake the subclass's waiters."""

    async def _after_connect(self) -> None:
        """Called once connected, after `_on_open`: send what was held."""

    async def _before_close_message(self, *, flush: bool) -> None:
        """Send what must go before the closing message.

        `flush` is true for a clean close (`close()`), false for `abort()`.
        A `DeepgramError` here leaves the closing message unsent.
        """

    def _spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        """Run a task that ends with the session."""
        self._tasks.append(asyncio.create_task(coro, name=name))

    # -- connection --------------------------------------------------------

    async def _connect(self) -> None:
        url = self._endpoint.ws_url(self.path)
        auth = self._endpoint.auth_headers()
        try:
            check_request(url, self._query, auth)
            async with asyncio.timeout(self._connect_timeout):
                ws = await self._http.ws_connect(
                    url,
                    params=self._query,
                    headers=auth,
                    timeout=aiohttp.ClientWSTimeout(ws_close=DEFAULT_ABORT_TIMEOUT),
                    autoping=False,  # pongs are read: see `_pong`
                    # aiohttp refuses a frame of max_msg_size or more.
                    max_msg_size=self.max_message_bytes + 1,
                )
        except DeepgramError as err:
            self._fail(err)
            return
        except aiohttp.WSServerHandshakeError as err:
            self._fail(error_for_status(err.status, err.headers, scrub=self._scrub))
            return
        except TimeoutError:
            self._fail(
                DeepgramTimeoutError(
                    f"{self._endpoint.host} did not answer within "
                    f"{self._connect_timeout:g} s"
                )
            )
            return
        except Exception as err:  # e.g. "Session is closed" while stopping
            self._fail(client_failure(err, self._endpoint.host))
            return
        self._ws = ws
        _close_message_first(ws, self._close_message_before_refusal)
        self._transport = _transport_of(ws)
        # aiohttp has no public accessor for the handshake's headers.
        response = getattr(ws, "_response", None)
        headers = getattr(response, "headers", None)
        if headers is not None:
            self.request_id = self._scrub.request_id(headers.get("dg-request-id"))
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
        await self._after_connect()

    async def _wait_connected(self) -> None:
        self.start()
        task = self._connect_task
        if task is not None and not task.done():
            # Not `await task`: an abort cancels the task, not its waiters.
            await asyncio.wait({task})
        self._raise_if_failed()  # an abort failed the session before cancelling

    # -- sending -----------------------------------------------------------

    async def _send_text(self, text: str) -> None:
        async with self._send_lock:
            await self._send(text)

    async def _send_ping(self) -> None:
        async with self._send_lock:
            await self._send(None)

    async def _send(self, data: bytes | str | None) -> None:
        """Send data (bytes), a control message (str) or a ping (None)."""
        # No check of self._error here: the closing message must still go
        # out after an in-band error, while the socket is open.
        ws = self._ws
        if ws is None or ws.closed:
            raise self._error or DeepgramConnectionError(
                "The Deepgram stream is closed"
            )
        try:
            async with asyncio.timeout(DEFAULT_SEND_TIMEOUT):
                if isinstance(data, bytes):
                    await ws.send_bytes(data)
                elif data is None:
                    await ws.ping()
                else:
                    await ws.send_str(data)
        except TimeoutError:
            self._fail(
                DeepgramTimeoutError(self.stalled_send, request_id=self.request_id)
            )
            self._raise_if_failed()
        except aiohttp.ClientError, ConnectionError:
            self._fail(
                DeepgramConnectionError(
                    "Lost the connection to Deepgram while sending",
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
                if msg.type in _DATA_FRAMES:
                    # Past the bound the session has failed: frames are still
                    # read (to see the close) but nothing is done with them.
                    if not self._intake.take(frame_bytes(msg.data), self.request_id):
                        continue
                    if msg.type is aiohttp.WSMsgType.TEXT:
                        self._handle_text(msg.data)
                    elif msg.type is aiohttp.WSMsgType.BINARY:
                        self._handle_binary(msg.data)
                    elif msg.type is aiohttp.WSMsgType.PING:
                        # A server that stopped reading gets no pong.
                        with contextlib.suppress(Exception):
                            async with asyncio.timeout(DEFAULT_SEND_TIMEOUT):
                                await ws.pong(msg.data)
                    else:
                        self._pong.set()
                elif msg.type is aiohttp.WSMsgType.CLOSE:
                    reason = msg.extra or None
                    break
                else:
                    if msg.type is aiohttp.WSMsgType.ERROR:
                        self._refused(msg.data)
                    break
        except Exception as err:
            # Never expected (a malformed message is skipped where it is
            # parsed): the cause is logged, scrubbed, and the session fails
            # as what happened; the socket did not close.
            _LOGGER.error(  # noqa: TRY400 - not .exception: the trace is scrubbed
                "Stopped reading Deepgram's messages (request %s): %s",
                self.request_id,
                loggable_trace(err, self._scrub),
            )
            self._fail(
                DeepgramProtocolError(
                    "A message from Deepgram could not be handled",
                    request_id=self.request_id,
                )
            )
        finally:
            self._on_closed(ws.close_code, reason)

    def _refused(self, err: object) -> None:
        """Fail with what aiohttp refused in a frame (the closing message went
        first)."""
        code = err.code if isinstance(err, aiohttp.WebSocketError) else None
        if code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG:
            message = (
                "Deepgram sent a message larger than this client accepts "
                f"({self.max_message_bytes // 1024} KiB)"
            )
        elif code == aiohttp.WSCloseCode.INVALID_TEXT:
            message = "Deepgram sent a text message that is not UTF-8"
        else:
            message = "Deepgram sent a frame this client cannot read"
        self._fail(
            DeepgramProtocolError(
                message,
                status=code,
                reason=self._scrub(str(err)),
                request_id=self.request_id,
            )
        )

    async def _close_message_before_refusal(self) -> None:
        """The closing message (bounded), as aiohttp is about to close over a
        bad frame."""
        if self._close_sent:
            return
        self._close_sent = True
        # A socket that cannot take it is closed all the same.
        with contextlib.suppress(DeepgramError, TimeoutError):
            async with asyncio.timeout(DEFAULT_ABORT_TIMEOUT):
                await self._send_text(self.close_message)

    def _on_closed(self, code: int | None, reason: str | None) -> None:
        self.stats.close_code = code
        self.stats.clean_close = code == 1000 and self._close_sent
        if not (self._closing or self.stats.clean_close):
            if code in (1008, 1009, 1011):
                self._fail(
                    error_for_close(code, reason, self.request_id, scrub=self._scrub)
                )
            else:
                self._fail(
                    # aiohttp always has a code here: 1000 for a close
                    # frame without one, 1006 for a lost connection.
                    DeepgramConnectionError(
                        f"The Deepgram stream ended early (close {code})",
                        status=code,
                        reason=self._scrub(reason),
                        request_id=self.request_id,
                    )
                )
        self._intake.summarise(self.request_id)
        self._closed.set()

    # -- failure and shutdown ----------------------------------------------

    def _fail(self, error: DeepgramError) -> None:
        self._failed.set()
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
        except asyncio.CancelledError:
            # Cancelled while closing (Home Assistant stopping): the request
            # is still ended with its closing message, within the abort bound.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(DEFAULT_ABORT_TIMEOUT):
                    await self._end_stream(flush=False)
            raise
        finally:
            await self._teardown()

    async def _end_stream(self, *, flush: bool) -> None:
        if self._connect_task is None:
            return
        await asyncio.wait({self._connect_task})
        if self._ws is None or self._ws.closed:
            return
        try:
            await self._before_close_message(flush=flush)
            if not self._close_sent:
                self._close_sent = True
                await self._send_text(self.close_message)
        except DeepgramError as err:
            _LOGGER.debug("Could not end the Deepgram request: %s", err)
            return
        await self._closed.wait()

    async def _teardown(self) -> None:
        self._closing = True
        for task in (self._connect_task, *self._tasks):
            if task is not None:
                task.cancel()  # a no-op for a finished task
        if self._ws is not None and not self._ws.closed:
            try:
                async with asyncio.timeout(DEFAULT_ABORT_TIMEOUT):
                    await self._ws.close()
            except Exception:  # any failure: tear the socket down
                self._abort_transport()
        if self._ws is not None and self._ws.close_code in (None, 1006):
            self._abort_transport()
        if self._receive_task is not None:
            self._receive_task.cancel()
        tasks = (self._connect_task, *self._tasks, self._receive_task)
        await asyncio.gather(
            *(t for t in tasks if t is not None), return_exceptions=True
        )
        self._closed.set()

    def _abort_transport(self) -> None:
        """Drop the socket at once, unsent data and all.

        A graceful close waits for the send buffer to drain, which never
        happens when the server stopped reading: the socket would stay open.
        """
        transport = self._transport
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):  # linger 0: reset, not FIN
                sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
        transport.abort()


def loggable_trace(err: BaseException, scrub: Redactor) -> str:
    """`err`'s traceback for the log, scrubbed, ending with its exception line.

    What matters is at the end: the exception line (its start is kept, at
    most `MAX_EXCEPTION_LINE` characters) and, before it, the innermost
    frames (the end of the rest is kept, at most `MAX_TRACE` characters; a
    chained cause comes before them). A secret the cut at the start of that
    end split is still hidden: `Redactor` takes a text starting with the end
    of a secret as it takes one ending with its start. An exception group's
    trace ends with its tree of sub-exceptions, its line inside: it is kept
    as it is (the end of it), the line not added again.
    """
    exception = traceback.TracebackException.from_exception(err)
    line = "".join(exception.format_exception_only())
    text = "".join(exception.format())
    frames = text.removesuffix(line)
    if frames == text:  # a group: its line is in the tree, not at the end
        frames, line = text.rstrip("\n"), ""
    if len(frames) > MAX_TRACE:
        frames = "…" + (scrub(frames[-MAX_TRACE:], MAX_TRACE) or "")
    else:
        frames = scrub(frames, MAX_TRACE) or ""
    return frames + (scrub(line.rstrip("\n"), MAX_EXCEPTION_LINE) or "")


def _transport_of(ws: aiohttp.ClientWebSocketResponse) -> asyncio.Transport | None:
    """The socket's transport (aiohttp has no public accessor for it)."""
    response = getattr(ws, "_response", None)
    connection = getattr(response, "connection", None)
    transport = getattr(connection, "transport", None)
    return transport if isinstance(transport, asyncio.Transport) else None


def _close_message_first(
    ws: aiohttp.ClientWebSocketResponse,
    close_message: Callable[[], Awaitable[None]],
) -> None:
    """Have aiohttp's own close over a refused frame send the closing message
    first (`CloseStream`, `Close`).

    A text frame over `max_msg_size` (refused from its header, before any
    of it is buffered), not UTF-8 or breaking the protocol makes `receive()`
    close the socket itself (1009, 1007, 1002) before it returns the error:
    aiohttp has no hook between the two, so this socket's `close` is
    wrapped. Only those closes carry a code other than 1000: not the reply
    to the server's close, nor the closes this client starts (they send
    the closing message on their own).
    """
    close = ws.close

    async def close_after_close_message(
        *, code: int = aiohttp.WSCloseCode.OK, message: bytes = b""
    ) -> bool:
        if code != aiohttp.WSCloseCode.OK:
            await close_message()
        return await close(code=code, message=message)

    ws.close = close_after_close_message  # type: ignore[method-assign]
