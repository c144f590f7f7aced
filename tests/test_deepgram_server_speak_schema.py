"""Messages of /v1/speak and /v2/speak against the schemas of asyncapi.yml.

The schema files (tests/fixtures/speak_v*_messages.schema.json, see SOURCES.md)
are copied from Deepgram's published spec; the first tests show they really
tell a good message from a broken one, so that a fake server passing them
means something.
"""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path
import re
from typing import Any

import aiohttp
import jsonschema  # type: ignore[import-untyped]
import pytest
from yarl import URL

from tests.deepgram_server import FakeDeepgram, Faults, Latency
from tests.deepgram_server.testing import (
    CLEAR,
    CLOSE,
    FLUSH,
    SpeechEvent,
    auth_header,
    read_speech,
    speak,
    speak_url,
    speak_v2_url,
    speech_messages,
    wait_for,
)

FIXTURES = Path(__file__).parent / "fixtures"
V1: dict[str, Any] = json.loads(
    (FIXTURES / "speak_v1_messages.schema.json").read_text()
)
V2: dict[str, Any] = json.loads(
    (FIXTURES / "speak_v2_messages.schema.json").read_text()
)
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER
UUID = "5d6a3a4e-2c1b-4b8e-9a57-0f1d2e3c4b5a"


def _validate(schemas: dict[str, Any], message: dict[str, Any]) -> None:
    """Validate a message against the schema of its own type.

    The spec's v1 type enums are loose (Flushed's allows "Cleared"), so the
    schema is picked by the message's type and must name that type.
    """
    schema = schemas[message["type"]]
    assert message["type"] in schema["properties"]["type"]["enum"]
    jsonschema.validate(message, schema, format_checker=FORMATS)


V1_SERVER_VALID: list[dict[str, Any]] = [
    {
        "type": "Metadata",
        "request_id": UUID,
        "model_name": "aura-2-thalia-en",
        "model_version": "2025-04-07.0",
        "model_uuid": UUID,
    },
    {"type": "Flushed", "sequence_id": 0},
    {"type": "Cleared", "sequence_id": 3},
    {
        "type": "Warning",
        "description": "Too many Flush messages",
        "code": "FLUSH_LIMIT",
    },
]
V1_SERVER_INVALID: list[dict[str, Any]] = [
    # Metadata without the model's uuid.
    {
        "type": "Metadata",
        "request_id": UUID,
        "model_name": "aura-2-thalia-en",
        "model_version": "2025-04-07.0",
    },
    # request_id must be a uuid.
    {
        "type": "Metadata",
        "request_id": "not-a-uuid",
        "model_name": "aura-2-thalia-en",
        "model_version": "2025-04-07.0",
        "model_uuid": UUID,
    },
    {"type": "Flushed"},
    {"type": "Flushed", "sequence_id": "1"},
    {"type": "Cleared", "sequence_id": 1.5},
    {"type": "Warning", "description": "no code"},
    {"type": "Warning", "description": "code is text", "code": 1},
]
V1_CLIENT_VALID: list[dict[str, Any]] = [
    {"type": "Speak", "text": "Hello."},
    {"type": "Flush"},
    {"type": "Clear"},
    {"type": "Close"},
]
V1_CLIENT_INVALID: list[dict[str, Any]] = [
    {"type": "Speak"},
    {"type": "Speak", "text": None},
]

