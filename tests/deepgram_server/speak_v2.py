"""The ``/v2/speak`` websocket (Flux TTS): turns, spoken as their sentences end.

- ``Connected`` right after the upgrade.
- ``Speak``: text of the current turn (the first ``Speak`` after a ``Flush``
  opens a new turn, ``speech_id`` ``dg_sp_<12 hex>``). Each sentence is
  synthesised as soon as it ends (:mod:`.speak_text`), without a ``Flush``;
  ``SpeechStarted {speech_id}`` goes out before the turn's first audio.
- ``Flush``: the turn's text is complete; the rest is synthesised, then,
  once the turn's audio is all sent, ``Flushed {speech_id}`` and last
  ``SpeechMetadata {speech_id, audio_duration_ms, input_character_count,
  billable_character_count, controls_applied}`` (the turn is complete).
  A turn with nothing to say (only whitespace or punctuation) gets
  ``Warning NO_SYNTHESIZABLE_TEXT``, ``Flushed`` and a zero-length
  ``SpeechMetadata`` (no ``SpeechStarted``); a ``Flush`` with no turn gets
  ``Warning NO_ACTIVE_SPEECH``. A turn sent while another is still being
  spoken waits behind it (one send queue).
- ``Close``: audio already synthesised is still sent, text of the open turn
  not yet at a sentence end is dropped; then ``SessionMetadata`` (totals of
  the session) and close 1000.
- Other messages (``Interrupt``, ``Configure`` of the GA surface, unknown
  types): recorded only.
"""

from __future__ import annotations

from dataclasses import dataclass
import secrets
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .faults import Faults
from .records import SpeakSessionRecord
from .speak_options import SpeakOptions
from .speak_session import SpeakSession, serve_speak
from .speak_text import billable_count, split_sentences, synthesizable

if TYPE_CHECKING:
    from .server import FakeDeepgram


async def handle_speak_v2(
    server: FakeDeepgram, request: web.Request
) -> web.StreamResponse:
    """Answer a ``/v2/speak`` upgrade like Deepgram and run the session."""
    return await serve_speak(server, request, SpeakV2Session)


@dataclass(slots=True)
class _Turn:
    speech_id: str
    pending: str = ""  # text after the last sentence end
    input_characters: int = 0
    billable_characters: int = 0
    samples: int = 0
    started: bool = False


class SpeakV2Session(SpeakSession):
    """One accepted ``/v2/speak`` websocket."""

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
        self._turn: _Turn | None = None
        self._total_samples = 0
        self._total_input = 0
        self._total_billable = 0

    def _greeting(self) -> dict[str, Any]:
        voice = self._options.voice
        return {
            "type": "Connected",
            "request_id": self._record.request_id,
            "model_name": voice.canonical_name,
            "model_version": voice.version,
            "model_uuids": [voice.uuid],
        }

    def _error_message(self, code: str, description: str) -> None:
        self._enqueue({"type": "Error", "code": code, "description": description})

    def _warning(self, code: str, description: str) -> None:
        self._enqueue({"type": "Warning", "code": code, "description": description})

    def _milliseconds(self, samples: int) -> int:
        return round(samples * 1000 / self._options.sample_rate)

    def _on_speak(self, text: str) -> None:
        turn = self._turn
        if turn is None:
            turn = self._turn = _Turn(f"dg_sp_{secrets.token_hex(6)}")
        turn.input_characters += len(text)
        turn.billable_characters += billable_count(text)
        self._total_input += len(text)
        self._total_billable += billable_count(text)
        sentences, turn.pending = split_sentences(turn.pending + text)
        for sentence in sentences:
            self._speak_piece(turn, sentence)

    def _speak_piece(self, turn: _Turn, text: str) -> None:
        if not synthesizable(text):
            return
        if not turn.started:
            turn.started = True
            self._enqueue({"type": "SpeechStarted", "speech_id": turn.speech_id})
        samples = self._synthesise(text)
        turn.samples += samples
        self._total_samples += samples

    def _on_flush(self) -> None:
        turn = self._turn
        if turn is None:
            self._warning(
                "NO_ACTIVE_SPEECH", "Flush arrived with no active turn; ignored."
            )
            return
        self._turn = None
        self._speak_piece(turn, turn.pending.strip())
        if not turn.started:
            self._warning(
                "NO_SYNTHESIZABLE_TEXT",
                "The turn has no synthesizable text (only whitespace or "
                "punctuation); no audio was produced.",
            )
        self._enqueue({"type": "Flushed", "speech_id": turn.speech_id})
        self._enqueue(
            {
                "type": "SpeechMetadata",
                "speech_id": turn.speech_id,
                "audio_duration_ms": self._milliseconds(turn.samples),
                "input_character_count": turn.input_characters,
                "billable_character_count": turn.billable_characters,
                "controls_applied": {
                    "pronunciations_applied": 0,
                    "pronunciation_warnings": 0,
                },
            }
        )

    def _on_close(self) -> None:
        self._enqueue(
            {
                "type": "SessionMetadata",
                "total_audio_duration_ms": self._milliseconds(self._total_samples),
                "total_input_character_count": self._total_input,
                "total_billable_character_count": self._total_billable,
            }
        )
        self._server_close(1000, "", queued=True)
