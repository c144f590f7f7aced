"""End-of-speech benchmark through the real assist pipeline inside Home Assistant.

Home Assistant (2026.10, as the tests run it) runs the integration, the real
assist pipeline and its voice activity detector (pymicro-vad, default
sensitivity); a satellite streams the espeak-ng fixtures of tests/fixtures/speech
at real time in 10 ms chunks and keeps streaming after the speech, as ESPHome
and Wyoming satellites do. The local Deepgram server runs in its own process
with a latency model applied in both directions.

Strategies, side by side on the same audio:

- deepgram:     this integration, End of speech = Deepgram (speech_final +
                Home Assistant's sentence matcher, UtteranceEnd, detector).
- finalize:     this integration, End of speech = Home Assistant: the
                detector ends the stream, then Finalize.
- closestream:  as finalize, but CloseStream and wait for the server to close
                (what other Deepgram integrations do).
- prerecorded:  buffer the command, then one pre-recorded request (what batch
                STT integrations do).
- flux:         a Flux profile (flux-general-en, default thresholds): the run
                ends at Flux's EndOfTurn.
- flux-eager:   a Flux profile with an eager end of turn (threshold 0.35): the
                run ends at the EagerEndOfTurn once Home Assistant's sentence
                matcher knows the words as a command.
- flux-vad:     a Flux profile with its own turn end off (threshold 1.0): the
                detector ends the stream, then ForceEndTurn.

Measured: last spoken word -> stt-end (the pause the user feels) and stream
end -> transcript (our own part once the stream ended); with 1, 10 and 50
runs at once also p50/p95, CPU seconds per second of audio and memory per
live session. Writes docs/benchmark.md and docs/benchmark.png. Figures come
from the latency model, not from Deepgram.

    .venv/bin/python scripts/benchmark.py [--runs 5] [--rtt 20 80 200]
        [--concurrency 1 10 50] [--out docs]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterable, AsyncIterator
import contextvars
import cProfile
from dataclasses import dataclass, field
import gc
import io
import multiprocessing
import os
from pathlib import Path
import platform
import pstats
import statistics
import sys
import tempfile
import time
import tracemalloc
from typing import Any
import wave

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import custom_components  # noqa: E402, F401  # isort: skip  (before HA's loader)

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from homeassistant import loader  # noqa: E402
from homeassistant.components import stt  # noqa: E402
from homeassistant.components.assist_pipeline import (  # noqa: E402
    PipelineEvent,
    PipelineEventType,
    async_pipeline_from_audio_stream,
)
from homeassistant.components.assist_pipeline.models import PipelineStage  # noqa: E402
from homeassistant.components.assist_pipeline.pipeline import (  # noqa: E402
    KEY_ASSIST_PIPELINE,
)
from homeassistant.config_entries import ConfigSubentryData  # noqa: E402
from homeassistant.const import CONF_API_KEY, CONF_URL, __version__ as HA_VERSION  # noqa: E402
from homeassistant.core import Context, HomeAssistant  # noqa: E402
from homeassistant.setup import async_setup_component  # noqa: E402
from pytest_homeassistant_custom_component.common import (  # noqa: E402
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.deepgram.api import (  # noqa: E402
    Endpoint,
    LiveOptions,
    LiveSession,
)
from custom_components.deepgram.const import (  # noqa: E402
    CLOSE_TIMEOUT,
    CONF_EAGER_EOT_THRESHOLD,
    CONF_END_OF_SPEECH,
    CONF_EOT_THRESHOLD,
    DOMAIN,
    RECOMMENDED_FLUX_OPTIONS,
    RECOMMENDED_STT_OPTIONS,
    SUBENTRY_FLUX,
    SUBENTRY_STT,
)
from custom_components.deepgram.stt import DeepgramSttEntity  # noqa: E402
from custom_components.deepgram.transcriber import Transcriber  # noqa: E402
from tests.deepgram_server import FakeDeepgram, Latency  # noqa: E402
from tests.deepgram_server.flux_engine import DEFAULT_EOT_DELAY  # noqa: E402
from tests.speech_fixtures import ALL, COMPLETE, Satellite, Speech, load  # noqa: E402

KEY = "benchmark-key"
FIRST_RESULT = 0.15
FINALIZE = 0.12
PRERECORDED_BASE = 0.25
PRERECORDED_PER_SECOND = 0.02
STRATEGIES = (
    "deepgram",
    "finalize",
    "closestream",
    "prerecorded",
    "flux",
    "flux-eager",
    "flux-vad",
)
MODE_OF = {
    "deepgram": "deepgram",
    "finalize": "home_assistant",
    "closestream": "home_assistant",
    "prerecorded": "home_assistant",
    "flux": "flux",
    "flux-eager": "flux_eager",
    "flux-vad": "flux_vad",
}
# The Flux profiles: what each changes from the recommended options.
FLUX_PROFILES: dict[str, dict[str, Any]] = {
    "flux": {},
    "flux_eager": {CONF_EAGER_EOT_THRESHOLD: 0.35},
    "flux_vad": {CONF_EOT_THRESHOLD: 1.0},
}
ENTITY_OF = {
    "deepgram": "stt.bench_deepgram",
    "home_assistant": "stt.bench_home_assistant",
    **{mode: f"stt.bench_{mode}" for mode in FLUX_PROFILES},
}


def latency_model(rtt: float) -> Latency:
    """The server's latency model at a round trip of `rtt` seconds."""
    return Latency(
        rtt=rtt,
        first_result=FIRST_RESULT,
        finalize=FINALIZE,
        prerecorded_base=PRERECORDED_BASE,
        prerecorded_per_audio_second=PRERECORDED_PER_SECOND,
        both_ways=True,
    )


