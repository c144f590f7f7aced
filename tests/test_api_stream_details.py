"""What the streaming sessions must get exactly right, beyond the main flows.

The exact texts and request ids of their errors and warnings (what a user or
a log reader is told), where a request id comes from when the handshake
gives none, how `Configure` combines new thresholds with those in force,
how soon a stalled audio source is noticed, that a sample split across
`Finalize` or `ForceEndTurn` is not lost, and how sockets end (a close
without a code, a close reason quoting the key, a send the network refuses,
a close that is itself cancelled). Found by mutation testing
(docs/mutation.md): each test fails on a small change to the session.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.deepgram.api import (
    DeepgramConnectionError,
    DeepgramOptionsError,
    DeepgramProtocolError,
    DeepgramServerError,
    DeepgramTimeoutError,
    Endpoint,
    FluxOptions,
    FluxSession,
    LiveOptions,
    LiveSession,
)
from custom_components.deepgram.api.live import MAX_TRANSCRIPT_CHARS
from custom_components.deepgram.api.redact import REDACTED
from custom_components.deepgram.api.stream import StreamSession
from tests.api_helpers import KEY, chunks, flux, live, pcm, websocket_route
from tests.conftest import OddServer
from tests.deepgram_server import FakeDeepgram, Faults, Latency, script_from_text
from tests.deepgram_server.testing import wait_for

COMMAND = "Turn on the kitchen light."


def session_for(
    path: str,
    base_url: str,
    http: aiohttp.ClientSession,
    key: str = KEY,
    **kwargs: Any,
) -> StreamSession:
    """A /v1 or /v2 session (by `path`) to `base_url`, with `key`."""
    endpoint = Endpoint(base_url, key)
    if path == "/v1/listen":
        return LiveSession(http, endpoint, LiveOptions(), **kwargs)
    return FluxSession(http, endpoint, FluxOptions(), **kwargs)


@pytest.fixture
def server(deepgram_server: FakeDeepgram) -> FakeDeepgram:
    """The fake with the command as one thought, words 0.5-1.8 s."""
    deepgram_server.script = script_from_text(
        COMMAND, start=0.5, end=1.8, words_per_segment=5
    )
    return deepgram_server


# -- warnings a log reader sees ----------------------------------------------


@pytest.mark.parametrize("path", ["/v1/listen", "/v2/listen"])
async def test_a_malformed_message_is_logged_cut_and_scrubbed(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    path: str,
) -> None:
    """The warning: the first 80 characters of reason and message, no key."""
    text = "{" + KEY + "x" * 200

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        await ws.send_str(text)
        await ws.receive()  # until the client's CloseStream

    session = session_for(
        path, await odd_server(websocket_route(path, behaviour)), http
    )
    await session.connect()
    await asyncio.sleep(0.1)
    await session.close()
    try:
        json.loads(text)
    except json.JSONDecodeError as err:
        reason = f"Not JSON: {err}"
    assert len(reason) > 80
    cut = text[:80].replace(KEY, REDACTED)
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage() == (
        f"Ignoring a malformed message from Deepgram ({reason[:80]}): {cut!r}"
    )


@pytest.mark.parametrize("path", ["/v1/listen", "/v2/listen"])
async def test_a_failing_message_callback_is_logged_and_the_session_goes_on(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    path: str,
) -> None:
    """A callback that raises: one error record with a plain text, per message."""

    def broken(message: object) -> None:
        raise RuntimeError("callback bug")

    session = session_for(path, server.base_url, http, on_message=broken)
    await session.connect()
    await session.close()
    assert session.error is None
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors
    assert {r.getMessage() for r in errors} == {"Error in a Deepgram message callback"}


# -- Flux: errors and their request ids ----------------------------------------


async def test_flux_in_band_error_names_the_request(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """An in-band Error: the plain message, Deepgram's reason and the request id."""
    server.faults = Faults(in_band_error=True)
    session = flux(server, http)
    await session.send_audio(pcm(0.2))
    with pytest.raises(DeepgramServerError) as info:
        await asyncio.wait_for(session.wait_for_turn_end(), 5)
    await session.close()
    request_id = server.sessions[0].request_id
    assert info.value.message == "Deepgram reported an error"
    assert info.value.request_id == request_id


