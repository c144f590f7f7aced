"""`LiveSession` against the local fake Deepgram: the wire, timing and faults."""

from __future__ import annotations

import asyncio
import logging
import re
import time

import aiohttp
from aiohttp import web
import pytest

from custom_components.deepgram.api import (
    DeepgramAuthError,
    DeepgramBadRequestError,
    DeepgramConnectionError,
    DeepgramError,
    DeepgramPaymentRequiredError,
    DeepgramProtocolError,
    DeepgramServerError,
    DeepgramTimeoutError,
    Endpoint,
    ErrorMessage,
    LiveOptions,
    LiveSession,
    Metadata,
    Results,
    ServerMessage,
    SpeechStarted,
    Transcript,
    UtteranceEnd,
    live as live_module,
    socket as socket_module,
    stream as stream_module,
)
from tests.api_helpers import (
    BYTES_PER_SECOND,
    HANDSHAKE_REFUSALS,
    KEY,
    assert_secret_hidden,
    chunks,
    live,
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
    Segment,
    Word,
    script_from_text,
)
from tests.deepgram_server.testing import unused_port, wait_for

FRAME = 1600  # 50 ms, the default frame


@pytest.fixture
def server(deepgram_server: FakeDeepgram) -> FakeDeepgram:
    """The fake Deepgram with a script of six words in three final segments.

    Words of 0.2 s from 0.1 s: segments end at 0.5, 0.9 and 1.3 s of audio,
    so after 1.0 s of audio the first final (due at 0.8 s) has arrived and
    words four and five are pending.
    """
    deepgram_server.script = script_from_text(
        "turn on the kitchen light now", start=0.1, end=1.3, words_per_segment=2
    )
    return deepgram_server


async def send_and_finalize(session: LiveSession, audio: bytes) -> Transcript:
    """Send audio in 10 ms chunks, then finalize."""
    await send(session, audio)
    return await session.finalize(timeout=5)


# -- connecting ---------------------------------------------------------------


