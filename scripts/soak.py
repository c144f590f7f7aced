"""Soak: many voice commands through the real assist pipeline, faults mixed in.

Runs a real Home Assistant (the test harness of pytest-homeassistant-custom-
component, so nothing is installed or configured outside this repository)
with the integration against the local fake Deepgram on 127.0.0.1, and sends
the committed speech fixture through `assist_pipeline` (voice activity
detection, speech-to-text, intent) again and again:

- `--sequential` runs (1,000) one after the other, then
- `--concurrent` runs (50) at once, their audio paced at real time,

each with a random fault of the fake server (or a cancellation) about one
run in `--fault-every` (7). Bounded: each run by `--run-timeout` seconds,
the whole soak by `--max-minutes`. It prints completed / errored / cancelled
/ hung runs by fault, end of speech -> transcript p50/p95 (the audio of the
last word handed to the pipeline -> `stt-end`), every server session's end
(CloseStream, close code), and open sockets, file descriptors, tasks and RSS
before and after, with which object types grew.

    .venv/bin/python scripts/soak.py [--sequential N] [--concurrent N] [--seed S]
"""

# ruff: noqa: E402 - the repository goes on sys.path before its imports

from __future__ import annotations

from pathlib import Path
import sys

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Before Home Assistant's loader runs (see tests/conftest.py).
import custom_components  # noqa: F401  # isort: skip

import argparse
import asyncio
from collections import Counter
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass, field
import gc
import logging
import os
import random
import statistics
import time
from typing import TYPE_CHECKING, Any

import pytest

from tests.deepgram_server import FakeDeepgram, Faults, Segment, Word
from tests.deepgram_server.testing import client_sockets_to, wait_for

if TYPE_CHECKING:
    from homeassistant.components.assist_pipeline import PipelineEvent
    from homeassistant.core import HomeAssistant

# Home Assistant is imported only once pytest runs: its plugin must load first.
CHUNK = 320  # 10 ms of 16 kHz 16-bit mono

API_KEY = "dg-soak-key-5b0e8f1c2d3a4e6f"
SCRIPT = [
    Segment((Word("Turn", 0.55, 0.8), Word("on", 0.8, 0.95), Word("the", 0.95, 1.1))),
    Segment((Word("kitchen", 1.2, 1.7), Word("light.", 1.7, 2.2))),
]
SPEECH_END = int(2.2 * 32000)  # bytes: the fixture's last word ends at 2.2 s
CANCEL = "cancelled by the satellite"
# name -> server faults (None: the client cancels the run mid-utterance).
FAULTS: dict[str, Faults | None] = {
    "HTTP 500": Faults(handshake_status=500),
    "HTTP 503": Faults(handshake_status=503),
    "HTTP 429": Faults(handshake_status=429),
    "HTTP 402": Faults(handshake_status=402),
    "refused": Faults(refuse=True),
    "close 1011": Faults(close_1011_after_audio_seconds=1.0),
    "close 1008": Faults(close_1008_after_audio_seconds=1.0),
    "close 1001": Faults(close_after_audio=(1.0, 1001, "going away")),
    "close 4000": Faults(close_after_audio=(1.0, 4000, "x")),
    "in-band Error": Faults(in_band_error=True),
    "malformed JSON": Faults(malformed_json=True),
    "unknown message": Faults(unknown_message=True),
    "Finalize unanswered": Faults(stall_after_finalize=True),
    "never closes": Faults(never_close=True),
    "stops reading": Faults(stop_reading_after_audio_seconds=1.0),
    "huge transcript": Faults(huge_final_chars=20_000),
    CANCEL: None,
}


@dataclass
class Outcome:
    """What one run ended in."""

    fault: str
    result: str  # completed | errored | cancelled | hung
    latency: float | None = None  # last word's audio handed over -> stt-end, s
    seconds: float = 0.0


@dataclass
class LogScan:
    """Counts log records and any that carry the key (nothing is kept)."""

    records: int = 0
    leaks: int = 0
    by_level: Counter[str] = field(default_factory=Counter)


class _ScanHandler(logging.Handler):
    def __init__(self, scan: LogScan) -> None:
        super().__init__(logging.DEBUG)
        self.scan = scan

    def emit(self, record: logging.LogRecord) -> None:
        self.scan.records += 1
        self.scan.by_level[record.levelname] += 1
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        if API_KEY in text:
            self.scan.leaks += 1


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def snapshot(server: FakeDeepgram) -> dict[str, Any]:
    gc.collect()
    return {
        "sockets to the server": client_sockets_to(server.port),
        "file descriptors": len(os.listdir("/proc/self/fd")),
        "tasks": len(asyncio.all_tasks()),
        "RSS (MB)": round(rss_mb(), 1),
    }


