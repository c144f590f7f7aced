"""The "model not allowed" repair's fix flow, through Home Assistant's HTTP API.

The flow offers the models of the profile's family: another model is saved
(the entry reloads and the next command uses it), the same model says it is
now allowed in the Deepgram console.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.deepgram.const import (
    CONF_KEYTERMS,
    CONF_MODEL,
    DEFAULT_STT_NAME,
    DOMAIN,
    ISSUE_MODEL_NOT_ALLOWED,
    RECOMMENDED_FLUX_OPTIONS,
    RECOMMENDED_STT_OPTIONS,
    SUBENTRY_FLUX,
)
from tests.conftest import entry_with_profiles, set_up_entry
from tests.deepgram_server import FakeDeepgram, Faults
from tests.deepgram_server.testing import silence

from .pipeline_helpers import chunks, transcribe

FIX_URL = "/api/repairs/issues/fix"


def issue_id(entry: MockConfigEntry) -> str:
    (subentry_id,) = entry.subentries
    return f"{ISSUE_MODEL_NOT_ALLOWED}_{entry.entry_id}_{subentry_id}"


async def refused_entry(
    hass: HomeAssistant,
    server: FakeDeepgram,
    title: str,
    profile: dict[str, Any],
    subentry_type: str = "stt",
) -> MockConfigEntry:
    """An entry with one profile whose run Deepgram refused with 403."""
    assert await async_setup_component(hass, "repairs", {})
    entry = await set_up_entry(
        hass, entry_with_profiles(server, {title: profile}, subentry_type=subentry_type)
    )
    server.faults = Faults(handshake_status=403)
    entity_id = f"stt.{title.lower().replace(' ', '_').replace('-', '_')}"
    await transcribe(hass, chunks(silence(0.3)), entity_id=entity_id)
    server.faults = Faults()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry))
    assert issue is not None
    assert issue.is_fixable
    return entry


class FixFlow:
    """One fix flow, driven as the frontend drives it."""

    def __init__(self, hass_client: ClientSessionGenerator) -> None:
        self._hass_client = hass_client
        self.flow_id = ""

    async def start(self, issue: str) -> dict[str, Any]:
        client = await self._hass_client()
        response = await client.post(
            FIX_URL, json={"handler": DOMAIN, "issue_id": issue}
        )
        assert response.status == HTTPStatus.OK
        result: dict[str, Any] = await response.json()
        self.flow_id = result["flow_id"]
        return result

    async def submit(self, data: dict[str, Any]) -> dict[str, Any]:
        client = await self._hass_client()
        response = await client.post(f"{FIX_URL}/{self.flow_id}", json=data)
        assert response.status == HTTPStatus.OK
        result: dict[str, Any] = await response.json()
        return result


def options_of(form: dict[str, Any]) -> list[str]:
    (field,) = form["data_schema"]
    assert field["name"] == CONF_MODEL
    options: list[str] = field["selector"]["select"]["options"]
    return options


async def test_another_model_is_saved_and_used(
    hass: HomeAssistant, server: FakeDeepgram, hass_client: ClientSessionGenerator
) -> None:
    """nova-2 instead of nova-3: the profile keeps its name, the next run uses it."""
    entry = await refused_entry(hass, server, "Kitchen", dict(RECOMMENDED_STT_OPTIONS))
    flow = FixFlow(hass_client)
    form = await flow.start(issue_id(entry))
    assert (form["type"], form["step_id"]) == ("form", "model")
    assert form["description_placeholders"]["profile"] == "Kitchen"
    assert form["description_placeholders"]["model"] == "nova-3"
    options = options_of(form)
    assert "nova-2" in options
    assert "nova-3" in options
    assert not any(model.startswith("flux") for model in options)
    result = await flow.submit({CONF_MODEL: "nova-2"})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    (subentry,) = entry.subentries.values()
    assert subentry.data[CONF_MODEL] == "nova-2"
    assert subentry.title == "Kitchen"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is None
    result_of_run = await transcribe(
        hass, chunks(silence(0.3)), entity_id="stt.kitchen"
    )
    assert result_of_run.text == ""
    assert server.sessions[-1].query["model"] == "nova-2"


async def test_a_generated_name_follows_the_model(
    hass: HomeAssistant, server: FakeDeepgram, hass_client: ClientSessionGenerator
) -> None:
    """A profile named after its model is renamed, as its own form would."""
    entry = await refused_entry(
        hass, server, DEFAULT_STT_NAME, dict(RECOMMENDED_STT_OPTIONS)
    )
    flow = FixFlow(hass_client)
    await flow.start(issue_id(entry))
    assert (await flow.submit({CONF_MODEL: "nova-2"}))["type"] == "create_entry"
    await hass.async_block_till_done()
    (subentry,) = entry.subentries.values()
    assert subentry.title == "Deepgram nova-2"


async def test_keeping_the_model_tries_it_again(
    hass: HomeAssistant, server: FakeDeepgram, hass_client: ClientSessionGenerator
) -> None:
    """The model allowed in the console: the issue goes, the profile stays; a
    project still refusing raises it again at the next run."""
    entry = await refused_entry(hass, server, "Kitchen", dict(RECOMMENDED_STT_OPTIONS))
    (before,) = entry.subentries.values()
    flow = FixFlow(hass_client)
    await flow.start(issue_id(entry))
    assert (await flow.submit({CONF_MODEL: "nova-3"}))["type"] == "create_entry"
    await hass.async_block_till_done()
    assert entry.subentries[before.subentry_id] == before
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is None
    server.faults = Faults(handshake_status=403)
    await transcribe(hass, chunks(silence(0.3)), entity_id="stt.kitchen")
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is not None


async def test_a_model_the_settings_do_not_fit_is_refused(
    hass: HomeAssistant, server: FakeDeepgram, hass_client: ClientSessionGenerator
) -> None:
    """Key terms need nova-3: nova-2 is refused in the form, nothing saved."""
    profile = {**RECOMMENDED_STT_OPTIONS, CONF_KEYTERMS: ["Kitchen"]}
    entry = await refused_entry(hass, server, "Kitchen", profile)
    flow = FixFlow(hass_client)
    await flow.start(issue_id(entry))
    result = await flow.submit({CONF_MODEL: "nova-2"})
    assert result["type"] == "form"
    assert result["errors"] == {"base": "settings_conflict"}
    (subentry,) = entry.subentries.values()
    assert subentry.data[CONF_MODEL] == "nova-3"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is not None


async def test_a_flux_profile_is_offered_flux_models(
    hass: HomeAssistant, server: FakeDeepgram, hass_client: ClientSessionGenerator
) -> None:
    """Flux profiles choose among Flux models."""
    entry = await refused_entry(
        hass, server, "Flux", dict(RECOMMENDED_FLUX_OPTIONS), SUBENTRY_FLUX
    )
    flow = FixFlow(hass_client)
    form = await flow.start(issue_id(entry))
    options = options_of(form)
    assert options
    assert all(model.startswith("flux") for model in options)
    result = await flow.submit({CONF_MODEL: "flux-general-multi"})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    (subentry,) = entry.subentries.values()
    assert subentry.data[CONF_MODEL] == "flux-general-multi"


@pytest.mark.parametrize("how", ["unloaded", "no_data"])
async def test_a_profile_that_is_gone_aborts(
    hass: HomeAssistant,
    server: FakeDeepgram,
    hass_client: ClientSessionGenerator,
    how: str,
) -> None:
    """An unloaded entry (or an issue without its data) cannot be fixed here."""
    entry = await refused_entry(hass, server, "Kitchen", dict(RECOMMENDED_STT_OPTIONS))
    issue = issue_id(entry)
    if how == "unloaded":
        assert await hass.config_entries.async_unload(entry.entry_id)
    else:
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue,
            is_fixable=True,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_MODEL_NOT_ALLOWED,
        )
    result = await FixFlow(hass_client).start(issue)
    assert (result["type"], result["reason"]) == ("abort", "profile_gone")