CONTROLS: dict[str, int] = {"pronunciations_applied": 0, "pronunciation_warnings": 0}
V2_SERVER_VALID: list[dict[str, Any]] = [
    {
        "type": "Connected",
        "request_id": UUID,
        "model_name": "flux-alexis-en",
        "model_version": "2026-08-12.0",
        "model_uuids": [UUID],
    },
    {"type": "SpeechStarted", "speech_id": "dg_sp_0123456789ab"},
    {
        "type": "SpeechMetadata",
        "speech_id": "dg_sp_0123456789ab",
        "audio_duration_ms": 1240,
        "input_character_count": 22,
        "billable_character_count": 22,
        "controls_applied": CONTROLS | {"breaks_applied": 0},
    },
    {"type": "Flushed", "speech_id": "dg_sp_0123456789ab"},
    {
        "type": "SessionMetadata",
        "total_audio_duration_ms": 1240,
        "total_input_character_count": 22,
        "total_billable_character_count": 22,
    },
    {
        "type": "Warning",
        "code": "NO_SYNTHESIZABLE_TEXT",
        "description": "Nothing to say",
    },
    {"type": "Error", "code": "DATA-0002", "description": "Bad speed"},
    {"type": "Error", "code": "NET-0001", "description": "Timed out"},
    {
        "type": "SpeechInterrupted",
        "audio_played_ms": 800,
        "metadata": {
            "speech_id": "dg_sp_0123456789ab",
            "audio_duration_ms": 800,
            "input_character_count": 22,
            "billable_character_count": 22,
            "controls_applied": CONTROLS | {"breaks_applied": 0},
        },
    },
    {"type": "ConfigureSuccess", "applied": {"speed": 1.05}},
    {
        "type": "ConfigureFailure",
        "code": "SPEED_OUT_OF_RANGE",
        "field": "speed",
        "value": 3.0,
        "description": "Speed out of range",
    },
]
V2_SERVER_INVALID: list[dict[str, Any]] = [
    # Connected names a list of model uuids, not one.
    {
        "type": "Connected",
        "request_id": UUID,
        "model_name": "flux-alexis-en",
        "model_version": "2026-08-12.0",
        "model_uuid": UUID,
    },
    {"type": "SpeechStarted"},
    # SpeechMetadata without the controls the spec requires.
    {
        "type": "SpeechMetadata",
        "speech_id": "dg_sp_0123456789ab",
        "audio_duration_ms": 1240,
        "input_character_count": 22,
        "billable_character_count": 22,
    },
    {
        "type": "SpeechMetadata",
        "speech_id": "dg_sp_0123456789ab",
        "audio_duration_ms": 1240.5,
        "input_character_count": 22,
        "billable_character_count": 22,
        "controls_applied": CONTROLS,
    },
    # v1's Flushed shape is not v2's.
    {"type": "Flushed", "sequence_id": 0},
    {"type": "SessionMetadata", "total_audio_duration_ms": 1240},
    {"type": "Warning", "code": "NO_SYNTHESIZABLE_TEXT"},
    {"type": "Error", "code": "OOPS-0000", "description": "Unknown code"},
    {"type": "Error", "code": "NET-0001"},
    {"type": "SpeechInterrupted", "audio_played_ms": 800},
    {"type": "ConfigureSuccess"},
    {"type": "ConfigureFailure", "code": "SPEED_OUT_OF_RANGE"},
]
V2_CLIENT_VALID: list[dict[str, Any]] = [
    {"type": "Speak", "text": "Hello."},
    {"type": "Flush"},
    {"type": "Close"},
    {"type": "Interrupt"},
    {"type": "Interrupt", "playback_offset": {"type": "time_ms", "value": 500}},
    {"type": "Configure", "speed": 1.05},
]
V2_CLIENT_INVALID: list[dict[str, Any]] = [
    {"type": "Speak"},
    {"type": "Interrupt", "playback_offset": {"type": "time_ms", "value": "500"}},
    {"type": "Configure", "speed": "fast"},
]


def _cases(
    groups: list[tuple[str, dict[str, Any], list[dict[str, Any]]]],
) -> list[Any]:
    return [
        pytest.param(schemas, message, id=f"{label}-{message['type']}-{index}")
        for label, schemas, messages in groups
        for index, message in enumerate(messages)
    ]


def test_schema_files_cover_the_spec_messages() -> None:
    """One checked, fully inlined schema per text message of each socket."""
    assert set(V1["$defs"]) == {"Metadata", "Flushed", "Cleared", "Warning"}
    assert set(V1["client"]) == {"Speak", "Flush", "Clear", "Close"}
    assert set(V2["$defs"]) == {
        "Connected",
        "SpeechStarted",
        "SpeechMetadata",
        "Flushed",
        "SessionMetadata",
        "Warning",
        "Error",
        "SpeechInterrupted",
        "ConfigureSuccess",
        "ConfigureFailure",
    }
    assert set(V2["client"]) == {"Speak", "Flush", "Close", "Interrupt", "Configure"}
    for doc in (V1, V2):
        for group in ("$defs", "client"):
            for name, schema in doc[group].items():
                jsonschema.Draft202012Validator.check_schema(schema)
                assert "$ref" not in json.dumps(schema)
                assert name in schema["properties"]["type"]["enum"]


@pytest.mark.parametrize(
    ("schemas", "message"),
    _cases(
        [
            ("v1", V1["$defs"], V1_SERVER_VALID),
            ("v1-client", V1["client"], V1_CLIENT_VALID),
            ("v2", V2["$defs"], V2_SERVER_VALID),
            ("v2-client", V2["client"], V2_CLIENT_VALID),
        ]
    ),
)
def test_valid_examples_validate(
    schemas: dict[str, Any], message: dict[str, Any]
) -> None:
    """Messages shaped as Deepgram documents them pass."""
    _validate(schemas, message)


