"""The sentence matcher under load, through the STT entity and the local server.

Deepgram may send a `speech_final` result for every short pause; each asks
whether the words so far are a command. One matcher call at a time runs per
run, and a newer question replaces one still waiting: only the latest words
can end the turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from homeassistant.components import stt
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram import audio_bounds, stt as stt_module
from custom_components.deepgram.end_of_speech import EndedBy
from tests.deepgram_server import FakeDeepgram, Segment, Word
from tests.deepgram_server.testing import BYTES_PER_SECOND, silence

from .pipeline_helpers import transcribe

QUESTIONS = 40
WORD = 0.2
PAUSE = 0.35  # over the profile's endpointing (300 ms): each word is speech_final
# One word per segment, each followed by a pause: a speech_final per word.
SCRIPT = [
    Segment((Word(f"w{i}", 0.5 + i * (WORD + PAUSE), 0.5 + i * (WORD + PAUSE) + WORD),))
    for i in range(QUESTIONS)
]
LAST = " ".join(f"w{i}" for i in range(QUESTIONS))
# Past the last speech_final (last word's end + 0.3 s), before its
# UtteranceEnd (+ 1 s): only the matcher can end the turn.
HELD_AFTER = SCRIPT[-1].end + 0.5


async def pushed_then_held(seconds: float) -> AsyncIterator[bytes]:
    """`seconds` of audio as fast as it is taken, then nothing (never ends)."""
    audio = silence(seconds)
    step = BYTES_PER_SECOND // 10
    for start in range(0, len(audio), step):
        yield audio[start : start + step]
        await asyncio.sleep(0)
    await asyncio.Event().wait()


async def test_one_matcher_call_at_a_time_and_the_latest_question_wins(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """40 speech_final results in a burst: never two calls at once, and the
    last words (the only command) end the turn."""
    server.script = SCRIPT
    # A run the matcher fails to end ends soon, not after 15 s.
    monkeypatch.setattr(audio_bounds, "AUDIO_IDLE_TIMEOUT", 5.0)
    running = 0
    most = 0
    asked: list[str] = []

    async def counting(text: str) -> bool:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            await asyncio.sleep(0.2)  # a busy matcher, under its 1 s bound
        finally:
            running -= 1
        asked.append(text)
        return text == LAST

    monkeypatch.setattr(stt_module, "sentence_matcher", lambda *_: counting)
    async with asyncio.timeout(10):
        result = await transcribe(hass, pushed_then_held(HELD_AFTER))

    assert result == stt.SpeechResult(LAST, stt.SpeechResultState.SUCCESS)
    assert setup_integration.runtime_data.history[-1].ended_by == EndedBy.MATCH
    assert most == 1
    assert asked[0] == ""  # the warm-up, first
    assert asked[-1] == LAST
    # Superseded questions were never asked; the ones asked came in order.
    assert len(asked) < QUESTIONS
    assert asked[1:] == sorted(asked[1:], key=len)
