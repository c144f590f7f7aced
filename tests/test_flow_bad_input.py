"""Bad input at the entry's fields: endpoint URLs and keys (issue 8 and 9).

Each case shows a clear error on the field it concerns, keeps what was typed,
and sends nothing to Deepgram; credentials in a stored URL never show.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
import logging
from pathlib import Path
import re
from typing import Any

from homeassistant.components import stt
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.deepgram.api import (
    Endpoint,
    has_credentials,
    is_valid_key,
    redact_url,
)
from custom_components.deepgram.const import (
    DEFAULT_STT_NAME,
    DEFAULT_URL,
    DOMAIN,
    RECOMMENDED_STT_OPTIONS,
    SECTION_ADVANCED,
    SUBENTRY_STT,
)
from tests.conftest import API_KEY
from tests.deepgram_server import FakeDeepgram, Faults
from tests.flow_helpers import suggested
from tests.pipeline_helpers import ENTITY_ID, METADATA
from tests.test_config_flow import (
    EU_URL,
    add_entry,
    form_input,
    section_schema,
    start_user_flow,
    submit_refused_url,
)

COMPONENT = Path(__file__).parent.parent / "custom_components" / DOMAIN
PASSWORD = "s3cret-pw-9d1f"


def test_url_helpers() -> None:
    assert has_credentials("http://user:pw@host")
    assert has_credentials(" http://user@host ")
    assert has_credentials("http://:pw@host")
    assert not has_credentials("http://host:8080/x")
    assert not has_credentials("http://[::1")  # not a URL: invalid_url later
    assert redact_url(f"http://user:{PASSWORD}@h:1/p") == "http://***@h:1/p"
    assert redact_url("http://h:1/p") == "http://h:1/p"
    assert redact_url("http://[::1") == "http://[::1"
    endpoint = Endpoint(f"http://user:{PASSWORD}@127.0.0.1:9", API_KEY)
    assert PASSWORD not in repr(endpoint)
    assert API_KEY not in repr(endpoint)


def test_key_characters() -> None:
    assert is_valid_key(API_KEY)
    assert is_valid_key("")
    for bad in ("a b", "ab\n", "a\rb", "a\x00b", "a\tb", "ä" * 40, "k\u200bey"):
        assert not is_valid_key(bad), repr(bad)
    assert is_valid_key("k" * 2048)
    assert not is_valid_key("k" * 2049)


@pytest.mark.parametrize(
    "url",
    [
        "http://user:pw@127.0.0.1:8080",
        "https://user@api.deepgram.com",
        "wss://:token@api.eu.deepgram.com/",
    ],
)
async def test_url_with_credentials_refused(
    hass: HomeAssistant, server: FakeDeepgram, url: str
) -> None:
    """User information in the URL: its own error, on the open section."""
    flow_id, schema = await submit_refused_url(hass, server, url, "url_credentials")
    assert suggested(section_schema(schema, collapsed=False), CONF_URL) == url

    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(server.base_url)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    "url",
    [
        "http://exa mple.com",
        "http://exa%20mple.com",
        "http://-bad-.lan",
        "http://a..b",
        "http://[zz::1]:8080",
        "http://[::1",
        "http://host:99999",
        "https://",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ws:/127.0.0.1",
        "http://127.0.0.1:8080?model=x",
    ],
)
async def test_malformed_urls_refused(
    hass: HomeAssistant, server: FakeDeepgram, url: str
) -> None:
    """Bad schemes and malformed hosts: invalid_url, nothing sent."""
    await submit_refused_url(hass, server, url, "invalid_url")


@pytest.mark.parametrize(
    "key",
    [
        f"{API_KEY}\nX-Injected: 1",
        f"{API_KEY[:10]}\r\n{API_KEY[10:]}",
        f"{API_KEY}\x00",
        f"{API_KEY[:5]}\x7f{API_KEY[5:]}",
        f"{API_KEY[:5]} {API_KEY[5:]}",
        f"{API_KEY}é",
        f"{API_KEY[:5]}\u2028{API_KEY[5:]}",
        "k" * 100_000,
    ],
    ids=["newline-header", "crlf", "nul", "del", "space", "latin-1", "u2028", "100kB"],
)
async def test_key_with_bad_characters_refused(
    hass: HomeAssistant, server: FakeDeepgram, key: str
) -> None:
    """A key that cannot travel in a header: a clear error, nothing sent."""
    flow_id = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(server.base_url, api_key=key)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_API_KEY: "invalid_key_format"}
    assert server.rest_requests == []
    schema = result["data_schema"]
    assert schema is not None
    assert suggested(schema, CONF_API_KEY) == key
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_reauth_and_reconfigure_refuse_bad_keys(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """The same checks guard reauth and reconfigure."""
    entry = add_entry(hass, server.base_url)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "dg\nkey"}
    )
    assert result["errors"] == {CONF_API_KEY: "invalid_key_format"}

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(server.base_url, api_key="dg\x00key")
    )
    assert result["errors"] == {CONF_API_KEY: "invalid_key_format"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(f"http://u:{PASSWORD}@127.0.0.1")
    )
    assert result["errors"] == {SECTION_ADVANCED: "url_credentials"}
    assert server.rest_requests == []
    assert entry.data[CONF_API_KEY] == API_KEY


async def test_reconfigure_cloud_without_a_key(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """A keyless self-hosted entry moved to Deepgram's cloud needs a key."""
    entry = add_entry(hass, server.base_url, api_key="")
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(EU_URL, api_key="")
    )
    assert result["errors"] == {CONF_API_KEY: "key_required"}
    schema = result["data_schema"]
    assert schema is not None
    section_schema(schema, collapsed=True)


