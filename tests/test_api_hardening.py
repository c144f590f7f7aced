"""Issue 18, "Listening hardened": what the streaming sessions survive.

Frames of whole samples for any encoding, odd server messages that end
nothing, request ids that cannot carry the key back, and refused frames
that still end the request with `CloseStream`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import copy
import dataclasses
import json
import logging
import math
import re
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.deepgram.api import (
    DeepgramProtocolError,
    DeepgramServerError,
    Endpoint,
    FluxOptions,
    FluxSession,
    LiveOptions,
    LiveSession,
    flux_messages as flux_messages_module,
    messages as messages_module,
)
from custom_components.deepgram.api.flux_messages import (
    ConfigureSuccess,
    TurnInfo,
    parse_flux_message,
)
from custom_components.deepgram.api.messages import (
    MAX_INT,
    MessageFormatError,
    Metadata,
    Results,
    parse_message,
)
from custom_components.deepgram.api.redact import (
    MAX_REQUEST_ID,
    MIN_EDGE,
    REDACTED,
    Redactor,
)
from custom_components.deepgram.api.stream import (
    CLOSE_STREAM,
    MAX_EXCEPTION_LINE,
    MAX_MESSAGE_BYTES,
    MAX_TRACE,
    StreamSession,
    loggable_trace,
)
from tests.api_helpers import flux, live, pcm, send, websocket_route
from tests.conftest import API_KEY, OddServer
from tests.deepgram_server import FakeDeepgram, Faults, script_from_text
from tests.deepgram_server.testing import wait_for

PATHS = ["/v1/listen", "/v2/listen"]


def session_for(
    path: str, base_url: str, http: aiohttp.ClientSession, **kwargs: Any
) -> StreamSession:
    """A /v1 or /v2 session (by `path`) to `base_url`, with `API_KEY`."""
    endpoint = Endpoint(base_url, API_KEY)
    if path == "/v1/listen":
        return LiveSession(http, endpoint, LiveOptions(), **kwargs)
    return FluxSession(http, endpoint, FluxOptions(), **kwargs)


# -- item 13: the largest frame for an unknown byte rate ----------------------


@pytest.mark.parametrize(
    ("options", "block"),
    [
        (LiveOptions(encoding="mulaw", sample_rate=8000, channels=3), 3),
        (LiveOptions(encoding="linear32", sample_rate=16000, channels=8), 32),
        (LiveOptions(encoding="alaw", sample_rate=8000, channels=7), 7),
    ],
)
async def test_unknown_rate_frames_are_64_kib_of_whole_samples(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    options: LiveOptions,
    block: int,
) -> None:
    """Without a byte rate a big chunk goes out in frames of 64 KiB, whole samples."""
    assert options.bytes_per_second is None
    session = live(deepgram_server, http, options)
    await session.connect()
    audio = bytes(i % 251 for i in range(block * (3 * (1 << 16) // block + 5)))
    async with asyncio.timeout(20):  # frames of one byte would take minutes
        await session.send_audio(audio)
    [record] = deepgram_server.sessions
    await wait_for(lambda: record.audio_bytes == len(audio))
    await session.close()
    largest = (1 << 16) // block * block
    sizes = record.binary_frame_sizes()
    assert sizes[:-1] == [largest] * (len(sizes) - 1)
    assert 0 < sizes[-1] <= largest
    assert all(size % block == 0 for size in sizes)


# -- item 4: a handshake request id echoing the key ---------------------------


@pytest.mark.parametrize("path", PATHS)
async def test_a_handshake_request_id_echoing_the_key_is_scrubbed_and_cut(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    path: str,
) -> None:
    """A proxy echoing Authorization in `dg-request-id`: the error never holds it."""

    async def listen(request: web.Request) -> web.WebSocketResponse:
        auth = request.headers["Authorization"]
        ws = web.WebSocketResponse()
        ws.headers["dg-request-id"] = f"{auth} " + "x" * 300
        await ws.prepare(request)
        await ws.close(code=1011, message=b"boom")
        return ws

    session = session_for(path, await odd_server({f"GET {path}": listen}), http)
    session.start()
    await wait_for(lambda: session.error is not None)
    await session.close()
    error = session.error
    assert isinstance(error, DeepgramServerError)
    request_id = error.request_id
    assert request_id is not None
    assert request_id == session.request_id
    assert request_id.startswith(f"Token {REDACTED} xxx")
    assert request_id.endswith("…")
    assert len(request_id) <= MAX_REQUEST_ID + 1
    assert API_KEY not in str(error)
    assert "x" * 300 not in caplog.text


# -- item 1: odd but valid JSON skips one message, never the session ----------

HUGE = "9" * 400  # float() of this integer raises OverflowError
DEEP = '{"type": "Results", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
"""Nested 100 000 deep (json.loads raises RecursionError), under the cap."""
OVER_DIGITS = '{"type": "Results", "start": ' + "9" * 5000 + "}"
"""Over Python's int-str digit limit: json.loads raises ValueError."""

