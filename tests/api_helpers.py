"""Helpers shared by the protocol-layer tests (`tests/test_api_*.py`).

`LiveSession` (nova, /v1) and `FluxSession` (Flux, /v2) stream audio the same
way (both are `StreamSession`s), so their tests make, send and read audio with
the same few functions, and stand up hand-written WebSocket servers the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

from custom_components.deepgram.api import (
    DeepgramAuthError,
    DeepgramBadRequestError,
    DeepgramError,
    DeepgramForbiddenError,
    DeepgramPaymentRequiredError,
    DeepgramRateLimitError,
    DeepgramServerError,
    Endpoint,
    FluxOptions,
    FluxSession,
    LiveOptions,
    LiveSession,
)
from custom_components.deepgram.api.stream import StreamSession
from tests.conftest import Handler
from tests.deepgram_server import FakeDeepgram, LiveSessionRecord
from tests.deepgram_server.server import DEFAULT_API_KEY

KEY = DEFAULT_API_KEY  # the key the fake server expects unless told otherwise
BYTES_PER_SECOND = 32000  # linear16, 16 kHz, mono
CHUNK = 320  # 10 ms, what Home Assistant's pipeline hands over

# Each status a WebSocket handshake may be refused with, and its typed error.
HANDSHAKE_REFUSALS: list[tuple[int, type[DeepgramError]]] = [
    (400, DeepgramBadRequestError),
    (401, DeepgramAuthError),
    (402, DeepgramPaymentRequiredError),
    (403, DeepgramForbiddenError),
    (429, DeepgramRateLimitError),
    (500, DeepgramServerError),
    (503, DeepgramServerError),
]

type Behaviour = Callable[[web.Request, web.WebSocketResponse], Awaitable[None]]


def pcm(seconds: float, seed: int = 0) -> bytes:
    """Recognisable (non-silent) 16-bit PCM, so order and loss show on the wire."""
    size = int(BYTES_PER_SECOND * seconds) // 2 * 2
    return bytes((seed + i) % 251 for i in range(size))


def chunks(audio: bytes, size: int = CHUNK) -> list[bytes]:
    """Split audio as the pipeline hands it over."""
    return [audio[i : i + size] for i in range(0, len(audio), size)]


async def send(session: StreamSession, audio: bytes) -> None:
    """Send audio in 10 ms chunks."""
    for chunk in chunks(audio):
        await session.send_audio(chunk)


async def send_until_it_fails(session: StreamSession) -> None:
    """Send 10 s chunks until a send fails (at most 320 MB; buffers fill first)."""
    ten_seconds = pcm(10.0)
    for _ in range(1000):
        await session.send_audio(ten_seconds)


def wire_audio(record: LiveSessionRecord) -> bytes:
    """Every binary frame the server received, joined."""
    return b"".join(
        frame.data for frame in record.frames if isinstance(frame.data, bytes)
    )


def live(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    options: LiveOptions | None = None,
    *,
    key: str | None = None,
    base_url: str | None = None,
    **kwargs: Any,
) -> LiveSession:
    """A `/v1/listen` session to the fake server (or to `base_url`).

    With the key the server expects, unless `key` is given.
    """
    if key is None:
        key = server.api_key or ""
    endpoint = Endpoint(base_url or server.base_url, key)
    return LiveSession(http, endpoint, options or LiveOptions(), **kwargs)


def flux(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    options: FluxOptions | None = None,
    **kwargs: Any,
) -> FluxSession:
    """A `/v2/listen` session to the fake server, with the key it expects."""
    endpoint = Endpoint(server.base_url, server.api_key or "")
    return FluxSession(http, endpoint, options or FluxOptions(), **kwargs)


def websocket_route(path: str, behaviour: Behaviour) -> dict[str, Handler]:
    """An `odd_server` route at `path` that accepts the socket and runs `behaviour`.

    For what the faithful fake server never does (odd frames, early closes).
    """

    async def listen(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await behaviour(request, ws)
        return ws

    return {f"GET {path}": listen}


def assert_secret_hidden(
    secret: str, errors: list[DeepgramError], *objects: object, log: str
) -> None:
    """`secret` is in no error's text or repr, no object's repr and not in `log`."""
    for error in errors:
        assert secret not in str(error)
        assert secret not in repr(error)
    for shown in objects:
        assert secret not in repr(shown)
    assert secret not in log
