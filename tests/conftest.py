"""Shared fixtures for the Deepgram integration tests."""

from __future__ import annotations

# Imported before anything of Home Assistant's loader runs: otherwise Home
# Assistant finds phacc's own `custom_components` package first.
import custom_components  # noqa: F401  # isort: skip

import asyncio
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
)
import logging
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from homeassistant.components import tts
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram.const import (
    DEFAULT_STT_NAME,
    DOMAIN,
    RECOMMENDED_STT_OPTIONS,
    SUBENTRY_STT,
    SUBENTRY_TTS,
)
from tests.deepgram_server import FakeDeepgram
from tests.deepgram_server.fixtures import deepgram_server  # noqa: F401

# pytester runs the key guard against a leaky test module (test_key_guard.py);
# services_helpers holds the fixtures of the transcribe action's tests.
pytest_plugins = ["pytester", "tests.services_helpers"]

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
type OddServer = Callable[[dict[str, Handler]], Awaitable[str]]

# Distinctive, so that a leak into any log line is found.
API_KEY = "dg-test-key-7c1d0ffee5ec2e7"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components."""


def key_leaks(records: Iterable[logging.LogRecord], secret: str = API_KEY) -> list[str]:
    """Every message or traceback among `records` that contains `secret`."""
    leaked: list[str] = []
    for record in records:
        message = record.getMessage()
        if secret in message:
            leaked.append(message)
        if record.exc_text and secret in record.exc_text:
            leaked.append(record.exc_text)
        if record.exc_info and record.exc_info[1] and secret in str(record.exc_info[1]):
            leaked.append(str(record.exc_info[1]))
    return leaked


@pytest.fixture(autouse=True)
def api_key_never_logged(caplog: pytest.LogCaptureFixture) -> Generator[None]:
    """Log everything at DEBUG and fail the test if the API key shows up.

    Checked over every phase: in a fixture's teardown `caplog.records` holds
    only the teardown phase, so setup and call are read explicitly.
    """
    caplog.set_level(logging.DEBUG)
    yield
    records = [
        *caplog.get_records("setup"),
        *caplog.get_records("call"),
        *caplog.get_records("teardown"),
    ]
    leaked = key_leaks(records)
    assert not leaked, f"API key found in log lines: {leaked}"


@pytest.fixture(autouse=True)
def tts_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A TTS file cache of the test's own.

    Home Assistant's default is under the test config directory, shared by
    every run: an answer cached there would be played without asking
    Deepgram (a test passing or failing by what ran before it).
    """
    monkeypatch.setattr(tts, "DEFAULT_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def server(deepgram_server: FakeDeepgram) -> FakeDeepgram:  # noqa: F811
    """The local Deepgram server, expecting the test API key."""
    deepgram_server.api_key = API_KEY
    return deepgram_server


@pytest.fixture
def stt_profile() -> dict[str, Any]:
    """The profile of `config_entry` (override or parametrize to change it)."""
    return dict(RECOMMENDED_STT_OPTIONS)


def entry_with_profiles(
    server: FakeDeepgram,
    profiles: dict[str, dict[str, Any]],
    *,
    subentry_type: str = SUBENTRY_STT,
    api_key: str = API_KEY,
    voices: dict[str, dict[str, Any]] | None = None,
) -> MockConfigEntry:
    """A Deepgram entry on the local server with a profile per title -> settings
    (of `subentry_type`), then a voice profile per title -> settings.

    Not yet added to Home Assistant.
    """
    kinds = [(profiles, subentry_type), (voices or {}, SUBENTRY_TTS)]
    return MockConfigEntry(
        domain=DOMAIN,
        title="Deepgram",
        data={CONF_API_KEY: api_key, CONF_URL: server.base_url},
        subentries_data=[
            ConfigSubentryData(
                data=data, subentry_type=kind, title=title, unique_id=None
            )
            for titled, kind in kinds
            for title, data in titled.items()
        ],
    )


async def set_up_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add `entry` to Home Assistant and set it up; it must load."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
def config_entry(server: FakeDeepgram, stt_profile: dict[str, Any]) -> MockConfigEntry:
    """A Deepgram entry pointing at the local server, with one profile."""
    return entry_with_profiles(server, {DEFAULT_STT_NAME: stt_profile})


@pytest.fixture
async def setup_integration(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> MockConfigEntry:
    """The entry, set up."""
    return await set_up_entry(hass, config_entry)


@pytest.fixture
async def odd_server(socket_enabled: None) -> AsyncGenerator[OddServer]:
    """Serve hand-written answers: `{"GET /v1/models": handler, ...}`.

    For what the faithful fake server never does (odd frames, broken answers).
    """
    runners: list[web.AppRunner] = []

    async def start(routes: dict[str, Handler]) -> str:
        app = web.Application()
        for route, handler in routes.items():
            method, path = route.split(" ")
            app.router.add_route(method, path, handler)
        runner = web.AppRunner(app, shutdown_timeout=0.5, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncGenerator[aiohttp.ClientSession]:
    """A client session per test, closed before the server stops.

    The close is bounded: a test that fails midway can leave a socket whose
    send buffer never drains (a server that stopped reading), and closing
    the session would wait for that socket forever, hanging the run.
    """
    session = aiohttp.ClientSession()
    yield session
    try:
        async with asyncio.timeout(5):
            await session.close()
    except TimeoutError:
        pytest.fail("Closing the client session took over 5 s: a socket was left open")
