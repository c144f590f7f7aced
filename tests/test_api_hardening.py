"""Issue 18, "Listening hardened": what the streaming sessions survive.

Frames of whole samples for any encoding, odd server messages that end
nothing, request ids that cannot carry the key back, and refused frames
that still end the request with `CloseStream`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.deepgram.api import (
    DeepgramServerError,
    Endpoint,
    FluxOptions,
    FluxSession,
    LiveOptions,
    LiveSession,
)
from custom_components.deepgram.api.redact import MAX_REQUEST_ID, REDACTED
from custom_components.deepgram.api.stream import StreamSession
from tests.api_helpers import live
from tests.conftest import API_KEY, OddServer
from tests.deepgram_server import FakeDeepgram
from tests.deepgram_server.testing import wait_for

PATHS = ["/v1/listen", "/v2/listen"]


def session_for(
    path: str, base_url: str, http: aiohttp.ClientSession, **kwargs: Any
) -> StreamSession:
    """A /v1 or /v2 session (by `path`) to `base_url`, with `API_KEY`."""
    endpoint = Endpoint(base_url, API_KEY)
    if path == "/v1/listen":
        return LiveSession(http, endpoint, LiveOptions(), **kwargs)
    return FluxSession(http, endpoint, FluxOptions(), **kwargs)


# -- item 13: the largest frame for an unknown byte rate ----------------------


@pytest.mark.parametrize(
    ("options", "block"),
    [
        (LiveOptions(encoding="mulaw", sample_rate=8000, channels=3), 3),
        (LiveOptions(encoding="linear32", sample_rate=16000, channels=8), 32),
        (LiveOptions(encoding="alaw", sample_rate=8000, channels=7), 7),
    ],
)
async def test_unknown_rate_frames_are_64_kib_of_whole_samples(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    options: LiveOptions,
    block: int,
) -> None:
    """Without a byte rate a big chunk goes out in frames of 64 KiB, whole samples."""
    assert options.bytes_per_second is None
    session = live(deepgram_server, http, options)
    await session.connect()
    audio = bytes(i % 251 for i in range(block * (3 * (1 << 16) // block + 5)))
    async with asyncio.timeout(20):  # frames of one byte would take minutes
        await session.send_audio(audio)
    [record] = deepgram_server.sessions
    await wait_for(lambda: record.audio_bytes == len(audio))
    await session.close()
    largest = (1 << 16) // block * block
    sizes = record.binary_frame_sizes()
    assert sizes[:-1] == [largest] * (len(sizes) - 1)
    assert 0 < sizes[-1] <= largest
    assert all(size % block == 0 for size in sizes)


# -- item 4: a handshake request id echoing the key ---------------------------


@pytest.mark.parametrize("path", PATHS)
async def test_a_handshake_request_id_echoing_the_key_is_scrubbed_and_cut(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    path: str,
) -> None:
    """A proxy echoing Authorization in `dg-request-id`: the error never holds it."""

    async def listen(request: web.Request) -> web.WebSocketResponse:
        auth = request.headers["Authorization"]
        ws = web.WebSocketResponse()
        ws.headers["dg-request-id"] = f"{auth} " + "x" * 300
        await ws.prepare(request)
        await ws.close(code=1011, message=b"boom")
        return ws

    session = session_for(path, await odd_server({f"GET {path}": listen}), http)
    session.start()
    await wait_for(lambda: session.error is not None)
    await session.close()
    error = session.error
    assert isinstance(error, DeepgramServerError)
    request_id = error.request_id
    assert request_id is not None
    assert request_id == session.request_id
    assert request_id.startswith(f"Token {REDACTED} xxx")
    assert request_id.endswith("…")
    assert len(request_id) <= MAX_REQUEST_ID + 1
    assert API_KEY not in str(error)
    assert "x" * 300 not in caplog.text
