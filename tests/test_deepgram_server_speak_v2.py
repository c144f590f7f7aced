"""The fake Deepgram's ``/v2/speak`` (Flux TTS): handshake, turns, sentence ends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema  # type: ignore[import-untyped]
import pytest
from yarl import URL

from tests.deepgram_server import FakeDeepgram, Faults, Latency
from tests.deepgram_server.testing import (
    CLOSE,
    FLUSH,
    SPEAK_V2_QUERY,
    SpeechEvent,
    auth_header,
    decode_pieces,
    decode_speech,
    read_speech,
    speak,
    speak_v2_url,
    speech_audio,
    speech_messages,
    speech_timeline,
    wait_for,
)

SCHEMA = json.loads(
    (Path(__file__).parent / "fixtures" / "speak_v2_messages.schema.json").read_text()
)
RATE = int(SPEAK_V2_QUERY["sample_rate"])
TURN_END = ["Flushed", "SpeechMetadata"]


def validated(events: list[SpeechEvent]) -> list[dict[str, Any]]:
    """The messages among ``events``, each checked against its schema."""
    messages = speech_messages(events)
    for message in messages:
        jsonschema.validate(message, SCHEMA["$defs"][message["type"]])
    return messages


async def connect(
    http: aiohttp.ClientSession, url: URL
) -> aiohttp.ClientWebSocketResponse:
    """Open a ``/v2/speak`` socket with the test key and read ``Connected``."""
    ws = await http.ws_connect(url, headers=auth_header())
    validated(await read_speech(ws, "Connected"))
    return ws


async def refused(
    http: aiohttp.ClientSession, url: URL
) -> tuple[int, str, dict[str, Any]]:
    """Status, ``dg-error`` and body of a refused upgrade."""
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await http.ws_connect(url, headers=auth_header())
    async with http.get(
        url,
        headers={
            **auth_header(),
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    ) as resp:
        return resp.status, resp.headers["dg-error"], await resp.json()


# -- handshake ---------------------------------------------------------------


async def test_connected_names_the_voice(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """``Connected`` first: request id, the Flux voice, its uuids (schema-valid)."""
    ws = await http.ws_connect(speak_v2_url(deepgram_server), headers=auth_header())
    (connected,) = validated(await read_speech(ws, "Connected"))
    await ws.close()
    record = deepgram_server.speak_sessions[0]
    assert record.path == "/v2/speak"
    assert connected["request_id"] == record.request_id
    assert connected["model_name"] == "flux-haley-en"
    assert len(connected["model_uuids"]) == 1


async def test_bad_key_is_refused_401(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A wrong key: 401 at the handshake."""
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await http.ws_connect(
            speak_v2_url(deepgram_server), headers=auth_header("wrong")
        )
    assert caught.value.status == 401


async def test_aura_model_is_refused(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """An Aura voice on /v2/speak: 400 ``V1_MODEL_ON_V2_SPEAK_ENDPOINT``."""
    status, dg_error, body = await refused(
        http, speak_v2_url(deepgram_server, model="aura-2-thalia-en")
    )
    assert status == 400
    assert body["err_code"] == "V1_MODEL_ON_V2_SPEAK_ENDPOINT"
    assert "aura-2-thalia-en" in dg_error


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"model": "flux-nobody-en"}, "model"),
        ({"model": "flux-general-en"}, "model"),
        ({"model": ""}, "model"),
        ({"container": "wav"}, "container"),
        ({"bit_rate": "48000"}, "bit_rate"),
        ({"callback": "http://example.com"}, "callback"),
        ({"encoding": "opus"}, "encoding"),
        ({"sample_rate": "22050"}, "sample_rate"),
        ({"encoding": "mulaw", "sample_rate": "24000"}, "sample_rate"),
        ({"speed": "0.45"}, "speed"),
        ({"speed": "1.55"}, "speed"),
        ({"speed": "0.52"}, "speed"),
        ({"expressivity": "3"}, "expressivity"),
        ({"expressivity": "-3"}, "expressivity"),
        ({"expressivity": "1.5"}, "expressivity"),
        ({"mip_opt_out": "1"}, "mip_opt_out"),
    ],
)
async def test_bad_parameters_are_refused_400(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    query: dict[str, str],
    parameter: str,
) -> None:
    """Each bad or unknown parameter: 400 naming it; no session."""
    url = speak_v2_url(deepgram_server, **query)
    if query.get("model") == "":
        url = url.without_query_params("model")
    status, dg_error, body = await refused(http, url)
    assert status == 400
    assert parameter in dg_error
    assert parameter in json.dumps(body)
    assert deepgram_server.speak_sessions == []


