"""The config flow (add, reauth, reconfigure) against the local Deepgram server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, section
from homeassistant.helpers.aiohttp_client import (
    DATA_CLIENTSESSION,
    async_get_clientsession,
)
from homeassistant.helpers.translation import async_get_translations
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram.config_flow import entry_title, is_deepgram_cloud
from custom_components.deepgram.const import (
    DEFAULT_STT_NAME,
    DEFAULT_URL,
    DOMAIN,
    RECOMMENDED_STT_OPTIONS,
    RECOMMENDED_TTS_OPTIONS,
    SECTION_ADVANCED,
    SUBENTRY_STT,
    SUBENTRY_TTS,
)
from tests.conftest import API_KEY
from tests.deepgram_server import FakeDeepgram, Faults
from tests.deepgram_server.testing import unreachable_url
from tests.flow_helpers import suggested

OTHER_KEY = "dg-other-key-51e0c4a9b7d3"
EU_URL = "https://api.eu.deepgram.com"


def form_input(url: str, api_key: str | None = API_KEY) -> dict[str, Any]:
    """What the user step's form sends (the URL in its collapsed section)."""
    data: dict[str, Any] = {SECTION_ADVANCED: {CONF_URL: url}}
    if api_key is not None:
        data[CONF_API_KEY] = api_key
    return data


def state_of(entry: MockConfigEntry) -> ConfigEntryState:
    """The entry's state, read anew (mypy keeps an asserted one otherwise)."""
    return entry.state


def add_entry(
    hass: HomeAssistant, url: str, api_key: str = API_KEY, title: str | None = None
) -> MockConfigEntry:
    """An entry added to Home Assistant, not set up."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=title or entry_title(url),
        data={CONF_API_KEY: api_key, CONF_URL: url},
    )
    entry.add_to_hass(hass)
    return entry


def section_schema(
    schema: probatio.Schema, *, collapsed: bool = True
) -> probatio.Schema:
    """The Advanced section's schema, checking whether it starts collapsed."""
    for marker, value in schema.schema.items():
        if str(marker) == SECTION_ADVANCED:
            assert isinstance(value, section)
            assert value.options == {"collapsed": collapsed}
            return value.schema
    raise AssertionError("no advanced section")


@asynccontextmanager
async def closed_http_session(hass: HomeAssistant) -> AsyncIterator[None]:
    """Swap Home Assistant's shared session for a closed one (a real failure)."""
    shared = async_get_clientsession(hass)
    sessions = hass.data[DATA_CLIENTSESSION]
    key = next(k for k, v in sessions.items() if v is shared)
    closed = aiohttp.ClientSession()
    await closed.close()
    sessions[key] = closed
    try:
        yield
    finally:
        sessions[key] = shared


def own_text(result: Any) -> bool:
    """Whether an abort shows this integration's text, not Home Assistant's."""
    return result.get("translation_domain") in (None, DOMAIN)


async def start_user_flow(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return result["flow_id"]


async def submit_refused_url(
    hass: HomeAssistant, server: FakeDeepgram, url: str, error: str
) -> tuple[str, probatio.Schema]:
    """Start the user flow and submit `url`: refused with `error` on the
    Advanced section, nothing sent to Deepgram. Returns the flow id and the
    form shown again."""
    flow_id = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, form_input(url))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {SECTION_ADVANCED: error}
    assert server.rest_requests == []
    schema = result["data_schema"]
    assert schema is not None
    return flow_id, schema


# -- helpers ------------------------------------------------------------


def test_cloud_and_title() -> None:
    """Deepgram's cloud is any *.deepgram.com host; titles name other hosts."""
    assert is_deepgram_cloud(DEFAULT_URL)
    assert is_deepgram_cloud(EU_URL)
    assert is_deepgram_cloud("wss://deepgram.com")
    assert not is_deepgram_cloud("http://deepgram.local:8080")
    assert not is_deepgram_cloud("https://notdeepgram.com")
    assert entry_title(DEFAULT_URL) == "Deepgram"
    assert entry_title(EU_URL) == "Deepgram (api.eu.deepgram.com)"
    assert entry_title("http://dg.lan:8080") == "Deepgram (dg.lan:8080)"


# -- user step ----------------------------------------------------------


