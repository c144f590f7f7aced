"""The fake speak sockets' audio codec: every piece's text reads back, in order."""

from __future__ import annotations

import io
import random
import wave

import pytest

from tests.deepgram_server.speak_audio import (
    ENCODINGS,
    GAP_SECONDS,
    decode_samples,
    encode_samples,
    synthesise,
    tone_frequency,
)
from tests.deepgram_server.speak_text import (
    billable_count,
    pieces_of,
    split_sentences,
    synthesizable,
)
from tests.deepgram_server.testing import decode_pieces, decode_speech, wav_file

RATES = (8000, 16000, 24000, 32000, 44100, 48000)
TEXTS = (
    "Turn on the kitchen light.",
    "Zürich — ça va? 日本語です。",
    "x",
    "The same sentence twice.",
    "The same sentence twice.",
)


def split_oddly(audio: bytes, seed: int) -> list[bytes]:
    """``audio`` cut at random byte offsets (odd ones too)."""
    rng = random.Random(seed)
    frames: list[bytes] = []
    start = 0
    while start < len(audio):
        size = rng.randint(1, 777)
        frames.append(audio[start : start + size])
        start += size
    return frames


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("rate", RATES)
def test_round_trip_through_odd_frames(encoding: str, rate: int) -> None:
    """Encode, split into odd frames, join, decode: every text once, in order."""
    audio = b"".join(synthesise(text, rate, encoding=encoding) for text in TEXTS)
    frames = split_oddly(audio, rate)
    assert len(frames) > 3
    assert b"".join(frames) == audio
    assert decode_speech(b"".join(frames), rate, encoding) == list(TEXTS)
    pieces = decode_pieces(audio, rate, encoding)
    assert all(piece.complete for piece in pieces)
    assert [p.start for p in pieces] == sorted(p.start for p in pieces)


@pytest.mark.parametrize("rate", RATES)
def test_survives_a_wav_container(rate: int) -> None:
    """Through a WAV file (read back, or decoded header and all): same texts."""
    pcm = b"".join(synthesise(text, rate) for text in TEXTS)
    wav = wav_file(pcm, rate)
    with wave.open(io.BytesIO(wav)) as reader:
        assert reader.getframerate() == rate
        frames = reader.readframes(reader.getnframes())
    assert decode_speech(frames, rate) == list(TEXTS)
    assert decode_speech(wav, rate) == list(TEXTS)


def test_length_follows_characters_and_speed() -> None:
    """Audio per character (over speed) sets the piece's length; a gap follows."""
    text = "a" * 100
    rate = 16000
    audio = synthesise(text, rate, seconds_per_char=0.01)
    assert len(audio) == 2 * (round(1.0 * rate) + round(GAP_SECONDS * rate))
    fast = synthesise(text, rate, seconds_per_char=0.01, speed=1.25)
    assert len(fast) == 2 * (round(0.8 * rate) + round(GAP_SECONDS * rate))
    (piece,) = decode_pieces(audio, rate)
    assert piece.duration == pytest.approx(1.0)
    # Even at zero seconds per character the marker and a short tone are sent.
    tiny = decode_pieces(synthesise(text, rate, seconds_per_char=0.0), rate)
    assert [p.text for p in tiny] == [text]


def test_cut_off_piece_is_found_but_not_complete() -> None:
    """A piece cut after its marker is read, marked incomplete; a cut marker is not."""
    rate = 16000
    first = synthesise("First one.", rate, seconds_per_char=0.05)
    second = synthesise("Second one.", rate, seconds_per_char=0.05)
    pieces = decode_pieces(first + second[: len(second) // 2], rate)
    assert [(p.text, p.complete) for p in pieces] == [
        ("First one.", True),
        ("Second one.", False),
    ]
    assert decode_speech(first + second[:20], rate) == ["First one."]


def test_damaged_marker_is_skipped() -> None:
    """A marker whose CRC fails, or whose levels are out of range, reads as nothing."""
    rate = 16000
    audio = bytearray(synthesise("Hello.", rate))
    samples = list(decode_samples(bytes(audio)))
    data = 4 + 2 * 8  # sync, then the 8 header bytes
    for index in (12, data + 2):  # a nibble of the header, of the text
        damaged = list(samples)
        damaged[index] = -damaged[index]
        assert decode_speech(encode_samples(damaged), rate) == []
        out_of_range = list(samples)
        out_of_range[index] = 20000  # no nibble level
        assert decode_speech(encode_samples(out_of_range), rate) == []
    assert decode_speech(b"", rate) == []
    assert decode_speech(bytes(1001), rate) == []


def test_tone_depends_on_the_text() -> None:
    """Different texts mostly get different tones, all between 200 and 785 Hz."""
    tones = {tone_frequency(f"Sentence {i}.") for i in range(40)}
    assert len(tones) > 10
    assert all(200 <= tone <= 785 for tone in tones)


@pytest.mark.parametrize("encoding", ["mulaw", "alaw"])
def test_g711_round_trip_error_is_small(encoding: str) -> None:
    """G.711 keeps every 16-bit sample within its quantisation step."""
    samples = list(range(-32768, 32768, 37))
    back = decode_samples(encode_samples(samples, encoding), encoding)
    for original, decoded in zip(samples, back, strict=True):
        assert abs(original - decoded) <= max(16, abs(original) // 16 + 16)


def test_sentences() -> None:
    """Sentence ends need following whitespace (or an ideographic stop)."""
    assert split_sentences("Hello there. How are") == (["Hello there."], " How are")
    assert split_sentences("It costs 3.5 euros. Ok") == (["It costs 3.5 euros."], " Ok")
    assert split_sentences('She said "yes." Then') == (['She said "yes."'], " Then")
    assert split_sentences("Done.") == ([], "Done.")
    assert split_sentences("\u3053\u3093\u306b\u3061\u306f\u3002\u6b21") == (
        ["\u3053\u3093\u306b\u3061\u306f\u3002"],
        "\u6b21",
    )
    assert pieces_of("One!  Two?  three") == ["One!", "Two?", "three"]
    assert pieces_of("   ") == []
    assert synthesizable("... !") is False
    assert synthesizable("Ok.") is True
    assert billable_count("a\x07b\nc") == 3