async def audio(
    pcm: bytes, hold: asyncio.Event | None, marks: dict[str, float], *, paced: bool
) -> AsyncIterator[bytes]:
    """10 ms chunks, at real time (`paced`, as satellites send them) or as
    fast as the pipeline takes them; a cancelled run's satellite goes silent
    after 1 s (and is then cancelled)."""
    started = time.monotonic()
    for index, start in enumerate(range(0, len(pcm), CHUNK)):
        if hold is not None and start >= 32000:
            await hold.wait()
        if start >= SPEECH_END and "speech_end" not in marks:
            marks["speech_end"] = time.monotonic()  # the last word is delivered
        yield pcm[start : start + CHUNK]
        delay = started + (index + 1) / 100 - time.monotonic() if paced else 0
        await asyncio.sleep(max(delay, 0))


async def one_run(
    hass: HomeAssistant,
    server: FakeDeepgram,
    pipeline_id: str,
    pcm: bytes,
    *,
    fault: str,
    run_timeout: float,
    paced: bool = False,
    to_intent: bool = True,
) -> Outcome:
    """One voice command; the fault was queued for its handshake already."""
    from homeassistant.components.assist_pipeline import (
        PipelineEventType,
    )
    from homeassistant.components.assist_pipeline.models import PipelineStage

    from tests.pipeline_helpers import run_pipeline

    events: list[tuple[float, PipelineEvent]] = []
    marks: dict[str, float] = {}
    cancel = fault == CANCEL
    hold = asyncio.Event() if cancel else None
    started = time.monotonic()
    task = asyncio.create_task(
        run_pipeline(
            hass,
            pipeline_id,
            audio(pcm, hold, marks, paced=paced),
            _Timed(events),
            PipelineStage.INTENT if to_intent else PipelineStage.STT,
        )
    )
    if cancel:
        sessions = len(server.sessions)
        with contextlib.suppress(TimeoutError):
            await wait_for(lambda: len(server.sessions) > sessions or task.done())
        await asyncio.sleep(0.05)
        task.cancel()
    try:
        async with asyncio.timeout(run_timeout):
            await task
    except asyncio.CancelledError:
        return Outcome(fault, "cancelled", seconds=time.monotonic() - started)
    except TimeoutError:
        return Outcome(fault, "hung", seconds=time.monotonic() - started)
    seconds = time.monotonic() - started
    kinds = {event.type: at for at, event in events}
    if PipelineEventType.ERROR in kinds or PipelineEventType.STT_END not in kinds:
        return Outcome(fault, "errored", seconds=seconds)
    # End of speech (the chunk with the end of the last word handed to the
    # pipeline) -> transcript, whichever detector (Deepgram's or Home
    # Assistant's) ended the turn.
    latency = None
    if "speech_end" in marks:
        latency = kinds[PipelineEventType.STT_END] - marks["speech_end"]
    return Outcome(fault, "completed", latency, seconds)


class _Timed(list["PipelineEvent"]):
    """An event list whose append stamps the time (the pipeline's callback)."""

    def __init__(self, sink: list[tuple[float, PipelineEvent]]) -> None:
        super().__init__()
        self._sink = sink

    def append(self, event: PipelineEvent) -> None:
        self._sink.append((time.monotonic(), event))


def pick(rng: random.Random, fault_every: int, names: list[str]) -> str:
    if rng.randrange(fault_every):
        return "none"
    return rng.choice(names)


