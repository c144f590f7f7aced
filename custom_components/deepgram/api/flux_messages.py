"""Typed server messages of a Deepgram Flux (`/v2/listen`) session.

`parse_flux_message` turns one text frame into a typed message, `None` for
a type this client does not know (ignored, as on `/v1/listen`), and raises
`MessageFormatError` for a frame that is not a JSON object with a `type`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import json
from typing import Any

from .messages import MessageFormatError


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


def _float(value: Any, default: float = 0.0) -> float:
    return float(value) if isinstance(value, int | float) else default


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()


def _word(raw: Any) -> FluxWord:
    if not isinstance(raw, dict) or not isinstance(raw.get("word"), str):
        raise MessageFormatError("TurnInfo word without a 'word'")
    start, end = raw.get("start"), raw.get("end")
    return FluxWord(
        word=raw["word"],
        confidence=_float(raw.get("confidence")),
        start=_float(start) if isinstance(start, int | float) else None,
        end=_float(end) if isinstance(end, int | float) else None,
    )


def _turn_info(data: dict[str, Any]) -> TurnInfo:
    try:
        event = TurnEvent(str(data.get("event")))
    except ValueError:
        raise MessageFormatError(
            f"Unknown TurnInfo event {data.get('event')!r}"
        ) from None
    transcript = data.get("transcript")
    if not isinstance(transcript, str):
        raise MessageFormatError("TurnInfo without a transcript")
    words = data.get("words") or []
    if not isinstance(words, list):
        raise MessageFormatError("TurnInfo words is not a list")
    turn_index = data.get("turn_index")
    return TurnInfo(
        event=event,
        turn_index=turn_index if isinstance(turn_index, int) else 0,
        transcript=transcript,
        words=tuple(_word(word) for word in words),
        end_of_turn_confidence=_float(data.get("end_of_turn_confidence")),
        audio_window_start=_float(data.get("audio_window_start")),
        audio_window_end=_float(data.get("audio_window_end")),
        request_id=_str(data.get("request_id")),
        trigger=_str(data.get("trigger")),
        languages=_strings(data.get("languages")),
    )


def parse_flux_message(text: str) -> FluxMessage | None:
    """Parse one server text frame; `None` for a message type not known here."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise MessageFormatError(f"Not JSON: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise MessageFormatError("Not a JSON object with a 'type'")
    match data["type"]:
        case "TurnInfo":
            return _turn_info(data)
        case "Connected":
            return Connected(request_id=_str(data.get("request_id")))
        case "ConfigureSuccess":
            thresholds = data.get("thresholds")
            return ConfigureSuccess(
                thresholds={
                    key: float(value)
                    for key, value in thresholds.items()
                    if isinstance(value, int | float)
                }
                if isinstance(thresholds, dict)
                else {},
                keyterms=_strings(data.get("keyterms")),
                language_hints=_strings(data.get("language_hints")),
            )
        case "ConfigureFailure":
            return ConfigureFailure(request_id=_str(data.get("request_id")))
        case "Error":
            return FluxError(
                code=_str(data.get("code")),
                description=_str(data.get("description"))
                or _str(data.get("message"))
                or "unknown error",
            )
        case _:
            return None
