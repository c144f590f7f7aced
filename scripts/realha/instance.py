"""A real `hass` process: its config directory, onboarding, and a client.

The configuration sets up what a voice command needs and nothing that
reaches the internet: the frontend, config, the assist pipeline,
conversation, a template light ("Kitchen light", exposed to Assist as lights
are), and debug logging for the integration. There is no `http:` section
(Home Assistant 2026.10 raises a repair for HTTP settings in YAML): the port
comes from the `SETUP_PORT` environment variable. Onboarding's core-config
step, which starts integrations that reach the internet (weather, radio
browser, translate), is marked done in storage before the first start; the
owner account and the last step go through the HTTP API as the frontend
does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass, field
import itertools
import json
import os
from pathlib import Path
import signal
import socket
import subprocess
import time
from typing import Any, Self

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "custom_components" / "deepgram"

CONFIGURATION = """\
# Written by scripts/realha (scripts/develop and the CI tests); edit freely.
homeassistant:
  name: Deepgram development
  latitude: 52.37
  longitude: 4.89
  elevation: 0
  unit_system: metric
  time_zone: UTC
  country: NL
  currency: EUR
  language: en

frontend:
config:
assist_pipeline:
conversation:

logger:
  default: info
  logs:
    custom_components.deepgram: debug

# A light with nothing behind it, for voice commands ("turn on the kitchen light").
template:
  - light:
      - name: Kitchen light
        unique_id: realha_kitchen_light
        turn_on:
          - delay: 0
        turn_off:
          - delay: 0
"""

ONBOARDING_DONE_IN_STORAGE = {
    "version": 4,
    "minor_version": 1,
    "key": "onboarding",
    "data": {"done": ["core_config", "analytics"]},
}

STATE_FILE = ".realha.json"
"""In the config directory: URL, owner name and password, a long-lived token."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_config(config: Path) -> None:
    """Create the config directory (once) and link the integration in."""
    config.mkdir(parents=True, exist_ok=True)
    yaml = config / "configuration.yaml"
    if not yaml.exists():
        yaml.write_text(CONFIGURATION)
    storage = config / ".storage"
    storage.mkdir(exist_ok=True)
    onboarding = storage / "onboarding"
    if not onboarding.exists():
        onboarding.write_text(json.dumps(ONBOARDING_DONE_IN_STORAGE))
    custom = config / "custom_components"
    custom.mkdir(exist_ok=True)
    link = custom / "deepgram"
    if not link.is_symlink():
        link.symlink_to(INTEGRATION, target_is_directory=True)


