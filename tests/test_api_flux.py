"""`FluxSession` (`/v2/listen`) against the local fake Deepgram."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import aiohttp
from aiohttp import web
import pytest

from custom_components.deepgram.api import (
    ConfigureSuccess,
    Connected,
    DeepgramConnectionError,
    DeepgramError,
    DeepgramOptionsError,
    DeepgramServerError,
    DeepgramTimeoutError,
    Endpoint,
    FluxMessage,
    FluxOptions,
    FluxSession,
    TurnEvent,
    TurnInfo,
    socket as socket_module,
)
from tests.api_helpers import (
    HANDSHAKE_REFUSALS,
    KEY,
    flux,
    pcm,
    send,
    send_until_it_fails,
    websocket_route,
    wire_audio,
)
from tests.conftest import OddServer
from tests.deepgram_server import (
    NO_ANSWER,
    FakeDeepgram,
    Faults,
    Latency,
    script_from_text,
)
from tests.deepgram_server.testing import unused_port, wait_for
from tests.deepgram_server.turn_rules import check_turn_rules

FRAME = 2560  # 80 ms, what Deepgram recommends for Flux
COMMAND = "Turn on the kitchen light."


@pytest.fixture
def server(deepgram_server: FakeDeepgram) -> FakeDeepgram:
    """The fake with the command as one thought, words 0.5-1.8 s."""
    deepgram_server.script = script_from_text(
        COMMAND, start=0.5, end=1.8, words_per_segment=5
    )
    return deepgram_server


# -- a turn ----------------------------------------------------------------


async def test_a_turn_ends_on_end_of_turn(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The query, 80 ms frames, the turn at EndOfTurn, CloseStream closes cleanly."""
    messages: list[FluxMessage] = []
    options = FluxOptions(
        eot_threshold=0.8,
        eot_timeout_ms=3000,
        keyterms=("kitchen light",),
        mip_opt_out=True,
        tags=("ha",),
    )
    session = flux(server, http, options, on_message=messages.append)
    audio = pcm(2.5)
    await send(session, audio)
    turn = await asyncio.wait_for(session.wait_for_turn_end(), 5)
    assert turn.transcript == COMMAND
    assert turn.ended_by == "end_of_turn"
    assert turn.turn_index == 0
    assert turn.confidence == pytest.approx(0.99)
    assert turn.words[0].word == "Turn"
    await session.close()
    assert session.error is None
    assert session.stats.clean_close
    assert session.stats.close_code == 1000
    (record,) = server.sessions
    assert record.path == "/v2/listen"
    assert list(record.query.items()) == [
        ("model", "flux-general-en"),
        ("encoding", "linear16"),
        ("sample_rate", "16000"),
        ("eot_threshold", "0.8"),
        ("eot_timeout_ms", "3000"),
        ("mip_opt_out", "true"),
        ("keyterm", "kitchen light"),
        ("tag", "ha"),
    ]
    assert record.authorization == f"Token {KEY}"
    sizes = record.binary_frame_sizes()
    assert set(sizes[:-1]) == {FRAME}
    assert 0 < sizes[-1] <= FRAME  # the remainder goes out at the end
    assert wire_audio(record) == audio
    assert record.control_messages() == ["CloseStream"]
    assert isinstance(messages[0], Connected)
    assert session.request_id == record.request_id
    events = [m.event for m in messages if isinstance(m, TurnInfo)]
    assert TurnEvent.START_OF_TURN in events
    check_turn_rules(record.sent)


