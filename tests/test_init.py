"""Setting up, unloading and reloading the Deepgram entry."""

from __future__ import annotations

from types import MappingProxyType

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    ConfigEntryState,
    ConfigSubentry,
    ConfigSubentryData,
)
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram.const import (
    CONF_MODEL,
    DOMAIN,
    FALLBACK_MODELS,
    RECOMMENDED_STT_OPTIONS,
    SUBENTRY_STT,
)
from custom_components.deepgram.data import DeepgramData
from tests.deepgram_server import CatalogModel, FakeDeepgram, Faults
from tests.deepgram_server.testing import unreachable_url
from tests.flow_helpers import stt_entities

ENTITY_ID = "stt.deepgram_nova_3"


def state_of(entry: MockConfigEntry) -> ConfigEntryState:
    """The entry's state, read anew (mypy keeps an asserted one otherwise)."""
    return entry.state


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_setup(
    hass: HomeAssistant, setup_integration: MockConfigEntry, server: FakeDeepgram
) -> None:
    """The entry loads with typed run-time data and one entity per profile."""
    entry = setup_integration
    assert entry.state is ConfigEntryState.LOADED
    data = entry.runtime_data
    assert isinstance(data, DeepgramData)
    assert data.endpoint.base_url == server.base_url
    assert data.endpoint.api_key  # the test key
    assert data.models_from_server
    assert "nova-3" in data.models
    assert "multi" in data.models["nova-3"]
    # Flux streams (listed); whisper does not (left out).
    assert "flux-general-en" in data.models
    assert "whisper-large" not in data.models

    subentry = next(iter(entry.subentries.values()))
    assert stt_entities(hass, entry) == {subentry.subentry_id: ENTITY_ID}
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert state.state != "unavailable"


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_key_starts_reauth(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    server: FakeDeepgram,
    status: int,
) -> None:
    """A refused key: setup error and a reauth flow."""
    server.faults = Faults(rest_status=status)
    await setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = list(config_entry.async_get_active_flows(hass, {SOURCE_REAUTH}))
    assert len(flows) == 1
    assert flows[0]["step_id"] == "reauth_confirm"
    assert "Deepgram rejected the API key" in (config_entry.reason or "")


async def test_wrong_key_starts_reauth(
    hass: HomeAssistant, config_entry: MockConfigEntry, server: FakeDeepgram
) -> None:
    """The key Deepgram does not know (a real 401 from the key check)."""
    server.api_key = "dg-some-other-key"
    await setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert list(config_entry.async_get_active_flows(hass, {SOURCE_REAUTH}))


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_server_error_retries(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    server: FakeDeepgram,
    status: int,
) -> None:
    """A Deepgram-side failure: setup is retried later, no reauth."""
    server.faults = Faults(rest_status=status)
    await setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert "Cannot reach Deepgram" in (config_entry.reason or "")
    assert not list(config_entry.async_get_active_flows(hass, {SOURCE_REAUTH}))


async def test_unreachable_retries(hass: HomeAssistant, server: FakeDeepgram) -> None:
    """Nothing listening at the URL: setup is retried later."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Deepgram",
        data={CONF_API_KEY: "", CONF_URL: unreachable_url()},
    )
    await setup(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_retry_succeeds_once_deepgram_answers(
    hass: HomeAssistant, config_entry: MockConfigEntry, server: FakeDeepgram
) -> None:
    """After a retry the entry loads."""
    server.faults = Faults(rest_status=500)
    await setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    server.faults = Faults()
    await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(config_entry) is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    "catalog",
    [
        [],
        [
            CatalogModel(
                name="whisper-large",
                canonical_name="whisper-large",
                architecture="whisper",
                languages=("en",),
                version="1",
                uuid="4d892fb6-7f3b-4b30-a7b4-3c0a5a1f4d7e",
                streaming=False,
            )
        ],
    ],
    ids=["empty", "no-streaming-model"],
)
async def test_models_fallback(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    server: FakeDeepgram,
    catalog: list[CatalogModel],
) -> None:
    """No streaming model from Deepgram: the built-in list is used."""
    server.catalog = catalog
    await setup(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.runtime_data.models == FALLBACK_MODELS
    assert not config_entry.runtime_data.models_from_server
    assert hass.states.get(ENTITY_ID) is not None


async def test_keyless_self_hosted(hass: HomeAssistant, server: FakeDeepgram) -> None:
    """A self-hosted Deepgram without keys: checked through /v1/models."""
    server.api_key = None
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Deepgram (127.0.0.1)",
        data={CONF_API_KEY: "", CONF_URL: server.base_url},
        subentries_data=[
            ConfigSubentryData(
                data=dict(RECOMMENDED_STT_OPTIONS),
                subentry_type=SUBENTRY_STT,
                title="Deepgram nova-3",
                unique_id=None,
            )
        ],
    )
    await setup(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert all("Authorization" not in r.headers for r in server.rest_requests)


async def test_unload(hass: HomeAssistant, setup_integration: MockConfigEntry) -> None:
    """Unloading removes the entity's state."""
    entry = setup_integration
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    state = hass.states.get(ENTITY_ID)
    assert state is None or state.state == "unavailable"


async def test_reload_on_subentry_changes(
    hass: HomeAssistant, setup_integration: MockConfigEntry, server: FakeDeepgram
) -> None:
    """Adding, changing and removing a profile reloads the entry."""
    entry = setup_integration
    checks = len(server.rest_requests)

    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            data=MappingProxyType(
                {**RECOMMENDED_STT_OPTIONS, CONF_MODEL: "nova-2-general"}
            ),
            subentry_type=SUBENTRY_STT,
            title="Nova 2",
            unique_id=None,
        ),
    )
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert len(server.rest_requests) > checks  # set up again: key checked
    entities = stt_entities(hass, entry)
    assert len(entities) == 2
    added = next(s for s in entry.subentries.values() if s.title == "Nova 2")
    added_entity = entities[added.subentry_id]
    assert hass.states.get(added_entity) is not None

    checks = len(server.rest_requests)
    hass.config_entries.async_update_subentry(
        entry, added, data={**added.data, CONF_MODEL: "nova-3-general"}
    )
    await hass.async_block_till_done()
    assert len(server.rest_requests) > checks
    assert entry.state is ConfigEntryState.LOADED

    hass.config_entries.async_remove_subentry(entry, added.subentry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert list(stt_entities(hass, entry).values()) == [ENTITY_ID]
    assert hass.states.get(added_entity) is None


async def test_models_endpoint_failing_uses_fallback(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    server: FakeDeepgram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The key works but /v1/models fails: set up with the built-in list."""
    server.faults = Faults(models_status=503)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    data = config_entry.runtime_data
    assert not data.models_from_server
    assert data.models == dict(FALLBACK_MODELS)
    assert "Using built-in model list" in caplog.text
    assert hass.states.get(ENTITY_ID) is not None
