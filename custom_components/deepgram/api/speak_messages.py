"""Typed server messages of Deepgram's speak sockets (`/v1/speak`, `/v2/speak`).

Audio comes in binary frames; these are the text frames around it.
`parse_speak_v1_message` and `parse_speak_v2_message` turn one text frame
into a typed message, `None` for a type this client does not know (ignored,
as on the listen sockets), and raise `MessageFormatError` for a frame that
is not a JSON object with a `type`, and for nothing else. Fields are read
with the listen parsers' helpers: a field of the wrong type takes its
default, a number no finite float holds or a count below 0 or over MAX_INT
makes the message malformed, so one odd message is skipped and the speech
goes on.

Strings are cut to a bound here (identifiers and codes to MAX_ID_LENGTH,
prose to MAX_TEXT_LENGTH) but not scrubbed: like the listen sessions, the
speak session passes server text through its `Redactor` (`request_id`
through `Redactor.request_id`) before keeping or logging it.

`/v1/speak` specifies no in-band `Error` (failures come as close frames);
one is still read, shaped as on `/v2/speak`, so that it is not ignored.
`SpeechInterrupted` and `ConfigureSuccess`/`ConfigureFailure` are read as
Deepgram's generated GA types describe them (deepgram-sdk 7.17.0; the
AsyncAPI spec predates them), as are the warning codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from .messages import (
    float_field,
    int_field,
    load_message,
    optional_float_field,
    parse_guarded,
    str_field,
    strings_field,
)

MAX_ID_LENGTH: Final = 100
"""Request and speech ids, model names and versions, codes: cut to this."""
MAX_TEXT_LENGTH: Final = 2000
"""Descriptions and spoken text: cut to this (a speak request holds at most
2000 characters; the Redactor cuts shorter again for logs)."""
MAX_UUIDS: Final = 16
"""Model uuids kept from one message."""


class SpeakV2WarningCode(StrEnum):
    """Warning codes `/v2/speak` documents (others may come)."""

    NO_SYNTHESIZABLE_TEXT = "NO_SYNTHESIZABLE_TEXT"
    """Only whitespace or punctuation: the turn ends with no audio."""
    NO_ACTIVE_SPEECH = "NO_ACTIVE_SPEECH"
    """A speech-scoped message (Flush, Interrupt) came with no turn open."""
    SYNTHESIS_RETRYING = "SYNTHESIS_RETRYING"
    """A synthesis request failed and is being retried."""
    NO_AUDIO_GENERATED = "NO_AUDIO_GENERATED"
    """`Interrupt` ignored: no audio produced yet."""
    INTERRUPT_IN_PROGRESS = "INTERRUPT_IN_PROGRESS"
    """`Interrupt` ignored: an earlier one is still being handled."""
    INVALID_INTERRUPT_OFFSET = "INVALID_INTERRUPT_OFFSET"
    """`Interrupt` ignored: its playback_offset did not advance."""
    PRONUNCIATION_WARNINGS = "PRONUNCIATION_WARNINGS"
    """A pronunciation override held invalid IPA (applied best-effort)."""
    PRONUNCIATION_TOO_LONG = "PRONUNCIATION_TOO_LONG"
    """An IPA string exceeded the length limit."""
    PRONUNCIATIONS_LIMIT_EXCEEDED = "PRONUNCIATIONS_LIMIT_EXCEEDED"
    """Too many pronunciation controls in one turn."""


@dataclass(frozen=True, slots=True)
class SpeakWarning:
    """A warning on either socket (too many Flush, nothing to say, ...)."""

    code: str | None
    description: str


@dataclass(frozen=True, slots=True)
class SpeakError:
    """An in-band error; the server closes the socket after it."""

    code: str | None
    description: str


@dataclass(frozen=True, slots=True)
class SpeakV1Metadata:
    """The first message on `/v1/speak`: the request and the model serving it."""

    request_id: str | None
    model_name: str | None
    model_version: str | None
    model_uuid: str | None


@dataclass(frozen=True, slots=True)
class SpeakV1Flushed:
    """All audio of a `Flush` has been sent."""

    sequence_id: int | None


@dataclass(frozen=True, slots=True)
class SpeakV1Cleared:
    """A `Clear` took effect: buffered text dropped, its audio stopped."""

    sequence_id: int | None


@dataclass(frozen=True, slots=True)
class SpeakV2Connected:
    """The first message on `/v2/speak`: the request and the model serving it."""

    request_id: str | None
    model_name: str | None
    model_version: str | None
    model_uuids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SpeakV2SpeechStarted:
    """A turn began: its audio follows, up to its `SpeechMetadata`."""

    speech_id: str | None


@dataclass(frozen=True, slots=True)
class SpeakV2SpeechMetadata:
    """A turn is complete: all of its audio has been sent."""

    speech_id: str | None
    audio_duration_ms: int
    input_character_count: int
    billable_character_count: int


@dataclass(frozen=True, slots=True)
class SpeakV2Flushed:
    """A `Flush` was taken: the turn's text is complete."""

    speech_id: str | None


