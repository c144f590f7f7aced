"""The voice profile subentry flow (type `tts`) against the local server's voices."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.const import CONF_API_KEY, CONF_LANGUAGE, CONF_NAME, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers.selector import LanguageSelector, SelectSelector
from homeassistant.helpers.translation import async_get_translations
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram.const import (
    CONF_EXPRESSIVITY,
    CONF_MIP_OPT_OUT,
    CONF_SPEED,
    CONF_VOICE,
    DEFAULT_STT_NAME,
    DOMAIN,
    RECOMMENDED_STT_OPTIONS,
    RECOMMENDED_TTS_OPTIONS,
    SECTION_ADVANCED,
    SUBENTRY_STT,
    SUBENTRY_TTS,
)
from tests.conftest import API_KEY, entry_with_profiles, set_up_entry
from tests.deepgram_server import FakeDeepgram, Faults
from tests.deepgram_server.speak_voices import Voice as ServerVoice, default_voices
from tests.flow_helpers import field, start_subentry_flow, submit, suggested

GERMAN = {"aura-2-aurelia-de", "aura-2-elara-de", "aura-2-julius-de"}


def form(**changes: Any) -> dict[str, Any]:
    """A complete voice form: the recommended voice with `changes` (None left out)."""
    values = {**RECOMMENDED_TTS_OPTIONS, **changes}
    return {key: value for key, value in values.items() if value is not None}


def languages_offered(schema: probatio.Schema) -> list[str]:
    """The languages the language step offers."""
    _, selector = field(schema, CONF_LANGUAGE)
    assert isinstance(selector, LanguageSelector)
    return list(selector.config["languages"])


def voices_offered(schema: probatio.Schema) -> dict[str, str]:
    """Model string -> label of the voices the voice step offers."""
    _, selector = field(schema, CONF_VOICE)
    assert isinstance(selector, SelectSelector)
    assert selector.config["custom_value"] is True
    return {
        str(option["value"]): str(option["label"])
        for option in selector.config["options"]
        if isinstance(option, dict)
    }


def fields(schema: probatio.Schema) -> list[str]:
    return [str(marker) for marker in schema.schema]


async def voice_step(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    language: str | None = None,
    subentry_id: str | None = None,
) -> dict[str, Any]:
    """Open the add (or reconfigure) flow, take `language` (or the one
    suggested), and return the voice step's form."""
    result = await start_subentry_flow(hass, entry, SUBENTRY_TTS, subentry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "language"
    if language is None:
        language = suggested(result["data_schema"], CONF_LANGUAGE)
    result = await submit(hass, result["flow_id"], {CONF_LANGUAGE: language})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "voice"
    return result


async def add_voice(
    hass: HomeAssistant, entry: MockConfigEntry, language: str = "en", **changes: Any
) -> dict[str, Any]:
    """Add a voice profile through the flow; the flow's end."""
    result = await voice_step(hass, entry, language)
    result = await submit(hass, result["flow_id"], form(**changes))
    await hass.async_block_till_done()
    return result


def subentry_titled(entry: MockConfigEntry, title: str) -> str:
    (subentry_id,) = [
        key for key, sub in entry.subentries.items() if sub.title == title
    ]
    return subentry_id


def entry_with_voice(
    server: FakeDeepgram, voice: dict[str, Any], title: str = "Mine"
) -> MockConfigEntry:
    """An entry with the default STT profile and one voice profile, not set up."""
    return entry_with_profiles(
        server, {DEFAULT_STT_NAME: dict(RECOMMENDED_STT_OPTIONS)}, voices={title: voice}
    )


# -- adding -------------------------------------------------------------


async def test_add_voice_with_defaults(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Language first (the voices' languages, Home Assistant's suggested), then
    that language's voices, labelled; Thalia at Deepgram's defaults, named
    after her, a second one numbered."""
    entry = setup_integration
    result = await start_subentry_flow(hass, entry, SUBENTRY_TTS)
    assert result["step_id"] == "language"
    schema = result["data_schema"]
    assert fields(schema) == [CONF_LANGUAGE]
    assert languages_offered(schema) == ["de", "en", "es", "fr", "it", "ja", "nl"]
    assert suggested(schema, CONF_LANGUAGE) == "en"  # hass.config.language

    result = await submit(hass, result["flow_id"], {CONF_LANGUAGE: "en"})
    schema = result["data_schema"]
    assert fields(schema) == [
        CONF_NAME,
        CONF_VOICE,
        CONF_SPEED,
        CONF_EXPRESSIVITY,  # English has Flux voices
        CONF_MIP_OPT_OUT,
    ]
    offered = voices_offered(schema)
    assert offered["aura-2-thalia-en"] == "Thalia (Aura-2, feminine, American)"
    assert offered["flux-haley-en"] == "Haley (Flux, feminine, American)"
    assert offered["aura-angus-en"] == "Angus (Aura, masculine, Irish)"
    assert not GERMAN & set(offered)
    assert len(offered) == 24  # 11 Aura-2, 5 Aura, 8 Flux
    assert suggested(schema, CONF_VOICE) == "aura-2-thalia-en"
    assert suggested(schema, CONF_SPEED) == 1.0
    assert suggested(schema, CONF_EXPRESSIVITY) is None
    assert suggested(schema, CONF_NAME) is None

    result = await submit(hass, result["flow_id"], form())
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Deepgram Thalia"
    assert result["data"] == RECOMMENDED_TTS_OPTIONS
    await hass.async_block_till_done()
    subentry = entry.subentries[subentry_titled(entry, "Deepgram Thalia")]
    assert subentry.subentry_type == SUBENTRY_TTS

    result = await add_voice(hass, entry)
    assert result["title"] == "Deepgram Thalia 2"


async def test_language_filters_the_voices(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """German offers only German voices, no expressivity (no Flux voice speaks
    it), and starts from an Aura-2 voice of it."""
    result = await voice_step(hass, setup_integration, "de")
    schema = result["data_schema"]
    assert set(voices_offered(schema)) == GERMAN
    assert CONF_EXPRESSIVITY not in fields(schema)
    assert suggested(schema, CONF_VOICE) == "aura-2-aurelia-de"
    result = await submit(hass, result["flow_id"], form(voice="aura-2-julius-de"))
    assert result["title"] == "Deepgram Julius"
    assert result["data"][CONF_VOICE] == "aura-2-julius-de"


@pytest.mark.parametrize(
    ("hass_language", "language"),
    [("de", "de"), ("es-419", "es"), ("fi", "en")],
)
async def test_language_follows_home_assistant(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    hass_language: str,
    language: str,
) -> None:
    """Home Assistant's language by primary subtag; English if no voice speaks it."""
    hass.config.language = hass_language
    result = await start_subentry_flow(hass, setup_integration, SUBENTRY_TTS)
    assert suggested(result["data_schema"], CONF_LANGUAGE) == language


async def test_no_english_voice(
    hass: HomeAssistant, config_entry: MockConfigEntry, server: FakeDeepgram
) -> None:
    """Without English the first language is suggested; its first voice is an
    Aura-2 voice whose main language it is, not a Flux voice, not a voice
    that only also speaks it."""
    german = [voice for voice in default_voices() if voice.canonical_name in GERMAN]
    server.voices = [
        *german,
        ServerVoice(
            "aura-2-anna-da", "anna", "aura-2", ("da", "de"), "Danish", "feminine"
        ),
        ServerVoice("flux-lena-de", "lena", "flux", ("de",), "German", "feminine"),
    ]
    entry = await set_up_entry(hass, config_entry)
    hass.config.language = "fi"
    result = await start_subentry_flow(hass, entry, SUBENTRY_TTS)
    assert languages_offered(result["data_schema"]) == ["da", "de"]
    assert suggested(result["data_schema"], CONF_LANGUAGE) == "da"
    result = await submit(hass, result["flow_id"], {CONF_LANGUAGE: "de"})
    schema = result["data_schema"]
    assert set(voices_offered(schema)) == {*GERMAN, "aura-2-anna-da", "flux-lena-de"}
    assert suggested(schema, CONF_VOICE) == "aura-2-aurelia-de"
    assert CONF_EXPRESSIVITY in fields(schema)  # Lena is a Flux voice


async def test_flux_voice_with_expressivity(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """A Flux voice keeps its speed step and a whole expressivity."""
    result = await add_voice(
        hass,
        setup_integration,
        voice="flux-haley-en",
        speed=0.55,
        expressivity=-2.0,
        mip_opt_out=True,
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Deepgram Haley"
    assert result["data"] == {
        CONF_VOICE: "flux-haley-en",
        CONF_SPEED: 0.55,
        CONF_EXPRESSIVITY: -2,
        CONF_MIP_OPT_OUT: True,
    }
    assert isinstance(result["data"][CONF_EXPRESSIVITY], int)


async def test_aura_voice_without_expressivity(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """An Aura voice at the ends of its range, expressivity left unset."""
    for voice, speed in (("aura-asteria-en", 0.7), ("aura-2-zeus-en", 1.5)):
        result = await add_voice(hass, setup_integration, voice=voice, speed=speed)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["data"][CONF_SPEED] == speed
        assert result["data"][CONF_EXPRESSIVITY] is None


async def test_custom_voice_typed(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """A voice model Deepgram does not list is taken when it names a voice,
    named after its voice part, and offered again when reconfigured."""
    entry = setup_integration
    result = await add_voice(hass, entry, voice=" aura-2-nova-en ", speed=1.234)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Deepgram Nova"
    assert result["data"][CONF_VOICE] == "aura-2-nova-en"
    assert result["data"][CONF_SPEED] == 1.23
    result = await voice_step(
        hass, entry, subentry_id=subentry_titled(entry, "Deepgram Nova")
    )
    offered = voices_offered(result["data_schema"])
    assert offered["aura-2-nova-en"] == "aura-2-nova-en"
    assert suggested(result["data_schema"], CONF_VOICE) == "aura-2-nova-en"


@pytest.mark.parametrize(
    ("changes", "errors", "placeholders"),
    [
        ({"voice": "nova-3"}, {CONF_VOICE: "unknown_voice"}, {}),
        ({"voice": "flux-general-en"}, {CONF_VOICE: "unknown_voice"}, {}),
        ({"voice": "Aura-2-Thalia-EN"}, {CONF_VOICE: "unknown_voice"}, {}),
        (
            {"speed": 0.6},
            {CONF_SPEED: "speed_out_of_range"},
            {"family": "Aura-2", "speed_min": "0.7", "speed_max": "1.5"},
        ),
        (
            {"voice": "aura-luna-en", "speed": 1.6},
            {CONF_SPEED: "speed_out_of_range"},
            {"family": "Aura", "speed_min": "0.7", "speed_max": "1.5"},
        ),
        (
            {"voice": "flux-cole-en", "speed": 0.45},
            {CONF_SPEED: "speed_out_of_range"},
            {"family": "Flux", "speed_min": "0.5", "speed_max": "1.5"},
        ),
        (
            {"voice": "flux-cole-en", "speed": 1.03},
            {CONF_SPEED: "speed_step"},
            {"speed_step": "0.05"},
        ),
        (
            {"voice": "flux-cole-en", "expressivity": 3},
            {CONF_EXPRESSIVITY: "expressivity_out_of_range"},
            {"expressivity_min": "-2", "expressivity_max": "2"},
        ),
        (
            {"voice": "flux-cole-en", "expressivity": 1.5},
            {CONF_EXPRESSIVITY: "expressivity_out_of_range"},
            {},
        ),
        ({"expressivity": 1}, {CONF_EXPRESSIVITY: "expressivity_flux_only"}, {}),
        (
            {"voice": "aura-luna-en", "speed": 0.5, "expressivity": -1},
            {
                CONF_SPEED: "speed_out_of_range",
                CONF_EXPRESSIVITY: "expressivity_flux_only",
            },
            {"family": "Aura"},
        ),
        ({CONF_NAME: "deepgram NOVA-3 "}, {CONF_NAME: "name_taken"}, {}),
    ],
)
async def test_invalid_voices_are_refused(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    changes: dict[str, Any],
    errors: dict[str, str],
    placeholders: dict[str, str],
) -> None:
    """Each refusal is on its field, its text gets the family's range, the
    form keeps what was typed, and nothing is saved."""
    entry = setup_integration
    result = await voice_step(hass, entry, "en")
    typed = {CONF_NAME: "Mine", **form(**changes)}
    result = await submit(hass, result["flow_id"], typed)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "voice"
    assert result["errors"] == errors
    assert placeholders.items() <= result["description_placeholders"].items()
    schema = result["data_schema"]
    assert suggested(schema, CONF_NAME) == typed[CONF_NAME].strip()
    assert suggested(schema, CONF_VOICE) == typed[CONF_VOICE]
    assert suggested(schema, CONF_SPEED) == typed[CONF_SPEED]
    assert [s.subentry_type for s in entry.subentries.values()] == [SUBENTRY_STT]


async def test_refused_voice_then_fixed(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """After an unknown voice the form still offers the language's voices (and
    the typed text), and the fixed form saves."""
    result = await voice_step(hass, setup_integration, "de")
    result = await submit(hass, result["flow_id"], form(voice="nova-3"))
    assert result["errors"] == {CONF_VOICE: "unknown_voice"}
    assert set(voices_offered(result["data_schema"])) == {*GERMAN, "nova-3"}
    assert CONF_EXPRESSIVITY not in fields(result["data_schema"])
    result = await submit(hass, result["flow_id"], form(voice="aura-2-elara-de"))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Deepgram Elara"


@pytest.mark.parametrize("speed", ["nan", "fast"])
async def test_speed_must_be_a_number(
    hass: HomeAssistant, setup_integration: MockConfigEntry, speed: str
) -> None:
    """A speed that is no number is refused by the form itself."""
    result = await voice_step(hass, setup_integration, "en")
    with pytest.raises(InvalidData):
        await submit(hass, result["flow_id"], form(speed=speed))


async def test_unknown_language_is_refused(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Only the voices' languages can be chosen."""
    result = await start_subentry_flow(hass, setup_integration, SUBENTRY_TTS)
    with pytest.raises(InvalidData):
        await submit(hass, result["flow_id"], {CONF_LANGUAGE: "fi"})


# -- reconfiguring ------------------------------------------------------


async def test_reconfigure_prefills_and_renames(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Reconfigure starts in the voice's language with its values; an unchanged
    generated name follows a new voice, a typed one stays."""
    entry = setup_integration
    await add_voice(hass, entry, voice="flux-haley-en", speed=1.2, expressivity=1)
    haley = subentry_titled(entry, "Deepgram Haley")

    result = await start_subentry_flow(hass, entry, SUBENTRY_TTS, haley)
    assert suggested(result["data_schema"], CONF_LANGUAGE) == "en"
    result = await submit(hass, result["flow_id"], {CONF_LANGUAGE: "en"})
    schema = result["data_schema"]
    assert suggested(schema, CONF_NAME) == "Deepgram Haley"
    assert suggested(schema, CONF_VOICE) == "flux-haley-en"
    assert suggested(schema, CONF_SPEED) == 1.2
    assert suggested(schema, CONF_EXPRESSIVITY) == 1
    result = await submit(
        hass,
        result["flow_id"],
        {CONF_NAME: "Deepgram Haley", **form(voice="flux-cole-en", expressivity=2)},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.subentries[haley].title == "Deepgram Cole"
    assert dict(entry.subentries[haley].data) == {
        **RECOMMENDED_TTS_OPTIONS,
        CONF_VOICE: "flux-cole-en",
        CONF_EXPRESSIVITY: 2,
    }

    result = await voice_step(hass, entry, subentry_id=haley)
    result = await submit(hass, result["flow_id"], {CONF_NAME: "Kitchen", **form()})
    await hass.async_block_till_done()
    assert entry.subentries[haley].title == "Kitchen"
    result = await voice_step(hass, entry, subentry_id=haley)
    assert suggested(result["data_schema"], CONF_NAME) == "Kitchen"
    result = await submit(
        hass, result["flow_id"], {CONF_NAME: "Kitchen", **form(voice="aura-2-zeus-en")}
    )
    await hass.async_block_till_done()
    assert entry.subentries[haley].title == "Kitchen"  # chosen: kept
    assert entry.subentries[haley].data[CONF_VOICE] == "aura-2-zeus-en"

    result = await voice_step(hass, entry, subentry_id=haley)
    result = await submit(hass, result["flow_id"], form(voice="aura-2-zeus-en"))
    await hass.async_block_till_done()
    assert entry.subentries[haley].title == "Deepgram Zeus"  # emptied: generated


async def test_reconfigure_keeps_a_numbered_name(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """`Deepgram Thalia 2` stays so while `Deepgram Thalia` exists; it is not
    taken by itself, and another profile's name is."""
    entry = setup_integration
    await add_voice(hass, entry)
    await add_voice(hass, entry)
    second = subentry_titled(entry, "Deepgram Thalia 2")
    result = await voice_step(hass, entry, subentry_id=second)
    result = await submit(
        hass, result["flow_id"], {CONF_NAME: "Deepgram Thalia", **form()}
    )
    assert result["errors"] == {CONF_NAME: "name_taken"}
    result = await submit(
        hass, result["flow_id"], {CONF_NAME: "Deepgram Thalia 2", **form(speed=0.9)}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.subentries[second].title == "Deepgram Thalia 2"
    assert entry.subentries[second].data[CONF_SPEED] == 0.9


async def test_reconfigure_into_another_language(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Choosing another language starts from its first voice, without the old
    voice's expressivity; the generated name follows."""
    entry = setup_integration
    await add_voice(hass, entry, voice="flux-haley-en", expressivity=2)
    haley = subentry_titled(entry, "Deepgram Haley")
    result = await voice_step(hass, entry, "de", subentry_id=haley)
    schema = result["data_schema"]
    assert set(voices_offered(schema)) == GERMAN
    assert suggested(schema, CONF_VOICE) == "aura-2-aurelia-de"
    assert CONF_EXPRESSIVITY not in fields(schema)
    result = await submit(
        hass,
        result["flow_id"],
        {CONF_NAME: "Deepgram Haley", **form(voice="aura-2-aurelia-de")},
    )
    await hass.async_block_till_done()
    assert entry.subentries[haley].title == "Deepgram Aurelia"
    assert dict(entry.subentries[haley].data) == {
        **RECOMMENDED_TTS_OPTIONS,
        CONF_VOICE: "aura-2-aurelia-de",
    }


async def test_reconfigure_custom_voice_of_unlisted_language(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """A typed voice in a language no listed voice speaks: that language is
    offered and chosen, with the voice alone, named after it."""
    voice = {**RECOMMENDED_TTS_OPTIONS, CONF_VOICE: "flux-lia-pt-br"}
    entry = await set_up_entry(hass, entry_with_voice(server, voice))
    mine = subentry_titled(entry, "Mine")
    result = await start_subentry_flow(hass, entry, SUBENTRY_TTS, mine)
    assert "pt" in languages_offered(result["data_schema"])
    assert suggested(result["data_schema"], CONF_LANGUAGE) == "pt"
    result = await submit(hass, result["flow_id"], {CONF_LANGUAGE: "pt"})
    schema = result["data_schema"]
    assert voices_offered(schema) == {"flux-lia-pt-br": "flux-lia-pt-br"}
    assert CONF_EXPRESSIVITY in fields(schema)  # the voice is a Flux voice
    result = await submit(hass, result["flow_id"], form(voice="flux-lia-pt-br"))
    await hass.async_block_till_done()
    assert entry.subentries[mine].title == "Deepgram Lia"


async def test_reconfigure_stored_voice_that_names_none(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """A stored voice that is no voice model (edited by hand) starts from Home
    Assistant's language; a name generated from it follows the new voice."""
    voice = {**RECOMMENDED_TTS_OPTIONS, CONF_VOICE: "bogus"}
    entry = await set_up_entry(hass, entry_with_voice(server, voice, "Deepgram bogus"))
    mine = subentry_titled(entry, "Deepgram bogus")
    result = await start_subentry_flow(hass, entry, SUBENTRY_TTS, mine)
    assert "bogus" not in languages_offered(result["data_schema"])
    assert suggested(result["data_schema"], CONF_LANGUAGE) == "en"
    result = await submit(hass, result["flow_id"], {CONF_LANGUAGE: "en"})
    assert suggested(result["data_schema"], CONF_VOICE) == "aura-2-thalia-en"
    result = await submit(
        hass, result["flow_id"], {CONF_NAME: "Deepgram bogus", **form()}
    )
    await hass.async_block_till_done()
    assert entry.subentries[mine].title == "Deepgram Thalia"


# -- entry not loaded ---------------------------------------------------


async def test_entry_not_loaded(hass: HomeAssistant, server: FakeDeepgram) -> None:
    """Without a loaded entry the voices are unknown: add and reconfigure
    abort, and so does a flow whose entry unloads between its steps."""
    entry = entry_with_voice(server, dict(RECOMMENDED_TTS_OPTIONS))
    entry.add_to_hass(hass)
    mine = subentry_titled(entry, "Mine")
    for subentry_id in (None, mine):
        result = await start_subentry_flow(hass, entry, SUBENTRY_TTS, subentry_id)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "entry_not_loaded"

    for step in ("language", "voice"):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        result = await start_subentry_flow(hass, entry, SUBENTRY_TTS)
        if step == "voice":
            result = await submit(hass, result["flow_id"], {CONF_LANGUAGE: "en"})
        assert result["step_id"] == step
        assert await hass.config_entries.async_unload(entry.entry_id)
        answer = {CONF_LANGUAGE: "en"} if step == "language" else form()
        result = await submit(hass, result["flow_id"], answer)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "entry_not_loaded"
    assert len(entry.subentries) == 2


# -- a new entry's first voice ------------------------------------------


async def create_entry(hass: HomeAssistant, server: FakeDeepgram) -> ConfigEntry:
    """Add a Deepgram entry through the config flow's user step."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_API_KEY: API_KEY, SECTION_ADVANCED: {CONF_URL: server.base_url}},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert isinstance(entry, ConfigEntry)
    return entry


def voices_of(entry: ConfigEntry) -> dict[str, dict[str, Any]]:
    """Title -> data of the entry's voice profiles."""
    return {
        sub.title: dict(sub.data)
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_TTS
    }


@pytest.mark.parametrize(
    ("hass_language", "voices"),
    [
        ("en-GB", {"Deepgram Thalia": RECOMMENDED_TTS_OPTIONS}),
        (
            "de",
            {
                "Deepgram Aurelia": {
                    **RECOMMENDED_TTS_OPTIONS,
                    CONF_VOICE: "aura-2-aurelia-de",
                }
            },
        ),
        ("fi", {}),
    ],
)
async def test_new_entry_gets_a_voice_in_home_assistants_language(
    hass: HomeAssistant,
    server: FakeDeepgram,
    hass_language: str,
    voices: dict[str, dict[str, Any]],
) -> None:
    """Beside its STT profile a new entry gets one voice speaking Home
    Assistant's language (Thalia for English, an Aura-2 voice otherwise);
    none when no voice speaks it."""
    hass.config.language = hass_language
    entry = await create_entry(hass, server)
    listening = [
        s.title for s in entry.subentries.values() if s.subentry_type == SUBENTRY_STT
    ]
    assert listening == [DEFAULT_STT_NAME]
    assert voices_of(entry) == voices
    assert len(entry.subentries) == 1 + len(voices)


async def test_new_entrys_voice_from_deepgrams_list(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """The first voice is one Deepgram lists for the key; the built-in ones
    stand in when the list cannot be read."""
    server.voices = [
        ServerVoice(
            "aura-2-greta-de", "greta", "aura-2", ("de",), "German", "feminine"
        ),
        *[voice for voice in default_voices() if voice.family == "flux"],
    ]
    hass.config.language = "de"
    entry = await create_entry(hass, server)
    assert list(voices_of(entry)) == ["Deepgram Greta"]
    listed = [r for r in server.rest_requests if r.path == "/v1/models"]
    assert listed[0].headers["Authorization"] == f"Token {API_KEY}"

    assert await hass.config_entries.async_remove(entry.entry_id)
    server.faults = Faults(models_status=503)
    entry = await create_entry(hass, server)
    assert list(voices_of(entry)) == ["Deepgram Aurelia"]


# -- texts --------------------------------------------------------------


async def test_every_text_of_the_voice_flow_exists(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Home Assistant finds the type's name, both titles, each step's title and
    every field's label and description, each error and abort."""
    translations = await async_get_translations(
        hass, "en", "config_subentries", {DOMAIN}
    )
    prefix = f"component.{DOMAIN}.config_subentries.{SUBENTRY_TTS}."
    texts = {
        key.removeprefix(prefix): text
        for key, text in translations.items()
        if key.startswith(prefix)
    }
    assert texts["entry_type"] == "Voice"
    assert texts["initiate_flow.user"] == "Add voice"
    assert texts["initiate_flow.reconfigure"] == "Reconfigure voice"
    result = await start_subentry_flow(hass, setup_integration, SUBENTRY_TTS)
    language = result["data_schema"]
    result = await submit(hass, result["flow_id"], {CONF_LANGUAGE: "en"})
    for step, schema in (("language", language), ("voice", result["data_schema"])):
        assert texts[f"step.{step}.title"]
        assert texts[f"step.{step}.description"]
        for name in fields(schema):
            assert texts[f"step.{step}.data.{name}"]
            assert texts[f"step.{step}.data_description.{name}"]
    placeholders = result["description_placeholders"]
    for error in (
        "unknown_voice",
        "speed_out_of_range",
        "speed_step",
        "expressivity_out_of_range",
        "expressivity_flux_only",
        "name_taken",
    ):
        text = texts[f"error.{error}"]
        assert text.format(**placeholders)  # every placeholder is given
    assert texts["abort.entry_not_loaded"]
    assert texts["abort.reconfigure_successful"]


async def test_reconfigure_keeps_a_voice_of_several_languages(
    hass: HomeAssistant, config_entry: MockConfigEntry, server: FakeDeepgram
) -> None:
    """A voice Deepgram lists for Danish and German, chosen in German: its
    Reconfigure starts in German (Home Assistant's language, which it speaks)
    and keeps it when German is chosen again; it is not swapped for another."""
    server.voices = [
        *default_voices(),
        ServerVoice(
            "aura-2-anna-da", "anna", "aura-2", ("da", "de"), "Danish", "feminine"
        ),
    ]
    hass.config.language = "de"
    entry = await set_up_entry(hass, config_entry)
    result = await voice_step(hass, entry, "de")
    result = await submit(hass, result["flow_id"], form(voice="aura-2-anna-da"))
    await hass.async_block_till_done()
    anna = subentry_titled(entry, "Deepgram Anna")
    result = await start_subentry_flow(hass, entry, SUBENTRY_TTS, anna)
    assert suggested(result["data_schema"], CONF_LANGUAGE) == "de"
    result = await submit(hass, result["flow_id"], {CONF_LANGUAGE: "de"})
    assert suggested(result["data_schema"], CONF_VOICE) == "aura-2-anna-da"
    # In another Home Assistant language, it starts at the voice's own.
    hass.config.language = "fr"
    result = await start_subentry_flow(hass, entry, SUBENTRY_TTS, anna)
    assert suggested(result["data_schema"], CONF_LANGUAGE) == "da"


async def test_another_language_starts_at_its_defaults(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """A Flux voice at speed 0.5 moved to German: the German voice starts at
    speed 1.0 (0.5 is out of Aura-2's range) and without expressivity."""
    entry = setup_integration
    await add_voice(hass, entry, voice="flux-haley-en", speed=0.5, expressivity=2)
    haley = subentry_titled(entry, "Deepgram Haley")
    result = await voice_step(hass, entry, "de", subentry_id=haley)
    assert suggested(result["data_schema"], CONF_SPEED) == 1.0
    result = await submit(
        hass,
        result["flow_id"],
        {CONF_NAME: "Deepgram Haley", **form(voice="aura-2-aurelia-de")},
    )
    assert result["reason"] == "reconfigure_successful"
    data = entry.subentries[haley].data
    assert (data[CONF_VOICE], data[CONF_SPEED], data[CONF_EXPRESSIVITY]) == (
        "aura-2-aurelia-de",
        1.0,
        None,
    )
