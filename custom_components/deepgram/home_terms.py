"""Your home's own words: key terms from what Home Assistant exposes to Assist.

Names and aliases of the entities exposed to the conversation assistant, of
areas and of floors are collected, plain words skipped, and each profile's
list (its own terms first) fitted into Deepgram's budget. The lists are
rebuilt in the background, a moment after a registry or the exposure
settings change; a pipeline run only reads the list as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from homeassistant.components.homeassistant.const import DATA_EXPOSED_ENTITIES
from homeassistant.components.homeassistant.exposed_entities import (
    async_listen_entity_updates,
    async_should_expose,
)
from homeassistant.const import EVENT_CORE_CONFIG_UPDATE, EVENT_STATE_CHANGED
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
    intent,
)
from homeassistant.helpers.debounce import Debouncer
from homeassistant.util import dt as dt_util

from .api import is_nova3_or_flux
from .const import CONF_HOME_TERMS, CONF_KEYTERMS, CONF_MODEL, LOGGER
from .plain_words import is_plain, load_plain_words
from .term_budget import TOKEN_BUDGET, FittedTerms, fit_terms

ASSISTANT = "conversation"
REBUILD_DELAY = 2.0  # seconds of quiet after a change before rebuilding
_ENTITY_FIELDS = frozenset(
    {"aliases", "name", "original_name", "device_id", "entity_id", "hidden_by"}
)
_DEVICE_FIELDS = frozenset({"name", "name_by_user"})


@dataclass(frozen=True, slots=True)
class HomeWords:
    """The names collected, most specific first, and the plain ones skipped."""

    specific: tuple[str, ...] = ()  # entity aliases, area names, entity names
    general: tuple[str, ...] = ()  # area aliases, floor names and aliases
    skipped: tuple[str, ...] = ()  # plain words


@dataclass(slots=True)
class KeytermBook:
    """Each profile's key terms as they are now, for any kind of session."""

    profiles: dict[str, FittedTerms] = field(default_factory=dict)
    words: HomeWords = field(default_factory=HomeWords)
    language: str | None = None
    built: str | None = None

    def terms(self, subentry_id: str) -> tuple[str, ...] | None:
        """The key terms to send for a profile; None when not known here."""
        fitted = self.profiles.get(subentry_id)
        return None if fitted is None else fitted.terms


def uses_home_terms(profile: Mapping[str, Any]) -> bool:
    """Whether a profile's requests carry the home's words."""
    return bool(profile.get(CONF_HOME_TERMS, True)) and is_nova3_or_flux(
        str(profile.get(CONF_MODEL, ""))
    )


def fit_profile(profile: Mapping[str, Any], words: HomeWords) -> FittedTerms:
    """A profile's key terms: its own, then the home's words, within budget."""
    if not is_nova3_or_flux(str(profile.get(CONF_MODEL, ""))):
        return FittedTerms()
    home: Iterable[str] = ()
    if uses_home_terms(profile):
        home = (*words.specific, *words.general)
    return fit_terms([*(profile.get(CONF_KEYTERMS) or ()), *home])


@callback
def collect_home_words(hass: HomeAssistant, plain_words: frozenset[str]) -> HomeWords:
    """Names of exposed entities, areas and floors, as Assist matches them.

    The most specific come first: the aliases people gave their entities and
    the names of their areas (few, and chosen by them), then the entities'
    names (many, often given by integrations); then the rest.
    """
    chosen: list[str] = []  # entity aliases and area names
    names: list[str] = []
    general: list[str] = []
    if DATA_EXPOSED_ENTITIES in hass.data:
        entities = er.async_get(hass)
        for state in sorted(hass.states.async_all(), key=lambda s: s.entity_id):
            if not async_should_expose(hass, ASSISTANT, state.entity_id):
                continue
            entry = entities.async_get(state.entity_id)
            given: set[str] = set()
            if entry is not None:
                given = {a.strip() for a in entry.aliases if isinstance(a, str)}
            for name in intent.async_get_entity_aliases(hass, entry, state=state):
                (chosen if name in given else names).append(name)
    for area in ar.async_get(hass).async_list_areas():
        chosen.append(area.name)
        general.extend(sorted(area.aliases))
    for floor in fr.async_get(hass).async_list_floors():
        general.append(floor.name)
        general.extend(sorted(floor.aliases))
    specific = [*chosen, *names]
    skipped = [name for name in (*specific, *general) if is_plain(name, plain_words)]
    plain = set(skipped)
    return HomeWords(
        specific=tuple(name for name in specific if name not in plain),
        general=tuple(name for name in general if name not in plain),
        skipped=tuple(dict.fromkeys(skipped)),
    )


