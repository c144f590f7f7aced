"""The ``/v1/speak`` websocket (Aura, Aura-2): buffered text, audio on ``Flush``.

- ``Metadata`` right after the upgrade.
- ``Speak``: text joins the buffer; nothing is synthesised before ``Flush``
  (Deepgram does not flush at sentence ends on ``/v1``).
- ``Flush``: the buffer is spoken, one piece per sentence (pieces with
  nothing to say, only punctuation, make no audio), then
  ``Flushed {sequence_id}`` after the last frame. Every ``Flush`` and
  ``Clear`` takes the next ``sequence_id``, from 0.
- ``Clear``: the buffer and every frame or ``Flushed`` not yet sent are
  dropped; ``Cleared {sequence_id}`` goes out at once.
- ``Close``: close 1000 at once ("Close will close the websocket connection
  immediately"): audio not yet sent is dropped. A close frame likewise.

Limits (``FakeDeepgram`` attributes, so tests can scale time down):

- a ``Speak`` over ``speak_text_limit`` (2000) characters: Deepgram's REST
  answer is 413; on the socket there is no status, so the fake closes 1008
  (policy violation) with reason ``DATA-0000: ...`` naming the limit;
- more than ``speak_flush_limit`` (20) ``Flush`` in ``speak_limit_window``
  (60 s): a ``Warning`` (code ``FLUSH_LIMIT_EXCEEDED``) and that ``Flush``
  is not processed (its text stays buffered);
- more than ``speak_char_limit`` (2400) characters of ``Speak`` text in the
  window: the connection is dropped: close 1008 ``DATA-0000: ...``.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .faults import Faults
from .records import SpeakSessionRecord
from .speak_options import SpeakOptions
from .speak_session import SpeakSession, serve_speak
from .speak_text import pieces_of, synthesizable

if TYPE_CHECKING:
    from .server import FakeDeepgram

FLUSH_LIMIT_CODE = "FLUSH_LIMIT_EXCEEDED"


async def handle_speak(
    server: FakeDeepgram, request: web.Request
) -> web.StreamResponse:
    """Answer a ``/v1/speak`` upgrade like Deepgram and run the session."""
    return await serve_speak(server, request, SpeakV1Session)


class SpeakV1Session(SpeakSession):
    """One accepted ``/v1/speak`` websocket."""

    def __init__(
        self,
        server: FakeDeepgram,
        ws: web.WebSocketResponse,
        record: SpeakSessionRecord,
        options: SpeakOptions,
        faults: Faults,
    ) -> None:
        """Prepare the session state; :meth:`run` drives it."""
        super().__init__(server, ws, record, options, faults)
        self._buffer = ""
        self._sequence = 0
        self._flushes: deque[float] = deque()
        self._characters: deque[tuple[float, int]] = deque()

    def _greeting(self) -> dict[str, Any]:
        voice = self._options.voice
        return {
            "type": "Metadata",
            "request_id": self._record.request_id,
            "model_name": voice.canonical_name,
            "model_version": voice.version,
            "model_uuid": voice.uuid,
        }

    def _next_sequence(self) -> int:
        sequence = self._sequence
        self._sequence += 1
        return sequence

    def _forget_before(self, now: float) -> None:
        start = now - self._server.speak_limit_window
        while self._flushes and self._flushes[0] <= start:
            self._flushes.popleft()
        while self._characters and self._characters[0][0] <= start:
            self._characters.popleft()

    def _on_speak(self, text: str) -> None:
        server = self._server
        if len(text) > server.speak_text_limit:
            self._server_close(
                1008, f"DATA-0000: Speak text over {server.speak_text_limit} characters"
            )
            return
        now = self._loop.time()
        self._forget_before(now)
        self._characters.append((now, len(text)))
        if sum(count for _, count in self._characters) > server.speak_char_limit:
            self._server_close(
                1008,
                f"DATA-0000: over {server.speak_char_limit} characters "
                f"in {server.speak_limit_window:g} s",
            )
            return
        self._buffer += text

    def _on_flush(self) -> None:
        server = self._server
        now = self._loop.time()
        self._forget_before(now)
        if len(self._flushes) >= server.speak_flush_limit:
            self._enqueue(
                {
                    "type": "Warning",
                    "description": f"At most {server.speak_flush_limit} Flush "
                    f"messages every {server.speak_limit_window:g} seconds; this "
                    "Flush was not processed.",
                    "code": FLUSH_LIMIT_CODE,
                }
            )
            return
        self._flushes.append(now)
        text, self._buffer = self._buffer, ""
        for piece in pieces_of(text):
            if synthesizable(piece):
                self._synthesise(piece)
        self._enqueue({"type": "Flushed", "sequence_id": self._next_sequence()})

    def _on_close(self) -> None:
        self._server_close(1000, "")

    def _on_other(self, message: dict[str, Any]) -> None:
        if message.get("type") == "Clear":
            self._buffer = ""
            self._clear()
            self._enqueue({"type": "Cleared", "sequence_id": self._next_sequence()})
