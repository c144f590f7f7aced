"""Parsing of Deepgram speak socket messages (`/v1/speak`, `/v2/speak`).

Samples follow Deepgram's AsyncAPI spec (`SpeakV1_*`, `SpeakV2_*` schemas)
and its Flux TTS server-message pages; every field of each is then replaced
with odd values, as issue 18 did for the listen messages.
"""

from __future__ import annotations

from collections.abc import Callable
import copy
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from custom_components.deepgram.api import speak_messages as speak_messages_module
from custom_components.deepgram.api.messages import MAX_INT, MessageFormatError
from custom_components.deepgram.api.speak_messages import (
    MAX_ID_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_UUIDS,
    SpeakError,
    SpeakV1Cleared,
    SpeakV1Flushed,
    SpeakV1Metadata,
    SpeakV2ConfigureFailure,
    SpeakV2ConfigureSuccess,
    SpeakV2Connected,
    SpeakV2Flushed,
    SpeakV2SessionMetadata,
    SpeakV2SpeechInterrupted,
    SpeakV2SpeechMetadata,
    SpeakV2SpeechStarted,
    SpeakV2WarningCode,
    SpeakWarning,
    parse_speak_v1_message,
    parse_speak_v2_message,
)

REQUEST_ID = "550e8400-e29b-41d4-a716-446655440000"
UUID = "b3e47c20-9f81-4a2e-bd15-8d7c6e2a1f09"
SPEECH_ID = "dg_sp_0123456789ab"

V1_SAMPLES: list[tuple[dict[str, Any], Any]] = [
    (
        {
            "type": "Metadata",
            "request_id": REQUEST_ID,
            "model_name": "aura-2-thalia-en",
            "model_version": "2025-04-07.0",
            "model_uuid": UUID,
            "additional_model_uuids": [UUID],
        },
        SpeakV1Metadata(REQUEST_ID, "aura-2-thalia-en", "2025-04-07.0", UUID),
    ),
    ({"type": "Flushed", "sequence_id": 3}, SpeakV1Flushed(3)),
    ({"type": "Cleared", "sequence_id": 0}, SpeakV1Cleared(0)),
    (
        {
            "type": "Warning",
            "description": "Flush rate exceeded",
            "code": "FLUSH_LIMIT",
        },
        SpeakWarning("FLUSH_LIMIT", "Flush rate exceeded"),
    ),
    (
        {"type": "Error", "code": "DATA-0000", "description": "bad text"},
        SpeakError("DATA-0000", "bad text"),
    ),
]

V2_SAMPLES: list[tuple[dict[str, Any], Any]] = [
    (
        {
            "type": "Connected",
            "request_id": REQUEST_ID,
            "model_name": "flux-alexis-en",
            "model_version": "2026.06.01",
            "model_uuids": [UUID],
        },
        SpeakV2Connected(REQUEST_ID, "flux-alexis-en", "2026.06.01", (UUID,)),
    ),
    (
        {"type": "SpeechStarted", "speech_id": SPEECH_ID},
        SpeakV2SpeechStarted(SPEECH_ID),
    ),
    (
        {
            "type": "SpeechMetadata",
            "speech_id": SPEECH_ID,
            "audio_duration_ms": 2140,
            "input_character_count": 47,
            "billable_character_count": 46,
            "controls_applied": {
                "pronunciations_applied": 0,
                "pronunciation_warnings": 0,
            },
        },
        SpeakV2SpeechMetadata(SPEECH_ID, 2140, 47, 46),
    ),
    ({"type": "Flushed", "speech_id": SPEECH_ID}, SpeakV2Flushed(SPEECH_ID)),
    (
        {
            "type": "SessionMetadata",
            "total_audio_duration_ms": 9000,
            "total_input_character_count": 120,
            "total_billable_character_count": 118,
        },
        SpeakV2SessionMetadata(9000, 120, 118),
    ),
    (
        {
            "type": "SpeechInterrupted",
            "audio_played_ms": 1200,
            "text_spoken": "Sure, I can",
            "text_remaining": " help you.",
            "metadata": {
                "speech_id": SPEECH_ID,
                "audio_duration_ms": 1900,
                "input_character_count": 21,
                "billable_character_count": 21,
                "controls_applied": {
                    "pronunciations_applied": 0,
                    "breaks_applied": 0,
                    "pronunciation_warnings": 0,
                },
            },
        },
        SpeakV2SpeechInterrupted(
            1200,
            "Sure, I can",
            " help you.",
            SpeakV2SpeechMetadata(SPEECH_ID, 1900, 21, 21),
        ),
    ),
    (
        {"type": "ConfigureSuccess", "applied": {"speed": 1.05}},
        SpeakV2ConfigureSuccess(1.05),
    ),
    (
        {
            "type": "ConfigureFailure",
            "code": "SPEED_OUT_OF_RANGE",
            "field": "speed",
            "value": 1.6,
            "description": "speed must be between 0.5 and 1.5",
        },
        SpeakV2ConfigureFailure(
            "SPEED_OUT_OF_RANGE", "speed must be between 0.5 and 1.5", "speed", 1.6
        ),
    ),
    (
        {
            "type": "Warning",
            "code": "NO_SYNTHESIZABLE_TEXT",
            "description": "Only whitespace or punctuation",
        },
        SpeakWarning("NO_SYNTHESIZABLE_TEXT", "Only whitespace or punctuation"),
    ),
    (
        {"type": "Error", "code": "NET-0001", "description": "synthesis timed out"},
        SpeakError("NET-0001", "synthesis timed out"),
    ),
]