# What each /v1 message did to a session before issue 18 (the loop died).
ODD_LIVE = (
    # TypeError: a number where the languages list goes
    '{"type": "Results", "is_final": false, "channel": {"alternatives": '
    '[{"transcript": "", "languages": 5}]}}',
    # OverflowError: 400 digits where a float goes
    '{"type": "Results", "is_final": false, "start": ' + HUGE + ", "
    '"channel": {"alternatives": [{"transcript": "", "words": '
    '[{"word": "x", "start": ' + HUGE + "}]}]}}",
    '{"type": "SpeechStarted", "timestamp": ' + HUGE + "}",
    DEEP,
    OVER_DIGITS,
)
ODD_FLUX = (
    '{"type": "TurnInfo", "event": "Update", "turn_index": 0, "transcript": "", '
    '"audio_window_end": ' + HUGE + ', "words": [{"word": "x", "end": ' + HUGE + "}]}",
    '{"type": "ConfigureSuccess", "thresholds": {"eot_threshold": ' + HUGE + "}}",
    '{"type": "TurnInfo", "event": ' + "9" * 4000 + "}",
    DEEP.replace("Results", "TurnInfo"),
)
MALFORMED = 4
"""Of each: all but the languages that are a number (defaulted) and the word
in TurnInfo (in the same message as a number no float holds)."""

# A message of each type with every field this client reads.
LIVE_SAMPLES: list[dict[str, Any]] = [
    {
        "type": "Results",
        "start": 0.5,
        "duration": 1.0,
        "is_final": True,
        "speech_final": True,
        "from_finalize": False,
        "channel": {
            "alternatives": [
                {
                    "transcript": "turn on",
                    "confidence": 0.9,
                    "languages": ["en"],
                    "words": [
                        {
                            "word": "turn",
                            "start": 0.5,
                            "end": 0.8,
                            "confidence": 0.9,
                            "punctuated_word": "Turn",
                            "language": "en",
                            "speaker": 0,
                        }
                    ],
                }
            ]
        },
        "metadata": {"request_id": "r"},
    },
    {
        "type": "Metadata",
        "request_id": "r",
        "duration": 1.0,
        "channels": 1,
        "created": "now",
        "model_info": {"m": {"name": "nova-3"}},
    },
    {"type": "UtteranceEnd", "last_word_end": 1.0},
    {"type": "SpeechStarted", "timestamp": 1.0},
    {"type": "Error", "description": "d", "message": "m", "variant": "v"},
]
FLUX_SAMPLES: list[dict[str, Any]] = [
    {
        "type": "TurnInfo",
        "event": "Update",
        "turn_index": 0,
        "transcript": "turn on",
        "words": [{"word": "turn", "confidence": 0.9, "start": 0.5, "end": 0.8}],
        "end_of_turn_confidence": 0.5,
        "audio_window_start": 0.0,
        "audio_window_end": 1.0,
        "request_id": "r",
        "trigger": "t",
        "languages": ["en"],
    },
    {"type": "Connected", "request_id": "r"},
    {
        "type": "ConfigureSuccess",
        "thresholds": {"eot_threshold": 0.7},
        "keyterms": ["k"],
        "language_hints": ["en"],
    },
    {"type": "ConfigureFailure", "request_id": "r"},
    {"type": "Error", "code": "c", "description": "d", "message": "m"},
]


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


