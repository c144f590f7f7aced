"""`FluxSpeakSession` (`/v2/speak`) and `speak_reply` against the fake Deepgram."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json
import logging
import math
import time

import aiohttp
from aiohttp import web
import pytest

from custom_components.deepgram.api import DeepgramError, Endpoint
from custom_components.deepgram.api.errors import (
    DeepgramBadRequestError,
    DeepgramConnectionError,
    DeepgramOptionsError,
    DeepgramServerError,
    DeepgramTimeoutError,
)
from custom_components.deepgram.api.flux_speak import FluxSpeakSession
from custom_components.deepgram.api.speak_messages import SpeakV2Connected
from custom_components.deepgram.api.speak_options import SpeakOptions
from custom_components.deepgram.api.speak_reply import speak_reply
from tests.api_helpers import KEY, websocket_route
from tests.conftest import OddServer
from tests.deepgram_server import FakeDeepgram, Faults, Latency
from tests.deepgram_server.testing import auth_header, decode_speech, speak_v2_url
from tests.speak_helpers import (
    RATE,
    REPLY,
    SENTENCES,
    collect,
    deltas,
    record_of,
    speak_session,
    speak_texts,
    spoken,
)

VOICE = "flux-haley-en"


def flux_speak(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    *,
    key: str | None = None,
    **kwargs: float,
) -> FluxSpeakSession:
    """A Flux TTS session to the fake server at 16 kHz."""
    return speak_session(FluxSpeakSession, VOICE, server, http, key=key, **kwargs)


# -- a reply -----------------------------------------------------------------


async def test_reply_sent_as_written_spoken_once_in_order_and_closed(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Each 40-character delta is one `Speak` as it comes; one `Flush` at the
    end, `Close` last; every sentence heard once, in order; close 1000."""
    session = flux_speak(deepgram_server, http)
    audio = await spoken(session, deltas(REPLY))
    assert decode_speech(audio, RATE) == SENTENCES
    record = record_of(deepgram_server)
    await asyncio.wait_for(record.closed.wait(), 5)
    assert record.path == "/v2/speak"
    assert record.query["model"] == VOICE
    assert record.query["encoding"] == "linear16"
    assert record.query["sample_rate"] == str(RATE)
    assert record.ended == "close_message"
    speaks = math.ceil(len(REPLY) / 40)
    assert record.control_messages() == ["Speak"] * speaks + ["Flush", "Close"]
    assert speak_texts(record) == [REPLY[i : i + 40] for i in range(0, len(REPLY), 40)]
    assert session.complete
    assert not session.silent
    assert session.stats.clean_close
    assert session.stats.close_code == 1000
    assert session.stats.characters == len(REPLY)
    assert session.stats.flushes == 1
    assert session.stats.warnings == 0
    assert session.stats.audio_bytes == len(audio)
    assert session.stats.audio_frames >= len(SENTENCES)
    assert session.audio_seconds == pytest.approx(len(audio) / (RATE * 2))
    assert isinstance(session.connected_message, SpeakV2Connected)
    assert session.connected_message.model_name == VOICE
    assert session.request_id == record.request_id
    assert session.last_speech is not None
    assert session.last_speech.input_character_count == len(REPLY)
    assert session.last_speech.audio_duration_ms == pytest.approx(
        1000 * session.audio_seconds, abs=1
    )