@pytest.mark.parametrize(
    "query",
    [
        {"sample_rate": "44100"},
        {"encoding": "mulaw", "sample_rate": "8000"},
        {"encoding": "alaw", "sample_rate": "16000"},
        {"speed": "0.55", "expressivity": "-2"},
        {"speed": "1.5", "expressivity": "2", "tag": "kitchen", "mip_opt_out": "true"},
    ],
)
async def test_good_parameters_are_taken(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession, query: dict[str, str]
) -> None:
    """Every format of the family speaks: what it sends decodes to the text."""
    ws = await connect(http, speak_v2_url(deepgram_server, **query))
    await ws.send_str(speak("Turn on the kitchen light."))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "SpeechMetadata")
    await ws.close()
    record = deepgram_server.speak_sessions[0]
    assert decode_speech(speech_audio(events), record.sample_rate, record.encoding) == [
        "Turn on the kitchen light."
    ]


# -- turns -------------------------------------------------------------------


async def test_sentences_are_spoken_before_flush(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A sentence is spoken once it ends; Flush speaks the rest and ends the turn."""
    ws = await connect(http, speak_v2_url(deepgram_server))
    await ws.send_str(speak("Hello there. How"))
    before = await read_speech(ws, "SpeechStarted")
    record = deepgram_server.speak_sessions[0]
    await wait_for(lambda: record.audio_bytes > 0)
    assert record.pieces == ["Hello there."]
    await ws.send_str(speak(" are you?"))
    await ws.send_str(FLUSH)
    events = before + await read_speech(ws, "SpeechMetadata")
    await ws.close()
    assert speech_timeline(events) == ["SpeechStarted", "audio", *TURN_END]
    started, flushed, metadata = validated(events)
    speech_id = started["speech_id"]
    assert speech_id.startswith("dg_sp_")
    assert len(speech_id) == len("dg_sp_") + 12
    assert flushed == {"type": "Flushed", "speech_id": speech_id}
    audio = speech_audio(events)
    assert decode_speech(audio, RATE) == ["Hello there.", "How are you?"]
    assert metadata == {
        "type": "SpeechMetadata",
        "speech_id": speech_id,
        "audio_duration_ms": round(len(audio) / 2 / RATE * 1000),
        "input_character_count": len("Hello there. How are you?"),
        "billable_character_count": len("Hello there. How are you?"),
        "controls_applied": {
            "pronunciations_applied": 0,
            "breaks_applied": 0,
            "pronunciation_warnings": 0,
        },
    }


async def test_streamed_tokens_become_sentences(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Token by token, the sentences are spoken whole, each once, in order."""
    ws = await connect(http, speak_v2_url(deepgram_server))
    tokens = ["Turn", " on", " the", " light", ".", " It", " costs", " 3", ".", "5"]
    tokens += [" euros", ".", " Bye", "!"]
    for token in tokens:
        await ws.send_str(speak(token))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "SpeechMetadata")
    await ws.close()
    assert decode_speech(speech_audio(events), RATE) == [
        "Turn on the light.",
        "It costs 3.5 euros.",
        "Bye!",
    ]
    assert speech_timeline(events) == ["SpeechStarted", "audio", *TURN_END]


async def test_turns_follow_each_other(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A turn sent before the last one is spoken waits behind it; new speech_id."""
    ws = await connect(http, speak_v2_url(deepgram_server))
    await ws.send_str(speak("First turn."))
    await ws.send_str(FLUSH)
    await ws.send_str(speak("Second turn."))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "SpeechMetadata")
    events += await read_speech(ws, "SpeechMetadata")
    await ws.close()
    turn = ["SpeechStarted", "audio", *TURN_END]
    assert speech_timeline(events) == turn + turn
    ids = [m["speech_id"] for m in validated(events)]
    assert len(set(ids)) == 2
    assert ids == [ids[0]] * 3 + [ids[3]] * 3
    assert decode_speech(speech_audio(events), RATE) == ["First turn.", "Second turn."]


async def test_turn_without_words(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Only whitespace/punctuation: NO_SYNTHESIZABLE_TEXT and a zero SpeechMetadata."""
    ws = await connect(http, speak_v2_url(deepgram_server))
    await ws.send_str(speak(" ... ?! \n"))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "SpeechMetadata")
    await ws.close()
    assert speech_timeline(events) == ["Warning", *TURN_END]
    warning, _, metadata = validated(events)
    assert warning["code"] == "NO_SYNTHESIZABLE_TEXT"
    assert metadata["audio_duration_ms"] == 0
    assert metadata["input_character_count"] == len(" ... ?! \n")
    assert metadata["billable_character_count"] == len(" ... ?! ")  # no newline


