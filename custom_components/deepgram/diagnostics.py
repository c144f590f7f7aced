"""Diagnostics of a Deepgram entry: settings without the key, recent sessions.

An entry that failed to set up (a revoked key, an unreachable server) has no
run-time data, and that is when support needs diagnostics most: its stored
settings, state and the reason are shown then, without the run-time parts.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant

from .api import redact_url
from .const import DEFAULT_URL, LISTENING_SUBENTRIES
from .data import DeepgramConfigEntry, DeepgramData
from .home_terms import KeytermBook, uses_home_terms
from .term_budget import TOKEN_BUDGET, FittedTerms

TO_REDACT = {CONF_API_KEY}


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
    }
    if entry.state is ConfigEntryState.LOADED:
        diagnostics.update(_run_time(entry, entry.runtime_data))
    return diagnostics


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
