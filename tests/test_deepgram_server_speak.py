"""The fake Deepgram's ``/v1/speak``: handshake, buffered text, Flush, Clear, Close."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from yarl import URL

from tests.deepgram_server import FakeDeepgram, Faults, Latency
from tests.deepgram_server.testing import (
    CLEAR,
    CLOSE,
    FLUSH,
    SPEAK_QUERY,
    auth_header,
    decode_pieces,
    decode_speech,
    read_speech,
    speak,
    speak_url,
    speech_audio,
    speech_messages,
    speech_timeline,
    wait_for,
)

RATE = int(SPEAK_QUERY["sample_rate"])


async def connect(
    http: aiohttp.ClientSession, url: URL
) -> aiohttp.ClientWebSocketResponse:
    """Open a speak socket with the test key and read its ``Metadata``."""
    ws = await http.ws_connect(url, headers=auth_header())
    (metadata,) = await read_speech(ws, "Metadata")
    assert isinstance(metadata, dict)
    return ws


async def refusal(
    http: aiohttp.ClientSession, url: URL, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Status, headers and JSON body of a refused upgrade."""
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await http.ws_connect(
            url, headers=auth_header() if headers is None else headers
        )
    async with http.get(
        url,
        headers={
            **(auth_header() if headers is None else headers),
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    ) as resp:
        return resp.status, dict(resp.headers), await resp.json()


# -- handshake ---------------------------------------------------------------


async def test_metadata_names_the_voice(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The first message is Metadata: request id (= dg-request-id), the voice."""
    ws = await http.ws_connect(speak_url(deepgram_server), headers=auth_header())
    (metadata,) = speech_messages(await read_speech(ws, "Metadata"))
    await ws.close()
    record = deepgram_server.speak_sessions[0]
    assert metadata == {
        "type": "Metadata",
        "request_id": record.request_id,
        "model_name": "aura-2-thalia-en",
        "model_version": "2025-04-07.0",
        "model_uuid": metadata["model_uuid"],
    }
    assert ws._response.headers["dg-request-id"] == record.request_id
    assert record.authorization == "Token dg-test-key"
    assert deepgram_server.handshakes[-1].status == 101
    assert deepgram_server.sessions == []  # listen records stay apart


async def test_defaults_without_a_query(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """No query: aura-asteria-en, linear16 at 24000 Hz (the spec's defaults)."""
    ws = await connect(http, URL(deepgram_server.speak_url))
    await ws.send_str(speak("Hi."))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "Flushed")
    await ws.close()
    record = deepgram_server.speak_sessions[0]
    assert (record.encoding, record.sample_rate) == ("linear16", 24000)
    assert decode_speech(speech_audio(events), 24000) == ["Hi."]


async def test_bad_key_is_refused_401(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A wrong key or none: 401 with Deepgram's body; no session."""
    status, headers, body = await refusal(
        http, speak_url(deepgram_server), auth_header("wrong")
    )
    assert status == 401
    assert body["err_code"] == "INVALID_AUTH"
    assert body["request_id"] == headers["dg-request-id"]
    status, _, _ = await refusal(http, speak_url(deepgram_server), {})
    assert status == 401
    assert deepgram_server.speak_sessions == []


@pytest.mark.parametrize("status", [402, 403, 429, 500, 503])
async def test_handshake_status_faults(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession, status: int
) -> None:
    """The listen handshake faults answer a speak upgrade too (fault_plan, once)."""
    deepgram_server.fault_plan.append(Faults(handshake_status=status))
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(speak_url(deepgram_server), headers=auth_header())
    assert refused.value.status == status
    assert deepgram_server.handshakes[-1].status == status
    assert deepgram_server.handshakes[-1].path == "/v1/speak"
    ws = await connect(http, speak_url(deepgram_server))  # the plan is used up
    await ws.close()


async def test_refused_and_stalled_handshakes(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """``refuse`` drops the connection; ``stall_handshake`` never answers."""
    deepgram_server.faults = Faults(refuse=True)
    with pytest.raises(aiohttp.ClientError):
        await http.ws_connect(speak_url(deepgram_server), headers=auth_header())
    deepgram_server.faults = Faults(stall_handshake=True)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await http.ws_connect(speak_url(deepgram_server), headers=auth_header())
    assert {h.status for h in deepgram_server.handshakes} == {0}
    assert deepgram_server.speak_sessions == []


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"model": "aura-2-nobody-en"}, "model"),
        ({"model": "nova-3"}, "model"),
        ({"model": "flux-haley-en"}, "model"),
        ({"encoding": "opus"}, "encoding"),
        ({"encoding": "mp3"}, "encoding"),
        ({"sample_rate": "44100"}, "sample_rate"),
        ({"sample_rate": "22050"}, "sample_rate"),
        ({"sample_rate": "fast"}, "sample_rate"),
        ({"encoding": "mulaw", "sample_rate": "24000"}, "sample_rate"),
        ({"encoding": "alaw", "sample_rate": "48000"}, "sample_rate"),
        ({"speed": "0.6"}, "speed"),
        ({"speed": "1.6"}, "speed"),
        ({"speed": "nan"}, "speed"),
        ({"speed": "quick"}, "speed"),
        ({"expressivity": "1"}, "expressivity"),
        ({"mip_opt_out": "maybe"}, "mip_opt_out"),
        ({"tag": "t" * 129}, "tag"),
    ],
)
async def test_bad_parameters_are_refused_400(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    query: dict[str, str],
    parameter: str,
) -> None:
    """Each bad parameter: 400, ``dg-error`` and the body name it; no session."""
    status, headers, body = await refusal(http, speak_url(deepgram_server, **query))
    assert status == 400
    assert parameter in headers["dg-error"]
    assert parameter in json.dumps(body)
    assert deepgram_server.speak_sessions == []


