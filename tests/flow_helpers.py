"""Helpers for driving the config flows and reading their forms.

Shared by the tests of the profile subentry flows (nova and Flux), the
config flow and set-up.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    SubentryFlowContext,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import SelectSelector
from homeassistant.helpers.translation import async_get_translations
import probatio
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram.const import DOMAIN


def field(schema: probatio.Schema, name: str) -> tuple[probatio.Marker, Any]:
    """A form field's marker and validator."""
    for marker, validator in schema.schema.items():
        if str(marker) == name:
            return marker, validator
    raise AssertionError(f"no field {name}")


def suggested(schema: probatio.Schema, name: str) -> Any:
    """The suggested value of a form field (None when it has none)."""
    marker, _ = field(schema, name)
    return (marker.description or {}).get("suggested_value")


def select_options(schema: probatio.Schema, name: str) -> list[str]:
    """The choices a select field offers."""
    _, selector = field(schema, name)
    assert isinstance(selector, SelectSelector)
    return [str(option) for option in selector.config["options"]]


async def start_subentry_flow(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    subentry_type: str,
    subentry_id: str | None = None,
) -> dict[str, Any]:
    """Open a profile type's add form, or with `subentry_id` its reconfigure form."""
    context = SubentryFlowContext(source=SOURCE_USER)
    if subentry_id is not None:
        context = SubentryFlowContext(
            source=SOURCE_RECONFIGURE, subentry_id=subentry_id
        )
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, subentry_type), context=context
    )
    return dict(result)


async def submit(
    hass: HomeAssistant, flow_id: str, user_input: dict[str, Any]
) -> dict[str, Any]:
    """Submit a subentry flow's form; the next form, or how the flow ended."""
    return dict(
        await hass.config_entries.subentries.async_configure(flow_id, user_input)
    )


def stt_entities(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    """Subentry id -> entity id of the entry's STT entities."""
    return {
        str(e.config_subentry_id): e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.domain == "stt"
    }


async def check_profile_flow_texts(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    subentry_type: str,
    names: tuple[str, str, str],
    errors: tuple[str, ...],
) -> dict[str, str]:
    """Check that Home Assistant finds every text of a profile flow.

    `names`: the profile type's name and the titles of its add and reconfigure
    flows. Each field of the `init` form (opened on the loaded `entry`), each
    of `errors` and both aborts must have a text. Returns the type's texts,
    keyed below its prefix (`"step.init.title"`), for further checks.
    """
    translations = await async_get_translations(
        hass, "en", "config_subentries", {DOMAIN}
    )
    prefix = f"component.{DOMAIN}.config_subentries.{subentry_type}."
    texts = {
        key.removeprefix(prefix): text
        for key, text in translations.items()
        if key.startswith(prefix)
    }
    entry_type, add, reconfigure = names
    assert texts["entry_type"] == entry_type
    assert texts["initiate_flow.user"] == add
    assert texts["initiate_flow.reconfigure"] == reconfigure
    result = await start_subentry_flow(hass, entry, subentry_type)
    for marker in result["data_schema"].schema:
        assert texts[f"step.init.data.{marker}"]
        assert texts[f"step.init.data_description.{marker}"]
    for error in errors:
        assert texts[f"error.{error}"]
    assert texts["abort.entry_not_loaded"]
    assert texts["abort.reconfigure_successful"]
    return texts