async def test_first_sentence_heard_before_the_reply_ends(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Text goes as it is written, before any `Flush`: the first sentence's
    audio arrives while the agent is still writing, and its `Speak` reached
    Deepgram before the reply ended."""
    session = flux_speak(deepgram_server, http)
    written = asyncio.Event()
    ended_at = 0.0

    async def slow() -> AsyncIterator[str]:
        nonlocal ended_at
        yield "The kitchen light is on. "
        await asyncio.sleep(0.5)
        yield "Anything else?"
        ended_at = time.monotonic()
        written.set()

    audio = bytearray()
    first_audio_before_end = None
    async for chunk in speak_reply(session, slow()):
        if first_audio_before_end is None:
            first_audio_before_end = not written.is_set()
        audio += chunk
    await session.close()
    assert first_audio_before_end is True
    assert decode_speech(bytes(audio), RATE) == [SENTENCES[0], SENTENCES[2]]
    # Flux speaks without a Flush: first audio is timed from the first text.
    first_audio = session.stats.first_audio_seconds
    assert first_audio is not None
    assert 0 <= first_audio < 0.5
    record = record_of(deepgram_server)
    first_speak = next(f for f in record.frames if f.control_type == "Speak")
    assert first_speak.at < ended_at
    flush = next(f for f in record.frames if f.control_type == "Flush")
    assert flush.at >= ended_at


async def test_long_reply_in_speaks_of_at_most_2000_characters(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A 5000-character delta goes as several `Speak`s of at most 2000
    characters, cut after a space; nothing dropped, order kept."""
    sentences = [
        f"Sentence number {i} says something worth hearing about item {i}."
        for i in range(80)
    ]
    reply = " ".join(sentences)
    assert len(reply) >= 5000
    session = flux_speak(deepgram_server, http, first_audio_timeout=30.0)
    audio = await spoken(session, deltas(reply, size=len(reply)))
    assert decode_speech(audio, RATE) == sentences
    record = record_of(deepgram_server)
    texts = speak_texts(record)
    assert len(texts) == 3
    assert max(len(text) for text in texts) <= 2000
    assert all(text.endswith(" ") for text in texts[:-1])
    assert "".join(texts) == reply
    assert record.control_messages()[-2:] == ["Flush", "Close"]


@pytest.mark.parametrize("reply", ["...!?", "  ", "— …"])
async def test_nothing_to_speak_ends_silent_without_hanging(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession, reply: str
) -> None:
    """Only punctuation or whitespace: Deepgram warns `NO_SYNTHESIZABLE_TEXT`
    and ends the turn with no audio; the reply ends at once, silent, and
    nothing is logged as a warning."""
    session = flux_speak(deepgram_server, http)
    audio = await asyncio.wait_for(spoken(session, deltas(reply)), 5)
    assert audio == b""
    assert session.silent
    assert session.complete
    assert session.stats.warnings == 0
    record = record_of(deepgram_server)
    await asyncio.wait_for(record.closed.wait(), 5)
    assert "NO_SYNTHESIZABLE_TEXT" in [m.get("code") for m in record.sent]
    assert record.ended == "close_message"
    assert session.stats.clean_close


async def test_empty_reply_ends_at_once_with_no_audio(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """No text at all: no `Speak`, no `Flush`, no socket opened for it; a
    socket opened ahead only gets `Close`."""
    session = flux_speak(deepgram_server, http)
    assert await asyncio.wait_for(spoken(session, deltas("")), 5) == b""
    assert deepgram_server.speak_sessions == []

    opened = flux_speak(deepgram_server, http)
    await opened.connect()
    await opened.send_text("")  # nothing to send
    await opened.flush()  # nothing to flush
    assert await asyncio.wait_for(spoken(opened, deltas("")), 5) == b""
    record = record_of(deepgram_server)
    await asyncio.wait_for(record.closed.wait(), 5)
    assert record.control_messages() == ["Close"]


# -- errors and warnings -----------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("MESSAGE-0000", DeepgramBadRequestError),
        ("DATA-0000", DeepgramBadRequestError),
        ("DATA-0002", DeepgramBadRequestError),
        ("BIG-0000", DeepgramServerError),
        ("NET-0000", DeepgramServerError),
        ("NET-0004", DeepgramServerError),
    ],
)
async def test_in_band_error_is_typed_and_scrubbed(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    code: str,
    error: type[DeepgramError],
) -> None:
    """An `Error` fails the reply: what was sent was refused (MESSAGE-, DATA-)
    or Deepgram failed (BIG-, NET-); its reason, scrubbed of the key, is
    kept; nothing is logged above debug, and the key nowhere."""
    caplog.set_level(logging.DEBUG)
    deepgram_server.faults = Faults(speak_error=(code, f"went wrong {KEY}"))
    session = flux_speak(deepgram_server, http)
    with pytest.raises(DeepgramError) as caught:
        await spoken(session, deltas(REPLY))
    assert type(caught.value) is error
    assert f"{code} went wrong" in str(caught.value)
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value)
    assert KEY not in caplog.text
    assert session.error is caught.value
    loud = [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("custom_components")
    ]
    assert loud == []
    failed = [r for r in caplog.records if "Deepgram session failed" in r.message]
    assert len(failed) == 1


