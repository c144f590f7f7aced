"""The ``/v1/listen`` websocket: handshake checks and one live session."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import hashlib
import json
import time
from typing import TYPE_CHECKING, Any
import uuid

from aiohttp import WSMessage, WSMsgType, web
from multidict import MultiMapping

from . import messages
from .auth import authorized
from .engine import TranscriptEngine
from .errors import json_error
from .faults import Faults
from .options import ListenOptions, QueryError, parse_listen_query
from .records import Frame, HandshakeRecord, LiveSessionRecord

if TYPE_CHECKING:
    from .server import FakeDeepgram

NO_ANSWER = 0
"""``HandshakeRecord.status`` of an upgrade that got no HTTP answer."""
FLOOD_BINARY_BYTES = 256 * 1024
"""Each binary frame of the ``flood_binary`` fault (the largest a client takes)."""


@dataclass(frozen=True, slots=True)
class _Outgoing:
    due: float
    message: dict[str, Any] | None = None
    raw: str | bytes | None = None
    close: tuple[int, str] | None = None


type _Parse[O] = Callable[[MultiMapping[str]], O]


async def receive_unless_closing(
    ws: web.WebSocketResponse,
    close_wanted: asyncio.Task[bool],
    timeout: float | None,
    close_request: Callable[[], tuple[int, str]],
) -> WSMessage | None:
    """The client's next frame, unless the session wants to close first.

    Then the socket is closed with `close_request()`'s code and reason and
    None is returned. Raises `TimeoutError` when nothing came in `timeout`.
    """
    receive = asyncio.create_task(ws.receive(timeout=timeout))
    await asyncio.wait([receive, close_wanted], return_when=asyncio.FIRST_COMPLETED)
    if not receive.done():
        receive.cancel()
        await asyncio.wait([receive])
        code, reason = close_request()
        await ws.close(code=code, message=reason.encode())
        return None
    return receive.result()


async def answer_upgrade[O](
    server: FakeDeepgram, request: web.Request, parse: _Parse[O]
) -> tuple[web.WebSocketResponse, str, O, Faults] | web.StreamResponse:
    """Answer a websocket upgrade like Deepgram: faults, auth, query checks.

    Returns the prepared socket, the request id, the parsed options and the
    session's faults, or the HTTP answer that refused the upgrade. Shared by
    ``/v1`` and ``/v2/listen`` and ``/speak``.
    """
    request_id = str(uuid.uuid4())
    faults = server.next_faults()

    def record(status: int) -> None:
        server.handshakes.append(
            HandshakeRecord(
                status=status,
                request_id=request_id,
                headers=request.headers,
                query=request.query,
                path=request.path,
                at=time.monotonic(),
            )
        )

    if faults.refuse:
        record(NO_ANSWER)
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=503)  # never reaches the client
    if faults.stall_handshake:
        record(NO_ANSWER)
        await asyncio.Event().wait()  # until FakeDeepgram.stop() cancels us
    await asyncio.sleep(server.latency.one_way + server.latency.uplink)
    if not authorized(request.headers, server.api_key):
        record(401)
        return json_error(401, request_id)
    if faults.handshake_status is not None:
        record(faults.handshake_status)
        return json_error(faults.handshake_status, request_id)
    if faults.echo_authorization:
        record(400)
        echoed = f"Bad header: Authorization: {request.headers.get('Authorization')}"
        return json_error(400, request_id, dg_error=echoed, body={"err_msg": echoed})
    try:
        options = parse(request.query)
    except QueryError as err:
        record(400)
        return json_error(400, request_id, dg_error=err.dg_error, body=err.body)
    ws = web.WebSocketResponse(autoclose=True, timeout=5.0)
    if not ws.can_prepare(request).ok:
        record(400)
        return json_error(400, request_id, dg_error="Expected a websocket upgrade")
    ws.headers["dg-request-id"] = (
        request.headers.get("Authorization", "")
        if faults.echo_authorization_in_request_id
        else request_id
    )
    await ws.prepare(request)
    record(101)
    return ws, request_id, options, faults


async def accept_upgrade[O](
    server: FakeDeepgram, request: web.Request, parse: _Parse[O]
) -> tuple[web.WebSocketResponse, LiveSessionRecord, O, Faults] | web.StreamResponse:
    """:func:`answer_upgrade`, then a listen session's record (in ``sessions``)."""
    answered = await answer_upgrade(server, request, parse)
    if isinstance(answered, web.StreamResponse):
        return answered
    ws, request_id, options, faults = answered
    session_record = LiveSessionRecord(
        query=request.query,
        headers=request.headers,
        request_id=request_id,
        started_at=time.monotonic(),
        path=request.path,
    )
    server.sessions.append(session_record)
    return ws, session_record, options, faults