@dataclass(frozen=True, slots=True)
class SpeakV2SessionMetadata:
    """Totals of the session, sent at its end."""

    total_audio_duration_ms: int
    total_input_character_count: int
    total_billable_character_count: int


@dataclass(frozen=True, slots=True)
class SpeakV2SpeechInterrupted:
    """An `Interrupt` cancelled the turn: how much was played, what was heard.

    `text_spoken` and `text_remaining` come only when the `Interrupt` gave a
    `playback_offset`; `metadata` is the cancelled turn's billing and timing.
    """

    audio_played_ms: int | None
    text_spoken: str | None
    text_remaining: str | None
    metadata: SpeakV2SpeechMetadata | None

    @property
    def speech_id(self) -> str | None:
        """The cancelled turn's id, from its metadata."""
        return self.metadata.speech_id if self.metadata is not None else None


@dataclass(frozen=True, slots=True)
class SpeakV2ConfigureSuccess:
    """A `Configure` was applied; the speed now in force, when set."""

    speed: float | None


@dataclass(frozen=True, slots=True)
class SpeakV2ConfigureFailure:
    """A `Configure` was refused; the earlier settings stay.

    `field` and `value` name what was refused when it is one field
    (`SPEED_NOT_SUPPORTED` names the field without a value).
    """

    code: str | None
    description: str
    field: str | None = None
    value: float | None = None


type SpeakV1Message = (
    SpeakV1Metadata | SpeakV1Flushed | SpeakV1Cleared | SpeakWarning | SpeakError
)
type SpeakV2Message = (
    SpeakV2Connected
    | SpeakV2SpeechStarted
    | SpeakV2SpeechMetadata
    | SpeakV2Flushed
    | SpeakV2SessionMetadata
    | SpeakV2SpeechInterrupted
    | SpeakV2ConfigureSuccess
    | SpeakV2ConfigureFailure
    | SpeakWarning
    | SpeakError
)


def _cut(value: Any, limit: int) -> str | None:
    """A string cut to `limit` characters, None for anything else."""
    text = str_field(value)
    return None if text is None else text[:limit]


def _id(value: Any) -> str | None:
    return _cut(value, MAX_ID_LENGTH)


def _text(value: Any) -> str | None:
    return _cut(value, MAX_TEXT_LENGTH)


def _duration_ms(value: Any) -> int | None:
    """Milliseconds: an int, or a float rounded; None for another type.

    Deepgram sends integers; a float is taken rather than dropped. Either
    below 0 or over MAX_INT makes the message malformed (`int_field`).
    """
    if isinstance(value, float):
        return int_field(round(float_field(value)))
    return int_field(value)


def _count(value: Any) -> int:
    """A count or duration, 0 for a value of another type."""
    return _duration_ms(value) or 0


def _description(data: dict[str, Any], fallback: str) -> str:
    return _text(data.get("description")) or _text(data.get("message")) or fallback


def _warning(data: dict[str, Any]) -> SpeakWarning:
    return SpeakWarning(
        code=_id(data.get("code")),
        description=_description(data, "unknown warning"),
    )


