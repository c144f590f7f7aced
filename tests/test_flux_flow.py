"""The Flux profile subentry flow (its own profile type) against the local server."""

from __future__ import annotations

from typing import Any

from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers.selector import NumberSelector
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram.const import (
    CONF_EAGER_EOT_THRESHOLD,
    CONF_EOT_THRESHOLD,
    CONF_EOT_TIMEOUT_MS,
    CONF_HOME_TERMS,
    CONF_KEYTERMS,
    CONF_LANGUAGE_HINTS,
    CONF_MIP_OPT_OUT,
    CONF_MODEL,
    RECOMMENDED_FLUX_OPTIONS,
    SUBENTRY_FLUX,
)
from custom_components.deepgram.flux_flow import flux_models
from tests.deepgram_server import FakeDeepgram
from tests.flow_helpers import (
    check_profile_flow_texts,
    field,
    select_options,
    start_subentry_flow,
    stt_entities,
    submit,
    suggested,
)

TOO_MANY_TERMS = [f"word{i}" for i in range(501)]


def form(**changes: Any) -> dict[str, Any]:
    """A complete Flux form: Deepgram's defaults with `changes` (eager left out)."""
    values = {**RECOMMENDED_FLUX_OPTIONS, **changes}
    return {key: value for key, value in values.items() if value is not None}