@pytest.mark.parametrize(
    "query",
    [
        {"encoding": "mulaw", "sample_rate": "8000"},
        {"encoding": "alaw", "sample_rate": "16000"},
        {"sample_rate": "48000", "speed": "0.7"},
        {"sample_rate": "32000", "speed": "1.5", "mip_opt_out": "true"},
        {"model": "aura-asteria-en", "tag": "kitchen", "unknown_flag": "kept"},
    ],
)
async def test_good_parameters_are_taken(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession, query: dict[str, str]
) -> None:
    """Every format of the family speaks: what it sends decodes to the text."""
    ws = await connect(http, speak_url(deepgram_server, **query))
    await ws.send_str(speak("Turn on the kitchen light."))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "Flushed")
    await ws.close()
    record = deepgram_server.speak_sessions[0]
    assert record.encoding == query.get("encoding", "linear16")
    audio = speech_audio(events)
    assert audio == bytes(record.audio)
    assert decode_speech(audio, record.sample_rate, record.encoding) == [
        "Turn on the kitchen light."
    ]


# -- speaking ----------------------------------------------------------------


async def test_no_audio_before_flush(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Speak only buffers (sentence ends too); Flush speaks it, then Flushed."""
    ws = await connect(http, speak_url(deepgram_server))
    await ws.send_str(speak("Hello there. "))
    await ws.send_str(speak("How are you? I am"))
    record = deepgram_server.speak_sessions[0]
    await wait_for(lambda: len(record.frames) == 2)
    assert record.pieces == []
    assert record.audio_bytes == 0
    await ws.send_str(speak(" fine"))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "Flushed")
    assert speech_timeline(events) == ["audio", "Flushed"]
    assert speech_messages(events) == [{"type": "Flushed", "sequence_id": 0}]
    assert decode_speech(speech_audio(events), RATE) == [
        "Hello there.",
        "How are you?",
        "I am fine",
    ]
    assert record.pieces == ["Hello there.", "How are you?", "I am fine"]
    await ws.close()


async def test_each_flush_speaks_once_in_order(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Three flushes: each sentence once, in order, Flushed 0, 1, 2 after its audio."""
    ws = await connect(http, speak_url(deepgram_server))
    sentences = ["First sentence.", "Second one!", "And the third?"]
    events: list[Any] = []
    for sentence in sentences:
        await ws.send_str(speak(sentence))
        await ws.send_str(FLUSH)
    for _ in sentences:
        events += await read_speech(ws, "Flushed")
    await ws.close()
    assert speech_timeline(events) == ["audio", "Flushed"] * 3
    assert [m["sequence_id"] for m in speech_messages(events)] == [0, 1, 2]
    assert decode_speech(speech_audio(events), RATE) == sentences
    assert all(piece.complete for piece in decode_pieces(speech_audio(events), RATE))


async def test_flush_of_nothing_or_punctuation(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """An empty buffer or only punctuation: Flushed, no audio."""
    ws = await connect(http, speak_url(deepgram_server))
    await ws.send_str(FLUSH)
    await ws.send_str(speak(" ... !"))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "Flushed")
    events += await read_speech(ws, "Flushed")
    await ws.close()
    assert speech_timeline(events) == ["Flushed", "Flushed"]


async def test_frames_are_short(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Audio comes in frames of ``speak_frame_seconds`` at most (50 ms)."""
    deepgram_server.latency = Latency(speak_seconds_per_char=0.05)
    ws = await connect(http, speak_url(deepgram_server))
    await ws.send_str(speak("A sentence long enough for many frames."))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "Flushed")
    await ws.close()
    frames = [e for e in events if isinstance(e, bytes)]
    assert len(frames) > 10
    assert max(len(f) for f in frames) == round(0.05 * RATE) * 2
    assert deepgram_server.speak_sessions[0].audio_frames == len(frames)


async def test_speed_shortens_the_audio(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """``speed=1.5`` makes each piece two thirds as long."""
    deepgram_server.latency = Latency(speak_seconds_per_char=0.02)
    durations = []
    for speed in ("1.0", "1.5"):
        ws = await connect(http, speak_url(deepgram_server, speed=speed))
        await ws.send_str(speak("Exactly fifty characters of text in this sentence."))
        await ws.send_str(FLUSH)
        events = await read_speech(ws, "Flushed")
        await ws.close()
        (piece,) = decode_pieces(speech_audio(events), RATE)
        durations.append(piece.duration)
    assert durations[0] == pytest.approx(1.0)
    assert durations[1] == pytest.approx(1.0 / 1.5, abs=1e-3)


async def test_clear_drops_buffer_and_audio_in_flight(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Clear: Cleared at once, no more audio or Flushed of what was cleared."""
    # 100 characters at 0.05 s: 5 s of audio sent in real time.
    deepgram_server.latency = Latency(speak_seconds_per_char=0.05, speak_realtime=1.0)
    ws = await connect(http, speak_url(deepgram_server))
    await ws.send_str(speak("x" * 99 + "."))
    await ws.send_str(FLUSH)
    first = await ws.receive(timeout=5)
    assert first.type is aiohttp.WSMsgType.BINARY
    await ws.send_str(speak("Buffered, never flushed."))
    await ws.send_str(CLEAR)
    events = [first.data, *await read_speech(ws, "Cleared")]
    assert speech_messages(events) == [{"type": "Cleared", "sequence_id": 1}]
    cut = decode_pieces(speech_audio(events), RATE)
    assert [(p.text, p.complete) for p in cut] == [("x" * 99 + ".", False)]
    # What comes next is only the new text's audio and Flushed 2.
    await ws.send_str(speak("After the clear."))
    await ws.send_str(FLUSH)
    after = await read_speech(ws, "Flushed")
    await ws.close()
    assert speech_messages(after) == [{"type": "Flushed", "sequence_id": 2}]
    assert decode_speech(speech_audio(after), RATE) == ["After the clear."]
    record = deepgram_server.speak_sessions[0]
    assert record.pieces == ["x" * 99 + ".", "After the clear."]
    assert record.sent_types() == ["Metadata", "Cleared", "Flushed"]


async def test_close_message_closes_1000_at_once(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Close: close 1000 at once, audio not yet sent is dropped."""
    deepgram_server.latency = Latency(speak_seconds_per_char=0.05, speak_realtime=1.0)
    ws = await connect(http, speak_url(deepgram_server))
    await ws.send_str(speak("x" * 200))
    await ws.send_str(FLUSH)
    await ws.receive(timeout=5)  # the first frame
    await ws.send_str(CLOSE)
    events = await read_speech(ws)
    assert "Flushed" not in speech_timeline(events)
    assert ws.close_code == 1000
    await deepgram_server.wait_for_speak_sessions_closed()
    record = deepgram_server.speak_sessions[0]
    assert record.ended == "close_message"
    assert record.close_code == 1000
    assert record.audio_bytes < 2 * RATE * 10


async def test_client_close_frame(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A close frame from the client ends the session: ``close_frame``, its code."""
    ws = await connect(http, speak_url(deepgram_server))
    await ws.close(code=4000, message=b"bye")
    await deepgram_server.wait_for_speak_sessions_closed()
    record = deepgram_server.speak_sessions[0]
    assert record.ended == "close_frame"
    assert record.close_code == 4000


async def test_records_every_frame(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Text frames (odd ones too) and binary frames are recorded in order."""
    ws = await connect(http, speak_url(deepgram_server))
    await ws.send_str("{not json")
    await ws.send_str("[1, 2]")
    await ws.send_str(json.dumps({"type": "Speak", "text": 5}))
    await ws.send_bytes(b"\x00\x01")
    await ws.send_str(json.dumps({"type": "KeepAlive"}))
    await ws.send_str(speak("Still fine."))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "Flushed")
    await ws.close()
    record = deepgram_server.speak_sessions[0]
    assert record.control_messages() == [
        "<invalid>",
        "<invalid>",
        "Speak",
        "KeepAlive",
        "Speak",
        "Flush",
    ]
    assert [f.kind for f in record.frames].count("binary") == 1
    assert decode_speech(speech_audio(events), RATE) == ["Still fine."]


async def test_latency_delays_the_first_audio(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """``rtt`` and synthesis time come before the audio (a lower bound only)."""
    deepgram_server.latency = Latency(
        rtt=0.1, synthesis_base=0.2, synthesis_per_char=0.01
    )
    ws = await connect(http, speak_url(deepgram_server))
    await ws.send_str(speak("Ten chars."))
    await ws.send_str(FLUSH)
    loop_time = asyncio.get_running_loop().time
    started = loop_time()
    events = await read_speech(ws, "Flushed")
    await ws.close()
    assert loop_time() - started >= 0.2 + 0.1 + 0.05
    assert decode_speech(speech_audio(events), RATE) == ["Ten chars."]


async def test_waiters_and_stop(socket_enabled: None) -> None:
    """``wait_for_speak_sessions`` sees a session; ``stop()`` ends a live one."""
    server = FakeDeepgram()
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            ws = await connect(http, speak_url(server))
            await server.wait_for_speak_sessions(1)
            with pytest.raises(TimeoutError):
                await server.wait_for_speak_sessions(2, timeout=0.05)
            record = server.speak_sessions[0]
            assert len(record.sent_of_type("Metadata")) == 1
            assert not record.closed.is_set()
            await server.stop()
            assert record.closed.is_set()
            await read_speech(ws)
            assert ws.closed
    finally:
        await server.stop()
