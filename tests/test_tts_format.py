"""Deepgram's speak PCM becomes exactly the WAV Home Assistant asks for.

The rate asked of Deepgram is one its socket offers, as close above the
asked rate as it gets; the WAV header says what the samples are; the
converter's samples are a resampled, widened or duplicated copy of the
input whatever way the stream is cut into chunks.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
import importlib
import io
import math
from pathlib import Path
import random
import struct
import wave

import pytest

from custom_components.deepgram.api.speak_options import (
    V1_SAMPLE_RATES,
    V2_SAMPLE_RATES,
)
from custom_components.deepgram.tts_format import (
    DEFAULT_RATE,
    STREAMING_SIZE,
    WAV_HEADER_SIZE,
    OutputFormat,
    PcmConverter,
    deepgram_rate,
    output_format,
    output_samples,
    requested_rate,
    speak_output,
    wav_header,
)

MODULE = Path(__file__).parents[1] / "custom_components/deepgram/tts_format.py"
V1, V2 = "/v1/speak", "/v2/speak"
AMPLITUDE = 10000
TONE = 440.0


def sine(rate: int, count: int, start: int = 0) -> list[int]:
    return [
        round(AMPLITUDE * math.sin(2 * math.pi * TONE * (start + i) / rate))
        for i in range(count)
    ]


def pcm(samples: Iterable[int]) -> bytes:
    values = list(samples)
    return struct.pack(f"<{len(values)}h", *values)


def run(converter: PcmConverter, chunks: Iterable[bytes]) -> bytes:
    return b"".join(converter.convert(chunk) for chunk in chunks) + converter.flush()


def whole(source_rate: int, fmt: OutputFormat, data: bytes) -> bytes:
    return run(PcmConverter(source_rate, fmt), [data])


# --- the module stands alone -------------------------------------------------


def test_module_imports_only_the_standard_library_and_the_protocol_layer() -> None:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(MODULE.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    assert imported == {
        "__future__",
        "collections.abc",
        "dataclasses",
        "math",
        "struct",
        "typing",
        ".api.speak_options",
    }


# --- the rate asked of Deepgram ----------------------------------------------


@pytest.mark.parametrize(
    ("path", "offered"),
    [(V1, V1_SAMPLE_RATES["linear16"]), (V2, V2_SAMPLE_RATES["linear16"])],
)
def test_an_offered_rate_is_asked_as_is(path: str, offered: tuple[int, ...]) -> None:
    for rate in offered:
        assert deepgram_rate(rate, path) == rate


@pytest.mark.parametrize(
    ("requested", "path", "expected"),
    [
        (22050, V1, 24000),  # lowest offered above, resampled down
        (22050, V2, 24000),
        (44100, V1, 48000),  # v1 lacks 44100
        (44100, V2, 44100),
        (11025, V1, 16000),
        (8001, V1, 16000),
        (7999, V1, 8000),
        (32001, V2, 44100),
        (96000, V1, 48000),  # above everything: the highest, resampled up
        (192000, V2, 48000),
        (None, V1, DEFAULT_RATE),
        (None, V2, DEFAULT_RATE),
    ],
)
def test_other_rates_ask_the_nearest_above(
    requested: int | None, path: str, expected: int
) -> None:
    assert deepgram_rate(requested, path) == expected


def test_unknown_path_is_refused() -> None:
    with pytest.raises(ValueError, match=r"Unknown speak socket path '/v3/speak'"):
        deepgram_rate(16000, "/v3/speak")


# --- the options ----------------------------------------------------------------


def test_missing_options_keep_the_source_as_is() -> None:
    assert output_format({}, 24000) == OutputFormat(24000, 1, 2)
    assert output_format({"preferred_format": "wav"}, 16000) == OutputFormat(
        16000, 1, 2
    )
    none = dict.fromkeys(
        ("preferred_sample_rate", "preferred_sample_channels", "preferred_sample_bytes")
    )
    assert output_format(none, 48000) == OutputFormat(48000, 1, 2)


def test_a_wav_request_is_followed_exactly() -> None:
    options: dict[str, object] = {
        "preferred_format": "wav",
        "preferred_sample_rate": 22050,
        "preferred_sample_channels": 2,
        "preferred_sample_bytes": 4,
        "voice": "ignored",
    }
    assert output_format(options, 24000) == OutputFormat(22050, 2, 4)
    # Home Assistant's own path converts with int(value): digits pass.
    assert output_format({"preferred_sample_rate": "16000"}, 24000) == OutputFormat(
        16000, 1, 2
    )
    assert output_format(
        {"preferred_sample_channels": " 2 ", "preferred_sample_bytes": "1"}, 24000
    ) == OutputFormat(24000, 2, 1)


def test_another_format_leaves_the_conversion_to_home_assistant() -> None:
    options: dict[str, object] = {
        "preferred_format": "mp3",
        "preferred_sample_rate": 22050,
        "preferred_sample_channels": 2,
        "preferred_sample_bytes": 2,
    }
    assert output_format(options, 24000) == OutputFormat(24000, 1, 2)


def test_speak_output_picks_deepgram_rate_and_wav_format() -> None:
    assert speak_output({"preferred_sample_rate": 22050}, V1) == (
        24000,
        OutputFormat(22050, 1, 2),
    )
    assert speak_output({"preferred_sample_rate": "44100"}, V2) == (
        44100,
        OutputFormat(44100, 1, 2),
    )
    assert speak_output({}, V2) == (24000, OutputFormat(24000, 1, 2))
    assert requested_rate({}) is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"preferred_sample_rate": 16000.0}, "preferred_sample_rate must be a whole"),
        ({"preferred_sample_rate": True}, "preferred_sample_rate must be a whole"),
        ({"preferred_sample_rate": "16k"}, "preferred_sample_rate must be a whole"),
        ({"preferred_sample_rate": "1e4"}, "preferred_sample_rate must be a whole"),
        ({"preferred_sample_rate": "-8000"}, "preferred_sample_rate -8000 is out of"),
        ({"preferred_sample_rate": 7999}, "preferred_sample_rate 7999 is out of"),
        ({"preferred_sample_rate": 192001}, "preferred_sample_rate 192001 is out"),
        ({"preferred_sample_channels": 0}, "preferred_sample_channels 0 is not"),
        ({"preferred_sample_channels": 6}, "preferred_sample_channels 6 is not"),
        ({"preferred_sample_channels": [1]}, "preferred_sample_channels must be"),
        ({"preferred_sample_bytes": 3}, "preferred_sample_bytes 3 is not supported"),
        ({"preferred_sample_bytes": "two"}, "preferred_sample_bytes must be a whole"),
        ({"preferred_format": 3}, "preferred_format must be a format name"),
        # Checked even when Home Assistant will convert the format itself.
        (
            {"preferred_format": "mp3", "preferred_sample_rate": 100},
            "preferred_sample_rate 100 is out of range: use 8000 to 192000 Hz",
        ),
    ],
)
def test_bad_options_are_refused_clearly(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        output_format(options, 24000)


@pytest.mark.parametrize(
    "options", [{"preferred_sample_rate": 0}, {"preferred_sample_rate": "x"}]
)
def test_a_bad_rate_is_refused_before_deepgram_is_asked(
    options: dict[str, object],
) -> None:
    with pytest.raises(ValueError, match="preferred_sample_rate"):
        speak_output(options, V1)


def test_the_format_itself_refuses_bad_fields() -> None:
    with pytest.raises(ValueError, match="preferred_sample_rate must be a whole"):
        OutputFormat("16000", 1, 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="preferred_sample_bytes must be a whole"):
        OutputFormat(16000, 1, None)  # type: ignore[arg-type]


# --- the WAV header -------------------------------------------------------------

FORMATS = [
    OutputFormat(rate, channels, width)
    for rate in (8000, 16000, 22050, 44100, 48000, 192000)
    for channels in (1, 2)
    for width in (1, 2, 4)
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_header_fields(fmt: OutputFormat) -> None:
    header = wav_header(fmt)
    assert len(header) == WAV_HEADER_SIZE
    fields = struct.unpack("<4sI4s4sIHHIIHH4sI", header)
    frame = fmt.channels * fmt.sample_bytes
    assert fields == (
        b"RIFF",
        STREAMING_SIZE,
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        fmt.channels,
        fmt.sample_rate,
        fmt.sample_rate * frame,
        frame,
        8 * fmt.sample_bytes,
        b"data",
        STREAMING_SIZE,
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_header_and_samples_read_back_with_wave(fmt: OutputFormat) -> None:
    source = sine(24000, 480)
    body = whole(24000, fmt, pcm(source))
    with wave.open(io.BytesIO(wav_header(fmt) + body), "rb") as wav:
        assert wav.getnchannels() == fmt.channels
        assert wav.getsampwidth() == fmt.sample_bytes
        assert wav.getframerate() == fmt.sample_rate
        assert wav.getcomptype() == "NONE"
        frames = wav.readframes(1 << 20)
    assert frames == body
    assert len(frames) == output_samples(480, 24000, fmt.sample_rate) * (
        fmt.channels * fmt.sample_bytes
    )


def test_home_assistant_streaming_reader_takes_the_header() -> None:
    """Home Assistant 2026.11 reads a streaming WAV's header to skip ffmpeg;
    older versions have no reader (this venv's may not)."""
    tts = importlib.import_module("homeassistant.components.tts")
    parse = getattr(tts, "_parse_streaming_wav_header", None)
    if parse is None:
        pytest.skip("this Home Assistant has no streaming WAV reader")
    for fmt in FORMATS:
        info = parse(wav_header(fmt) + b"\x01\x02")
        assert info.pcm_format.sample_rate == fmt.sample_rate
        assert info.pcm_format.channels == fmt.channels
        assert info.pcm_format.sample_width == fmt.sample_bytes
        assert info.leftover == b"\x01\x02"


# --- the converter ---------------------------------------------------------------


def test_nothing_to_change_returns_the_chunk_itself() -> None:
    converter = PcmConverter(16000, OutputFormat(16000, 1, 2))
    chunk = pcm(sine(16000, 100))
    assert converter.convert(chunk) is chunk
    assert converter.convert(b"") == b""
    assert converter.flush() == b""


def test_a_split_sample_waits_for_its_other_byte() -> None:
    converter = PcmConverter(16000, OutputFormat(16000, 1, 2))
    data = pcm([1, -2, 300])
    assert converter.convert(data[:3]) == data[:2]
    assert converter.convert(data[3:4]) == data[2:4]
    assert converter.convert(data[4:5]) == b""
    assert converter.convert(data[5:]) == data[4:]
    assert converter.convert(b"\x07") == b""
    assert converter.flush() == b""  # half a sample is not sound


@pytest.mark.parametrize(
    ("source_rate", "target_rate"),
    [
        (24000, 22050),
        (48000, 44100),
        (16000, 11025),
        (48000, 16000),
        (24000, 24000),
        (16000, 48000),
        (48000, 96000),
        (44100, 48000),
    ],
)
def test_resampled_sine_has_the_exact_length_and_shape(
    source_rate: int, target_rate: int
) -> None:
    count = source_rate // 10 + 7
    out = whole(
        source_rate, OutputFormat(target_rate, 1, 2), pcm(sine(source_rate, count))
    )
    samples = struct.unpack(f"<{len(out) // 2}h", out)
    assert len(samples) == output_samples(count, source_rate, target_rate)
    assert len(samples) == math.ceil(count * target_rate / source_rate)
    expected = sine(target_rate, len(samples))
    # Outputs past the last input sample hold it; the others follow the tone
    # (linear interpolation of 440 Hz sampled at 16 kHz or more is within
    # 0.4 % of the amplitude).
    tail = math.ceil((count - 1) * target_rate / source_rate)
    assert 1 <= len(samples) - tail <= math.ceil(target_rate / source_rate)
    errors = [abs(a - b) for a, b in zip(samples[:tail], expected[:tail], strict=True)]
    assert max(errors) <= AMPLITUDE * 0.005
    assert set(samples[tail:]) == {sine(source_rate, count)[-1]}


def test_the_last_input_sample_is_held_to_the_end() -> None:
    # 3 inputs at 8000 Hz last 3/8000 s: 6 outputs at 16000 Hz, the last two
    # past the last input sample hold it.
    out = whole(8000, OutputFormat(16000, 1, 2), pcm([0, 1000, -1000]))
    assert struct.unpack("<6h", out) == (0, 500, 1000, 0, -1000, -1000)


def test_interpolation_rounds_to_nearest() -> None:
    # 3 outputs per 2 inputs: at 0, 2/3 and 4/3 of an input sample.
    out = whole(16000, OutputFormat(24000, 1, 2), pcm([0, 1, 2, 3]))
    assert struct.unpack("<6h", out) == (0, 1, 1, 2, 3, 3)
    out = whole(16000, OutputFormat(24000, 1, 2), pcm([0, -1]))
    assert struct.unpack("<3h", out) == (0, -1, -1)
    out = whole(16000, OutputFormat(24000, 1, 2), pcm([-32768, 32767]))
    assert struct.unpack("<3h", out) == (-32768, 10922, 32767)


CONVERSIONS = [
    (24000, OutputFormat(22050, 1, 2)),
    (24000, OutputFormat(22050, 2, 1)),
    (16000, OutputFormat(44100, 2, 4)),
    (48000, OutputFormat(16000, 1, 1)),
    (16000, OutputFormat(16000, 2, 2)),
    (16000, OutputFormat(16000, 1, 4)),
    (16000, OutputFormat(16000, 1, 2)),
]


@pytest.mark.parametrize(("source_rate", "fmt"), CONVERSIONS)
def test_any_split_gives_the_same_output(source_rate: int, fmt: OutputFormat) -> None:
    data = pcm(sine(source_rate, 61, start=5))
    one_piece = whole(source_rate, fmt, data)
    assert len(one_piece) == output_samples(61, source_rate, fmt.sample_rate) * (
        fmt.frame_bytes
    )
    for cut in range(len(data) + 1):
        assert whole_split(source_rate, fmt, [data[:cut], data[cut:]]) == one_piece
    bytewise = [data[i : i + 1] for i in range(len(data))]
    assert whole_split(source_rate, fmt, bytewise) == one_piece
    rng = random.Random(20)
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(data)), 5))
        pieces = [
            data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)
        ]
        assert whole_split(source_rate, fmt, pieces) == one_piece


