"""`AuraSession` (`/v1/speak`) and `speak_reply` against the local fake Deepgram."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json
import time

import aiohttp
from aiohttp import web
import pytest

from custom_components.deepgram.api import Endpoint, speak_socket
from custom_components.deepgram.api.aura import AuraSession
from custom_components.deepgram.api.errors import (
    DeepgramConnectionError,
    DeepgramOptionsError,
    DeepgramProtocolError,
    DeepgramServerError,
    DeepgramTimeoutError,
)
from custom_components.deepgram.api.flux_speak import FluxSpeakSession
from custom_components.deepgram.api.speak_options import SpeakOptions
from custom_components.deepgram.api.speak_reply import speak_reply, split_text
from custom_components.deepgram.api.speak_schedule import SpeakBudget, SpeakSchedule
from custom_components.deepgram.api.speak_socket import SpeakSocket
from tests.api_helpers import KEY, websocket_route
from tests.conftest import OddServer
from tests.deepgram_server import FakeDeepgram, Faults, Latency
from tests.deepgram_server.testing import decode_speech
from tests.speak_helpers import (
    RATE,
    REPLY,
    SENTENCES,
    collect,
    deltas,
    record_of,
    speak_session,
    spoken,
)


def aura(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    *,
    key: str | None = None,
    **kwargs: float,
) -> AuraSession:
    """An Aura-2 session to the fake server at 16 kHz."""
    return speak_session(
        AuraSession, "aura-2-thalia-en", server, http, key=key, **kwargs
    )


async def test_reply_spoken_once_in_order_and_closed(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Every sentence is heard once, in order; the first one flushed alone;
    the socket ends with `Close` and Deepgram's close 1000."""
    session = aura(deepgram_server, http)
    audio = await spoken(session, deltas(REPLY))
    assert decode_speech(audio, RATE) == SENTENCES
    record = record_of(deepgram_server)
    await asyncio.wait_for(record.closed.wait(), 5)
    assert record.ended == "close_message"
    assert session.stats.clean_close
    types = record.control_messages()
    assert types[:2] == ["Speak", "Flush"]
    assert types[-2:] == ["Flush", "Close"]
    first = record.frames[0].data
    assert isinstance(first, str)
    assert "The kitchen light is on." in first
    assert "It was" not in first
    assert session.stats.characters == len(REPLY)
    assert session.stats.first_audio_seconds is not None
    assert session.audio_seconds == pytest.approx(len(audio) / (RATE * 2))


