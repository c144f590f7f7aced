"""The fake speak sockets' limits and faults: what a client must survive."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema  # type: ignore[import-untyped]
import pytest
from yarl import URL

from tests.deepgram_server import FakeDeepgram, Faults, Latency
from tests.deepgram_server.testing import (
    FLUSH,
    SPEAK_QUERY,
    SpeechEvent,
    auth_header,
    decode_speech,
    read_speech,
    speak,
    speak_url,
    speak_v2_url,
    speech_audio,
    speech_messages,
    speech_timeline,
    wait_for,
)

SCHEMA = json.loads(
    (Path(__file__).parent / "fixtures" / "speak_v1_messages.schema.json").read_text()
)
RATE = int(SPEAK_QUERY["sample_rate"])


def validated(events: list[SpeechEvent]) -> list[dict[str, Any]]:
    """The /v1/speak messages among ``events``, each checked against its schema."""
    messages = speech_messages(events)
    for message in messages:
        jsonschema.validate(message, SCHEMA["$defs"][message["type"]])
    return messages


async def connect(
    http: aiohttp.ClientSession, url: URL
) -> aiohttp.ClientWebSocketResponse:
    """Open a speak socket with the test key and read its greeting."""
    ws = await http.ws_connect(url, headers=auth_header())
    msg = await ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.TEXT
    return ws


async def ended_by_server(server: FakeDeepgram) -> tuple[str | None, int | None, str]:
    """How the first speak session ended: (ended, close code, reason)."""
    await server.wait_for_speak_sessions_closed()
    record = server.speak_sessions[0]
    return record.ended, record.close_code, record.close_reason


# -- /v1 limits ----------------------------------------------------------------


async def test_speak_over_2000_characters_closes_1008(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """2000 characters are taken; 2001 in one Speak close 1008 naming the limit."""
    ws = await connect(http, speak_url(deepgram_server))
    await ws.send_str(speak("a" * 1999 + "."))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "Flushed")
    assert decode_speech(speech_audio(events), RATE) == ["a" * 1999 + "."]
    await ws.close()
    ws = await connect(http, speak_url(deepgram_server))
    await ws.send_str(speak("b" * 2001))
    assert speech_timeline(await read_speech(ws)) == []
    assert ws.close_code == 1008
    record = deepgram_server.speak_sessions[1]
    await record.closed.wait()
    assert record.ended == "server"
    assert record.close_reason == "DATA-0000: Speak text over 2000 characters"


async def test_flush_limit_warns_and_skips_the_flush(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Past the Flush limit: a Warning, no Flushed, the text stays buffered."""
    deepgram_server.speak_flush_limit = 2
    deepgram_server.speak_limit_window = 0.5
    ws = await connect(http, speak_url(deepgram_server))
    for word in ("One.", "Two."):
        await ws.send_str(speak(word))
        await ws.send_str(FLUSH)
    events = await read_speech(ws, "Flushed")
    events += await read_speech(ws, "Flushed")
    await ws.send_str(speak("Three."))
    await ws.send_str(FLUSH)
    events += await read_speech(ws, "Warning")
    assert speech_timeline(events) == [
        "audio",
        "Flushed",
        "audio",
        "Flushed",
        "Warning",
    ]
    warning = validated(events)[-1]
    assert warning["code"] == "FLUSH_LIMIT_EXCEEDED"
    assert "2 Flush" in warning["description"]
    # Once the window has passed, a Flush speaks what was kept.
    await asyncio.sleep(0.6)
    await ws.send_str(FLUSH)
    after = await read_speech(ws, "Flushed")
    await ws.close()
    assert decode_speech(speech_audio(after), RATE) == ["Three."]
    assert validated(after) == [{"type": "Flushed", "sequence_id": 2}]


