"""The local server's pre-recorded `POST /v1/listen` against the spec's schema."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema  # type: ignore[import-untyped]
import pytest

from tests.deepgram_server import FakeDeepgram, Faults, Latency, script_from_text
from tests.deepgram_server.rest import container_of
from tests.deepgram_server.testing import auth_header, silence, wav_silence

FIXTURES = Path(__file__).parent / "fixtures"
SCHEMA: dict[str, Any] = json.loads(
    (FIXTURES / "listen_v1_prerecorded.schema.json").read_text()
)
OGG = (FIXTURES / "remember_to_buy_milk_and_eggs.ogg").read_bytes()


async def post(
    server: FakeDeepgram,
    body: bytes,
    content_type: str = "audio/wav",
    **query: str,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """POST a body to /v1/listen; status, JSON answer and headers."""
    async with aiohttp.ClientSession() as session:
        async with session.post(
            server.base_url + "/v1/listen",
            params={"model": "nova-3", **query},
            data=body,
            headers={**auth_header(), "Content-Type": content_type},
        ) as resp:
            return resp.status, await resp.json(), dict(resp.headers)


def test_schema_is_a_schema() -> None:
    """The assembled schema is valid JSON Schema with every $ref inlined."""
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert '"$ref"' not in json.dumps(SCHEMA)


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"punctuate": "true", "language": "en"},
        {"diarize": "true"},
        {"detect_language": "true"},
        {"language": "multi", "smart_format": "true"},
    ],
)
async def test_answers_validate(
    deepgram_server: FakeDeepgram, query: dict[str, str]
) -> None:
    """Every answer shape validates against the spec's schema."""
    deepgram_server.script = script_from_text("Hello there. Who is it?", start=0.2)
    status, body, headers = await post(deepgram_server, wav_silence(2.0), **query)
    assert status == 200
    jsonschema.validate(body, SCHEMA)
    assert body["metadata"]["request_id"] == headers["dg-request-id"]
    assert list(body["metadata"]) == [
        "transaction_key",
        "request_id",
        "sha256",
        "created",
        "duration",
        "channels",
        "models",
        "model_info",
    ]


def test_schema_rejects_broken_answers() -> None:
    """The schema really checks: no transcript, or a word without times."""
    good = {
        "metadata": {
            "transaction_key": "deprecated",
            "request_id": "b0e0d9b6-0000-4000-8000-000000000000",
            "sha256": "x",
            "created": "2026-01-01T00:00:00.000Z",
            "duration": 1.0,
            "channels": 1,
        },
        "results": {
            "channels": [
                {
                    "alternatives": [
                        {
                            "transcript": "hi",
                            "confidence": 0.9,
                            "words": [
                                {"word": "hi", "start": 0, "end": 1, "confidence": 1}
                            ],
                        }
                    ]
                }
            ]
        },
    }
    jsonschema.validate(good, SCHEMA)
    no_transcript = json.loads(json.dumps(good))
    del no_transcript["results"]["channels"][0]["alternatives"][0]["transcript"]
    no_times = json.loads(json.dumps(good))
    del no_times["results"]["channels"][0]["alternatives"][0]["words"][0]["end"]
    no_metadata = {"results": good["results"]}
    for broken in (no_transcript, no_times, no_metadata):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, SCHEMA)


async def test_told_text_and_duration(deepgram_server: FakeDeepgram) -> None:
    """The server can be told what a compressed file says and how long it is."""
    deepgram_server.script = script_from_text("buy milk and eggs", start=0.2)
    deepgram_server.prerecorded_duration = 2.48
    status, body, _ = await post(deepgram_server, OGG, "audio/ogg")
    assert status == 200
    assert body["metadata"]["duration"] == 2.48
    best = body["results"]["channels"][0]["alternatives"][0]
    assert best["transcript"] == "buy milk and eggs"


async def test_compressed_length_unknown_hears_the_script(
    deepgram_server: FakeDeepgram,
) -> None:
    """Without a told duration a compressed file lasts as long as the script."""
    deepgram_server.script = script_from_text("buy milk", start=0.2, end=1.0)
    _, body, _ = await post(deepgram_server, OGG, "audio/ogg")
    assert body["metadata"]["duration"] == 1.5
    deepgram_server.script = []
    _, body, _ = await post(deepgram_server, OGG, "audio/ogg")
    assert body["metadata"]["duration"] == 1.0
    assert body["results"]["channels"][0]["alternatives"][0]["words"] == []