type _Session[O] = Callable[
    [FakeDeepgram, web.WebSocketResponse, LiveSessionRecord, O, Faults], LiveSession
]


async def serve_upgrade[O](
    server: FakeDeepgram,
    request: web.Request,
    parse: _Parse[O],
    session: _Session[O],
) -> web.StreamResponse:
    """Answer an upgrade (:func:`accept_upgrade`), then run `session` on the socket.

    Shared by ``/v1`` and ``/v2/listen``; the record is marked closed however
    the session ends.
    """
    accepted = await accept_upgrade(server, request, parse)
    if isinstance(accepted, web.StreamResponse):
        return accepted
    ws, session_record, options, faults = accepted
    try:
        await session(server, ws, session_record, options, faults).run()
    finally:
        session_record.closed.set()
    return ws


async def handle_listen(
    server: FakeDeepgram, request: web.Request
) -> web.StreamResponse:
    """Answer a ``/v1/listen`` upgrade like Deepgram and run the session."""
    return await serve_upgrade(
        server,
        request,
        lambda query: parse_listen_query(query, server.catalog, streaming=True),
        LiveSession,
    )


class LiveSession:
    """One accepted websocket: reads frames, emits messages through one queue."""

    def __init__(
        self,
        server: FakeDeepgram,
        ws: web.WebSocketResponse,
        record: LiveSessionRecord,
        options: ListenOptions,
        faults: Faults,
    ) -> None:
        """Prepare the session state; :meth:`run` drives it."""
        self._init_socket(server, ws, record, faults)
        self._options = options
        self._engine = TranscriptEngine(
            list(server.script),
            options,
            request_id=record.request_id,
            final_lag=server.final_lag,
            interim_interval=server.interim_interval,
        )
        self._sha = hashlib.sha256()
        self._created = messages.created_now()
        self._got_audio = False

    def _init_socket(
        self,
        server: FakeDeepgram,
        ws: web.WebSocketResponse,
        record: LiveSessionRecord,
        faults: Faults,
    ) -> None:
        """The state of the send queue and receive loop (shared with /v2)."""
        self._server = server
        self._ws = ws
        self._record = record
        self._latency = server.latency
        self._faults = faults
        self._queue: asyncio.Queue[_Outgoing] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._first_results_sent = False
        self._stream_closed = False  # CloseStream (or zero-length frame) seen
        self._closing = False  # a server close is queued
        self._idle_active = True
        self._last_activity = time.monotonic()
        self._close_now = asyncio.Event()
        self._close_request = (1000, "")
        self._inbound: asyncio.Queue[tuple[float, WSMsgType, Any]] = asyncio.Queue()

    # -- output ---------------------------------------------------------

    def _enqueue(
        self,
        message: dict[str, Any] | None = None,
        *,
        raw: str | bytes | None = None,
        close: tuple[int, str] | None = None,
        extra: float = 0.0,
    ) -> None:
        if (
            message is not None
            and message.get("type") == "Results"
            and not self._first_results_sent
        ):
            extra += self._latency.first_result
            self._first_results_sent = True
        due = self._loop.time() + self._latency.one_way + extra
        self._queue.put_nowait(_Outgoing(due, message, raw, close))

    def _server_close(self, code: int, reason: str) -> None:
        if self._closing:
            return
        self._closing = True
        self._idle_active = False
        self._enqueue(close=(code, reason))

    async def _send_loop(self) -> None:
        while True:
            item = await self._queue.get()
            delay = item.due - self._loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if item.close is not None:
                code, reason = item.close
                if self._record.closed_by is None:
                    self._record.closed_by = "server"
                    self._record.close_code = code
                    self._record.close_reason = reason
                self._close_request = item.close
                self._close_now.set()
                return
            try:
                if item.message is not None:
                    await self._ws.send_str(json.dumps(item.message))
                    self._record.sent.append(item.message)
                elif isinstance(item.raw, bytes):
                    await self._ws.send_bytes(item.raw)
                    self._record.sent_binary += 1
                elif item.raw is not None:
                    await self._ws.send_str(item.raw)
                    self._record.sent_raw.append(item.raw)
            except ConnectionError, RuntimeError:
                return  # the client is gone

    # -- input ----------------------------------------------------------

    async def run(self) -> None:
        """Read frames until the socket closes (either side).

        This task is the only reader; the sender asks it to close (aiohttp
        would drop the transport without waiting for the client's close
        reply if ``close()`` ran while another task is in ``receive()``).
        """
        sender = asyncio.create_task(self._send_loop())
        handler = asyncio.create_task(self._inbound_loop())
        close_wanted = asyncio.create_task(self._close_now.wait())
        try:
            await self._receive_loop(close_wanted)
        finally:
            close_wanted.cancel()
            sender.cancel()
            handler.cancel()
            await asyncio.wait([sender, close_wanted, handler])
            if not sender.cancelled() and (error := sender.exception()) is not None:
                raise error

    async def _receive_loop(self, close_wanted: asyncio.Task[bool]) -> None:
        while True:
            timeout = None
            if self._idle_active:
                deadline = self._last_activity + self._server.idle_timeout
                timeout = max(0.001, deadline - time.monotonic())
            try:
                msg = await receive_unless_closing(
                    self._ws, close_wanted, timeout, lambda: self._close_request
                )
            except TimeoutError:
                self._server_close(1011, "NET-0001")
                continue
            if msg is None:
                return
            if msg.type in (WSMsgType.BINARY, WSMsgType.TEXT):
                if self._latency.uplink:
                    due = self._loop.time() + self._latency.uplink
                    self._inbound.put_nowait((due, msg.type, msg.data))
                else:
                    self._handle_frame(msg.type, msg.data)
                limit = self._faults.stop_reading_after_audio_seconds
                if limit is not None and self._audio_time >= limit:
                    await close_wanted  # reads nothing more, answers no ping
                    continue
            else:  # CLOSE, CLOSING, CLOSED, ERROR: the client closed or vanished
                if self._record.closed_by is None:
                    self._record.closed_by = "client"
                    got = msg.data if msg.type is WSMsgType.CLOSE else None
                    self._record.close_code = got or self._ws.close_code or 1006
                    self._record.close_reason = str(msg.extra or "")
                return

    async def _inbound_loop(self) -> None:
        """Handle frames ``uplink`` seconds after they arrived, in order."""
        while True:
            due, kind, data = await self._inbound.get()
            if (delay := due - self._loop.time()) > 0:
                await asyncio.sleep(delay)
            self._handle_frame(kind, data)

    def _handle_frame(self, kind: WSMsgType, data: Any) -> None:
        if kind is WSMsgType.BINARY:
            self._on_audio(data)
        else:
            self._on_text(data)

    def _on_audio(self, data: bytes) -> None:
        now = time.monotonic()
        kept = data if self._server.keep_audio else b""
        self._record.frames.append(Frame("binary", kept, now))
        if self._closing or self._stream_closed:
            return
        if not data:  # legacy end-of-stream signal
            self._close_stream()
            return
        self._last_activity = now
        first = not self._got_audio
        self._got_audio = True
        self._record.audio_bytes += len(data)
        self._sha.update(data)
        audio_time = self._audio_time
        if first and self._first_audio_faults():
            return
        for message in self._engine.advance(audio_time):
            self._enqueue(message)
        faults = self._faults
        limit_1011 = faults.close_1011_after_audio_seconds
        limit_1008 = faults.close_1008_after_audio_seconds
        if limit_1011 is not None and audio_time >= limit_1011:
            self._server_close(1011, "NET-0000")
        elif limit_1008 is not None and audio_time >= limit_1008:
            self._server_close(1008, "DATA-0000")
        elif faults.close_after_audio is not None:
            seconds, code, reason = faults.close_after_audio
            if audio_time >= seconds:
                self._server_close(code, reason)

    @property
    def _audio_time(self) -> float:
        return self._record.audio_bytes / self._options.bytes_per_second

    def _first_audio_faults(self) -> bool:
        """Inject first-audio faults; True when the session is ending."""
        faults = self._faults
        self._odd_message_faults()
        if faults.huge_final_chars is not None:
            huge = self._engine.finalize()
            huge["from_finalize"] = False
            huge["channel"]["alternatives"][0]["transcript"] = "x" * (
                faults.huge_final_chars
            )
            self._enqueue(huge)
        if faults.flood_empty_finals:
            empty = self._engine.finalize()
            empty["from_finalize"] = False
            empty["channel"]["alternatives"][0].update(transcript="", words=[])
            for _ in range(faults.flood_empty_finals):
                self._enqueue(empty)
        if faults.in_band_error:
            self._enqueue(
                messages.error(
                    "Internal server error.",
                    "The server encountered an error while processing audio.",
                    "INTERNAL_SERVER_ERROR",
                )
            )
            self._server_close(1011, "NET-0000")
            return True
        return False

    def _odd_message_faults(self) -> None:
        """Messages a client must skip (shared with /v2): not JSON, unknown type."""
        if self._faults.malformed_json:
            self._enqueue(raw="{this is not json")
        for i in range(self._faults.flood_malformed):
            self._enqueue(raw=f"{{not json {i}")
        frame = bytes(FLOOD_BINARY_BYTES)
        for _ in range(self._faults.flood_binary):
            self._enqueue(raw=frame)
        for text in self._faults.odd_messages:
            self._enqueue(raw=text)
        if self._faults.unknown_message:
            self._enqueue({"type": "SomethingNew", "detail": "a future message type"})

    def _on_text(self, text: str) -> None:
        frame = Frame("text", text, time.monotonic())
        self._record.frames.append(frame)
        if self._got_audio:
            self._last_activity = frame.at
        if self._closing or self._stream_closed:
            return
        kind = frame.control_type
        if kind == "Finalize":
            if self._faults.stall_after_finalize:
                return
            if self._faults.finalize_silent_when_empty and not self._engine.has_pending:
                return
            self._enqueue(self._engine.finalize(), extra=self._latency.finalize)
        elif kind == "CloseStream":
            self._close_stream()
        # KeepAlive and unknown types: recorded only.

    def _close_stream(self) -> None:
        self._stream_closed = True
        # Flushing what is buffered takes the same processing time as Finalize.
        processing = self._latency.finalize
        for message in self._engine.close_stream():
            self._enqueue(message, extra=processing)
            processing = 0.0
        self._enqueue(
            extra=processing,
            message=messages.metadata(
                request_id=self._record.request_id,
                duration=self._engine.audio_time,
                channels=self._options.channels,
                sha256=self._sha.hexdigest(),
                model=self._options.model,
                created=self._created,
            ),
        )
        self._close_after_close_stream()

    def _close_after_close_stream(self) -> None:
        """Close 1000 once CloseStream is answered (shared with /v2), unless
        the ``never_close`` fault keeps the socket open (and the idle timer off)."""
        if self._faults.never_close:
            self._idle_active = False
        else:
            self._server_close(1000, "")