async def test_user_flow_creates_entry_with_profile(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """A working key creates the entry, its first STT profile and voice (Home
    Assistant's language is English here), and loads it."""
    flow_id = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(server.base_url)
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"Deepgram (127.0.0.1:{server.port})"
    assert result["data"] == {CONF_API_KEY: API_KEY, CONF_URL: server.base_url}
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    (subentry, voice) = entry.subentries.values()
    assert subentry.subentry_type == SUBENTRY_STT
    assert subentry.title == DEFAULT_STT_NAME
    assert dict(subentry.data) == RECOMMENDED_STT_OPTIONS
    assert subentry.unique_id is None
    assert voice.subentry_type == SUBENTRY_TTS
    assert voice.title == "Deepgram Thalia"
    assert dict(voice.data) == RECOMMENDED_TTS_OPTIONS
    checked = [r for r in server.rest_requests if r.path == "/v1/auth/token"]
    assert checked
    assert checked[0].headers["Authorization"] == f"Token {API_KEY}"


async def test_user_form_schema(hass: HomeAssistant, server: FakeDeepgram) -> None:
    """The key field is optional; the URL sits in a collapsed section."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    schema = result["data_schema"]
    assert schema is not None
    markers = {str(m): m for m in schema.schema}
    assert isinstance(markers[CONF_API_KEY], probatio.Optional)
    url_marker = next(iter(section_schema(schema).schema))
    assert str(url_marker) == CONF_URL
    assert url_marker.default() == DEFAULT_URL
    placeholders = result["description_placeholders"] or {}
    assert placeholders["console_url"] == "https://console.deepgram.com/"


async def test_advanced_endpoint_is_normalised(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Any http/https/ws/wss base URL works; the trailing slash is dropped."""
    flow_id = await start_user_flow(hass)
    ws_url = f"ws://127.0.0.1:{server.port}/"
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(f"  {ws_url}  ", api_key=f" {API_KEY} ")
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_API_KEY: API_KEY,
        CONF_URL: f"ws://127.0.0.1:{server.port}",
    }
    assert result["result"].state is ConfigEntryState.LOADED


async def test_keyless_self_hosted(hass: HomeAssistant, server: FakeDeepgram) -> None:
    """A self-hosted Deepgram without keys is added with an empty key."""
    server.api_key = None
    flow_id = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(server.base_url, api_key=None)
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_API_KEY: "", CONF_URL: server.base_url}
    assert result["result"].state is ConfigEntryState.LOADED
    assert server.rest_requests[0].path == "/v1/models"
    assert all("Authorization" not in r.headers for r in server.rest_requests)


async def test_keyless_self_hosted_that_wants_a_key(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """An empty key against a server that checks keys gives invalid_auth."""
    flow_id = await start_user_flow(hass)
    # /v1/models needs no key, so the empty key passes; a 401 anywhere fails.
    server.faults = Faults(rest_status=401)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(server.base_url, api_key="")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_API_KEY: "invalid_auth"}


@pytest.mark.parametrize("url", [DEFAULT_URL, EU_URL, "https://api.deepgram.com/"])
async def test_cloud_needs_a_key(
    hass: HomeAssistant, server: FakeDeepgram, url: str
) -> None:
    """Deepgram's cloud without a key: a key is needed, nothing is asked."""
    flow_id = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(url, api_key="   ")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_API_KEY: "key_required"}
    assert server.rest_requests == []
    schema = result["data_schema"]
    assert schema is not None
    section_schema(schema, collapsed=True)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/",
        "127.0.0.1:8080",
        "not a url",
        "http://",
        "https://api.deepgram.com/?region=eu",
        "https://api.deepgram.com/#x",
        "",
    ],
)
async def test_invalid_url_then_recover(
    hass: HomeAssistant, server: FakeDeepgram, url: str
) -> None:
    """A URL that cannot work shows invalid_url; a good one then succeeds."""
    # On the section that holds the URL, which stays open to show it.
    flow_id, schema = await submit_refused_url(hass, server, url, "invalid_url")
    # What was typed stays in the form.
    assert suggested(schema, CONF_API_KEY) == API_KEY
    assert suggested(section_schema(schema, collapsed=False), CONF_URL) == url

    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(server.base_url)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


ErrorSetup = Callable[[FakeDeepgram], dict[str, Any]]


def _wrong_key(server: FakeDeepgram) -> dict[str, Any]:
    return form_input(server.base_url, api_key="dg-wrong-key")


def _status(status: int) -> ErrorSetup:
    def setup(server: FakeDeepgram) -> dict[str, Any]:
        server.faults = Faults(rest_status=status)
        return form_input(server.base_url)

    return setup


def _unreachable(server: FakeDeepgram) -> dict[str, Any]:
    return form_input(unreachable_url())


