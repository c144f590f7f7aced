"""Run the local Deepgram server on its own (scripts/develop starts it).

    python -m tests.deepgram_server --port 8765 --api-key KEY [--say TEXT]

It answers every stream with the same scripted words (by default "Turn on
the kitchen light.", timed like tests/fixtures/turn_on_the_kitchen_light.wav),
whatever is said: it is a stand-in for trying the integration offline, not
speech recognition.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from .script import script_from_text
from .server import FakeDeepgram

DEFAULT_TEXT = "Turn on the kitchen light."


async def serve(port: int, api_key: str | None, text: str) -> None:
    """Serve until SIGINT or SIGTERM."""
    server = FakeDeepgram(api_key=api_key)
    server.script = script_from_text(text, start=0.5, end=2.3)
    server.idle_timeout = 10.0
    url = await server.start(port)
    print(f"Local fake Deepgram on {url} (answers {text!r} to any audio)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


def main() -> None:
    """Parse the arguments and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default=None, help="required key (none: no auth)")
    parser.add_argument(
        "--say", default=DEFAULT_TEXT, help="the words every stream gets"
    )
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.api_key, args.say))


if __name__ == "__main__":
    main()
