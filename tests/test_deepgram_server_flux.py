"""The fake Deepgram's ``/v2/listen`` (Flux): handshake, turns, client messages."""

from __future__ import annotations

from collections.abc import Sequence
import json
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema  # type: ignore[import-untyped]
import pytest

from tests.deepgram_server import FakeDeepgram, Faults, Segment, Word, script_from_text
from tests.deepgram_server.testing import (
    BYTES_PER_SECOND,
    auth_header,
    flux_url,
    read_until,
    read_until_closed,
    silence,
    stream,
)
from tests.deepgram_server.turn_rules import check_turn_rules

SCHEMA = json.loads(
    (Path(__file__).parent / "fixtures" / "listen_v2_messages.schema.json").read_text()
)
CLOSE_STREAM = json.dumps({"type": "CloseStream"})
FORCE_END_TURN = json.dumps({"type": "ForceEndTurn"})
FRAME = 0.08  # Deepgram recommends 80 ms chunks on /v2/listen


def validate(message: dict[str, Any]) -> None:
    """Validate a server message against its /v2/listen schema."""
    jsonschema.validate(message, SCHEMA["$defs"][message["type"]])


def validate_client(text: str) -> None:
    """Validate a client text message against its /v2/listen schema."""
    message = json.loads(text)
    jsonschema.validate(message, SCHEMA["client"][message["type"]])


def command(start: float = 0.5) -> list[Segment]:
    """ "Turn on the kitchen light." as one thought, 0.26 s a word."""
    return script_from_text(
        "Turn on the kitchen light.", start=start, end=start + 1.3, words_per_segment=5
    )


def paused_command() -> list[Segment]:
    """ "Turn on the" ... 0.8 s pause ... "kitchen light." (one thought)."""
    words = (
        Word("Turn", 0.5, 0.7),
        Word("on", 0.7, 0.9),
        Word("the", 0.9, 1.1),
        Word("kitchen", 1.9, 2.2),
        Word("light.", 2.2, 2.5),
    )
    return [Segment(words)]


