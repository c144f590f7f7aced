"""Helpers shared by the speak sessions' tests (`test_api_speak.py` for
Aura on `/v1/speak`, `test_api_flux_speak.py` for Flux TTS on `/v2/speak`).

Both speak a reply through `speak_reply` the same way, against the local
fake Deepgram, and read what it recorded the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json

import aiohttp

from custom_components.deepgram.api import Endpoint
from custom_components.deepgram.api.speak_options import SpeakOptions
from custom_components.deepgram.api.speak_reply import speak_reply
from custom_components.deepgram.api.speak_socket import SpeakSocket
from tests.deepgram_server import FakeDeepgram
from tests.deepgram_server.records import SpeakSessionRecord

RATE = 16000
REPLY = (
    "The kitchen light is on. It was off a minute ago, so I turned it on "
    "for you. Anything else?"
)
SENTENCES = [
    "The kitchen light is on.",
    "It was off a minute ago, so I turned it on for you.",
    "Anything else?",
]


def speak_session[S: SpeakSocket](
    kind: type[S],
    model: str,
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    *,
    key: str | None = None,
    **kwargs: float,
) -> S:
    """A speak session of `kind` for `model` to the fake server at 16 kHz,
    with the key it expects unless `key` is given."""
    endpoint = Endpoint(server.base_url, server.api_key or "" if key is None else key)
    return kind(http, endpoint, SpeakOptions(model=model), **kwargs)


async def deltas(text: str, size: int = 40, pause: float = 0.0) -> AsyncIterator[str]:
    """`text` as an agent writes it: `size` characters every `pause` seconds."""
    for i in range(0, len(text), size):
        if pause:
            await asyncio.sleep(pause)
        yield text[i : i + size]


async def collect(
    session: SpeakSocket,
    text: AsyncIterator[str],
    into: bytearray | None = None,
) -> bytes:
    """Read `speak_reply` to its end (into `into` as it comes); no close."""
    audio = bytearray() if into is None else into
    async for chunk in speak_reply(session, text):
        audio += chunk
    return bytes(audio)


async def spoken(session: SpeakSocket, text: AsyncIterator[str]) -> bytes:
    """Speak `text` through `speak_reply`, then close; the audio heard."""
    try:
        return await collect(session, text)
    finally:
        await session.close()


def record_of(server: FakeDeepgram) -> SpeakSessionRecord:
    """The one speak session the server saw."""
    assert len(server.speak_sessions) == 1
    return server.speak_sessions[0]


def speak_texts(record: SpeakSessionRecord) -> list[str]:
    """The text of every `Speak` the server received, in order."""
    return [
        json.loads(frame.data)["text"]
        for frame in record.frames
        if frame.control_type == "Speak" and isinstance(frame.data, str)
    ]
