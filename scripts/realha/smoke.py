"""Smoke test of a Home Assistant release with a real `hass` process.

    .venv/bin/python -m scripts.realha.smoke [--version 2026.11.0]

For a release the test suite cannot run on yet (no pytest plugin for it):
installs it with its frontend (`env`), starts it on a free port with a fresh
config directory (in `artifacts/`), onboards, runs the config flow over the
REST API against the local Deepgram server (a wrong key first: the form
error; then the right one), makes the profile the pipeline's
speech-to-text, runs a voice command at real time and checks that the light
switched, that the run went through the partial-results path where the
release has it, that Deepgram got CloseStream (after Finalize when Home
Assistant's detector ended the speech; the default End of speech, Deepgram,
usually ends it first), and that the log has no warning or error about the
integration.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import re
import sys
import time

from tests.deepgram_server import Faults

from .harness import KEY, Running, running
from .instance import HassClient
from .voice import run_voice_command

# Always logged for a custom integration: not a warning about ours.
KNOWN = ("We found a custom integration deepgram which has not been tested",)
PROBLEM = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) .*deepgram", re.IGNORECASE)


def problems(log: Path) -> list[str]:
    """Warnings and errors that mention the integration."""
    return [
        line
        for line in log.read_text(errors="replace").splitlines()
        if PROBLEM.search(line) and not any(known in line for known in KNOWN)
    ]


async def check_retry_after(
    client: HassClient, real: Running, entry_id: str, version: str
) -> None:
    """Deepgram answering 503 at setup: retried after 30 s where the release
    takes a delay (2026.11), else after Home Assistant's own backoff."""
    log = real.hass.config / "home-assistant.log"
    real.server.faults = Faults(rest_status=503)
    await client.rest("POST", f"/api/config/config_entries/entry/{entry_id}/reload")
    expected = (
        "Retrying in 30 seconds" if at_least(version, 2026, 11) else "Retrying in"
    )
    async with asyncio.timeout(10):
        while expected not in log.read_text(errors="replace"):
            await asyncio.sleep(0.2)
    (entry,) = await client.entries("deepgram")
    assert entry["state"] == "setup_retry", entry
    real.server.faults = Faults()
    print(f"setup retry after HTTP 503: {expected!r} logged", flush=True)


def at_least(version: str, year: int, month: int) -> bool:
    """Whether a release is `year.month` or newer."""
    return tuple(int(p) for p in version.split(".")[:2]) >= (year, month)


async def smoke(version: str) -> None:
    """Run the smoke test of one release."""
    started = time.monotonic()
    async with running(version, f"smoke-{version}") as real:
        hass, server = real.hass, real.server
        async with HassClient.connect(hass.url, real.owner.token) as client:
            await client.wait_running()
            (wrong,) = (
                await client.config_flow(
                    "deepgram",
                    {"api_key": "not-the-key", "advanced": {"url": server.base_url}},
                )
            )[1:]
            assert wrong["type"] == "form", wrong
            assert "invalid_auth" in wrong["errors"].values(), wrong
            created = await client.rest(
                "POST",
                f"/api/config/config_entries/flow/{wrong['flow_id']}",
                {"api_key": KEY, "advanced": {"url": server.base_url}},
            )
            assert created["type"] == "create_entry", created
            entry = created["result"]
            assert entry["state"] == "loaded", entry
            print(f"config flow: entry {entry['title']!r} loaded", flush=True)
            (entity,) = await client.stt_entities(entry["entry_id"])
            await client.use_stt(entity)
            light = await client.state("light.kitchen_light")
            assert light["state"] != "on", light
            run = await run_voice_command(client)
            assert run.first("error") is None, run.events
            assert run.text == "Turn on the kitchen light.", run.text
            light = await client.state("light.kitchen_light")
            assert light["state"] == "on", light
            detector_ended = run.time_of("stt-vad-end") is not None
            await check_retry_after(client, real, entry["entry_id"], version)
        await server.wait_for_sessions_closed(timeout=10)
        (session,) = server.sessions
        # Finalize flushes an end of speech that Home Assistant's detector
        # decided; one decided on Deepgram's own signals needs no flush.
        assert detector_ended or not session.got_finalize, session.sent_types()
        assert session.got_close_stream, session.sent_types()
        log = hass.config / "home-assistant.log"
        text = log.read_text(errors="replace")
        if at_least(version, 2026, 11):
            assert "partial results before the final one" in text, "no progress path"
        found = problems(log)
        assert not found, "\n".join(found)
    print(
        f"smoke test of Home Assistant {version}: passed in "
        f"{time.monotonic() - started:.0f} s",
        flush=True,
    )


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="2026.11.0")
    args = parser.parse_args()
    try:
        asyncio.run(smoke(args.version))
    except AssertionError as err:
        print(
            f"smoke test of Home Assistant {args.version} FAILED: {err}",
            file=sys.stderr,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