# -- the local Deepgram server, in its own process ----------------------------


class BenchServer(FakeDeepgram):
    """The local server plus a route to set the latency and the fixture."""

    def make_app(self) -> web.Application:
        """The server's routes and `POST /bench/config`."""
        app = super().make_app()
        app.router.add_post("/bench/config", self._configure)
        return app

    async def _configure(self, request: web.Request) -> web.Response:
        config = await request.json()
        self.latency = latency_model(config["rtt"])
        self.script = load(config["fixture"]).script
        self.sessions.clear()  # keep the server's memory flat
        self.handshakes.clear()
        self.rest_requests.clear()
        return web.json_response({"ok": True})


def serve(conn: Any) -> None:
    """Child process: run the server, send its URL, serve until killed."""

    async def main() -> None:
        server = BenchServer(api_key=KEY)
        conn.send(await server.start())
        await asyncio.Event().wait()

    asyncio.run(main())


# -- one pipeline run ---------------------------------------------------------


@dataclass
class Probe:
    """What one run measured (monotonic seconds)."""

    stream_end: float | None = None
    returned: float | None = None
    stt_end: float | None = None
    text: str | None = None
    error: str | None = None
    ended_by: str | None = None


PROBE: contextvars.ContextVar[Probe] = contextvars.ContextVar("probe")
STRATEGY: dict[str, str] = {"name": "finalize"}