async def test_only_the_first_turn_counts(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Later turns do not change the turn a run returns."""
    server.script = [
        *server.script,
        *script_from_text("Thanks.", start=2.4, end=2.7, words_per_segment=1),
    ]
    session = flux(server, http)
    await send(session, pcm(3.3))
    await session.close()
    assert session.turn.transcript == COMMAND
    assert session.latest is not None
    assert session.latest.event is TurnEvent.END_OF_TURN
    assert "Thanks." in [m.get("transcript") for m in server.sessions[0].sent]


async def test_audio_held_while_connecting_goes_out_in_80ms_frames(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Audio sent during a slow handshake is all delivered, in order."""
    server.latency = Latency(rtt=0.4)
    session = flux(server, http)
    audio = pcm(1.0, seed=3)
    await send(session, audio)
    assert not session.connected
    await session.close()
    record = server.sessions[0]
    assert wire_audio(record) == audio
    assert set(record.binary_frame_sizes()[:-1]) == {FRAME}


# -- ending the turn ourselves -----------------------------------------------


async def test_end_turn_sends_force_end_turn(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """ForceEndTurn ends the turn on the audio so far: the EndOfTurn is returned."""
    server.latency = Latency(finalize=0.05)
    session = flux(server, http)
    await send(session, pcm(1.4))
    await wait_for(lambda: session.turn_started)
    turn = await session.end_turn(timeout=2)
    assert turn.transcript == "Turn on the kitchen"
    assert turn.ended_by == "manual"
    assert session.stats.end_turn_answered
    assert session.stats.end_turn_seconds is not None
    assert 0.05 <= session.stats.end_turn_seconds < 2  # within end_turn's bound
    assert await session.end_turn() == turn  # already ended: no second message
    await session.close()
    assert server.sessions[0].control_messages() == ["ForceEndTurn", "CloseStream"]


async def test_end_turn_falls_back_to_the_last_update(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """No EndOfTurn in time: the last TurnInfo is the turn, within the bound."""
    server.faults = Faults(ignore_force_end_turn=True)
    session = flux(server, http)
    await send(session, pcm(1.8))
    await wait_for(
        lambda: session.latest is not None and "kitchen" in session.latest.transcript
    )
    started = time.monotonic()
    turn = await session.end_turn(timeout=0.3)
    assert 0.3 <= time.monotonic() - started < 1.0
    assert turn.transcript == "Turn on the kitchen"
    assert turn.ended_by == "last_update"
    assert not session.stats.end_turn_answered
    await session.close()


async def test_end_turn_without_speech_does_not_wait(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """No turn started: the empty turn comes at once."""
    session = flux(server, http)
    await send(session, pcm(0.3))
    started = time.monotonic()
    turn = await session.end_turn(timeout=2)
    assert time.monotonic() - started < 0.5
    assert turn.transcript == ""
    assert turn.ended_by == "no_speech"
    assert turn.confidence is None
    await session.close()


async def test_stalled_audio_ends_the_turn_not_the_socket(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """No KeepAlive on v2: a stalled source ends the turn (ForceEndTurn) cleanly."""
    server.idle_timeout = 1.5  # the server would close 1011 after 1.5 s
    session = flux(server, http, stall_timeout=0.3)
    await send(session, pcm(1.4))
    started = time.monotonic()
    turn = await asyncio.wait_for(session.wait_for_turn_end(), 2)
    assert time.monotonic() - started < 1.0
    assert turn.transcript == "Turn on the kitchen"
    assert turn.ended_by == "manual"
    assert session.stats.stalled
    await session.close()
    assert session.error is None
    assert session.stats.clean_close
    record = server.sessions[0]
    assert record.control_messages() == ["ForceEndTurn", "CloseStream"]
    assert record.close_code == 1000


async def test_stall_without_speech_returns_nothing(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A stall before anyone spoke: an empty turn, the socket still fine."""
    session = flux(server, http, stall_timeout=0.2)
    await send(session, pcm(0.2))
    turn = await asyncio.wait_for(session.wait_for_turn_end(), 2)
    assert turn.ended_by == "no_speech"
    await session.close()
    assert session.stats.clean_close


async def test_close_stream_mid_turn_keeps_the_last_update(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """CloseStream does not finish the turn on v2: the last Update is what is left."""
    session = flux(server, http)
    await send(session, pcm(1.8))
    await session.close()
    assert session.stats.clean_close
    turn = session.turn
    assert turn.ended_by == "last_update"
    assert turn.transcript == "Turn on the kitchen"


# -- Configure ---------------------------------------------------------------


async def test_configure_changes_the_thresholds(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """ConfigureSuccess is returned; the server's turn end moves with it."""
    session = flux(server, http, FluxOptions(model="flux-general-multi"))
    await send(session, pcm(0.5))
    answer = await session.configure(
        eot_threshold=0.9,
        eager_eot_threshold=0.5,
        keyterms=(" kitchen ",),
        language_hints=("en", "de"),
    )
    assert isinstance(answer, ConfigureSuccess)
    assert answer.thresholds["eot_threshold"] == 0.9
    assert answer.keyterms == ("kitchen",)
    assert answer.language_hints == ("en", "de")
    await send(session, pcm(2.0))
    turn = await asyncio.wait_for(session.wait_for_turn_end(), 5)
    assert turn.transcript == COMMAND
    assert turn.languages == ("en",)
    await session.close()
    sent = server.sessions[0].frames
    configure = json.loads(next(f.data for f in sent if f.kind == "text"))
    assert configure == {
        "type": "Configure",
        "thresholds": {"eot_threshold": 0.9, "eager_eot_threshold": 0.5},
        "keyterms": ["kitchen"],
        "language_hints": ["en", "de"],
    }
    with pytest.raises(DeepgramOptionsError, match="above"):
        await session.configure(eot_threshold=0.5, eager_eot_threshold=0.6)


async def test_configure_checked_before_sending(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Out-of-range values and hints on the English model never reach the wire."""
    session = flux(server, http)
    await session.connect()
    for kwargs in (
        {"eot_threshold": 0.4},
        {"eager_eot_threshold": 0.8},
        {"eot_timeout_ms": 100},
        {"language_hints": ("de",)},
        {"keyterms": ("",)},
    ):
        with pytest.raises(DeepgramOptionsError):
            await session.configure(**kwargs)
    await session.close()
    assert server.sessions[0].control_messages() == ["CloseStream"]


async def test_configure_refused_by_the_server(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """ConfigureFailure becomes an options error; the session goes on."""
    session = flux(server, http)
    await session.connect()
    with pytest.raises(DeepgramOptionsError, match="refused"):
        await session.configure(keyterms=("Kitchen:2",))
    assert session.error is None
    await session.close()
    assert session.stats.clean_close


# -- failures ------------------------------------------------------------------


@pytest.mark.parametrize(("status", "error"), HANDSHAKE_REFUSALS)
async def test_handshake_refusals_are_typed(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    status: int,
    error: type[DeepgramError],
) -> None:
    """Every refusal at the handshake is the typed error of its status."""
    server.faults = Faults(handshake_status=status)
    session = flux(server, http)
    await send(session, pcm(0.2))
    with pytest.raises(error) as info:
        await session.wait_for_turn_end()
    assert info.value.status == status
    assert info.value.request_id == server.handshakes[0].request_id
    await session.close()


async def test_connect_failures(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Unreachable, refused and stalled handshakes all end in typed errors."""
    unreachable = FluxSession(
        http, Endpoint(f"http://127.0.0.1:{unused_port()}", KEY), FluxOptions()
    )
    with pytest.raises(DeepgramConnectionError, match="refused the connection"):
        await unreachable.connect()
    await unreachable.close()
    server.faults = Faults(refuse=True)
    refused = flux(server, http)
    with pytest.raises(DeepgramConnectionError):
        await refused.connect()
    await refused.close()
    server.faults = Faults(stall_handshake=True)
    stalled = flux(server, http, connect_timeout=0.2)
    with pytest.raises(DeepgramTimeoutError, match="did not answer"):
        await stalled.end_turn()
    await stalled.abort()
    assert server.handshakes[-1].status == NO_ANSWER


async def test_too_much_audio_held_while_connecting(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The held audio is bounded."""
    server.faults = Faults(stall_handshake=True)
    session = flux(server, http, max_buffer_seconds=0.5)
    with pytest.raises(DeepgramConnectionError, match="Too much audio"):
        await send(session, pcm(1.0))
    await session.abort()


async def test_in_band_error_and_1011(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """An in-band Error or a 1011 close fail the turn with a server error."""
    server.faults = Faults(in_band_error=True)
    session = flux(server, http)
    await send(session, pcm(0.2))
    with pytest.raises(DeepgramServerError, match="reported an error") as info:
        await asyncio.wait_for(session.wait_for_turn_end(), 5)
    assert info.value.reason is not None
    assert "error while processing audio" in info.value.reason
    await session.close()
    server.faults = Faults(close_1011_after_audio_seconds=0.2)
    closed = flux(server, http)
    await send(closed, pcm(0.3))
    with pytest.raises(DeepgramServerError, match="1011"):
        await asyncio.wait_for(closed.wait_for_turn_end(), 5)
    with pytest.raises(DeepgramServerError):
        await closed.end_turn()
    await closed.close()


async def test_abort_mid_turn_is_quick(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Abort: CloseStream, closed within a second, waiters get an error."""
    session = flux(server, http)
    await send(session, pcm(1.0))
    waiter = asyncio.create_task(session.wait_for_turn_end())
    await wait_for(lambda: session.turn_started)
    started = time.monotonic()
    await session.abort()
    assert time.monotonic() - started < 1.0
    assert not session.connected
    with pytest.raises(DeepgramError):
        await asyncio.wait_for(waiter, 1)
    assert server.sessions[0].got_close_stream


async def test_odd_messages_are_ignored(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unknown types and malformed frames are logged and skipped; callbacks too."""
    server.faults = Faults(malformed_json=True, unknown_message=True)

    def broken(message: FluxMessage) -> None:
        raise RuntimeError("callback bug")

    session = flux(server, http, on_message=broken)
    await send(session, pcm(2.4))
    turn = await asyncio.wait_for(session.wait_for_turn_end(), 5)
    assert turn.transcript == COMMAND
    await session.close()
    assert "malformed message" in caplog.text
    assert "unknown type" in caplog.text
    assert "Error in a Deepgram message callback" in caplog.text


# -- a hand-written server ---------------------------------------------------


async def test_configure_without_an_answer_times_out(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """No answer to Configure: a timeout error; the session is still usable."""

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT and "CloseStream" in msg.data:
                await ws.close()

    session = FluxSession(
        http,
        Endpoint(await odd_server(websocket_route("/v2/listen", behaviour))),
        FluxOptions(),
    )
    with pytest.raises(DeepgramTimeoutError, match="Configure"):
        await session.configure(eot_threshold=0.8, timeout=0.2)
    assert session.error is None
    await session.close()
    assert session.stats.clean_close


async def test_server_closing_before_the_turn_ends(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """A clean close nobody asked for, before EndOfTurn: an error, not a hang."""

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        await ws.send_str(
            json.dumps(
                {
                    "type": "TurnInfo",
                    "event": "StartOfTurn",
                    "turn_index": 0,
                    "transcript": "Hi",
                    "words": [{"word": "Hi", "confidence": 0.9}],
                    "end_of_turn_confidence": 0.1,
                    "audio_window_start": 0,
                    "audio_window_end": 0.3,
                }
            )
        )
        await ws.send_bytes(b"\x00")
        await ws.close(code=1000)

    session = FluxSession(
        http,
        Endpoint(await odd_server(websocket_route("/v2/listen", behaviour))),
        FluxOptions(),
    )
    with pytest.raises(DeepgramConnectionError, match="ended early"):
        await asyncio.wait_for(session.wait_for_turn_end(), 3)
    assert session.turn.transcript == "Hi"
    await session.close()


async def test_server_that_stops_reading_times_the_send_out(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sends are bounded: a server that stops reading fails the session."""
    monkeypatch.setattr(socket_module, "DEFAULT_SEND_TIMEOUT", 0.3)
    stop = asyncio.Event()

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        await stop.wait()

    session = FluxSession(
        http,
        Endpoint(await odd_server(websocket_route("/v2/listen", behaviour))),
        FluxOptions(),
    )
    await session.connect()
    with pytest.raises(DeepgramTimeoutError, match="stopped taking audio"):
        await send_until_it_fails(session)
    await session.abort()
    stop.set()


def test_bad_options_refused_before_connecting(http: aiohttp.ClientSession) -> None:
    """A session with options Deepgram refuses is never created."""
    with pytest.raises(DeepgramOptionsError, match="not a Flux model"):
        FluxSession(http, Endpoint(), FluxOptions(model="nova-3"))


async def test_debug_log_names_the_path(
    server: FakeDeepgram, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """The log says which endpoint was used, never the key."""
    caplog.set_level(logging.DEBUG)
    session = flux(server, http)
    await session.connect()
    await session.close()
    assert "Connected to Deepgram at 127.0.0.1/v2/listen" in caplog.text
    assert KEY not in caplog.text


async def test_server_text_is_scrubbed_of_the_key(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An in-band Error that quotes the key: the error and the log never hold it."""
    secret = "dg-flux-secret-0123456789abcdef"

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        await ws.send_str(f'{{"type": "Nope", "echo": "{secret}"}}')
        await ws.send_str(
            json.dumps(
                {
                    "type": "Error",
                    "code": "BAD",
                    "description": f"Bad header: Authorization: Token {secret}",
                    "sequence_id": 0,
                }
            )
        )
        await ws.receive()

    base_url = await odd_server(websocket_route("/v2/listen", behaviour))
    session = FluxSession(http, Endpoint(base_url, secret), FluxOptions())
    with pytest.raises(DeepgramServerError) as info:
        await asyncio.wait_for(session.wait_for_turn_end(), 3)
    await session.abort()
    assert secret not in str(info.value)
    assert info.value.reason is not None
    assert "Bad header" in info.value.reason
    assert secret not in caplog.text