class HomeTermsTracker:
    """Keeps an entry's `KeytermBook` current while the entry is loaded."""

    def __init__(
        self,
        hass: HomeAssistant,
        book: KeytermBook,
        profiles: Mapping[str, Mapping[str, Any]],
    ) -> None:
        """Start with each profile's own terms; `async_start` adds the home's."""
        self._hass = hass
        self._book = book
        self._profiles = {key: dict(profile) for key, profile in profiles.items()}
        self._plain_words: frozenset[str] = frozenset()
        self._debouncer = Debouncer(
            hass,
            LOGGER,
            cooldown=REBUILD_DELAY,
            immediate=False,
            function=self._rebuild,
        )
        self._publish()

    async def async_start(self) -> CALLBACK_TYPE:
        """Collect the home's words and follow changes; returns the stop."""
        if not any(uses_home_terms(p) for p in self._profiles.values()):
            return lambda: None
        await self._async_load_plain_words()
        self._rebuild()
        schedule = self._schedule
        bus = self._hass.bus
        stops: list[Callable[[], None]] = [
            bus.async_listen(ar.EVENT_AREA_REGISTRY_UPDATED, schedule),
            bus.async_listen(fr.EVENT_FLOOR_REGISTRY_UPDATED, schedule),
            bus.async_listen(
                er.EVENT_ENTITY_REGISTRY_UPDATED,
                schedule,
                event_filter=_entity_names_changed,
            ),
            bus.async_listen(
                dr.EVENT_DEVICE_REGISTRY_UPDATED,
                schedule,
                event_filter=_device_names_changed,
            ),
            bus.async_listen(
                EVENT_STATE_CHANGED, schedule, event_filter=_state_names_changed
            ),
            bus.async_listen(
                EVENT_CORE_CONFIG_UPDATE,
                self._async_language_changed,
                event_filter=_language_changed,
            ),
        ]
        if DATA_EXPOSED_ENTITIES in self._hass.data:
            stops.append(
                async_listen_entity_updates(self._hass, ASSISTANT, self._schedule)
            )

        @callback
        def stop() -> None:
            for unsubscribe in stops:
                unsubscribe()
            self._debouncer.async_shutdown()

        return stop

    async def _async_load_plain_words(self) -> None:
        language = self._hass.config.language
        self._book.language = language
        self._plain_words = await self._hass.async_add_executor_job(
            load_plain_words, language
        )

    async def _async_language_changed(self, event: Event[Any]) -> None:  # noqa: ARG002
        """Home Assistant's language changed: its plain words did too."""
        await self._async_load_plain_words()
        self._schedule()

    @callback
    def _schedule(self, event: Event[Any] | None = None) -> None:  # noqa: ARG002
        self._debouncer.async_schedule_call()

    @callback
    def _rebuild(self) -> None:
        """Collect again; on failure keep the lists as they are."""
        try:
            words = collect_home_words(self._hass, self._plain_words)
        except Exception:
            LOGGER.exception("Could not collect the home's names for key terms")
            return
        self._book.words = words
        self._book.built = dt_util.utcnow().isoformat()
        self._publish()

    @callback
    def _publish(self) -> None:
        words = self._book.words
        self._book.profiles = {
            key: fit_profile(profile, words) for key, profile in self._profiles.items()
        }
        for key, fitted in self._book.profiles.items():
            if fitted.left_out:
                LOGGER.debug(
                    "Profile %s: %d key terms (%d of %d tokens), %d left out",
                    key,
                    len(fitted.terms),
                    fitted.tokens,
                    TOKEN_BUDGET,
                    len(fitted.left_out),
                )


@callback
def _entity_names_changed(data: er.EventEntityRegistryUpdatedData) -> bool:
    return data["action"] != "update" or bool(_ENTITY_FIELDS & set(data["changes"]))


@callback
def _device_names_changed(data: dr.EventDeviceRegistryUpdatedData) -> bool:
    return data["action"] != "update" or bool(_DEVICE_FIELDS & set(data["changes"]))


@callback
def _state_names_changed(data: EventStateChangedData) -> bool:
    old, new = data["old_state"], data["new_state"]
    return old is None or new is None or old.name != new.name


@callback
def _language_changed(data: Mapping[str, Any]) -> bool:
    return "language" in data
