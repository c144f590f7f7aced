"""REST answers the client must not trust (issue 18, items 3, 4 and 14).

Request ids are server text like any other: scrubbed of the key, cut and
kept on one line before they reach a result, an error or a log.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
import json
from typing import Any

import aiohttp
from aiohttp import web
import pytest
from yarl import URL

from custom_components.deepgram.api import (
    DeepgramAuthError,
    DeepgramProtocolError,
    DeepgramRestClient,
    Endpoint,
    LiveOptions,
    Metadata,
    parse_message,
    rest as rest_module,
)
from custom_components.deepgram.api.messages import MessageFormatError
from custom_components.deepgram.api.redact import (
    MAX_REQUEST_ID,
    MAX_SERVER_TEXT,
    REDACTED,
    Redactor,
    secrets_of,
)
from custom_components.deepgram.api.rest import (
    MAX_ANSWER,
    MAX_ERROR_BODY,
    MAX_LISTEN_ANSWER,
    listen_answer_cap,
)
from tests.conftest import API_KEY, OddServer
from tests.deepgram_server import FakeDeepgram, Faults, script_from_text
from tests.deepgram_server.testing import client_sockets_to, wait_for, wav_silence

WAV_OPTIONS = LiveOptions(encoding=None, sample_rate=None, channels=None)


@pytest.fixture
def server(deepgram_server: FakeDeepgram) -> FakeDeepgram:
    """The fake Deepgram expecting the test key, with one word of script."""
    deepgram_server.api_key = API_KEY
    deepgram_server.script = script_from_text("hello", start=0.1)
    return deepgram_server


def client(base_url: str, http: aiohttp.ClientSession) -> DeepgramRestClient:
    """A REST client with the test key."""
    return DeepgramRestClient(http, Endpoint(base_url, API_KEY))


def prerecorded(request_id: Any) -> dict[str, Any]:
    """A minimal pre-recorded answer with `request_id` in its metadata."""
    return {
        "metadata": {"request_id": request_id},
        "results": {"channels": [{"alternatives": [{"transcript": "hi"}]}]},
    }


# -- request ids (item 4) --------------------------------------------------------


def test_request_ids_are_scrubbed_cut_and_on_one_line() -> None:
    """Only a non-empty string is an id; the key, length and line breaks go."""
    scrub = Redactor(secrets_of(API_KEY))
    uuid = "3f1e2d4c-5b6a-4798-8a9b-0c1d2e3f4a5b"
    assert scrub.request_id(uuid) == uuid
    assert scrub.request_id(f"  {uuid}\n") == uuid
    assert scrub.request_id(f"Token {API_KEY}") == f"Token {REDACTED}"
    assert scrub.request_id("id\nforged log line\r\x00") == "id?forged log line??"
    assert scrub.request_id("x" * 5000) == "x" * MAX_REQUEST_ID + "…"
    assert scrub.request_id("x" * MAX_REQUEST_ID) == "x" * MAX_REQUEST_ID
    for nothing in (None, "", "   ", 7, 1.5, ["id"], {"id": 1}, True):
        assert scrub.request_id(nothing) is None


async def test_a_prerecorded_request_id_echoing_the_key(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The fake server's proxy fault: metadata.request_id is the header."""
    server.faults = Faults(echo_authorization_in_request_id=True)
    result = await client(server.base_url, http).transcribe(
        wav_silence(0.5), WAV_OPTIONS
    )
    assert result.transcript == "hello"
    assert result.request_id == f"Token {REDACTED}"
    assert API_KEY not in repr(result)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("x" * 10_000, "x" * MAX_REQUEST_ID + "…"),
        ("two\nlines", "two?lines"),
        (12345, None),
        (["id"], None),
    ],
    ids=["long", "two-lines", "number", "list"],
)
async def test_odd_prerecorded_request_ids(
    odd_server: OddServer, http: aiohttp.ClientSession, sent: Any, kept: str | None
) -> None:
    """A long, multi-line or non-string request id in the JSON answer."""

    async def answer(request: web.Request) -> web.Response:
        return web.json_response(prerecorded(sent))

    base_url = await odd_server({"POST /v1/listen": answer})
    result = await client(base_url, http).transcribe(wav_silence(0.2), WAV_OPTIONS)
    assert result.transcript == "hi"
    assert result.request_id == kept