type Parse = Callable[[str], Any]
ALL_SAMPLES: list[tuple[Parse, dict[str, Any], Any]] = [
    (parse_speak_v1_message, raw, parsed) for raw, parsed in V1_SAMPLES
] + [(parse_speak_v2_message, raw, parsed) for raw, parsed in V2_SAMPLES]
IDS = [f"v1-{raw['type']}" for raw, _ in V1_SAMPLES] + [
    f"v2-{raw['type']}" for raw, _ in V2_SAMPLES
]


FIXTURES = Path(__file__).parent / "fixtures"
SCHEMAS: dict[Parse, dict[str, Any]] = {
    parse_speak_v1_message: json.loads(
        (FIXTURES / "speak_v1_messages.schema.json").read_text()
    ),
    parse_speak_v2_message: json.loads(
        (FIXTURES / "speak_v2_messages.schema.json").read_text()
    ),
}


@pytest.mark.parametrize(("parse", "raw", "parsed"), ALL_SAMPLES, ids=IDS)
def test_each_documented_message(
    parse: Parse, raw: dict[str, Any], parsed: Any
) -> None:
    """Each message of the spec (valid against it) becomes its typed value."""
    definitions = SCHEMAS[parse]["$defs"]
    if raw["type"] in definitions:  # /v1/speak specifies no Error
        jsonschema.validate(raw, definitions[raw["type"]])
    assert parse(json.dumps(raw)) == parsed


def test_every_documented_type_is_parsed() -> None:
    """No server message type of either spec is left to the unknown branch."""
    for parse, schema in SCHEMAS.items():
        for kind in schema["$defs"]:
            assert parse(json.dumps({"type": kind})) is not None, kind


@pytest.mark.parametrize(("parse", "raw", "parsed"), ALL_SAMPLES, ids=IDS)
def test_each_message_with_only_its_type(
    parse: Parse, raw: dict[str, Any], parsed: Any
) -> None:
    """Without its fields a message is still its type, every field defaulted."""
    message = parse(json.dumps({"type": raw["type"]}))
    assert type(message) is type(parsed)
    for field in dataclasses.fields(message):
        value = getattr(message, field.name)
        assert value in (None, 0, (), "unknown error", "unknown warning") or (
            value == "Configure refused"
        ), field.name


def test_warning_codes_compare_as_strings() -> None:
    """The documented /v2 warning codes match a parsed warning's code."""
    for code in SpeakV2WarningCode:
        message = parse_speak_v2_message(
            json.dumps({"type": "Warning", "code": str(code), "description": "d"})
        )
        assert isinstance(message, SpeakWarning)
        assert message.code == code
    assert {c.value for c in SpeakV2WarningCode} >= {
        "NO_SYNTHESIZABLE_TEXT",
        "NO_ACTIVE_SPEECH",
        "SYNTHESIS_RETRYING",
        "INTERRUPT_IN_PROGRESS",
    }


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"description": "d", "message": "m"}, "d"),
        ({"message": "m"}, "m"),
        ({"description": "", "message": "m"}, "m"),
        ({"description": 5, "message": ["m"]}, None),
        ({}, None),
    ],
)
@pytest.mark.parametrize(
    ("parse", "kind", "fallback"),
    [
        (parse_speak_v1_message, "Warning", "unknown warning"),
        (parse_speak_v1_message, "Error", "unknown error"),
        (parse_speak_v2_message, "Warning", "unknown warning"),
        (parse_speak_v2_message, "Error", "unknown error"),
        (parse_speak_v2_message, "ConfigureFailure", "Configure refused"),
    ],
)
def test_a_description_falls_back(
    parse: Parse,
    kind: str,
    fallback: str,
    fields: dict[str, Any],
    expected: str | None,
) -> None:
    """`description`, else `message`, else a plain default: never empty."""
    message = parse(json.dumps({"type": kind, **fields}))
    assert message.description == (expected or fallback)


