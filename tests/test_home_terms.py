"""Your home's own words: names exposed to Assist go to Deepgram as key terms.

Each test drives the real Home Assistant (registries, exposure settings, the
assist pipeline) and reads the `keyterm` parameters the local Deepgram server
received on the wire.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.components.assist_pipeline import PipelineEvent
from homeassistant.components.assist_pipeline.models import PipelineStage
from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
)
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.deepgram import home_terms
from custom_components.deepgram.const import (
    CONF_HOME_TERMS,
    CONF_KEYTERMS,
    CONF_MODEL,
    DOMAIN,
    RECOMMENDED_STT_OPTIONS,
    SUBENTRY_STT,
)
from custom_components.deepgram.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.deepgram.home_terms import REBUILD_DELAY
from custom_components.deepgram.term_budget import TOKEN_BUDGET, count_tokens
from tests.conftest import API_KEY
from tests.deepgram_server import FakeDeepgram, script_from_text

from .pipeline_helpers import chunks, run_pipeline, setup_pipeline

CONVERSATION = "conversation"
# One second of silence: the server's script answers "hello".
PCM = b"\x00\x00" * 16000


def profile(**changes: Any) -> ConfigSubentryData:
    return ConfigSubentryData(
        data={**RECOMMENDED_STT_OPTIONS, **changes},
        subentry_type=SUBENTRY_STT,
        title="Deepgram nova-3",
        unique_id=None,
    )


def make_entry(server: FakeDeepgram, *profiles: ConfigSubentryData) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Deepgram",
        data={CONF_API_KEY: API_KEY, CONF_URL: server.base_url},
        subentries_data=list(profiles),
    )


async def add_booleans(hass: HomeAssistant, names: dict[str, str]) -> None:
    """Entities with registry entries (input booleans), exposed to Assist."""
    config = {key: {"name": name} for key, name in names.items()}
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": config})
    await hass.async_block_till_done()
    for key in names:
        async_expose_entity(hass, CONVERSATION, f"input_boolean.{key}", True)


async def start(
    hass: HomeAssistant,
    server: FakeDeepgram,
    booleans: dict[str, str],
    *profiles: ConfigSubentryData,
) -> tuple[MockConfigEntry, str]:
    """Assist (with the pipeline's Kitchen light), entities, then our entry."""
    server.script = script_from_text("hello", start=0.05, end=0.2)
    pipeline_id = await setup_pipeline(hass)
    await add_booleans(hass, booleans)
    # The pipeline's light starts hidden from Assist; tests expose it.
    async_expose_entity(hass, CONVERSATION, "light.kitchen_light", False)
    entry = make_entry(server, *(profiles or (profile(keyterms=["Anouk"]),)))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # Our own entity's arrival schedules a rebuild: let it pass, so that
    # each test's change is the only one.
    await settle(hass)
    return entry, pipeline_id


async def sent_keyterms(
    hass: HomeAssistant, server: FakeDeepgram, pipeline_id: str
) -> list[str] | None:
    """Run the pipeline's STT once; the `keyterm` values Deepgram received."""
    before = len(server.handshakes)
    events: list[PipelineEvent] = []
    await run_pipeline(
        hass, pipeline_id, chunks(PCM), events, end_stage=PipelineStage.STT
    )
    handshake = server.handshakes[before]
    assert handshake.status == 101, events
    await server.wait_for_sessions_closed()
    if "keyterm" not in handshake.query:
        return None
    return handshake.query.getall("keyterm")


async def settle(hass: HomeAssistant) -> None:
    """Let the debounced rebuild run."""
    async_fire_time_changed(
        hass, dt_util.utcnow() + timedelta(seconds=REBUILD_DELAY + 1)
    )
    await hass.async_block_till_done()


async def test_names_follow_the_home(hass: HomeAssistant, server: FakeDeepgram) -> None:
    """Exposing, renaming, aliasing, un-exposing, areas, floors: on the wire.

    Each change is made alone, so each kind of change is shown to be followed.
    """
    _, pipeline_id = await start(
        hass, server, {"kallax": "Kallax lamp", "bubbles": "Bubbles", "fan": "Fan"}
    )
    ents = er.async_get(hass)
    # The profile's own term first; "Fan" is a plain word and skipped.
    terms = ["Anouk", "Bubbles", "Kallax lamp"]
    assert await sent_keyterms(hass, server, pipeline_id) == terms

    async_expose_entity(hass, CONVERSATION, "light.kitchen_light", True)
    # A run right after a change uses the list as it is: nothing on its path.
    assert await sent_keyterms(hass, server, pipeline_id) == terms
    await settle(hass)
    terms = ["Anouk", "Bubbles", "Kallax lamp", "Kitchen light"]
    assert await sent_keyterms(hass, server, pipeline_id) == terms

    ents.async_update_entity("input_boolean.kallax", name="Oma's Kallax")
    await settle(hass)
    terms = ["Anouk", "Bubbles", "Oma's Kallax", "Kitchen light"]
    assert await sent_keyterms(hass, server, pipeline_id) == terms

    ents.async_update_entity(
        "input_boolean.bubbles", aliases=[er.COMPUTED_NAME, "the fish tank"]
    )
    await settle(hass)
    # Aliases people chose come before the names entities were given.
    terms = ["Anouk", "the fish tank", "Bubbles", "Oma's Kallax", "Kitchen light"]
    assert await sent_keyterms(hass, server, pipeline_id) == terms

    async_expose_entity(hass, CONVERSATION, "input_boolean.kallax", False)
    await settle(hass)
    terms = ["Anouk", "the fish tank", "Bubbles", "Kitchen light"]
    assert await sent_keyterms(hass, server, pipeline_id) == terms

    areas = ar.async_get(hass)
    area = areas.async_create("Oma's room", aliases={"Granny flat"})
    areas.async_create("Kitchen")  # a plain word
    await settle(hass)
    # Area names with the aliases; area aliases with the floors, last.
    terms = ["Anouk", "the fish tank", "Oma's room", "Bubbles", "Kitchen light"]
    terms.append("Granny flat")
    assert await sent_keyterms(hass, server, pipeline_id) == terms

    floor = fr.async_get(hass).async_create("Dachgeschoss", aliases={"attic floor"})
    await settle(hass)
    terms = [*terms, "Dachgeschoss", "attic floor"]
    assert await sent_keyterms(hass, server, pipeline_id) == terms

    areas.async_update(area.id, floor_id=floor.floor_id, name="Oma's den")
    await settle(hass)
    terms[terms.index("Oma's room")] = "Oma's den"
    assert await sent_keyterms(hass, server, pipeline_id) == terms


async def test_device_rename_and_entity_removal(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """A device's new name and an entity that is gone are followed too."""
    entry, pipeline_id = await start(hass, server, {"bubbles": "Bubbles"})
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "tank")}, name="Tank"
    )
    ents = er.async_get(hass)
    ents.async_update_entity("input_boolean.bubbles", device_id=device.id)
    await settle(hass)
    assert await sent_keyterms(hass, server, pipeline_id) == ["Anouk", "Tank Bubbles"]
    dr.async_get(hass).async_update_device(device.id, name_by_user="Aquarium")
    await settle(hass)
    sent = await sent_keyterms(hass, server, pipeline_id)
    assert sent == ["Anouk", "Aquarium Bubbles"]

    hass.states.async_set("sensor.zyxel_router", "on", {"friendly_name": "Zyxel"})
    async_expose_entity(hass, CONVERSATION, "sensor.zyxel_router", True)
    await settle(hass)
    assert await sent_keyterms(hass, server, pipeline_id) == [
        "Anouk",
        "Aquarium Bubbles",
        "Zyxel",
    ]
    hass.states.async_remove("sensor.zyxel_router")
    await settle(hass)
    assert await sent_keyterms(hass, server, pipeline_id) == [
        "Anouk",
        "Aquarium Bubbles",
    ]