async def test_an_error_request_id_is_cut_like_any_other(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """A refusal's dg-request-id header: scrubbed and cut to a request id's cap."""

    async def refuse(request: web.Request) -> web.Response:
        auth = request.headers["Authorization"]
        return web.json_response(
            {"err_msg": "Invalid credentials."},
            status=401,
            headers={"dg-request-id": f"{auth} {'x' * 500}"},
        )

    base_url = await odd_server({"GET /v1/auth/token": refuse})
    with pytest.raises(DeepgramAuthError) as info:
        await client(base_url, http).validate_key()
    request_id = info.value.request_id
    assert request_id is not None
    assert request_id.startswith(f"Token {REDACTED} xxx")
    assert request_id.endswith("x…")
    assert len(request_id) <= MAX_REQUEST_ID + 1
    assert API_KEY not in str(info.value)


# -- answers that cannot be understood (item 3) ----------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000
"""JSON nested 100 000 deep: json.loads raises RecursionError."""
HUGE = "9" * 400
"""An integer float() cannot take (OverflowError)."""
LONG = "9" * 5000
"""An integer over Python's int-str digit limit (ValueError)."""


def with_word(**fields: str) -> bytes:
    """A pre-recorded answer with one word, `fields` spliced in as raw JSON."""
    word = {"word": '"hi"', "start": "0", "end": "1", "confidence": "1"}
    word.update(fields)
    words = ", ".join(f'"{key}": {value}' for key, value in word.items())
    return (
        b'{"metadata": {"duration": 1}, "results": {"channels": [{"alternatives": '
        b'[{"transcript": "hi", "words": [{' + words.encode() + b"}]}]}]}}"
    )


def raw(body: bytes) -> Any:
    """A handler answering 200 with these raw bytes as JSON."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    return handler


NESTED = "with JSON nested too deeply"
NO_JSON = "with no JSON"
ODD = "Unexpected answer from"
AUTH, MODELS, LISTEN = "GET /v1/auth/token", "GET /v1/models", "POST /v1/listen"
MODEL = b'{"name": "nova-3", "streaming": true, "languages": '


@pytest.mark.parametrize(
    ("route", "body", "message"),
    [
        pytest.param(AUTH, DEEP, NESTED, id="key-deep"),
        pytest.param(AUTH, b'{"scopes": ' + DEEP + b"}", NESTED, id="key-deep-inside"),
        pytest.param(
            AUTH, b'{"api_key_id": ' + LONG.encode() + b"}", NO_JSON, id="key-digits"
        ),
        pytest.param(MODELS, b'{"stt": ' + DEEP + b"}", NESTED, id="models-deep"),
        pytest.param(MODELS, b'{"stt": [' + MODEL + b"5}]}", ODD, id="models-number"),
        pytest.param(
            MODELS, b'{"stt": [' + MODEL + b"NaN}]}", NO_JSON, id="models-nan"
        ),
        pytest.param(LISTEN, DEEP, NESTED, id="listen-deep"),
        pytest.param(LISTEN, with_word(confidence=HUGE), ODD, id="listen-confidence"),
        pytest.param(LISTEN, with_word(start=HUGE), ODD, id="listen-start"),
        pytest.param(LISTEN, with_word(end="Infinity"), NO_JSON, id="listen-infinity"),
        pytest.param(LISTEN, with_word(start=LONG), NO_JSON, id="listen-digits"),
        pytest.param(
            LISTEN,
            b'{"metadata": {"duration": ' + HUGE.encode() + b'}, "results": '
            b'{"channels": [{"alternatives": [{"transcript": "hi"}]}]}}',
            ODD,
            id="listen-duration",
        ),
        pytest.param(
            LISTEN,
            b'{"metadata": {}, "results": {"channels": [{"language_confidence": '
            + HUGE.encode()
            + b', "alternatives": [{"transcript": "hi", "confidence": 1}]}]}}',
            ODD,
            id="listen-language-confidence",
        ),
    ],
)
async def test_answers_that_cannot_be_understood(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    route: str,
    body: bytes,
    message: str,
) -> None:
    """Each is a protocol error naming the request; nothing else escapes."""
    base_url = await odd_server({route: raw(body)})
    rest = client(base_url, http)
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        AUTH: rest.validate_key,
        MODELS: rest.list_models,
        LISTEN: partial(rest.transcribe, wav_silence(0.2), WAV_OPTIONS),
    }
    with pytest.raises(DeepgramProtocolError) as info:
        await calls[route]()
    what = route if route == LISTEN else route.split(" ")[1]
    assert message in str(info.value)
    assert what in str(info.value)


def test_a_well_formed_word_is_understood() -> None:
    """The words the cases above spoil are otherwise fine."""
    assert json.loads(with_word())["results"]["channels"][0]["alternatives"][0][
        "words"
    ] == [{"word": "hi", "start": 0, "end": 1, "confidence": 1}]


async def test_projects_that_cannot_be_understood(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """The key check's second way (/v1/projects) is parsed as strictly.

    (The odd server has no /v1/auth/token: 404, so /v1/projects is asked.)
    """
    base_url = await odd_server(
        {"GET /v1/projects": raw(b'{"projects": ' + DEEP + b"}")}
    )
    with pytest.raises(DeepgramProtocolError, match="/v1/projects"):
        await client(base_url, http).validate_key()


async def test_an_error_body_that_cannot_be_understood(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """A refusal whose JSON body is nested too deeply keeps its status."""

    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=401, body=DEEP, content_type="application/json")

    base_url = await odd_server({"GET /v1/auth/token": refuse})
    with pytest.raises(DeepgramAuthError) as info:
        await client(base_url, http).validate_key()
    assert info.value.status == 401
    assert info.value.reason == "[" * MAX_SERVER_TEXT + "…"


# -- bodies read up to a cap (item 14) -------------------------------------------

CAP = 256 * 1024
"""MAX_ANSWER in the tests of endless bodies: the property does not need 8 MiB."""
ENDLESS = 1 << 40
"""The Content-Length an endless body announces (1 TiB: never reached)."""


class Endless:
    """A handler sending `head`, then spaces until the client goes away."""

    def __init__(self, status: int, head: bytes, *, content_length: bool) -> None:
        """Answer `status`, announcing `ENDLESS` bytes or sending chunked."""
        self.status = status
        self.head = head
        self.content_length = content_length
        self.stopped = asyncio.Event()

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """Write until a write fails (or the handler is cancelled)."""
        response = web.StreamResponse(
            status=self.status, headers={"Content-Type": "application/json"}
        )
        if self.content_length:
            response.content_length = ENDLESS
        await response.prepare(request)
        piece = b" " * (1 << 16)
        try:
            await response.write(self.head)
            while True:
                await response.write(piece)
        except ConnectionError:
            pass  # the client stopped reading and closed the connection
        finally:
            self.stopped.set()
        return response


@pytest.fixture
def client_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Bytes the client took out of response bodies (StreamReader.read), counted.

    Deterministic, unlike what the server managed to send, which depends on
    the kernel's socket buffers.
    """
    taken = [0]
    real = aiohttp.StreamReader.read

    async def read(self: aiohttp.StreamReader, n: int = -1) -> bytes:
        piece = await real(self, n)
        taken[0] += len(piece)
        return piece

    monkeypatch.setattr(aiohttp.StreamReader, "read", read)
    return taken


async def released(base_url: str, handler: Endless) -> None:
    """The client closed the connection (not kept for reuse): the server's
    endless writes fail, and no socket to the server is left."""
    port = URL(base_url).port
    assert port is not None
    async with asyncio.timeout(10):
        await handler.stopped.wait()
    await wait_for(lambda: client_sockets_to(port) == 0)


@pytest.mark.parametrize("content_length", [True, False], ids=["length", "chunked"])
async def test_a_huge_answer_is_not_read(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
    client_reads: list[int],
    content_length: bool,
) -> None:
    """An endless model list: a protocol error after reading one byte over the
    cap; the connection is closed, not kept for reuse, so the server stops."""
    monkeypatch.setattr(rest_module, "MAX_ANSWER", CAP)
    handler = Endless(200, b'{"stt": []}', content_length=content_length)
    base_url = await odd_server({"GET /v1/models": handler.serve})
    with pytest.raises(DeepgramProtocolError) as info:
        await client(base_url, http).list_models()
    assert str(info.value) == (
        f"Deepgram's answer to /v1/models is larger than {CAP:,} bytes"
    )
    assert client_reads[0] == CAP + 1
    await released(base_url, handler)


async def test_a_huge_error_body_is_not_read(
    odd_server: OddServer, http: aiohttp.ClientSession, client_reads: list[int]
) -> None:
    """A 401 with an endless body: still the auth error, its reason from the
    head; MAX_ERROR_BODY + 1 bytes read, then the connection is closed."""
    handler = Endless(401, b"x" * 1000, content_length=False)
    base_url = await odd_server({"GET /v1/auth/token": handler.serve})
    with pytest.raises(DeepgramAuthError) as info:
        await client(base_url, http).validate_key()
    assert info.value.reason == "x" * MAX_SERVER_TEXT + "…"
    assert client_reads[0] == MAX_ERROR_BODY + 1
    await released(base_url, handler)


async def test_answers_up_to_the_cap_are_read(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An answer of exactly the cap is read; one byte more is refused."""
    monkeypatch.setattr(rest_module, "MAX_ANSWER", 1000)
    answer = b'{"stt": []}'
    exact = await odd_server({"GET /v1/models": raw(answer + b" " * (1000 - 11))})
    over = await odd_server({"GET /v1/models": raw(answer + b" " * (1001 - 11))})
    assert await client(exact, http).list_models() == []
    with pytest.raises(DeepgramProtocolError, match="larger than 1,000 bytes"):
        await client(over, http).list_models()


async def test_error_bodies_up_to_their_cap_are_read(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error body's reason comes from its first `MAX_ERROR_BODY` bytes."""
    monkeypatch.setattr(rest_module, "MAX_ERROR_BODY", 20)

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"err_msg": "Invalid credentials."}, status=401)

    base_url = await odd_server({"GET /v1/auth/token": refuse})
    with pytest.raises(DeepgramAuthError) as info:
        await client(base_url, http).validate_key()
    assert info.value.reason == '{"err_msg": "Invalid'  # the head, as text


