"""The key never goes unencrypted to Deepgram's cloud (issue 18 item 9).

Every place a URL enters is checked: the user flow and reconfigure refuse
`http`/`ws` for Deepgram's hosts with a field error that says why; an entry
stored with such a URL is set up over TLS (its URL rewritten, said in the
log). A self-hosted server may still be reached in clear text, with a warning
when the key goes to a host that is not local.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
import logging
import socket
from types import SimpleNamespace

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.aiohttp_client import (
    DATA_CLIENTSESSION,
    async_get_clientsession,
)
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from custom_components.deepgram.const import DOMAIN, SECTION_ADVANCED
from tests.conftest import API_KEY
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


class ToLocalServer(AbstractResolver):
    """Resolves every host name to the local server (a stand-in for DNS)."""

    def __init__(self, port: int) -> None:
        self._port = port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=self._port,
                family=socket.AF_INET,
                proto=0,
                flags=0,
            )
        ]

    async def close(self) -> None:
        """Nothing to release."""


@asynccontextmanager
async def every_host_is(
    hass: HomeAssistant, server: FakeDeepgram
) -> AsyncIterator[list[str]]:
    """Home Assistant's HTTP session, with every host name on the local server.

    The server speaks plain HTTP: a request sent in clear text reaches it
    (and shows in `server.rest_requests`); one over TLS fails its handshake.
    Yields the URLs requested, in order.
    """
    requested: list[str] = []

    async def on_start(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        requested.append(str(params.url))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(resolver=ToLocalServer(server.port)),
        trace_configs=[trace],
    )
    shared = async_get_clientsession(hass)
    sessions = hass.data[DATA_CLIENTSESSION]
    key = next(k for k, v in sessions.items() if v is shared)
    sessions[key] = session
    try:
        yield requested
    finally:
        sessions[key] = shared
        await session.close()


async def set_up(hass: HomeAssistant, url: str) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN, title="Deepgram", data={CONF_API_KEY: API_KEY, CONF_URL: url}
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


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
        # Port 80 is clear text's: over TLS it is Deepgram's 443.
        ("http://api.deepgram.com:80", "https://api.deepgram.com"),
    ],
)
async def test_stored_clear_text_url_is_set_up_over_tls(
    hass: HomeAssistant,
    server: FakeDeepgram,
    caplog: pytest.LogCaptureFixture,
    stored: str,
    upgraded: str,
) -> None:
    """An entry from before the check: nothing in clear text, URL rewritten."""
    async with every_host_is(hass, server) as requested:
        entry = await set_up(hass, stored)
    assert server.rest_requests == []  # the key never reached it in clear text
    assert requested
    assert all(url.startswith("https://") for url in requested), requested
    assert all(URL(url).port == 443 for url in requested), requested
    assert entry.data[CONF_URL] == upgraded
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("encrypted connection" in r.getMessage() for r in warnings)


async def test_clear_text_to_a_remote_self_hosted_server_warns(
    hass: HomeAssistant, server: FakeDeepgram, caplog: pytest.LogCaptureFixture
) -> None:
    """Allowed (a self-hosted server), with one warning naming the host."""
    url = "http://dg.example.com:8080"
    async with every_host_is(hass, server):
        entry = await set_up(hass, url)
        assert entry.state is ConfigEntryState.LOADED
        assert entry.data[CONF_URL] == url
        await hass.config_entries.async_unload(entry.entry_id)
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "unencrypted" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert "dg.example.com" in warnings[0]


async def test_reauth_of_a_stored_clear_text_url_checks_over_tls(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Reauth checks the new key at the stored URL: over TLS for Deepgram's."""
    entry = add_entry(hass, "http://api.deepgram.com")
    async with every_host_is(hass, server) as requested:
        result = await entry.start_reauth_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_API_KEY: API_KEY}
        )
    assert server.rest_requests == []
    assert requested
    assert all(url.startswith("https://") for url in requested), requested
    assert result["errors"] == {"base": "cannot_connect"}  # TLS to a plain server
