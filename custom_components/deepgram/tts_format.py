"""Deepgram's speak audio in the shape Home Assistant asks a TTS entity for.

A speak socket sends 16-bit little-endian mono PCM (`linear16`) at one of a
few rates. Home Assistant asks for `preferred_format`, `preferred_sample_rate`,
`preferred_sample_channels` and `preferred_sample_bytes`. The entity always
answers WAV: when the WAV is what was asked, Home Assistant (2026.11) passes
it on untouched, so the header and the samples must be exactly at the asked
rate, channels and width; when another format is asked, Home Assistant runs
ffmpeg over the WAV anyway (with the asked rate, channels and width), so the
audio is left as Deepgram sent it and ffmpeg's better resampler does the rest.

Deepgram is asked for the asked rate when the socket offers it, else for the
lowest offered rate above it, so converting only ever drops samples there
(see `deepgram_rate`). The converter streams: chunks may split a sample, and
resampling carries its position and last sample across chunks, so any split
of the same audio gives the same samples as one piece. Standard library only
(`audioop` is gone); samples are read and written as explicitly little-endian
with `struct`, so the host's byte order never matters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import math
import struct
from typing import Final

from .api.speak_options import SPEAK_PATHS, V1_SAMPLE_RATES, V2_SAMPLE_RATES

DEFAULT_RATE: Final = 24000
"""Aura voices' natural rate: asked for when Home Assistant names none."""
MIN_RATE: Final = 8000
MAX_RATE: Final = 192000
CHANNELS: Final = (1, 2)
SAMPLE_BYTES: Final = (1, 2, 4)
WAV_HEADER_SIZE: Final = 44
STREAMING_SIZE: Final = 0xFFFFFFFF
"""RIFF and data sizes of a WAV whose length is not known, as ffmpeg writes
to a pipe (a size of 0 is taken literally by readers such as `wave`)."""

FORMAT: Final = "preferred_format"
SAMPLE_RATE: Final = "preferred_sample_rate"
SAMPLE_CHANNELS: Final = "preferred_sample_channels"
SAMPLE_WIDTH: Final = "preferred_sample_bytes"

_RATES: Final = {
    SPEAK_PATHS["aura"]: V1_SAMPLE_RATES["linear16"],
    SPEAK_PATHS["flux"]: V2_SAMPLE_RATES["linear16"],
}
_WAV_FORMAT_PCM: Final = 1
_SOURCE_WIDTH: Final = 2
_TO_UNSIGNED: Final = bytes(b ^ 0x80 for b in range(256))
"""The high byte of a signed 16-bit sample, as an unsigned 8-bit sample."""


def deepgram_rate(requested: int | None, path: str) -> int:
    """The linear16 rate to ask Deepgram for on a speak socket `path`.

    The requested rate itself when the socket offers it (no conversion);
    else the lowest offered rate above it, so the converter only resamples
    down and loses nothing the asked rate could carry; else (above every
    offered rate) the highest. None: Aura's natural 24 kHz, sent as is.
    """
    try:
        offered = _RATES[path]
    except KeyError:
        raise ValueError(f"Unknown speak socket path {path!r}") from None
    if requested is None:
        return DEFAULT_RATE
    if requested in offered:
        return requested
    above = [rate for rate in offered if rate > requested]
    return min(above) if above else max(offered)


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """The PCM inside the WAV the entity returns."""

    sample_rate: int
    channels: int
    sample_bytes: int

    def __post_init__(self) -> None:
        """Refuse a format no WAV reader (or satellite) could take."""
        _check_rate(self.sample_rate)
        _whole(SAMPLE_CHANNELS, self.channels)
        _whole(SAMPLE_WIDTH, self.sample_bytes)
        if self.channels not in CHANNELS:
            raise ValueError(
                f"{SAMPLE_CHANNELS} {self.channels} is not supported: use 1 or 2"
            )
        if self.sample_bytes not in SAMPLE_BYTES:
            raise ValueError(
                f"{SAMPLE_WIDTH} {self.sample_bytes} is not supported: use 1, 2 or 4"
            )

    @property
    def frame_bytes(self) -> int:
        """Bytes of one frame (a sample on every channel)."""
        return self.channels * self.sample_bytes


def _whole(name: str, value: object) -> int:
    """`value` if it is an int (a bool is not), else the user's error."""
    if isinstance(value, bool) or not isinstance(value, int):
        # ValueError, not TypeError: a bad option is the user's error.
        raise ValueError(f"{name} must be a whole number, not {value!r}")  # noqa: TRY004
    return value


def _check_rate(rate: int) -> None:
    _whole(SAMPLE_RATE, rate)
    if not MIN_RATE <= rate <= MAX_RATE:
        raise ValueError(
            f"{SAMPLE_RATE} {rate} is out of range: use {MIN_RATE} to {MAX_RATE} Hz"
        )


def _option(options: Mapping[str, object], name: str) -> int | None:
    """An integer option; a string `int()` reads counts too, as Home
    Assistant's own conversion path (`int(value)`) takes one."""
    value = options.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    return _whole(name, value)


def requested_rate(options: Mapping[str, object]) -> int | None:
    """The sample rate the options ask for, checked (None when not asked)."""
    rate = _option(options, SAMPLE_RATE)
    if rate is not None:
        _check_rate(rate)
    return rate