@pytest.mark.parametrize(
    ("schemas", "message"),
    _cases(
        [
            ("v1", V1["$defs"], V1_SERVER_INVALID),
            ("v1-client", V1["client"], V1_CLIENT_INVALID),
            ("v2", V2["$defs"], V2_SERVER_INVALID),
            ("v2-client", V2["client"], V2_CLIENT_INVALID),
        ]
    ),
)
def test_broken_examples_fail(schemas: dict[str, Any], message: dict[str, Any]) -> None:
    """A missing field, a wrong type or an unknown error code is refused."""
    with pytest.raises(jsonschema.ValidationError):
        _validate(schemas, message)


# -- what the fake server sends ---------------------------------------------


def _types(schemas: dict[str, Any], events: list[SpeechEvent]) -> list[str]:
    """Validate every JSON message among ``events``; their types in order."""
    messages = speech_messages(events)
    for message in messages:
        _validate(schemas, message)
    return [message["type"] for message in messages]


def _all_sent_validate(server: FakeDeepgram, schemas: dict[str, Any]) -> None:
    """Every message the server recorded as sent, in every session, validates."""
    assert server.speak_sessions
    for record in server.speak_sessions:
        for message in record.sent:
            _validate(schemas, message)


async def _open(
    http: aiohttp.ClientSession, url: URL
) -> tuple[aiohttp.ClientWebSocketResponse, list[SpeechEvent]]:
    ws = await http.ws_connect(url, headers=auth_header())
    return ws, await read_speech(ws, "Metadata")