# -- a long recording's transcript (follow-up of item 14) -----------------------

MiB = 1024 * 1024
HI = json.dumps(prerecorded("r1")).encode()
"""A pre-recorded answer, padded with spaces to the size a test needs."""


def listening(answer_size: int) -> Any:
    """A handler reading the whole upload, then answering `answer_size` bytes."""

    async def handler(request: web.Request) -> web.Response:
        while await request.content.read(1 << 16):  # over request.read()'s 1 MiB
            pass
        body = HI + b" " * (answer_size - len(HI))
        return web.Response(body=body, content_type="application/json")

    return handler


def test_the_cap_grows_with_the_upload() -> None:
    """Small uploads keep MAX_ANSWER; large ones get 4 times their size, up to
    the ceiling (which the action's 2000 MB limit reaches)."""
    assert listen_answer_cap(0) == MAX_ANSWER == 8 * MiB
    assert listen_answer_cap(2 * MiB) == MAX_ANSWER
    assert listen_answer_cap(3 * MiB) == 12 * MiB
    assert listen_answer_cap(2000 * 1000 * 1000) == MAX_LISTEN_ANSWER == 64 * MiB


async def test_a_long_recordings_transcript_is_read(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """A 9 MiB answer to a 3 MiB upload is read: over MAX_ANSWER, under 12 MiB;
    an answer one byte over the grown cap is still refused."""
    audio = b"\0" * (3 * MiB)
    cap = 12 * MiB
    read = await odd_server({LISTEN: listening(9 * MiB)})
    result = await client(read, http).transcribe(audio, WAV_OPTIONS)
    assert result.transcript == "hi"
    assert result.request_id == "r1"
    over = await odd_server({LISTEN: listening(cap + 1)})
    with pytest.raises(DeepgramProtocolError) as info:
        await client(over, http).transcribe(audio, WAV_OPTIONS)
    assert str(info.value) == (
        f"Deepgram's answer to POST /v1/listen is larger than {cap:,} bytes"
    )


async def upload(data: bytes) -> AsyncIterator[bytes]:
    """`data` in pieces of 100 bytes, as a file streamed from disk."""
    for start in range(0, len(data), 100):
        yield data[start : start + 100]


@pytest.mark.parametrize(
    ("size", "answer", "read"),
    [
        pytest.param(None, 4000, True, id="chunked-at-cap"),
        pytest.param(None, 4001, False, id="chunked-over-cap"),
        pytest.param(1000, 4000, True, id="length-at-cap"),
        pytest.param(1000, 4001, False, id="length-over-cap"),
    ],
)
async def test_a_streamed_upload_is_counted(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
    size: int | None,
    answer: int,
    read: bool,
) -> None:
    """A streamed upload of unknown size grows the cap by the bytes it sent."""
    monkeypatch.setattr(rest_module, "MAX_ANSWER", 1000)
    base_url = await odd_server({LISTEN: listening(answer)})
    call = client(base_url, http).transcribe(
        upload(b"\0" * 1000), WAV_OPTIONS, size=size
    )
    if read:
        assert (await call).transcript == "hi"
        return
    with pytest.raises(DeepgramProtocolError, match="larger than 4,000 bytes"):
        await call


async def test_the_ceiling_holds_for_any_upload(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """However large the upload, no answer over MAX_LISTEN_ANSWER is read."""
    monkeypatch.setattr(rest_module, "MAX_ANSWER", 1000)
    monkeypatch.setattr(rest_module, "MAX_LISTEN_ANSWER", 3000)
    base_url = await odd_server({LISTEN: listening(3001)})
    with pytest.raises(DeepgramProtocolError, match="larger than 3,000 bytes"):
        await client(base_url, http).transcribe(b"\0" * 10_000, WAV_OPTIONS)


# -- fields read as the live path reads them (item 1, follow-up) ----------------


def answer_with(duration: str, language_confidence: str) -> bytes:
    """A pre-recorded answer with these raw JSON values spliced in."""
    return (
        b'{"metadata": {"duration": ' + duration.encode() + b'}, "results": '
        b'{"channels": [{"language_confidence": '
        + language_confidence.encode()
        + b', "alternatives": [{"transcript": "hi", "confidence": 1}]}]}}'
    )


def live_metadata(duration: str) -> str:
    """A live Metadata frame with this raw duration."""
    return '{"type": "Metadata", "duration": ' + duration + "}"


@pytest.mark.parametrize(
    ("duration", "language_confidence"),
    [("1e999", "0.5"), ("1", "1e999"), ("-1e999", "0.5")],
    ids=["duration", "language-confidence", "minus-duration"],
)
async def test_an_infinite_number_is_not_understood(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    duration: str,
    language_confidence: str,
) -> None:
    """1e999 parses as an infinite float: malformed live, unreadable here."""
    infinite = duration if "e999" in duration else language_confidence
    with pytest.raises(MessageFormatError, match="not finite"):
        parse_message(live_metadata(infinite))
    body = answer_with(duration, language_confidence)
    base_url = await odd_server({LISTEN: raw(body)})
    with pytest.raises(DeepgramProtocolError) as info:
        await client(base_url, http).transcribe(wav_silence(0.2), WAV_OPTIONS)
    assert str(info.value) == "Unexpected answer from POST /v1/listen"


async def test_a_boolean_takes_the_default(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """`true` where a number belongs is no number (not 1.0), as in a live
    Metadata; odd types elsewhere take their defaults too."""
    live = parse_message(live_metadata("true"))
    assert isinstance(live, Metadata)
    assert live.duration == 0.0
    body = (
        b'{"metadata": {"duration": true}, "results": {"channels": [{'
        b'"language_confidence": true, "detected_language": 5, '
        b'"alternatives": [{"transcript": "hi", "confidence": true}]}]}}'
    )
    base_url = await odd_server({LISTEN: raw(body)})
    result = await client(base_url, http).transcribe(wav_silence(0.2), WAV_OPTIONS)
    assert result.transcript == "hi"
    assert result.duration == 0.0
    assert result.language_confidence is None
    assert result.detected_language is None
    assert result.confidence == 0.0
