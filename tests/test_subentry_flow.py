"""The STT profile subentry flow against the local Deepgram server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from homeassistant.components import stt
from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigSubentry,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.selector import (
    NumberSelector,
    TextSelector,
)
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from custom_components.deepgram.api import LiveOptions
from custom_components.deepgram.const import (
    CONF_END_OF_SPEECH,
    CONF_ENDPOINTING,
    CONF_FILLER_WORDS,
    CONF_HOME_TERMS,
    CONF_KEYTERMS,
    CONF_MIP_OPT_OUT,
    CONF_MODEL,
    CONF_MULTILINGUAL,
    CONF_NUMERALS,
    CONF_PROFANITY_FILTER,
    CONF_PUNCTUATE,
    CONF_SMART_FORMAT,
    CONF_UTTERANCE_END_MS,
    DEFAULT_STT_NAME,
    DOMAIN,
    FALLBACK_MODELS,
    RECOMMENDED_STT_OPTIONS,
    SUBENTRY_STT,
)
from custom_components.deepgram.profile_names import (
    is_generated_name,
    numbered_name,
    profile_name,
)
from custom_components.deepgram.subentry_flow import bad_character
from custom_components.deepgram.term_budget import fit_terms
from tests.conftest import entry_with_profiles, set_up_entry
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
from tests.pipeline_helpers import METADATA

SERVER_MODELS = ["base", "nova-2", "nova-3"]


def model_options(schema: probatio.Schema) -> list[str]:
    """The models offered; a model not listed may be typed in."""
    _, selector = field(schema, CONF_MODEL)
    assert selector.config["custom_value"] is True
    return select_options(schema, CONF_MODEL)


def profile(**changes: Any) -> dict[str, Any]:
    """A complete profile form, the recommended settings with `changes`.

    Without `home_terms`, which the form offers for some models only.
    """
    form = {**RECOMMENDED_STT_OPTIONS, **changes}
    if CONF_HOME_TERMS not in changes:
        del form[CONF_HOME_TERMS]
    return form


def stt_subentry(entry: MockConfigEntry) -> ConfigSubentry:
    return next(iter(entry.subentries.values()))


# -- add ----------------------------------------------------------------


async def test_add_profile_with_defaults(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """The form's defaults are the recommended settings; a new entity appears."""
    entry = setup_integration
    result = await start_subentry_flow(hass, entry, SUBENTRY_STT)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert result["errors"] == {}
    schema = result["data_schema"]
    assert [str(m) for m in schema.schema] == [
        CONF_NAME,
        CONF_MODEL,
        CONF_MULTILINGUAL,
        CONF_KEYTERMS,
        CONF_HOME_TERMS,
        CONF_ENDPOINTING,
        CONF_PUNCTUATE,
        CONF_SMART_FORMAT,
        CONF_NUMERALS,
        CONF_PROFANITY_FILTER,
        CONF_FILLER_WORDS,
        CONF_MIP_OPT_OUT,
        CONF_END_OF_SPEECH,
        CONF_UTTERANCE_END_MS,
    ]
    name_marker, _ = field(schema, CONF_NAME)
    assert isinstance(name_marker, probatio.Optional)
    assert suggested(schema, CONF_NAME) is None  # empty: named after its settings
    _, mode = field(schema, CONF_END_OF_SPEECH)
    assert mode.config["options"] == ["home_assistant", "deepgram"]
    assert mode.config["translation_key"] == CONF_END_OF_SPEECH
    _, utterance_end = field(schema, CONF_UTTERANCE_END_MS)
    assert (utterance_end.config["min"], utterance_end.config["max"]) == (1000, 5000)
    _, keyterms = field(schema, CONF_KEYTERMS)
    assert isinstance(keyterms, TextSelector)
    assert keyterms.config["multiple"] is True
    _, endpointing = field(schema, CONF_ENDPOINTING)
    assert isinstance(endpointing, NumberSelector)
    assert endpointing.config["min"] == 10
    assert endpointing.config["max"] == 5000
    assert endpointing.config["step"] == 10
    assert endpointing.config["mode"] == "box"

    result = await submit(hass, result["flow_id"], {CONF_NAME: "Kitchen"})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Kitchen"
    assert result["data"] == RECOMMENDED_STT_OPTIONS
    assert entry.state is ConfigEntryState.LOADED
    added = next(s for s in entry.subentries.values() if s.title == "Kitchen")
    assert dict(added.data) == RECOMMENDED_STT_OPTIONS
    entities = stt_entities(hass, entry)
    assert len(entities) == 2
    assert hass.states.get(entities[added.subentry_id]) is not None