async def test_characters_per_window_drop_the_connection(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """More Speak characters in the window than the limit: close 1008."""
    deepgram_server.speak_char_limit = 30
    ws = await connect(http, speak_url(deepgram_server))
    await ws.send_str(speak("x" * 20))
    await ws.send_str(speak("y" * 11))
    assert speech_timeline(await read_speech(ws)) == []
    assert ws.close_code == 1008
    assert await ended_by_server(deepgram_server) == (
        "server",
        1008,
        "DATA-0000: over 30 characters in 60 s",
    )


async def test_characters_leave_the_window(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Characters older than the window no longer count."""
    deepgram_server.speak_char_limit = 30
    deepgram_server.speak_limit_window = 0.3
    ws = await connect(http, speak_url(deepgram_server))
    await ws.send_str(speak("Twenty characters.. "))
    await asyncio.sleep(0.4)
    await ws.send_str(speak("Twenty more chars..."))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "Flushed")
    await ws.close()
    assert decode_speech(speech_audio(events), RATE) == [
        "Twenty characters..",
        "Twenty more chars...",
    ]


# -- faults ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["v1", "v2"])
async def test_stall_sends_nothing(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession, path: str
) -> None:
    """``speak_stall``: no greeting, no audio, no answer; frames still recorded."""
    deepgram_server.faults = Faults(speak_stall=True)
    url = speak_url(deepgram_server) if path == "v1" else speak_v2_url(deepgram_server)
    ws = await http.ws_connect(url, headers=auth_header())
    await ws.send_str(speak("Hello."))
    await ws.send_str(FLUSH)
    await ws.send_str(json.dumps({"type": "Close"}))
    record = deepgram_server.speak_sessions[0]
    await wait_for(lambda: len(record.frames) == 3)
    with pytest.raises(TimeoutError):
        await ws.receive(timeout=0.3)
    await ws.close()
    await record.closed.wait()
    assert record.sent == []
    assert record.audio_bytes == 0
    assert record.ended == "close_frame"


@pytest.mark.parametrize(("path", "limit"), [("v1", 3001), ("v2", 3001), ("v1", 0)])
async def test_close_mid_message(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession, path: str, limit: int
) -> None:
    """``speak_close_after_audio_bytes``: exactly that much audio, then 1011."""
    deepgram_server.faults = Faults(speak_close_after_audio_bytes=limit)
    url = speak_url(deepgram_server) if path == "v1" else speak_v2_url(deepgram_server)
    ws = await connect(http, url)
    await ws.send_str(speak("A sentence that makes far more than three kB."))
    await ws.send_str(FLUSH)
    events = await read_speech(ws)
    assert ws.close_code == 1011
    assert len(speech_audio(events)) == limit
    assert "Flushed" not in speech_timeline(events)
    assert await ended_by_server(deepgram_server) == ("server", 1011, "NET-0000")
    assert deepgram_server.speak_sessions[0].audio_bytes == limit


async def test_warning_fault(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """``speak_warning``: one Warning at the first Speak; the session goes on."""
    deepgram_server.faults = Faults(speak_warning=("SOME_WARNING", "Be careful."))
    ws = await connect(http, speak_url(deepgram_server))
    await ws.send_str(speak("Hello."))
    await ws.send_str(FLUSH)
    await ws.send_str(speak("Again."))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "Flushed")
    events += await read_speech(ws, "Flushed")
    await ws.close()
    assert speech_timeline(events) == [
        "Warning",
        "audio",
        "Flushed",
        "audio",
        "Flushed",
    ]
    assert validated(events)[0] == {
        "type": "Warning",
        "description": "Be careful.",
        "code": "SOME_WARNING",
    }
    assert decode_speech(speech_audio(events), RATE) == ["Hello.", "Again."]


async def test_error_fault_on_v1_is_a_close(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """``speak_error`` on /v1 (no in-band Error): close 1011 with the code."""
    deepgram_server.faults = Faults(speak_error=("NET-0002", "Lost."))
    ws = await connect(http, speak_url(deepgram_server))
    await ws.send_str(speak("Hello."))
    assert await read_speech(ws) == []
    assert ws.close_code == 1011
    assert await ended_by_server(deepgram_server) == ("server", 1011, "NET-0002")


@pytest.mark.parametrize("path", ["v1", "v2"])
async def test_idle_timeout_closes_1011(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession, path: str
) -> None:
    """``speak_idle_timeout`` without text: close 1011 ``NET-0001``."""
    deepgram_server.speak_idle_timeout = 0.2
    url = speak_url(deepgram_server) if path == "v1" else speak_v2_url(deepgram_server)
    ws = await connect(http, url)
    assert await read_speech(ws) == []
    assert ws.close_code == 1011
    assert await ended_by_server(deepgram_server) == ("server", 1011, "NET-0001")


async def test_idle_timer_waits_for_audio_in_flight(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Audio still being sent is not idleness: the turn ends before the close."""
    deepgram_server.speak_idle_timeout = 0.3
    # 24 characters at 0.05 s, sent in real time: 1.2 s of audio.
    deepgram_server.latency = Latency(speak_seconds_per_char=0.05, speak_realtime=1.0)
    ws = await connect(http, speak_url(deepgram_server))
    await ws.send_str(speak("Twenty-four characters.."))
    await ws.send_str(FLUSH)
    events = await read_speech(ws)
    assert speech_timeline(events) == ["audio", "Flushed"]
    assert decode_speech(speech_audio(events), RATE) == ["Twenty-four characters.."]
    assert ws.close_code == 1011


async def test_client_vanishing_is_dropped(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A client gone without a close frame: ``dropped``."""
    ws = await connect(http, speak_url(deepgram_server))
    connection = ws._conn
    assert connection is not None
    assert connection.transport is not None
    connection.transport.abort()
    assert await ended_by_server(deepgram_server) == ("dropped", 1006, "")
    await ws.close()


async def test_audio_not_kept(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """``keep_audio = False``: audio is counted, not kept (soaks)."""
    deepgram_server.keep_audio = False
    ws = await connect(http, speak_url(deepgram_server))
    await ws.send_str(speak("Counted only."))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "Flushed")
    await ws.close()
    record = deepgram_server.speak_sessions[0]
    assert record.audio_bytes == len(speech_audio(events)) > 0
    assert record.audio == bytearray()
    assert record.pieces == ["Counted only."]


async def test_both_ways_latency_delays_what_the_client_sends(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """``both_ways``: frames are handled half a round trip after they arrive."""
    deepgram_server.latency = Latency(rtt=0.2, both_ways=True)
    ws = await connect(http, speak_url(deepgram_server))
    loop_time = asyncio.get_running_loop().time
    started = loop_time()
    await ws.send_str(speak("Later."))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "Flushed")
    await ws.close()
    assert loop_time() - started >= 0.2  # up 0.1, down 0.1 (lower bound only)
    assert decode_speech(speech_audio(events), RATE) == ["Later."]
