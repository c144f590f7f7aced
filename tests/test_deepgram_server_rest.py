"""REST endpoints of the fake Deepgram."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from tests.deepgram_server import (
    CatalogModel,
    FakeDeepgram,
    Faults,
    Latency,
    script_from_text,
)
from tests.deepgram_server.rest import wav_duration
from tests.deepgram_server.testing import auth_header, silence, wav_silence


async def _get(
    server: FakeDeepgram, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    async with aiohttp.ClientSession() as session:
        async with session.get(server.base_url + path, headers=headers) as resp:
            return resp.status, await resp.json(), dict(resp.headers)


async def test_auth_token(deepgram_server: FakeDeepgram) -> None:
    """200 with key details for the right key (Token or Bearer), 401 otherwise."""
    status, body, headers = await _get(deepgram_server, "/v1/auth/token", auth_header())
    assert status == 200
    assert "api_key_id" in body
    assert "dg-request-id" in headers
    status, body, _ = await _get(
        deepgram_server, "/v1/auth/token", auth_header(scheme="Bearer")
    )
    assert status == 200
    status, body, headers = await _get(
        deepgram_server, "/v1/auth/token", auth_header("nope")
    )
    assert status == 401
    assert body == {
        "err_code": "INVALID_AUTH",
        "err_msg": "Invalid credentials.",
        "request_id": headers["dg-request-id"],
    }
    assert [r.status for r in deepgram_server.rest_requests] == [200, 200, 401]
    assert deepgram_server.rest_requests[0].headers["Authorization"] == (
        "Token dg-test-key"
    )


async def test_auth_endpoint_missing(deepgram_server: FakeDeepgram) -> None:
    """auth_endpoint_missing: 404 on /v1/auth/token, /v1/projects still works."""
    deepgram_server.faults = Faults(auth_endpoint_missing=True)
    status, _, _ = await _get(deepgram_server, "/v1/auth/token", auth_header())
    assert status == 404
    status, body, _ = await _get(deepgram_server, "/v1/projects", auth_header())
    assert status == 200
    assert body == {
        "projects": [
            {
                "project_id": deepgram_server.project_id,
                "name": deepgram_server.project_name,
            }
        ]
    }
    status, _, _ = await _get(deepgram_server, "/v1/projects")
    assert status == 401


async def test_models_without_key(deepgram_server: FakeDeepgram) -> None:
    """/v1/models needs no key and lists streaming and batch-only models."""
    status, body, _ = await _get(deepgram_server, "/v1/models")
    assert status == 200
    assert {m["architecture"] for m in body["tts"]} == {"aura", "aura-2"}
    by_name = {m["canonical_name"]: m for m in body["stt"]}
    expected_keys = {
        "name",
        "canonical_name",
        "architecture",
        "languages",
        "version",
        "uuid",
        "batch",
        "streaming",
        "formatted_output",
    }
    assert all(set(m) == expected_keys for m in body["stt"])
    nova3 = by_name["nova-3-general"]
    assert {"en", "de", "multi", "pt-BR"} <= set(nova3["languages"])
    assert {"da", "sv", "no", "pl", "ko", "zh"} <= set(
        by_name["nova-2-general"]["languages"]
    )
    assert by_name["flux-general-en"]["streaming"] is True
    assert by_name["whisper-large"]["streaming"] is False


async def test_catalog_is_replaceable(deepgram_server: FakeDeepgram) -> None:
    """Tests can replace the catalog; validation follows it."""
    deepgram_server.catalog = [
        CatalogModel("nova-3", "nova-3-general", "nova-3", ("fi",), "v1", "uuid-1")
    ]
    _, body, _ = await _get(deepgram_server, "/v1/models")
    assert [m["languages"] for m in body["stt"]] == [["fi"]]


@pytest.mark.parametrize("path", ["/v1/models", "/v1/auth/token", "/v1/projects"])
@pytest.mark.parametrize("status", [401, 500])
async def test_rest_status_fault(
    deepgram_server: FakeDeepgram,
    path: str,
    status: int,
) -> None:
    """rest_status answers every REST request with that status."""
    deepgram_server.faults = Faults(rest_status=status)
    got, body, headers = await _get(deepgram_server, path, auth_header())
    assert got == status
    assert body["request_id"] == headers["dg-request-id"]


async def test_prerecorded_wav(deepgram_server: FakeDeepgram) -> None:
    """A WAV body: duration from the header, the script's words as transcript."""
    deepgram_server.script = script_from_text("Turn on the light.", start=0.5)
    async with aiohttp.ClientSession() as session:
        async with session.post(
            deepgram_server.base_url + "/v1/listen",
            params={"model": "nova-3", "punctuate": "true"},
            data=wav_silence(2.0),
            headers={**auth_header(), "Content-Type": "audio/wav"},
        ) as resp:
            assert resp.status == 200
            body = await resp.json()
    assert body["metadata"]["duration"] == pytest.approx(2.0)
    alternative = body["results"]["channels"][0]["alternatives"][0]
    assert alternative["transcript"] == "Turn on the light."
    assert [w["word"] for w in alternative["words"]] == ["turn", "on", "the", "light"]


async def test_prerecorded_raw_and_truncated(
    deepgram_server: FakeDeepgram,
) -> None:
    """A raw body: duration from encoding/sample_rate; unheard words left out."""
    deepgram_server.script = script_from_text("turn on the light", start=0.5)
    async with aiohttp.ClientSession() as session:
        async with session.post(
            deepgram_server.base_url + "/v1/listen",
            params={"model": "nova-2", "encoding": "linear16", "sample_rate": "16000"},
            data=silence(1.0),
            headers=auth_header(),
        ) as resp:
            body = await resp.json()
        async with session.post(
            deepgram_server.base_url + "/v1/listen",
            params={"model": "nova-9"},
            data=silence(0.1),
            headers=auth_header(),
        ) as bad:
            assert bad.status == 400
            assert "model" in bad.headers["dg-error"]
    assert body["metadata"]["duration"] == pytest.approx(1.0)
    assert body["results"]["channels"][0]["alternatives"][0]["transcript"] == (
        "turn on"
    )


async def test_prerecorded_latency(deepgram_server: FakeDeepgram) -> None:
    """Pre-recorded answers wait base + per-audio-second time."""
    deepgram_server.latency = Latency(
        prerecorded_base=0.1, prerecorded_per_audio_second=0.1
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with aiohttp.ClientSession() as session:
        async with session.post(
            deepgram_server.base_url + "/v1/listen",
            params={"model": "nova-3"},
            data=wav_silence(1.0),
            headers=auth_header(),
        ) as resp:
            assert resp.status == 200
    assert loop.time() - started >= 0.15


def test_wav_duration_parsing() -> None:
    """WAV headers give the duration; other bodies are not WAV."""
    parsed = wav_duration(wav_silence(0.5, rate=8000))
    assert parsed is not None
    assert parsed[0] == pytest.approx(0.5)
    assert parsed[1] == 1
    assert wav_duration(b"RIFF0000WAVE") is None
    assert wav_duration(silence(0.1)) is None
