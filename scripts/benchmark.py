"""Latency and memory benchmark: end of speech -> transcript.

Runs against the local fake Deepgram with a realistic latency model (see
tests/deepgram_server/latency.py), streaming audio at real time, and compares
ways of getting a transcript once the user stops speaking:

- finalize:    this integration: stream while speaking, Finalize at the end
               of speech, return on the from_finalize result.
- closestream: stream while speaking, CloseStream at the end, wait for the
               server to close (what a client without Finalize does).
- prerecorded: record while speaking, POST the whole recording at the end
               (how batch cloud STT works).

Figures depend on the latency model, not on Deepgram: they compare the
strategies, they do not predict Deepgram's absolute numbers.

    .venv/bin/python scripts/benchmark.py [--runs N] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import io
from pathlib import Path
import statistics
import sys
import time
import tracemalloc
import wave

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.deepgram.api import (
    DeepgramRestClient,
    Endpoint,
    LiveOptions,
    LiveSession,
)
from tests.deepgram_server import (
    REALISTIC_LATENCY,
    FakeDeepgram,
    script_from_text,
)

CHUNK = 320  # 10 ms at 16 kHz, 16-bit mono
OPTIONS = LiveOptions(model="nova-3", language="en-US", interim_results=True)
SENTENCE = "turn on the kitchen light and set it to fifty percent"


async def speak(seconds: float, on_chunk: Callable[[bytes], Awaitable[None]]) -> None:
    """Deliver `seconds` of audio in 10 ms chunks at real time."""
    chunk = bytes(CHUNK)
    start = time.monotonic()
    for index in range(int(seconds * 100)):
        await on_chunk(chunk)
        delay = start + (index + 1) / 100 - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


async def run_finalize(
    http: aiohttp.ClientSession, endpoint: Endpoint, s: float
) -> float:
    session = LiveSession(http, endpoint, OPTIONS)
    session.start()
    await speak(s, session.send_audio)
    ended = time.monotonic()
    transcript = await session.finalize()
    latency = time.monotonic() - ended
    assert transcript.text, "no transcript"
    await session.close()
    return latency


async def run_closestream(
    http: aiohttp.ClientSession, endpoint: Endpoint, s: float
) -> float:
    session = LiveSession(http, endpoint, OPTIONS)
    session.start()
    await speak(s, session.send_audio)
    ended = time.monotonic()
    await session.close()
    latency = time.monotonic() - ended
    assert session.transcript.text, "no transcript"
    return latency


async def run_prerecorded(
    http: aiohttp.ClientSession, endpoint: Endpoint, s: float
) -> float:
    recorded = bytearray()

    async def record(chunk: bytes) -> None:
        recorded.extend(chunk)

    await speak(s, record)
    ended = time.monotonic()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(bytes(recorded))
    options = LiveOptions(
        model="nova-3", language="en-US", encoding=None, sample_rate=None, channels=None
    )
    result = await DeepgramRestClient(http, endpoint).transcribe(
        buffer.getvalue(), options
    )
    assert result.transcript, "no transcript"
    return time.monotonic() - ended


STRATEGIES = {
    "finalize": run_finalize,
    "closestream": run_closestream,
    "prerecorded": run_prerecorded,
}


async def main(runs: int, seconds: float) -> None:
    server = FakeDeepgram(api_key="benchmark-key")
    base_url = await server.start()
    server.latency = REALISTIC_LATENCY
    server.script = script_from_text(SENTENCE, start=0.3, end=seconds - 0.2)
    endpoint = Endpoint(base_url, "benchmark-key")
    print(
        f"latency model: rtt {REALISTIC_LATENCY.rtt * 1000:.0f} ms, "
        f"finalize {REALISTIC_LATENCY.finalize * 1000:.0f} ms, first result "
        f"{REALISTIC_LATENCY.first_result * 1000:.0f} ms, pre-recorded "
        f"{REALISTIC_LATENCY.prerecorded_base * 1000:.0f} ms + "
        f"{REALISTIC_LATENCY.prerecorded_per_audio_second * 1000:.0f} ms/s"
    )
    print(f"{runs} runs of {seconds:.1f} s of audio each, streamed at real time\n")
    header = ("strategy", "median ms", "p90 ms", "max ms", "peak KiB")
    print("{:<12} {:>10} {:>8} {:>8} {:>9}".format(*header))
    try:
        async with aiohttp.ClientSession() as http:
            for name, strategy in STRATEGIES.items():
                latencies: list[float] = []
                tracemalloc.start()
                for _ in range(runs):
                    latencies.append(await strategy(http, endpoint, seconds))
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                ordered = sorted(latencies)
                p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
                print(
                    f"{name:<12} {statistics.median(ordered) * 1000:>10.0f} "
                    f"{p90 * 1000:>8.0f} {ordered[-1] * 1000:>8.0f} {peak / 1024:>9.0f}"
                )
    finally:
        await server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=2.5)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.seconds))
