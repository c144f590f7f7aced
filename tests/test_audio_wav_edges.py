"""WAV header edges: every refusal's exact words, and each bound at its limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
import struct

import pytest

from custom_components.deepgram.audio import MAX_SKIPPED, AudioFormatError, pcm_audio

PCM = bytes(range(256)) * 4


def chunk(chunk_id: bytes, body: bytes, size: int | None = None) -> bytes:
    """A RIFF chunk, padded to an even size."""
    header = chunk_id + struct.pack("<I", len(body) if size is None else size)
    return header + body + (b"\0" if len(body) % 2 else b"")


def fmt_body(tag: int = 1, bits: int = 16, extra: bytes = b"") -> bytes:
    """A `fmt ` chunk body: mono, 16 kHz."""
    return struct.pack("<HHIIHH", tag, 1, 16000, 32000 * bits // 16, 2, bits) + extra


def riff(*chunks: bytes, form: bytes = b"WAVE") -> bytes:
    body = form + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


async def read(data: bytes) -> bytes:
    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 100):
            yield data[start : start + 100]

    audio = pcm_audio(stream(), sample_rate=16000, channels=1)
    return b"".join([part async for part in audio])


FMT = chunk(b"fmt ", fmt_body())
DATA = chunk(b"data", PCM)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            riff(FMT, DATA, form=b"AVI "),
            "the audio starts like a WAV file but is not one",
        ),
        (riff(FMT), "the WAV file ends before its audio data"),
        (
            riff(FMT, chunk(b"LIST", b"")[:4] + struct.pack("<I", 100)),
            "the WAV file ends before its audio data",
        ),
        (riff(DATA), "the WAV file has no format chunk before data"),
        (
            riff(chunk(b"fmt ", fmt_body()[:8]), DATA),
            "the WAV file's format chunk is malformed",
        ),
        (riff(chunk(b"fmt ", b"", size=16)), "the WAV file ends in its format chunk"),
        (
            riff(chunk(b"fmt ", fmt_body(0xFFFE, extra=b"\x16\0" + bytes(6))), DATA),
            "the WAV file's format chunk is too short",
        ),
        (
            riff(chunk(b"fmt ", fmt_body(bits=0x8010)), DATA),
            "the WAV file holds 32784-bit PCM, 16000 Hz, 1 channel(s), not the "
            "16-bit PCM, 16000 Hz, 1 channel(s) the request declared",
        ),
        (
            riff(
                chunk(
                    b"fmt ",
                    fmt_body(
                        0xFFFE,
                        extra=b"\x16\0\x10\0" + bytes(4) + b"\xff\xff" + bytes(14),
                    ),
                ),
                DATA,
            ),
            "the WAV file holds format 65535, 16000 Hz, 1 channel(s), not the "
            "16-bit PCM, 16000 Hz, 1 channel(s) the request declared",
        ),
    ],
)
async def test_refusals_say_what_is_wrong(data: bytes, message: str) -> None:
    """Each malformed header is refused in plain words (they reach the log)."""
    with pytest.raises(AudioFormatError) as info:
        await read(data)
    assert str(info.value) == message


async def test_shortest_extensible_format_chunk_is_read() -> None:
    """WAVE_FORMAT_EXTENSIBLE needs 26 bytes to name its subformat: 26 do."""
    body = fmt_body(0xFFFE, extra=b"\x16\0\x10\0" + bytes(4) + b"\x01\0")
    assert len(body) == 26
    assert await read(riff(chunk(b"fmt ", body), DATA)) == PCM


async def test_largest_format_chunk_is_read() -> None:
    """A format chunk of 1024 bytes (extra fields) is still a format chunk."""
    body = fmt_body(extra=bytes(1024 - 16))
    assert await read(riff(chunk(b"fmt ", body), DATA)) == PCM


async def test_skipped_chunks_are_bounded_in_total() -> None:
    """Up to MAX_SKIPPED bytes of other chunks before `data`, counted together."""
    exactly = chunk(b"LIST", bytes(MAX_SKIPPED - 8))
    assert await read(riff(FMT, exactly, DATA)) == PCM
    half = chunk(b"LIST", bytes(MAX_SKIPPED // 2))
    with pytest.raises(AudioFormatError, match="no audio data in its first"):
        await read(riff(FMT, half, half, DATA))