def report(
    title: str, outcomes: list[Outcome], wall: float, *, by_fault: bool = True
) -> None:
    results = Counter(o.result for o in outcomes)
    print(f"\n== {title}: {len(outcomes)} runs in {wall:.1f} s")
    print(
        "   "
        + ", ".join(
            f"{name} {results[name]}"
            for name in ("completed", "errored", "cancelled", "hung")
        )
    )
    for label, chosen in (
        ("all runs with a transcript", outcomes),
        ("runs without a fault", [o for o in outcomes if o.fault == "none"]),
    ):
        latencies = sorted(o.latency for o in chosen if o.latency is not None)
        if len(latencies) >= 2:
            cuts = statistics.quantiles(latencies, n=100)
            print(
                f"   end of speech -> transcript, {label} ({len(latencies)}): "
                f"p50 {cuts[49] * 1000:.1f} ms, p95 {cuts[94] * 1000:.1f} ms, "
                f"max {latencies[-1] * 1000:.1f} ms"
            )
    durations = sorted(o.seconds for o in outcomes)
    if len(durations) >= 2:
        cuts = statistics.quantiles(durations, n=100)
        print(
            f"   whole run: p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms,"
            f" max {durations[-1] * 1000:.0f} ms"
        )
    if not by_fault:
        # Handshakes take the queued faults in their own order: no mapping.
        injected = Counter(o.fault for o in outcomes if o.fault != "none")
        print(f"   faults mixed in: {dict(sorted(injected.items()))}")
        return
    faults: dict[str, Counter[str]] = {}
    for outcome in outcomes:
        faults.setdefault(outcome.fault, Counter())[outcome.result] += 1
    for fault, counts in sorted(faults.items()):
        text = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        print(f"     {fault:<24} {text}")


