"""The espeak-ng end-of-speech fixtures and a satellite that streams them.

`tests/fixtures/speech/<name>.wav` holds the audio, `<name>.json` the word
timeline (see scripts/make_speech_fixtures.py and tests/fixtures/SOURCES.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
import json
from pathlib import Path
import time
import wave

from tests.deepgram_server import Segment, Word

SPEECH = Path(__file__).parent / "fixtures" / "speech"
CHUNK = 320  # 10 ms of 16 kHz 16-bit mono
CHUNK_SECONDS = 0.01

COMPLETE = "a_complete_command"
PAUSED = "b_command_with_pause"
FREE_FORM = "c_free_form_with_pause"
LONG = "d_long_command"
ALL = (COMPLETE, PAUSED, FREE_FORM, LONG)


@dataclass(frozen=True, slots=True)
class Speech:
    """One fixture: its PCM, the timeline Deepgram hears, and its text."""

    name: str
    pcm: bytes
    script: list[Segment]
    text: str
    last_word_end: float


def load(name: str) -> Speech:
    """Read fixture `name` (one of ALL)."""
    with wave.open(str(SPEECH / f"{name}.wav"), "rb") as wav:
        pcm = wav.readframes(wav.getnframes())
    timeline = json.loads((SPEECH / f"{name}.json").read_text())
    script = [
        Segment(tuple(Word(w["text"], w["start"], w["end"]) for w in segment))
        for segment in timeline["segments"]
    ]
    return Speech(name, pcm, script, timeline["text"], timeline["last_word_end"])


@dataclass(slots=True)
class Satellite:
    """Streams a fixture in 10 ms chunks, paced like a real satellite.

    After the fixture it keeps streaming silence (as ESPHome and Wyoming
    satellites do until the run ends), up to `extra_seconds`. `delivered`
    counts the chunks the pipeline has read; `wall` maps a chunk to the
    moment it was read. With `catch_up` (a real satellite) a late chunk is
    followed by the next at once; without it (tests) every chunk waits its
    10 ms, so a busy machine slows the audio down rather than bunching it.
    """

    pcm: bytes
    speed: float = 1.0
    catch_up: bool = True
    extra_seconds: float = 5.0
    delivered: int = 0
    started: float = 0.0
    closed: bool = False
    wall: list[float] = field(default_factory=list)

    @property
    def audio_seconds(self) -> float:
        """Audio read by the pipeline so far."""
        return self.delivered * CHUNK_SECONDS

    async def stream(self) -> AsyncIterator[bytes]:
        """The audio stream handed to the pipeline."""
        silence = bytes(CHUNK)
        total = len(self.pcm) // CHUNK + int(self.extra_seconds / CHUNK_SECONDS)
        self.started = time.monotonic()
        try:
            for index in range(total):
                start = index * CHUNK
                chunk = (
                    self.pcm[start : start + CHUNK]
                    if start < len(self.pcm)
                    else silence
                )
                if self.catch_up:
                    due = self.started + index * CHUNK_SECONDS / self.speed
                    if (delay := due - time.monotonic()) > 0:
                        await asyncio.sleep(delay)
                elif index:
                    await asyncio.sleep(CHUNK_SECONDS / self.speed)
                self.delivered += 1
                self.wall.append(time.monotonic())
                yield chunk
        finally:
            self.closed = True