def instrument() -> None:
    """Time the entity's stream and answer; add the two comparison strategies.

    Benchmark-only patches: the integration itself has no such strategies.
    """
    original = DeepgramSttEntity.async_process_audio_stream

    async def timed(
        self: DeepgramSttEntity,
        metadata: stt.SpeechMetadata,
        stream: AsyncIterable[bytes],
    ) -> stt.SpeechResult:
        probe = PROBE.get()

        async def watched() -> AsyncIterator[bytes]:
            async for chunk in stream:
                yield chunk
            probe.stream_end = time.monotonic()

        result = await original(self, metadata, watched())
        probe.returned = time.monotonic()
        return result

    DeepgramSttEntity.async_process_audio_stream = timed  # type: ignore[method-assign]

    flushed = Transcriber._flushed

    async def flush_or_close(session: LiveSession, heard_audio: bool) -> Any:
        if STRATEGY["name"] == "closestream":
            await session.close(CLOSE_TIMEOUT)
            return session.transcript
        return await flushed(session, heard_audio)

    Transcriber._flushed = staticmethod(flush_or_close)  # type: ignore[method-assign]

    succeeded = Transcriber._succeeded

    def note_end(
        self: Transcriber, record: Any, session: Any, transcript: Any
    ) -> stt.SpeechResult:
        PROBE.get().ended_by = record.ended_by
        return succeeded(self, record, session, transcript)

    Transcriber._succeeded = note_end  # type: ignore[method-assign]

    transcribe = Transcriber.async_transcribe

    async def batch_or_live(
        self: Transcriber,
        options: LiveOptions,
        stream: AsyncIterable[bytes],
        on_transcript: Any = None,
    ) -> stt.SpeechResult:
        if STRATEGY["name"] != "prerecorded":
            return await transcribe(self, options, stream, on_transcript)
        recorded = bytearray()
        async for chunk in stream:
            recorded += chunk
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(16000)
            out.writeframes(bytes(recorded))
        batch = LiveOptions(
            model=options.model,
            language=options.language,
            encoding=None,
            sample_rate=None,
            channels=None,
            punctuate=options.punctuate,
            numerals=options.numerals,
        )
        result = await self.entry.runtime_data.rest.transcribe(buffer.getvalue(), batch)
        return stt.SpeechResult(result.transcript, stt.SpeechResultState.SUCCESS)

    Transcriber.async_transcribe = batch_or_live  # type: ignore[method-assign]


METADATA = stt.SpeechMetadata(
    language="en-US",
    format=stt.AudioFormats.WAV,
    codec=stt.AudioCodecs.PCM,
    bit_rate=stt.AudioBitRates.BITRATE_16,
    sample_rate=stt.AudioSampleRates.SAMPLERATE_16000,
    channel=stt.AudioChannels.CHANNEL_MONO,
)


@dataclass
class RunResult:
    """One run's figures (seconds)."""

    pause: float  # last spoken word -> stt-end
    transcript: float | None  # stream end -> transcript (None: ended early)
    audio: float  # audio the pipeline read
    correct: bool
    error: str | None
    ended_by: str | None = None


async def one_run(hass: HomeAssistant, pipeline_id: str, speech: Speech) -> RunResult:
    """Stream `speech` through the pipeline at real time; measure the run."""
    probe = Probe()
    PROBE.set(probe)
    satellite = Satellite(speech.pcm)

    def on_event(event: PipelineEvent) -> None:
        if event.type is PipelineEventType.STT_END and probe.stt_end is None:
            probe.stt_end = time.monotonic()
            assert event.data is not None
            probe.text = event.data["stt_output"]["text"]
        elif event.type is PipelineEventType.ERROR and event.data:
            probe.error = str(event.data.get("code"))

    async with asyncio.timeout(30):
        await async_pipeline_from_audio_stream(
            hass,
            context=Context(),
            event_callback=on_event,
            stt_metadata=METADATA,
            stt_stream=satellite.stream(),
            pipeline_id=pipeline_id,
            start_stage=PipelineStage.STT,
            end_stage=PipelineStage.INTENT,
        )
    last_chunk = min(int(speech.last_word_end * 100), len(satellite.wall) - 1)
    last_word = satellite.wall[last_chunk]
    stt_end = probe.stt_end if probe.stt_end is not None else time.monotonic()
    transcript = (
        probe.returned - probe.stream_end
        if probe.returned is not None and probe.stream_end is not None
        else None
    )
    return RunResult(
        pause=stt_end - last_word,
        transcript=transcript,
        audio=satellite.audio_seconds,
        correct=probe.text is not None
        and probe.text.rstrip(".").lower() == speech.text.rstrip(".").lower(),
        error=probe.error,
        ended_by=probe.ended_by,
    )