async def test_add_profile_with_settings(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Every setting is stored under its key, cleaned and typed."""
    entry = setup_integration
    result = await start_subentry_flow(hass, entry, SUBENTRY_STT)
    form = profile(
        model=" nova-3-general ",
        multilingual=True,
        punctuate=False,
        smart_format=True,
        numerals=False,
        profanity_filter=True,
        filler_words=True,
        mip_opt_out=True,
        keyterms=["  Kitchen   light ", "", "Kitchen light", "Anouk", "  "],
        endpointing=450.0,
        end_of_speech="home_assistant",
        utterance_end_ms=1500.0,
    )
    result = await submit(
        hass, result["flow_id"], {CONF_NAME: "  Living room  ", **form}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Living room"
    data = result["data"]
    assert list(data) == list(RECOMMENDED_STT_OPTIONS)
    assert data == {
        CONF_MODEL: "nova-3-general",
        CONF_MULTILINGUAL: True,
        CONF_PUNCTUATE: False,
        CONF_SMART_FORMAT: True,
        CONF_NUMERALS: False,
        CONF_PROFANITY_FILTER: True,
        CONF_KEYTERMS: ["Kitchen light", "Anouk"],
        CONF_HOME_TERMS: True,
        CONF_ENDPOINTING: 450,
        CONF_FILLER_WORDS: True,
        CONF_MIP_OPT_OUT: True,
        CONF_END_OF_SPEECH: "home_assistant",
        CONF_UTTERANCE_END_MS: 1500,
    }
    assert type(data[CONF_ENDPOINTING]) is int
    assert type(data[CONF_UTTERANCE_END_MS]) is int
    assert len(stt_entities(hass, entry)) == 2


async def test_add_profile_blank_name_and_no_keyterms(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """A blank name is made from the model; missing key terms are none."""
    result = await start_subentry_flow(hass, setup_integration, SUBENTRY_STT)
    form = profile(model="nova-2-general")
    del form[CONF_KEYTERMS]
    result = await submit(hass, result["flow_id"], {CONF_NAME: "   ", **form})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Deepgram nova-2-general"
    assert result["data"][CONF_KEYTERMS] == []


async def test_typed_in_model(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """A model Deepgram did not list is judged by its name."""
    result = await start_subentry_flow(hass, setup_integration, SUBENTRY_STT)
    result = await submit(
        hass,
        result["flow_id"],
        {
            CONF_NAME: "Custom",
            **profile(
                model="nova-3-custom-0a1b", multilingual=True, keyterms=["Anouk"]
            ),
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_MODEL] == "nova-3-custom-0a1b"


LONG_KEYTERMS = [" ".join(["word"] * 300), " ".join(["term"] * 201)]


@pytest.mark.parametrize(
    ("changes", "errors", "reason"),
    [
        ({CONF_MODEL: "flux-general-en"}, {CONF_MODEL: "invalid_model"}, "Flux"),
        ({CONF_MODEL: "   "}, {CONF_MODEL: "invalid_model"}, "model is required"),
        (
            {CONF_MODEL: "base-general", CONF_MULTILINGUAL: True},
            {CONF_MULTILINGUAL: "multilingual_unsupported"},
            "",
        ),
        (
            {CONF_MODEL: "enhanced-phonecall", CONF_MULTILINGUAL: True},
            {CONF_MULTILINGUAL: "multilingual_unsupported"},
            "",
        ),
        (
            {CONF_MODEL: "nova-2-general", CONF_KEYTERMS: ["Anouk"]},
            {CONF_KEYTERMS: "keyterms_unsupported"},
            "",
        ),
        (
            {CONF_KEYTERMS: LONG_KEYTERMS},
            {CONF_KEYTERMS: "keyterms_too_long"},
            "",
        ),
        (
            {
                CONF_MODEL: "base-general",
                CONF_MULTILINGUAL: True,
                CONF_KEYTERMS: ["Anouk"],
            },
            {
                CONF_MULTILINGUAL: "multilingual_unsupported",
                CONF_KEYTERMS: "keyterms_unsupported",
            },
            "",
        ),
    ],
    ids=[
        "flux",
        "blank-model",
        "multi-not-listed",
        "multi-unknown-model",
        "keyterms-nova-2",
        "keyterms-too-long",
        "both",
    ],
)
async def test_add_errors_then_recover(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    changes: dict[str, Any],
    errors: dict[str, str],
    reason: str,
) -> None:
    """Each invalid combination shows its error and keeps the input."""
    entry = setup_integration
    result = await start_subentry_flow(hass, entry, SUBENTRY_STT)
    form = {CONF_NAME: "Office", **profile(**changes)}
    result = await submit(hass, result["flow_id"], form)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert reason in result["description_placeholders"]["error"]
    schema = result["data_schema"]
    assert suggested(schema, CONF_NAME) == "Office"
    assert suggested(schema, CONF_MULTILINGUAL) == form[CONF_MULTILINGUAL]
    assert "" not in model_options(schema)
    assert len(entry.subentries) == 1

    result = await submit(hass, result["flow_id"], {CONF_NAME: "Office", **profile()})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(entry.subentries) == 2


async def test_endpointing_bounds(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Endpointing outside 10-5000 ms: an error that names the bounds."""
    result = await start_subentry_flow(hass, setup_integration, SUBENTRY_STT)
    for value in (5, 4, 5010, -300, 1e9):
        result = await submit(hass, result["flow_id"], profile(endpointing=value))
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {CONF_ENDPOINTING: "endpointing_out_of_range"}
        placeholders = result["description_placeholders"]
        assert placeholders["endpointing_min"] == "10"
        assert placeholders["endpointing_max"] == "5000"
        assert suggested(result["data_schema"], CONF_ENDPOINTING) == round(value)
    for text in ("fast", "inf", "nan"):
        with pytest.raises(InvalidData):
            await submit(hass, result["flow_id"], profile(endpointing=text))
    result = await submit(hass, result["flow_id"], profile(endpointing=10))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_ENDPOINTING] == 10