async def test_connect_sends_token_and_the_query(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The upgrade carries `Token <key>` and every option, lists repeated."""
    options = LiveOptions(
        language="en-US",
        punctuate=True,
        smart_format=False,
        interim_results=True,
        endpointing=300,
        utterance_end_ms=1000,
        vad_events=True,
        keyterms=("kitchen light", "C++ & Co. 100%"),
        tags=("ha", "voice"),
    )
    session = live(server, http, options)
    await session.connect()
    was_connected = session.connected
    await session.close()
    assert was_connected
    assert not session.connected

    [record] = server.sessions
    assert record.authorization == f"Token {KEY}"
    assert list(record.query.items()) == options.query()
    assert record.query.getall("keyterm") == ["kitchen light", "C++ & Co. 100%"]
    assert record.query.getall("tag") == ["ha", "voice"]
    assert record.query["endpointing"] == "300"
    assert record.query["interim_results"] == "true"
    assert server.handshakes[0].path == "/v1/listen"


async def test_self_hosted_without_a_key(
    socket_enabled: None, http: aiohttp.ClientSession
) -> None:
    """A keyless self-hosted Deepgram gets no Authorization header and works."""
    server = FakeDeepgram(api_key=None)
    await server.start()
    try:
        server.script = script_from_text("hello there", start=0.1, end=0.5)
        session = LiveSession(http, Endpoint(server.base_url), LiveOptions())
        await send(session, pcm(1.0))
        transcript = await session.finalize(timeout=5)
        await session.close()
        assert transcript.text == "hello there"
        assert "Authorization" not in server.sessions[0].headers
        assert session.stats.clean_close
    finally:
        await server.stop()


async def test_path_prefix_reaches_the_server(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A base URL given as ws:// with a trailing slash still reaches /v1/listen."""
    endpoint = Endpoint(server.base_url.replace("http://", "ws://") + "/", KEY)
    session = LiveSession(http, endpoint, LiveOptions())
    await session.connect()
    await session.close()
    assert server.sessions[0].closed_by == "server"
    assert session.stats.clean_close


# -- audio on the wire ---------------------------------------------------------


async def test_10ms_chunks_become_50ms_frames(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """320-byte chunks are coalesced into 1,600-byte frames, in order."""
    session = live(server, http)
    await session.connect()
    audio = pcm(1.03)
    await send(session, audio)
    [record] = server.sessions
    await wait_for(lambda: record.audio_bytes == 20 * FRAME)
    assert record.binary_frame_sizes() == [FRAME] * 20  # 960 bytes still held
    await session.finalize(timeout=5)
    await session.close()

    assert record.binary_frame_sizes() == [FRAME] * 20 + [960]
    assert wire_audio(record) == audio
    assert record.zero_length_frames == 0
    assert session.stats.audio_bytes == len(audio)
    assert session.stats.audio_frames == 21
    assert session.audio_seconds == pytest.approx(1.03)


async def test_frame_size_follows_frame_ms_and_large_chunks_are_split(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """`frame_ms=100` makes 3,200-byte frames; a 1 s chunk goes in 250 ms frames."""
    session = live(server, http, frame_ms=100)
    await session.connect()
    await send(session, pcm(0.2))
    await session.send_audio(pcm(1.0, seed=7))
    await session.close()
    [record] = server.sessions
    assert record.binary_frame_sizes() == [3200, 3200, 8000, 8000, 8000, 8000]
    assert wire_audio(record) == pcm(0.2) + pcm(1.0, seed=7)


async def test_empty_chunks_never_become_zero_length_frames(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """An empty chunk would end the stream at Deepgram: it is never sent."""
    session = live(server, http)
    await session.send_audio(b"")
    await session.connect()
    for chunk in chunks(pcm(0.2)):
        await session.send_audio(b"")
        await session.send_audio(chunk)
    await session.send_audio(b"")
    await session.finalize(timeout=5)
    await session.send_audio(b"")
    await session.close()
    [record] = server.sessions
    assert record.zero_length_frames == 0
    assert record.binary_frame_sizes() == [FRAME] * 4
    assert record.control_messages() == ["Finalize", "CloseStream"]
    assert session.stats.clean_close


async def test_nothing_is_held_back_at_finalize(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Audio below a frame is sent before `Finalize`, not after."""
    session = live(server, http)
    await session.connect()
    await send(session, pcm(0.07))  # one frame plus 640 bytes
    await session.finalize(timeout=5)
    await session.close()
    [record] = server.sessions
    kinds = [
        "audio" if frame.kind == "binary" else frame.control_type
        for frame in record.frames
    ]
    assert kinds == ["audio", "audio", "Finalize", "CloseStream"]
    assert record.binary_frame_sizes() == [FRAME, 640]


async def test_close_flushes_held_audio_before_close_stream(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """`close()` sends the held tail of the audio, then `CloseStream`."""
    session = live(server, http)
    await session.connect()
    await send(session, pcm(0.03))
    await session.close()
    [record] = server.sessions
    assert record.binary_frame_sizes() == [960]
    assert record.control_messages() == ["CloseStream"]


async def test_unknown_byte_rate_sends_each_chunk_as_it_comes(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Containerised audio (no encoding) has no frame size: nothing is held."""
    options = LiveOptions(encoding=None, sample_rate=None)
    session = live(server, http, options)
    await session.connect()
    await session.send_audio(b"\x01" * 100)
    await session.send_audio(b"\x02" * 100_000)
    [record] = server.sessions
    await wait_for(lambda: record.audio_bytes == 100_100)
    assert record.binary_frame_sizes() == [100, 65536, 100_000 - 65536]
    assert session.audio_seconds is None
    await session.close()
    assert "encoding" not in record.query
    assert "sample_rate" not in record.query


async def test_audio_sent_while_connecting_is_held_then_sent_in_order(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Audio queued during a slow handshake reaches the server, in order, after it."""
    server.latency = Latency(rtt=0.4)  # the handshake answer takes 0.2 s
    session = live(server, http)
    audio = pcm(1.0)
    session.start()
    for part in chunks(audio, 3200):
        await session.send_audio(part)
        await asyncio.sleep(0.005)
    assert not session.connected
    assert server.sessions == []
    await session.connect()
    transcript = await session.finalize(timeout=5)
    await session.close()

    [record] = server.sessions
    assert wire_audio(record) == audio
    assert all(0 < size <= 8000 for size in record.binary_frame_sizes())
    assert record.frames[0].kind == "binary"
    assert transcript.text == "turn on the kitchen light"


async def test_audio_before_start_starts_the_connection(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """`send_audio` alone opens the socket; the held audio follows it."""
    session = live(server, http)
    await send(session, pcm(0.5))
    await wait_for(lambda: bool(server.sessions) and server.sessions[0].audio_bytes > 0)
    await session.close()
    [record] = server.sessions
    assert wire_audio(record) == pcm(0.5)


async def test_held_audio_is_bounded(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """More than `max_buffer_seconds` held while connecting fails the session."""
    session = live(server, http, max_buffer_seconds=0.1)
    await session.send_audio(pcm(0.1))  # exactly the bound: fine
    with pytest.raises(
        DeepgramConnectionError,
        match=r"^Too much audio held while connecting to Deepgram$",
    ) as info:
        await session.send_audio(pcm(0.01))
    assert session.error is info.value
    with pytest.raises(DeepgramConnectionError, match="Too much audio"):
        await session.send_audio(pcm(0.01))
    with pytest.raises(DeepgramConnectionError, match="Too much audio"):
        await session.finalize(timeout=1)
    await session.close()  # never raises


async def test_held_audio_bound_for_an_unknown_byte_rate(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Without a byte rate, 1 MiB may be held while connecting, not more."""
    session = live(server, http, LiveOptions(encoding=None, sample_rate=None))
    await session.send_audio(b"\x00" * (1 << 20))
    with pytest.raises(DeepgramConnectionError, match="Too much audio"):
        await session.send_audio(b"\x00")
    await session.abort()


async def test_close_after_the_buffer_bound_still_ends_the_request(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Even after a client-side failure, the open socket is ended with CloseStream."""
    session = live(server, http, max_buffer_seconds=0.1)
    with pytest.raises(DeepgramConnectionError):
        await session.send_audio(pcm(0.2))
    await server.wait_for_sessions(1)
    await session.close(timeout=2)
    [record] = server.sessions
    assert record.got_close_stream
    assert record.closed_by == "server"


async def test_no_audio_is_sent_after_the_buffer_bound_failed_the_session(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Audio of a failed session is dropped, not sent (and billed) later."""
    session = live(server, http, max_buffer_seconds=0.1)
    try:
        with pytest.raises(DeepgramConnectionError):
            await session.send_audio(pcm(0.2))
        await server.wait_for_sessions(1)
    finally:
        await session.close(timeout=2)
    assert server.sessions[0].audio_bytes == 0


# -- KeepAlive --------------------------------------------------------------


async def test_keepalive_holds_an_idle_socket_open(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """KeepAlive while no audio flows: the server's idle close never comes."""
    server.idle_timeout = 0.4
    session = live(server, http, keepalive_interval=0.1)
    await session.connect()
    await send(session, pcm(0.2))
    await asyncio.sleep(1.2)  # three idle timeouts
    assert session.error is None
    assert session.connected
    [record] = server.sessions
    assert record.keepalive_count >= 3
    assert session.stats.keepalives == record.keepalive_count
    await session.send_audio(pcm(0.8, seed=3))
    transcript = await session.finalize(timeout=5)
    await session.close()
    assert transcript.text == "turn on the kitchen light"
    assert session.stats.clean_close
    frames = [f.kind for f in record.frames]
    assert "text" in frames[frames.index("binary") :]  # keepalives after audio


async def test_no_keepalive_after_close_stream(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """While waiting for a slow close, nothing follows CloseStream."""
    server.faults = Faults(never_close=True)
    session = live(server, http, keepalive_interval=0.1)
    await session.connect()
    await send(session, pcm(0.2))
    await session.close(timeout=0.6)
    controls = server.sessions[0].control_messages()
    assert controls[-1] == "CloseStream"


async def test_unexpected_connect_failure_is_a_deepgram_error(
    server: FakeDeepgram,
) -> None:
    """A closed HTTP session (Home Assistant stopping) fails cleanly."""
    http = aiohttp.ClientSession()
    await http.close()
    session = live(server, http)
    with pytest.raises(DeepgramConnectionError, match="The HTTP session is closed"):
        await session.connect()
    await session.abort()


async def test_no_keepalive_while_audio_flows(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Audio itself keeps the socket alive; KeepAlive is only for idle times."""
    session = live(server, http, keepalive_interval=0.5)
    await session.connect()
    for chunk in chunks(pcm(0.8), FRAME):
        await session.send_audio(chunk)
        await asyncio.sleep(0.02)
    await session.close()
    [record] = server.sessions
    assert record.keepalive_count == 0
    assert session.stats.keepalives == 0


async def test_keepalive_resumes_when_audio_stops_again(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Audio for several intervals, then silence: no KeepAlive while audio
    flows, KeepAlives again (holding the socket) once it stops."""
    server.idle_timeout = 0.5
    session = live(server, http, keepalive_interval=0.2)
    await session.connect()
    for chunk in chunks(pcm(0.8), FRAME):  # 0.8 s at real time: 4 intervals
        await session.send_audio(chunk)
        await asyncio.sleep(0.05)
    [record] = server.sessions
    assert record.keepalive_count == 0
    await asyncio.sleep(1.2)  # more than two idle timeouts
    assert session.error is None
    assert record.keepalive_count >= 3
    audio_end = max(i for i, f in enumerate(record.frames) if f.kind == "binary")
    assert all(f.kind == "binary" for f in record.frames[:audio_end])
    await session.close()
    assert session.stats.clean_close


async def test_without_keepalive_the_idle_server_closes_1011(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The idle close (1011 NET-0001) the KeepAlive prevents, made visible."""
    server.idle_timeout = 0.3
    session = live(server, http, keepalive_interval=30)
    await session.connect()
    await send(session, pcm(0.2))
    await wait_for(lambda: session.error is not None)
    error = session.error
    assert isinstance(error, DeepgramServerError)
    assert error.status == 1011
    assert error.reason == "NET-0001"
    assert not session.connected
    assert session.stats.close_code == 1011
    assert not session.stats.clean_close
    with pytest.raises(DeepgramServerError):
        await session.send_audio(pcm(0.1))
    await session.close()


async def test_keepalives_stop_when_the_server_ends_the_stream(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Once the socket is closed, no KeepAlive is attempted any more."""
    server.faults = Faults(close_1011_after_audio_seconds=0.1)
    session = live(server, http, keepalive_interval=0.05)
    await send(session, pcm(0.2))
    await wait_for(lambda: not session.connected and session.error is not None)
    await asyncio.sleep(0.2)
    count = session.stats.keepalives
    await asyncio.sleep(0.3)
    assert session.stats.keepalives == count
    assert server.sessions[0].keepalive_count <= count
    await session.close()


def test_keepalive_interval_beats_deepgram_idle_cutoff() -> None:
    """Deepgram closes a socket idle for 10 s (1011 NET-0001): the default
    interval leaves room for a KeepAlive that takes as long as a send may
    (the send timeout) and still arrives before that cutoff."""
    deepgram_idle_cutoff = FakeDeepgram().idle_timeout  # 10 s, as Deepgram
    assert deepgram_idle_cutoff == 10.0
    interval = live_module.DEFAULT_KEEPALIVE_INTERVAL
    assert interval > 0
    assert interval + stream_module.DEFAULT_SEND_TIMEOUT < deepgram_idle_cutoff


# -- Finalize ------------------------------------------------------------------


async def test_finalize_returns_every_final_segment_in_order(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The flushed result ends the wait; the text is all finals joined."""
    session = live(server, http)
    await session.connect()
    await send(session, pcm(1.0))
    started = time.monotonic()
    transcript = await session.finalize(timeout=10)
    assert time.monotonic() - started < 5  # answered, not timed out
    assert transcript is session.transcript
    assert transcript.text == "turn on the kitchen light"
    assert [r.transcript for r in transcript.finals] == ["turn on", "the kitchen light"]
    assert transcript.finals[-1].from_finalize
    assert not transcript.finals[0].from_finalize
    assert session.stats.finalize_answered
    assert session.stats.finalize_seconds is not None
    assert 0 <= session.stats.finalize_seconds < 5
    [record] = server.sessions
    assert session.request_id == record.request_id
    assert transcript.confidence == pytest.approx(0.99)
    await session.close()


async def test_finalize_waits_for_a_slow_answer(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A Finalize answer that takes 0.3 s is still waited for (within the bound)."""
    server.latency = Latency(finalize=0.3)
    session = live(server, http)
    await send(session, pcm(1.0))
    transcript = await session.finalize(timeout=5)
    assert transcript.text == "turn on the kitchen light"
    assert session.stats.finalize_answered
    assert session.stats.finalize_seconds is not None
    assert session.stats.finalize_seconds >= 0.25
    await session.close()


async def test_finalize_unanswered_returns_what_arrived_within_the_bound(
    server: FakeDeepgram, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """No answer to Finalize: the wait is bounded and the finals so far are kept."""
    caplog.set_level(logging.DEBUG)
    server.faults = Faults(stall_after_finalize=True)
    session = live(server, http)
    await session.connect()
    await send(session, pcm(1.0))
    await wait_for(lambda: bool(session.transcript.finals))
    started = time.monotonic()
    transcript = await session.finalize(timeout=0.3)
    assert time.monotonic() - started < 3
    assert transcript.text == "turn on"
    assert not session.stats.finalize_answered
    assert session.stats.finalize_seconds is None
    assert session.error is None
    assert "No answer to Finalize" in caplog.text
    await session.close(timeout=2)
    # CloseStream still collects the rest.
    assert session.transcript.text == "turn on the kitchen light"


async def test_finalize_silent_when_nothing_is_pending(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Deepgram may not answer Finalize at all after silence: bounded, empty."""
    server.script = []
    server.faults = Faults(finalize_silent_when_empty=True)
    session = live(server, http)
    await send(session, pcm(0.5))
    transcript = await session.finalize(timeout=0.2)
    assert transcript.text == ""
    assert transcript.confidence is None
    assert not session.stats.finalize_answered
    await session.close()
    assert session.stats.clean_close


async def test_empty_finalize_answer(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """An empty from_finalize result ends the wait with an empty transcript."""
    server.script = []
    session = live(server, http)
    await send(session, pcm(0.5))
    transcript = await session.finalize(timeout=5)
    assert session.stats.finalize_answered
    assert transcript.text == ""
    assert len(transcript.finals) == 1
    await session.close()


async def test_second_finalize_waits_for_its_own_answer(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Each Finalize waits for the result it flushes."""
    server.script = [
        Segment((Word("turn", 0.1, 0.3), Word("on", 0.3, 0.5))),
        Segment((Word("the", 1.1, 1.3), Word("light", 1.3, 1.5))),
    ]
    server.latency = Latency(finalize=0.2)
    session = live(server, http)
    try:
        await send(session, pcm(0.6))
        assert (await session.finalize(timeout=5)).text == "turn on"
        await send(session, pcm(1.0, seed=1))
        transcript = await session.finalize(timeout=5)
        assert transcript.text == "turn on the light"
    finally:
        await session.close()


async def test_finalize_of_a_session_used_on_its_own_connects_first(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """`finalize()` with no `start()` or audio before: it connects, then flushes."""
    session = live(server, http)
    transcript = await session.finalize(timeout=5)
    assert transcript.text == ""
    assert session.stats.finalize_answered
    assert server.sessions[0].got_finalize
    await session.close()
    assert session.stats.clean_close


# -- closing -------------------------------------------------------------------


async def test_close_sends_close_stream_and_waits_for_metadata_and_1000(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """CloseStream, the remaining results, Metadata, then the server's 1000."""
    messages: list[ServerMessage] = []
    session = live(server, http, on_message=messages.append)
    await session.connect()
    await send(session, pcm(1.0))
    await session.close(timeout=5)

    [record] = server.sessions
    assert record.control_messages() == ["CloseStream"]
    assert record.closed_by == "server"
    assert record.close_code == 1000
    # The words pending at CloseStream arrived before the close.
    assert session.transcript.text == "turn on the kitchen light"
    assert isinstance(messages[-1], Metadata)
    assert session.metadata == messages[-1]
    assert session.metadata.request_id == record.request_id
    assert session.metadata.duration == pytest.approx(1.0)
    assert session.metadata.model_names == ("nova-3",)
    assert session.request_id == record.request_id
    assert session.stats.close_code == 1000
    assert session.stats.clean_close
    assert session.error is None
    assert not session.connected


async def test_close_without_audio(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A session that never got audio still ends cleanly."""
    session = live(server, http)
    await session.connect()
    await session.close()
    [record] = server.sessions
    assert record.control_messages() == ["CloseStream"]
    assert record.closed_by == "server"
    assert session.metadata is not None
    assert session.stats.clean_close
    assert session.transcript.text == ""


async def test_close_twice_and_close_of_a_session_never_started(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Closing is idempotent; a session never started opens no socket."""
    unused = live(server, http)
    await unused.close()
    await unused.abort()
    assert server.handshakes == []

    session = live(server, http)
    await session.connect()
    await session.close()
    await session.close()
    await session.abort()
    assert server.sessions[0].control_messages() == ["CloseStream"]


async def test_close_and_abort_together_send_one_close_stream(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Overlapping close() and abort() end the request once, cleanly."""
    session = live(server, http)
    await send(session, pcm(1.0))
    await asyncio.gather(session.close(), session.abort())
    [record] = server.sessions
    assert record.control_messages() == ["CloseStream"]
    assert record.closed_by == "server"
    assert session.stats.clean_close
    assert session.transcript.text == "turn on the kitchen light"


async def test_sending_after_close_raises(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Audio after the end of the request is refused, not silently dropped."""
    session = live(server, http)
    await session.connect()
    await session.close()
    with pytest.raises(
        DeepgramConnectionError, match=r"^The Deepgram stream is closed$"
    ):
        await session.send_audio(pcm(0.1))
    with pytest.raises(
        DeepgramConnectionError, match=r"^The Deepgram stream is closed$"
    ):
        await session.finalize(timeout=1)
    assert server.sessions[0].binary_frame_sizes() == []


async def test_close_is_bounded_when_the_server_never_closes(
    server: FakeDeepgram, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """Metadata arrives but no close frame: close() gives up after its timeout."""
    caplog.set_level(logging.DEBUG)
    server.faults = Faults(never_close=True)
    session = live(server, http)
    await send(session, pcm(1.0))
    started = time.monotonic()
    await session.close(timeout=0.5)
    assert time.monotonic() - started < 4
    assert session.metadata is not None
    assert session.transcript.text == "turn on the kitchen light"
    assert not session.connected
    assert not session.stats.clean_close
    assert session.error is None
    assert "did not close within" in caplog.text
    [record] = server.sessions
    assert record.got_close_stream
    await server.wait_for_sessions_closed(timeout=3)
    assert record.closed_by == "client"


async def test_abort_sends_close_stream_and_returns_fast_on_a_stalled_server(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """abort() ends the request within about a second, also when nothing answers."""
    server.faults = Faults(never_close=True, stall_after_finalize=True)
    session = live(server, http)
    await send(session, pcm(1.0))
    await session.finalize(timeout=0.1)
    started = time.monotonic()
    await session.abort()
    assert time.monotonic() - started < 3
    assert not session.connected
    [record] = server.sessions
    assert record.control_messages() == ["Finalize", "CloseStream"]
    await server.wait_for_sessions_closed(timeout=3)


async def test_abort_does_not_flush_held_audio(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Cancellation drops the held tail: CloseStream goes out at once."""
    session = live(server, http)
    await session.connect()
    await send(session, pcm(0.03))
    await session.abort()
    [record] = server.sessions
    assert record.binary_frame_sizes() == []
    assert record.control_messages() == ["CloseStream"]
    assert session.stats.clean_close


async def test_abort_while_the_handshake_is_in_flight(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """abort() during a stalled handshake returns within its bound."""
    server.faults = Faults(stall_handshake=True)
    session = live(server, http, connect_timeout=30)
    await send(session, pcm(0.5))
    await wait_for(lambda: bool(server.handshakes))
    started = time.monotonic()
    await session.abort(timeout=0.3)
    assert time.monotonic() - started < 3
    assert not session.connected
    assert server.sessions == []
    assert server.handshakes[0].status == NO_ANSWER


async def test_abort_during_the_handshake_fails_a_waiting_connect_with_an_error(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A concurrent `connect()` ends with a `DeepgramError`, not CancelledError."""
    server.faults = Faults(stall_handshake=True)
    session = live(server, http, connect_timeout=30)
    waiter = asyncio.create_task(session.connect())
    await wait_for(lambda: bool(server.handshakes))
    await session.abort(timeout=0.2)
    with pytest.raises(DeepgramError, match=r"^The Deepgram session was aborted$"):
        await asyncio.wait_for(waiter, timeout=3)


# -- handshake failures ------------------------------------------------------


@pytest.mark.parametrize(("status", "cls"), HANDSHAKE_REFUSALS)
async def test_handshake_status_maps_to_its_error(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    status: int,
    cls: type[DeepgramError],
) -> None:
    """Each refused upgrade raises its typed error with dg-error and request id."""
    server.faults = Faults(handshake_status=status)
    session = live(server, http)
    with pytest.raises(cls) as info:
        await session.connect()
    error = info.value
    [handshake] = server.handshakes
    assert handshake.status == status
    assert error.status == status
    assert error.request_id == handshake.request_id
    assert error.reason  # Deepgram's dg-error header
    assert error.reason in str(error)
    assert session.error is error
    with pytest.raises(cls):
        await session.send_audio(pcm(0.1))
    with pytest.raises(cls):
        await session.finalize(timeout=1)
    await session.close()
    assert server.sessions == []


async def test_wrong_key_is_an_auth_error(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A wrong key is refused with 401 `Invalid credentials.`."""
    session = live(server, http, key="not-the-key")
    await session.send_audio(pcm(0.1))
    with pytest.raises(DeepgramAuthError) as info:
        await session.finalize(timeout=1)
    assert info.value.reason == "Invalid credentials."
    assert info.value.request_id == server.handshakes[0].request_id
    await session.close()


async def test_language_the_model_lacks_is_a_bad_request_naming_it(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """400 from the server names the parameter (dg-error)."""
    session = live(server, http, LiveOptions(model="nova-3", language="sw"))
    with pytest.raises(DeepgramBadRequestError) as info:
        await session.connect()
    assert info.value.reason is not None
    assert "language" in info.value.reason
    await session.close()


async def test_refused_connection(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A server that drops the connection is a connection error, not a timeout."""
    server.faults = Faults(refuse=True)
    session = live(server, http)
    with pytest.raises(DeepgramConnectionError) as info:
        await session.connect()
    assert not isinstance(info.value, DeepgramTimeoutError)
    assert str(info.value) == "127.0.0.1 closed the connection without an answer"
    await session.close()


async def test_nothing_listening(
    socket_enabled: None, http: aiohttp.ClientSession
) -> None:
    """No server at the address: a connection error at once."""
    endpoint = Endpoint(f"http://127.0.0.1:{unused_port()}", KEY)
    session = LiveSession(http, endpoint, LiveOptions(), connect_timeout=5)
    started = time.monotonic()
    with pytest.raises(DeepgramConnectionError) as info:
        await session.connect()
    assert time.monotonic() - started < 4
    assert not isinstance(info.value, DeepgramTimeoutError)
    await session.close()


async def test_stalled_handshake_times_out(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """No answer to the upgrade: `DeepgramTimeoutError` after `connect_timeout`."""
    server.faults = Faults(stall_handshake=True)
    session = live(server, http, connect_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(DeepgramTimeoutError, match="did not answer"):
        await session.connect()
    assert time.monotonic() - started < 3
    assert isinstance(session.error, DeepgramConnectionError)
    await session.close()


# -- failures mid-stream -----------------------------------------------------


async def test_close_1011_mid_stream_is_a_server_error(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """1011 NET-0000 ends the stream with `DeepgramServerError`."""
    server.faults = Faults(close_1011_after_audio_seconds=0.3)
    session = live(server, http)
    await session.connect()
    with pytest.raises(DeepgramServerError) as info:
        await send_and_finalize(session, pcm(2.0))
    error = info.value
    assert error.status == 1011
    assert error.reason == "NET-0000"
    assert session.error is error
    assert session.stats.close_code == 1011
    await session.close()
    assert server.sessions[0].closed_by == "server"


async def test_close_1008_mid_stream_is_a_protocol_error(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """1008 DATA-0000 (audio not decodable) ends with `DeepgramProtocolError`."""
    server.faults = Faults(close_1008_after_audio_seconds=0.2)
    session = live(server, http)
    await send(session, pcm(0.5))
    with pytest.raises(DeepgramProtocolError) as info:
        await session.finalize(timeout=5)
    assert info.value.status == 1008
    assert info.value.reason == "DATA-0000"
    await session.close()


async def test_close_error_carries_the_request_id_of_the_results(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """After a result arrived, a close error names the request id."""
    server.faults = Faults(close_1011_after_audio_seconds=1.0)
    session = live(server, http)
    await send(session, pcm(0.9))
    await wait_for(lambda: bool(session.transcript.finals))
    await send(session, pcm(0.2))
    await wait_for(lambda: session.error is not None)
    assert session.error is not None
    assert session.error.request_id == server.sessions[0].request_id
    await session.close()


async def test_close_error_before_any_result_carries_the_request_id(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The request id of the handshake identifies an early failure."""
    server.script = []
    server.faults = Faults(close_1011_after_audio_seconds=0.1)
    session = live(server, http)
    try:
        await send(session, pcm(0.2))
        await wait_for(lambda: session.error is not None)
        assert session.error is not None
        assert session.error.request_id == server.sessions[0].request_id
    finally:
        await session.close()


async def test_in_band_error(
    server: FakeDeepgram, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """An in-band Error fails the session with its description, and is logged."""
    messages: list[ServerMessage] = []
    server.faults = Faults(in_band_error=True)
    session = live(server, http, on_message=messages.append)
    await send(session, pcm(0.5))
    with pytest.raises(DeepgramServerError) as info:
        await session.finalize(timeout=5)
    assert info.value.reason == "Internal server error."
    assert str(info.value).startswith("Deepgram reported an error; ")
    assert "Deepgram session failed: Deepgram reported an error" in caplog.text
    assert [m for m in messages if isinstance(m, ErrorMessage)] == [
        ErrorMessage(
            description="Internal server error.",
            message="The server encountered an error while processing audio.",
            variant="INTERNAL_SERVER_ERROR",
        )
    ]
    # Logged at DEBUG only: the caller logs the failure once, as an error.
    said = [r for r in caplog.records if "Internal server error." in r.getMessage()]
    assert said
    assert all(r.levelno == logging.DEBUG for r in said)
    # The 1011 close that follows does not replace the more telling error.
    await wait_for(lambda: not session.connected)
    assert session.stats.close_code == 1011
    assert session.error is info.value
    await session.close()


async def test_server_vanishing_is_a_connection_error(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The server going away without a close code: `DeepgramConnectionError`."""
    session = live(server, http)
    await send(session, pcm(0.5))
    await server.wait_for_sessions(1)
    await wait_for(lambda: server.sessions[0].audio_bytes > 0)
    await server.stop()
    await wait_for(lambda: session.error is not None)
    error = session.error
    assert type(error) is DeepgramConnectionError
    assert error.request_id == server.sessions[0].request_id
    assert error.reason is None
    assert str(error).startswith("The Deepgram stream ended early")
    with pytest.raises(DeepgramConnectionError):
        await session.finalize(timeout=1)
    await session.close()


async def test_malformed_json_is_logged_and_survived(
    server: FakeDeepgram, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """A non-JSON frame is skipped with a warning; the session goes on."""
    server.faults = Faults(malformed_json=True)
    session = live(server, http)
    await send(session, pcm(1.0))
    transcript = await session.finalize(timeout=5)
    await session.close()
    assert transcript.text == "turn on the kitchen light"
    assert session.error is None
    assert session.stats.clean_close
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert re.fullmatch(
        r"Ignoring a malformed message from Deepgram \(Not JSON: .+\): "
        r"'\{this is not json'",
        warnings[0].getMessage(),
    ), warnings[0].getMessage()


async def test_unknown_message_type_is_ignored(
    server: FakeDeepgram, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """A message type from the future is skipped quietly."""
    caplog.set_level(logging.DEBUG)
    messages: list[ServerMessage] = []
    server.faults = Faults(unknown_message=True)
    session = live(server, http, on_message=messages.append)
    await send(session, pcm(1.0))
    transcript = await session.finalize(timeout=5)
    await session.close()
    assert transcript.text == "turn on the kitchen light"
    assert session.error is None
    assert None not in messages
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "unknown type" in caplog.text
    assert [r.transcript for r in messages if isinstance(r, Results)] == [
        "turn on",
        "the kitchen light",
    ]


# -- messages, stats and secrets ---------------------------------------------


async def test_on_message_sees_every_known_message_in_order(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Interim and final results, VAD events, UtteranceEnd, then Metadata."""
    server.script = [
        Segment((Word("turn", 0.2, 0.5), Word("on", 0.5, 0.8))),
        Segment((Word("the", 2.5, 2.8), Word("light", 2.8, 3.1))),
    ]
    options = LiveOptions(
        interim_results=True, endpointing=300, utterance_end_ms=1000, vad_events=True
    )
    messages: list[ServerMessage] = []
    session = live(server, http, options, on_message=messages.append)
    await send(session, pcm(4.5))
    await session.close(timeout=5)
    kinds = [
        type(m).__name__
        + (("-final" if m.is_final else "-interim") if isinstance(m, Results) else "")
        for m in messages
    ]
    assert kinds[0] == "SpeechStarted"
    assert kinds[-1] == "Metadata"
    assert "Results-interim" in kinds
    assert kinds.count("UtteranceEnd") == 2
    assert kinds.count("SpeechStarted") == 2
    assert kinds.index("UtteranceEnd") > kinds.index("Results-final")
    assert isinstance(messages[0], SpeechStarted)
    assert messages[0].timestamp == pytest.approx(0.2)
    ends = [m for m in messages if isinstance(m, UtteranceEnd)]
    assert ends[0].last_word_end == pytest.approx(0.8)
    finals = [m for m in messages if isinstance(m, Results) and m.is_final]
    assert [m.speech_final for m in finals if m.transcript] == [True, True]
    assert session.transcript.text == "turn on the light"


async def test_a_failing_on_message_callback_does_not_end_the_session(
    server: FakeDeepgram, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in the caller's callback must not break the transcription."""

    def callback(message: ServerMessage) -> None:
        raise RuntimeError("bug in the callback")

    session = live(server, http, on_message=callback)
    try:
        await send(session, pcm(1.0))
        transcript = await session.finalize(timeout=5)
        assert transcript.text == "turn on the kitchen light"
        assert session.error is None
        logged = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert logged
        assert logged[0].getMessage() == "Error in a Deepgram message callback"
        assert logged[0].exc_info is not None
    finally:
        await session.close()
        # Retrieve the receive task's exception here, so that no "Task
        # exception was never retrieved" is logged later, in another test.
        task = session._receive_task
        if task is not None and task.done() and not task.cancelled():
            task.exception()


async def test_session_stats(server: FakeDeepgram, http: aiohttp.ClientSession) -> None:
    """The stats tell what the session did."""
    session = live(server, http, keepalive_interval=0.05)
    await session.connect()
    await asyncio.sleep(0.3)
    await send(session, pcm(1.0))
    await session.finalize(timeout=5)
    await session.close()
    stats = session.stats
    [record] = server.sessions
    assert stats.connect_seconds is not None
    assert 0 < stats.connect_seconds < 5
    assert stats.audio_bytes == record.audio_bytes == BYTES_PER_SECOND
    assert stats.audio_frames == len(record.binary_frame_sizes()) == 20
    assert stats.keepalives == record.keepalive_count >= 2
    assert stats.finalize_answered
    assert stats.close_code == 1000
    assert stats.clean_close


async def test_the_key_never_shows_in_logs_errors_or_reprs(
    server: FakeDeepgram, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """A full session and failing ones log nothing of the key, at DEBUG."""
    caplog.set_level(logging.DEBUG)
    secret = "dg-secret-7f3a9c0e5b2d4168a0c1e2f3"
    server.api_key = secret
    ok = live(server, http, key=secret, keepalive_interval=0.05)
    await send(ok, pcm(1.0))
    await asyncio.sleep(0.2)
    await ok.finalize(timeout=5)
    await ok.close()
    assert ok.stats.clean_close

    errors: list[DeepgramError] = []
    for faults in (
        Faults(handshake_status=402),
        Faults(close_1011_after_audio_seconds=0.1),
        Faults(in_band_error=True),
        Faults(stall_handshake=True),
    ):
        server.faults = faults
        failing = live(server, http, key=secret, connect_timeout=0.2)
        await send(failing, pcm(0.5))
        with pytest.raises(DeepgramError) as info:
            await failing.finalize(timeout=2)
        errors.append(info.value)
        assert secret not in repr(failing)
        assert secret not in repr(failing.stats)
        await failing.close(timeout=1)
    server.faults = Faults()
    wrong = live(server, http, key=secret + "-wrong")
    with pytest.raises(DeepgramAuthError) as auth:
        await wrong.connect()
    errors.append(auth.value)
    await wrong.close()

    assert [type(e) for e in errors] == [
        DeepgramPaymentRequiredError,
        DeepgramServerError,
        DeepgramServerError,
        DeepgramTimeoutError,
        DeepgramAuthError,
    ]
    assert_secret_hidden(secret, errors, ok, log=caplog.text)
    assert "Connected to Deepgram at 127.0.0.1" in caplog.text  # DEBUG was on


# -- a hand-written server for what the fake one never does ------------------


async def test_binary_frames_from_the_server_are_ignored(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
) -> None:
    """A binary frame from the server does not disturb the session."""

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        await ws.send_bytes(b"\x00\x01")
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT and "CloseStream" in msg.data:
                await ws.send_str('{"type": "Metadata", "request_id": "r-1"}')
                await ws.close()

    base_url = await odd_server(websocket_route("/v1/listen", behaviour))
    session = LiveSession(http, Endpoint(base_url), LiveOptions())
    await session.connect()
    await session.close()
    assert session.error is None
    assert session.stats.clean_close
    assert session.request_id == "r-1"


async def test_server_close_1000_without_close_stream_is_early(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
) -> None:
    """A normal close the client did not ask for still ends the stream early."""

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        await ws.receive()
        await ws.close(code=1000, message=b"bye")

    base_url = await odd_server(websocket_route("/v1/listen", behaviour))
    session = LiveSession(http, Endpoint(base_url), LiveOptions())
    await session.send_audio(pcm(0.1))
    with pytest.raises(
        DeepgramConnectionError,
        match=r"^The Deepgram stream ended early \(close 1000\); reason: bye$",
    ) as info:
        await session.finalize(timeout=5)
    assert type(info.value) is DeepgramConnectionError
    assert info.value.status == 1000
    assert info.value.reason == "bye"
    assert not session.stats.clean_close
    await session.close()


async def test_server_that_stops_reading_times_the_send_out(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that stops reading: sending fails after the send timeout."""
    monkeypatch.setattr(socket_module, "DEFAULT_SEND_TIMEOUT", 0.3)
    stop = asyncio.Event()

    async def listen(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        ws.headers["dg-request-id"] = "r-3"
        await ws.prepare(request)
        await stop.wait()
        return ws

    base_url = await odd_server({"GET /v1/listen": listen})
    session = LiveSession(http, Endpoint(base_url), LiveOptions())
    await session.connect()
    try:
        with pytest.raises(
            DeepgramTimeoutError,
            match=r"^Deepgram stopped taking audio; request id: r-3$",
        ) as info:
            await send_until_it_fails(session)
        assert info.value.request_id == "r-3"
        assert session.error is info.value
        with pytest.raises(DeepgramTimeoutError):
            await session.send_audio(pcm(0.1))
        started = time.monotonic()
        await session.abort()
        assert time.monotonic() - started < 3
        assert not session.connected
    finally:
        stop.set()  # a failing check must not leave the server waiting


async def test_connection_lost_while_sending(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """The connection dropping under a blocked send is a connection error."""

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        await asyncio.sleep(0.5)  # not reading: the client's send blocks
        assert request.transport is not None
        request.transport.abort()

    base_url = await odd_server(websocket_route("/v1/listen", behaviour))
    session = LiveSession(http, Endpoint(base_url), LiveOptions())
    await session.connect()
    with pytest.raises(DeepgramConnectionError) as info:
        await send_until_it_fails(session)
    assert not isinstance(info.value, DeepgramTimeoutError)
    await session.close()


async def test_close_stream_still_sent_after_an_in_band_error(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """An in-band Error with the socket left open: close() still ends the request."""
    got: list[str] = []

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        await ws.send_str(
            '{"type": "Error", "description": "Bad things", "message": "x", '
            '"variant": "y"}'
        )
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                got.append(msg.data)
                if "CloseStream" in msg.data:
                    await ws.send_str('{"type": "Metadata", "request_id": "r-2"}')
                    await ws.close()

    base_url = await odd_server(websocket_route("/v1/listen", behaviour))
    session = LiveSession(http, Endpoint(base_url), LiveOptions())
    session.start()
    await wait_for(lambda: session.error is not None)
    assert session.connected
    assert isinstance(session.error, DeepgramServerError)
    assert session.error.reason == "Bad things"
    await session.close(timeout=3)
    assert got == ['{"type": "CloseStream"}']
    assert session.metadata is not None
    assert session.stats.close_code == 1000


async def test_in_band_error_ends_the_finalize_wait_at_once(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """An in-band Error with the socket left open: `finalize()` raises at
    once instead of waiting out its bound."""

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT and "Finalize" in msg.data:
                await ws.send_str(
                    '{"type": "Results", "is_final": false, "metadata": '
                    '{"request_id": "r-7"}, "channel": {"alternatives": '
                    '[{"transcript": "turn", "words": []}]}}'
                )
                await ws.send_str(
                    '{"type": "Error", "description": "Bad audio.", '
                    '"message": "The audio could not be decoded.", '
                    '"variant": "DATA-0000"}'
                )
            elif msg.type is aiohttp.WSMsgType.TEXT and "CloseStream" in msg.data:
                await ws.close()

    base_url = await odd_server(websocket_route("/v1/listen", behaviour))
    session = LiveSession(http, Endpoint(base_url), LiveOptions())
    await session.send_audio(pcm(0.1))
    started = time.monotonic()
    with pytest.raises(DeepgramServerError, match="reported an error") as info:
        await session.finalize(timeout=5)
    assert time.monotonic() - started < 1
    assert info.value.reason == "Bad audio."
    # No dg-request-id on this handshake: the id comes from the results.
    assert session.request_id == "r-7"
    assert info.value.request_id == "r-7"
    assert session.connected  # the server did not close: the error alone ended it
    await session.close()


async def test_server_pings_are_answered_and_do_not_end_the_stream(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """A WebSocket ping (from Deepgram or a proxy) is answered with a pong;
    the stream goes on."""
    pongs: list[bytes] = []

    async def listen(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        await ws.ping(b"still there?")
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.PONG:
                pongs.append(msg.data)
            elif msg.type is aiohttp.WSMsgType.TEXT and "CloseStream" in msg.data:
                await ws.send_str('{"type": "Metadata", "request_id": "r-2"}')
                await ws.close()
        return ws

    base_url = await odd_server({"GET /v1/listen": listen})
    session = LiveSession(http, Endpoint(base_url), LiveOptions())
    await session.connect()
    await wait_for(lambda: bool(pongs), timeout=2)
    assert pongs == [b"still there?"]
    await session.send_audio(pcm(0.1))
    await session.close()
    assert session.error is None
    assert session.stats.clean_close


async def test_session_tasks_are_named_and_all_gone_after_close(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The session's background tasks carry names (for Home Assistant's task
    dumps), and close() leaves none of them behind."""

    def session_tasks() -> set[str]:
        return {
            t.get_name()
            for t in asyncio.all_tasks()
            if t.get_name().startswith("deepgram ") and not t.done()
        }

    session = live(server, http)
    session.start()
    assert session_tasks() == {"deepgram /v1/listen connect"}
    await session.connect()
    await asyncio.sleep(0)
    assert session_tasks() == {
        "deepgram /v1/listen receive",
        "deepgram live keepalive",
    }
    await session.close()
    assert session_tasks() == set()


async def test_audio_held_while_connecting_goes_out_in_whole_frames(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Held audio is sent on connecting only as whole frames: exactly one
    frame goes at once, less than a frame waits for more audio."""
    server.latency = Latency(rtt=0.1)
    session = live(server, http)
    await send(session, pcm(0.05))  # held: exactly one 50 ms frame
    await session.connect()
    await wait_for(lambda: server.sessions[0].audio_bytes == FRAME)
    await send(session, pcm(0.03, seed=1))  # less than a frame: waits
    await asyncio.sleep(0.2)
    assert server.sessions[0].binary_frame_sizes() == [FRAME]
    await session.close()

    session = live(server, http)
    await send(session, pcm(0.03))  # held: less than a frame
    await session.connect()
    await asyncio.sleep(0.2)
    assert server.sessions[1].binary_frame_sizes() == []
    await session.close()
    assert server.sessions[1].binary_frame_sizes() == [960]