ODD_VALUES: list[Any] = [
    int(HUGE),
    -int(HUGE),
    2**64,
    -1,
    math.inf,
    -math.inf,
    math.nan,
    1e308,
    True,
    None,
    "text",
    "",
    [],
    {},
    [1, "x", None],
    {"word": 5},
    _nested(500),
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into `value`, the containers' and the leaves'."""
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
    """Numbers in a parsed message are finite floats and ints within MAX_INT."""
    if isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        assert 0 <= value <= MAX_INT
    elif isinstance(value, tuple):
        for item in value:
            _assert_well_typed(item)
    elif isinstance(value, dict):
        for item in value.values():
            assert isinstance(item, float)
            _assert_well_typed(item)
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            _assert_well_typed(getattr(value, field.name))


@pytest.mark.parametrize(
    ("parse", "sample"),
    [(parse_message, sample) for sample in LIVE_SAMPLES]
    + [(parse_flux_message, sample) for sample in FLUX_SAMPLES],
    ids=lambda v: v["type"] if isinstance(v, dict) else v.__name__,
)
def test_any_odd_field_is_defaulted_or_the_message_malformed(
    parse: Callable[[str], Any], sample: dict[str, Any]
) -> None:
    """Every field, every odd value: a typed message, None, or MessageFormatError."""
    _assert_well_typed(parse(json.dumps(sample)))
    for path in _paths(sample):
        if path == ("type",):
            continue
        for odd in ODD_VALUES:
            text = _replaced(sample, path, odd)
            try:
                message = parse(text)
            except MessageFormatError:
                continue
            assert message is not None, text[:200]
            _assert_well_typed(message)


@pytest.mark.parametrize(
    ("parse", "text", "malformed"),
    [
        (parse_message, ODD_LIVE[0], False),  # the languages defaulted
        *((parse_message, text, True) for text in ODD_LIVE[1:]),
        *((parse_flux_message, text, True) for text in ODD_FLUX),
    ],
    ids=[f"live-{i}" for i in range(len(ODD_LIVE))]
    + [f"flux-{i}" for i in range(len(ODD_FLUX))],
)
def test_the_issues_odd_messages(
    parse: Callable[[str], Any], text: str, malformed: bool
) -> None:
    """Each is a typed message with the field defaulted, or malformed."""
    if malformed:
        with pytest.raises(MessageFormatError):
            parse(text)
    else:
        _assert_well_typed(parse(text))


def test_results_languages_keep_only_strings() -> None:
    """A lone language is a list of one; a number or odd items are dropped."""

    def languages(value: Any) -> tuple[str, ...]:
        message = parse_message(_replaced(LIVE_SAMPLES[0], LANGUAGES, value))
        assert isinstance(message, Results)
        return message.languages

    assert languages(["en", 5, "de"]) == ("en", "de")
    assert languages("en") == ("en",)
    assert languages(5) == ()


LANGUAGES = ("channel", "alternatives", 0, "languages")


def test_numbers_out_of_range_make_the_message_malformed() -> None:
    """No finite float holds it, or a count beyond its bounds: malformed."""
    sample = FLUX_SAMPLES[0]
    for path in [("audio_window_end",), ("words", 0, "start")]:
        for odd in (int(HUGE), math.inf, -math.inf, math.nan):
            with pytest.raises(MessageFormatError, match="A number"):
                parse_flux_message(_replaced(sample, path, odd))
    for odd in (-1, MAX_INT + 1):
        with pytest.raises(MessageFormatError, match="A count out of range"):
            parse_flux_message(_replaced(sample, ("turn_index",), odd))
    message = parse_flux_message(_replaced(sample, ("turn_index",), MAX_INT))
    assert isinstance(message, TurnInfo)
    assert message.turn_index == MAX_INT
    with pytest.raises(MessageFormatError, match="A number"):
        parse_flux_message(
            json.dumps({"type": "ConfigureSuccess", "thresholds": {"a": int(HUGE)}})
        )


def test_a_field_of_another_type_takes_its_default() -> None:
    """A bool, string or list where a number belongs: the default."""
    sample = FLUX_SAMPLES[0]
    for odd in (True, "1.0", [1.0], None):
        message = parse_flux_message(_replaced(sample, ("audio_window_end",), odd))
        assert isinstance(message, TurnInfo)
        assert message.audio_window_end == 0.0
        message = parse_flux_message(_replaced(sample, ("words", 0, "start"), odd))
        assert isinstance(message, TurnInfo)
        assert message.words[0].start is None
        message = parse_flux_message(_replaced(sample, ("turn_index",), odd))
        assert isinstance(message, TurnInfo)
        assert message.turn_index == 0
    success = parse_flux_message(
        json.dumps(
            {
                "type": "ConfigureSuccess",
                "thresholds": {"a": 0.5, "b": "0.7", "c": True, "d": 1},
            }
        )
    )
    assert isinstance(success, ConfigureSuccess)
    assert success.thresholds == {"a": 0.5, "d": 1.0}
    for channels in (0, "2", None):
        metadata = parse_message(_replaced(LIVE_SAMPLES[1], ("channels",), channels))
        assert isinstance(metadata, Metadata)
        assert metadata.channels == 1


def test_an_unforeseen_failure_in_a_parser_is_a_malformed_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The net under the field checks: named by type and failure, nothing more."""

    def broken(data: dict[str, Any]) -> Any:
        raise OverflowError("a case the checks missed " + API_KEY)

    monkeypatch.setattr(messages_module, "_parse_metadata", broken)
    with pytest.raises(MessageFormatError) as info:
        parse_message('{"type": "Metadata"}')
    assert str(info.value) == "Unexpected Metadata (OverflowError)"
    monkeypatch.setattr(flux_messages_module, "_turn_info", broken)
    with pytest.raises(MessageFormatError) as info:
        parse_flux_message('{"type": "TurnInfo"}')
    assert str(info.value) == "Unexpected TurnInfo (OverflowError)"


COMMAND = "Turn on the kitchen light."


def malformed_logged(records: list[logging.LogRecord]) -> bool:
    """The integration's warnings are exactly the malformed ones, MALFORMED of them.

    The first is logged, the others summarised at the close (item 5).
    """
    warnings = [
        r.getMessage()
        for r in records
        if r.levelno >= logging.WARNING and r.name.startswith("custom_components")
    ]
    if len(warnings) != 2:
        return False
    first, summary = warnings
    return first.startswith("Ignoring a malformed message from Deepgram (") and (
        summary.startswith(f"Ignored {MALFORMED - 1} more malformed messages from")
    )


async def test_odd_messages_leave_the_live_session_running(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The issue's /v1 messages: one warning per malformed one, the command heard."""
    deepgram_server.script = script_from_text(COMMAND, start=0.5, end=1.8)
    deepgram_server.faults = Faults(odd_messages=ODD_LIVE)
    session = live(deepgram_server, http)
    await send(session, pcm(2.5))
    transcript = await session.finalize(timeout=5)
    await session.close()
    assert transcript.text == "turn on the kitchen light"  # nothing lost
    assert session.error is None
    assert session.stats.clean_close
    assert malformed_logged(caplog.records), caplog.text[-2000:]


async def test_odd_messages_leave_the_flux_turn_running(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The same on /v2, in TurnInfo and ConfigureSuccess."""
    deepgram_server.script = script_from_text(COMMAND, start=0.5, end=1.8)
    deepgram_server.faults = Faults(odd_messages=ODD_FLUX)
    session = flux(deepgram_server, http)
    await send(session, pcm(2.5))
    turn = await asyncio.wait_for(session.wait_for_turn_end(), 5)
    await session.close()
    assert turn.transcript == COMMAND
    assert turn.ended_by == "end_of_turn"
    assert session.error is None
    assert session.stats.clean_close
    assert malformed_logged(caplog.records), caplog.text[-2000:]


# -- item 1: a receive loop that dies says why, not "close None" ---------------


@pytest.mark.parametrize("path", PATHS)
async def test_a_receive_loop_that_dies_logs_its_cause_and_fails_plainly(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    """The cause in one error record (scrubbed); the error names no close."""

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        await ws.send_str('{"type": "Results"}')
        await ws.receive()  # until the client's CloseStream

    def broken(self: StreamSession, text: str) -> None:
        raise RuntimeError(f"a bug handling {text} with {API_KEY}")

    session = session_for(
        path, await odd_server(websocket_route(path, behaviour)), http
    )
    monkeypatch.setattr(type(session), "_handle_text", broken)
    session.start()
    await wait_for(lambda: session.error is not None)
    error = session.error
    assert isinstance(error, DeepgramProtocolError)
    assert error.message == "A message from Deepgram could not be handled"
    assert "close" not in str(error)
    await session.close()
    assert session.error is error
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    text = record.getMessage()
    assert text.startswith("Stopped reading Deepgram's messages (request None): ")
    assert "Traceback" in text
    assert 'RuntimeError: a bug handling {"type": "Results"} with ' + REDACTED in text


def recurse_down(depth: int) -> None:
    """Raise from `depth` calls deep, alternating with `recurse_up`: frames
    Python cannot fold into "[Previous line repeated ...]"."""
    if depth == 0:
        raise ValueError(f"the cause, with {API_KEY}")
    recurse_up(depth - 1)


def recurse_up(depth: int) -> None:
    """The other half of `recurse_down`."""
    recurse_down(depth)


async def test_a_long_traceback_logs_its_exception_line_and_innermost_frames(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failure 200 frames deep: the record ends with the exception line
    (scrubbed), after the innermost frames; the outer ones are cut."""

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        await ws.send_str('{"type": "Results"}')
        await ws.receive()  # until the client's CloseStream

    def broken(self: StreamSession, text: str) -> None:
        recurse_down(100)

    base = await odd_server(websocket_route("/v1/listen", behaviour))
    session = session_for("/v1/listen", base, http)
    monkeypatch.setattr(LiveSession, "_handle_text", broken)
    session.start()
    await wait_for(lambda: session.error is not None)
    await session.close()
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    text = record.getMessage()
    assert text.startswith("Stopped reading Deepgram's messages (request None): …")
    assert text.endswith(f"\nValueError: the cause, with {REDACTED}")
    assert text.count("in recurse_down") > 10
    assert "in _receive" not in text  # the outermost frames were cut
    assert len(text) < MAX_TRACE + 200


async def test_an_exception_group_logs_its_exception_line_once(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A group's trace ends with its tree, not its exception line: the line
    is not appended again (logged twice); it and the tree stay scrubbed."""

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        await ws.send_str('{"type": "Results"}')
        await ws.receive()  # until the client's CloseStream

    def broken(self: StreamSession, text: str) -> None:
        raise ExceptionGroup(
            f"handling failed with {API_KEY}", [ValueError(f"inner {API_KEY}")]
        )

    base = await odd_server(websocket_route("/v1/listen", behaviour))
    session = session_for("/v1/listen", base, http)
    monkeypatch.setattr(LiveSession, "_handle_text", broken)
    session.start()
    await wait_for(lambda: session.error is not None)
    await session.close()
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    text = record.getMessage()
    line = f"ExceptionGroup: handling failed with {REDACTED} (1 sub-exception)"
    assert text.count(line) == 1, text
    assert text.count("ExceptionGroup:") == 1
    assert f"ValueError: inner {REDACTED}" in text
    assert API_KEY[:MIN_EDGE] not in text
    assert API_KEY[-MIN_EDGE:] not in text
    assert text.rstrip().endswith("+------------------------------------")


@pytest.mark.parametrize("shift", range(len(API_KEY) + 1))
def test_a_key_cut_at_the_start_of_the_kept_trace_is_hidden(shift: int) -> None:
    """A cause repeating the key: wherever the cut falls in one (`shift` moves
    it through every character), no part of it of MIN_EDGE characters or
    more is left at the start; a long exception line keeps its start."""
    try:
        try:
            raise ValueError((API_KEY + "|") * 400 + "x" * shift)
        except ValueError as cause:
            raise RuntimeError("handling failed " + "z" * 5000) from cause
    except RuntimeError as err:
        text = loggable_trace(err, Redactor((API_KEY,)))
    head, rest = text.split("\n\nThe above exception", 1)
    start = re.escape(REDACTED) + f"|.{{0,{MIN_EDGE - 1}}}"
    assert re.fullmatch(rf"…({start})(\|{re.escape(REDACTED)})*\|x*", head), head
    line = text.rsplit("\n", 1)[-1]
    assert line.startswith("RuntimeError: handling failed zzz")
    assert line.endswith("z…")
    assert len(line) == MAX_EXCEPTION_LINE + 1
    assert API_KEY[-MIN_EDGE:] not in rest


# -- item 7: a refused frame still ends the request with CloseStream ----------


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("frame", "code", "message"),
    [
        (
            "oversize",
            1009,
            "Deepgram sent a message larger than this client accepts (256 KiB)",
        ),
        ("not UTF-8", 1007, "Deepgram sent a text message that is not UTF-8"),
        ("reserved opcode", 1002, "Deepgram sent a frame this client cannot read"),
    ],
)
async def test_a_refused_frame_ends_the_request_with_close_stream(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    path: str,
    frame: str,
    code: int,
    message: str,
) -> None:
    """Over the cap or not UTF-8: CloseStream, then the close; a typed error."""
    got: list[Any] = []

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        assert request.transport is not None
        if frame == "oversize":
            await ws.send_str("x" * (MAX_MESSAGE_BYTES + 1))
        elif frame == "not UTF-8":
            request.transport.write(b"\x81\x03\xff\xfe{")  # a text frame
        else:
            request.transport.write(b"\x83\x00")  # opcode 3 is reserved
        while True:
            msg = await ws.receive()
            if msg.type is not aiohttp.WSMsgType.TEXT:
                got.append((msg.type, ws.close_code))
                return
            got.append(msg.data)

    session = session_for(
        path, await odd_server(websocket_route(path, behaviour)), http
    )
    session.start()
    await wait_for(lambda: session.error is not None)
    error = session.error
    assert isinstance(error, DeepgramProtocolError)
    assert error.message == message
    assert error.status == code
    await session.close()
    await wait_for(lambda: len(got) == 2)
    assert got == [CLOSE_STREAM, (aiohttp.WSMsgType.CLOSE, code)]
    assert session.error is error
    assert session.stats.close_code == code


@pytest.mark.parametrize("path", PATHS)
async def test_a_frame_refused_after_close_stream_sends_no_second_one(
    odd_server: OddServer, http: aiohttp.ClientSession, path: str
) -> None:
    """An oversized answer to CloseStream: the close follows, CloseStream once."""
    got: list[Any] = []

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        while True:
            msg = await ws.receive()
            if msg.type is not aiohttp.WSMsgType.TEXT:
                got.append((msg.type, ws.close_code))
                return
            got.append(msg.data)
            await ws.send_str("x" * (MAX_MESSAGE_BYTES + 1))

    session = session_for(
        path, await odd_server(websocket_route(path, behaviour)), http
    )
    await session.connect()
    await session.close()
    await wait_for(lambda: len(got) == 2)
    assert got == [CLOSE_STREAM, (aiohttp.WSMsgType.CLOSE, 1009)]
    assert isinstance(session.error, DeepgramProtocolError)