async def test_diarize_and_detection(deepgram_server: FakeDeepgram) -> None:
    """diarize labels speakers per sentence; detection names the language."""
    deepgram_server.script = script_from_text("Hi. Hello there.", start=0.2)
    deepgram_server.detected_language = "fr"
    _, body, _ = await post(
        deepgram_server, wav_silence(2.0), diarize="true", detect_language="true"
    )
    channel = body["results"]["channels"][0]
    assert channel["detected_language"] == "fr"
    assert 0 < channel["language_confidence"] <= 1
    words = channel["alternatives"][0]["words"]
    assert [w["speaker"] for w in words] == [0, 1, 1]
    _, body, _ = await post(deepgram_server, wav_silence(2.0), language="multi")
    best = body["results"]["channels"][0]["alternatives"][0]
    assert best["languages"] == ["fr"]
    assert {w["language"] for w in best["words"]} == {"fr"}
    _, body, _ = await post(deepgram_server, wav_silence(2.0))
    channel = body["results"]["channels"][0]
    assert "detected_language" not in channel
    assert "languages" not in channel["alternatives"][0]
    assert all("speaker" not in w for w in channel["alternatives"][0]["words"])


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "audio/wav"),
        (b"plain text, not audio", "audio/wav"),
        (OGG, "text/plain"),
        (OGG, "application/json"),
    ],
)
async def test_what_deepgram_cannot_decode(
    deepgram_server: FakeDeepgram, body: bytes, content_type: str
) -> None:
    """Empty bodies, non-audio bytes or types: 400 with Deepgram's reason."""
    status, answer, headers = await post(deepgram_server, body, content_type)
    assert status == 400
    assert "corrupt or unsupported data" in headers["dg-error"]
    assert answer["request_id"] == headers["dg-request-id"]


@pytest.mark.parametrize(
    ("head", "container"),
    [
        (b"ID3\x04", "mp3"),
        (b"\xff\xfb\x90\x00", "mp3"),
        (b"OggS", "ogg"),
        (b"fLaC", "flac"),
        (b"\x00\x00\x00\x20ftypM4A ", "mp4"),
        (b"\x1a\x45\xdf\xa3", "webm"),
        (wav_silence(0.01), "wav"),
        (b"\x00\x01\x02\x03", None),
    ],
)
def test_containers_recognised(head: bytes, container: str | None) -> None:
    """The containers Deepgram detects by their first bytes."""
    assert container_of(head) == container


async def test_raw_audio_needs_an_encoding(deepgram_server: FakeDeepgram) -> None:
    """Headerless PCM decodes only with encoding and sample_rate."""
    status, _, _ = await post(deepgram_server, silence(0.5), "application/octet-stream")
    assert status == 400
    status, body, _ = await post(
        deepgram_server,
        silence(0.5),
        "application/octet-stream",
        encoding="linear16",
        sample_rate="16000",
    )
    assert status == 200
    assert body["metadata"]["duration"] == 0.5


@pytest.mark.parametrize("status", [400, 401, 402, 403, 429, 500, 503])
async def test_status_faults(deepgram_server: FakeDeepgram, status: int) -> None:
    """prerecorded_status answers the pre-recorded request alone, after the body."""
    deepgram_server.faults = Faults(prerecorded_status=status)
    got, answer, headers = await post(deepgram_server, wav_silence(0.5))
    assert got == status
    assert headers["dg-error"]
    assert answer["request_id"] == headers["dg-request-id"]
    [request] = deepgram_server.rest_requests
    assert request.body_size == len(wav_silence(0.5))
    async with aiohttp.ClientSession() as session:
        async with session.get(deepgram_server.base_url + "/v1/models") as resp:
            assert resp.status == 200


async def test_drop_and_stall(deepgram_server: FakeDeepgram) -> None:
    """drop_prerecorded hangs up unanswered; stall_prerecorded never answers."""
    deepgram_server.faults = Faults(drop_prerecorded=True)
    with pytest.raises(aiohttp.ClientError):
        await post(deepgram_server, wav_silence(0.5))
    deepgram_server.faults = Faults(stall_prerecorded=True)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):
            await post(deepgram_server, wav_silence(0.5))


async def test_slow_upload_link(deepgram_server: FakeDeepgram) -> None:
    """upload_bytes_per_second reads bodies no faster than that."""
    deepgram_server.latency = Latency(upload_bytes_per_second=400_000)
    body = bytes(200_000)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await post(deepgram_server, body, encoding="linear16", sample_rate="16000")
    assert loop.time() - started >= 0.4
    assert deepgram_server.bytes_received == len(body)


async def test_large_bodies_are_counted_not_kept(deepgram_server: FakeDeepgram) -> None:
    """A body larger than aiohttp's 1 MiB default is read, counted and hashed."""
    body = wav_silence(60.0)  # 1.9 MB
    status, answer, _ = await post(deepgram_server, body)
    assert status == 200
    assert answer["metadata"]["duration"] == pytest.approx(60.0)
    [request] = deepgram_server.rest_requests
    assert request.body_size == len(body)
    assert request.complete