def output_format(options: Mapping[str, object], source_rate: int) -> OutputFormat:
    """The WAV's format for Home Assistant's `preferred_*` options.

    Missing options: the source rate, mono, 16-bit. Every given value is
    checked (`ValueError` says which and why). When a format other than WAV
    is named, Home Assistant converts the WAV with ffmpeg using the same
    options, so the source's own format is returned and nothing is done
    twice.
    """
    preferred = options.get(FORMAT)
    if preferred is not None and not isinstance(preferred, str):
        raise ValueError(f"{FORMAT} must be a format name, not {preferred!r}")
    rate = _option(options, SAMPLE_RATE)
    channels = _option(options, SAMPLE_CHANNELS)
    width = _option(options, SAMPLE_WIDTH)
    asked = OutputFormat(
        source_rate if rate is None else rate,
        1 if channels is None else channels,
        _SOURCE_WIDTH if width is None else width,
    )
    if preferred is not None and preferred != "wav":
        return OutputFormat(source_rate, 1, _SOURCE_WIDTH)
    return asked


def speak_output(options: Mapping[str, object], path: str) -> tuple[int, OutputFormat]:
    """The rate to ask Deepgram for on `path`, and the WAV's format."""
    source_rate = deepgram_rate(requested_rate(options), path)
    return source_rate, output_format(options, source_rate)


def wav_header(fmt: OutputFormat) -> bytes:
    """A 44-byte header of a streaming PCM WAV (sizes left open).

    8-bit samples are unsigned, wider ones signed (the WAV convention the
    converter follows).
    """
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        STREAMING_SIZE,
        b"WAVE",
        b"fmt ",
        16,
        _WAV_FORMAT_PCM,
        fmt.channels,
        fmt.sample_rate,
        fmt.sample_rate * fmt.frame_bytes,
        fmt.frame_bytes,
        8 * fmt.sample_bytes,
        b"data",
        STREAMING_SIZE,
    )


def output_samples(input_samples: int, source_rate: int, target_rate: int) -> int:
    """Frames the converter makes of `input_samples` in all: one per output
    instant before the end of the input, ceil(n * target / source)."""
    return -(-input_samples * target_rate // source_rate)


class PcmConverter:
    """Streams 16-bit little-endian mono PCM at `source_rate` into `fmt`.

    Resampling is linear interpolation at exact (integer) positions: output
    frame k is at input position k * source / target, so positions never
    drift and a chunk border changes nothing. The last input sample is
    carried to interpolate across the border; `flush` ends the stream by
    holding it for the output instants left before the input's end.
    Channels and widths are rearranged by slicing bytes (in C), not per
    sample: 8-bit is the high byte made unsigned (as ffmpeg truncates), 32-bit
    the sample shifted up 16 bits.
    """

    def __init__(self, source_rate: int, fmt: OutputFormat) -> None:
        """Plan the conversion; a half sample is kept until its other byte."""
        self._fmt = fmt
        self._odd = b""
        divisor = math.gcd(source_rate, fmt.sample_rate)
        self._step = source_rate // divisor  # input per output, over _den
        self._den = fmt.sample_rate // divisor
        self._resample = source_rate != fmt.sample_rate
        self._passthrough = (
            not self._resample and fmt.channels == 1 and fmt.sample_bytes == 2
        )
        self._last: int | None = None  # last input sample (resampling)
        self._position = 0  # next output's position past _last, over _den

    def convert(self, chunk: bytes) -> bytes:
        """The output of one more chunk (whole frames; may be empty)."""
        if self._odd or len(chunk) % 2:
            chunk = self._odd + chunk
            cut = len(chunk) - len(chunk) % 2
            chunk, self._odd = chunk[:cut], chunk[cut:]
        if self._passthrough or not chunk:
            return chunk
        if self._resample:
            chunk = self._resampled(chunk)
        return self._arranged(chunk)

    def flush(self) -> bytes:
        """The rest of the output once the input has ended.

        A dangling half sample is dropped: it is not sound. The converter
        is then ready for a new stream.
        """
        self._odd = b""
        last = self._last
        if last is None:
            return b""
        count = 0
        while self._position < self._den:
            count += 1
            self._position += self._step
        self._last, self._position = None, 0
        return self._arranged(struct.pack(f"<{count}h", *([last] * count)))

    def _resampled(self, pcm: bytes) -> bytes:
        samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
        window = list(samples) if self._last is None else [self._last, *samples]
        den, step, half = self._den, self._step, self._den // 2
        end = (len(window) - 1) * den
        out = [
            (
                window[q // den] * (den - q % den)
                + window[q // den + 1] * (q % den)
                + half
            )
            // den
            for q in range(self._position, end, step)
        ]
        self._position += len(out) * step - end
        self._last = window[-1]
        return struct.pack(f"<{len(out)}h", *out)

    def _arranged(self, pcm: bytes) -> bytes:
        """Mono 16-bit samples into the output's width and channels."""
        fmt = self._fmt
        if fmt.channels == 1 and fmt.sample_bytes == 2:
            return pcm
        if fmt.sample_bytes == 1:
            planes = [(0, pcm[1::2].translate(_TO_UNSIGNED))]
        else:
            low = fmt.sample_bytes - 2
            planes = [(low, pcm[0::2]), (low + 1, pcm[1::2])]
        frame = fmt.frame_bytes
        out = bytearray(len(pcm) // 2 * frame)
        for channel in range(fmt.channels):
            for offset, plane in planes:
                out[channel * fmt.sample_bytes + offset :: frame] = plane
        return bytes(out)
