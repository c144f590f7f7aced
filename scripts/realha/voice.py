"""One voice command through the running Home Assistant's Assist pipeline.

    scripts/voice [WAV] [--pipeline ID] [--config DIR]

Streams the WAV (16 kHz, 16-bit mono; default the project's "Turn on the
kitchen light") over the websocket API in 10 ms chunks at real time, as a
satellite does, from the speech-to-text stage to the intent stage, and
prints every pipeline event with the time since the run started. After the
WAV it sends silence until the pipeline has ended the speech-to-text stage.
URL and token come from the config directory `scripts/develop` made.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field
from pathlib import Path
import sys
import time
from typing import Any
import wave

from .instance import ROOT, HassClient, Owner

DEFAULT_WAV = ROOT / "tests" / "fixtures" / "turn_on_the_kitchen_light.wav"
CHUNK_SECONDS = 0.01
MAX_SILENCE_SECONDS = 10.0


@dataclass
class Run:
    """What a run produced: events with their times (seconds since start)."""

    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    def first(self, kind: str) -> dict[str, Any] | None:
        """The data of the first event of a type."""
        return next((e["data"] for _, e in self.events if e["type"] == kind), None)

    def time_of(self, kind: str) -> float | None:
        """When the first event of a type arrived."""
        return next((t for t, e in self.events if e["type"] == kind), None)

    @property
    def text(self) -> str | None:
        """The speech-to-text result."""
        data = self.first("stt-end")
        return None if data is None else data["stt_output"]["text"]


def read_pcm(path: Path) -> tuple[bytes, int]:
    """The frames and rate of a 16-bit mono WAV."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise SystemExit(f"{path}: need 16-bit mono PCM")
        return wav.readframes(wav.getnframes()), wav.getframerate()


def describe(event: dict[str, Any]) -> str:
    """A short line for an event."""
    data = event.get("data") or {}
    match event["type"]:
        case "stt-start":
            language = data["metadata"].get("language")
            return f"engine={data.get('engine')} language={language}"
        case "stt-end":
            return repr(data["stt_output"].get("text"))
        case "intent-end":
            response = data["intent_output"]["response"]
            speech = response.get("speech", {}).get("plain", {}).get("speech")
            return f"{response.get('response_type')}: {speech!r}"
        case "error":
            return f"{data.get('code')}: {data.get('message')}"
        case _:
            return ""


async def run_voice_command(
    client: HassClient,
    wav: Path = DEFAULT_WAV,
    *,
    pipeline: str | None = None,
    echo: bool = True,
) -> Run:
    """Stream `wav` at real time through the pipeline; the events."""
    pcm, rate = read_pcm(wav)
    chunk = int(rate * CHUNK_SECONDS) * 2
    extra = {"pipeline": pipeline} if pipeline else {}
    _, queue = await client.send(
        "assist_pipeline/run",
        start_stage="stt",
        end_stage="intent",
        input={"sample_rate": rate},
        **extra,
    )
    run = Run()
    start = time.monotonic()
    handler: int | None = None
    stt_done = asyncio.Event()
    run_done = asyncio.Event()

    async def collect() -> None:
        nonlocal handler
        while True:
            item = await queue.get()
            if item.get("type") == "result":
                if not item["success"]:
                    raise RuntimeError(f"pipeline refused: {item['error']}")
                continue
            event = item["event"]
            now = time.monotonic() - start
            run.events.append((now, event))
            if echo:
                print(
                    f"{now:7.3f} s  {event['type']:<14} {describe(event)}", flush=True
                )
            if event["type"] == "run-start":
                handler = event["data"]["runner_data"]["stt_binary_handler_id"]
            if event["type"] in ("stt-vad-end", "stt-end", "error", "run-end"):
                stt_done.set()
            if event["type"] in ("run-end", "error"):
                run_done.set()
                return

    collector = asyncio.create_task(collect())
    try:
        async with asyncio.timeout(5):
            while handler is None:
                await asyncio.sleep(0.005)
        assert handler is not None
        prefix = bytes([handler])
        silence = bytes(chunk)
        sent = 0
        position = 0
        while (
            not stt_done.is_set()
            and sent * CHUNK_SECONDS < len(pcm) / rate / 2 + MAX_SILENCE_SECONDS
        ):
            data = pcm[position : position + chunk] or silence
            position += chunk
            await client.ws.send_bytes(prefix + data)
            sent += 1
            delay = start + sent * CHUNK_SECONDS - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        await client.ws.send_bytes(prefix)  # end of audio
        async with asyncio.timeout(30):
            await run_done.wait()
    finally:
        collector.cancel()
    return run


async def _main(args: argparse.Namespace) -> int:
    owner = Owner.load(args.config)
    if owner is None:
        print(f"No {args.config}: start scripts/develop first.", file=sys.stderr)
        return 1
    async with HassClient.connect(owner.url, owner.token) as client:
        run = await run_voice_command(client, args.wav, pipeline=args.pipeline)
    return 0 if run.text and run.first("error") is None else 1


def main() -> None:
    """Parse the arguments and run one command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wav", nargs="?", type=Path, default=DEFAULT_WAV)
    parser.add_argument("--pipeline", help="pipeline id (default: the preferred one)")
    parser.add_argument("--config", type=Path, default=ROOT / "config")
    sys.exit(asyncio.run(_main(parser.parse_args())))


if __name__ == "__main__":
    main()
