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
- ``Interrupt`` (GA): everything not yet sent is dropped (the open turn's
  text, turns waiting behind the current one, queued audio) and the current
  turn (the first whose ``SpeechMetadata`` is not out) gets
  ``SpeechInterrupted {audio_played_ms, text_spoken, text_remaining,
  metadata}``: played is the audio sent of that turn, or what
  ``playback_offset.value`` (ms of playback since the session began) says
  of it; ``text_spoken`` the pieces played whole. No turn:
  ``Warning NO_ACTIVE_SPEECH``.
- ``Configure {speed}`` (GA): checked like the query's ``speed``;
  ``ConfigureSuccess {applied: {speed}}`` and later pieces use it, or
  ``ConfigureFailure {code, field, value, description}``.
- Other messages: recorded only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
import math
import secrets
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .faults import Faults
from .records import SpeakSessionRecord
from .speak_options import V2_SPEED_RANGE, V2_SPEED_STEP, SpeakOptions
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
    pieces: list[tuple[str, int]] = field(default_factory=list)  # (text, samples)
    sent_samples: int = 0

    def count_sent(self, samples: int) -> None:
        self.sent_samples += samples


def _controls() -> dict[str, int]:
    """No inline controls on the socket; the GA shape also counts breaks.

    Deepgram's GA types (deepgram-sdk 7.17.0) require ``breaks_applied`` in
    both SpeechMetadata and SpeechInterrupted (the pre-GA asyncapi.yml lacks it).
    """
    return {
        "pronunciations_applied": 0,
        "breaks_applied": 0,
        "pronunciation_warnings": 0,
    }


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
        self._turns: list[_Turn] = []  # whose SpeechMetadata is not out yet
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
            self._turns.append(turn)
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
        samples = self._synthesise(text, turn.count_sent)
        turn.pieces.append((text, samples))
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
                "controls_applied": _controls(),
            },
            sent=partial(self._turn_done, turn),
        )

    def _turn_done(self, turn: _Turn) -> None:
        """The turn's SpeechMetadata went out (an Interrupt may have dropped it)."""
        if turn in self._turns:
            self._turns.remove(turn)

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

    def _on_other(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "Interrupt":
            self._interrupt(message.get("playback_offset"))
        elif kind == "Configure":
            self._configure(message)

    def _interrupt(self, offset: object) -> None:
        if not self._turns:
            self._warning(
                "NO_ACTIVE_SPEECH", "Interrupt arrived with no active turn; ignored."
            )
            return
        current = self._turns[0]
        self._clear()
        for dropped in self._turns:
            self._total_samples -= dropped.samples - dropped.sent_samples
        self._turns.clear()
        self._turn = None
        played = current.sent_samples
        value = offset.get("value") if isinstance(offset, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            before = self._total_samples - current.sent_samples
            heard = round(value * self._options.sample_rate / 1000) - before
            played = max(0, min(played, heard))
        spoken: list[str] = []
        remaining: list[str] = []
        end = 0
        for text, samples in current.pieces:
            end += samples
            (spoken if end <= played else remaining).append(text)
        if current.pending.strip():
            remaining.append(current.pending.strip())
        self._enqueue(
            {
                "type": "SpeechInterrupted",
                "audio_played_ms": self._milliseconds(played),
                "text_spoken": " ".join(spoken),
                "text_remaining": " ".join(remaining),
                "metadata": {
                    "speech_id": current.speech_id,
                    "audio_duration_ms": self._milliseconds(current.sent_samples),
                    "input_character_count": current.input_characters,
                    "billable_character_count": current.billable_characters,
                    "controls_applied": _controls(),
                },
            }
        )

    def _configure(self, message: dict[str, Any]) -> None:
        if "speed" not in message:
            self._enqueue({"type": "ConfigureSuccess", "applied": {}})
            return
        speed = message["speed"]
        low, high = V2_SPEED_RANGE
        failure: dict[str, Any] = {"type": "ConfigureFailure", "field": "speed"}
        if isinstance(speed, bool) or not isinstance(speed, int | float):
            failure["code"] = "SPEED_OUT_OF_RANGE"
            failure["description"] = f"speed must be a number, not {speed!r}"
        elif not low <= speed <= high:
            failure.update(
                code="SPEED_OUT_OF_RANGE",
                value=speed,
                description=f"speed must be between {low:g} and {high:g}",
            )
        elif not math.isclose(
            speed / V2_SPEED_STEP, round(speed / V2_SPEED_STEP), abs_tol=1e-6
        ):
            failure.update(
                code="SPEED_INCREMENT_INVALID",
                value=speed,
                description=f"speed must be a multiple of {V2_SPEED_STEP:g}",
            )
        else:
            self._speed = float(speed)
            self._enqueue({"type": "ConfigureSuccess", "applied": {"speed": speed}})
            return
        self._enqueue(failure)
