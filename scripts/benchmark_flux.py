"""Benchmark: last word -> transcript, Flux profiles against nova's Finalize.

Runs against the local fake Deepgram (tests/deepgram_server), streaming audio
at real time, for round trips of 20, 80 and 200 ms. The clock starts when
the audio of the last word's end has been handed over (wall time), and stops
when the transcript is in hand:

- nova+vad:    nova, Home Assistant's detector ends the stream 0.7 s after
               the last word (its default silence), then Finalize.
- flux:        Flux returns at its EndOfTurn (eot_threshold 0.7).
- flux-eager:  Flux with eager_eot_threshold 0.35, returning at the
               EagerEndOfTurn (a complete command: the sentence matcher's
               own few milliseconds are not counted).
- flux+vad:    Flux with its own turn end off (eot_threshold 1.0): the
               detector ends the stream, then ForceEndTurn.

Figures come from the fake server's model (Flux's end-of-turn delay 0.26 s
after the last word, ForceEndTurn/Finalize processing 0.12 s): they compare
the strategies, they do not predict Deepgram's absolute numbers.

    .venv/bin/python scripts/benchmark_flux.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
import statistics
import sys
import time

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.deepgram.api import (
    Endpoint,
    FluxMessage,
    FluxOptions,
    FluxSession,
    LiveOptions,
    LiveSession,
    TurnEvent,
    TurnInfo,
)
from tests.deepgram_server import REALISTIC_LATENCY, FakeDeepgram, script_from_text

CHUNK = 320  # 10 ms at 16 kHz, 16-bit mono
SENTENCE = "Turn on the kitchen light and set it to fifty percent."
LAST_WORD_END = 2.3  # audio seconds
VAD_SILENCE = 0.7  # Home Assistant's VoiceCommandSegmenter.silence_seconds
TAIL = 1.5  # audio after the last word a satellite would still stream
RTTS = (0.02, 0.08, 0.2)

type Strategy = Callable[[aiohttp.ClientSession, Endpoint], Awaitable[float]]


class Speaker:
    """Hands over audio in 10 ms chunks at real time; knows when the last word ended."""

    def __init__(self) -> None:
        self.last_word_at: float | None = None
        self._start = 0.0

    async def speak(
        self, seconds: float, on_chunk: Callable[[bytes], Awaitable[None]]
    ) -> None:
        chunk = bytes(CHUNK)
        self._start = time.monotonic()
        for index in range(round(seconds * 100)):
            await on_chunk(chunk)
            if self.last_word_at is None and (index + 1) / 100 >= LAST_WORD_END:
                self.last_word_at = time.monotonic()
            delay = self._start + (index + 1) / 100 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

    def since_last_word(self) -> float:
        assert self.last_word_at is not None
        return time.monotonic() - self.last_word_at


async def nova_vad(http: aiohttp.ClientSession, endpoint: Endpoint) -> float:
    speaker = Speaker()
    session = LiveSession(http, endpoint, LiveOptions(model="nova-3", language="en-US"))
    session.start()
    await speaker.speak(LAST_WORD_END + VAD_SILENCE, session.send_audio)
    transcript = await session.finalize()
    latency = speaker.since_last_word()
    assert transcript.text, "no transcript"
    await session.close()
    return latency


async def _flux(
    http: aiohttp.ClientSession,
    endpoint: Endpoint,
    options: FluxOptions,
    *,
    eager: bool = False,
    vad: bool = False,
) -> float:
    speaker = Speaker()
    done = asyncio.Event()
    latency: list[float] = []

    def on_message(message: FluxMessage) -> None:
        if (
            eager
            and isinstance(message, TurnInfo)
            and message.event is TurnEvent.EAGER_END_OF_TURN
            and not done.is_set()
        ):
            latency.append(speaker.since_last_word())
            done.set()

    session = FluxSession(http, endpoint, options, on_message=on_message)
    session.start()
    if vad:
        await speaker.speak(LAST_WORD_END + VAD_SILENCE, session.send_audio)
        turn = await session.end_turn()
        latency.append(speaker.since_last_word())
    else:
        speaking = asyncio.create_task(
            speaker.speak(LAST_WORD_END + TAIL, session.send_audio)
        )
        if eager:
            await done.wait()
            turn = session.turn
        else:
            turn = await session.wait_for_turn_end()
            latency.append(speaker.since_last_word())
        speaking.cancel()
        await asyncio.wait({speaking})
    assert turn.transcript or eager, "no transcript"
    await session.close()
    return latency[0]


async def flux(http: aiohttp.ClientSession, endpoint: Endpoint) -> float:
    return await _flux(http, endpoint, FluxOptions())


async def flux_eager(http: aiohttp.ClientSession, endpoint: Endpoint) -> float:
    options = FluxOptions(eager_eot_threshold=0.35)
    return await _flux(http, endpoint, options, eager=True)


async def flux_vad(http: aiohttp.ClientSession, endpoint: Endpoint) -> float:
    options = FluxOptions(eot_threshold=1.0, eot_timeout_ms=60000)
    return await _flux(http, endpoint, options, vad=True)


STRATEGIES: dict[str, Strategy] = {
    "nova+vad": nova_vad,
    "flux": flux,
    "flux-eager": flux_eager,
    "flux+vad": flux_vad,
}


async def main(runs: int) -> None:
    server = FakeDeepgram(api_key="benchmark-key")
    base_url = await server.start()
    server.script = script_from_text(
        SENTENCE, start=0.3, end=LAST_WORD_END, words_per_segment=100
    )
    endpoint = Endpoint(base_url, "benchmark-key")
    print(
        f"last word -> transcript, {runs} runs each, audio at real time; "
        f"Flux end-of-turn delay {server.eot_delay * 1000:.0f} ms, "
        f"Finalize/ForceEndTurn processing {REALISTIC_LATENCY.finalize * 1000:.0f} ms\n"
    )
    header = ("strategy", "rtt ms", "median ms", "min ms", "max ms")
    print("{:<11} {:>7} {:>10} {:>7} {:>7}".format(*header))
    try:
        async with aiohttp.ClientSession() as http:
            for name, strategy in STRATEGIES.items():
                for rtt in RTTS:
                    server.latency = replace(REALISTIC_LATENCY, rtt=rtt)
                    latencies = [await strategy(http, endpoint) for _ in range(runs)]
                    print(
                        f"{name:<11} {rtt * 1000:>7.0f} "
                        f"{statistics.median(latencies) * 1000:>10.0f} "
                        f"{min(latencies) * 1000:>7.0f} {max(latencies) * 1000:>7.0f}"
                    )
    finally:
        await server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.runs))