def _error(data: dict[str, Any]) -> SpeakError:
    return SpeakError(
        code=_id(data.get("code")), description=_description(data, "unknown error")
    )


def _uuids(value: Any) -> tuple[str, ...]:
    return tuple(uuid[:MAX_ID_LENGTH] for uuid in strings_field(value)[:MAX_UUIDS])


def parse_speak_v1_message(text: str) -> SpeakV1Message | None:
    """Parse one `/v1/speak` text frame; `None` for a type not known here."""
    return parse_guarded(_parse_v1, load_message(text))


def _parse_v1(data: dict[str, Any]) -> SpeakV1Message | None:
    match data["type"]:
        case "Metadata":
            return SpeakV1Metadata(
                request_id=_text(data.get("request_id")),
                model_name=_id(data.get("model_name")),
                model_version=_id(data.get("model_version")),
                model_uuid=_id(data.get("model_uuid")),
            )
        case "Flushed":
            return SpeakV1Flushed(sequence_id=int_field(data.get("sequence_id")))
        case "Cleared":
            return SpeakV1Cleared(sequence_id=int_field(data.get("sequence_id")))
        case "Warning":
            return _warning(data)
        case "Error":
            return _error(data)
        case _:
            return None


def parse_speak_v2_message(text: str) -> SpeakV2Message | None:
    """Parse one `/v2/speak` text frame; `None` for a type not known here."""
    return parse_guarded(_parse_v2, load_message(text))


def _speech_metadata(data: dict[str, Any]) -> SpeakV2SpeechMetadata:
    return SpeakV2SpeechMetadata(
        speech_id=_id(data.get("speech_id")),
        audio_duration_ms=_count(data.get("audio_duration_ms")),
        input_character_count=_count(data.get("input_character_count")),
        billable_character_count=_count(data.get("billable_character_count")),
    )


def _session_metadata(data: dict[str, Any]) -> SpeakV2SessionMetadata:
    return SpeakV2SessionMetadata(
        total_audio_duration_ms=_count(data.get("total_audio_duration_ms")),
        total_input_character_count=_count(data.get("total_input_character_count")),
        total_billable_character_count=_count(
            data.get("total_billable_character_count")
        ),
    )


def _speech_interrupted(data: dict[str, Any]) -> SpeakV2SpeechInterrupted:
    metadata = data.get("metadata")
    return SpeakV2SpeechInterrupted(
        audio_played_ms=_duration_ms(data.get("audio_played_ms")),
        text_spoken=_text(data.get("text_spoken")),
        text_remaining=_text(data.get("text_remaining")),
        metadata=_speech_metadata(metadata) if isinstance(metadata, dict) else None,
    )


def _parse_v2(data: dict[str, Any]) -> SpeakV2Message | None:
    match data["type"]:
        case "Connected":
            return SpeakV2Connected(
                request_id=_text(data.get("request_id")),
                model_name=_id(data.get("model_name")),
                model_version=_id(data.get("model_version")),
                model_uuids=_uuids(data.get("model_uuids")),
            )
        case "SpeechStarted":
            return SpeakV2SpeechStarted(speech_id=_id(data.get("speech_id")))
        case "SpeechMetadata":
            return _speech_metadata(data)
        case "Flushed":
            return SpeakV2Flushed(speech_id=_id(data.get("speech_id")))
        case "SessionMetadata":
            return _session_metadata(data)
        case "SpeechInterrupted":
            return _speech_interrupted(data)
        case "ConfigureSuccess":
            applied = data.get("applied")
            return SpeakV2ConfigureSuccess(
                speed=optional_float_field(applied.get("speed"))
                if isinstance(applied, dict)
                else None
            )
        case "ConfigureFailure":
            return SpeakV2ConfigureFailure(
                code=_id(data.get("code")),
                description=_description(data, "Configure refused"),
                field=_id(data.get("field")),
                value=optional_float_field(data.get("value")),
            )
        case "Warning":
            return _warning(data)
        case "Error":
            return _error(data)
        case _:
            return None