async def test_warning_is_logged_and_the_speech_goes_on(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A warning other than NO_SYNTHESIZABLE_TEXT: one log line, scrubbed."""
    deepgram_server.faults = Faults(
        speak_warning=("SYNTHESIS_RETRYING", f"retrying {KEY}")
    )
    session = flux_speak(deepgram_server, http)
    audio = await spoken(session, deltas(REPLY))
    assert decode_speech(audio, RATE) == SENTENCES
    assert session.stats.warnings == 1
    assert not session.silent
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1
    assert "SYNTHESIS_RETRYING retrying" in warned[0].getMessage()
    assert KEY not in caplog.text


# -- bounds ------------------------------------------------------------------


async def test_first_audio_bound_and_close_sent(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Deepgram silent after the handshake: a typed error within the first
    audio bound of the `Flush`; the abort sends `Interrupt` and `Close` (no
    `Clear` on v2)."""
    deepgram_server.faults = Faults(speak_stall=True)
    session = flux_speak(deepgram_server, http, first_audio_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(DeepgramTimeoutError, match=r"no audio within 0\.3 s"):
        await collect(session, deltas(REPLY))
    assert time.monotonic() - started < 3
    await session.abort()
    record = record_of(deepgram_server)
    await asyncio.wait_for(record.closed.wait(), 5)
    assert record.control_messages()[-3:] == ["Flush", "Interrupt", "Close"]
    assert "Clear" not in record.control_messages()


async def test_frame_gap_bound(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Audio that stops mid-message after the `Flush` (the next sentence
    takes 2.5 s to synthesise) ends within the gap bound, not the
    first-audio bound."""
    deepgram_server.latency = Latency(synthesis_per_char=0.05)
    session = flux_speak(
        deepgram_server, http, first_audio_timeout=5.0, frame_gap_timeout=0.3
    )
    started = time.monotonic()
    audio = bytearray()
    with pytest.raises(DeepgramTimeoutError, match=r"stopped for 0\.3 s"):
        await collect(session, deltas(REPLY), audio)
    assert time.monotonic() - started < 4
    assert decode_speech(bytes(audio), RATE) == SENTENCES[:1]
    await session.abort()


async def test_aura_voice_refused_before_connecting_and_by_the_server(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """An Aura voice is refused by the client before any socket; sent raw
    to `/v2/speak`, Deepgram refuses it at the handshake."""
    endpoint = Endpoint(deepgram_server.base_url, KEY)
    with pytest.raises(DeepgramOptionsError, match="/v1/speak"):
        FluxSpeakSession(http, endpoint, SpeakOptions(model="aura-2-thalia-en"))
    assert deepgram_server.speak_sessions == []
    url = speak_v2_url(deepgram_server, model="aura-2-thalia-en")
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await http.ws_connect(url, headers=auth_header(deepgram_server.api_key or ""))
    assert caught.value.status == 400
    assert deepgram_server.speak_sessions == []


# -- stopping early ----------------------------------------------------------


async def test_abort_mid_message_closes_within_a_second(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The listener stops early: `Interrupt`, `Close` (no `Clear` on v2), gone within a
    second."""
    deepgram_server.latency = Latency(speak_realtime=1.0)  # 1 s of audio a second
    session = flux_speak(deepgram_server, http)
    reader = speak_reply(session, deltas(REPLY))
    first = await anext(reader)
    assert first
    await reader.aclose()
    started = time.monotonic()
    await session.abort()
    assert time.monotonic() - started < 1.5
    record = record_of(deepgram_server)
    await asyncio.wait_for(record.closed.wait(), 5)
    assert record.control_messages()[-2:] == ["Interrupt", "Close"]
    assert "Clear" not in record.control_messages()
    assert not session.connected
    assert isinstance(session.error, DeepgramConnectionError)


async def test_cancelled_consumer_then_abort(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A consumer cancelled mid-reply; its abort still sends `Close`, at once."""
    deepgram_server.latency = Latency(speak_realtime=1.0)
    session = flux_speak(deepgram_server, http)
    heard = asyncio.Event()

    async def consume() -> None:
        try:
            async for _ in speak_reply(session, deltas(REPLY)):
                heard.set()
        finally:
            await session.abort()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(heard.wait(), 5)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 1.5
    record = record_of(deepgram_server)
    await asyncio.wait_for(record.closed.wait(), 5)
    assert record.control_messages()[-2:] == ["Interrupt", "Close"]
    assert "Clear" not in record.control_messages()
    assert not session.connected


async def test_failing_text_source_ends_the_audio_with_its_error(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The agent's text fails mid-reply: the audio ends with that error."""
    session = flux_speak(deepgram_server, http)

    async def broken() -> AsyncIterator[str]:
        yield "The kitchen light is on. "
        raise RuntimeError("the agent failed")

    with pytest.raises(RuntimeError, match="the agent failed"):
        await collect(session, broken())
    await session.abort()
    record = record_of(deepgram_server)
    await asyncio.wait_for(record.closed.wait(), 5)
    assert record.control_messages() == ["Speak", "Interrupt", "Close"]


# -- a hand-written server ---------------------------------------------------


async def test_odd_messages_are_skipped_and_the_turn_completes(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A malformed frame, an unknown type and Deepgram's informational
    messages are skipped; a `SpeechMetadata` before any `Flush` ends
    nothing; the one after it completes the message."""

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        await ws.send_str(json.dumps({"type": "Connected", "request_id": KEY}))
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            kind = json.loads(msg.data)["type"]
            if kind == "Speak":
                await ws.send_str(json.dumps({"type": "SpeechMetadata"}))
                await ws.send_str("not json")
                await ws.send_str('{"type": "Novel"}')
                await ws.send_str('{"type": "SpeechStarted", "speech_id": "s"}')
                await ws.send_bytes(b"")  # no audio: not counted
                await ws.send_bytes(b"\x00\x01" * 100)
            elif kind == "Flush":
                await ws.send_str('{"type": "Flushed", "speech_id": "s"}')
                await ws.send_str('{"type": "SpeechMetadata", "speech_id": "s"}')
            elif kind == "Close":
                await ws.send_str('{"type": "SessionMetadata"}')
                await ws.close()

    endpoint = Endpoint(await odd_server(websocket_route("/v2/speak", behaviour)), KEY)
    session = FluxSpeakSession(http, endpoint, SpeakOptions(model=VOICE))
    audio = await asyncio.wait_for(spoken(session, deltas("Hello there.")), 5)
    assert audio == b"\x00\x01" * 100
    assert session.stats.audio_frames == 1
    assert session.complete
    assert session.stats.clean_close
    assert session.last_speech is not None
    assert session.last_speech.speech_id == "s"
    # A request id echoing the key is not kept as it came.
    assert session.request_id is not None
    assert KEY not in session.request_id
    assert KEY not in caplog.text
