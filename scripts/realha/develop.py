"""`scripts/develop`: Home Assistant with this integration, one command.

- Home Assistant (the release the test suite pins) in `.realha/`, its
  configuration in `config/` (both git-ignored), the integration linked in
  from the working tree: restart to pick up code changes.
- On http://localhost:8123 with onboarding done; the owner's name and
  password are printed (and kept in `config/.realha.json`).
- With `DEEPGRAM_API_KEY` set: an entry for Deepgram with that key.
  Without it: the project's local Deepgram server on port 8765 and an entry
  for it titled "Local fake Deepgram", which answers every stream with the
  same words ("Turn on the kitchen light.").
- The preferred Assist pipeline uses the entry's first profile.

Stop with Ctrl-C. `scripts/voice` runs a voice command against it.
"""

from __future__ import annotations

import argparse
import asyncio
from importlib import metadata
import os
from pathlib import Path
import secrets
import signal
import socket
import subprocess
import sys

from .env import ensure_env
from .instance import ROOT, Hass, HassClient, Owner, onboard

HA_PORT = 8123
FAKE_PORT = 8765
FAKE_KEY = "local-fake-deepgram-key"
FAKE_TITLE = "Local fake Deepgram (not Deepgram)"
DEEPGRAM_URL = "https://api.deepgram.com"


def port_in_use(port: int) -> bool:
    """Whether something listens on the port already."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def pinned_release() -> str:
    """The Home Assistant release the test suite runs on."""
    return metadata.version("homeassistant")


async def configure(hass: Hass, api_key: str | None) -> tuple[Owner, str]:
    """Onboard (once), add the entry (once), point the pipeline at it."""
    owner = Owner.load(hass.config)
    if owner is None:
        owner = await onboard(
            hass.url,
            name="Developer",
            username="dev",
            password=secrets.token_urlsafe(12),
        )
        owner.save(hass.config)
    url = DEEPGRAM_URL if api_key else f"http://127.0.0.1:{FAKE_PORT}"
    async with HassClient.connect(hass.url, owner.token) as client:
        await client.wait_running()
        entries = [
            e for e in await client.entries("deepgram") if e["state"] == "loaded"
        ]
        entry = next((e for e in entries if e["title"] == FAKE_TITLE), None)
        if api_key:
            entry = next((e for e in entries if e["title"] != FAKE_TITLE), None)
        if entry is None:
            answers = await client.config_flow(
                "deepgram", {"api_key": api_key or FAKE_KEY, "advanced": {"url": url}}
            )
            result = answers[-1]
            if result["type"] != "create_entry":
                raise SystemExit(f"Adding the Deepgram entry failed: {result}")
            entry = result["result"]
            if not api_key:
                await client.call(
                    "config_entries/update",
                    entry_id=entry["entry_id"],
                    title=FAKE_TITLE,
                )
        async with asyncio.timeout(30):
            while not (entities := await client.stt_entities(entry["entry_id"])):
                await asyncio.sleep(0.5)
        await client.use_stt(entities[0])
    return owner, entities[0]


def main() -> None:
    """Start everything and wait for Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--version", default=pinned_release(), help="Home Assistant release"
    )
    parser.add_argument("--config", type=Path, default=ROOT / "config")
    args = parser.parse_args()
    api_key = os.environ.get("DEEPGRAM_API_KEY") or None
    for port in (HA_PORT, *(() if api_key else (FAKE_PORT,))):
        if port_in_use(port):
            raise SystemExit(
                f"Port {port} is in use (another scripts/develop or Home Assistant?)."
            )
    # Stop cleanly on SIGTERM too (background jobs do not get SIGINT).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    python = ensure_env(args.version)
    fake: subprocess.Popen[bytes] | None = None
    if api_key is None:
        fake = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.deepgram_server",
                "--port",
                str(FAKE_PORT),
                "--api-key",
                FAKE_KEY,
            ],
            cwd=ROOT,
        )
    hass = Hass(python, args.config, HA_PORT, args.config / "hass.out")
    print(
        f"Starting Home Assistant {args.version} (output: {hass.log}) ...", flush=True
    )
    hass.start()
    try:
        asyncio.run(hass.wait_ready())
        owner, entity = asyncio.run(configure(hass, api_key))
        print(
            f"\nHome Assistant is running: http://localhost:{HA_PORT}\n"
            f"  user: {owner.username}   password: {owner.password}\n"
            f"  Assist uses {entity} ({'Deepgram' if api_key else FAKE_TITLE})\n"
            f"  a voice command: scripts/voice\n"
            f"  log: {args.config / 'home-assistant.log'}\n"
            "Ctrl-C stops it.",
            flush=True,
        )
        assert hass.process is not None
        hass.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        hass.stop()
        if fake is not None:
            fake.terminate()
            fake.wait(10)


if __name__ == "__main__":
    main()
