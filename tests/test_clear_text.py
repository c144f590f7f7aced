"""The key never goes unencrypted to Deepgram's cloud (issue 18 item 9).

Every place a URL enters is checked: the user flow and reconfigure refuse
`http`/`ws` for Deepgram's hosts with a field error that says why; an entry
stored with such a URL is set up over TLS (its URL rewritten, said in the
log). A self-hosted server may still be reached in clear text, with a warning
when the key goes to a host that is not local.
"""

from __future__ import annotations

from collections.abc import Callable
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)

from custom_components.deepgram.const import DOMAIN, SECTION_ADVANCED
from tests.conftest import API_KEY, set_up_entry
from tests.deepgram_server import FakeDeepgram
from tests.flow_helpers import suggested
from tests.test_config_flow import (
    add_entry,
    form_input,
    section_schema,
    submit_refused_url,
)

CLEAR_TEXT_TO_DEEPGRAM = [
    "http://api.deepgram.com",
    "ws://api.eu.deepgram.com",
    "HTTP://API.Deepgram.com/",
    "http://deepgram.com:80",
]
MODELS: dict[str, Any] = {
    "stt": [{"canonical_name": "nova-3", "streaming": True, "languages": []}]
}


def serve(mock: AiohttpClientMocker, base_url: str) -> None:
    """Answer the key check and the model list at `base_url`."""
    register: Callable[..., None] = mock.get  # untyped in phacc
    register(f"{base_url}/v1/auth/token", json={"scopes": []})
    register(f"{base_url}/v1/models", json=MODELS)


@pytest.mark.parametrize("url", CLEAR_TEXT_TO_DEEPGRAM)
async def test_user_flow_refuses_clear_text_to_deepgram(
    hass: HomeAssistant, server: FakeDeepgram, url: str
) -> None:
    """Refused on the open section, what was typed kept, nothing sent."""
    _, schema = await submit_refused_url(hass, server, url, "url_not_encrypted")
    assert suggested(section_schema(schema, collapsed=False), CONF_URL) == url
    texts = await async_get_translations(hass, "en", "config", {DOMAIN})
    text = texts[f"component.{DOMAIN}.config.error.url_not_encrypted"]
    assert "encrypted" in text
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_reconfigure_refuses_clear_text_to_deepgram(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Reconfigure has the same check; the stored URL is kept."""
    entry = add_entry(hass, server.base_url)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input("ws://api.deepgram.com")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {SECTION_ADVANCED: "url_not_encrypted"}
    assert server.rest_requests == []
    assert entry.data[CONF_URL] == server.base_url


@pytest.mark.parametrize(
    ("stored", "upgraded"),
    [
        ("http://api.deepgram.com", "https://api.deepgram.com"),
        ("ws://api.eu.deepgram.com/", "wss://api.eu.deepgram.com"),
    ],
)
async def test_stored_clear_text_url_is_set_up_over_tls(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    caplog: pytest.LogCaptureFixture,
    stored: str,
    upgraded: str,
) -> None:
    """An entry from before the check: every request over TLS, URL rewritten."""
    host = stored.split("://")[1].rstrip("/")
    serve(aioclient_mock, f"http://{host}")
    serve(aioclient_mock, f"https://{host}")
    entry = MockConfigEntry(
        domain=DOMAIN, title="Deepgram", data={CONF_API_KEY: API_KEY, CONF_URL: stored}
    )
    await set_up_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    requested = [str(call[1]) for call in aioclient_mock.mock_calls]
    assert requested
    assert all(url.startswith("https://") for url in requested), requested
    assert entry.data[CONF_URL] == upgraded
    assert entry.runtime_data.endpoint.base_url == upgraded
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("encrypted connection" in r.getMessage() for r in warnings)


async def test_clear_text_to_a_remote_self_hosted_server_warns(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Allowed (a self-hosted server), with one warning naming the host."""
    url = "http://dg.example.com:8080"
    serve(aioclient_mock, url)
    entry = MockConfigEntry(
        domain=DOMAIN, title="Deepgram", data={CONF_API_KEY: API_KEY, CONF_URL: url}
    )
    await set_up_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_URL] == url
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "unencrypted" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert "dg.example.com" in warnings[0]
