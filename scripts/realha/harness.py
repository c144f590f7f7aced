"""A throw-away real Home Assistant for the CI tests (smoke, browser).

`running(version, name)` starts the local Deepgram server (random port) and
`hass` (free port, fresh config in `artifacts/<name>/`), onboards, and yields
them with the owner; everything is stopped on exit. Ports are free ones, so
a test run never collides with `scripts/develop` (8123, 8765).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
from pathlib import Path
import shutil

from tests.deepgram_server import FakeDeepgram, script_from_text

from .env import ensure_env
from .instance import ROOT, Hass, Owner, free_port, onboard

KEY = "ci-test-key"
USERNAME = "owner"
PASSWORD = "owner-password"


@dataclass
class Running:
    """What `running` yields."""

    hass: Hass
    server: FakeDeepgram
    owner: Owner
    work: Path


@contextlib.asynccontextmanager
async def running(version: str, name: str) -> AsyncIterator[Running]:
    """Home Assistant `version` with the local Deepgram server, onboarded."""
    python = ensure_env(version)
    work = ROOT / "artifacts" / name
    shutil.rmtree(work, ignore_errors=True)
    server = FakeDeepgram(api_key=KEY)
    server.script = script_from_text("Turn on the kitchen light.", start=0.5, end=2.3)
    await server.start()
    hass = Hass(python, work / "config", free_port(), work / "hass.out")
    hass.start()
    try:
        await hass.wait_ready()
        owner = await onboard(
            hass.url, name="Owner", username=USERNAME, password=PASSWORD
        )
        yield Running(hass, server, owner, work)
    finally:
        code = hass.stop()
        await server.stop()
    if code != 0:
        raise AssertionError(f"hass exited with {code}; see {hass.log}")