async def soak(hass: HomeAssistant, options: argparse.Namespace) -> int:
    """The soak itself, in a running Home Assistant."""
    from homeassistant.config_entries import ConfigSubentryData
    from homeassistant.const import CONF_API_KEY, CONF_URL
    from pytest_homeassistant_custom_component.common import (
        MockConfigEntry,
    )

    from custom_components.deepgram.const import (
        DEFAULT_STT_NAME,
        DOMAIN,
        RECOMMENDED_STT_OPTIONS,
        SUBENTRY_STT,
    )
    from tests.pipeline_helpers import setup_pipeline, speech_pcm

    # The test harness runs the loop in debug mode (slow callbacks, task
    # creation tracebacks kept); a Home Assistant in use does not.
    asyncio.get_running_loop().set_debug(False)
    scan = LogScan()
    handler = _ScanHandler(scan)
    for printer in logging.getLogger().handlers:
        printer.setLevel(logging.WARNING)  # the terminal gets warnings only
    for name in ("custom_components.deepgram", "aiohttp", "homeassistant"):
        logging.getLogger(name).addHandler(handler)
    logging.getLogger("custom_components.deepgram").setLevel(logging.DEBUG)

    server = FakeDeepgram(api_key=API_KEY)
    server.keep_audio = False  # its records would dwarf the client's memory
    await server.start()
    server.script = SCRIPT
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Deepgram (soak, local fake)",
        data={CONF_API_KEY: API_KEY, CONF_URL: server.base_url},
        subentries_data=[
            ConfigSubentryData(
                data=dict(RECOMMENDED_STT_OPTIONS),
                subentry_type=SUBENTRY_STT,
                title=DEFAULT_STT_NAME,
                unique_id=None,
            )
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    pipeline_id = await setup_pipeline(hass)
    pcm = speech_pcm()
    rng = random.Random(options.seed)
    names = options.only or list(FAULTS)
    deadline = time.monotonic() + options.max_minutes * 60
    # Warm up (imports, first connections) before measuring.
    await one_run(
        hass, server, pipeline_id, pcm, fault="none", run_timeout=options.run_timeout
    )
    await asyncio.sleep(0.5)
    before = snapshot(server)
    print(f"seed {options.seed}; before: {before}")

    outcomes: list[Outcome] = []
    started = time.monotonic()
    ends: Counter[str] = Counter()
    handshakes = 0
    checkpoints = [(0, rss_mb(), len(gc.get_objects()))]
    types_before = _object_types()

    async def tally() -> None:
        """Count how the server's sessions ended, then forget them (the
        fake server keeps records that would swamp the client's memory)."""
        nonlocal handshakes
        await hass.async_block_till_done(wait_background_tasks=True)
        with contextlib.suppress(TimeoutError):
            await server.wait_for_sessions_closed(timeout=2)
        ends.update(_how_it_ended(s) for s in server.sessions)
        handshakes += len(server.handshakes)
        server.sessions.clear()
        server.handshakes.clear()
        gc.collect()
        checkpoints.append((len(outcomes), rss_mb(), len(gc.get_objects())))

    for index in range(options.sequential):
        if index and index % 250 == 0:
            await tally()
        if time.monotonic() > deadline:
            print("   (time bound reached: sequential runs stopped early)")
            break
        fault = pick(rng, options.fault_every, names)
        if (faults := FAULTS.get(fault)) is not None:
            server.fault_plan.append(faults)
        outcomes.append(
            await one_run(
                hass,
                server,
                pipeline_id,
                pcm,
                fault=fault,
                run_timeout=options.run_timeout,
                to_intent=not options.stt_only,
            )
        )
        server.fault_plan.clear()
    report("sequential", outcomes, time.monotonic() - started)
    await tally()
    print("   memory as runs go (RSS MB, Python objects):")
    print("     " + "; ".join(f"{n}: {r:.1f}, {o:,}" for n, r, o in checkpoints))
    growth = _object_types()
    growth.subtract(types_before)
    print(
        "   object types that grew most: "
        + ", ".join(f"{name} +{count:,}" for name, count in growth.most_common(8))
    )
    ours = {
        name: count
        for name, count in growth.items()
        if count and name.startswith(("custom_components.", "aiohttp."))
    }
    print(f"   of them the integration's and aiohttp's: {ours or 'none'}")

    faults_now = [
        pick(rng, options.fault_every, names) for _ in range(options.concurrent)
    ]
    server.fault_plan.extend(f for name in faults_now if (f := FAULTS.get(name)))
    started = time.monotonic()
    concurrent = list(
        await asyncio.gather(
            *(
                one_run(
                    hass,
                    server,
                    pipeline_id,
                    pcm,
                    fault=name,
                    run_timeout=options.run_timeout,
                    paced=True,
                    to_intent=not options.stt_only,
                )
                for name in faults_now
            )
        )
    )
    server.fault_plan.clear()
    report(
        f"concurrent ({options.concurrent} at once)",
        concurrent,
        time.monotonic() - started,
        by_fault=False,
    )

    # Let the background closes (bounded at 5 s, 6 s with the socket) finish.
    await tally()
    print(f"\n== server: {sum(ends.values())} sessions, {handshakes} handshakes")
    for how, count in sorted(ends.items()):
        print(f"   {how:<58} {count}")
    # Stop the fake server (its handlers are tasks of this loop too, it holds
    # idle keep-alive connections and keeps every frame it received): what
    # is left is the client's.
    await server.stop()
    await asyncio.sleep(1)
    after = snapshot(server)
    print(f"\nbefore: {before}")
    print(f"after:  {after}  (fake server stopped)")
    print(
        f"log records: {scan.records} ({dict(scan.by_level)}); "
        f"with the API key: {scan.leaks}"
    )
    every = [*outcomes, *concurrent]
    hung = sum(o.result == "hung" for o in every)
    dropped = ends[DROPPED]
    leaked = after["sockets to the server"] + after["tasks"] - before["tasks"]
    assert await hass.config_entries.async_unload(entry.entry_id)
    for name in ("custom_components.deepgram", "aiohttp", "homeassistant"):
        logging.getLogger(name).removeHandler(handler)
    return int(bool(hung or scan.leaks or dropped or leaked))


DROPPED = "client closed without CloseStream"


def _object_types() -> Counter[str]:
    return Counter(
        f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects()
    )


def _how_it_ended(record: Any) -> str:
    if record.got_close_stream:
        return (
            f"CloseStream, then closed by the {record.closed_by} ({record.close_code})"
        )
    if record.closed_by == "server":
        return f"the server ended the stream first ({record.close_code})"
    if record.closed_by == "client":
        return DROPPED
    return "the server stopped reading (the client reset the socket)"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sequential", type=int, default=1000)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--fault-every", type=int, default=7)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--run-timeout", type=float, default=30.0)
    parser.add_argument("--max-minutes", type=float, default=20.0)
    parser.add_argument(
        "--stt-only",
        action="store_true",
        help="end the pipeline after speech-to-text (no intent, no chat log)",
    )
    parser.add_argument(
        "--only", action="append", choices=list(FAULTS), help="faults to mix in"
    )
    return parser.parse_args()


@pytest.mark.timeout(0)
async def test_soak(
    hass: HomeAssistant, enable_custom_integrations: None, socket_enabled: None
) -> None:
    """Run by main() through pytest, for the `hass` harness."""
    status = await soak(hass, parse_args())  # sys.argv is still the script's
    assert status == 0, "hung runs, key leaks or sessions without CloseStream"


def main() -> int:
    parse_args()  # --help and bad arguments before starting anything
    return pytest.main(
        [
            f"{__file__}::test_soak",
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:logging",  # no capture of every record: memory is measured
            "-o",
            "addopts=",
            "-W",
            "ignore::DeprecationWarning",
            f"--rootdir={ROOT}",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
