"""Synthetic speech for the fake ``/v1`` and ``/v2/speak``: audio a test reads back.

Each synthesised piece of text becomes, at the requested sample rate:

1. a *marker*: four sync samples (+30000, -30000, +30000, -30000), then a
   header and the piece's UTF-8 text, one nibble a sample at levels
   ``(2 * nibble - 15) * 1024`` (never beyond +-15360), then a CRC-16;
2. a sine *tone* (amplitude 8000, 200 to 785 Hz depending on the text) up to
   the piece's length, so the audio is audible and the piece's length follows
   its character count (``seconds_per_char / speed`` each);
3. ``GAP_SECONDS`` of silence.

The header holds the piece's voiced length (marker + tone, in samples) and
the text's length in bytes. Sync samples are the only ones beyond +-24000,
levels are 2048 apart, so a marker survives G.711 (mulaw/alaw quantises by
at most 512 at these amplitudes) and anything that keeps samples intact: a
WAV container, any split into frames. Resampling does not keep it (Home
Assistant's ffmpeg at another rate): decode what the server sent.

:func:`decode_pieces` finds every marker, checks its CRC and says whether
the whole voiced length followed (a piece cut off by ``Clear`` or a
dropped socket is found but not ``complete``).
"""

from __future__ import annotations

from array import array
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
import math
import sys
import zlib

SYNC = (30000, -30000, 30000, -30000)
_SYNC_THRESHOLD = 24000
_HALF_STEP = 1024
_TONE_AMPLITUDE = 8000
GAP_SECONDS = 0.02
"""Silence after each piece."""
MIN_TONE_SECONDS = 0.01
"""The shortest tone after a marker (so even a fast piece is heard)."""
ENCODINGS = ("linear16", "mulaw", "alaw")
_HEADER_BYTES = 8  # voiced samples (4 bytes), text bytes (4 bytes)
_CRC_BYTES = 2


def _level(nibble: int) -> int:
    return (2 * nibble - 15) * _HALF_STEP


def _nibble(sample: int) -> int | None:
    nibble = round((sample / _HALF_STEP + 15) / 2)
    return nibble if 0 <= nibble <= 15 else None


def tone_frequency(text: str) -> int:
    """The tone of a piece: 200 to 785 Hz in 15 Hz steps, from the text."""
    return 200 + (zlib.crc32(text.encode()) % 40) * 15


def _marker(text: str, voiced: int) -> list[int]:
    data = text.encode()
    payload = voiced.to_bytes(4, "big") + len(data).to_bytes(4, "big") + data
    payload += binascii.crc_hqx(payload, 0xFFFF).to_bytes(_CRC_BYTES, "big")
    samples = list(SYNC)
    for byte in payload:
        samples.append(_level(byte >> 4))
        samples.append(_level(byte & 0x0F))
    return samples


@cache
def _tone_second(frequency: int, sample_rate: int) -> array[int]:
    """One second of a tone (whole periods: tiling it is seamless)."""
    step = 2 * math.pi * frequency / sample_rate
    return array(
        "h", (round(_TONE_AMPLITUDE * math.sin(step * i)) for i in range(sample_rate))
    )


