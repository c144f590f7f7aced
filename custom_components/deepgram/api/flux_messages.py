"""Typed server messages of a Deepgram Flux (`/v2/listen`) session.

`parse_flux_message` turns one text frame into a typed message, `None` for
a type this client does not know (ignored, as on `/v1/listen`), and raises
`MessageFormatError` for a frame that is not a JSON object with a `type`,
and for nothing else: fields are read as in `messages.py` (a wrong type
takes the default, a number out of range makes the message malformed), so
one odd message is skipped and the turn goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .messages import (
    MessageFormatError,
    float_field,
    int_field,
    load_message,
    optional_float_field,
    parse_guarded,
    str_field,
    strings_field,
)


class TurnEvent(StrEnum):
    """The `event` of a `TurnInfo` message."""

    START_OF_TURN = "StartOfTurn"
    UPDATE = "Update"
    EAGER_END_OF_TURN = "EagerEndOfTurn"
    TURN_RESUMED = "TurnResumed"
    END_OF_TURN = "EndOfTurn"


@dataclass(frozen=True, slots=True)
class FluxWord:
    """One word of a turn (punctuated and cased by Flux)."""

    word: str
    confidence: float
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True, slots=True)
class Connected:
    """The first message of a session."""

    request_id: str | None


@dataclass(frozen=True, slots=True)
class TurnInfo:
    """The state of the current turn: the whole turn's transcript so far."""

    event: TurnEvent
    turn_index: int
    transcript: str
    words: tuple[FluxWord, ...]
    end_of_turn_confidence: float
    audio_window_start: float
    audio_window_end: float
    request_id: str | None = None
    trigger: str | None = None
    languages: tuple[str, ...] = ()

    @property
    def confidence(self) -> float | None:
        """Mean word confidence, None without words."""
        if not self.words:
            return None
        return sum(w.confidence for w in self.words) / len(self.words)


@dataclass(frozen=True, slots=True)
class ConfigureSuccess:
    """A `Configure` was applied; the values now in force."""

    thresholds: dict[str, float]
    keyterms: tuple[str, ...]
    language_hints: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ConfigureFailure:
    """A `Configure` was refused; the earlier settings stay."""

    request_id: str | None


@dataclass(frozen=True, slots=True)
class FluxError:
    """A fatal in-band error; the server closes after it."""

    code: str | None
    description: str


type FluxMessage = (
    Connected | TurnInfo | ConfigureSuccess | ConfigureFailure | FluxError
)


def _word(raw: Any) -> FluxWord:
    if not isinstance(raw, dict) or not isinstance(raw.get("word"), str):
        raise MessageFormatError("TurnInfo word without a 'word'")
    return FluxWord(
        word=raw["word"],
        confidence=float_field(raw.get("confidence")),
        start=optional_float_field(raw.get("start")),
        end=optional_float_field(raw.get("end")),
    )


def _turn_info(data: dict[str, Any]) -> TurnInfo:
    event = data.get("event")
    if not isinstance(event, str) or event not in TurnEvent:
        shown = repr(event[:40]) if isinstance(event, str) else type(event).__name__
        raise MessageFormatError(f"Unknown TurnInfo event {shown}")
    transcript = data.get("transcript")
    if not isinstance(transcript, str):
        raise MessageFormatError("TurnInfo without a transcript")
    words = data.get("words") or []
    if not isinstance(words, list):
        raise MessageFormatError("TurnInfo words is not a list")
    turn_index = int_field(data.get("turn_index"))
    return TurnInfo(
        event=TurnEvent(event),
        turn_index=turn_index if turn_index is not None else 0,
        transcript=transcript,
        words=tuple(_word(word) for word in words),
        end_of_turn_confidence=float_field(data.get("end_of_turn_confidence")),
        audio_window_start=float_field(data.get("audio_window_start")),
        audio_window_end=float_field(data.get("audio_window_end")),
        request_id=str_field(data.get("request_id")),
        trigger=str_field(data.get("trigger")),
        languages=strings_field(data.get("languages")),
    )


def _configure_success(data: dict[str, Any]) -> ConfigureSuccess:
    thresholds = data.get("thresholds")
    numbers = (
        {key: optional_float_field(value) for key, value in thresholds.items()}
        if isinstance(thresholds, dict)
        else {}
    )
    return ConfigureSuccess(
        thresholds={key: n for key, n in numbers.items() if n is not None},
        keyterms=strings_field(data.get("keyterms")),
        language_hints=strings_field(data.get("language_hints")),
    )


def parse_flux_message(text: str) -> FluxMessage | None:
    """Parse one server text frame; `None` for a message type not known here."""
    return parse_guarded(_parse_object, load_message(text))


def _parse_object(data: dict[str, Any]) -> FluxMessage | None:
    match data["type"]:
        case "TurnInfo":
            return _turn_info(data)
        case "Connected":
            return Connected(request_id=str_field(data.get("request_id")))
        case "ConfigureSuccess":
            return _configure_success(data)
        case "ConfigureFailure":
            return ConfigureFailure(request_id=str_field(data.get("request_id")))
        case "Error":
            return FluxError(
                code=str_field(data.get("code")),
                description=str_field(data.get("description"))
                or str_field(data.get("message"))
                or "unknown error",
            )
        case _:
            return None
