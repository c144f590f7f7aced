"""Diagnostics of a Deepgram entry: settings without the key, recent sessions.

An entry that failed to set up (a revoked key, an unreachable server) has no
run-time data, and that is when support needs diagnostics most: its stored
settings, state and the reason are shown then, without the run-time parts.

Each voice profile is shown with its entity and, when loaded, the last
messages it spoke (`speak_history`, matched by entity id). The records hold
no text of a message; a field of that name would be redacted all the same,
as a message can hold anything the agent wrote.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .api import redact_url
from .const import (
    CONF_EXPRESSIVITY,
    CONF_MIP_OPT_OUT,
    CONF_SPEED,
    CONF_VOICE,
    DEFAULT_URL,
    LISTENING_SUBENTRIES,
    RECOMMENDED_TTS_OPTIONS,
    SUBENTRY_TTS,
)
from .data import DeepgramConfigEntry, DeepgramData
from .home_terms import KeytermBook, uses_home_terms
from .term_budget import TOKEN_BUDGET, FittedTerms

TO_REDACT = {CONF_API_KEY}
TEXT_TO_REDACT = {"text", "message"}
"""Fields of a spoken message's text, should a record ever hold one."""


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: DeepgramConfigEntry
) -> dict[str, Any]:
    """Entry data (key redacted), state, profiles; when loaded, what it runs."""
    settings = async_redact_data(dict(entry.data), TO_REDACT)
    # Without credentials, as an entry from before they were refused may have.
    settings[CONF_URL] = redact_url(str(entry.data.get(CONF_URL) or DEFAULT_URL))
    diagnostics: dict[str, Any] = {
        "entry": settings,
        "state": entry.state.value,
        "reason": entry.reason,
        "profiles": [
            {"title": subentry.title, "type": subentry.subentry_type, **subentry.data}
            for subentry in entry.subentries.values()
        ],
        "voice_profiles": _voice_profiles(hass, entry),
    }
    if entry.state is ConfigEntryState.LOADED:
        diagnostics.update(_run_time(entry, entry.runtime_data))
        _add_speak_runs(diagnostics, entry.runtime_data)
    return diagnostics


def _voice_profiles(
    hass: HomeAssistant, entry: DeepgramConfigEntry
) -> dict[str, dict[str, Any]]:
    """Each voice profile as stored, and its entity's id once registered."""
    entities = {
        entity.config_subentry_id: entity.entity_id
        for entity in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
        if entity.domain == "tts"
    }
    profiles: dict[str, dict[str, Any]] = {}
    for key, subentry in entry.subentries.items():
        if subentry.subentry_type != SUBENTRY_TTS:
            continue
        data = {**RECOMMENDED_TTS_OPTIONS, **subentry.data}
        profiles[key] = {
            "title": subentry.title,
            "voice": data[CONF_VOICE],
            "speed": data[CONF_SPEED],
            "expressivity": data[CONF_EXPRESSIVITY],
            "mip_opt_out": data[CONF_MIP_OPT_OUT],
            "entity_id": entities.get(key),
        }
    return profiles


def _add_speak_runs(diagnostics: dict[str, Any], data: DeepgramData) -> None:
    """The voices known, and the last spoken messages under their profiles.

    A message of an entity no profile has now (its entity id changed since)
    is listed apart, so that no run is left out.
    """
    diagnostics["voices"] = {
        "from_server": not any(voice.builtin for voice in data.voices),
        "count": len(data.voices),
    }
    profiles: dict[str, dict[str, Any]] = diagnostics["voice_profiles"]
    for profile in profiles.values():
        profile["runs"] = []
    runs: dict[str, list[dict[str, Any]]] = {
        profile["entity_id"]: profile["runs"]
        for profile in profiles.values()
        if profile["entity_id"] is not None
    }
    others: list[dict[str, Any]] = []
    for record in data.speak_history:
        run = async_redact_data(record.as_dict(), TEXT_TO_REDACT)
        runs.get(record.entity_id or "", others).append(run)
    diagnostics["other_speak_runs"] = others


def _run_time(entry: DeepgramConfigEntry, data: DeepgramData) -> dict[str, Any]:
    """What a loaded entry knows: key terms, models and the recent sessions."""
    return {
        "keyterms": _keyterms(entry, data.keyterms),
        "models_from_server": data.models_from_server,
        "models": {name: list(langs) for name, langs in data.models.items()},
        "sessions": [record.as_dict() for record in data.history],
        "closing_sessions": len(data.closing),
    }


def _keyterms(entry: DeepgramConfigEntry, book: KeytermBook) -> dict[str, Any]:
    """Each profile's key terms as sent now, their tokens and what was left out."""
    profiles: dict[str, Any] = {}
    for key, subentry in entry.subentries.items():
        if subentry.subentry_type not in LISTENING_SUBENTRIES:
            continue
        fitted = book.profiles.get(key, FittedTerms())
        profiles[key] = {
            "title": subentry.title,
            "home_terms": uses_home_terms(subentry.data),
            "terms": list(fitted.terms),
            "tokens": fitted.tokens,
            "token_budget": TOKEN_BUDGET,
            "left_out": list(fitted.left_out),
        }
    words = book.words
    return {
        "language": book.language,
        "built": book.built,
        "collected": len(words.specific) + len(words.general),
        "skipped_plain_words": list(words.skipped),
        "profiles": profiles,
    }
