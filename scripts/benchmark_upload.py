"""Memory benchmark of a pre-recorded upload: streamed chunks versus whole file.

Uploads a large (sparse) file to the local fake Deepgram through
`DeepgramRestClient.transcribe`, once as the transcribe action does (64 KiB
chunks read from disk as the upload goes) and once read whole into memory,
and prints the peak of Python allocations (tracemalloc) and the wall time.
The fake server runs in the same process; it keeps only the first MiB of a
body, so its share of the peak is small and the same in both runs.

    .venv/bin/python scripts/benchmark_upload.py [--megabytes N]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
import sys
import tempfile
import time
import tracemalloc

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.deepgram.api import DeepgramRestClient, Endpoint, LiveOptions
from custom_components.deepgram.media import CHUNK_SIZE
from tests.deepgram_server import FakeDeepgram

OPTIONS = LiveOptions(
    model="nova-3",
    language="en",
    encoding="linear16",
    sample_rate=16000,
    channels=1,
)


async def chunks(path: Path, size: int) -> AsyncIterator[bytes]:
    """The file in CHUNK_SIZE pieces, read on a worker thread (as media.py does)."""
    with path.open("rb") as handle:
        left = size
        while left > 0:
            chunk = await asyncio.to_thread(handle.read, min(CHUNK_SIZE, left))
            left -= len(chunk)
            yield chunk


async def upload(path: Path, size: int, *, streamed: bool) -> tuple[float, float]:
    """Peak traced MB and seconds of one upload of the `size`-byte file."""
    server = FakeDeepgram()
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            rest = DeepgramRestClient(http, Endpoint(server.base_url, "dg-test-key"))
            tracemalloc.start()
            started = time.monotonic()
            body = (
                chunks(path, size)
                if streamed
                else await asyncio.to_thread(path.read_bytes)
            )
            result = await rest.transcribe(
                body,
                OPTIONS,
                content_type="application/octet-stream",
                size=size,
                timeout=600,
            )
            seconds = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    finally:
        await server.stop()
    if result.duration <= 0:
        raise SystemExit("the server heard nothing")
    return peak / 1e6, seconds


async def main() -> None:
    """Run both ways and print a small table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=200)
    args = parser.parse_args()
    size = args.megabytes * 1_000_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "recording.raw"
        with path.open("wb") as handle:
            handle.truncate(size)
        print(f"file: {args.megabytes} MB, chunks of {CHUNK_SIZE // 1024} KiB")
        print(f"{'way':<12} {'peak MB':>8} {'seconds':>8}")
        for name, streamed in (("streamed", True), ("whole file", False)):
            peak, seconds = await upload(path, size, streamed=streamed)
            print(f"{name:<12} {peak:>8.1f} {seconds:>8.2f}")


if __name__ == "__main__":
    asyncio.run(main())
