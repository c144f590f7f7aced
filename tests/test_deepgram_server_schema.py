"""Messages of the fake Deepgram against the /v1/listen schemas of asyncapi.yml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema  # type: ignore[import-untyped]
import pytest

from tests.deepgram_server import FakeDeepgram, Faults, script_from_text
from tests.deepgram_server.testing import (
    auth_header,
    listen_url,
    read_until_closed,
    silence,
    stream,
)

FIXTURES = Path(__file__).parent / "fixtures"
SCHEMAS: dict[str, Any] = json.loads(
    (FIXTURES / "listen_v1_messages.schema.json").read_text()
)["$defs"]
RECORDED = sorted(
    p for p in (FIXTURES / "recorded").glob("*.json") if ".options." not in p.name
)


def _validate(message: dict[str, Any]) -> None:
    schema = SCHEMAS[message["type"]]
    jsonschema.validate(message, schema)


def _shape(value: Any) -> Any:
    """Nested key structure (first list item stands for all)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value and isinstance(value[0], dict) else "list"
    return type(value).__name__ if not isinstance(value, int | float) else "number"


async def _session_messages(server: FakeDeepgram) -> list[dict[str, Any]]:
    url = listen_url(
        server,
        interim_results="true",
        punctuate="true",
        utterance_end_ms="1000",
        vad_events="true",
    )
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, headers=auth_header()) as ws:
            await stream(ws, 3.0)
            await ws.send_str(json.dumps({"type": "Finalize"}))
            await ws.send_str(json.dumps({"type": "CloseStream"}))
            return await read_until_closed(ws)


def test_schema_fixture_covers_all_types() -> None:
    """The extracted schema file has one schema per server message type."""
    assert set(SCHEMAS) == {
        "Results",
        "Metadata",
        "UtteranceEnd",
        "SpeechStarted",
        "Error",
    }
    for schema in SCHEMAS.values():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert "$ref" not in json.dumps(schema)


@pytest.mark.parametrize("path", RECORDED, ids=[p.name for p in RECORDED])
def test_recorded_messages_validate(path: Path) -> None:
    """Real recorded Deepgram messages validate against the spec's schemas."""
    _validate(json.loads(path.read_text()))


def test_schema_rejects_broken_results() -> None:
    """The schemas really check something."""
    message = json.loads(RECORDED[0].read_text())
    del message["channel"]
    with pytest.raises(jsonschema.ValidationError):
        _validate(message)


async def test_every_server_message_validates(
    deepgram_server: FakeDeepgram,
) -> None:
    """Results, Metadata, UtteranceEnd, SpeechStarted from a session validate."""
    deepgram_server.script = script_from_text("Turn on the kitchen light.", start=0.5)
    received = await _session_messages(deepgram_server)
    assert {m["type"] for m in received} == {
        "Results",
        "Metadata",
        "UtteranceEnd",
        "SpeechStarted",
    }
    for message in received:
        _validate(message)


async def test_in_band_error_validates(
    deepgram_server: FakeDeepgram,
) -> None:
    """The in-band Error validates against the Error schema."""
    deepgram_server.faults = Faults(in_band_error=True)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(
            listen_url(deepgram_server), headers=auth_header()
        ) as ws:
            await ws.send_bytes(silence(0.1))
            (error,) = await read_until_closed(ws)
    _validate(error)


async def test_results_have_recorded_key_structure(
    deepgram_server: FakeDeepgram,
) -> None:
    """Server Results (interim, final, empty, from_finalize) match recorded keys."""
    deepgram_server.script = script_from_text("Turn on the kitchen light.", start=0.5)
    received = await _session_messages(deepgram_server)
    recorded = [json.loads(p.read_text()) for p in RECORDED]
    with_words = _shape(
        next(r for r in recorded if r["channel"]["alternatives"][0]["words"])
    )
    results = [m for m in received if m["type"] == "Results"]
    assert any(not m["is_final"] for m in results)
    assert any(not m["channel"]["alternatives"][0]["words"] for m in results)
    for message in results:
        assert list(message) == list(recorded[0])
        if message["channel"]["alternatives"][0]["words"]:
            assert _shape(message) == with_words
        else:
            assert set(message["channel"]["alternatives"][0]) == {
                "transcript",
                "confidence",
                "words",
            }