# -- unknown and malformed -------------------------------------------------------


@pytest.mark.parametrize(
    ("parse", "kind"),
    [
        (parse_speak_v1_message, "SpeechStarted"),  # a /v2 message on /v1
        (parse_speak_v1_message, "Connected"),
        (parse_speak_v1_message, "Results"),
        (parse_speak_v1_message, "metadata"),  # types are case-sensitive
        (parse_speak_v2_message, "Metadata"),  # a /v1 message on /v2
        (parse_speak_v2_message, "Cleared"),
        (parse_speak_v2_message, "TurnInfo"),
        (parse_speak_v2_message, "SomethingNew"),
        (parse_speak_v2_message, ""),
    ],
)
def test_unknown_types_are_none(parse: Parse, kind: str) -> None:
    """A type this socket does not send is ignored, as on the listen sockets."""
    assert parse(json.dumps({"type": kind, "speech_id": 1})) is None


@pytest.mark.parametrize("parse", [parse_speak_v1_message, parse_speak_v2_message])
@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        "5",
        "null",
        '"Flushed"',
        "{}",
        '{"type": 5}',
        '{"type": null}',
        '{"type": ["Flushed"]}',
        "[" * 100_000,
        '{"type": "Flushed", "sequence_id": ' + "9" * 5000 + "}",
    ],
)
def test_malformed_frames(parse: Parse, text: str) -> None:
    """Not a JSON object with a string type: a MessageFormatError, nothing else."""
    with pytest.raises(MessageFormatError):
        parse(text)


