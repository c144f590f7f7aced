"""Typed server messages of a Deepgram live (`/v1/listen`) session.

`parse_message` turns one text frame into a typed message, `None` for a type
this client does not know (Deepgram adds types; they are ignored), and raises
`MessageFormatError` for a frame that is not a JSON object with a `type`,
and for nothing else: whatever a server sends, one odd message is skipped,
never the end of the session. A field of the wrong type takes its default;
a number out of range for its field (one no finite float holds, a count
below 0 or beyond MAX_INT) or a message without what it is for (a
transcript) is malformed. `parse_results` also reads pre-recorded answers,
where malformed means an answer that cannot be understood.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import json
import math
from typing import Any, Final

MAX_INT: Final = 2**31 - 1
"""The largest count or index taken from a message."""
PARSE_FAILURES: Final = (
    LookupError,  # a key or index missing
    TypeError,  # a number where a list belongs, ...
    AttributeError,  # a list where an object belongs (`.get` of a list)
    ValueError,  # MessageFormatError, an integer over Python's digit limit
    ArithmeticError,  # a 400-digit integer where a float belongs
    RecursionError,  # JSON nested too deeply
)
"""What a parse of server JSON raises where the shape is odd.

The one net under the field checks, for live frames (`parse_guarded`) and
REST answers (`rest.py`) alike.
"""


class MessageFormatError(ValueError):
    """A text frame that is not a well-formed Deepgram message."""


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its audio times in seconds."""

    word: str
    start: float
    end: float
    confidence: float
    punctuated_word: str | None = None
    language: str | None = None
    speaker: int | None = None


@dataclass(frozen=True, slots=True)
class Results:
    """A transcript of a span of audio, interim or final."""

    transcript: str
    confidence: float
    words: tuple[Word, ...]
    is_final: bool
    speech_final: bool
    from_finalize: bool
    start: float
    duration: float
    request_id: str | None
    languages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Metadata:
    """The summary Deepgram sends last, before a clean close."""

    request_id: str | None
    duration: float
    channels: int
    created: str | None
    model_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UtteranceEnd:
    """A gap after the last word: an end-of-speech signal."""

    last_word_end: float


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Deepgram's voice activity detector heard speech start."""

    timestamp: float


@dataclass(frozen=True, slots=True)
class ErrorMessage:
    """An in-band error; the server usually closes the socket after it."""

    description: str
    message: str | None
    variant: str | None


type ServerMessage = Results | Metadata | UtteranceEnd | SpeechStarted | ErrorMessage


def float_field(value: Any, default: float = 0.0) -> float:
    """A number as a float; `default` for a value of another type.

    A number no finite float holds makes the message malformed: JSON gives
    `Infinity`, `NaN`, `1e999` (inf) and integers of hundreds of digits
    (float() of those raises OverflowError).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    try:
        number = float(value)
    except OverflowError:
        raise MessageFormatError("A number too large for a float") from None
    if not math.isfinite(number):
        raise MessageFormatError(f"A number that is not finite ({number})")
    return number


def optional_float_field(value: Any) -> float | None:
    """A number as a float, None for a value of another type."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float_field(value)


def int_field(value: Any) -> int | None:
    """A count or index, None for a value of another type.

    One below 0 or over MAX_INT makes the message malformed: beyond 64 bits
    a number cannot be stored or sent on as JSON by Home Assistant, and no
    speaker, channel or turn comes near the bound.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    if not 0 <= value <= MAX_INT:
        raise MessageFormatError(f"A count out of range ({str(value)[:20]})")
    return value


def str_field(value: Any) -> str | None:
    """A string, None for anything else."""
    return value if isinstance(value, str) else None


def strings_field(value: Any) -> tuple[str, ...]:
    """The strings of a list (a lone string is a list of one); () otherwise."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()