async def test_v1_session_messages_validate(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Metadata, Flushed (with and without audio), Cleared and the close."""
    # Slow enough that the Clear lands while audio is still going out.
    deepgram_server.latency = Latency(speak_seconds_per_char=0.05, speak_realtime=1.0)
    ws, events = await _open(http, speak_url(deepgram_server))
    await ws.send_str(speak("Turn on the light. "))
    await ws.send_str(speak("Is it dark?"))
    await ws.send_str(FLUSH)
    events += await read_speech(ws, "Flushed")
    await ws.send_str(speak(" ... !"))
    await ws.send_str(FLUSH)
    events += await read_speech(ws, "Flushed")
    await ws.send_str(speak("x" * 99 + "."))
    await ws.send_str(FLUSH)
    await ws.send_str(speak("Buffered, never flushed."))
    await ws.send_str(CLEAR)
    events += await read_speech(ws, "Cleared")
    await ws.send_str(CLOSE)
    events += await read_speech(ws)
    assert ws.close_code == 1000
    assert _types(V1["$defs"], events) == [
        "Metadata",
        "Flushed",
        "Flushed",
        "Cleared",
    ]
    _all_sent_validate(deepgram_server, V1["$defs"])


async def test_v1_warnings_validate(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The Warning fault and the Flush limit's Warning."""
    deepgram_server.faults = Faults(speak_warning=("SOME_WARNING", "Careful."))
    deepgram_server.speak_flush_limit = 1
    ws, events = await _open(http, speak_url(deepgram_server))
    await ws.send_str(speak("One."))
    await ws.send_str(FLUSH)
    events += await read_speech(ws, "Flushed")
    await ws.send_str(FLUSH)
    events += await read_speech(ws, "Warning")
    await ws.close()
    assert _types(V1["$defs"], events) == [
        "Metadata",
        "Warning",
        "Flushed",
        "Warning",
    ]
    codes = [m["code"] for m in speech_messages(events) if m["type"] == "Warning"]
    assert codes == ["SOME_WARNING", "FLUSH_LIMIT_EXCEEDED"]
    _all_sent_validate(deepgram_server, V1["$defs"])


@pytest.mark.parametrize(
    ("setup", "text", "code"),
    [
        (
            lambda s: setattr(s, "faults", Faults(speak_error=("NET-0002", "x"))),
            "Hi.",
            1011,
        ),
        (lambda s: setattr(s, "speak_text_limit", 10), "Eleven char", 1008),
        (lambda s: setattr(s, "speak_char_limit", 10), "Eleven char", 1008),
        (
            lambda s: setattr(s, "faults", Faults(speak_close_after_audio_bytes=100)),
            "Hi.",
            1011,
        ),
    ],
    ids=["error_fault", "text_limit", "char_limit", "cut_mid_audio"],
)
async def test_v1_failures_send_no_error_message(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    setup: Callable[[FakeDeepgram], None],
    text: str,
    code: int,
) -> None:
    """/v1/speak has no in-band Error: a failure is a close code, nothing else."""
    setup(deepgram_server)
    ws, events = await _open(http, speak_url(deepgram_server))
    await ws.send_str(speak(text))
    await ws.send_str(FLUSH)
    events += await read_speech(ws)
    assert ws.close_code == code
    assert set(_types(V1["$defs"], events)) <= {"Metadata", "Flushed"}
    _all_sent_validate(deepgram_server, V1["$defs"])


async def _open_v2(
    http: aiohttp.ClientSession, url: URL
) -> tuple[aiohttp.ClientWebSocketResponse, list[SpeechEvent]]:
    ws = await http.ws_connect(url, headers=auth_header())
    return ws, await read_speech(ws, "Connected")


async def test_v2_session_messages_validate(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Connected, a spoken turn, an empty turn, a Flush with no turn, the close."""
    ws, events = await _open_v2(http, speak_v2_url(deepgram_server))
    await ws.send_str(speak("Turn on the light. Is it"))
    await ws.send_str(speak(" dark?"))
    await ws.send_str(FLUSH)
    events += await read_speech(ws, "SpeechMetadata")
    await ws.send_str(speak(" ... !"))
    await ws.send_str(FLUSH)
    events += await read_speech(ws, "SpeechMetadata")
    await ws.send_str(FLUSH)
    events += await read_speech(ws, "Warning")
    await ws.send_str(speak("Goodbye. Never"))
    await ws.send_str(CLOSE)
    events += await read_speech(ws)
    assert ws.close_code == 1000
    types = _types(V2["$defs"], events)
    assert types == [
        "Connected",
        "SpeechStarted",
        "Flushed",
        "SpeechMetadata",
        "Warning",
        "Flushed",
        "SpeechMetadata",
        "Warning",
        "SpeechStarted",
        "SessionMetadata",
    ]
    codes = [m["code"] for m in speech_messages(events) if m["type"] == "Warning"]
    assert codes == ["NO_SYNTHESIZABLE_TEXT", "NO_ACTIVE_SPEECH"]
    _all_sent_validate(deepgram_server, V2["$defs"])
    # What the spec says in prose: the form of a turn's id, billable <= input.
    for message in speech_messages(events):
        if "speech_id" in message:
            assert re.fullmatch(r"dg_sp_[0-9a-f]{12}", message["speech_id"])
        if message["type"] == "SpeechMetadata":
            assert (
                message["billable_character_count"] <= message["input_character_count"]
            )


@pytest.mark.parametrize("code", V2["$defs"]["Error"]["properties"]["code"]["enum"])
async def test_v2_error_fault_validates(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession, code: str
) -> None:
    """The in-band Error, with each code the spec (and the SDK) list."""
    deepgram_server.faults = Faults(
        speak_warning=("SYNTHESIS_RETRYING", "Retrying."),
        speak_error=(code, "Failed."),
    )
    ws, events = await _open_v2(http, speak_v2_url(deepgram_server))
    await ws.send_str(speak("Doomed."))
    events += await read_speech(ws)
    assert ws.close_code == 1011
    assert _types(V2["$defs"], events) == ["Connected", "Warning", "Error"]
    _all_sent_validate(deepgram_server, V2["$defs"])


async def test_v2_cut_mid_audio_validates(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A socket dropped mid-audio sent nothing malformed before."""
    deepgram_server.faults = Faults(speak_close_after_audio_bytes=100)
    ws, events = await _open_v2(http, speak_v2_url(deepgram_server))
    await ws.send_str(speak("Cut short. Never heard."))
    await ws.send_str(FLUSH)
    events += await read_speech(ws)
    assert ws.close_code == 1011
    assert _types(V2["$defs"], events) == ["Connected", "SpeechStarted"]
    _all_sent_validate(deepgram_server, V2["$defs"])


async def test_v2_ga_answers_validate(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Interrupt (with and without a turn) and Configure (taken and refused)."""
    ws, events = await _open_v2(http, speak_v2_url(deepgram_server))
    await ws.send_str(json.dumps({"type": "Interrupt"}))
    events += await read_speech(ws, "Warning")
    for speed, answer in (
        (1.05, "ConfigureSuccess"),
        (1.12, "ConfigureFailure"),  # off the 0.05 steps
        (3, "ConfigureFailure"),  # out of range
    ):
        await ws.send_str(json.dumps({"type": "Configure", "speed": speed}))
        events += await read_speech(ws, answer)
    # A turn still being spoken when the Interrupt lands.
    deepgram_server.latency = Latency(speak_seconds_per_char=0.05, speak_realtime=1.0)
    await ws.send_str(speak("x" * 99 + ". And more."))
    record = deepgram_server.speak_sessions[0]
    await wait_for(lambda: record.audio_bytes > 0)
    offset = {"type": "time_ms", "value": 10}
    await ws.send_str(json.dumps({"type": "Interrupt", "playback_offset": offset}))
    events += await read_speech(ws, "SpeechInterrupted")
    await ws.close()
    assert _types(V2["$defs"], events) == [
        "Connected",
        "Warning",
        "ConfigureSuccess",
        "ConfigureFailure",
        "ConfigureFailure",
        "SpeechStarted",
        "SpeechInterrupted",
    ]
    _all_sent_validate(deepgram_server, V2["$defs"])
