"""WAV headers are removed from the HTTP API's bodies; raw PCM passes as is."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
import io
import wave

import pytest

from custom_components.deepgram.audio import strip_wav_header

PCM = bytes(range(256)) * 8


def wav_bytes(pcm: bytes, *, extra_chunk: bool = False) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(pcm)
    data = buffer.getvalue()
    if extra_chunk:  # a LIST chunk (odd size, padded) before "data"
        info = b"LIST" + (5).to_bytes(4, "little") + b"INFOx" + b"\0"
        data = data[:36] + info + data[36:]
    return data


async def split(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def from_list(items: Iterable[bytes]) -> AsyncIterator[bytes]:
    for item in items:
        yield item


@pytest.mark.parametrize("size", [1, 7, 44, 320, 100_000])
async def test_wav_header_removed(size: int) -> None:
    """Whatever the chunking, the PCM comes out without its header."""
    assert await collect(strip_wav_header(split(wav_bytes(PCM), size))) == PCM


async def test_wav_with_other_chunks() -> None:
    """Chunks before `data` (LIST, padded to even size) are skipped."""
    data = wav_bytes(PCM, extra_chunk=True)
    assert await collect(strip_wav_header(split(data, 13))) == PCM


@pytest.mark.parametrize("size", [1, 320])
async def test_raw_pcm_untouched(size: int) -> None:
    """Raw PCM (what pipelines send) is passed on byte for byte."""
    assert await collect(strip_wav_header(split(PCM, size))) == PCM


async def test_short_raw_audio() -> None:
    """A stream shorter than a header that is not a WAV still comes through."""
    assert await collect(strip_wav_header(from_list([b"RI", b"x"]))) == b"RIx"
    assert await collect(strip_wav_header(from_list([b"\x01\x02"]))) == b"\x01\x02"


async def test_header_only_and_empty() -> None:
    """A WAV with no samples, or nothing at all, yields nothing."""
    assert await collect(strip_wav_header(from_list([wav_bytes(b"")]))) == b""
    assert await collect(strip_wav_header(from_list([wav_bytes(b"")[:30]]))) == b""
    assert await collect(strip_wav_header(from_list([]))) == b""


async def test_other_riff_formats_pass_untouched() -> None:
    """A RIFF stream that is not WAVE is not searched for a `data` chunk."""
    avi = b"RIFF" + (100).to_bytes(4, "little") + b"AVI " + b"data" + bytes(8) + PCM
    assert await collect(strip_wav_header(split(avi, 320))) == avi
