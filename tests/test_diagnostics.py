"""Diagnostics of entries that are not loaded (issue 18 item 8).

Support needs diagnostics most when setup failed: the download answers from
the entry's stored data, with the key redacted, instead of failing.
"""

from __future__ import annotations

from http import HTTPStatus
import json
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.conftest import API_KEY, set_up_entry
from tests.deepgram_server import FakeDeepgram, Faults
from tests.deepgram_server.testing import unreachable_url


async def download(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, entry: MockConfigEntry
) -> tuple[str, dict[str, Any]]:
    """The diagnostics file of `entry` as Home Assistant serves it: text, data."""
    assert await async_setup_component(hass, "diagnostics", {})
    await hass.async_block_till_done()
    client = await hass_client()
    response = await client.get(f"/api/diagnostics/config_entry/{entry.entry_id}")
    assert response.status == HTTPStatus.OK
    text = await response.text()
    data: dict[str, Any] = json.loads(text)["data"]
    return text, data


async def set_up_failing(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


@pytest.mark.parametrize(
    ("faults", "state"),
    [
        (Faults(rest_status=401), ConfigEntryState.SETUP_ERROR),
        (Faults(rest_status=503), ConfigEntryState.SETUP_RETRY),
    ],
)
async def test_failed_setup_still_has_diagnostics(
    hass: HomeAssistant,
    server: FakeDeepgram,
    config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    faults: Faults,
    state: ConfigEntryState,
) -> None:
    """A revoked key or a failing Deepgram: the stored settings, no key."""
    server.faults = faults
    await set_up_failing(hass, config_entry)
    assert config_entry.state is state

    text, data = await download(hass, hass_client, config_entry)
    assert API_KEY not in text
    assert data["entry"][CONF_API_KEY] == "**REDACTED**"
    assert data["entry"][CONF_URL] == server.base_url
    assert data["state"] == state.value
    assert data["reason"]
    assert data["profiles"][0]["model"] == "nova-3"
    # Only what is stored (README: Diagnostics): nothing of a load.
    assert set(data) == {"entry", "state", "reason", "profiles"}


@pytest.mark.parametrize(
    ("credentials", "state"),
    [
        ("", ConfigEntryState.SETUP_RETRY),
        ("user:pw-4b1e@", ConfigEntryState.SETUP_ERROR),
    ],
)
async def test_unreachable_server_still_has_diagnostics(
    hass: HomeAssistant,
    server: FakeDeepgram,
    hass_client: ClientSessionGenerator,
    credentials: str,
    state: ConfigEntryState,
) -> None:
    """Nothing listening at the stored URL; credentials in it are redacted."""
    url = unreachable_url().replace("://", f"://{credentials}")
    entry = MockConfigEntry(
        domain="deepgram", title="Deepgram", data={CONF_API_KEY: API_KEY, CONF_URL: url}
    )
    await set_up_failing(hass, entry)
    assert entry.state is state

    text, data = await download(hass, hass_client, entry)
    assert API_KEY not in text
    assert "pw-4b1e" not in text
    assert data["entry"][CONF_URL].startswith("http://***@" if credentials else url)
    assert data["state"] == state.value


async def test_unloaded_entry_has_diagnostics(
    hass: HomeAssistant,
    server: FakeDeepgram,
    config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    """An entry the user disabled or unloaded: stored settings, no run-time data."""
    await set_up_entry(hass, config_entry)
    text, data = await download(hass, hass_client, config_entry)
    assert data["state"] == ConfigEntryState.LOADED.value
    assert data["models_from_server"] is True

    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
    text, data = await download(hass, hass_client, config_entry)
    assert API_KEY not in text
    assert data["state"] == ConfigEntryState.NOT_LOADED.value
    assert "models" not in data
