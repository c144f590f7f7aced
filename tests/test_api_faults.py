"""`LiveSession` and the REST client under faults the issue probe found.

A server that stops reading, server text echoing the key, requests that
cannot be sent, oversized messages and transcripts, odd chunk sizes. Each
test asserts the result or error, its time bound, what the server saw and
that nothing (task, socket) is left.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
import time

import aiohttp
from aiohttp import web
import pytest

from custom_components.deepgram.api import (
    DeepgramAuthError,
    DeepgramBadRequestError,
    DeepgramConnectionError,
    DeepgramKeyFormatError,
    DeepgramProtocolError,
    DeepgramRequestError,
    DeepgramRequestTooLongError,
    DeepgramRestClient,
    DeepgramServerError,
    DeepgramTimeoutError,
    Endpoint,
    LiveOptions,
    LiveSession,
    live as live_module,
    socket as socket_module,
)
from custom_components.deepgram.api.errors import error_for_status
from custom_components.deepgram.api.redact import (
    MAX_SERVER_TEXT,
    REDACTED,
    Redactor,
    secrets_of,
)
from custom_components.deepgram.api.transport import client_failure
from tests.api_helpers import chunks, live, pcm, send, send_until_it_fails
from tests.conftest import API_KEY, OddServer
from tests.deepgram_server import FakeDeepgram, Faults, script_from_text
from tests.deepgram_server.testing import (
    cancel_and_time,
    client_sockets_to,
    deepgram_tasks,
    unused_port,
    wait_for,
)


@pytest.fixture
def server(deepgram_server: FakeDeepgram) -> FakeDeepgram:
    """The fake Deepgram with the test key and six words of script."""
    deepgram_server.api_key = API_KEY
    deepgram_server.script = script_from_text(
        "turn on the kitchen light now", start=0.1, end=1.3, words_per_segment=2
    )
    return deepgram_server


async def assert_nothing_left(session: LiveSession, port: int) -> None:
    """No task of the session and no socket to the server is left."""
    await wait_for(lambda: not deepgram_tasks(), timeout=2)
    await wait_for(lambda: client_sockets_to(port) == 0, timeout=2)
    assert not session.connected


# -- a server that stops reading ---------------------------------------------


async def test_socket_is_torn_down_when_the_server_stops_reading(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The send buffer never drains: after the bounded close the socket is gone."""
    monkeypatch.setattr(socket_module, "DEFAULT_SEND_TIMEOUT", 0.3)
    server.faults = Faults(stop_reading_after_audio_seconds=0.1)
    session = live(server, http)
    await session.connect()
    with pytest.raises(DeepgramTimeoutError, match="stopped taking audio"):
        await send_until_it_fails(session)
    assert client_sockets_to(server.port) == 1
    started = time.monotonic()
    await session.close(timeout=0.5)
    # The close bound (0.5 s) plus the socket close bound (1 s).
    assert time.monotonic() - started < 2.5
    await assert_nothing_left(session, server.port)