async def test_first_sentence_heard_before_the_reply_ends(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The first sentence's audio arrives while the agent is still writing."""
    session = aura(deepgram_server, http)
    written = asyncio.Event()

    async def slow() -> AsyncIterator[str]:
        yield "The kitchen light is on. "
        await asyncio.sleep(0.5)
        yield "Anything else?"
        written.set()

    first_audio_before_end = None
    async for _chunk in speak_reply(session, slow()):
        if first_audio_before_end is None:
            first_audio_before_end = not written.is_set()
    await session.close()
    assert first_audio_before_end is True


async def test_long_reply_within_deepgram_limits(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A 5000-character reply in 40-character deltas: no Speak over 2000
    characters, at most 20 Flush and 2400 characters in any window (the
    window scaled down to 3 s at the server, 3.5 s at the client, which keeps
    a margin), nothing dropped, order kept,
    the first sentence flushed alone; Deepgram never warns or closes."""
    window = 3.0
    deepgram_server.speak_limit_window = window
    sentences = [
        f"Sentence number {i} says something worth hearing about item {i}."
        for i in range(80)
    ]
    reply = " ".join(sentences)
    assert len(reply) >= 5000
    session = aura(deepgram_server, http, first_audio_timeout=30.0)
    # The client keeps a margin over the server's window: frames reach the
    # server a little late on a loaded machine, which would squeeze its window.
    schedule = SpeakSchedule(SpeakBudget(window=window + 0.5))
    audio = bytearray()
    async for chunk in speak_reply(session, deltas(reply), schedule=schedule):
        audio += chunk
    await session.close()
    record = record_of(deepgram_server)
    assert record.ended == "close_message", record.close_reason
    assert not record.sent_of_type("Warning")
    assert decode_speech(bytes(audio), RATE) == sentences
    speaks = [
        (frame.at, frame.data)
        for frame in record.frames
        if frame.control_type == "Speak" and isinstance(frame.data, str)
    ]
    texts = [json.loads(data)["text"] for _, data in speaks]
    assert max(len(text) for text in texts) <= 2000
    assert "".join(texts).strip() == reply
    assert texts[0].strip() == sentences[0]
    flushes = [f.at for f in record.frames if f.control_type == "Flush"]
    margin = 0.0  # the server's own window, as it counts
    for at in flushes:
        assert sum(1 for t in flushes if at <= t < at + window - margin) <= 20
    for at, _ in speaks:
        in_window = sum(
            len(text)
            for (t, _), text in zip(speaks, texts, strict=True)
            if at <= t < at + window - margin
        )
        assert in_window <= 2400


async def test_empty_reply_ends_at_once_with_no_audio(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A reply of only whitespace speaks nothing and ends without waiting:
    no socket at all, unless one was opened ahead, which gets `Close`."""
    session = aura(deepgram_server, http)
    audio = await asyncio.wait_for(spoken(session, deltas("   \n ")), 5)
    assert audio == b""
    assert deepgram_server.speak_sessions == []

    opened = aura(deepgram_server, http)
    await opened.connect()
    audio = await asyncio.wait_for(spoken(opened, deltas("   ")), 5)
    assert audio == b""
    record = record_of(deepgram_server)
    await asyncio.wait_for(record.closed.wait(), 5)
    assert record.control_messages() == ["Close"]
    assert record.ended == "close_message"


async def test_first_audio_bound_and_close_sent(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Deepgram silent after the handshake: a typed error within the first
    audio bound, and the socket still ends with `Close`."""
    deepgram_server.faults = Faults(speak_stall=True)
    session = aura(deepgram_server, http, first_audio_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(DeepgramTimeoutError, match=r"no audio within 0\.3 s"):
        await collect(session, deltas(REPLY))
    assert time.monotonic() - started < 3
    await session.abort()
    record = record_of(deepgram_server)
    await asyncio.wait_for(record.closed.wait(), 5)
    assert record.control_messages()[-2:] == ["Clear", "Close"]
    # Deepgram never closed: the client closed the socket after Close.


async def test_frame_gap_bound(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Audio that slows to a trickle mid-message (a 50 ms frame a second)
    ends within the gap bound, not the first-audio bound."""
    deepgram_server.latency = Latency(speak_realtime=0.05)
    session = aura(
        deepgram_server, http, first_audio_timeout=5.0, frame_gap_timeout=0.3
    )
    started = time.monotonic()
    audio = bytearray()
    with pytest.raises(DeepgramTimeoutError, match=r"stopped for 0\.3 s"):
        await collect(session, deltas(REPLY), audio)
    assert time.monotonic() - started < 3
    assert audio
    await session.abort()


async def test_abort_mid_message_clears_then_closes_within_a_second(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The listener stops early: `Clear`, `Close`, gone within a second; no
    audio for the cleared text is handed out afterwards."""
    deepgram_server.latency = Latency(speak_realtime=1.0)  # 1 s of audio a second
    session = aura(deepgram_server, http)
    reader = speak_reply(session, deltas(REPLY))
    first = await anext(reader)
    assert first
    await reader.aclose()
    started = time.monotonic()
    await session.abort()
    assert time.monotonic() - started < 1.5
    record = record_of(deepgram_server)
    await asyncio.wait_for(record.closed.wait(), 5)
    assert record.control_messages()[-2:] == ["Clear", "Close"]
    assert not session.connected


async def test_cancelled_consumer_then_abort(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A consumer cancelled mid-reply; its abort still sends Clear and Close."""
    deepgram_server.latency = Latency(speak_realtime=1.0)
    session = aura(deepgram_server, http)

    async def consume() -> None:
        try:
            async for _ in speak_reply(session, deltas(REPLY)):
                pass
        finally:
            await session.abort()

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    record = record_of(deepgram_server)
    await asyncio.wait_for(record.closed.wait(), 5)
    assert record.control_messages()[-2:] == ["Clear", "Close"]


async def test_failing_text_source_ends_the_audio_with_its_error(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The agent's text fails mid-reply: the audio ends with that error."""
    session = aura(deepgram_server, http)

    async def broken() -> AsyncIterator[str]:
        yield "The kitchen light is on. "
        raise RuntimeError("the agent failed")

    with pytest.raises(RuntimeError, match="the agent failed"):
        await collect(session, broken())
    await session.abort()
    record = record_of(deepgram_server)
    await asyncio.wait_for(record.closed.wait(), 5)
    assert record.control_messages()[-1] == "Close"


async def test_clear_ends_the_message(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """`clear()` stops the audio of what was flushed; `Cleared` is awaited by
    nothing, and the socket closes cleanly afterwards."""
    deepgram_server.latency = Latency(speak_realtime=1.0)
    session = aura(deepgram_server, http)
    await session.send_text("A long sentence that takes a while to say. " * 5)
    await session.flush()
    chunks = session.audio()
    await anext(chunks)
    await session.clear()
    rest = [chunk async for chunk in chunks]
    assert rest == []
    assert session.complete
    await session.close()
    record = record_of(deepgram_server)
    await asyncio.wait_for(record.closed.wait(), 5)
    assert record.sent_of_type("Cleared")
    assert record.control_messages()[-2:] == ["Clear", "Close"]


async def test_flux_voice_refused_on_v1(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A session for one path refuses options of the other before connecting."""
    endpoint = Endpoint(deepgram_server.base_url, "k")
    with pytest.raises(DeepgramOptionsError, match="/v2/speak"):
        AuraSession(http, endpoint, SpeakOptions(model="flux-haley-en"))
    assert not deepgram_server.speak_sessions


async def test_text_over_a_speak_is_refused_before_sending(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    session = aura(deepgram_server, http)
    with pytest.raises(DeepgramOptionsError, match="2000"):
        await session.send_text("x" * 2001)
    await session.close()


async def test_abort_error_reaches_a_waiting_reader(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A reader waiting for audio when the socket is aborted gets the abort."""
    deepgram_server.faults = Faults(speak_stall=True)
    session = aura(deepgram_server, http)
    await session.send_text("Hello.")
    await session.flush()

    async def read() -> None:
        async for _ in session.audio():
            pass

    reader = asyncio.create_task(read())
    await asyncio.sleep(0.1)
    await session.abort()
    with pytest.raises(DeepgramConnectionError, match="aborted"):
        await reader


def test_split_text() -> None:
    """Pieces of at most the limit, cut after a space, joined back whole."""
    text = "word " * 10 + "x" * 30
    pieces = list(split_text(text, 12))
    assert "".join(pieces) == text
    assert all(len(piece) <= 12 for piece in pieces)
    assert pieces[0] == "word word "
    assert list(split_text("", 5)) == []


async def test_warning_is_logged_and_the_speech_goes_on(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    deepgram_server.faults = Faults(speak_warning=("SOME_WARNING", "be careful"))
    session = aura(deepgram_server, http)
    audio = await spoken(session, deltas(REPLY))
    assert decode_speech(audio, RATE) == SENTENCES
    assert session.stats.warnings == 1
    assert "SOME_WARNING be careful" in caplog.text


# -- a hand-written server ---------------------------------------------------


async def test_odd_messages_then_an_in_band_error(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A malformed frame and an unknown type are noted and skipped; an
    `Error` (which `/v1/speak` does not specify) still fails the message,
    scrubbed of the key."""

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT and "Flush" in msg.data:
                await ws.send_str("not json")
                await ws.send_str('{"type": "Novel"}')
                await ws.send_bytes(b"\x00\x01" * 100)
                await ws.send_str(
                    json.dumps(
                        {"type": "Error", "code": "X-1", "description": f"bad {KEY}"}
                    )
                )
            elif msg.type is aiohttp.WSMsgType.TEXT and "Close" in msg.data:
                await ws.close()

    endpoint = Endpoint(await odd_server(websocket_route("/v1/speak", behaviour)), KEY)
    session = AuraSession(http, endpoint, SpeakOptions())
    audio = bytearray()
    with pytest.raises(DeepgramServerError) as caught:
        await collect(session, deltas("Hello there."), audio)
    await session.close()
    assert audio == b"\x00\x01" * 100
    assert "X-1 bad" in str(caught.value)
    assert KEY not in str(caught.value)
    assert KEY not in caplog.text
    assert session.stats.clean_close


# -- review findings ----------------------------------------------------------


async def test_abort_ends_a_reader_at_once_without_more_audio(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A reader still reading when the socket is aborted gets the abort's
    error next, not the audio held or still coming."""
    deepgram_server.latency = Latency(speak_realtime=5.0)
    session = aura(deepgram_server, http)
    await session.send_text("A long sentence that takes a while to say. " * 5)
    await session.flush()
    chunks = session.audio()
    await anext(chunks)
    await asyncio.sleep(0.3)  # audio piles up unread meanwhile
    await session.abort()
    with pytest.raises(DeepgramConnectionError, match="aborted"):
        await anext(chunks)


async def test_unread_audio_is_bounded(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reader that stops reading (or a server that floods) ends the message
    with a clear error once too much audio waits, the held audio let go."""
    monkeypatch.setattr(speak_socket, "MAX_UNREAD_SECONDS", 1)
    session = aura(deepgram_server, http)
    await session.send_text("A long sentence that takes a while to say. " * 20)
    await session.flush()
    with pytest.raises(DeepgramProtocolError, match="unread"):
        await asyncio.wait_for(session.wait_failed(), 5)
    assert not session._audio
    await session.abort()


async def test_one_message_per_socket(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A second reply on a finished socket is refused, not silently empty."""
    session = aura(deepgram_server, http)
    await collect(session, deltas("Hello there."))
    with pytest.raises(RuntimeError, match="one message"):
        await collect(session, deltas("Again."))
    await session.close()


@pytest.mark.parametrize(
    ("kind", "model"),
    [(AuraSession, "aura-2-thalia-en"), (FluxSpeakSession, "flux-haley-en")],
)
async def test_a_text_source_slow_to_stop_does_not_hold_the_caller(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    kind: type[SpeakSocket],
    model: str,
) -> None:
    """Closing the audio early stops the text source within about a second,
    however long the source takes to stop (Flux reads the source in the
    feeder itself, Aura in a task of its own)."""
    session = speak_session(kind, model, deepgram_server, http)

    async def stubborn() -> AsyncIterator[str]:
        yield "The kitchen light is on. "
        try:
            await asyncio.sleep(30)
        finally:
            await asyncio.shield(asyncio.sleep(2.5))
        yield "never"

    reader = speak_reply(session, stubborn())
    await anext(reader)
    started = time.monotonic()
    await reader.aclose()
    assert time.monotonic() - started < 2
    await session.abort()
    await asyncio.sleep(2.6)  # the source, let go, ends before the test does