def turn_events(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(event, transcript) of every TurnInfo that is not an Update."""
    return [
        (m["event"], m["transcript"])
        for m in messages
        if m["type"] == "TurnInfo" and m["event"] != "Update"
    ]


async def session(
    server: FakeDeepgram,
    seconds: float,
    *,
    before_close: Sequence[str] = (),
    close: bool = True,
    **query: str,
) -> list[dict[str, Any]]:
    """Stream `seconds` of audio, send `before_close`, CloseStream, read all."""
    async with aiohttp.ClientSession() as http:
        url = flux_url(server, **query)
        async with http.ws_connect(url, headers=auth_header()) as ws:
            await stream(ws, seconds, FRAME)
            for text in before_close:
                await ws.send_str(text)
            if close:
                await ws.send_str(CLOSE_STREAM)
            received = await read_until_closed(ws)
    for message in received:
        validate(message)
    check_turn_rules(received)
    return received


# -- handshake -------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"model": "nova-3"}, "model"),
        ({"model": "no-such-model"}, "model"),
        ({"eot_threshold": "0.4"}, "eot_threshold"),
        ({"eot_threshold": "1.1"}, "eot_threshold"),
        ({"eot_threshold": "high"}, "eot_threshold"),
        ({"eager_eot_threshold": "0.2"}, "eager_eot_threshold"),
        ({"eager_eot_threshold": "0.8", "eot_threshold": "0.7"}, "eager_eot_threshold"),
        ({"eot_timeout_ms": "499"}, "eot_timeout_ms"),
        ({"eot_timeout_ms": "60001"}, "eot_timeout_ms"),
        ({"eot_timeout_ms": "1000.5"}, "eot_timeout_ms"),
        ({"language_hint": "de"}, "language_hint"),
        ({"model": "flux-general-multi", "language_hint": " "}, "language_hint"),
        ({"keyterm": "Kitchen:2"}, "keyterm"),
        ({"encoding": "flac"}, "encoding"),
        ({"sample_rate": "fast"}, "sample_rate"),
        ({"sample_rate": "0"}, "sample_rate"),
        ({"mip_opt_out": "maybe"}, "mip_opt_out"),
    ],
)
async def test_handshake_refuses_bad_query(
    deepgram_server: FakeDeepgram, query: dict[str, str], parameter: str
) -> None:
    """Flux models only, documented ranges: 400 with dg-error naming the parameter."""
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await http.ws_connect(
                flux_url(deepgram_server, **query), headers=auth_header()
            )
    assert caught.value.status == 400
    assert caught.value.headers is not None
    assert parameter in caught.value.headers["dg-error"]
    assert deepgram_server.handshakes[0].path == "/v2/listen"


async def test_handshake_needs_model_and_sample_rate(
    deepgram_server: FakeDeepgram,
) -> None:
    """No model, or a raw encoding without sample_rate: refused."""
    async with aiohttp.ClientSession() as http:
        for url in (
            flux_url(deepgram_server).without_query_params("model"),
            flux_url(deepgram_server).without_query_params("sample_rate"),
        ):
            with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
                await http.ws_connect(url, headers=auth_header())
            assert caught.value.status == 400


@pytest.mark.parametrize(
    "query",
    [
        {"eot_threshold": "1.0", "eot_timeout_ms": "60000"},  # the wider ranges
        {"eot_threshold": "0.5", "eager_eot_threshold": "0.5", "eot_timeout_ms": "500"},
        {
            "model": "flux-general-multi",
            "language_hint": "de",
            "keyterm": "Hue",
            "mip_opt_out": "true",
            "tag": "home-assistant",
        },
    ],
)
async def test_handshake_accepts_documented_ranges(
    deepgram_server: FakeDeepgram, query: dict[str, str]
) -> None:
    """The documented ranges (the wider ones where pages disagree) are accepted."""
    url = flux_url(deepgram_server).update_query(query)
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url, headers=auth_header()) as ws:
            (connected,) = await read_until(ws, "Connected")
            assert connected["request_id"] == ws._response.headers["dg-request-id"]
    assert deepgram_server.sessions[0].path == "/v2/listen"


async def test_handshake_checks_the_key(deepgram_server: FakeDeepgram) -> None:
    """A wrong key is refused with 401 as on /v1/listen."""
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await http.ws_connect(
                flux_url(deepgram_server), headers=auth_header("wrong")
            )
    assert caught.value.status == 401


# -- turns -----------------------------------------------------------------


async def test_a_turn_from_start_to_end(deepgram_server: FakeDeepgram) -> None:
    """Connected, Updates every 0.25 s, StartOfTurn, EndOfTurn 0.26 s after speech."""
    deepgram_server.script = command()
    received = await session(deepgram_server, 2.4)
    assert received[0]["type"] == "Connected"
    assert turn_events(received) == [
        ("StartOfTurn", "Turn"),
        ("EndOfTurn", "Turn on the kitchen light."),
    ]
    end = next(m for m in received if m.get("event") == "EndOfTurn")
    assert end["audio_window_end"] == pytest.approx(1.8 + 0.26)
    assert end["end_of_turn_confidence"] == pytest.approx(0.7)
    assert end["turn_index"] == 0
    assert [w["word"] for w in end["words"]][-1] == "light."
    updates = [m for m in received if m.get("event") == "Update"]
    assert [m["audio_window_end"] for m in updates] == pytest.approx(
        [0.25 * i for i in range(1, 10)]
    )
    assert updates[-1]["turn_index"] == 1  # after EndOfTurn: the next turn
    assert updates[-1]["transcript"] == ""
    assert all(m["request_id"] == received[0]["request_id"] for m in received)


async def test_two_thoughts_make_two_turns(deepgram_server: FakeDeepgram) -> None:
    """Speech after an EndOfTurn opens turn 1."""
    deepgram_server.script = [
        *command(),
        *script_from_text("Thanks.", start=2.5, end=2.8, words_per_segment=1),
    ]
    received = await session(deepgram_server, 3.4)
    assert turn_events(received) == [
        ("StartOfTurn", "Turn"),
        ("EndOfTurn", "Turn on the kitchen light."),
        ("StartOfTurn", "Thanks."),
        ("EndOfTurn", "Thanks."),
    ]


async def test_pause_inside_a_thought_is_not_an_end(
    deepgram_server: FakeDeepgram,
) -> None:
    """A pause mid-sentence keeps the turn open (the confidence stays at 0.5)."""
    deepgram_server.script = paused_command()
    received = await session(deepgram_server, 3.2)
    assert turn_events(received) == [
        ("StartOfTurn", "Turn"),
        ("EndOfTurn", "Turn on the kitchen light."),
    ]
    in_pause = [
        m
        for m in received
        if m.get("event") == "Update" and 1.5 <= m["audio_window_end"] <= 1.75
    ]
    assert {m["end_of_turn_confidence"] for m in in_pause} == {0.5}


async def test_eager_then_resumed_then_end(deepgram_server: FakeDeepgram) -> None:
    """EagerEndOfTurn in the pause, TurnResumed when speech goes on, EndOfTurn."""
    deepgram_server.script = paused_command()
    received = await session(deepgram_server, 3.2, eager_eot_threshold="0.4")
    assert turn_events(received) == [
        ("StartOfTurn", "Turn"),
        ("EagerEndOfTurn", "Turn on the"),
        ("TurnResumed", "Turn on the"),
        ("EagerEndOfTurn", "Turn on the kitchen light."),
        ("EndOfTurn", "Turn on the kitchen light."),
    ]
    resumed = next(m for m in received if m.get("event") == "TurnResumed")
    assert resumed["audio_window_end"] == pytest.approx(1.9)


async def test_eager_then_end_with_the_same_words(
    deepgram_server: FakeDeepgram,
) -> None:
    """Eager comes eot_delay*eager/0.7 after the words, EndOfTurn later, same text."""
    deepgram_server.script = command()
    received = await session(deepgram_server, 2.4, eager_eot_threshold="0.35")
    events = [m for m in received if m.get("event") in {"EagerEndOfTurn", "EndOfTurn"}]
    assert [m["audio_window_end"] for m in events] == pytest.approx([1.93, 2.06])
    assert events[0]["transcript"] == events[1]["transcript"]


async def test_threshold_one_ends_only_by_timeout(
    deepgram_server: FakeDeepgram,
) -> None:
    """eot_threshold=1.0 switches the model's turn end off: eot_timeout_ms ends it."""
    deepgram_server.script = command()
    received = await session(
        deepgram_server, 2.9, eot_threshold="1.0", eot_timeout_ms="1000"
    )
    (end,) = [m for m in received if m.get("event") == "EndOfTurn"]
    assert end["audio_window_end"] == pytest.approx(2.8)


async def test_no_speech_means_updates_only(deepgram_server: FakeDeepgram) -> None:
    """Silence: Updates with empty transcripts, turn 0 never starts."""
    received = await session(deepgram_server, 1.0)
    assert turn_events(received) == []
    assert {m["transcript"] for m in received[1:]} == {""}


# -- client messages -------------------------------------------------------


async def test_close_stream_mid_turn_does_not_finish_it(
    deepgram_server: FakeDeepgram,
) -> None:
    """CloseStream: the server closes 1000 at once, no EndOfTurn, no summary."""
    deepgram_server.script = command()
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(
            flux_url(deepgram_server), headers=auth_header()
        ) as ws:
            await stream(ws, 1.4, FRAME)
            await ws.send_str(CLOSE_STREAM)
            received = await read_until_closed(ws)
            assert ws.close_code == 1000
    check_turn_rules(received)
    assert turn_events(received) == [("StartOfTurn", "Turn")]
    assert received[-1]["event"] == "Update"
    assert received[-1]["transcript"] == "Turn on"  # the Update at 1.25 s
    await deepgram_server.wait_for_sessions_closed()
    record = deepgram_server.sessions[0]
    assert (record.closed_by, record.close_code) == ("server", 1000)
    assert record.control_messages() == ["CloseStream"]
    validate_client(CLOSE_STREAM)


async def test_force_end_turn_ends_on_the_audio_so_far(
    deepgram_server: FakeDeepgram,
) -> None:
    """ForceEndTurn: EndOfTurn with the words heard or partly heard, manual."""
    deepgram_server.script = command()
    received = await session(deepgram_server, 1.4, before_close=[FORCE_END_TURN])
    assert turn_events(received) == [
        ("StartOfTurn", "Turn"),
        ("EndOfTurn", "Turn on the kitchen"),  # "kitchen" started at 1.28 s
    ]
    end = received[-1]
    assert end["event"] == "EndOfTurn"
    assert end["trigger"] == "manual"
    validate_client(FORCE_END_TURN)


async def test_force_end_turn_before_start_of_turn(
    deepgram_server: FakeDeepgram,
) -> None:
    """A word only partly heard: StartOfTurn then EndOfTurn, in the rules."""
    deepgram_server.script = command()
    received = await session(deepgram_server, 0.64, before_close=[FORCE_END_TURN])
    assert turn_events(received) == [("StartOfTurn", "Turn"), ("EndOfTurn", "Turn")]


async def test_force_end_turn_with_nothing_heard(
    deepgram_server: FakeDeepgram,
) -> None:
    """No word yet: there is no turn to end and nothing is sent."""
    deepgram_server.script = command()
    received = await session(deepgram_server, 0.4, before_close=[FORCE_END_TURN])
    assert turn_events(received) == []


async def test_force_end_turn_ignored_fault(deepgram_server: FakeDeepgram) -> None:
    """With the fault, ForceEndTurn gets no answer."""
    deepgram_server.script = command()
    deepgram_server.faults = Faults(ignore_force_end_turn=True)
    received = await session(deepgram_server, 1.4, before_close=[FORCE_END_TURN])
    assert turn_events(received) == [("StartOfTurn", "Turn")]


async def test_configure_success_changes_the_thresholds(
    deepgram_server: FakeDeepgram,
) -> None:
    """ConfigureSuccess carries the values now in force; they apply from then on."""
    deepgram_server.script = command()
    configure = json.dumps(
        {
            "type": "Configure",
            "thresholds": {"eot_threshold": 0.9, "eager_eot_threshold": 0.5},
            "keyterms": ["kitchen"],
        }
    )
    validate_client(configure)
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(
            flux_url(deepgram_server), headers=auth_header()
        ) as ws:
            await stream(ws, 0.8, FRAME)
            await ws.send_str(configure)
            first = await read_until(ws, "ConfigureSuccess")
            await stream(ws, 1.6, FRAME)
            await ws.send_str(CLOSE_STREAM)
            received = first + await read_until_closed(ws)
    check_turn_rules(received)
    for message in received:
        validate(message)
    success = first[-1]
    assert success["thresholds"] == {
        "eot_threshold": 0.9,
        "eager_eot_threshold": 0.5,
        "eot_timeout_ms": 5000,
    }
    assert success["keyterms"] == ["kitchen"]
    assert "language_hints" not in success
    events = [m for m in received if m.get("event") in {"EagerEndOfTurn", "EndOfTurn"}]
    # 0.26 s reach 0.7, so 0.9 takes 0.334 s and 0.5 takes 0.186 s.
    assert [m["audio_window_end"] for m in events] == pytest.approx(
        [1.8 + 0.26 * 5 / 7, 1.8 + 0.26 * 9 / 7], abs=1e-4
    )


@pytest.mark.parametrize(
    "configure",
    [
        {"type": "Configure", "thresholds": {"eot_threshold": 0.3}},
        {"type": "Configure", "thresholds": {"eager_eot_threshold": 0.8}},
        {"type": "Configure", "thresholds": "high"},
        {"type": "Configure", "language_hints": ["de"]},
        {"type": "Configure", "keyterms": [""]},
    ],
)
async def test_configure_failure(
    deepgram_server: FakeDeepgram, configure: dict[str, Any]
) -> None:
    """Out-of-range values or hints on the English model: ConfigureFailure."""
    received = await session(deepgram_server, 0.2, before_close=[json.dumps(configure)])
    assert received[-1]["type"] == "ConfigureFailure"


async def test_configure_language_hints_on_multi(
    deepgram_server: FakeDeepgram,
) -> None:
    """The multi model takes hints; TurnInfo reports them."""
    deepgram_server.script = command()
    configure = json.dumps({"type": "Configure", "language_hints": ["en", "de"]})
    received = await session(
        deepgram_server,
        2.4,
        before_close=[configure],
        model="flux-general-multi",
        language_hint="en",
    )
    end = next(m for m in received if m.get("event") == "EndOfTurn")
    assert end["languages"] == ["en"]
    assert end["languages_hinted"] == ["en"]
    assert received[-1]["type"] == "ConfigureSuccess"
    assert received[-1]["language_hints"] == ["en", "de"]
    assert received[-1]["keyterms"] == []


async def test_no_keepalive_on_v2_text_does_not_hold_the_socket(
    deepgram_server: FakeDeepgram,
) -> None:
    """Only audio resets the idle timer: text frames do not (1011 NET-0001)."""
    deepgram_server.idle_timeout = 0.3
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(
            flux_url(deepgram_server), headers=auth_header()
        ) as ws:
            await ws.send_bytes(silence(0.1))
            for _ in range(3):
                await ws.send_str(json.dumps({"type": "KeepAlive"}))
            received = await read_until_closed(ws)
            assert ws.close_code == 1011
    assert received[0]["type"] == "Connected"
    record = deepgram_server.sessions[0]
    assert (record.close_code, record.close_reason) == (1011, "NET-0001")


@pytest.mark.parametrize(
    ("faults", "expected"),
    [
        (Faults(in_band_error=True), ["Connected", "Error"]),
        (Faults(unknown_message=True), ["Connected", "SomethingNew"]),
        (Faults(close_1011_after_audio_seconds=0.16), ["Connected"]),
    ],
)
async def test_faults(
    deepgram_server: FakeDeepgram, faults: Faults, expected: list[str]
) -> None:
    """In-band Error (validates), unknown type, 1011 close."""
    deepgram_server.faults = faults
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(
            flux_url(deepgram_server), headers=auth_header()
        ) as ws:
            await ws.send_bytes(silence(0.16))
            if not faults.in_band_error and not faults.close_1011_after_audio_seconds:
                await ws.send_str(CLOSE_STREAM)
            received = await read_until_closed(ws)
    assert [m["type"] for m in received] == expected
    if faults.in_band_error:
        validate(received[-1])


async def test_malformed_json_fault_and_empty_frames(
    deepgram_server: FakeDeepgram,
) -> None:
    """A non-JSON frame is sent raw; a zero-length frame is not audio on v2."""
    deepgram_server.faults = Faults(malformed_json=True, never_close=True)
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(
            flux_url(deepgram_server), headers=auth_header()
        ) as ws:
            await ws.send_bytes(b"")
            await ws.send_bytes(silence(0.1))
            await ws.send_str(CLOSE_STREAM)
            await ws.send_str(FORCE_END_TURN)  # after CloseStream: ignored
            msg = await ws.receive(timeout=2)
            assert msg.type is aiohttp.WSMsgType.TEXT
            assert json.loads(msg.data)["type"] == "Connected"
            raw = await ws.receive(timeout=2)
            assert raw.data == "{this is not json"
            await ws.close()
    record = deepgram_server.sessions[0]
    assert record.audio_bytes == BYTES_PER_SECOND // 10
    assert record.sent_raw == ["{this is not json"]


def test_schema_fixture_covers_the_v2_messages() -> None:
    """One schema per server type and per client text message, no $ref left."""
    assert set(SCHEMA["$defs"]) == {
        "Connected",
        "TurnInfo",
        "ConfigureSuccess",
        "ConfigureFailure",
        "Error",
    }
    assert set(SCHEMA["client"]) == {"CloseStream", "Configure", "ForceEndTurn"}
    for schema in [*SCHEMA["$defs"].values(), *SCHEMA["client"].values()]:
        jsonschema.Draft202012Validator.check_schema(schema)
    assert "$ref" not in json.dumps([SCHEMA["$defs"], SCHEMA["client"]])
    broken = {"type": "TurnInfo", "event": "Update"}
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)