@pytest.mark.parametrize(
    ("make_input", "error"),
    [
        (_wrong_key, "invalid_auth"),
        (_status(401), "invalid_auth"),
        (_status(403), "invalid_auth"),
        (_status(402), "cannot_connect"),
        (_status(429), "cannot_connect"),
        (_status(500), "cannot_connect"),
        (_status(503), "cannot_connect"),
        (_unreachable, "cannot_connect"),
    ],
    ids=[
        "wrong-key",
        "401",
        "403",
        "402",
        "429",
        "500",
        "503",
        "unreachable",
    ],
)
async def test_user_errors_then_recover(
    hass: HomeAssistant,
    server: FakeDeepgram,
    make_input: ErrorSetup,
    error: str,
) -> None:
    """Each failure shows its error on the form; fixing it creates the entry."""
    flow_id = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, make_input(server))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    # A refused key is the key field's error; the others are the form's.
    where = CONF_API_KEY if error == "invalid_auth" else "base"
    assert result["errors"] == {where: error}
    schema = result["data_schema"]
    assert schema is not None
    section_schema(schema, collapsed=True)
    assert not hass.config_entries.async_entries(DOMAIN)

    server.faults = Faults()
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(server.base_url)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_KEY] == API_KEY


async def test_key_check_falls_back_to_projects(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Where /v1/auth/token is missing, /v1/projects checks the key."""
    server.faults = Faults(auth_endpoint_missing=True)
    flow_id = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(server.base_url)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "/v1/projects" in [r.path for r in server.rest_requests]


async def test_unexpected_error_then_recover(
    hass: HomeAssistant, server: FakeDeepgram, caplog: pytest.LogCaptureFixture
) -> None:
    """An error the client does not know shows `unknown` and is logged."""
    flow_id = await start_user_flow(hass)
    async with closed_http_session(hass):
        result = await hass.config_entries.flow.async_configure(
            flow_id, form_input(server.base_url)
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    assert "Unexpected error checking the key with 127.0.0.1" in caplog.text
    assert "Session is closed" in caplog.text

    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(server.base_url)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_duplicate_key(hass: HomeAssistant, server: FakeDeepgram) -> None:
    """The same key cannot be added twice, whatever the endpoint."""
    add_entry(hass, EU_URL)
    flow_id = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(server.base_url)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert server.rest_requests == []


async def test_other_keys_and_urls_are_not_duplicates(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Another key, or a keyless entry elsewhere, does not block a new entry."""
    add_entry(hass, EU_URL, api_key=OTHER_KEY)
    add_entry(hass, unreachable_url(), api_key="")
    flow_id = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(server.base_url)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_duplicate_keyless_url(hass: HomeAssistant, server: FakeDeepgram) -> None:
    """A keyless self-hosted Deepgram cannot be added twice."""
    server.api_key = None
    add_entry(hass, server.base_url, api_key="")
    add_entry(hass, f"{server.base_url}/other", api_key=OTHER_KEY)
    flow_id = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(f"{server.base_url}/", api_key="")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


# -- reauth -------------------------------------------------------------


async def test_reauth_after_rejected_key(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """A 401 at setup starts reauth; errors show, a new key reloads the entry."""
    entry = add_entry(hass, server.base_url, api_key=OTHER_KEY)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    (flow,) = entry.async_get_active_flows(hass, {config_entries.SOURCE_REAUTH})
    result = await hass.config_entries.flow.async_configure(flow["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    placeholders = result["description_placeholders"] or {}
    assert placeholders["console_url"] == "https://console.deepgram.com/"
    # The title names the host already: not twice.
    assert placeholders["entry"] == entry.title
    schema = result["data_schema"]
    assert schema is not None
    (marker,) = schema.schema
    assert isinstance(marker, probatio.Optional)  # not Deepgram's cloud

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_API_KEY: "dg-still-wrong"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_API_KEY: "invalid_auth"}
    # The key typed stays, as on the add form.
    schema = result["data_schema"]
    assert schema is not None
    assert suggested(schema, CONF_API_KEY) == "dg-still-wrong"

    server.faults = Faults(rest_status=500)
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_API_KEY: API_KEY}
    )
    assert result["errors"] == {"base": "cannot_connect"}

    server.faults = Faults()
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_API_KEY: API_KEY}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert own_text(result)
    assert entry.data == {CONF_API_KEY: API_KEY, CONF_URL: server.base_url}
    assert state_of(entry) is ConfigEntryState.LOADED


