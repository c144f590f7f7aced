"""`DeepgramRestClient.transcribe` with a streamed body, and its answer's extras."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import hashlib
import time

import aiohttp
from aiohttp import web
import pytest

from custom_components.deepgram.api import (
    DeepgramConnectionError,
    DeepgramOptionsError,
    DeepgramRestClient,
    DeepgramTimeoutError,
    Endpoint,
    LiveOptions,
)
from tests.api_helpers import KEY
from tests.conftest import OddServer
from tests.deepgram_server import FakeDeepgram, Latency, script_from_text
from tests.deepgram_server.testing import unused_port, wav_silence

OPTIONS = LiveOptions(encoding=None, sample_rate=None, channels=None, language="en")


def client(server: FakeDeepgram, http: aiohttp.ClientSession) -> DeepgramRestClient:
    """A REST client for the fake server."""
    return DeepgramRestClient(http, Endpoint(server.base_url, KEY))


async def chunks(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    """`data` in pieces, yielding to the loop between them."""
    for start in range(0, len(data), size):
        await asyncio.sleep(0)
        yield data[start : start + size]


class SourceBroke(Exception):
    """An error of the audio source, not of Deepgram."""


async def test_streamed_body_with_length(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Chunks are sent as one body, with Content-Length when the size is known."""
    deepgram_server.script = script_from_text("Hello.", start=0.2)
    audio = wav_silence(3.0)
    result = await client(deepgram_server, http).transcribe(
        chunks(audio), OPTIONS, size=len(audio)
    )
    assert result.transcript == "hello"  # no punctuate asked
    assert result.duration == pytest.approx(3.0)
    assert result.model_names == ("nova-3",)
    assert result.detected_language is None
    [request] = deepgram_server.rest_requests
    assert request.headers["Content-Length"] == str(len(audio))
    assert "Transfer-Encoding" not in request.headers
    assert request.sha256 == hashlib.sha256(audio).hexdigest()


async def test_streamed_body_without_length(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Without a size the body goes chunked."""
    audio = wav_silence(1.0)
    await client(deepgram_server, http).transcribe(chunks(audio), OPTIONS)
    [request] = deepgram_server.rest_requests
    assert request.headers["Transfer-Encoding"] == "chunked"
    assert request.body_size == len(audio)


async def test_source_error_propagates_unchanged(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """An error of the chunks' source ends the upload and is raised as is."""

    async def breaking() -> AsyncIterator[bytes]:
        yield wav_silence(0.5)
        raise SourceBroke("disk gone")

    with pytest.raises(SourceBroke, match="disk gone"):
        await client(deepgram_server, http).transcribe(breaking(), OPTIONS)


async def test_long_upload_outlives_the_session_default(
    deepgram_server: FakeDeepgram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session's own total timeout does not cut a long upload short."""
    deepgram_server.latency = Latency(prerecorded_base=0.6)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.3)) as short:
        result = await DeepgramRestClient(
            short, Endpoint(deepgram_server.base_url, KEY)
        ).transcribe(chunks(wav_silence(0.5)), OPTIONS, timeout=5)
    assert result.duration == pytest.approx(0.5)


async def test_the_whole_request_is_bounded(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """`timeout` bounds upload and answer together."""
    deepgram_server.latency = Latency(upload_bytes_per_second=100_000)
    started = time.monotonic()
    with pytest.raises(DeepgramTimeoutError, match="/v1/listen"):
        await client(deepgram_server, http).transcribe(
            chunks(bytes(20_000_000)), OPTIONS, timeout=0.5
        )
    assert time.monotonic() - started < 2


async def test_unreachable(socket_enabled: None, http: aiohttp.ClientSession) -> None:
    """Nothing listening: a connection error, the source left alone."""
    rest = DeepgramRestClient(http, Endpoint(f"http://127.0.0.1:{unused_port()}", KEY))
    with pytest.raises(DeepgramConnectionError):
        await rest.transcribe(chunks(wav_silence(0.2)), OPTIONS, connect_timeout=1)


async def test_detection_speakers_and_word_languages(
    deepgram_server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """detect_language and diarize are sent; their answers are read."""
    deepgram_server.script = script_from_text("Bonjour. Oui?", start=0.2)
    deepgram_server.detected_language = "fr"
    options = LiveOptions(
        encoding=None,
        sample_rate=None,
        channels=None,
        language=None,
        detect_language=True,
        diarize=True,
    )
    result = await client(deepgram_server, http).transcribe(wav_silence(2.0), options)
    assert result.detected_language == "fr"
    assert result.language_confidence == pytest.approx(0.97)
    assert [w.speaker for w in result.words] == [0, 1]
    [request] = deepgram_server.rest_requests
    assert request.query["detect_language"] == "true"
    assert request.query["diarize"] == "true"
    assert "language" not in request.query


def test_detect_language_replaces_language() -> None:
    """Asking for detection and a language at once is refused before sending."""
    with pytest.raises(DeepgramOptionsError, match="detect_language"):
        LiveOptions(language="en", detect_language=True).validate()


async def test_odd_extras_are_ignored(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """Odd language, model and speaker fields do not break the answer."""

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response(
            {
                "metadata": {"model_info": "x", "request_id": "r"},
                "results": {
                    "channels": [
                        {
                            "detected_language": 3,
                            "language_confidence": "high",
                            "alternatives": [
                                {
                                    "transcript": "hi",
                                    "confidence": 1,
                                    "words": [
                                        {
                                            "word": "hi",
                                            "start": 0,
                                            "end": 1,
                                            "confidence": 1,
                                            "speaker": True,
                                        }
                                    ],
                                }
                            ],
                        }
                    ]
                },
            }
        )

    base_url = await odd_server({"POST /v1/listen": handler})
    result = await DeepgramRestClient(http, Endpoint(base_url, KEY)).transcribe(
        chunks(wav_silence(0.1)), OPTIONS
    )
    assert result.transcript == "hi"
    assert result.detected_language is None
    assert result.language_confidence is None
    assert result.model_names == ()
    assert result.words[0].speaker is None