def whole_split(source_rate: int, fmt: OutputFormat, pieces: list[bytes]) -> bytes:
    converter = PcmConverter(source_rate, fmt)
    outputs = [converter.convert(piece) for piece in pieces]
    # Every output holds whole frames, so a consumer may use each as it comes.
    assert all(len(out) % fmt.frame_bytes == 0 for out in outputs)
    return b"".join(outputs) + converter.flush()


def test_stereo_duplicates_every_sample() -> None:
    source = [0, 1, -1, 32767, -32768, 12345]
    out = whole(16000, OutputFormat(16000, 2, 2), pcm(source))
    assert struct.unpack("<12h", out) == tuple(s for s in source for _ in (0, 1))
    out = whole(16000, OutputFormat(16000, 2, 4), pcm(source))
    assert struct.unpack("<12i", out) == tuple(s << 16 for s in source for _ in (0, 1))


def test_eight_bit_is_unsigned_around_128() -> None:
    source = [0, 255, 256, -1, -256, -257, 32767, -32768, 16384]
    out = whole(16000, OutputFormat(16000, 1, 1), pcm(source))
    # The high byte, offset to unsigned (ffmpeg's s16 to u8 truncates alike).
    assert list(out) == [128, 128, 129, 127, 127, 126, 255, 0, 192]
    assert list(out) == [(s >> 8) + 128 for s in source]
    stereo = whole(16000, OutputFormat(16000, 2, 1), pcm([0, -32768]))
    assert list(stereo) == [128, 128, 0, 0]


def test_thirty_two_bit_keeps_the_sign() -> None:
    source = [0, 1, -1, 32767, -32768]
    out = whole(16000, OutputFormat(16000, 1, 4), pcm(source))
    assert struct.unpack("<5i", out) == (0, 65536, -65536, 32767 << 16, -(1 << 31))


def test_flush_without_input_gives_nothing() -> None:
    converter = PcmConverter(24000, OutputFormat(22050, 2, 4))
    assert converter.convert(b"") == b""
    assert converter.flush() == b""


def test_a_single_sample_stream_lasts_its_length() -> None:
    converter = PcmConverter(8000, OutputFormat(48000, 1, 2))
    assert converter.convert(pcm([100])) == b""
    assert converter.flush() == pcm([100] * 6)


def test_after_flush_a_converter_starts_a_new_stream() -> None:
    converter = PcmConverter(24000, OutputFormat(22050, 2, 1))
    data = pcm(sine(24000, 101))
    first = run(converter, [data[:51], data[51:]])
    assert run(converter, [data]) == first
    assert run(converter, [data[:7], data[7:]]) == first
    # A dangling half sample ends with its stream.
    assert run(converter, [data, b"\x07"]) == first
    assert run(converter, [data]) == first