async def test_flux_stream_closed_before_the_turn_ended_names_the_request(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Closed cleanly mid-turn: the waiter is told so, with the request id."""
    session = flux(server, http)
    await session.send_audio(pcm(1.8))
    waiter = asyncio.create_task(session.wait_for_turn_end())
    await session.close()
    with pytest.raises(DeepgramServerError) as info:
        await asyncio.wait_for(waiter, 2)
    assert session.stats.clean_close
    assert info.value.message == "The Deepgram stream closed before the turn ended"
    assert info.value.request_id == server.sessions[0].request_id


async def test_flux_request_id_from_the_turn_when_the_handshake_has_none(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """No `dg-request-id` header: the request id of the first TurnInfo is used."""

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        for event in ("StartOfTurn", "EndOfTurn"):
            await ws.send_str(
                json.dumps(
                    {
                        "type": "TurnInfo",
                        "request_id": "req-from-turn",
                        "event": event,
                        "turn_index": 0,
                        "transcript": "Hi",
                        "words": [{"word": "Hi", "confidence": 0.9}],
                        "end_of_turn_confidence": 0.9,
                        "audio_window_start": 0,
                        "audio_window_end": 0.3,
                    }
                )
            )
        await ws.receive()

    base_url = await odd_server(websocket_route("/v2/listen", behaviour))
    session = FluxSession(http, Endpoint(base_url, KEY), FluxOptions())
    turn = await asyncio.wait_for(session.wait_for_turn_end(), 3)
    await session.close()
    assert turn.transcript == "Hi"
    assert session.request_id == "req-from-turn"


# -- Flux: Configure -------------------------------------------------------------


async def test_configure_checks_new_thresholds_against_those_in_force(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A threshold left out keeps its value; the pair is checked together."""
    high = flux(server, http, FluxOptions(eot_threshold=0.9))
    await high.connect()
    # 0.8 is above the default 0.7 but not above the session's 0.9.
    await high.configure(eager_eot_threshold=0.8)
    # Now in force: 0.9 and 0.8; lowering the end of turn below 0.8 is refused.
    with pytest.raises(DeepgramOptionsError, match="above"):
        await high.configure(eot_threshold=0.75)
    await high.close()
    eager = flux(server, http, FluxOptions(eot_threshold=0.8, eager_eot_threshold=0.6))
    await eager.connect()
    with pytest.raises(DeepgramOptionsError, match="above"):
        await eager.configure(eot_threshold=0.5)
    await eager.close()
    configures = [
        json.loads(f.data)
        for record in server.sessions
        for f in record.frames
        if f.kind == "text" and "Configure" in f.data
    ]
    assert configures == [
        {"type": "Configure", "thresholds": {"eager_eot_threshold": 0.8}}
    ]


async def test_configure_sends_the_end_of_turn_timeout_and_returns_on_the_answer(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """`eot_timeout_ms` goes out by name; the answer, not the bound, ends the wait."""
    session = flux(server, http)
    await session.connect()
    answer = await asyncio.wait_for(
        session.configure(eot_timeout_ms=3000, timeout=60), 5
    )
    await session.close()
    assert answer.thresholds["eot_timeout_ms"] == 3000
    (configure,) = [
        json.loads(f.data)
        for f in server.sessions[0].frames
        if f.kind == "text" and "Configure" in f.data
    ]
    assert configure == {"type": "Configure", "thresholds": {"eot_timeout_ms": 3000}}


async def test_configure_errors_name_the_request(
    server: FakeDeepgram,
    odd_server: OddServer,
    http: aiohttp.ClientSession,
) -> None:
    """A refusal and a missing answer: plain messages with the request id."""
    session = flux(server, http)
    await session.connect()
    with pytest.raises(DeepgramOptionsError) as refused:
        await session.configure(keyterms=("Kitchen:2",))
    await session.close()
    assert refused.value.message == "Deepgram refused the new settings"
    assert refused.value.request_id == server.sessions[0].request_id

    async def silent(ws: web.WebSocketResponse) -> None:
        async for msg in ws:  # no answer to Configure
            if msg.type is aiohttp.WSMsgType.TEXT and "CloseStream" in msg.data:
                return

    async def with_request_id(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        ws.headers["dg-request-id"] = "req-silent"
        await ws.prepare(request)
        await silent(ws)
        return ws

    base_url = await odd_server({"GET /v2/listen": with_request_id})
    quiet = FluxSession(http, Endpoint(base_url, KEY), FluxOptions())
    with pytest.raises(DeepgramTimeoutError) as unanswered:
        await quiet.configure(eot_threshold=0.8, timeout=0.2)
    await quiet.abort()
    assert unanswered.value.message == "No answer to Configure within 0.2 s"
    assert unanswered.value.request_id == "req-silent"


# -- Flux: a stalled source --------------------------------------------------------


async def test_a_stall_is_noticed_one_stall_timeout_after_the_last_audio(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The watch measures from the last audio, not from when it last looked."""
    stall = 0.6
    session = flux(server, http, stall_timeout=stall)
    await session.connect()
    await asyncio.sleep(0.1)  # the watch has looked once: audio is newer
    await session.send_audio(pcm(0.2))
    last_audio = time.monotonic()
    turn = await asyncio.wait_for(session.wait_for_turn_end(), 5)
    noticed = time.monotonic() - last_audio
    await session.close()
    assert turn.ended_by == "no_speech"
    assert session.stats.stalled
    # Due at 0.6 s; a watch that measured from its own last look would come
    # at about 1.7 s. 0.5 s of slack for a loaded machine.
    assert stall <= noticed + 0.05
    assert noticed < stall + 0.5


# -- a sample split across Finalize / ForceEndTurn -----------------------------------


@pytest.mark.parametrize("path", ["/v1/listen", "/v2/listen"])
async def test_a_sample_split_across_the_flush_is_completed_by_the_next_chunk(
    server: FakeDeepgram, http: aiohttp.ClientSession, path: str
) -> None:
    """Finalize / ForceEndTurn do not end the stream: half a sample stays held."""
    server.latency = Latency(finalize=0.01)
    session = session_for(path, server.base_url, http)
    audio = pcm(1.0) + b"\x01"
    await session.send_audio(audio)
    if isinstance(session, LiveSession):
        await session.finalize(timeout=2)
    else:
        assert isinstance(session, FluxSession)
        await session.end_turn(timeout=2)
    await session.send_audio(b"\x02")
    await session.close()
    record = server.sessions[0]
    sent = b"".join(f.data for f in record.frames if isinstance(f.data, bytes))
    assert sent == audio + b"\x02"


@pytest.mark.parametrize("path", ["/v1/listen", "/v2/listen"])
async def test_an_abort_names_its_reason_and_the_request(
    server: FakeDeepgram, http: aiohttp.ClientSession, path: str
) -> None:
    """Whoever uses an aborted session is told why, with the request id."""
    session = session_for(path, server.base_url, http)
    await session.connect()
    await session.abort(reason="Home Assistant is stopping")
    with pytest.raises(DeepgramConnectionError) as info:
        await session.send_audio(pcm(0.1))
    assert info.value.message == "Home Assistant is stopping"
    assert info.value.request_id == server.sessions[0].request_id


async def test_flux_sends_a_whole_80ms_frame_at_once(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Exactly one frame of audio held: it goes out now, not with the next chunk."""
    session = flux(server, http)
    await session.connect()
    await session.send_audio(pcm(0.08))
    record = server.sessions[0]
    await wait_for(lambda: record.binary_frame_sizes() == [2560])
    await session.close()


# -- /v1: what Finalize and an oversized transcript tell ---------------------


async def test_an_oversized_transcript_names_the_request_and_keeps_nothing_after(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Over the cap: a plain error with the request id; later words are not kept."""
    server.faults = Faults(huge_final_chars=MAX_TRANSCRIPT_CHARS + 1)
    session = live(server, http)
    await session.send_audio(pcm(2.5))
    with pytest.raises(DeepgramProtocolError) as info:
        await session.finalize(timeout=2)
    await session.close()
    record = server.sessions[0]
    assert info.value.message == (
        "Deepgram's transcript is longer than this client accepts (10,000 characters)"
    )
    assert info.value.request_id == record.request_id
    words_after = [
        m
        for m in record.sent
        if m.get("type") == "Results"
        and 0 < len(m["channel"]["alternatives"][0]["transcript"]) < 100
    ]
    assert words_after  # the server went on with the command's words
    assert session.transcript.text == ""


async def test_audio_never_read_names_the_request(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Finalize unanswered and the ping too: the error says so, with the request id."""
    server.faults = Faults(stop_reading_after_audio_seconds=0.05)
    session = live(server, http)
    await session.connect()
    for chunk in chunks(pcm(0.5)):
        await session.send_audio(chunk)
        await asyncio.sleep(0.001)
    with pytest.raises(DeepgramTimeoutError) as info:
        await session.finalize(timeout=0.5)
    await session.abort()
    assert info.value.message == (
        "Deepgram did not take the audio: no answer within 0.5 s"
    )
    assert info.value.request_id == server.sessions[0].request_id


# -- how a socket ends ---------------------------------------------------------

PATHS = ["/v1/listen", "/v2/listen"]


@pytest.mark.parametrize("path", PATHS)
async def test_a_close_frame_without_a_code_ends_the_stream_early(
    odd_server: OddServer, http: aiohttp.ClientSession, path: str
) -> None:
    """A close frame with no status code: "ended early"; aiohttp reads it as 1000."""

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        assert request.transport is not None
        request.transport.write(b"\x88\x00")  # a close frame, empty payload
        await ws.receive()

    session = session_for(
        path, await odd_server(websocket_route(path, behaviour)), http
    )
    await session.connect()
    await wait_for(lambda: session.error is not None)
    await session.close()
    assert isinstance(session.error, DeepgramConnectionError)
    assert session.error.message == "The Deepgram stream ended early (close 1000)"


@pytest.mark.parametrize("path", PATHS)
async def test_a_close_reason_is_scrubbed_of_the_key(
    odd_server: OddServer, http: aiohttp.ClientSession, path: str
) -> None:
    """A 1011 close whose reason quotes the key: the error holds it redacted."""
    secret = "dg-close-secret-0123456789abcdef"

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        await ws.close(code=1011, message=f"bad token {secret}".encode())

    base_url = await odd_server(websocket_route(path, behaviour))
    session = session_for(path, base_url, http, key=secret)
    session.start()
    await wait_for(lambda: session.error is not None)
    await session.close()
    assert isinstance(session.error, DeepgramServerError)
    assert session.error.reason == f"bad token {REDACTED}"


@pytest.mark.parametrize("path", PATHS)
async def test_a_send_the_network_refuses_is_a_lost_connection(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    """The socket fails under a send: a plain connection error, with the request id."""
    session = session_for(path, server.base_url, http)
    await session.connect()

    async def refused(*args: object, **kwargs: object) -> None:
        raise aiohttp.ClientConnectionResetError("Cannot write to closing transport")

    monkeypatch.setattr(aiohttp.ClientWebSocketResponse, "send_bytes", refused)
    with pytest.raises(DeepgramConnectionError) as info:
        await session.send_audio(pcm(0.2))
    monkeypatch.undo()
    await session.abort()
    assert info.value.message == "Lost the connection to Deepgram while sending"
    assert info.value.request_id == server.sessions[0].request_id


@pytest.mark.parametrize("path", PATHS)
async def test_a_cancelled_close_is_bounded_when_the_server_never_closes(
    server: FakeDeepgram, http: aiohttp.ClientSession, path: str
) -> None:
    """Cancelled while waiting for a server that never closes: still over soon."""
    server.faults = Faults(never_close=True)
    session = session_for(path, server.base_url, http)
    await session.connect()
    closing = asyncio.create_task(session.close(timeout=30))
    await wait_for(lambda: server.sessions[0].got_close_stream)
    closing.cancel()
    # CloseStream is out; the wait for the close is bounded at 1 s, then the
    # socket's own close at 1 s more.
    done, _ = await asyncio.wait({closing}, timeout=5)
    assert done, "the cancelled close is still waiting"
    assert closing.cancelled()
    assert not session.connected


async def test_a_close_cancelled_while_connecting_sends_no_more_audio(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Home Assistant stopping mid-handshake: no more audio than the open sends.

    The open sends the whole 80 ms frames held, then CloseStream goes out;
    the part of a frame still held is not sent.
    """
    server.latency = Latency(rtt=0.4)
    session = flux(server, http)
    for chunk in chunks(pcm(0.5)):  # 6 frames of 2560 bytes and 640 more
        await session.send_audio(chunk)
    closing = asyncio.create_task(session.close())
    await asyncio.sleep(0.05)
    assert not session.connected
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(closing, 5)
    record = server.sessions[0]
    assert record.got_close_stream
    assert record.binary_frame_sizes() == [2560] * 6