async def test_budget_holds_with_hundreds_of_entities(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Own terms, then aliases and areas, then entity names, then the rest;
    no repeats; never over the budget."""
    booleans = {f"gadget_{i:03}": f"Zorblax gadget {i:03}" for i in range(300)}
    booleans |= {"anouk": "ANOUK", "a_twin": "Sonos Arc", "b_twin": "sonos arc"}
    booleans |= {"zz_tank": "Aquarium"}
    own = ["Anouk", "Quetzalcoatl sensor"]
    entry, pipeline_id = await start(hass, server, booleans, profile(keyterms=own))
    er.async_get(hass).async_update_entity(
        "input_boolean.zz_tank", aliases=[er.COMPUTED_NAME, "Bubbles"]
    )
    ar.async_get(hass).async_create("Oma's room", aliases={"Granny flat"})
    floors = fr.async_get(hass)
    for i in range(40):
        floors.async_create(f"Floor Number {i}")
    await settle(hass)

    sent = await sent_keyterms(hass, server, pipeline_id)
    assert sent is not None
    # The alias and the area name come before 300 entity names.
    assert sent[:4] == [*own, "Bubbles", "Oma's room"]
    assert "Aquarium" not in sent  # the name of the last entity, by id
    assert "Granny flat" not in sent
    assert sum(count_tokens(term) for term in sent) <= TOKEN_BUDGET
    folded = [term.casefold() for term in sent]
    assert len(folded) == len(set(folded))
    assert "ANOUK" not in sent
    assert "Sonos Arc" in sent
    assert "sonos arc" not in sent
    assert not any(term.startswith("Floor Number") for term in sent)

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    keyterms = diagnostics["keyterms"]
    (shown,) = keyterms["profiles"].values()
    assert shown["terms"] == sent
    assert shown["tokens"] == sum(count_tokens(term) for term in sent)
    assert shown["tokens"] <= shown["token_budget"] == TOKEN_BUDGET
    assert "Floor Number 0" in shown["left_out"]
    assert "Zorblax gadget 299" in shown["left_out"]
    assert shown["home_terms"] is True
    assert keyterms["language"] == "en"
    assert keyterms["collected"] == 305 + 2 + 40
    assert keyterms["built"] is not None


async def test_names_round_trip_as_separate_parameters(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Spaces, apostrophes, &, =, + and other scripts arrive as sent."""
    names = {
        "a": "Oma's Kallax lamp",
        "b": "Tom & Jerry",
        "c": "x=1&keyterm=injected",
        "d": "Plus+Minus 100%",
        "e": "客厅灯",
        "f": "Ночник Дениса",
        "g": "Ñandú #2?",
    }
    _, pipeline_id = await start(hass, server, names)
    sent = await sent_keyterms(hass, server, pipeline_id)
    assert sent == ["Anouk", *names.values()]
    assert "injected" not in sent
    handshake = server.handshakes[-1]
    assert [key for key, _ in handshake.query.items()].count("keyterm") == len(sent)
    assert "x" not in handshake.query


async def test_option_off_sends_only_own_terms(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """With the option off the home's names stay home; nova-2 sends none."""
    off = profile(keyterms=["Anouk"], home_terms=False)
    _, pipeline_id = await start(hass, server, {"kallax": "Kallax lamp"}, off)
    assert await sent_keyterms(hass, server, pipeline_id) == ["Anouk"]
    ar.async_get(hass).async_create("Oma's room")
    await settle(hass)
    assert await sent_keyterms(hass, server, pipeline_id) == ["Anouk"]


async def test_models_without_key_terms_send_none(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """nova-2 takes no key terms: none on the wire, whatever the option says."""
    nova2 = profile(model="nova-2", home_terms=True)
    entry, pipeline_id = await start(hass, server, {"kallax": "Kallax lamp"}, nova2)
    assert await sent_keyterms(hass, server, pipeline_id) is None
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    (shown,) = diagnostics["keyterms"]["profiles"].values()
    assert shown == {
        "title": "Deepgram nova-3",
        "home_terms": False,
        "terms": [],
        "tokens": 0,
        "token_budget": TOKEN_BUDGET,
        "left_out": [],
    }
    # Nothing is collected: no profile uses the home's names.
    assert diagnostics["keyterms"]["built"] is None


async def test_diagnostics_show_skipped_plain_words(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Plain words are listed as skipped, not sent."""
    entry, pipeline_id = await start(
        hass, server, {"fan": "Fan", "tv": "TV", "kallax": "Kallax lamp"}
    )
    ar.async_get(hass).async_create("Kitchen", aliases={"Cuisine"})
    await settle(hass)
    assert await sent_keyterms(hass, server, pipeline_id) == [
        "Anouk",
        "Kallax lamp",
        "Cuisine",
    ]
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["keyterms"]["skipped_plain_words"] == ["Kitchen", "Fan", "TV"]


async def test_a_failed_rebuild_keeps_the_list(
    hass: HomeAssistant,
    server: FakeDeepgram,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A rebuild that fails is logged; runs go on with the list as it was."""
    _, pipeline_id = await start(hass, server, {"kallax": "Kallax lamp"})

    def broken(hass: HomeAssistant, plain_words: frozenset[str]) -> None:
        raise RuntimeError("registry trouble")

    monkeypatch.setattr(home_terms, "collect_home_words", broken)
    ar.async_get(hass).async_create("Oma's room")
    await settle(hass)
    assert "Could not collect the home's names" in caplog.text
    assert await sent_keyterms(hass, server, pipeline_id) == ["Anouk", "Kallax lamp"]


async def test_without_exposure_settings_only_areas(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Set up before Home Assistant's exposure settings exist: no entities."""
    ar.async_get(hass).async_create("Oma's room")
    hass.states.async_set("light.kallax", "on", {"friendly_name": "Kallax lamp"})
    entry = make_entry(server, profile())
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    book = entry.runtime_data.keyterms
    subentry_id = next(iter(entry.subentries))
    assert book.terms(subentry_id) == ("Oma's room",)
    assert book.terms("unknown") is None


async def test_unload_stops_following(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """After unload no change triggers a rebuild."""
    entry, _ = await start(hass, server, {"kallax": "Kallax lamp"})
    book = entry.runtime_data.keyterms
    built = book.built
    assert await hass.config_entries.async_unload(entry.entry_id)
    ar.async_get(hass).async_create("Oma's room")
    await settle(hass)
    assert book.built == built
    assert "Oma's room" not in book.words.specific


@pytest.mark.parametrize(
    ("model", "offered"),
    [("nova-3", True), ("nova-3-medical", True), ("nova-2", False)],
)
async def test_form_offers_the_option_for_key_term_models(
    hass: HomeAssistant, server: FakeDeepgram, model: str, offered: bool
) -> None:
    """Reconfiguring: the option is there for nova-3, not for nova-2; saved."""
    entry = make_entry(server, profile(model=model))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    subentry_id = next(iter(entry.subentries))
    result = await entry.start_subentry_reconfigure_flow(hass, subentry_id)
    schema = result["data_schema"]
    assert schema is not None
    fields = [str(marker) for marker in schema.schema]
    assert (CONF_HOME_TERMS in fields) is offered
    form: dict[str, Any] = {
        key: value
        for key, value in RECOMMENDED_STT_OPTIONS.items()
        if key in fields and key != CONF_KEYTERMS
    }
    form[CONF_MODEL] = model
    if offered:
        form[CONF_HOME_TERMS] = False
    done = await hass.config_entries.subentries.async_configure(result["flow_id"], form)
    await hass.async_block_till_done()
    assert done["reason"] == "reconfigure_successful"
    assert entry.subentries[subentry_id].data[CONF_HOME_TERMS] is not offered


async def test_entities_not_exposed_are_not_sent(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Entities not exposed to Assist are never sent, though they exist."""
    _, pipeline_id = await start(hass, server, {"kallax": "Kallax lamp"})
    async_expose_entity(hass, CONVERSATION, "input_boolean.kallax", False)
    await settle(hass)
    state = hass.states.get("input_boolean.kallax")
    assert state is not None
    assert state.name == "Kallax lamp"
    assert await sent_keyterms(hass, server, pipeline_id) == ["Anouk"]


async def test_each_profile_has_its_own_list(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Own terms first in each; the option off gets only its own; a Flux
    profile's list is ready in the runtime data for its sessions."""
    entry, _ = await start(
        hass,
        server,
        {"kallax": "Kallax lamp"},
        profile(keyterms=["Anouk"]),
        profile(keyterms=["Bente"], home_terms=False),
        profile(model="flux-general-en", keyterms=["Cato"]),
    )
    first, second, flux = entry.subentries
    book = entry.runtime_data.keyterms
    assert book.terms(first) == ("Anouk", "Kallax lamp")
    assert book.terms(second) == ("Bente",)
    assert book.terms(flux) == ("Cato", "Kallax lamp")
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    profiles = diagnostics["keyterms"]["profiles"]
    assert profiles[first]["terms"] == ["Anouk", "Kallax lamp"]
    assert profiles[second]["terms"] == ["Bente"]
    assert profiles[second]["home_terms"] is False


async def test_language_change_reloads_plain_words(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Plain words follow Home Assistant's language ("Licht" is German)."""
    entry, pipeline_id = await start(hass, server, {"licht": "Licht"})
    assert await sent_keyterms(hass, server, pipeline_id) == ["Anouk", "Licht"]
    await hass.config.async_update(language="de")
    await hass.async_block_till_done()
    await settle(hass)
    assert await sent_keyterms(hass, server, pipeline_id) == ["Anouk"]
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["keyterms"]["language"] == "de"
    assert diagnostics["keyterms"]["skipped_plain_words"] == ["Licht"]