@dataclass
class Hass:
    """A `hass` process on a config directory and port."""

    python: Path
    config: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start `hass` (its output goes to `log`)."""
        prepare_config(self.config)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    str(self.python),
                    "-m",
                    "homeassistant",
                    "--config",
                    str(self.config),
                    "--skip-pip",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "SETUP_PORT": str(self.port)},
                start_new_session=True,
            )

    async def wait_ready(self, timeout: float = 240) -> None:
        """Wait until the frontend is served (the websocket API is up by then)."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(
                        f"hass exited ({self.process.returncode}); see {self.log}"
                    )
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.get(f"{self.url}/manifest.json") as response:
                        if response.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"hass did not answer in {timeout} s; see {self.log}"
                    )
                await asyncio.sleep(0.5)

    def stop(self, timeout: float = 30) -> int | None:
        """Stop `hass` (SIGTERM, then SIGKILL after `timeout`); its exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@dataclass
class Owner:
    """The owner account and a long-lived token for the tools."""

    url: str
    name: str
    username: str
    password: str
    token: str

    def save(self, config: Path) -> None:
        """Keep it in the (git-ignored) config directory."""
        path = config / STATE_FILE
        path.write_text(json.dumps(self.__dict__, indent=2) + "\n")
        path.chmod(0o600)

    @classmethod
    def load(cls, config: Path) -> Self | None:
        """The saved owner, if onboarding was done."""
        path = config / STATE_FILE
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))


async def onboard(url: str, *, name: str, username: str, password: str) -> Owner:
    """Create the owner over the onboarding API and finish onboarding."""
    client_id = f"{url}/"
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{url}/api/onboarding/users",
            json={
                "client_id": client_id,
                "name": name,
                "username": username,
                "password": password,
                "language": "en",
            },
        ) as response:
            response.raise_for_status()
            code = (await response.json())["auth_code"]
        async with http.post(
            f"{url}/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": client_id,
            },
        ) as response:
            response.raise_for_status()
            access = (await response.json())["access_token"]
        async with http.post(
            f"{url}/api/onboarding/integration",
            json={"client_id": client_id, "redirect_uri": f"{url}/?auth_callback=1"},
            headers={"Authorization": f"Bearer {access}"},
        ) as response:
            response.raise_for_status()
        async with HassClient.connect(url, access) as client:
            token = await client.call(
                "auth/long_lived_access_token",
                client_name="scripts/realha",
                lifespan=3650,
            )
    return Owner(url, name, username, password, str(token))


class HassError(Exception):
    """An API call failed."""


@dataclass
class HassClient:
    """REST and one websocket connection, authenticated with a token."""

    url: str
    token: str
    http: aiohttp.ClientSession
    ws: aiohttp.ClientWebSocketResponse
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _queues: dict[int, asyncio.Queue[dict[str, Any]]] = field(default_factory=dict)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, url: str, token: str) -> AsyncIterator[HassClient]:
        """Log in on the websocket API; close everything on exit."""
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{url}/api/websocket", max_msg_size=0)
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": token})
            answer = await ws.receive_json()
            if answer.get("type") != "auth_ok":
                raise HassError(f"websocket login failed: {answer}")
            client = cls(url, token, http, ws)
            client._reader = asyncio.create_task(client._read())
            try:
                yield client
            finally:
                client._reader.cancel()
                await ws.close()

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            payload = json.loads(message.data)
            for item in payload if isinstance(payload, list) else [payload]:
                queue = self._queues.get(item.get("id"))
                if queue is not None:
                    queue.put_nowait(item)

    async def send(
        self, type_: str, **data: Any
    ) -> tuple[int, asyncio.Queue[dict[str, Any]]]:
        """Send a command; its id and the queue its answers arrive on."""
        msg_id = next(self._ids)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues[msg_id] = queue
        await self.ws.send_json({"id": msg_id, "type": type_, **data})
        return msg_id, queue

    async def call(self, type_: str, timeout: float = 30, **data: Any) -> Any:
        """Send a command and return its result."""
        msg_id, queue = await self.send(type_, **data)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    item = await queue.get()
                    if item.get("type") == "result":
                        if not item["success"]:
                            raise HassError(f"{type_}: {item['error']}")
                        return item.get("result")
        finally:
            del self._queues[msg_id]

    async def rest(self, method: str, path: str, body: Any = None) -> Any:
        """A REST call; the decoded JSON answer."""
        async with self.http.request(
            method,
            f"{self.url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
        ) as response:
            text = await response.text()
            if response.status >= 400:
                raise HassError(f"{method} {path}: HTTP {response.status}: {text}")
            return json.loads(text) if text else None

    # -- what the tools do with it ------------------------------------

    async def wait_running(self, timeout: float = 120) -> None:
        """Wait until Home Assistant has started (state RUNNING)."""
        async with asyncio.timeout(timeout):
            while (await self.call("get_config"))["state"] != "RUNNING":
                await asyncio.sleep(0.5)

    async def config_flow(
        self, handler: str, *steps: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Start a config flow and submit `steps`; every answer, in order."""
        answer = await self.rest(
            "POST",
            "/api/config/config_entries/flow",
            {"handler": handler, "show_advanced_options": True},
        )
        answers = [answer]
        for step in steps:
            answer = await self.rest(
                "POST", f"/api/config/config_entries/flow/{answer['flow_id']}", step
            )
            answers.append(answer)
        return answers

    async def entries(self, domain: str) -> list[dict[str, Any]]:
        """The config entries of a domain."""
        return list(
            await self.rest("GET", f"/api/config/config_entries/entry?domain={domain}")
        )

    async def stt_entities(self, entry_id: str) -> list[str]:
        """The STT entities of a config entry, in creation order."""
        registry = await self.call("config/entity_registry/list")
        return [
            item["entity_id"]
            for item in registry
            if item["config_entry_id"] == entry_id
            and item["entity_id"].startswith("stt.")
        ]

    async def use_stt(self, entity_id: str, language: str = "en") -> dict[str, Any]:
        """Make `entity_id` the speech-to-text of the preferred pipeline."""
        listing = await self.call("assist_pipeline/pipeline/list")
        preferred = listing["preferred_pipeline"]
        pipeline = next(p for p in listing["pipelines"] if p["id"] == preferred)
        update = {k: v for k, v in pipeline.items() if k != "id"}
        update.update(stt_engine=entity_id, stt_language=language)
        return dict(
            await self.call(
                "assist_pipeline/pipeline/update", pipeline_id=preferred, **update
            )
        )

    async def state(self, entity_id: str) -> dict[str, Any]:
        """The state object of an entity."""
        return dict(await self.rest("GET", f"/api/states/{entity_id}"))