# -- Home Assistant -----------------------------------------------------------


async def setup_home_assistant(hass: HomeAssistant, base_url: str) -> dict[str, str]:
    """The integration with one profile per mode (nova and Flux), a light, and
    a pipeline each."""
    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "light": [
                        {
                            "name": "Kitchen light",
                            "turn_on": [],
                            "turn_off": [],
                            "set_level": [],
                        }
                    ]
                }
            ]
        },
    )
    assert await async_setup_component(hass, "assist_pipeline", {})
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Deepgram",
        data={CONF_API_KEY: KEY, CONF_URL: base_url},
        subentries_data=[
            ConfigSubentryData(
                data={**RECOMMENDED_STT_OPTIONS, CONF_END_OF_SPEECH: mode},
                subentry_type=SUBENTRY_STT,
                title=f"bench {mode}",
                unique_id=None,
            )
            for mode in ("deepgram", "home_assistant")
        ]
        + [
            ConfigSubentryData(
                data={**RECOMMENDED_FLUX_OPTIONS, **changes},
                subentry_type=SUBENTRY_FLUX,
                title=f"bench {mode}",
                unique_id=None,
            )
            for mode, changes in FLUX_PROFILES.items()
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    store = hass.data[KEY_ASSIST_PIPELINE].pipeline_store
    pipelines: dict[str, str] = {}
    for mode, entity_id in ENTITY_OF.items():
        assert hass.states.get(entity_id) is not None, entity_id
        pipeline = await store.async_create_item(
            {
                "conversation_engine": "conversation.home_assistant",
                "conversation_language": "en",
                "language": "en",
                "name": f"bench {mode}",
                "stt_engine": entity_id,
                "stt_language": "en-US",
                "tts_engine": None,
                "tts_language": None,
                "tts_voice": None,
                "wake_word_entity": None,
                "wake_word_id": None,
            }
        )
        pipelines[mode] = pipeline.id
    return pipelines


# -- figures ------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """The `q` quantile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.0f}"


@dataclass
class Cell:
    """The runs of one strategy, fixture, round trip and concurrency."""

    runs: list[RunResult] = field(default_factory=list)
    cpu: float = 0.0
    wall: float = 0.0
    mem_total: float | None = None
    mem_ours: float | None = None

    @property
    def pauses(self) -> list[float]:
        return [r.pause for r in self.runs]

    @property
    def transcripts(self) -> list[float]:
        return [r.transcript for r in self.runs if r.transcript is not None]

    @property
    def correct(self) -> str:
        return f"{sum(r.correct for r in self.runs)}/{len(self.runs)}"

    @property
    def ended(self) -> str:
        """How the runs ended (Deepgram mode), e.g. `sentence_match 9, ...`."""
        counts: dict[str, int] = {}
        for run in self.runs:
            if run.ended_by:
                counts[run.ended_by] = counts.get(run.ended_by, 0) + 1
        return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "—"

    @property
    def audio(self) -> float:
        return sum(r.audio for r in self.runs)


class Bench:
    """Runs the batches against one Home Assistant and one server."""

    def __init__(self, hass: HomeAssistant, pipelines: dict[str, str], base: str):
        self.hass = hass
        self.pipelines = pipelines
        self.base = base

    async def configure(self, rtt: float, fixture: str) -> None:
        async with aiohttp.ClientSession() as http:
            response = await http.post(
                f"{self.base}/bench/config", json={"rtt": rtt, "fixture": fixture}
            )
            response.raise_for_status()

    async def batch(
        self,
        strategy: str,
        speech: Speech,
        concurrency: int,
        *,
        memory: bool = False,
        collect: bool = True,
    ) -> Cell:
        """`concurrency` runs at once; CPU and (optionally) memory of the batch."""
        STRATEGY["name"] = strategy
        pipeline_id = self.pipelines[MODE_OF[strategy]]
        cell = Cell()
        if collect:
            gc.collect()
        if memory:
            tracemalloc.start(1)
            baseline = tracemalloc.get_traced_memory()[0]
        cpu = time.process_time()
        wall = time.monotonic()
        tasks = [
            asyncio.create_task(one_run(self.hass, pipeline_id, speech))
            for _ in range(concurrency)
        ]
        if memory:
            # Mid-speech every session is live: the memory they hold now.
            await asyncio.sleep(min(speech.last_word_end, 2.0))
            current = tracemalloc.get_traced_memory()[0]
            snapshot = tracemalloc.take_snapshot().filter_traces(
                [
                    tracemalloc.Filter(True, "*custom_components/deepgram/*"),
                    tracemalloc.Filter(True, "*aiohttp/*"),
                ]
            )
            ours = sum(stat.size for stat in snapshot.statistics("filename"))
            tracemalloc.stop()
            cell.mem_total = (current - baseline) / concurrency
            cell.mem_ours = ours / concurrency
        cell.runs = list(await asyncio.gather(*tasks))
        cell.cpu = time.process_time() - cpu
        cell.wall = time.monotonic() - wall
        await self.hass.async_block_till_done()
        await asyncio.sleep(0.3)  # let background closes finish
        return cell

    async def repeat(self, strategy: str, speech: Speech, runs: int) -> Cell:
        cell = Cell()
        for _ in range(runs):
            cell.runs += (await self.batch(strategy, speech, 1)).runs
        return cell


AREAS = (
    ("integration", "custom_components/deepgram/"),
    ("aiohttp (WebSocket client)", "/aiohttp/"),
    ("voice activity detector", "micro_vad"),
    ("socket I/O", "_socket.socket"),
    ("assist pipeline", "assist_pipeline/"),
    ("conversation, intents", "/conversation/"),
    ("other Home Assistant", "/homeassistant/"),
    ("benchmark satellite and probes", "speech_fixtures"),
    ("benchmark satellite and probes", "scripts/benchmark.py"),
    ("asyncio event loop", "asyncio/"),
)


async def protocol_batch(base: str, speech: Speech, n: int) -> str:
    """The protocol layer alone: `n` sessions stream at real time, then Finalize.

    No Home Assistant work: what the integration's own client costs per live
    session, and its stream end -> transcript under concurrency.
    """
    options = LiveOptions(
        model="nova-3", language="en-US", interim_results=True, endpointing=300
    )
    stop = int((speech.last_word_end + 0.7) * 100)  # where the detector would end
    chunks = [speech.pcm[i * 320 : (i + 1) * 320] for i in range(stop)]

    async def one(http: aiohttp.ClientSession) -> float:
        session = LiveSession(http, Endpoint(base, KEY), options)
        session.start()
        started = time.monotonic()
        for index, chunk in enumerate(chunks):
            await session.send_audio(chunk)
            if (delay := started + (index + 1) / 100 - time.monotonic()) > 0:
                await asyncio.sleep(delay)
        ended = time.monotonic()
        transcript = await session.finalize()
        latency = time.monotonic() - ended
        await session.close()
        assert transcript.text, "no transcript"
        return latency

    async with aiohttp.ClientSession() as http:
        gc.collect()
        cpu = time.process_time()
        latencies = await asyncio.gather(*(one(http) for _ in range(n)))
        cpu = time.process_time() - cpu
    audio = n * len(chunks) / 100
    return (
        f"| {n} | {ms(statistics.median(latencies))} | {ms(pct(latencies, 0.95))} "
        f"| {cpu / audio * 100:.2f} |"
    )


async def profile_batch(bench: Bench, strategy: str, speech: Speech, n: int) -> str:
    """Where a batch's CPU time goes, by area (cProfile, own time)."""
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    cell = await bench.batch(strategy, speech, n, collect=False)
    profiler.disable()
    stats = pstats.Stats(profiler)
    by_area: dict[str, float] = {}
    others: dict[str, float] = {}
    total = 0.0
    for (filename, _, name), row in stats.stats.items():  # type: ignore[attr-defined]
        own = row[2]
        total += own
        where = f"{filename}:{name}"
        area = next((label for label, key in AREAS if key in where), "other")
        by_area[area] = by_area.get(area, 0.0) + own
        if area == "other":
            others[where] = others.get(where, 0.0) + own
    audio = cell.audio or 1.0
    top = sorted(others.items(), key=lambda kv: -kv[1])[:8]
    other = ", ".join(
        f"`{where[-60:]}` {own / total * 100:.1f} %" for where, own in top
    )
    rows = [
        f"| {area} | {seconds / total * 100:.1f} | {seconds / audio * 100:.3f} |"
        for area, seconds in sorted(by_area.items(), key=lambda kv: -kv[1])
    ]
    return "\n".join(
        [
            f"\n## Where the CPU goes ({strategy}, {n} runs at once, cProfile)\n",
            "Own time of the functions of each area (profiling inflates it); the "
            "last column divides it by the seconds of audio streamed, i.e. % of a "
            "core per live session.\n",
            "| area | % of the CPU | % of a core per session |",
            "|---|---:|---:|",
            *rows,
            f"\nLargest in *other*: {other}.",
        ]
    )


def floor(strategy: str, rtt: float, audio: float) -> float | None:
    """The latency model's least time from stream end to transcript."""
    if strategy in ("finalize", "closestream", "flux-vad"):
        return rtt + FINALIZE
    if strategy == "prerecorded":
        return rtt + PRERECORDED_BASE + PRERECORDED_PER_SECOND * audio
    return None


async def run_all(args: argparse.Namespace, base: str) -> str:
    """Every batch; returns the markdown report."""
    # A config directory of its own: registries are saved there, not in the
    # shared test configuration.
    with tempfile.TemporaryDirectory() as config_dir:
        return await _run_all(args, base, config_dir)


async def _run_all(args: argparse.Namespace, base: str, config_dir: str) -> str:
    lines: list[str] = []
    out = lines.append
    chart: dict[str, dict[int, float]] = {s: {} for s in STRATEGIES}
    async with async_test_home_assistant(config_dir=config_dir) as hass:
        pipelines = await setup_home_assistant(hass, base)
        instrument()
        bench = Bench(hass, pipelines, base)
        complete = load(COMPLETE)

        # Warm up (first runs load sentences, open pools).
        await bench.configure(0.08, COMPLETE)
        for strategy in STRATEGIES:
            await bench.batch(strategy, complete, 1)

        headline: list[str] = []
        if args.quick:
            args.rtt = []
        out("## Fixture a, one run at a time, by round trip\n")
        out(
            "| RTT ms | strategy | last word → stt-end p50 ms | p95 ms "
            "| stream end → transcript p50 ms | model floor ms | correct |"
        )
        out("|---:|---|---:|---:|---:|---:|---|")
        for rtt_ms in args.rtt:
            rtt = rtt_ms / 1000
            await bench.configure(rtt, COMPLETE)
            for strategy in STRATEGIES:
                cell = await bench.repeat(strategy, complete, args.runs)
                audio = statistics.mean(r.audio for r in cell.runs)
                transcripts = cell.transcripts
                row = (
                    f"| {rtt_ms} | {strategy} | {ms(statistics.median(cell.pauses))} "
                    f"| {ms(pct(cell.pauses, 0.95))} "
                    f"| {ms(statistics.median(transcripts) if transcripts else None)} "
                    f"| {ms(floor(strategy, rtt, audio))} | {cell.correct} |"
                )
                out(row)
                print(row, flush=True)
                chart[strategy][rtt_ms] = statistics.median(cell.pauses)
                if rtt_ms == 80:
                    headline.append(row)

        out("\n## Every fixture at 80 ms, one run at a time\n")
        out(
            "| fixture | strategy | last word → stt-end p50 ms | p95 ms "
            "| stream end → transcript p50 ms | correct | errors | ended by |"
        )
        out("|---|---|---:|---:|---:|---|---|---|")
        for name in [] if args.quick else ALL:
            speech = load(name)
            await bench.configure(0.08, name)
            for strategy in ("deepgram", "finalize"):
                cell = await bench.repeat(strategy, speech, max(2, args.runs // 2))
                transcripts = cell.transcripts
                errors = (
                    ",".join(sorted({r.error for r in cell.runs if r.error})) or "—"
                )
                row = (
                    f"| {name} | {strategy} | {ms(statistics.median(cell.pauses))} "
                    f"| {ms(pct(cell.pauses, 0.95))} "
                    f"| {ms(statistics.median(transcripts) if transcripts else None)} "
                    f"| {cell.correct} | {errors} | {cell.ended} |"
                )
                out(row)
                print(row, flush=True)

        out("\n## Concurrent runs (fixture a, 80 ms)\n")
        out(
            "| strategy | runs at once | last word → stt-end p50 ms | p95 ms "
            "| p95 / p95 of one run | stream end → transcript p50 ms "
            "| CPU % of a core per session "
            "| memory per session KiB (all / integration + aiohttp) | correct "
            "| ended by |"
        )
        out("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
        await bench.configure(0.08, COMPLETE)
        for strategy in ("deepgram", "finalize"):
            single_p95: float | None = None
            for concurrency in args.concurrency:
                cell = await bench.batch(strategy, complete, concurrency)
                if concurrency == 1 and args.runs > 1:
                    for _ in range(args.runs - 1):
                        more = await bench.batch(strategy, complete, 1)
                        cell.runs += more.runs
                        cell.cpu += more.cpu
                memory = await bench.batch(strategy, complete, concurrency, memory=True)
                p95 = pct(cell.pauses, 0.95)
                transcripts = cell.transcripts
                if single_p95 is None:
                    single_p95 = p95
                cpu_share = cell.cpu / cell.audio * 100 if cell.audio else 0.0
                row = (
                    f"| {strategy} | {concurrency} "
                    f"| {ms(statistics.median(cell.pauses))} "
                    f"| {ms(p95)} | {p95 / single_p95:.2f} "
                    f"| {ms(statistics.median(transcripts) if transcripts else None)} "
                    f"| {cpu_share:.2f} "
                    f"| {(memory.mem_total or 0) / 1024:.0f} / "
                    f"{(memory.mem_ours or 0) / 1024:.0f} | {cell.correct} "
                    f"| {cell.ended} |"
                )
                out(row)
                print(row, flush=True)
        out("\n## The protocol layer alone (Finalize, 80 ms)\n")
        out(
            "The integration's WebSocket client without Home Assistant: sessions "
            "stream fixture a at real time up to where the detector would end it "
            "(0.7 s after the last word), then Finalize; CPU of the client "
            "process only (the server runs in its own process).\n"
        )
        out(
            "| sessions at once | stream end → transcript p50 ms | p95 ms "
            "| CPU % of a core per session |"
        )
        out("|---:|---:|---:|---:|")
        for concurrency in args.concurrency:
            row = await protocol_batch(base, complete, concurrency)
            out(row)
            print(row, flush=True)
        profile = await profile_batch(bench, "deepgram", complete, args.profile_runs)
        out(profile)
        print(profile, flush=True)
        await hass.async_stop(force=True)

    header = [
        "# Benchmark: end of speech through the real pipeline\n",
        "Generated by `scripts/benchmark.py`; figures come from the local "
        "server's latency model, not from Deepgram.\n",
        "## Headline (fixture a, round trip 80 ms)\n",
        "| RTT ms | strategy | last word → stt-end p50 ms | p95 ms "
        "| stream end → transcript p50 ms | model floor ms | correct |",
        "|---:|---|---:|---:|---:|---:|---|",
        *headline,
        "",
        "## Set-up\n",
        f"- Home Assistant {HA_VERSION}, its assist pipeline and voice activity "
        "detector (default sensitivity), the built-in conversation agent, a "
        "template light; the integration with one nova profile per end-of-speech "
        "mode and three Flux profiles.",
        "- A satellite streams the fixture at real time in 10 ms chunks and keeps "
        "streaming silence after it (as ESPHome and Wyoming satellites do).",
        f"- Latency model (local server, separate process): round trip applied in "
        f"both directions, first result +{FIRST_RESULT * 1000:.0f} ms, Finalize "
        f"processing {FINALIZE * 1000:.0f} ms, pre-recorded "
        f"{PRERECORDED_BASE * 1000:.0f} ms + {PRERECORDED_PER_SECOND * 1000:.0f} ms "
        "per audio second; Deepgram marks speech_final 300 ms (endpointing) and "
        "UtteranceEnd 1000 ms after the last word; Flux's EndOfTurn comes "
        f"{DEFAULT_EOT_DELAY * 1000:.0f} ms after the last word (at the default "
        "threshold 0.7; the eager end of turn at 0.35 half as long), "
        "ForceEndTurn as Finalize.",
        "- last word → stt-end: from the moment the satellite delivered the end of "
        "the last word to the pipeline's stt-end event. stream end → transcript: "
        "from the end of the stream the entity read to its answer (— when the run "
        "ended before the stream did).",
        "- CPU: process CPU time of Home Assistant (pipeline, detector, intent, "
        "integration; not the server) per second of audio the runs streamed. "
        "Memory: traced allocations held mid-speech per live run, all of Home "
        "Assistant's and those made in the integration and aiohttp.",
        f"- Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared), "
        f"{platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; "
        f"{args.runs} runs per cell.",
        "",
        "![last word to stt-end by round trip](benchmark.png)\n",
    ]
    report = "\n".join([*header, *lines]) + "\n"
    draw_chart(chart, args.out / "benchmark.png")
    return report


def draw_chart(chart: dict[str, dict[int, float]], path: Path) -> None:
    """Bars: median last word -> stt-end per strategy and round trip."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rtts = sorted({rtt for values in chart.values() for rtt in values})
    fig, ax = plt.subplots(figsize=(9, 5))
    width = 0.8 / len(chart)
    for index, (strategy, values) in enumerate(chart.items()):
        xs = [i + index * width for i in range(len(rtts))]
        ax.bar(xs, [values.get(rtt, 0) * 1000 for rtt in rtts], width, label=strategy)
    ax.set_xticks([i + width * (len(chart) - 1) / 2 for i in range(len(rtts))])
    ax.set_xticklabels([f"RTT {rtt} ms" for rtt in rtts])
    ax.set_ylabel("last word → stt-end, median (ms)")
    ax.set_title("Pause after the last word, fixture a, real pipeline")
    ax.legend(loc="upper center", ncol=4, bbox_to_anchor=(0.5, -0.08))
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rtt", type=int, nargs="+", default=[20, 80, 200])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--profile-runs", type=int, default=10)
    parser.add_argument(
        "--quick", action="store_true", help="only the concurrency sections"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=serve, args=(child,), daemon=True)
    server.start()
    try:
        base = parent.recv()
        report = asyncio.run(run_all(args, base))
    finally:
        server.terminate()
        server.join(5)
    (args.out / "benchmark.md").write_text(report)
    print()
    print(report)


if __name__ == "__main__":
    main()
