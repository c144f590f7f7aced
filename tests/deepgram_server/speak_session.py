"""What ``/v1`` and ``/v2/speak`` sessions share: the socket, the send queue, synthesis.

One task reads the socket (and is the only one to close it, as in
:mod:`.live`); one task sends the queue in order, each item when it is due.
Synthesis is modelled, not run: a piece's audio (:mod:`.speak_audio`) is
queued at once, each frame due when the latency model says it leaves
(:class:`.latency.Latency`, ``synthesis_*`` and ``speak_*``). A ``Clear``
(``/v1``) starts a new *epoch*: queued audio and answers of older epochs are
skipped at once, even while the sender waits for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .faults import Faults
from .live import answer_upgrade, receive_unless_closing
from .records import Frame, SpeakSessionRecord
from .speak_audio import encode_samples, piece_samples, sample_width
from .speak_options import SpeakOptions, parse_speak_query

if TYPE_CHECKING:
    from .server import FakeDeepgram


@dataclass(frozen=True, slots=True)
class _Outgoing:
    due: float
    cancelled: asyncio.Event
    message: dict[str, Any] | None = None
    audio: bytes | None = None
    close: tuple[int, str] | None = None
    sent: Callable[[], None] | None = None  # called once it went out


class SpeakSession:
    """One accepted speak websocket; ``/v1`` and ``/v2`` override the handlers."""

    def __init__(
        self,
        server: FakeDeepgram,
        ws: web.WebSocketResponse,
        record: SpeakSessionRecord,
        options: SpeakOptions,
        faults: Faults,
    ) -> None:
        """Prepare the session state; :meth:`run` drives it."""
        self._server = server
        self._ws = ws
        self._record = record
        self._options = options
        self._faults = faults
        self._latency = server.latency
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[_Outgoing] = asyncio.Queue()
        self._epoch = asyncio.Event()  # set when a Clear ends this epoch
        self._speed = options.speed  # /v2 Configure changes it
        self._synth_free = self._loop.time()  # when the synthesiser is idle
        self._tail = self._loop.time()  # when the last queued item leaves
        self._closing = False
        self._close_now = asyncio.Event()
        self._close_request = (1000, "")
        self._last_text = self._loop.time()
        self._got_speak = False
        self._inbound: asyncio.Queue[tuple[float, WSMsgType, Any]] = asyncio.Queue()

    # -- output ---------------------------------------------------------

    def _enqueue(
        self,
        message: dict[str, Any] | None = None,
        *,
        audio: bytes | None = None,
        close: tuple[int, str] | None = None,
        sent: Callable[[], None] | None = None,
    ) -> None:
        """Queue an item to leave after everything queued (``one_way`` later)."""
        self._tail = max(self._tail, self._loop.time())
        due = self._tail + self._latency.one_way
        item = _Outgoing(due, self._epoch, message, audio, close, sent)
        self._queue.put_nowait(item)

    def _synthesise(
        self, text: str, on_frame: Callable[[int], None] | None = None
    ) -> int:
        """Queue the audio of one piece; the samples it makes.

        ``on_frame(samples)`` is called as each of its frames goes out.
        """
        self._record.pieces.append(text)
        options = self._options
        latency = self._latency
        samples = piece_samples(
            text, options.sample_rate, latency.speak_seconds_per_char, self._speed
        )
        now = self._loop.time()
        ready = max(now, self._synth_free) + (
            latency.synthesis_base + latency.synthesis_per_char * len(text)
        )
        self._synth_free = ready
        self._tail = max(self._tail, ready)
        frame_samples = max(
            1, round(self._server.speak_frame_seconds * options.sample_rate)
        )
        pace = 0.0
        if latency.speak_realtime > 0:
            pace = frame_samples / options.sample_rate / latency.speak_realtime
        width = sample_width(options.encoding)
        audio = encode_samples(samples, options.encoding)
        step = frame_samples * width
        for start in range(0, len(audio), step):
            frame = audio[start : start + step]
            sent = None
            if on_frame is not None:
                sent = partial(on_frame, len(frame) // width)
            self._enqueue(audio=frame, sent=sent)
            self._tail += pace
        return len(samples)

    def _clear(self) -> None:
        """End the epoch: everything queued so far is skipped."""
        self._epoch.set()
        self._epoch = asyncio.Event()
        self._tail = self._synth_free = self._loop.time()

    def _server_close(self, code: int, reason: str, *, queued: bool = False) -> None:
        """Close with ``code``: at once, or after everything queued (``queued``).

        Called once at most: nothing is handled once ``_closing`` is set.
        """
        self._closing = True
        if queued:
            self._enqueue(close=(code, reason))
        else:
            self._close(code, reason)

    def _close(self, code: int, reason: str) -> None:
        if self._record.ended is None:
            self._record.ended = "server"
        self._record.close_code = code
        self._record.close_reason = reason
        self._close_request = (code, reason)
        self._close_now.set()

    async def _send_loop(self) -> None:
        while True:
            item = await self._queue.get()
            if item.cancelled.is_set():
                continue
            delay = item.due - self._loop.time()
            if delay > 0:
                with suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await item.cancelled.wait()
                if item.cancelled.is_set():
                    continue
            if item.close is not None:
                self._close(*item.close)
                return
            try:
                if item.message is not None:
                    await self._ws.send_str(json.dumps(item.message))
                    self._record.sent.append(item.message)
                elif item.audio is not None and not await self._send_audio(item.audio):
                    return
            except ConnectionError, RuntimeError:
                return  # the client is gone
            if item.sent is not None:
                item.sent()

    async def _send_audio(self, audio: bytes) -> bool:
        """Send one frame; False once the mid-message close fault fired."""
        limit = self._faults.speak_close_after_audio_bytes
        record = self._record
        if limit is not None:
            audio = audio[: max(0, limit - record.audio_bytes)]
        if audio:
            await self._ws.send_bytes(audio)
            record.audio_bytes += len(audio)
            record.audio_frames += 1
            if self._server.keep_audio:
                record.audio.extend(audio)
        if limit is not None and record.audio_bytes >= limit:
            self._closing = True
            self._close(1011, "NET-0000")
            return False
        return True

    # -- input ----------------------------------------------------------

    async def run(self) -> None:
        """Read frames until the socket closes (either side)."""
        self._opened()
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

    def _idle_left(self) -> float | None:
        """Seconds until the idle close (no text and nothing left to send)."""
        limit = self._server.speak_idle_timeout
        if limit is None or self._closing:
            return None
        return max(self._last_text, self._tail) + limit - self._loop.time()

    async def _receive_loop(self, close_wanted: asyncio.Task[bool]) -> None:
        while True:
            left = self._idle_left()
            timeout = None if left is None else max(0.001, left)
            try:
                msg = await receive_unless_closing(
                    self._ws, close_wanted, timeout, lambda: self._close_request
                )
            except TimeoutError:
                left = self._idle_left()
                if left is not None and left <= 0:
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
            else:  # CLOSE, CLOSING, CLOSED, ERROR: the client closed or vanished
                record = self._record
                if record.ended is None:
                    closed = msg.type is WSMsgType.CLOSE
                    record.ended = "close_frame" if closed else "dropped"
                    record.close_code = (msg.data if closed else None) or (
                        self._ws.close_code or 1006
                    )
                    record.close_reason = str(msg.extra or "")
                return

    async def _inbound_loop(self) -> None:
        """Handle frames ``uplink`` seconds after they arrived, in order."""
        while True:
            due, kind, data = await self._inbound.get()
            if (delay := due - self._loop.time()) > 0:
                await asyncio.sleep(delay)
            self._handle_frame(kind, data)

    def _handle_frame(self, kind: WSMsgType, data: Any) -> None:
        now = time.monotonic()
        if kind is WSMsgType.BINARY:
            self._record.frames.append(Frame("binary", data, now))
            return  # Deepgram takes no audio here: recorded only
        frame = Frame("text", data, now)
        self._record.frames.append(frame)
        if self._closing or self._faults.speak_stall:
            return
        try:
            message = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        kind_name = message.get("type")
        if kind_name == "Speak":
            text = message.get("text")
            if not isinstance(text, str):
                return
            self._last_text = self._loop.time()
            if not self._got_speak:
                self._got_speak = True
                if self._first_speak_faults():
                    return
            self._on_speak(text)
        elif kind_name == "Flush":
            self._on_flush()
        elif kind_name == "Close":
            self._record.ended = "close_message"
            self._on_close()
        else:
            self._on_other(message)

    def _first_speak_faults(self) -> bool:
        """``speak_warning`` / ``speak_error``; True when the session is ending."""
        if (warning := self._faults.speak_warning) is not None:
            code, description = warning
            self._enqueue({"type": "Warning", "description": description, "code": code})
        if (error := self._faults.speak_error) is not None:
            code, description = error
            self._error_message(code, description)
            self._server_close(1011, code, queued=True)
            return True
        return False

    # -- what /v1 and /v2 do ----------------------------------------------

    def _opened(self) -> None:
        """Queue the greeting (``Metadata`` / ``Connected``) unless stalled."""
        if not self._faults.speak_stall:
            self._enqueue(self._greeting())

    def _greeting(self) -> dict[str, Any]:
        raise NotImplementedError

    def _error_message(self, code: str, description: str) -> None:
        """Queue an in-band error (``/v2``; ``/v1`` has none)."""

    def _on_speak(self, text: str) -> None:
        raise NotImplementedError

    def _on_flush(self) -> None:
        raise NotImplementedError

    def _on_close(self) -> None:
        raise NotImplementedError

    def _on_other(self, message: dict[str, Any]) -> None:
        """Other client messages: recorded only."""


type _SessionType = Callable[
    [FakeDeepgram, web.WebSocketResponse, SpeakSessionRecord, SpeakOptions, Faults],
    SpeakSession,
]


async def serve_speak(
    server: FakeDeepgram, request: web.Request, session: _SessionType
) -> web.StreamResponse:
    """Answer a speak upgrade like Deepgram (:func:`.live.answer_upgrade`), run it.

    The record joins ``server.speak_sessions`` once the upgrade is accepted
    and is marked closed however the session ends.
    """
    answered = await answer_upgrade(
        server,
        request,
        lambda query: parse_speak_query(query, server.voices, request.path),
    )
    if isinstance(answered, web.StreamResponse):
        return answered
    ws, request_id, options, faults = answered
    record = SpeakSessionRecord(
        query=request.query,
        headers=request.headers,
        request_id=request_id,
        started_at=time.monotonic(),
        path=request.path,
        encoding=options.encoding,
        sample_rate=options.sample_rate,
    )
    server.speak_sessions.append(record)
    try:
        await session(server, ws, record, options, faults).run()
    finally:
        record.closed.set()
    return ws
