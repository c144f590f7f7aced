"""WAV input is read, not guessed: 16-bit PCM at the declared rate passes,
anything else is refused with a clear error; raw PCM passes as is."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
import io
import re
import struct
import wave

import pytest

from custom_components.deepgram.audio import (
    MAX_SKIPPED,
    AudioFormatError,
    WavFormat,
    pcm_audio,
)

PCM = bytes(range(256)) * 8


def wav_bytes(
    pcm: bytes,
    *,
    rate: int = 16000,
    channels: int = 1,
    width: int = 2,
    extra_chunk: bool = False,
) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    data = buffer.getvalue()
    if extra_chunk:  # a LIST chunk (odd size, padded) before "data"
        data = data[:36] + chunk(b"LIST", b"INFOx") + data[36:]
    return data


def chunk(chunk_id: bytes, body: bytes, size: int | None = None) -> bytes:
    """A RIFF chunk, padded to an even size."""
    header = chunk_id + struct.pack("<I", len(body) if size is None else size)
    return header + body + (b"\0" if len(body) % 2 else b"")


def fmt(tag: int, channels: int, rate: int, bits: int, extra: bytes = b"") -> bytes:
    block = channels * bits // 8
    body = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    return chunk(b"fmt ", body + extra)


def riff(*chunks: bytes, form: bytes = b"WAVE") -> bytes:
    body = form + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def extensible(subformat: int, bits: int = 16) -> bytes:
    guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    extra = struct.pack("<HHIH", 22, bits, 0x4, subformat) + guid_tail
    return fmt(0xFFFE, 1, 16000, bits, extra)


async def split(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def from_list(items: Iterable[bytes]) -> AsyncIterator[bytes]:
    for item in items:
        yield item


async def pcm_of(
    stream: AsyncIterator[bytes], rate: int = 16000, channels: int = 1
) -> bytes:
    audio = pcm_audio(stream, sample_rate=rate, channels=channels)
    return b"".join([part async for part in audio])


@pytest.mark.parametrize("size", [1, 7, 44, 320, 321, 100_000])
async def test_wav_header_removed(size: int) -> None:
    """Whatever the chunking, the PCM comes out without its header."""
    assert await pcm_of(split(wav_bytes(PCM), size)) == PCM


async def test_wav_with_other_chunks() -> None:
    """Chunks before `data` (LIST, padded to even size) are skipped."""
    data = wav_bytes(PCM, extra_chunk=True)
    assert await pcm_of(split(data, 13)) == PCM


async def test_data_chunk_far_from_the_start() -> None:
    """A data chunk after 100 kB of other chunks is found; nothing is lost."""
    junk = chunk(b"JUNK", bytes(100_001))
    data = riff(fmt(1, 1, 16000, 16), junk, chunk(b"data", PCM))
    assert await pcm_of(split(data, 320)) == PCM


async def test_empty_chunks_in_the_stream() -> None:
    """Empty pieces anywhere (a source with nothing new) change nothing."""
    data = wav_bytes(PCM)
    parts = [b"", data[:20], b"", data[20:100], b"", data[100:], b""]
    assert await pcm_of(from_list(parts)) == PCM


async def test_chunks_after_the_data_are_not_sound() -> None:
    """A trailing LIST chunk is not sent as audio."""
    data = riff(fmt(1, 1, 16000, 16), chunk(b"data", PCM), chunk(b"LIST", b"x" * 99))
    assert await pcm_of(split(data, 100)) == PCM


@pytest.mark.parametrize("size", [0, 0xFFFFFFFF])
async def test_streamed_wav_of_unknown_length(size: int) -> None:
    """A data size left open (streamed WAV) means the rest of the stream."""
    data = riff(fmt(1, 1, 16000, 16)) + b"data" + struct.pack("<I", size) + PCM
    assert await pcm_of(split(data, 320)) == PCM


@pytest.mark.parametrize(("rate", "channels"), [(8000, 1), (44100, 2), (48000, 2)])
async def test_other_rates_and_channels(rate: int, channels: int) -> None:
    """16-bit PCM at the declared rate and channels passes."""
    data = wav_bytes(PCM, rate=rate, channels=channels)
    assert await pcm_of(split(data, 333), rate, channels) == PCM


async def test_extensible_pcm() -> None:
    """WAVE_FORMAT_EXTENSIBLE with a PCM subformat is PCM."""
    data = riff(extensible(1), chunk(b"data", PCM))
    assert await pcm_of(split(data, 320)) == PCM


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (riff(fmt(3, 1, 16000, 32), chunk(b"data", PCM)), "32-bit float"),
        (riff(fmt(6, 1, 16000, 8), chunk(b"data", PCM)), "A-law"),
        (riff(fmt(7, 1, 16000, 8), chunk(b"data", PCM)), "μ-law"),
        (riff(fmt(0x55, 1, 16000, 0), chunk(b"data", PCM)), "MP3"),
        (riff(fmt(0x1234, 1, 16000, 16), chunk(b"data", PCM)), "format 4660"),
        (riff(extensible(3, 32), chunk(b"data", PCM)), "32-bit float"),
        (wav_bytes(PCM, width=3), "24-bit PCM"),
        (wav_bytes(PCM, width=1), "8-bit PCM"),
        (wav_bytes(PCM, rate=44100), "44100 Hz"),
        (wav_bytes(PCM, rate=8000), "8000 Hz"),
        (wav_bytes(PCM, channels=2), "2 channel(s)"),
    ],
    ids=[
        "float",
        "alaw",
        "mulaw",
        "mp3",
        "unknown",
        "extensible-float",
        "24-bit",
        "8-bit",
        "44k1-declared-16k",
        "8k-declared-16k",
        "stereo-declared-mono",
    ],
)
async def test_not_the_declared_pcm(data: bytes, message: str) -> None:
    """Audio that is not 16-bit PCM at the declared rate: a clear error."""
    with pytest.raises(AudioFormatError, match=re.escape(message)) as caught:
        await pcm_of(split(data, 320))
    assert "16-bit PCM, 16000 Hz, 1 channel(s) the request declared" in str(
        caught.value
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (riff(fmt(1, 1, 16000, 16)), "ends before its audio"),
        (wav_bytes(PCM)[:30], "ends in its format chunk"),
        (wav_bytes(PCM)[:10], "not one"),
        (riff(chunk(b"data", PCM)), "no format chunk"),
        (riff(fmt(1, 1, 16000, 16), form=b"AVI "), "not one"),
        (riff(chunk(b"fmt ", b"\x01\x00")), "malformed"),
        (riff(chunk(b"fmt ", bytes(2000))), "malformed"),
        (
            riff(chunk(b"fmt ", struct.pack("<HHI", 0xFFFE, 1, 16000) + bytes(10))),
            "short",
        ),
        (riff(fmt(1, 1, 16000, 16), chunk(b"JUNK", b"x", size=1000)), "ends before"),
        (
            riff(fmt(1, 1, 16000, 16), chunk(b"JUNK", bytes(MAX_SKIPPED))),
            f"first {MAX_SKIPPED} bytes",
        ),
    ],
    ids=[
        "no-data-chunk",
        "truncated-fmt",
        "truncated-riff",
        "data-before-fmt",
        "not-wave",
        "fmt-too-short",
        "fmt-too-long",
        "extensible-too-short",
        "truncated-chunk",
        "data-too-far",
    ],
)
async def test_malformed_wav(data: bytes, message: str) -> None:
    """A WAV file that cannot be read: a clear error, never silent loss."""
    with pytest.raises(AudioFormatError, match=message):
        await pcm_of(split(data, 320))


def test_describe() -> None:
    assert WavFormat(1, 2, 44100, 16).describe() == "16-bit PCM, 44100 Hz, 2 channel(s)"


@pytest.mark.parametrize("size", [1, 7, 320, 321])
async def test_raw_pcm_untouched(size: int) -> None:
    """Raw PCM (what pipelines send) is passed on byte for byte."""
    assert await pcm_of(split(PCM, size)) == PCM


async def test_short_raw_audio() -> None:
    """A stream shorter than a header that is not a WAV still comes through."""
    assert await pcm_of(from_list([b"RI", b"x"])) == b"RIx"
    assert await pcm_of(from_list([b"\x01\x02"])) == b"\x01\x02"


async def test_header_only_and_empty() -> None:
    """A WAV with no samples, or nothing at all, yields nothing."""
    assert await pcm_of(from_list([wav_bytes(b"")])) == b""
    assert await pcm_of(from_list([])) == b""
    assert await pcm_of(from_list([b"", b""])) == b""
