"""Issue 18, "Listening hardened": what the streaming sessions survive.

Frames of whole samples for any encoding, odd server messages that end
nothing, request ids that cannot carry the key back, and refused frames
that still end the request with `CloseStream`.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from custom_components.deepgram.api import LiveOptions
from tests.api_helpers import live
from tests.deepgram_server import FakeDeepgram
from tests.deepgram_server.testing import wait_for

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