async def test_audio_the_server_never_read_is_not_a_success(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Audio paced in real time to a server that stopped reading: an error.

    Everything fits in the socket buffers, so no send fails; the unanswered
    ping after Finalize shows the audio never reached Deepgram.
    """
    server.faults = Faults(stop_reading_after_audio_seconds=0.05)
    session = live(server, http)
    await session.connect()
    for chunk in chunks(pcm(0.5)):
        await session.send_audio(chunk)
        await asyncio.sleep(0.001)
    started = time.monotonic()
    with pytest.raises(DeepgramTimeoutError, match="did not take the audio"):
        await session.finalize(timeout=0.5)
    assert time.monotonic() - started < 1.5
    await session.abort()
    await assert_nothing_left(session, server.port)


async def test_finalize_unanswered_by_a_reading_server_is_still_a_result(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The pong shows the server read everything: what arrived is the result."""
    server.faults = Faults(stall_after_finalize=True)
    session = live(server, http)
    await session.connect()
    await send(session, pcm(1.0))
    await wait_for(lambda: bool(session.transcript.finals))
    transcript = await session.finalize(timeout=0.3)
    assert transcript.text == "turn on"
    await session.close(timeout=2)
    assert server.sessions[0].got_close_stream


async def test_server_pings_are_answered(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """Pongs are handled by hand (to see them): the server's pings get answers."""
    pongs: list[bytes] = []

    async def listen(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        await ws.ping(b"are you there")
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.PONG:
                pongs.append(msg.data)
            elif msg.type is aiohttp.WSMsgType.TEXT and "CloseStream" in msg.data:
                await ws.close()
        return ws

    base_url = await odd_server({"GET /v1/listen": listen})
    session = LiveSession(http, Endpoint(base_url), LiveOptions())
    await session.connect()
    await wait_for(lambda: bool(pongs))
    await session.close()
    assert pongs == [b"are you there"]


# -- cancellation of a close -------------------------------------------------


async def test_a_cancelled_close_still_sends_close_stream(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Home Assistant cancels background tasks when stopping: CloseStream anyway."""
    session = live(server, http)
    await session.connect()
    await session.send_audio(pcm(0.5))
    await wait_for(lambda: server.sessions[0].audio_bytes > 0)
    # Cancelled once started, before CloseStream went out.
    closing = asyncio.create_task(session.close())
    await asyncio.sleep(0)
    assert not server.sessions[0].got_close_stream
    assert await cancel_and_time(closing) < 2.5
    record = server.sessions[0]
    await server.wait_for_sessions_closed(timeout=2)
    assert record.got_close_stream
    assert record.close_code == 1000
    await assert_nothing_left(session, server.port)


# -- frames of whole samples -------------------------------------------------


@pytest.mark.parametrize(
    ("options", "block"),
    [
        (LiveOptions(), 2),
        (LiveOptions(channels=2), 4),
        (LiveOptions(sample_rate=22050), 2),
        (LiveOptions(sample_rate=44100, channels=2), 4),
    ],
)
@pytest.mark.parametrize("chunk", [1, 321, 333, 1601])
async def test_frames_hold_whole_samples_of_every_channel(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    options: LiveOptions,
    block: int,
    chunk: int,
) -> None:
    """Odd chunk sizes never split a sample; a split tail at the end is dropped."""
    session = live(server, http, options)
    await session.connect()
    audio = pcm(0.3) + b"\x07"  # ends in half a sample
    for offset in range(0, len(audio), chunk):
        await session.send_audio(audio[offset : offset + chunk])
    await session.finalize(timeout=5)
    await session.close()
    [record] = server.sessions
    sizes = record.binary_frame_sizes()
    assert all(size % block == 0 for size in sizes), sizes
    whole = len(audio) // block * block
    wire = b"".join(f.data for f in record.frames if isinstance(f.data, bytes))
    assert wire == audio[:whole]
    assert record.control_messages()[-1] == "CloseStream"


# -- size caps ---------------------------------------------------------------


async def test_an_oversized_message_is_a_clear_error(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A message over MAX_MESSAGE_BYTES ends the session with a protocol error."""
    server.faults = Faults(huge_final_chars=live_module.MAX_MESSAGE_BYTES + 1)
    session = live(server, http)
    await session.send_audio(pcm(0.1))
    await wait_for(lambda: session.error is not None)
    error = session.error
    assert isinstance(error, DeepgramProtocolError)
    assert "larger than this client accepts" in str(error)
    with pytest.raises(DeepgramProtocolError):
        await session.finalize(timeout=1)
    assert session.transcript.text == ""
    await session.close()
    await assert_nothing_left(session, server.port)


async def test_an_oversized_transcript_is_a_clear_error(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A transcript over MAX_TRANSCRIPT_CHARS is refused, and not kept."""
    server.faults = Faults(huge_final_chars=live_module.MAX_TRANSCRIPT_CHARS + 1)
    session = live(server, http)
    await session.send_audio(pcm(0.1))
    with pytest.raises(DeepgramProtocolError, match="10,000 characters"):
        await session.finalize(timeout=2)
    assert session.transcript.text == ""
    await session.close()
    assert server.sessions[0].got_close_stream
    await assert_nothing_left(session, server.port)


async def test_a_transcript_at_the_cap_is_kept(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Exactly MAX_TRANSCRIPT_CHARS characters is still a result."""
    server.script = []
    server.faults = Faults(huge_final_chars=live_module.MAX_TRANSCRIPT_CHARS)
    session = live(server, http)
    await session.send_audio(pcm(0.1))
    transcript = await session.finalize(timeout=2)
    assert len(transcript.text) == live_module.MAX_TRANSCRIPT_CHARS
    await session.close()


# -- closes the fake server's named faults do not cover ----------------------


@pytest.mark.parametrize(("code", "reason"), [(1001, "going away"), (4000, "x")])
async def test_other_close_codes_mid_stream(
    server: FakeDeepgram, http: aiohttp.ClientSession, code: int, reason: str
) -> None:
    """Any early close is a connection error carrying its code and reason."""
    server.faults = Faults(close_after_audio=(0.2, code, reason))
    session = live(server, http)
    await send(session, pcm(0.5))
    with pytest.raises(DeepgramConnectionError) as info:
        await session.finalize(timeout=2)
    assert info.value.status == code
    assert info.value.reason == reason
    assert f"close {code}" in str(info.value)
    await session.close()
    await assert_nothing_left(session, server.port)


async def test_close_4008_is_an_error_not_a_result(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """4008 (Deepgram: too many requests mid-stream) ends the session early."""
    server.faults = Faults(close_after_audio=(0.1, 4008, "DATA-0001"))
    session = live(server, http)
    await session.send_audio(pcm(0.3))
    with pytest.raises(DeepgramConnectionError, match="close 4008"):
        await session.finalize(timeout=2)
    await session.close()


# -- requests that cannot be sent --------------------------------------------


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("dg-key\nX-Injected: 1", "line break or another control character"),
        ("dg-key\r", "line break or another control character"),
        ("dg-\x00key", "line break or another control character"),
        ("dg-\x7fkey", "line break or another control character"),
        ("k" * 100_000, r"too long to send \(100,006 characters\)"),
    ],
    ids=["newline", "carriage-return", "nul", "delete", "100-kB"],
)
async def test_a_key_that_cannot_be_sent(
    server: FakeDeepgram, http: aiohttp.ClientSession, key: str, text: str
) -> None:
    """Refused before sending, as a key problem (so: reauth), in words."""
    session = live(server, http, key=key)
    with pytest.raises(DeepgramKeyFormatError, match=text) as info:
        await session.connect()
    assert isinstance(info.value, DeepgramAuthError)
    assert key not in str(info.value)
    await session.close()
    rest = DeepgramRestClient(http, Endpoint(server.base_url, key))
    with pytest.raises(DeepgramKeyFormatError, match=text):
        await rest.validate_key()
    assert server.handshakes == []
    assert server.rest_requests == []


async def test_url_credentials_with_a_key(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """aiohttp cannot combine them: said so, before anything is sent."""
    base_url = f"http://user:secret-pass@127.0.0.1:{server.port}"
    session = live(server, http, base_url=base_url)
    with pytest.raises(DeepgramRequestError, match="user name or password") as info:
        await session.connect()
    assert "secret-pass" not in str(info.value)
    await session.close()
    rest = DeepgramRestClient(http, Endpoint(base_url, API_KEY))
    with pytest.raises(DeepgramRequestError, match="user name or password"):
        await rest.list_models()
    assert server.handshakes == []
    assert server.rest_requests == []


async def test_an_over_long_request_line(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Key terms too long for a request line: said so, nothing sent."""
    options = LiveOptions(model="nova-3", keyterms=("k" * 10_000,))
    session = live(server, http, options)
    with pytest.raises(DeepgramRequestTooLongError, match="key terms") as info:
        await session.connect()
    assert "too long to send" in str(info.value)
    await session.close()
    rest = DeepgramRestClient(http, Endpoint(server.base_url, API_KEY))
    with pytest.raises(DeepgramRequestTooLongError):
        await rest.transcribe(b"RIFF", options)
    assert server.handshakes == []
    assert server.rest_requests == []


async def test_414_and_431_are_request_too_long() -> None:
    """A server that refuses the length says so, not 'rejected the model'."""
    for status in (414, 431):
        error = error_for_status(status)
        assert isinstance(error, DeepgramRequestTooLongError)
        assert not isinstance(error, DeepgramBadRequestError)
        assert "too long" in str(error)


async def test_a_header_aiohttp_refuses_is_a_request_error(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Not 'answered with no JSON': the request could not be built."""
    rest = DeepgramRestClient(http, Endpoint(server.base_url, API_KEY))
    with pytest.raises(DeepgramRequestError, match="could not be built"):
        await rest.transcribe(b"RIFF", LiveOptions(), content_type="audio/wav\n")
    assert server.rest_requests == []


# -- failures in words -------------------------------------------------------


async def test_failures_are_said_in_words_without_class_names(
    socket_enabled: None, http: aiohttp.ClientSession
) -> None:
    """Nothing listening: the text says what happened, once, no class name."""
    url = f"http://127.0.0.1:{unused_port()}"
    session = LiveSession(http, Endpoint(url, API_KEY), LiveOptions())
    with pytest.raises(DeepgramConnectionError) as live_error:
        await session.connect()
    await session.close()
    rest = DeepgramRestClient(http, Endpoint(url, API_KEY))
    with pytest.raises(DeepgramConnectionError) as rest_error:
        await rest.validate_key()
    for error in (live_error.value, rest_error.value):
        assert str(error) == "127.0.0.1 refused the connection"


# -- server text scrubbed of the key -----------------------------------------


def test_redactor_scrubs_keys_fragments_and_basic_credentials() -> None:
    """Whole keys, cut keys, and the Basic header of URL credentials."""
    scrub = Redactor(secrets_of(API_KEY, "http://me:pass-word-1234@host"))
    assert scrub(f"Bad: Token {API_KEY}!") == f"Bad: Token {REDACTED}!"
    assert scrub(f"echo {API_KEY[:12]}") == f"echo {REDACTED}"  # cut at the end
    assert scrub(f"{API_KEY[-12:]} was") == f"{REDACTED} was"  # cut at the start
    assert scrub(f"a {API_KEY[3:20]} b") == f"a {REDACTED} b"  # from the middle
    basic = base64.b64encode(b"me:pass-word-1234").decode()
    assert scrub(f"Authorization: Basic {basic}") == f"Authorization: Basic {REDACTED}"
    assert scrub("pass-word-1234") == REDACTED
    assert scrub("a normal reason") == "a normal reason"
    assert scrub(None) is None
    long_text = scrub("x" * 1000 + API_KEY)
    assert long_text is not None
    assert long_text == "x" * MAX_SERVER_TEXT + "…"


def test_redactor_is_cheap_with_a_huge_key() -> None:
    """A 100 kB key and a long body: still fast (the text is cut first)."""
    key = "".join(f"{i:08x}" for i in range(12_500))
    scrub = Redactor([key])
    started = time.monotonic()
    text = scrub("Got more than 8190 bytes: Authorization: Token " + key)
    assert time.monotonic() - started < 0.5
    assert text is not None
    assert key[:20] not in text
    assert "Token **REDACTED**" in text


async def test_a_handshake_echoing_the_key_is_scrubbed(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A proxy echoing the Authorization header: the key never reaches the error."""
    caplog.set_level(logging.DEBUG)
    server.faults = Faults(echo_authorization=True)
    session = live(server, http)
    with pytest.raises(DeepgramBadRequestError) as info:
        await session.connect()
    await session.close()
    assert info.value.reason == f"Bad header: Authorization: Token {REDACTED}"
    assert API_KEY not in str(info.value)
    assert API_KEY not in caplog.text


async def test_rest_error_bodies_echoing_the_key_are_scrubbed(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """Plain text, JSON and dg-error: each echo of the key is scrubbed."""

    async def echo(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        return web.Response(
            status=401,
            text=f"<html>Unauthorized: {auth}</html>",
            headers={"dg-request-id": f"id {auth[:20]}"},
        )

    async def echo_json(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        return web.json_response(
            {"err_msg": f"bad {auth}"},
            status=500,
            headers={"dg-error": f"header {auth}"},
        )

    base_url = await odd_server(
        {"GET /v1/auth/token": echo, "GET /v1/models": echo_json}
    )
    rest = DeepgramRestClient(http, Endpoint(base_url, API_KEY))
    with pytest.raises(DeepgramAuthError) as auth_error:
        await rest.validate_key()
    assert auth_error.value.reason == f"<html>Unauthorized: Token {REDACTED}</html>"
    assert auth_error.value.request_id == f"id Token {REDACTED}"
    with pytest.raises(DeepgramServerError) as server_error:
        await rest.list_models()
    assert server_error.value.reason == f"header Token {REDACTED}"


async def test_in_band_text_echoing_the_key_is_scrubbed(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """In-band Error, malformed and unknown frames and the close reason."""
    caplog.set_level(logging.DEBUG)

    async def listen(request: web.Request) -> web.WebSocketResponse:
        auth = request.headers.get("Authorization", "")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(f"not json {auth}")
        await ws.send_str(f'{{"type": "Odd", "x": "{auth}"}}')
        await ws.send_str(f'{{"type": "Error", "description": "{auth}"}}')
        await ws.close(code=1011, message=auth[-40:].encode())
        return ws

    base_url = await odd_server({"GET /v1/listen": listen})
    session = LiveSession(http, Endpoint(base_url, API_KEY), LiveOptions())
    session.start()
    await wait_for(lambda: session.error is not None)
    assert session.error is not None
    assert session.error.reason == f"Token {REDACTED}"
    await session.close()
    assert "malformed message" in caplog.text
    assert "unknown type" in caplog.text


@pytest.mark.parametrize(
    ("err", "cls", "text"),
    [
        (TimeoutError(), DeepgramTimeoutError, "h did not answer in time"),
        (
            aiohttp.ClientConnectorDNSError(
                aiohttp.client_reqrep.ConnectionKey(
                    "h", 443, True, True, None, None, None
                ),
                OSError(-2, "Name or service not known"),
            ),
            DeepgramConnectionError,
            "The host name h could not be resolved",
        ),
        (
            ssl.SSLError("bad certificate"),
            DeepgramConnectionError,
            "The secure connection to h failed",
        ),
        (
            aiohttp.ClientConnectorError(
                aiohttp.client_reqrep.ConnectionKey(
                    "h", 443, True, True, None, None, None
                ),
                OSError(113, "No route to host"),
            ),
            DeepgramConnectionError,
            "Could not connect to h",
        ),
        (
            aiohttp.ServerDisconnectedError(),
            DeepgramConnectionError,
            "h closed the connection without an answer",
        ),
        (ConnectionResetError(), DeepgramConnectionError, "to h was reset"),
        (aiohttp.ClientPayloadError(), DeepgramConnectionError, "was cut off"),
        (aiohttp.InvalidURL("x"), DeepgramRequestError, "URL is not valid"),
        (ValueError("x"), DeepgramRequestError, "could not be built"),
        (RuntimeError("Session is closed"), DeepgramConnectionError, "is closed"),
        (aiohttp.ClientError("x"), DeepgramConnectionError, "to h failed"),
    ],
)
def test_client_failures_in_words(
    err: BaseException, cls: type[Exception], text: str
) -> None:
    """Every kind of client failure: its own words, never a class name."""
    error = client_failure(err, "h")
    assert type(error) is cls
    assert text in str(error)
    assert type(err).__name__ not in str(error)