async def test_add_flux_profile_with_defaults(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Only Flux fields, Deepgram's defaults, eager off; a new entity appears."""
    entry = setup_integration
    result = await start_subentry_flow(hass, entry, SUBENTRY_FLUX)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    schema = result["data_schema"]
    assert [str(m) for m in schema.schema] == [
        CONF_NAME,
        CONF_MODEL,
        CONF_EOT_THRESHOLD,
        CONF_EAGER_EOT_THRESHOLD,
        CONF_EOT_TIMEOUT_MS,
        CONF_KEYTERMS,
        CONF_HOME_TERMS,
        CONF_LANGUAGE_HINTS,
        CONF_MIP_OPT_OUT,
    ]
    assert suggested(schema, CONF_NAME) is None  # empty: named after the model
    assert suggested(schema, CONF_EOT_THRESHOLD) == 0.7
    assert suggested(schema, CONF_EAGER_EOT_THRESHOLD) is None
    assert select_options(schema, CONF_MODEL) == [
        "flux-general-en",
        "flux-general-multi",
    ]
    assert "de" in select_options(schema, CONF_LANGUAGE_HINTS)
    assert "multi" not in select_options(schema, CONF_LANGUAGE_HINTS)
    _, eot = field(schema, CONF_EOT_THRESHOLD)
    assert isinstance(eot, NumberSelector)
    assert (eot.config["min"], eot.config["max"]) == (0.5, 1.0)  # the wider range
    _, timeout = field(schema, CONF_EOT_TIMEOUT_MS)
    assert isinstance(timeout, NumberSelector)
    assert (timeout.config["min"], timeout.config["max"]) == (500, 60000)

    result = await submit(hass, result["flow_id"], {CONF_NAME: "Kitchen", **form()})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Kitchen"
    assert result["data"] == RECOMMENDED_FLUX_OPTIONS
    await hass.async_block_till_done()
    (subentry,) = [s for s in entry.subentries.values() if s.title == "Kitchen"]
    assert subentry.subentry_type == SUBENTRY_FLUX
    assert "stt.kitchen" in stt_entities(hass, entry).values()


async def test_multi_profile_with_every_option(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Thresholds, keyterms and hints are cleaned and kept."""
    result = await start_subentry_flow(hass, setup_integration, SUBENTRY_FLUX)
    result = await submit(
        hass,
        result["flow_id"],
        form(
            model="flux-general-multi",
            eot_threshold=1.0,
            eager_eot_threshold=0.45,
            eot_timeout_ms=60000.0,
            keyterms=[" kitchen  light ", "kitchen light", ""],
            language_hints=["de", "en", "de"],
            mip_opt_out=True,
            home_terms=False,
        ),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Deepgram flux-general-multi (key terms)"
    assert result["data"] == {
        CONF_MODEL: "flux-general-multi",
        CONF_EOT_THRESHOLD: 1.0,
        CONF_EAGER_EOT_THRESHOLD: 0.45,
        CONF_EOT_TIMEOUT_MS: 60000,
        CONF_KEYTERMS: ["kitchen light"],
        CONF_HOME_TERMS: False,
        CONF_LANGUAGE_HINTS: ["de", "en"],
        CONF_MIP_OPT_OUT: True,
    }


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"model": "nova-3"}, {CONF_MODEL: "not_flux"}),
        (
            {"language_hints": ["de"]},
            {CONF_LANGUAGE_HINTS: "language_hints_unsupported"},
        ),
        (
            {"eot_threshold": 0.6, "eager_eot_threshold": 0.65},
            {CONF_EAGER_EOT_THRESHOLD: "eager_above_threshold"},
        ),
        ({"keyterms": TOO_MANY_TERMS}, {CONF_KEYTERMS: "keyterms_too_long"}),
        ({"keyterms": ["Kitchen\u200b"]}, {CONF_KEYTERMS: "keyterms_bad_character"}),
        (
            {"model": "flux-general-multi", "language_hints": ["not a tag"]},
            {CONF_LANGUAGE_HINTS: "invalid_option"},
        ),
    ],
)
async def test_invalid_profiles_are_refused(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Each refusal is on its field; the form keeps what was typed."""
    result = await start_subentry_flow(hass, setup_integration, SUBENTRY_FLUX)
    result = await submit(
        hass, result["flow_id"], {CONF_NAME: "Mine", **form(**changes)}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert suggested(result["data_schema"], CONF_NAME) == "Mine"
    assert suggested(result["data_schema"], CONF_MODEL) == changes.get(
        "model", "flux-general-en"
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (CONF_EOT_THRESHOLD, 0.45),
        (CONF_EOT_THRESHOLD, 1.05),
        (CONF_EAGER_EOT_THRESHOLD, 0.2),
        (CONF_EOT_TIMEOUT_MS, 60001),
    ],
)
async def test_out_of_range_numbers_are_refused_by_the_form(
    hass: HomeAssistant, setup_integration: MockConfigEntry, key: str, value: float
) -> None:
    """Deepgram's documented ranges bound the number boxes."""
    result = await start_subentry_flow(hass, setup_integration, SUBENTRY_FLUX)
    with pytest.raises(InvalidData):
        await submit(hass, result["flow_id"], form(**{key: value}))


async def test_validation_reason_reaches_the_error_text(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """The error texts get their numbers: the budget, what was typed, the reason."""
    result = await start_subentry_flow(hass, setup_integration, SUBENTRY_FLUX)
    result = await submit(hass, result["flow_id"], form(keyterms=TOO_MANY_TERMS))
    placeholders = result["description_placeholders"]
    assert int(placeholders["tokens"]) > int(placeholders["token_budget"])
    result = await submit(
        hass,
        result["flow_id"],
        form(model="flux-general-multi", language_hints=["not a tag"]),
    )
    assert "Invalid language hint" in result["description_placeholders"]["error"]


async def test_reconfigure_flux_profile(
    hass: HomeAssistant, config_entry: MockConfigEntry, server: FakeDeepgram
) -> None:
    """Reconfigure shows the saved values; eager can be switched off again."""
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    result = await start_subentry_flow(hass, config_entry, SUBENTRY_FLUX)
    result = await submit(
        hass, result["flow_id"], form(eager_eot_threshold=0.5, eot_threshold=0.8)
    )
    await hass.async_block_till_done()
    (subentry,) = [
        s for s in config_entry.subentries.values() if s.subentry_type == SUBENTRY_FLUX
    ]
    result = await start_subentry_flow(
        hass, config_entry, SUBENTRY_FLUX, subentry.subentry_id
    )
    schema = result["data_schema"]
    assert suggested(schema, CONF_NAME) == "Deepgram flux-general-en"
    assert suggested(schema, CONF_EAGER_EOT_THRESHOLD) == 0.5
    assert suggested(schema, CONF_EOT_THRESHOLD) == 0.8
    result = await submit(hass, result["flow_id"], form(eot_threshold=0.8))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    updated = config_entry.subentries[subentry.subentry_id]
    assert updated.data[CONF_EAGER_EOT_THRESHOLD] is None
    assert updated.title == "Deepgram flux-general-en"


async def test_flux_profiles_are_named_once_and_renamed(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """A second blank name is numbered; a taken name is refused on its field;
    reconfigure renames (the picker never shows two alike)."""
    entry = setup_integration
    titles = []
    for _ in range(2):
        result = await start_subentry_flow(hass, entry, SUBENTRY_FLUX)
        result = await submit(hass, result["flow_id"], form())
        assert result["type"] is FlowResultType.CREATE_ENTRY
        titles.append(result["title"])
        await hass.async_block_till_done()
    assert titles == ["Deepgram flux-general-en", "Deepgram flux-general-en 2"]
    result = await start_subentry_flow(hass, entry, SUBENTRY_FLUX)
    result = await submit(
        hass, result["flow_id"], {CONF_NAME: "deepgram NOVA-3 ", **form()}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NAME: "name_taken"}
    (second,) = [s for s in entry.subentries.values() if s.title == titles[1]]
    result = await start_subentry_flow(hass, entry, SUBENTRY_FLUX, second.subentry_id)
    result = await submit(hass, result["flow_id"], {CONF_NAME: "Kitchen", **form()})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.subentries[second.subentry_id].title == "Kitchen"


async def test_models_fallback_and_current_model(
    hass: HomeAssistant, config_entry: MockConfigEntry, server: FakeDeepgram
) -> None:
    """Without Flux in Deepgram's list the built-in ones are offered."""
    server.catalog = [m for m in server.catalog if not m.name.startswith("flux")]
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    result = await start_subentry_flow(hass, config_entry, SUBENTRY_FLUX)
    assert select_options(result["data_schema"], CONF_MODEL) == [
        "flux-general-en",
        "flux-general-multi",
    ]
    result = await submit(hass, result["flow_id"], form(model="flux-general-next"))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (subentry,) = [
        s for s in config_entry.subentries.values() if s.subentry_type == SUBENTRY_FLUX
    ]
    result = await start_subentry_flow(
        hass, config_entry, SUBENTRY_FLUX, subentry.subentry_id
    )
    assert "flux-general-next" in select_options(result["data_schema"], CONF_MODEL)


async def test_entry_not_loaded(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Without a loaded entry the models are unknown: the flow aborts."""
    config_entry.add_to_hass(hass)
    result = await start_subentry_flow(hass, config_entry, SUBENTRY_FLUX)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_not_loaded"


async def test_every_text_of_the_flux_flow_exists(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Home Assistant finds a text for each field, error and abort."""
    await check_profile_flow_texts(
        hass,
        setup_integration,
        SUBENTRY_FLUX,
        ("Flux profile", "Add Flux profile", "Reconfigure Flux profile"),
        (
            "not_flux",
            "language_hints_unsupported",
            "eager_above_threshold",
            "keyterms_too_long",
            "keyterms_bad_character",
            "invalid_option",
        ),
    )


def test_model_choices_without_a_current_model() -> None:
    """An empty model (a cleared custom value) is not offered as a choice."""
    assert flux_models({"nova-3": ("en",)}, "") == [
        "flux-general-en",
        "flux-general-multi",
    ]
