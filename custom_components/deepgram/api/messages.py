"""Typed server messages of a Deepgram live (`/v1/listen`) session.

`parse_message` turns one text frame into a typed message, `None` for a type
this client does not know (Deepgram adds types; they are ignored), and raises
`MessageFormatError` for a frame that is not a JSON object with a `type`.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from typing import Any


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


def _float(value: Any, default: float = 0.0) -> float:
    return float(value) if isinstance(value, int | float) else default


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _parse_word(raw: Any) -> Word:
    if not isinstance(raw, dict) or not isinstance(raw.get("word"), str):
        raise MessageFormatError("Results word without a 'word'")
    return Word(
        word=raw["word"],
        start=_float(raw.get("start")),
        end=_float(raw.get("end")),
        confidence=_float(raw.get("confidence")),
        punctuated_word=_str(raw.get("punctuated_word")),
        language=_str(raw.get("language")),
        speaker=_int(raw.get("speaker")),
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
    languages = best.get("languages") or []
    return Results(
        transcript=best["transcript"],
        confidence=_float(best.get("confidence")),
        words=tuple(_parse_word(word) for word in words),
        is_final=data.get("is_final") is True,
        speech_final=data.get("speech_final") is True,
        from_finalize=data.get("from_finalize") is True,
        start=_float(data.get("start")),
        duration=_float(data.get("duration")),
        request_id=_str(metadata.get("request_id"))
        if isinstance(metadata, dict)
        else None,
        languages=tuple(lang for lang in languages if isinstance(lang, str)),
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
    channels = data.get("channels")
    return Metadata(
        request_id=_str(data.get("request_id")),
        duration=_float(data.get("duration")),
        channels=channels if isinstance(channels, int) else 1,
        created=_str(data.get("created")),
        model_names=names,
    )


def parse_message(text: str) -> ServerMessage | None:
    """Parse one server text frame; `None` for a message type not known here."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise MessageFormatError(f"Not JSON: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise MessageFormatError("Not a JSON object with a 'type'")
    match data["type"]:
        case "Results":
            return parse_results(data)
        case "Metadata":
            return _parse_metadata(data)
        case "UtteranceEnd":
            return UtteranceEnd(last_word_end=_float(data.get("last_word_end")))
        case "SpeechStarted":
            return SpeechStarted(timestamp=_float(data.get("timestamp")))
        case "Error":
            return ErrorMessage(
                description=_str(data.get("description"))
                or _str(data.get("message"))
                or "unknown error",
                message=_str(data.get("message")),
                variant=_str(data.get("variant")),
            )
        case _:
            return None
