"""The ``/v2/listen`` (Flux) websocket: handshake checks and one live session.

Shares the upgrade checks, send queue and receive loop with ``/v1/listen``
(:mod:`.live`); what differs is the options, the turn state machine
(:mod:`.flux_engine`) and the client messages: audio, ``CloseStream`` (close
at once, the turn is not finished), ``Configure`` and ``ForceEndTurn``.
There is no ``Finalize`` and no ``KeepAlive``: only audio resets the idle
timer (``idle_timeout`` -> close 1011 ``NET-0001``).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .faults import Faults
from .flux_engine import TurnEngine
from .flux_options import (
    FluxOptions,
    check_keyterms,
    check_language_hints,
    merge_thresholds,
    parse_flux_query,
)
from .live import LiveSession, serve_upgrade
from .options import QueryError
from .records import Frame, LiveSessionRecord

if TYPE_CHECKING:
    from .server import FakeDeepgram


async def handle_flux(server: FakeDeepgram, request: web.Request) -> web.StreamResponse:
    """Answer a ``/v2/listen`` upgrade like Deepgram and run the session."""
    return await serve_upgrade(
        server,
        request,
        lambda query: parse_flux_query(query, server.catalog),
        FluxSession,
    )


def connected(request_id: str) -> dict[str, Any]:
    """The ``Connected`` message that opens a session."""
    return {"type": "Connected", "request_id": request_id, "sequence_id": 0}


def fatal_error(code: str, description: str) -> dict[str, Any]:
    """An in-band ``Error`` (the server closes after it)."""
    return {"type": "Error", "sequence_id": 0, "code": code, "description": description}


class FluxSession(LiveSession):
    """One accepted ``/v2/listen`` websocket."""

    def __init__(  # pylint: disable=super-init-not-called
        self,
        server: FakeDeepgram,
        ws: web.WebSocketResponse,
        record: LiveSessionRecord,
        options: FluxOptions,
        faults: Faults,
    ) -> None:
        """Prepare the session state; :meth:`run` drives it."""
        self._init_socket(server, ws, record, faults)
        self._flux = options
        self._keyterms = options.keyterms
        self._hints = options.language_hints
        self._turns = TurnEngine(
            list(server.script),
            options.thresholds,
            request_id=record.request_id,
            eot_delay=server.eot_delay,
            mid_thought_cap=server.mid_thought_cap,
            update_interval=server.update_interval,
            language_hints=options.language_hints,
        )
        self._sequence = 0
        self._got_audio = False
        self._enqueue(connected(record.request_id))

    def _enqueue(
        self,
        message: dict[str, Any] | None = None,
        *,
        raw: str | bytes | None = None,
        close: tuple[int, str] | None = None,
        extra: float = 0.0,
    ) -> None:
        if message is not None:
            message["sequence_id"] = self._sequence
            self._sequence += 1
        super()._enqueue(message, raw=raw, close=close, extra=extra)

    def _on_audio(self, data: bytes) -> None:
        now = time.monotonic()
        self._record.frames.append(Frame("binary", data, now))
        if self._closing or self._stream_closed or not data:
            return
        self._last_activity = now
        first = not self._got_audio
        self._got_audio = True
        self._record.audio_bytes += len(data)
        audio_time = self._record.audio_bytes / self._flux.bytes_per_second
        if first and self._first_audio_faults():
            return
        for message in self._turns.advance(audio_time):
            self._enqueue(message)
        limit = self._faults.close_1011_after_audio_seconds
        if limit is not None and audio_time >= limit:
            self._server_close(1011, "NET-0000")

    def _first_audio_faults(self) -> bool:
        faults = self._faults
        self._odd_message_faults()
        if faults.in_band_error:
            self._enqueue(
                fatal_error(
                    "INTERNAL_SERVER_ERROR",
                    "The server encountered an error while processing audio.",
                )
            )
            self._server_close(1011, "NET-0000")
            return True
        return False

    def _on_text(self, text: str) -> None:
        frame = Frame("text", text, time.monotonic())
        self._record.frames.append(frame)
        if self._closing or self._stream_closed:
            return
        kind = frame.control_type
        if kind == "CloseStream":
            self._stream_closed = True
            self._close_after_close_stream()
        elif kind == "ForceEndTurn":
            if self._faults.ignore_force_end_turn:
                return
            processing = self._latency.finalize
            for message in self._turns.force_end_turn():
                self._enqueue(message, extra=processing)
        elif kind == "Configure":
            self._configure(json.loads(text))
        # Anything else (including KeepAlive and Finalize): recorded only.

    def _configure(self, request: dict[str, Any]) -> None:
        request_id = self._record.request_id
        try:
            thresholds = self._turns.thresholds
            given = request.get("thresholds")
            if given is not None:
                if not isinstance(given, dict):
                    raise TypeError("thresholds")
                thresholds = merge_thresholds(thresholds, given)
            keyterms = self._keyterms
            if "keyterms" in request:
                raw = request["keyterms"]
                keyterms = (raw,) if isinstance(raw, str) else tuple(raw)
                check_keyterms(keyterms)
            hints = self._hints
            if "language_hints" in request:
                hints = tuple(request["language_hints"])
                check_language_hints(hints, multi=self._flux.multi)
        except QueryError, TypeError, ValueError:
            self._enqueue(
                {"type": "ConfigureFailure", "request_id": request_id, "sequence_id": 0}
            )
            return
        self._turns.thresholds = thresholds
        self._turns.language_hints = hints
        self._keyterms = keyterms
        self._hints = hints
        answer: dict[str, Any] = {
            "type": "ConfigureSuccess",
            "request_id": request_id,
            "thresholds": thresholds.as_json(),
            "keyterms": list(keyterms),
            "sequence_id": 0,
        }
        if self._flux.multi:
            answer["language_hints"] = list(hints)
        self._enqueue(answer)