async def test_reauth_of_loaded_entry(
    hass: HomeAssistant, setup_integration: MockConfigEntry, server: FakeDeepgram
) -> None:
    """A loaded entry is reloaded once, through its update listener."""
    entry = setup_integration
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    server.api_key = OTHER_KEY
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: OTHER_KEY}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_API_KEY] == OTHER_KEY
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.endpoint.api_key == OTHER_KEY


async def test_reauth_unexpected_error(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """An unknown failure during reauth shows `unknown`."""
    entry = add_entry(hass, server.base_url)
    result = await entry.start_reauth_flow(hass)
    async with closed_http_session(hass):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_API_KEY: API_KEY}
        )
    assert result["errors"] == {"base": "unknown"}


async def test_reauth_cloud_needs_a_key(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """For Deepgram's cloud the key is required, and an empty one is refused."""
    entry = add_entry(hass, DEFAULT_URL)
    result = await entry.start_reauth_flow(hass)
    schema = result["data_schema"]
    assert schema is not None
    (marker,) = schema.schema
    assert isinstance(marker, probatio.Required)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: ""}
    )
    assert result["errors"] == {CONF_API_KEY: "key_required"}
    assert server.rest_requests == []


async def test_reauth_keyless(hass: HomeAssistant, server: FakeDeepgram) -> None:
    """A self-hosted entry may stay (or become) keyless."""
    server.api_key = None
    entry = add_entry(hass, server.base_url)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_API_KEY] == ""
    assert entry.state is ConfigEntryState.LOADED


async def test_reauth_with_another_entrys_key(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Reauth cannot make an entry a duplicate of another one."""
    add_entry(hass, EU_URL, api_key=OTHER_KEY)
    entry = add_entry(hass, server.base_url)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: OTHER_KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_API_KEY] == API_KEY


# -- reconfigure --------------------------------------------------------


async def test_reconfigure_key_and_endpoint(
    hass: HomeAssistant, setup_integration: MockConfigEntry, server: FakeDeepgram
) -> None:
    """Key and URL change; the loaded entry is reloaded with them."""
    entry = setup_integration
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    schema = result["data_schema"]
    assert schema is not None
    assert suggested(schema, CONF_API_KEY) is None  # the key stays server-side
    assert suggested(section_schema(schema), CONF_URL) == server.base_url

    server.api_key = OTHER_KEY
    new_url = f"ws://127.0.0.1:{server.port}"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(new_url, api_key=OTHER_KEY)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert own_text(result)
    assert entry.data == {CONF_API_KEY: OTHER_KEY, CONF_URL: new_url}
    assert entry.title == "Deepgram"  # not generated from its URL: kept
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.endpoint.base_url == new_url


async def test_reconfigure_keeps_a_chosen_title(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """A title the user chose stays; a not-loaded entry is reloaded directly."""
    entry = add_entry(hass, EU_URL, title="Office speech")
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(server.base_url)
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert own_text(result)
    assert entry.title == "Office speech"
    assert entry.data[CONF_URL] == server.base_url
    assert entry.state is ConfigEntryState.LOADED


async def test_reconfigure_entry_without_url(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """An entry without a stored URL means Deepgram's cloud (title "Deepgram")."""
    entry = MockConfigEntry(
        domain=DOMAIN, title="Deepgram", data={CONF_API_KEY: API_KEY}
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    schema = result["data_schema"]
    assert schema is not None
    assert suggested(section_schema(schema), CONF_URL) == DEFAULT_URL
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(server.base_url)
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.title == f"Deepgram (127.0.0.1:{server.port})"


async def test_reconfigure_errors_then_recover(
    hass: HomeAssistant, setup_integration: MockConfigEntry, server: FakeDeepgram
) -> None:
    """Invalid URL, refused key, unreachable, unknown; then success."""
    entry = setup_integration
    result = await entry.start_reconfigure_flow(hass)
    flow_id = result["flow_id"]

    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input("gopher://127.0.0.1")
    )
    assert result["errors"] == {SECTION_ADVANCED: "invalid_url"}
    schema = result["data_schema"]
    assert schema is not None
    url_schema = section_schema(schema, collapsed=False)
    assert suggested(url_schema, CONF_URL) == "gopher://127.0.0.1"

    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(server.base_url, api_key="dg-wrong")
    )
    assert result["errors"] == {CONF_API_KEY: "invalid_auth"}
    schema = result["data_schema"]
    assert schema is not None
    section_schema(schema, collapsed=True)

    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(unreachable_url())
    )
    assert result["errors"] == {"base": "cannot_connect"}

    async with closed_http_session(hass):
        result = await hass.config_entries.flow.async_configure(
            flow_id, form_input(server.base_url)
        )
    assert result["errors"] == {"base": "unknown"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(server.base_url)
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {CONF_API_KEY: API_KEY, CONF_URL: server.base_url}
    assert entry.state is ConfigEntryState.LOADED


async def test_reconfigure_into_duplicate(
    hass: HomeAssistant, setup_integration: MockConfigEntry, server: FakeDeepgram
) -> None:
    """Reconfigure refuses another entry's key, or its keyless URL."""
    add_entry(hass, EU_URL, api_key=OTHER_KEY)
    result = await setup_integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(server.base_url, api_key=OTHER_KEY)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert setup_integration.data[CONF_API_KEY] == API_KEY

    # Two keyless self-hosted entries (loopback addresses, nothing listens).
    taken = unreachable_url()
    add_entry(hass, taken, api_key="")
    keyless = add_entry(hass, unreachable_url(), api_key="")
    result = await keyless.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(taken, api_key="")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reconfigure_empty_key_keeps_the_key(
    hass: HomeAssistant, setup_integration: MockConfigEntry, server: FakeDeepgram
) -> None:
    """The stored key is never sent to the form; leaving it empty keeps it."""
    entry = setup_integration
    result = await entry.start_reconfigure_flow(hass)
    schema = result["data_schema"]
    assert schema is not None
    assert API_KEY not in repr(schema.schema)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(server.base_url, api_key="")
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_API_KEY] == API_KEY
    assert entry.state is ConfigEntryState.LOADED


