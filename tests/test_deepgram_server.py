"""Live ``/v1/listen`` sessions against the fake Deepgram, with a raw aiohttp client."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from tests.deepgram_server import FakeDeepgram, Faults, Latency, script_from_text
from tests.deepgram_server.testing import (
    BYTES_PER_SECOND,
    auth_header,
    listen_url,
    read_until,
    read_until_closed,
    silence,
    stream,
)

COMMAND = "Turn on the kitchen light."
FINALIZE = json.dumps({"type": "Finalize"})
CLOSE_STREAM = json.dumps({"type": "CloseStream"})
KEEP_ALIVE = json.dumps({"type": "KeepAlive"})


@pytest.fixture
def server(deepgram_server: FakeDeepgram) -> FakeDeepgram:
    """The fake with the command script of these tests."""
    deepgram_server.script = script_from_text(COMMAND, start=0.5, end=1.8)
    return deepgram_server


async def test_full_session_with_all_events(server: FakeDeepgram) -> None:
    """Interim, finals, speech_final, UtteranceEnd, SpeechStarted, Metadata, 1000."""
    url = listen_url(
        server,
        interim_results="true",
        punctuate="true",
        utterance_end_ms="1000",
        vad_events="true",
    )
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, headers=auth_header()) as ws:
            request_id = ws._response.headers["dg-request-id"]
            await stream(ws, 3.0)
            await ws.send_str(CLOSE_STREAM)
            received = await read_until_closed(ws)
            assert ws.close_code == 1000
    types = [m["type"] for m in received]
    assert types[0] == "SpeechStarted"
    assert types[-1] == "Metadata"
    assert types.index("UtteranceEnd") > types.index("Results")
    results = [m for m in received if m["type"] == "Results"]
    assert results[0]["is_final"] is False
    finals = [m for m in results if m["is_final"]]
    transcript = " ".join(
        t for m in finals if (t := m["channel"]["alternatives"][0]["transcript"])
    )
    assert transcript == COMMAND
    assert [m["speech_final"] for m in finals if m["channel"]["alternatives"][0]][
        :2
    ] == [False, True]
    assert all(m["metadata"]["request_id"] == request_id for m in results)
    metadata = received[-1]
    assert metadata["request_id"] == request_id
    assert metadata["duration"] == pytest.approx(3.0)
    await server.wait_for_sessions_closed(timeout=5)
    (record,) = server.sessions
    assert record.request_id == request_id
    assert record.closed_by == "server"
    assert record.close_code == 1000
    assert record.control_messages() == ["CloseStream"]
    assert record.got_close_stream
    assert record.audio_bytes == 3 * BYTES_PER_SECOND
    assert set(record.binary_frame_sizes()) == {BYTES_PER_SECOND // 10}
    assert record.sent == received
    assert record.query["model"] == "nova-3"
    assert record.authorization == "Token dg-test-key"
    assert record.final_transcript() == COMMAND


async def test_no_interim_without_interim_results(server: FakeDeepgram) -> None:
    """Without interim_results only finals come (no UtteranceEnd either)."""
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(
            listen_url(server, utterance_end_ms="1000"), headers=auth_header()
        ) as ws:
            await stream(ws, 3.0)
            await ws.send_str(CLOSE_STREAM)
            received = await read_until_closed(ws)
    assert {m["type"] for m in received} == {"Results", "Metadata"}
    assert all(m["is_final"] for m in received if m["type"] == "Results")
    # punctuate not requested: plain lowercase words
    first = received[0]["channel"]["alternatives"][0]
    assert first["transcript"] == "turn on the"


async def test_finalize_answers_from_finalize_and_keeps_socket(
    server: FakeDeepgram,
) -> None:
    """Finalize flushes heard words; the socket stays open; empty answer too."""
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(
            listen_url(server, punctuate="true"), headers=auth_header()
        ) as ws:
            await stream(ws, 1.0)  # "on" partly heard, "the" starts at 1.02
            await ws.send_str(FINALIZE)
            received = await read_until(ws, "Results")
            answer = received[-1]
            assert answer["from_finalize"] is True
            assert answer["is_final"] is True
            assert answer["channel"]["alternatives"][0]["transcript"] == "Turn on"
            await ws.send_str(FINALIZE)  # nothing pending: empty answer
            (empty,) = await read_until(ws, "Results")
            assert empty["from_finalize"] is True
            assert empty["channel"]["alternatives"][0]["transcript"] == ""
            await stream(ws, 1.5)
            await ws.send_str(CLOSE_STREAM)
            rest = await read_until_closed(ws)
    finals = [m for m in rest if m["type"] == "Results"]
    transcripts = [m["channel"]["alternatives"][0]["transcript"] for m in finals]
    assert transcripts == ["the", "kitchen light.", ""]
    assert [m["from_finalize"] for m in finals] == [False, False, False]
    assert rest[-1]["type"] == "Metadata"
    assert server.sessions[0].control_messages() == [
        "Finalize",
        "Finalize",
        "CloseStream",
    ]


async def test_finalize_silent_when_empty_fault(server: FakeDeepgram) -> None:
    """With the fault, an empty Finalize gets no answer."""
    server.faults = Faults(finalize_silent_when_empty=True)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(listen_url(server), headers=auth_header()) as ws:
            await stream(ws, 0.2)
            await ws.send_str(FINALIZE)
            with pytest.raises(TimeoutError):
                await ws.receive(timeout=0.2)
            await ws.send_str(CLOSE_STREAM)
            received = await read_until_closed(ws)
    assert [m["type"] for m in received] == ["Results", "Metadata"]
    assert received[0]["from_finalize"] is False


async def test_zero_length_frame_is_end_of_stream(server: FakeDeepgram) -> None:
    """A zero-length binary frame acts as CloseStream and is recorded."""
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(listen_url(server), headers=auth_header()) as ws:
            await stream(ws, 2.5)
            await ws.send_bytes(b"")
            received = await read_until_closed(ws)
            assert ws.close_code == 1000
    assert received[-1]["type"] == "Metadata"
    await server.wait_for_sessions_closed()
    record = server.sessions[0]
    assert record.zero_length_frames == 1
    assert record.binary_frame_sizes()[-1] == 0
    assert not record.got_close_stream


async def test_control_message_as_binary_is_audio(server: FakeDeepgram) -> None:
    """A control message sent as binary counts as audio and closes nothing."""
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(listen_url(server), headers=auth_header()) as ws:
            await ws.send_bytes(CLOSE_STREAM.encode())
            with pytest.raises(TimeoutError):
                await ws.receive(timeout=0.2)
            await ws.send_str(CLOSE_STREAM)
            await read_until_closed(ws)
    record = server.sessions[0]
    assert record.audio_bytes == len(CLOSE_STREAM)
    assert record.frames[0].kind == "binary"
    assert record.control_messages() == ["CloseStream"]


async def test_idle_timeout_net_0001(server: FakeDeepgram) -> None:
    """No frame for idle_timeout: close 1011 NET-0001."""
    server.idle_timeout = 0.3
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(listen_url(server), headers=auth_header()) as ws:
            await stream(ws, 0.2)
            received = await read_until_closed(ws)
            assert ws.close_code == 1011
    assert received == []
    await server.wait_for_sessions_closed()
    record = server.sessions[0]
    assert (record.closed_by, record.close_code, record.close_reason) == (
        "server",
        1011,
        "NET-0001",
    )


async def test_keepalive_holds_socket_after_audio(server: FakeDeepgram) -> None:
    """KeepAlive resets the idle timer once audio has flowed."""
    server.idle_timeout = 0.3
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(listen_url(server), headers=auth_header()) as ws:
            await stream(ws, 0.2)
            for _ in range(5):
                await asyncio.sleep(0.12)
                await ws.send_str(KEEP_ALIVE)
            assert not ws.closed
            await ws.send_str(CLOSE_STREAM)
            await read_until_closed(ws)
            assert ws.close_code == 1000
    assert server.sessions[0].keepalive_count == 5


async def test_keepalive_alone_does_not_hold_socket(server: FakeDeepgram) -> None:
    """Without any audio, KeepAlives do not prevent NET-0001."""
    server.idle_timeout = 0.3
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(listen_url(server), headers=auth_header()) as ws:
            for _ in range(3):
                await ws.send_str(KEEP_ALIVE)
                await asyncio.sleep(0.12)
            await read_until_closed(ws)
            assert ws.close_code == 1011
    assert server.sessions[0].close_reason == "NET-0001"


async def test_client_close_is_recorded(server: FakeDeepgram) -> None:
    """A client that closes first is recorded with its code."""
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(listen_url(server), headers=auth_header()) as ws:
            await stream(ws, 0.3)
            await ws.close(code=4000, message=b"bye")
    await server.wait_for_sessions_closed()
    record = server.sessions[0]
    assert (record.closed_by, record.close_code) == ("client", 4000)
    assert not record.got_close_stream


async def test_stall_after_finalize(server: FakeDeepgram) -> None:
    """Finalize goes unanswered; the socket stays open."""
    server.faults = Faults(stall_after_finalize=True)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(listen_url(server), headers=auth_header()) as ws:
            await stream(ws, 1.0)
            await ws.send_str(FINALIZE)
            with pytest.raises(TimeoutError):
                await ws.receive(timeout=0.3)
            assert not ws.closed


async def test_never_close_fault(server: FakeDeepgram) -> None:
    """After CloseStream: finals and Metadata, but no close frame."""
    server.faults = Faults(never_close=True)
    server.idle_timeout = 0.2
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(listen_url(server), headers=auth_header()) as ws:
            await stream(ws, 2.5)
            await ws.send_str(CLOSE_STREAM)
            received = await read_until(ws, "Metadata")
            assert received[-1]["type"] == "Metadata"
            with pytest.raises(TimeoutError):
                await ws.receive(timeout=0.4)  # longer than idle_timeout
    await server.wait_for_sessions_closed()
    assert server.sessions[0].closed_by == "client"


@pytest.mark.parametrize(
    ("faults", "code", "reason"),
    [
        (Faults(close_1011_after_audio_seconds=0.5), 1011, "NET-0000"),
        (Faults(close_1008_after_audio_seconds=0.5), 1008, "DATA-0000"),
    ],
)
async def test_mid_stream_close_faults(
    server: FakeDeepgram, faults: Faults, code: int, reason: str
) -> None:
    """Close mid-stream once enough audio arrived."""
    server.faults = faults
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(listen_url(server), headers=auth_header()) as ws:
            await stream(ws, 0.5)
            await read_until_closed(ws)
            assert ws.close_code == code
    await server.wait_for_sessions_closed()
    record = server.sessions[0]
    assert (record.close_code, record.close_reason) == (code, reason)


async def test_in_band_error_then_1011(server: FakeDeepgram) -> None:
    """An in-band Error after the first audio, then close 1011."""
    server.faults = Faults(in_band_error=True)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(listen_url(server), headers=auth_header()) as ws:
            await ws.send_bytes(silence(0.1))
            received = await read_until_closed(ws)
            assert ws.close_code == 1011
    assert [m["type"] for m in received] == ["Error"]
    assert set(received[0]) == {"type", "description", "message", "variant"}


async def test_malformed_and_unknown_messages(server: FakeDeepgram) -> None:
    """One non-JSON text frame and one unknown type after the first audio."""
    server.faults = Faults(malformed_json=True, unknown_message=True)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(listen_url(server), headers=auth_header()) as ws:
            await ws.send_bytes(silence(0.1))
            first = await ws.receive(timeout=2)
            assert first.type is aiohttp.WSMsgType.TEXT
            with pytest.raises(ValueError):  # noqa: PT011
                json.loads(first.data)
            second = await ws.receive_json(timeout=2)
            assert second["type"] == "SomethingNew"
            await ws.send_str(CLOSE_STREAM)
            await read_until_closed(ws)
    record = server.sessions[0]
    assert record.sent_raw == [first.data]
    assert record.sent_types()[0] == "SomethingNew"


async def test_latency_delays_answers_in_order(server: FakeDeepgram) -> None:
    """rtt, first_result and finalize delays exist; order is kept."""
    server.latency = Latency(rtt=0.1, first_result=0.1, finalize=0.1)
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as session:
        started = loop.time()
        async with session.ws_connect(listen_url(server), headers=auth_header()) as ws:
            assert loop.time() - started >= 0.04  # rtt/2 before the upgrade
            await stream(ws, 1.0)
            sent_finalize = loop.time()
            await ws.send_str(FINALIZE)
            (answer,) = await read_until(ws, "Results")
            # rtt/2 + first_result + finalize, minus generous slack
            assert loop.time() - sent_finalize >= 0.15
            assert answer["from_finalize"] is True
            await stream(ws, 2.0)
            await ws.send_str(CLOSE_STREAM)
            rest = await read_until_closed(ws)
    assert rest[-1]["type"] == "Metadata"
    await server.wait_for_sessions_closed()
    assert server.sessions[0].sent[0] is not None


async def test_stop_is_quick_with_open_stalled_sessions(
    socket_enabled: None,
) -> None:
    """stop() cancels stalled handshakes and open sessions and returns fast."""
    loop = asyncio.get_running_loop()
    stalled = FakeDeepgram()
    await stalled.start()
    stalled.faults = Faults(stall_handshake=True)
    opened = FakeDeepgram()
    await opened.start()
    async with aiohttp.ClientSession() as session:
        attempt = asyncio.create_task(
            session.ws_connect(listen_url(stalled), headers=auth_header())
        )
        ws = await session.ws_connect(listen_url(opened), headers=auth_header())
        await ws.send_bytes(silence(0.1))
        await stalled.wait_for_handshakes(1)
        started = loop.time()
        await stalled.stop()
        await opened.stop()
        assert loop.time() - started < 3
        with pytest.raises(aiohttp.ClientError):
            await attempt
        await ws.close()
    assert opened.sessions[0].closed.is_set()


async def test_wait_for_sessions(server: FakeDeepgram) -> None:
    """wait_for_sessions times out clearly when no session comes."""
    with pytest.raises(TimeoutError):
        await server.wait_for_sessions(1, timeout=0.05)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(listen_url(server), headers=auth_header()):
            await server.wait_for_sessions(1)
    await server.wait_for_sessions_closed()


async def test_latency_both_ways_delays_what_the_client_sends(
    server: FakeDeepgram,
) -> None:
    """With both_ways, Finalize is answered a full rtt (+ finalize) after it left."""
    server.latency = Latency(rtt=0.2, finalize=0.05, both_ways=True)
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as session:
        started = loop.time()
        async with session.ws_connect(listen_url(server), headers=auth_header()) as ws:
            assert loop.time() - started >= 0.19  # the upgrade: a full rtt
            await stream(ws, 1.0)
            sent_finalize = loop.time()
            await ws.send_str(FINALIZE)
            await read_until(ws, "Results")
            assert loop.time() - sent_finalize >= 0.24
            await ws.send_str(CLOSE_STREAM)
            rest = await read_until_closed(ws)
    assert rest[-1]["type"] == "Metadata"
    record = server.sessions[0]
    # Every frame was handled, in order.
    assert record.audio_bytes == 32000
    assert record.control_messages() == ["Finalize", "CloseStream"]