def test_an_unforeseen_failure_is_a_malformed_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The net under the field checks names the type and the failure only."""

    def broken(data: dict[str, Any]) -> Any:
        raise OverflowError("a case the checks missed")

    monkeypatch.setattr(speak_messages_module, "_speech_metadata", broken)
    with pytest.raises(MessageFormatError) as info:
        parse_speak_v2_message('{"type": "SpeechMetadata"}')
    assert str(info.value) == "Unexpected SpeechMetadata (OverflowError)"
    monkeypatch.setattr(speak_messages_module, "_warning", broken)
    with pytest.raises(MessageFormatError) as info:
        parse_speak_v1_message('{"type": "Warning"}')
    assert str(info.value) == "Unexpected Warning (OverflowError)"


# -- odd fields ------------------------------------------------------------------

HUGE = 10**400


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


ODD_VALUES: list[Any] = [
    HUGE,
    -HUGE,
    2**64,
    MAX_INT + 1,
    -1,
    -0.6,
    math.inf,
    -math.inf,
    math.nan,
    1e308,
    True,
    False,
    None,
    "text",
    "",
    "x" * 10_000,
    [],
    {},
    [1, "x", None],
    ["u" * 500] * 100,
    {"speech_id": 5},
    _nested(500),
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replaced(sample: dict[str, Any], path: tuple[Any, ...], odd: Any) -> str:
    message = copy.deepcopy(sample)
    parent = message
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = odd
    return json.dumps(message)


def _assert_well_typed(value: Any) -> None:
    """Finite floats, ints within 0..MAX_INT, strings within their bound."""
    if isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, bool):
        raise AssertionError("no field of a speak message is a bool")
    elif isinstance(value, int):
        assert 0 <= value <= MAX_INT
    elif isinstance(value, str):
        assert len(value) <= MAX_TEXT_LENGTH
    elif isinstance(value, tuple):
        assert len(value) <= MAX_UUIDS
        for item in value:
            assert isinstance(item, str)
            assert len(item) <= MAX_ID_LENGTH
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            _assert_well_typed(getattr(value, field.name))
    else:
        assert value is None


@pytest.mark.parametrize(("parse", "raw", "parsed"), ALL_SAMPLES, ids=IDS)
def test_any_odd_field_is_defaulted_or_the_message_malformed(
    parse: Parse, raw: dict[str, Any], parsed: Any
) -> None:
    """Every field, every odd value: the typed message or MessageFormatError."""
    _assert_well_typed(parse(json.dumps(raw)))
    for path in _paths(raw):
        if path == ("type",):
            continue
        for odd in ODD_VALUES:
            text = _replaced(raw, path, odd)
            try:
                message = parse(text)
            except MessageFormatError:
                continue
            assert type(message) is type(parsed), text[:200]
            _assert_well_typed(message)


def test_strings_are_cut_to_their_bounds() -> None:
    """Ids and codes to MAX_ID_LENGTH, prose to MAX_TEXT_LENGTH, uuids counted."""
    long = "a" * 5000
    connected = parse_speak_v2_message(
        json.dumps(
            {
                "type": "Connected",
                "request_id": long,
                "model_name": long,
                "model_version": long,
                "model_uuids": [long] * 50,
            }
        )
    )
    assert connected == SpeakV2Connected(
        "a" * MAX_TEXT_LENGTH,
        "a" * MAX_ID_LENGTH,
        "a" * MAX_ID_LENGTH,
        ("a" * MAX_ID_LENGTH,) * MAX_UUIDS,
    )
    metadata = parse_speak_v1_message(
        json.dumps({"type": "Metadata", "request_id": long, "model_uuid": long})
    )
    assert metadata == SpeakV1Metadata("a" * MAX_TEXT_LENGTH, None, None, "a" * 100)
    parse: Parse
    for parse, kind in [
        (parse_speak_v1_message, "Warning"),
        (parse_speak_v2_message, "Error"),
        (parse_speak_v2_message, "ConfigureFailure"),
    ]:
        message = parse(json.dumps({"type": kind, "code": long, "description": long}))
        assert isinstance(message, SpeakWarning | SpeakError | SpeakV2ConfigureFailure)
        assert message.code == "a" * MAX_ID_LENGTH
        assert message.description == "a" * MAX_TEXT_LENGTH
    interrupted = parse_speak_v2_message(
        json.dumps(
            {
                "type": "SpeechInterrupted",
                "text_spoken": long,
                "text_remaining": long,
                "metadata": {"speech_id": long},
            }
        )
    )
    assert interrupted == SpeakV2SpeechInterrupted(
        None,
        "a" * MAX_TEXT_LENGTH,
        "a" * MAX_TEXT_LENGTH,
        SpeakV2SpeechMetadata("a" * MAX_ID_LENGTH, 0, 0, 0),
    )
    assert interrupted.speech_id == "a" * MAX_ID_LENGTH
    failure = parse_speak_v2_message(
        json.dumps({"type": "ConfigureFailure", "field": long})
    )
    assert isinstance(failure, SpeakV2ConfigureFailure)
    assert failure.field == "a" * MAX_ID_LENGTH
    for kind in ("SpeechStarted", "Flushed"):
        started = parse_speak_v2_message(json.dumps({"type": kind, "speech_id": long}))
        assert isinstance(started, SpeakV2SpeechStarted | SpeakV2Flushed)
        assert started.speech_id == "a" * MAX_ID_LENGTH


def test_model_uuids_keep_only_strings() -> None:
    """A lone uuid is a list of one; other items are dropped."""

    def uuids(value: Any) -> tuple[str, ...]:
        message = parse_speak_v2_message(
            json.dumps({"type": "Connected", "model_uuids": value})
        )
        assert isinstance(message, SpeakV2Connected)
        return message.model_uuids

    assert uuids([UUID, 5, None, "b"]) == (UUID, "b")
    assert uuids(UUID) == (UUID,)
    assert uuids(5) == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2140, 2140),
        (0, 0),
        (MAX_INT, MAX_INT),
        (2140.4, 2140),
        (2140.6, 2141),
        (0.4, 0),
        (-0.4, 0),  # rounds to 0: no harm
        ("2140", 0),
        (True, 0),
        (None, 0),
        ([2140], 0),
    ],
)
def test_counts_and_durations(value: Any, expected: int) -> None:
    """Integers as sent, floats rounded, other types 0."""
    message = parse_speak_v2_message(
        json.dumps(
            {
                "type": "SpeechMetadata",
                "audio_duration_ms": value,
                "input_character_count": value,
                "billable_character_count": value,
            }
        )
    )
    assert message == SpeakV2SpeechMetadata(None, expected, expected, expected)
    totals = parse_speak_v2_message(
        json.dumps(
            {
                "type": "SessionMetadata",
                "total_audio_duration_ms": value,
                "total_input_character_count": value,
                "total_billable_character_count": value,
            }
        )
    )
    assert totals == SpeakV2SessionMetadata(expected, expected, expected)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (-1, "A count out of range"),
        (MAX_INT + 1, "A count out of range"),
        (-0.6, "A count out of range"),
        (MAX_INT + 0.6, "A count out of range"),
        (1e308, "A count out of range"),
        (HUGE, "A count out of range"),
        (math.inf, "A number"),
        (math.nan, "A number"),
    ],
)
@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("SpeechMetadata", "audio_duration_ms"),
        ("SpeechMetadata", "input_character_count"),
        ("SpeechMetadata", "billable_character_count"),
        ("SessionMetadata", "total_audio_duration_ms"),
        ("SessionMetadata", "total_input_character_count"),
        ("SessionMetadata", "total_billable_character_count"),
        ("SpeechInterrupted", "audio_played_ms"),
    ],
)
def test_numbers_out_of_range_make_the_message_malformed(
    kind: str, field: str, value: Any, match: str
) -> None:
    """A negative count, one over MAX_INT or one no float holds: malformed."""
    with pytest.raises(MessageFormatError, match=match):
        parse_speak_v2_message(json.dumps({"type": kind, field: value}))


@pytest.mark.parametrize("kind", ["Flushed", "Cleared"])
def test_v1_sequence_ids(kind: str) -> None:
    """A sequence id is a count: None for another type, malformed out of range."""
    for value, expected in [(MAX_INT, MAX_INT), ("3", None), (True, None), (2.0, None)]:
        message = parse_speak_v1_message(
            json.dumps({"type": kind, "sequence_id": value})
        )
        assert isinstance(message, SpeakV1Flushed | SpeakV1Cleared)
        assert message.sequence_id == expected
    for value in (-1, MAX_INT + 1):
        with pytest.raises(MessageFormatError, match="A count out of range"):
            parse_speak_v1_message(json.dumps({"type": kind, "sequence_id": value}))


def test_interrupted_without_a_playback_offset() -> None:
    """Without playback_offset Deepgram omits what was spoken: None, not ''."""
    message = parse_speak_v2_message(
        json.dumps(
            {
                "type": "SpeechInterrupted",
                "audio_played_ms": 7,
                "metadata": {"speech_id": SPEECH_ID, "audio_duration_ms": 9},
            }
        )
    )
    assert message == SpeakV2SpeechInterrupted(
        7, None, None, SpeakV2SpeechMetadata(SPEECH_ID, 9, 0, 0)
    )
    assert message.speech_id == SPEECH_ID


@pytest.mark.parametrize("metadata", [None, "m", [], 5])
def test_interrupted_without_turn_metadata(metadata: Any) -> None:
    """Metadata that is not an object is None, and so is the speech id."""
    message = parse_speak_v2_message(
        json.dumps({"type": "SpeechInterrupted", "metadata": metadata})
    )
    assert message == SpeakV2SpeechInterrupted(None, None, None, None)
    assert message.speech_id is None


def test_interrupted_turn_metadata_out_of_range_is_malformed() -> None:
    """The nested counts are checked as SpeechMetadata's are."""
    with pytest.raises(MessageFormatError, match="A count out of range"):
        parse_speak_v2_message(
            json.dumps(
                {"type": "SpeechInterrupted", "metadata": {"audio_duration_ms": -5}}
            )
        )