def load_message(text: str) -> dict[str, Any]:
    """The JSON object of a text frame, with a string `type`.

    Raises `MessageFormatError` for anything else, also for JSON nested too
    deep for the decoder (RecursionError) and integers over Python's digit
    limit (ValueError).
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise MessageFormatError(f"Not JSON: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise MessageFormatError("Not a JSON object with a 'type'")
    return data


def parse_guarded[M](parse: Callable[[dict[str, Any]], M], data: dict[str, Any]) -> M:
    """`parse(data)`, any failure of it a `MessageFormatError`.

    Every field is checked where it is read; this is the net under those
    checks, so that a case they miss skips one message and says which
    failure it was, instead of ending the session.
    """
    try:
        return parse(data)
    except MessageFormatError:
        raise
    except PARSE_FAILURES as err:
        raise MessageFormatError(
            f"Unexpected {data['type']} ({type(err).__name__})"
        ) from None


def _parse_word(raw: Any) -> Word:
    if not isinstance(raw, dict) or not isinstance(raw.get("word"), str):
        raise MessageFormatError("Results word without a 'word'")
    return Word(
        word=raw["word"],
        start=float_field(raw.get("start")),
        end=float_field(raw.get("end")),
        confidence=float_field(raw.get("confidence")),
        punctuated_word=str_field(raw.get("punctuated_word")),
        language=str_field(raw.get("language")),
        speaker=int_field(raw.get("speaker")),
    )


def parse_results(data: dict[str, Any]) -> Results:
    """Parse the body of a `Results` message (also a pre-recorded channel)."""
    channel = data.get("channel")
    alternatives = channel.get("alternatives") if isinstance(channel, dict) else None
    if not isinstance(alternatives, list) or not alternatives:
        raise MessageFormatError("Results without channel.alternatives")
    best = alternatives[0]
    if not isinstance(best, dict) or not isinstance(best.get("transcript"), str):
        raise MessageFormatError("Results alternative without a transcript")
    words = best.get("words") or []
    if not isinstance(words, list):
        raise MessageFormatError("Results words is not a list")
    metadata = data.get("metadata")
    return Results(
        transcript=best["transcript"],
        confidence=float_field(best.get("confidence")),
        words=tuple(_parse_word(word) for word in words),
        is_final=data.get("is_final") is True,
        speech_final=data.get("speech_final") is True,
        from_finalize=data.get("from_finalize") is True,
        start=float_field(data.get("start")),
        duration=float_field(data.get("duration")),
        request_id=str_field(metadata.get("request_id"))
        if isinstance(metadata, dict)
        else None,
        languages=strings_field(best.get("languages")),
    )


def _parse_metadata(data: dict[str, Any]) -> Metadata:
    model_info = data.get("model_info")
    names: tuple[str, ...] = ()
    if isinstance(model_info, dict):
        names = tuple(
            info["name"]
            for info in model_info.values()
            if isinstance(info, dict) and isinstance(info.get("name"), str)
        )
    channels = int_field(data.get("channels"))
    return Metadata(
        request_id=str_field(data.get("request_id")),
        duration=float_field(data.get("duration")),
        channels=channels or 1,
        created=str_field(data.get("created")),
        model_names=names,
    )


def parse_message(text: str) -> ServerMessage | None:
    """Parse one server text frame; `None` for a message type not known here."""
    return parse_guarded(_parse_object, load_message(text))


def _parse_object(data: dict[str, Any]) -> ServerMessage | None:
    match data["type"]:
        case "Results":
            return parse_results(data)
        case "Metadata":
            return _parse_metadata(data)
        case "UtteranceEnd":
            return UtteranceEnd(last_word_end=float_field(data.get("last_word_end")))
        case "SpeechStarted":
            return SpeechStarted(timestamp=float_field(data.get("timestamp")))
        case "Error":
            return ErrorMessage(
                description=str_field(data.get("description"))
                or str_field(data.get("message"))
                or "unknown error",
                message=str_field(data.get("message")),
                variant=str_field(data.get("variant")),
            )
        case _:
            return None