def piece_samples(
    text: str, sample_rate: int, seconds_per_char: float, speed: float = 1.0
) -> array[int]:
    """The samples of one piece: marker, tone, silence (see the module docstring)."""
    marker_length = len(_marker(text, 0))
    wanted = round(len(text) * seconds_per_char / speed * sample_rate)
    voiced = max(marker_length + round(MIN_TONE_SECONDS * sample_rate), wanted)
    samples = array("h", _marker(text, voiced))
    tone_length = voiced - marker_length
    second = _tone_second(tone_frequency(text), sample_rate)
    samples.extend(second * (tone_length // sample_rate))
    samples.extend(second[: tone_length % sample_rate])
    samples.frombytes(bytes(2 * round(GAP_SECONDS * sample_rate)))
    return samples


# -- G.711 and 16-bit little-endian ------------------------------------------


def _mulaw(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(-sample if sample < 0 else sample, 32635) + 0x84
    exponent = 7
    while exponent > 0 and not magnitude & (0x4000 >> (7 - exponent)):
        exponent -= 1
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | exponent << 4 | mantissa) & 0xFF


def _mulaw_linear(byte: int) -> int:
    byte = ~byte & 0xFF
    exponent = (byte >> 4) & 0x07
    magnitude = ((((byte & 0x0F) << 3) + 0x84) << exponent) - 0x84
    return -magnitude if byte & 0x80 else magnitude


def _alaw(sample: int) -> int:
    value = sample >> 3
    mask = 0xD5 if value >= 0 else 0x55
    if value < 0:
        value = -value - 1
    segment = 0  # value <= 4095: segment 7 at most
    while value > (0x20 << segment) - 1:
        segment += 1
    shift = 1 if segment < 2 else segment
    return (segment << 4 | (value >> shift) & 0x0F) ^ mask


def _alaw_linear(byte: int) -> int:
    byte ^= 0x55
    segment = (byte & 0x70) >> 4
    magnitude = (byte & 0x0F) << 4
    if segment == 0:
        magnitude += 8
    else:
        magnitude = (magnitude + 0x108) << (segment - 1)
    return magnitude if byte & 0x80 else -magnitude


@cache
def _encode_table(encoding: str) -> bytes:
    """Byte of every 16-bit sample (indexed by ``sample & 0xFFFF``)."""
    encode = _mulaw if encoding == "mulaw" else _alaw
    return bytes(encode(i - 0x10000 if i & 0x8000 else i) for i in range(0x10000))


@cache
def _decode_table(encoding: str) -> tuple[int, ...]:
    decode = _mulaw_linear if encoding == "mulaw" else _alaw_linear
    return tuple(decode(byte) for byte in range(256))


def encode_samples(samples: Iterable[int], encoding: str = "linear16") -> bytes:
    """Raw audio bytes: 16-bit little-endian, or one G.711 byte a sample."""
    if encoding == "linear16":
        pcm = array("h", samples)
        if sys.byteorder == "big":  # pragma: no cover - little-endian hosts
            pcm.byteswap()
        return pcm.tobytes()
    table = _encode_table(encoding)
    return bytes(table[sample & 0xFFFF] for sample in samples)


def decode_samples(audio: bytes, encoding: str = "linear16") -> Sequence[int]:
    """16-bit samples of raw audio (a trailing odd byte of linear16 is ignored)."""
    if encoding == "linear16":
        pcm = array("h")
        pcm.frombytes(audio[: len(audio) // 2 * 2])
        if sys.byteorder == "big":  # pragma: no cover - little-endian hosts
            pcm.byteswap()
        return pcm
    table = _decode_table(encoding)
    return [table[byte] for byte in audio]


def sample_width(encoding: str) -> int:
    """Bytes per sample."""
    return 2 if encoding == "linear16" else 1


def synthesise(
    text: str,
    sample_rate: int,
    *,
    encoding: str = "linear16",
    seconds_per_char: float = 0.005,
    speed: float = 1.0,
) -> bytes:
    """The audio bytes of one piece in ``encoding``."""
    return encode_samples(
        piece_samples(text, sample_rate, seconds_per_char, speed), encoding
    )


# -- reading it back ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecodedPiece:
    """A piece found in audio: its text, where it starts, whether it is whole."""

    text: str
    start: float
    """Seconds from the start of the audio to the piece's first sample."""
    duration: float
    """Voiced seconds (marker + tone) the piece announced."""
    complete: bool
    """Whether all its voiced samples are in the audio (not cut off)."""


def _read_bytes(samples: Sequence[int], at: int, count: int) -> bytes | None:
    out = bytearray()
    for index in range(at, at + 2 * count, 2):
        high = _nibble(samples[index])
        low = _nibble(samples[index + 1])
        if high is None or low is None:
            return None
        out.append(high << 4 | low)
    return bytes(out)


def _read_marker(samples: Sequence[int], at: int) -> tuple[str, int, int] | None:
    """(text, voiced samples, marker samples) of a marker at ``at``, or None."""
    body = at + len(SYNC)
    if body + 2 * (_HEADER_BYTES + _CRC_BYTES) > len(samples):
        return None
    header = _read_bytes(samples, body, _HEADER_BYTES)
    if header is None:
        return None
    voiced = int.from_bytes(header[:4], "big")
    size = int.from_bytes(header[4:], "big")
    end = body + 2 * (_HEADER_BYTES + size + _CRC_BYTES)
    if end > len(samples):
        return None
    rest = _read_bytes(samples, body + 2 * _HEADER_BYTES, size + _CRC_BYTES)
    if rest is None:
        return None
    data, crc = rest[:size], rest[size:]
    if binascii.crc_hqx(header + data, 0xFFFF) != int.from_bytes(crc, "big"):
        return None
    try:
        text = data.decode()
    except UnicodeDecodeError:  # pragma: no cover - the CRC matched
        return None
    return text, voiced, end - at


def _is_sync(samples: Sequence[int], at: int) -> bool:
    return all(
        (sample >= _SYNC_THRESHOLD) if sync > 0 else (sample <= -_SYNC_THRESHOLD)
        for sample, sync in zip(samples[at : at + len(SYNC)], SYNC, strict=True)
    )


def decode_pieces(
    audio: bytes, sample_rate: int, encoding: str = "linear16"
) -> list[DecodedPiece]:
    """Every piece whose marker is in ``audio``, in order.

    ``audio`` is what the server sent joined (any frame split), raw or with a
    WAV header in front (its bytes never look like a marker).
    """
    samples = decode_samples(audio, encoding)
    found: list[DecodedPiece] = []
    index = 0
    last = len(samples) - len(SYNC)
    while index <= last:
        if samples[index] >= _SYNC_THRESHOLD and _is_sync(samples, index):
            marker = _read_marker(samples, index)
            if marker is not None:
                text, voiced, length = marker
                found.append(
                    DecodedPiece(
                        text=text,
                        start=index / sample_rate,
                        duration=voiced / sample_rate,
                        complete=index + voiced <= len(samples),
                    )
                )
                index += length
                continue
        index += 1
    return found


def decode_speech(
    audio: bytes, sample_rate: int, encoding: str = "linear16"
) -> list[str]:
    """The texts spoken in ``audio``, in order (cut-off pieces included)."""
    return [piece.text for piece in decode_pieces(audio, sample_rate, encoding)]