async def test_flush_without_a_turn(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Flush with no turn open: Warning NO_ACTIVE_SPEECH and nothing else."""
    ws = await connect(http, speak_v2_url(deepgram_server))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "Warning")
    await ws.send_str(CLOSE)
    events += await read_speech(ws)
    assert speech_timeline(events) == ["Warning", "SessionMetadata"]
    assert validated(events)[0]["code"] == "NO_ACTIVE_SPEECH"


async def test_close_sends_session_metadata(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Close: spoken audio still goes out, then SessionMetadata and close 1000."""
    ws = await connect(http, speak_v2_url(deepgram_server))
    await ws.send_str(speak("One turn."))
    await ws.send_str(FLUSH)
    await ws.send_str(speak("Spoken at once. Never ended"))
    await ws.send_str(CLOSE)
    events = await read_speech(ws)
    assert ws.close_code == 1000
    assert speech_timeline(events) == [
        "SpeechStarted",
        "audio",
        *TURN_END,
        "SpeechStarted",
        "audio",
        "SessionMetadata",
    ]
    audio = speech_audio(events)
    assert decode_speech(audio, RATE) == ["One turn.", "Spoken at once."]
    session = validated(events)[-1]
    assert session == {
        "type": "SessionMetadata",
        "total_audio_duration_ms": round(len(audio) / 2 / RATE * 1000),
        "total_input_character_count": len("One turn.Spoken at once. Never ended"),
        "total_billable_character_count": len("One turn.Spoken at once. Never ended"),
    }
    await deepgram_server.wait_for_speak_sessions_closed()
    record = deepgram_server.speak_sessions[0]
    assert record.ended == "close_message"
    assert record.close_code == 1000
    assert record.spoken() == ["One turn.", "Spoken at once."]


async def test_g711_turn_reads_back(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """mulaw at 8000 Hz: one byte a sample, whole pieces, texts read back."""
    ws = await connect(
        http, speak_v2_url(deepgram_server, encoding="mulaw", sample_rate="8000")
    )
    await ws.send_str(speak("Ça marche. Très bien."))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "SpeechMetadata")
    await ws.close()
    audio = speech_audio(events)
    pieces = decode_pieces(audio, 8000, "mulaw")
    assert [(p.text, p.complete) for p in pieces] == [
        ("Ça marche.", True),
        ("Très bien.", True),
    ]
    metadata = validated(events)[-1]
    assert metadata["audio_duration_ms"] == round(len(audio) / 8000 * 1000)


async def test_unknown_messages_are_recorded_only(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Unknown types and binary frames: recorded, no answer, the turn goes on."""
    ws = await connect(http, speak_v2_url(deepgram_server))
    await ws.send_str(json.dumps({"type": "SomethingNew"}))
    await ws.send_bytes(b"\x00")
    await ws.send_str(speak("Still here."))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "SpeechMetadata")
    await ws.close()
    assert speech_timeline(events) == ["SpeechStarted", "audio", *TURN_END]
    record = deepgram_server.speak_sessions[0]
    assert record.control_messages() == ["SomethingNew", "Speak", "Flush"]


async def test_in_band_error_fault(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """``speak_error``: Error {code, description} at the first Speak, close 1011."""
    deepgram_server.faults = Faults(speak_error=("BIG-0000", "Synthesis failed."))
    ws = await connect(http, speak_v2_url(deepgram_server))
    await ws.send_str(speak("Doomed."))
    events = await read_speech(ws)
    assert validated(events) == [
        {"type": "Error", "code": "BIG-0000", "description": "Synthesis failed."}
    ]
    assert ws.close_code == 1011
    await deepgram_server.wait_for_speak_sessions_closed()
    record = deepgram_server.speak_sessions[0]
    assert (record.ended, record.close_reason) == ("server", "BIG-0000")
    assert record.pieces == []


# -- GA surface: Interrupt, Configure --------------------------------------------


async def test_interrupt_stops_the_turn(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Interrupt: no more audio of the turn, SpeechInterrupted says what was heard."""
    # 0.02 s a character in real time: the first sentence lasts 0.42 s.
    deepgram_server.latency = Latency(speak_seconds_per_char=0.02, speak_realtime=1.0)
    ws = await connect(http, speak_v2_url(deepgram_server))
    first = "First sentence here."
    second = "The second sentence is a lot longer than the first one was."
    await ws.send_str(speak(f"{first} {second} And an open end"))
    record = deepgram_server.speak_sessions[0]
    first_bytes = 2 * round((0.02 * len(first) + 0.02) * RATE)
    await wait_for(lambda: record.audio_bytes > first_bytes + 3200)
    await ws.send_str(json.dumps({"type": "Interrupt"}))
    events = await read_speech(ws, "SpeechInterrupted")
    assert speech_timeline(events) == ["SpeechStarted", "audio", "SpeechInterrupted"]
    started, interrupted = validated(events)
    heard_ms = len(speech_audio(events)) / 2 / RATE * 1000
    assert interrupted["text_spoken"] == first
    assert interrupted["text_remaining"] == f"{second} And an open end"
    assert abs(interrupted["audio_played_ms"] - heard_ms) <= 50  # a frame at most
    assert interrupted["metadata"]["speech_id"] == started["speech_id"]
    assert (
        interrupted["metadata"]["audio_duration_ms"] == interrupted["audio_played_ms"]
    )
    pieces = decode_pieces(speech_audio(events), RATE)
    assert [(p.text, p.complete) for p in pieces] == [(first, True), (second, False)]
    # The next Speak opens a new turn; nothing of the old one follows.
    deepgram_server.latency = Latency()
    await ws.send_str(speak("A new turn."))
    await ws.send_str(FLUSH)
    after = await read_speech(ws, "SpeechMetadata")
    await ws.close()
    assert speech_timeline(after) == ["SpeechStarted", "audio", *TURN_END]
    assert validated(after)[0]["speech_id"] != started["speech_id"]
    assert decode_speech(speech_audio(after), RATE) == ["A new turn."]


async def test_interrupt_with_a_playback_offset(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """``playback_offset`` (session ms) says how much of the sent audio was heard."""
    ws = await connect(http, speak_v2_url(deepgram_server))
    await ws.send_str(speak("Done turn."))
    await ws.send_str(FLUSH)
    done = await read_speech(ws, "SpeechMetadata")
    done_ms = validated(done)[-1]["audio_duration_ms"]
    deepgram_server.latency = Latency(speak_seconds_per_char=0.02, speak_realtime=1.0)
    await ws.send_str(speak("Twenty characters... And more after it. "))
    record = deepgram_server.speak_sessions[0]
    await wait_for(lambda: record.audio_bytes > 2 * len(speech_audio(done)))
    offset = {"type": "time_ms", "value": done_ms + 30}
    await ws.send_str(json.dumps({"type": "Interrupt", "playback_offset": offset}))
    events = await read_speech(ws, "SpeechInterrupted")
    await ws.close()
    interrupted = validated(events)[-1]
    assert interrupted["audio_played_ms"] == 30
    assert interrupted["text_spoken"] == ""
    assert interrupted["text_remaining"] == "Twenty characters... And more after it."


async def test_interrupt_without_a_turn(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Interrupt with nothing being spoken: Warning NO_ACTIVE_SPEECH."""
    ws = await connect(http, speak_v2_url(deepgram_server))
    await ws.send_str(json.dumps({"type": "Interrupt"}))
    events = await read_speech(ws, "Warning")
    await ws.close()
    assert validated(events)[0]["code"] == "NO_ACTIVE_SPEECH"


@pytest.mark.parametrize(
    ("request_", "answer"),
    [
        ({}, {"type": "ConfigureSuccess", "applied": {}}),
        ({"speed": 0.5}, {"type": "ConfigureSuccess", "applied": {"speed": 0.5}}),
        (
            {"speed": 1.12},
            {"code": "SPEED_INCREMENT_INVALID", "field": "speed", "value": 1.12},
        ),
        ({"speed": 2}, {"code": "SPEED_OUT_OF_RANGE", "field": "speed", "value": 2}),
        ({"speed": "fast"}, {"code": "SPEED_OUT_OF_RANGE", "field": "speed"}),
        ({"speed": True}, {"code": "SPEED_OUT_OF_RANGE", "field": "speed"}),
    ],
)
async def test_configure_answers(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    request_: dict[str, Any],
    answer: dict[str, Any],
) -> None:
    """Configure: ConfigureSuccess with what was applied, or ConfigureFailure why."""
    ws = await connect(http, speak_v2_url(deepgram_server))
    await ws.send_str(json.dumps({"type": "Configure", **request_}))
    (message,) = validated(
        await read_speech(ws, answer.get("type", "ConfigureFailure"))
    )
    await ws.close()
    if message["type"] == "ConfigureFailure":
        assert message.pop("description")
        assert message == {"type": "ConfigureFailure", **answer}
    else:
        assert message == answer


async def test_configure_changes_the_speed_of_later_pieces(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """After ``Configure {speed: 1.25}`` a piece lasts 1/1.25 as long."""
    deepgram_server.latency = Latency(speak_seconds_per_char=0.02)
    ws = await connect(http, speak_v2_url(deepgram_server))
    text = "Exactly fifty characters of text in this sentence."
    await ws.send_str(speak(text))
    await ws.send_str(FLUSH)
    events = await read_speech(ws, "SpeechMetadata")
    await ws.send_str(json.dumps({"type": "Configure", "speed": 1.25}))
    events += await read_speech(ws, "ConfigureSuccess")
    await ws.send_str(speak(text))
    await ws.send_str(FLUSH)
    events += await read_speech(ws, "SpeechMetadata")
    await ws.close()
    durations = [p.duration for p in decode_pieces(speech_audio(events), RATE)]
    assert durations == [pytest.approx(1.0), pytest.approx(0.8, abs=1e-3)]
