"""Generate the end-of-speech fixtures: espeak-ng speech with word timelines.

Each word is spoken by espeak-ng on its own, converted by sox to 16 kHz
16-bit mono, trimmed of its silence and joined with a short gap, so every
word's start and end in the file are known exactly. Deliberate pauses go
between phrases; 0.5 s of silence leads and 2.0 s follow. For each fixture
`tests/fixtures/speech/<name>.wav` and `<name>.json` (the timeline the local
Deepgram server replays: segments of words, each segment one final) are
written.

    apt-get install espeak-ng sox
    .venv/bin/python scripts/make_speech_fixtures.py
"""

from __future__ import annotations

import array
import json
from pathlib import Path
import subprocess
import tempfile
import wave

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "speech"
RATE = 16000
LEAD = 0.5
TAIL = 2.0
WORD_GAP = 0.06
THRESHOLD = 400  # amplitude treated as silence when trimming

# name: (espeak-ng speed in words per minute, phrases, pause after each phrase)
# A phrase is a list of segments (finals); a segment is its words as
# Deepgram would write them (punctuate=true, numerals=true) and as spoken.
type Phrases = list[tuple[list[list[tuple[str, str]]], float]]
FIXTURES: dict[str, tuple[int, Phrases]] = {
    "a_complete_command": (
        150,
        [
            (
                [
                    [
                        ("Turn", "turn"),
                        ("on", "on"),
                        ("the", "the"),
                        ("kitchen", "kitchen"),
                        ("light.", "light"),
                    ]
                ],
                0.0,
            )
        ],
    ),
    "b_command_with_pause": (
        150,
        [
            ([[("Turn", "turn"), ("on", "on"), ("the", "the")]], 0.7),
            ([[("kitchen", "kitchen"), ("light.", "light")]], 0.0),
        ],
    ),
    "c_free_form_with_pause": (
        150,
        [
            ([[("Tell", "tell"), ("me", "me"), ("a", "a"), ("story", "story")]], 0.5),
            (
                [
                    [
                        ("about", "about"),
                        ("a", "a"),
                        ("dragon", "dragon"),
                        ("and", "and"),
                        ("a", "a"),
                        ("knight.", "knight"),
                    ]
                ],
                0.0,
            ),
        ],
    ),
    "d_long_command": (
        95,
        [
            (
                [
                    [
                        ("Set", "set"),
                        ("the", "the"),
                        ("brightness", "brightness"),
                        ("of", "of"),
                        ("the", "the"),
                    ],
                    [
                        ("kitchen", "kitchen"),
                        ("light", "light"),
                        ("to", "to"),
                        ("50%.", "fifty percent"),
                    ],
                ],
                0.0,
            )
        ],
    ),
}


def speak(text: str, speed: int, workdir: Path) -> array.array[int]:
    """`text` spoken by espeak-ng as 16 kHz mono samples, silence trimmed."""
    raw = workdir / "word.wav"
    pcm = workdir / "word.raw"
    espeak = ["espeak-ng", "-v", "en-us", "-s", str(speed), "-w", str(raw), text]
    subprocess.run(espeak, check=True)
    subprocess.run(
        [  # noqa: S607
            "sox",
            str(raw),
            "-r",
            str(RATE),
            "-b",
            "16",
            "-c",
            "1",
            "-e",
            "signed",
            "-t",
            "raw",
            str(pcm),
        ],
        check=True,
    )
    samples = array.array("h", pcm.read_bytes())
    loud = [i for i, value in enumerate(samples) if abs(value) > THRESHOLD]
    return samples[loud[0] : loud[-1] + 1]


def build(name: str, speed: int, phrases: Phrases, workdir: Path) -> None:
    audio = array.array("h", bytes(int(LEAD * RATE) * 2))
    segments: list[list[dict[str, float | str]]] = []
    for phrase, pause in phrases:
        for segment in phrase:
            words: list[dict[str, float | str]] = []
            for written, spoken in segment:
                if words:
                    audio.extend([0] * int(WORD_GAP * RATE))
                start = len(audio) / RATE
                audio.extend(speak(spoken, speed, workdir))
                words.append(
                    {
                        "text": written,
                        "start": round(start, 3),
                        "end": round(len(audio) / RATE, 3),
                    }
                )
            segments.append(words)
            audio.extend([0] * int(WORD_GAP * RATE))
        audio.extend([0] * int(pause * RATE))
    audio.extend([0] * int(TAIL * RATE))
    with wave.open(str(OUT / f"{name}.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(audio.tobytes())
    timeline = {
        "espeak_ng": {"voice": "en-us", "speed": speed},
        "text": " ".join(str(w["text"]) for s in segments for w in s),
        "segments": segments,
        "last_word_end": segments[-1][-1]["end"],
        "seconds": round(len(audio) / RATE, 3),
    }
    (OUT / f"{name}.json").write_text(json.dumps(timeline, indent=1) + "\n")
    print(
        f"{name}: {timeline['seconds']} s, last word ends {timeline['last_word_end']} s"
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (speed, phrases) in FIXTURES.items():
            build(name, speed, phrases, Path(tmp))


if __name__ == "__main__":
    main()