# -- models -------------------------------------------------------------


async def test_models_from_server(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Streaming models Deepgram lists (not Flux), plus the current one."""
    assert setup_integration.runtime_data.models_from_server
    result = await start_subentry_flow(hass, setup_integration, SUBENTRY_STT)
    assert model_options(result["data_schema"]) == SERVER_MODELS


async def test_models_fallback(
    hass: HomeAssistant, config_entry: MockConfigEntry, server: FakeDeepgram
) -> None:
    """Without Deepgram's list, the built-in one is offered and checked."""
    server.catalog = []
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert not config_entry.runtime_data.models_from_server
    result = await start_subentry_flow(hass, config_entry, SUBENTRY_STT)
    # Flux models have their own profile type (test_flux_flow.py).
    assert model_options(result["data_schema"]) == sorted(
        model for model in FALLBACK_MODELS if not model.startswith("flux")
    )

    result = await submit(
        hass,
        result["flow_id"],
        {CONF_NAME: "Clinic", **profile(model="nova-3-medical", multilingual=True)},
    )
    assert result["errors"] == {CONF_MULTILINGUAL: "multilingual_unsupported"}

    result = await submit(
        hass,
        result["flow_id"],
        {CONF_NAME: "Clinic", **profile(model="nova-2", multilingual=True)},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


# -- reconfigure --------------------------------------------------------


async def test_reconfigure_profile(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """The form shows the profile and its name; saving reloads the entry."""
    entry = setup_integration
    subentry = stt_subentry(entry)
    result = await start_subentry_flow(hass, entry, SUBENTRY_STT, subentry.subentry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    schema = result["data_schema"]
    assert suggested(schema, CONF_NAME) == DEFAULT_STT_NAME
    assert suggested(schema, CONF_MODEL) == "nova-3"
    assert suggested(schema, CONF_ENDPOINTING) == 300

    result = await submit(
        hass,
        result["flow_id"],
        {
            CONF_NAME: DEFAULT_STT_NAME,
            **profile(keyterms=["Anouk"], endpointing=800, smart_format=True),
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    # "The profile was saved.", not Home Assistant's generic text.
    assert result.get("translation_domain") in (None, DOMAIN)
    updated = entry.subentries[subentry.subentry_id]
    # A generated name follows the settings.
    assert updated.title == "Deepgram nova-3 (key terms, smart format)"
    assert dict(updated.data) == profile(
        keyterms=["Anouk"], endpointing=800, smart_format=True, home_terms=True
    )
    assert entry.state is ConfigEntryState.LOADED
    assert list(stt_entities(hass, entry)) == [subentry.subentry_id]


async def test_reconfigure_old_profile_and_unlisted_model(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Missing settings get their defaults; a model not listed stays offered."""
    server.api_key = None
    entry = await set_up_entry(
        hass,
        entry_with_profiles(
            server, {"Phone": {CONF_MODEL: "nova-2-phonecall"}}, api_key=""
        ),
    )
    subentry = stt_subentry(entry)
    result = await start_subentry_flow(hass, entry, SUBENTRY_STT, subentry.subentry_id)
    schema = result["data_schema"]
    assert "nova-2-phonecall" in model_options(schema)
    assert suggested(schema, CONF_PUNCTUATE) is True


async def test_reconfigure_errors_then_recover(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Errors on reconfigure keep the profile unchanged until fixed."""
    entry = setup_integration
    subentry = stt_subentry(entry)
    result = await start_subentry_flow(hass, entry, SUBENTRY_STT, subentry.subentry_id)
    result = await submit(
        hass, result["flow_id"], profile(model="whisper-large", keyterms=["Anouk"])
    )
    assert result["errors"] == {CONF_KEYTERMS: "keyterms_unsupported"}
    assert suggested(result["data_schema"], CONF_MODEL) == "whisper-large"
    assert "whisper-large" in model_options(result["data_schema"])
    assert dict(entry.subentries[subentry.subentry_id].data) == RECOMMENDED_STT_OPTIONS

    result = await submit(
        hass, result["flow_id"], profile(model="nova-2-general", multilingual=True)
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[subentry.subentry_id].data[CONF_MODEL] == "nova-2-general"


# -- entry not loaded ---------------------------------------------------


async def test_entry_not_loaded(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Without a loaded entry the models are unknown: both flows abort."""
    config_entry.add_to_hass(hass)
    result = await start_subentry_flow(hass, config_entry, SUBENTRY_STT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_not_loaded"

    subentry = stt_subentry(config_entry)
    result = await start_subentry_flow(
        hass, config_entry, SUBENTRY_STT, subentry.subentry_id
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_not_loaded"


async def test_every_text_of_the_profile_flow_exists(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Home Assistant finds a text for each field, error and abort."""
    texts = await check_profile_flow_texts(
        hass,
        setup_integration,
        SUBENTRY_STT,
        (
            "Speech-to-text profile",
            "Add speech-to-text profile",
            "Reconfigure speech-to-text profile",
        ),
        (
            "invalid_model",
            "multilingual_unsupported",
            "keyterms_unsupported",
            "keyterms_too_long",
            "keyterms_bad_character",
            "endpointing_out_of_range",
            "name_taken",
        ),
    )
    assert texts["step.init.title"]
    assert texts["abort.reconfigure_successful"] == "The profile was saved."


# -- names --------------------------------------------------------------


def test_generated_names() -> None:
    """Names follow the model and the options that set a profile apart."""
    assert profile_name(RECOMMENDED_STT_OPTIONS) == DEFAULT_STT_NAME
    assert (
        profile_name(profile(model="nova-2", multilingual=True))
        == "Deepgram nova-2 (multilingual)"
    )
    assert (
        profile_name(profile(keyterms=["Anouk"], filler_words=True))
        == "Deepgram nova-3 (key terms, filler words)"
    )
    assert numbered_name("Deepgram nova-3", []) == "Deepgram nova-3"
    assert (
        numbered_name("Deepgram nova-3", ["deepgram NOVA-3", "Deepgram nova-3 2"])
        == "Deepgram nova-3 3"
    )
    defaults = dict(RECOMMENDED_STT_OPTIONS)
    assert is_generated_name("Deepgram nova-3", defaults)
    assert is_generated_name("Deepgram nova-3 12", defaults)
    assert not is_generated_name("Deepgram nova-3 x", defaults)
    assert not is_generated_name("Deepgram nova-3x", defaults)
    assert not is_generated_name("Kitchen", defaults)
    # Earlier versions named every profile "Deepgram nova-3".
    assert is_generated_name(DEFAULT_STT_NAME, profile(model="nova-2"))
    assert not is_generated_name("Deepgram nova-3 2", profile(model="nova-2"))


async def add_named(
    hass: HomeAssistant, entry: MockConfigEntry, name: str, **changes: Any
) -> dict[str, Any]:
    result = await start_subentry_flow(hass, entry, SUBENTRY_STT)
    result = await submit(
        hass, result["flow_id"], {CONF_NAME: name, **profile(**changes)}
    )
    await hass.async_block_till_done()  # the entry reloads with the profile
    return result


async def test_new_profiles_get_distinct_names(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Blank names follow the settings and are numbered; taken names refused."""
    entry = setup_integration
    result = await add_named(hass, entry, "")
    assert result["title"] == "Deepgram nova-3 2"
    result = await add_named(hass, entry, "  ")
    assert result["title"] == "Deepgram nova-3 3"
    result = await add_named(hass, entry, "", model="nova-2", multilingual=True)
    assert result["title"] == "Deepgram nova-2 (multilingual)"

    result = await add_named(hass, entry, " deepgram NOVA-2 (multilingual) ")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NAME: "name_taken"}
    assert suggested(result["data_schema"], CONF_NAME) == (
        "deepgram NOVA-2 (multilingual)"
    )
    result = await submit(hass, result["flow_id"], {CONF_NAME: "Kitchen", **profile()})
    assert result["title"] == "Kitchen"
    await hass.async_block_till_done()
    titles = [s.title for s in entry.subentries.values()]
    assert len(titles) == len(set(titles)) == 5
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert sorted(str(d.name) for d in devices) == sorted(titles)


async def test_old_default_name_follows_the_model(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """A nova-2 profile an earlier version named "Deepgram nova-3" is renamed."""
    server.api_key = None
    nova_2 = {**RECOMMENDED_STT_OPTIONS, CONF_MODEL: "nova-2"}
    entry = await set_up_entry(
        hass, entry_with_profiles(server, {DEFAULT_STT_NAME: nova_2}, api_key="")
    )
    subentry = stt_subentry(entry)
    result = await start_subentry_flow(hass, entry, SUBENTRY_STT, subentry.subentry_id)
    result = await submit(
        hass,
        result["flow_id"],
        {CONF_NAME: DEFAULT_STT_NAME, **profile(model="nova-2")},
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[subentry.subentry_id].title == "Deepgram nova-2"


async def test_reconfigure_renames(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Reconfigure renames; a chosen name stays; blank means generated."""
    entry = setup_integration
    await add_named(hass, entry, "Kitchen")
    await hass.async_block_till_done()
    kitchen = next(s for s in entry.subentries.values() if s.title == "Kitchen")

    result = await start_subentry_flow(hass, entry, SUBENTRY_STT, kitchen.subentry_id)
    assert suggested(result["data_schema"], CONF_NAME) == "Kitchen"
    result = await submit(
        hass, result["flow_id"], {CONF_NAME: DEFAULT_STT_NAME.upper(), **profile()}
    )
    assert result["errors"] == {CONF_NAME: "name_taken"}
    result = await submit(
        hass, result["flow_id"], {CONF_NAME: "Office", **profile(smart_format=True)}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[kitchen.subentry_id].title == "Office"
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, kitchen.subentry_id), entry.entry_id
    )
    assert device is not None
    assert device.name == "Office"

    # Its own name is not a duplicate; a chosen name survives new settings.
    result = await start_subentry_flow(hass, entry, SUBENTRY_STT, kitchen.subentry_id)
    result = await submit(
        hass, result["flow_id"], {CONF_NAME: "Office", **profile(model="nova-2")}
    )
    await hass.async_block_till_done()
    assert entry.subentries[kitchen.subentry_id].title == "Office"

    # Blank: named after the settings, numbered past the default profile.
    result = await start_subentry_flow(hass, entry, SUBENTRY_STT, kitchen.subentry_id)
    result = await submit(hass, result["flow_id"], {CONF_NAME: "", **profile()})
    await hass.async_block_till_done()
    assert entry.subentries[kitchen.subentry_id].title == "Deepgram nova-3 2"


# -- key terms ----------------------------------------------------------

ODD_TERMS = [
    "R&B",
    "a=b",
    "C#",
    "100%",
    "50%25",
    "Kodi\nTV",
    "model=flux&keyterm=x",
    "台所",
    "Küche",
    "Гостиная",
    "+ plus +",
]


async def test_odd_key_terms_arrive_as_typed(
    hass: HomeAssistant, setup_integration: MockConfigEntry, server: FakeDeepgram
) -> None:
    """`&`, `=`, `#`, `%`, newlines, other scripts: each term is one keyterm."""
    entry = setup_integration
    subentry = stt_subentry(entry)
    result = await start_subentry_flow(hass, entry, SUBENTRY_STT, subentry.subentry_id)
    result = await submit(
        hass, result["flow_id"], {CONF_NAME: "", **profile(keyterms=ODD_TERMS)}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    expected = [" ".join(term.split()) for term in ODD_TERMS]
    assert entry.subentries[subentry.subentry_id].data[CONF_KEYTERMS] == expected

    stt_entity = stt.async_get_speech_to_text_entity(hass, "stt.deepgram_nova_3")
    assert stt_entity is not None

    async def audio() -> AsyncIterator[bytes]:
        yield bytes(3200)

    await stt_entity.internal_async_process_audio_stream(METADATA, audio())
    (session,) = server.sessions
    assert session.query.getall("keyterm") == expected
    assert session.query.getall("model") == ["nova-3"]
    assert "flux" not in session.query.values()
    assert "x" not in session.query.values()


@pytest.mark.parametrize(
    ("terms", "error", "placeholder", "value"),
    [
        (["x" * 10_000], "keyterms_too_long", "tokens", "3334"),
        ([f"longword{n}" for n in range(499)], "keyterms_too_long", "tokens", None),
        ([f"w{n}" for n in range(800)], "keyterms_too_long", "query_bytes", None),
        (["Kodi\x00TV"], "keyterms_bad_character", "character", "U+0000"),
        (["Kodi\u200bTV"], "keyterms_bad_character", "character", "U+200B"),
        (["ok", "a\x1bb"], "keyterms_bad_character", "character", "U+001B"),
    ],
    ids=["one-huge", "499-long-words", "800-short", "nul", "zero-width", "escape"],
)
async def test_key_terms_bounded(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    terms: list[str],
    error: str,
    placeholder: str,
    value: str | None,
) -> None:
    """Terms beyond Deepgram's budget or the request line: a form error."""
    result = await add_named(hass, setup_integration, "Big", keyterms=terms)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_KEYTERMS: error}
    placeholders = result["description_placeholders"]
    assert placeholders["token_budget"] == "500"
    if value is not None:
        assert placeholders[placeholder] == value
    else:
        assert int(placeholders[placeholder]) > 0
    assert suggested(result["data_schema"], CONF_KEYTERMS) == [
        " ".join(term.split()) for term in terms
    ]
    assert len(setup_integration.subentries) == 1


def test_bad_characters() -> None:
    """Control and format characters are refused; blanks are squeezed later."""
    assert bad_character("Kodi\nTV\t") is None
    assert bad_character("台所 & Küche") is None
    assert bad_character("a\x00b") == "\x00"
    assert bad_character("a\x7fb") == "\x7f"
    assert bad_character("a\u200bb") == "\u200b"


def test_a_full_budget_fits_the_request_line() -> None:
    """With every other option set, a full key-term budget stays under
    aiohttp's 8,190-byte request line, whatever the terms' characters."""
    for pattern in ("Wörd{}%&=#", "w{}", "台所{}"):
        fitted = fit_terms(pattern.format(n) for n in range(5000))
        options = LiveOptions(
            model="nova-3-medical-experimental",
            language="en-US",
            punctuate=True,
            smart_format=True,
            numerals=True,
            profanity_filter=True,
            interim_results=True,
            endpointing=5000,
            utterance_end_ms=5000,
            vad_events=True,
            filler_words=True,
            mip_opt_out=True,
            keyterms=fitted.terms,
            tags=("home-assistant",),
        )
        url = URL("wss://deepgram.example.internal:8443/some/prefix/v1/listen")
        path = url.extend_query(options.query()).raw_path_qs
        assert len(f"GET {path} HTTP/1.1") <= 8190
