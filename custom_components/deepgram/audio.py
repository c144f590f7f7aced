"""Audio stream helpers: raw PCM is what Deepgram is told to expect.

Pipelines send raw 16-bit PCM. Home Assistant's HTTP STT API passes the body
on as it comes, so a WAV file arrives with its RIFF header. The header is
read here: the audio must be 16-bit PCM at the rate and channel count the
request declared (Deepgram would otherwise hear noise and "succeed"), the
chunks before `data` are skipped wherever `data` starts, and what follows
the data chunk (a trailing `LIST`, say) is not sent as sound.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
import struct

_RIFF_HEADER = 12
_CHUNK_HEADER = 8
_FMT_MIN = 16
_FMT_MAX = 1024
MAX_SKIPPED = 1 << 20
"""Bytes of chunks before `data` a WAV may have (metadata, padding)."""

_PCM = 0x0001
_EXTENSIBLE = 0xFFFE
_FORMAT_NAMES = {
    0x0003: "32-bit float",
    0x0006: "A-law",
    0x0007: "μ-law",
    0x0055: "MP3",
    0x0011: "IMA ADPCM",
    0x0002: "ADPCM",
}
_UNKNOWN_SIZE = (0, 0xFFFFFFFF)  # streamed WAVs leave the data size open


class AudioFormatError(Exception):
    """The audio is not what the request told Deepgram to expect."""


@dataclass(frozen=True, slots=True)
class WavFormat:
    """The `fmt ` chunk of a WAV file."""

    format_tag: int
    channels: int
    sample_rate: int
    bits_per_sample: int

    @classmethod
    def parse(cls, body: bytes) -> WavFormat:
        """Read a `fmt ` chunk body (16 bytes or more).

        WAVE_FORMAT_EXTENSIBLE names the real format in its subformat.
        """
        tag, channels, rate = struct.unpack_from("<HHI", body, 0)
        (bits,) = struct.unpack_from("<H", body, 14)
        if tag == _EXTENSIBLE:
            if len(body) < 26:
                raise AudioFormatError("the WAV file's format chunk is too short")
            (tag,) = struct.unpack_from("<H", body, 24)
        return cls(tag, channels, rate, bits)

    def describe(self) -> str:
        """In words: `16-bit PCM, 44100 Hz, 2 channels`."""
        if self.format_tag == _PCM:
            kind = f"{self.bits_per_sample}-bit PCM"
        else:
            kind = _FORMAT_NAMES.get(self.format_tag, f"format {self.format_tag}")
        return f"{kind}, {self.sample_rate} Hz, {self.channels} channel(s)"

    def check(self, sample_rate: int, channels: int) -> None:
        """Raise unless this is 16-bit PCM at the declared rate and channels."""
        if (self.format_tag, self.bits_per_sample) != (_PCM, 16) or (
            self.sample_rate,
            self.channels,
        ) != (sample_rate, channels):
            raise AudioFormatError(
                f"the WAV file holds {self.describe()}, not the 16-bit PCM, "
                f"{sample_rate} Hz, {channels} channel(s) the request declared"
            )


class _Reader:
    """Reads exact byte counts from a stream of chunks of any size."""

    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._iterator = aiter(stream)
        self.buffer = b""

    async def fill(self, size: int) -> bool:
        """Buffer at least `size` bytes; False if the stream ends first."""
        while len(self.buffer) < size:
            chunk = await anext(self._iterator, None)
            if chunk is None:
                return False
            self.buffer += chunk
        return True

    async def take(self, size: int) -> bytes | None:
        """Exactly `size` bytes, or None if the stream ends first."""
        if not await self.fill(size):
            return None
        taken, self.buffer = self.buffer[:size], self.buffer[size:]
        return taken

    async def skip(self, size: int) -> bool:
        """Drop `size` bytes without keeping them; False if the stream ends."""
        while len(self.buffer) < size:
            size -= len(self.buffer)
            self.buffer = b""
            chunk = await anext(self._iterator, None)
            if chunk is None:
                return False
            self.buffer = chunk
        self.buffer = self.buffer[size:]
        return True

    async def rest(self) -> AsyncIterator[bytes]:
        """The buffered bytes, then the rest of the stream as it comes."""
        if self.buffer:
            yield self.buffer
            self.buffer = b""
        async for chunk in self._iterator:
            yield chunk


async def _wav_data_size(reader: _Reader, sample_rate: int, channels: int) -> int:
    """Read the header up to the audio; return the data chunk's size (0: open)."""
    riff = await reader.take(_RIFF_HEADER)
    if riff is None or riff[8:12] != b"WAVE":
        raise AudioFormatError("the audio starts like a WAV file but is not one")
    wav_format: WavFormat | None = None
    skipped = 0
    while True:
        header = await reader.take(_CHUNK_HEADER)
        if header is None:
            raise AudioFormatError("the WAV file ends before its audio data")
        chunk_id, size = header[:4], struct.unpack_from("<I", header, 4)[0]
        if chunk_id == b"data":
            if wav_format is None:
                raise AudioFormatError("the WAV file has no format chunk before data")
            return 0 if size in _UNKNOWN_SIZE else size
        padded = size + (size & 1)
        if chunk_id == b"fmt ":
            if not _FMT_MIN <= size <= _FMT_MAX:
                raise AudioFormatError("the WAV file's format chunk is malformed")
            body = await reader.take(padded)
            if body is None:
                raise AudioFormatError("the WAV file ends in its format chunk")
            wav_format = WavFormat.parse(body[:size])
            wav_format.check(sample_rate, channels)
            continue
        skipped += _CHUNK_HEADER + padded
        if skipped > MAX_SKIPPED:
            raise AudioFormatError(
                f"the WAV file has no audio data in its first {MAX_SKIPPED} bytes"
            )
        if not await reader.skip(padded):
            raise AudioFormatError("the WAV file ends before its audio data")


async def pcm_audio(
    stream: AsyncIterable[bytes], *, sample_rate: int, channels: int
) -> AsyncIterator[bytes]:
    """Yield the stream's raw PCM: as it is, or from inside a WAV file.

    Raises `AudioFormatError` for a WAV file that is malformed or not 16-bit
    PCM at `sample_rate` and `channels`.
    """
    reader = _Reader(stream)
    await reader.fill(4)
    if not reader.buffer.startswith(b"RIFF"):
        async for chunk in reader.rest():
            yield chunk
        return
    remaining = await _wav_data_size(reader, sample_rate, channels)
    async for chunk in reader.rest():
        if not remaining:
            yield chunk
            continue
        part = chunk[:remaining]
        remaining -= len(part)
        if part:
            yield part
        if not remaining:
            return  # what follows the data chunk is not sound