@pytest.mark.parametrize(
    ("applied", "expected"),
    [
        ({"speed": 1}, 1.0),
        ({"speed": 0.5}, 0.5),
        ({"speed": "1.05"}, None),
        ({"speed": True}, None),
        ({}, None),  # a field is present only once set on the session
        (None, None),
        ([1.05], None),
        (1.05, None),
    ],
)
def test_configure_success_speed(applied: Any, expected: float | None) -> None:
    """The applied speed as a float; None when not given as a number."""
    message = parse_speak_v2_message(
        json.dumps({"type": "ConfigureSuccess", "applied": applied})
    )
    assert message == SpeakV2ConfigureSuccess(expected)


def test_configure_numbers_no_float_holds_are_malformed() -> None:
    """An applied speed or a refused value of 400 digits: malformed."""
    for message in (
        {"type": "ConfigureSuccess", "applied": {"speed": HUGE}},
        {"type": "ConfigureFailure", "value": HUGE},
        {"type": "ConfigureFailure", "value": math.inf},
    ):
        with pytest.raises(MessageFormatError, match="A number"):
            parse_speak_v2_message(json.dumps(message))


def test_configure_failure_without_a_value() -> None:
    """SPEED_NOT_SUPPORTED names the field but carries no value."""
    message = parse_speak_v2_message(
        json.dumps(
            {
                "type": "ConfigureFailure",
                "code": "SPEED_NOT_SUPPORTED",
                "field": "speed",
                "description": "no speed control",
            }
        )
    )
    assert message == SpeakV2ConfigureFailure(
        "SPEED_NOT_SUPPORTED", "no speed control", "speed", None
    )