@pytest.mark.parametrize(
    ("title", "url", "expected"),
    [
        ("Deepgram", DEFAULT_URL, "Deepgram"),
        (
            "Deepgram (api.eu.deepgram.com)",
            EU_URL,
            "Deepgram (api.eu.deepgram.com)",
        ),
        ("Office speech", EU_URL, f"Office speech (`{EU_URL}`)"),
        (
            "Office speech",
            f"http://user:{PASSWORD}@dg.lan:8080",
            "Office speech (`http://***@dg.lan:8080`)",
        ),
    ],
)
async def test_reauth_names_the_entry_once(
    hass: HomeAssistant, server: FakeDeepgram, title: str, url: str, expected: str
) -> None:
    """The reauth text names the entry, and its URL only when the title lacks it."""
    entry = add_entry(hass, url, title=title)
    result = await entry.start_reauth_flow(hass)
    placeholders = result["description_placeholders"] or {}
    assert placeholders["entry"] == expected


async def test_stored_credentials_never_show(
    hass: HomeAssistant,
    server: FakeDeepgram,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An entry stored with a URL password: not in diagnostics, logs or title."""
    from pytest_homeassistant_custom_component.components.diagnostics import (
        get_diagnostics_for_config_entry,
    )

    server.api_key = None  # takes the Basic credentials of the URL
    url = f"http://user:{PASSWORD}@127.0.0.1:{server.port}"
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"Deepgram (127.0.0.1:{server.port})",
        data={CONF_API_KEY: "", CONF_URL: url},
        subentries_data=[
            ConfigSubentryData(
                data=dict(RECOMMENDED_STT_OPTIONS),
                subentry_type=SUBENTRY_STT,
                title=DEFAULT_STT_NAME,
                unique_id=None,
            )
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert await async_setup_component(hass, "diagnostics", {})
    diagnostics: dict[str, Any] = await get_diagnostics_for_config_entry(
        hass, hass_client, entry
    )
    assert PASSWORD not in json.dumps(diagnostics)
    assert diagnostics["entry"][CONF_URL] == f"http://***@127.0.0.1:{server.port}"
    assert PASSWORD not in entry.title

    # Runs that fail at the handshake and in the REST calls log no password.
    caplog.set_level(logging.DEBUG)
    stt_entity = stt.async_get_speech_to_text_entity(hass, ENTITY_ID)
    assert stt_entity is not None
    for faults in (Faults(handshake_status=500), Faults(handshake_status=400)):
        server.faults = faults
        result = await stt_entity.internal_async_process_audio_stream(
            METADATA, _audio()
        )
        assert result.result is stt.SpeechResultState.ERROR
    server.faults = Faults(rest_status=503)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert "503" in caplog.text
    assert PASSWORD not in caplog.text
    assert all(PASSWORD not in str(r.args) for r in caplog.records)


async def _audio() -> AsyncIterator[bytes]:
    yield bytes(3200)


# -- texts --------------------------------------------------------------

_URL = re.compile(r"https?://[^\s)`\"]+")


def _texts(node: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [
            item
            for key, value in node.items()
            for item in _texts(value, f"{path}.{key}")
        ]
    return [(path, str(node))]


def test_no_urls_in_flow_texts() -> None:
    """URLs come in placeholders (hassfest refuses them in strings), and
    placeholders holding one sit in backticks or a link target, so that an
    example address is not rendered as a link to click (form errors are shown
    as plain text, so they need neither)."""
    strings = json.loads((COMPONENT / "strings.json").read_text(encoding="utf-8"))
    texts = _texts(strings["config"]) + _texts(strings["config_subentries"])
    for path, text in texts:
        assert not _URL.search(text), f"{path}: URL in the text"
        if ".error." in path:
            continue  # shown as plain text: never a link, and backticks show raw
        for match in re.finditer(r"\{(\w+_url)\}", text):
            before = text[: match.start()]
            in_code = before.count("`") % 2 == 1
            in_link = before.endswith("](")
            assert in_code or in_link, f"{path}: bare link {match.group()}"


def _placeholders_in(node: Any) -> set[str]:
    return {name for _, text in _texts(node) for name in re.findall(r"\{(\w+)\}", text)}


async def test_every_placeholder_is_filled(
    hass: HomeAssistant, server: FakeDeepgram, setup_integration: MockConfigEntry
) -> None:
    """Each form gives every placeholder its texts and errors use."""
    strings = json.loads((COMPONENT / "strings.json").read_text(encoding="utf-8"))
    config = strings["config"]
    entry = setup_integration
    forms = {
        "user": await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": "user"}
        ),
        "reconfigure": await entry.start_reconfigure_flow(hass),
        "reauth_confirm": await entry.start_reauth_flow(hass),
    }
    for step, result in forms.items():
        needed = _placeholders_in(config["step"][step]) | _placeholders_in(
            config["error"]
        )
        assert needed <= set(result["description_placeholders"] or {}), step

    subentries = strings["config_subentries"]["stt"]
    profile_form = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_STT), context={"source": "user"}
    )
    needed = _placeholders_in(subentries["step"]) | _placeholders_in(
        subentries["error"]
    )
    assert needed <= set(profile_form["description_placeholders"] or {})