# -- texts --------------------------------------------------------------

COMPONENT = Path(__file__).parent.parent / "custom_components" / DOMAIN


def test_strings_and_english_translation_are_identical() -> None:
    """Custom integrations read translations/en.json; strings.json is its source."""
    strings = (COMPONENT / "strings.json").read_text(encoding="utf-8")
    english = (COMPONENT / "translations" / "en.json").read_text(encoding="utf-8")
    assert strings == english
    assert "[%key:" not in strings


async def test_every_text_of_the_flows_exists(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Home Assistant finds a text for each step, field, error and abort."""
    texts = await async_get_translations(hass, "en", "config", {DOMAIN})
    prefix = f"component.{DOMAIN}.config"
    for step, fields in (
        ("user", [CONF_API_KEY]),
        ("reauth_confirm", [CONF_API_KEY]),
        ("reconfigure", [CONF_API_KEY]),
    ):
        assert texts[f"{prefix}.step.{step}.title"]
        assert texts[f"{prefix}.step.{step}.description"]
        for name in fields:
            assert texts[f"{prefix}.step.{step}.data.{name}"]
            assert texts[f"{prefix}.step.{step}.data_description.{name}"]
    for step in ("user", "reconfigure"):
        advanced = f"{prefix}.step.{step}.sections.{SECTION_ADVANCED}"
        assert texts[f"{advanced}.name"]
        assert texts[f"{advanced}.data.{CONF_URL}"]
        assert texts[f"{advanced}.data_description.{CONF_URL}"]
    for error in (
        "invalid_auth",
        "key_required",
        "invalid_key_format",
        "cannot_connect",
        "invalid_url",
        "url_credentials",
        "unknown",
    ):
        assert texts[f"{prefix}.error.{error}"]
    for reason in ("reauth_successful", "reconfigure_successful"):
        assert texts[f"{prefix}.abort.{reason}"]
    assert texts[f"{prefix}.abort.already_configured"]
    assert (
        "https://console.deepgram.com/" not in texts[f"{prefix}.step.user.description"]
    )
    assert "{console_url}" in texts[f"{prefix}.step.user.description"]

    exceptions = await async_get_translations(hass, "en", "exceptions", {DOMAIN})
    assert (
        exceptions[f"component.{DOMAIN}.exceptions.invalid_auth.message"]
        == "Deepgram rejected the API key: {error}"
    )
    assert (
        exceptions[f"component.{DOMAIN}.exceptions.cannot_connect.message"]
        == "Cannot reach Deepgram: {error}"
    )
    issues = await async_get_translations(hass, "en", "issues", {DOMAIN})
    issue = f"component.{DOMAIN}.issues.payment_required"
    assert issues[f"{issue}.title"] == "Deepgram account is out of credits"
    assert "{entry_title}" in issues[f"{issue}.description"]
    assert "402" in issues[f"{issue}.description"]
