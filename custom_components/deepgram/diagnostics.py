"""Diagnostics of a Deepgram entry: settings without the key, recent sessions."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant

from .api import redact_url
from .data import DeepgramConfigEntry
from .home_terms import KeytermBook, uses_home_terms
from .term_budget import TOKEN_BUDGET, FittedTerms

TO_REDACT = {CONF_API_KEY}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: DeepgramConfigEntry
) -> dict[str, Any]:
    """Entry data (key redacted), profiles, models and the recent sessions."""
    data = entry.runtime_data
    settings = async_redact_data(dict(entry.data), TO_REDACT)
    # Without credentials, as an entry from before they were refused may have.
    settings[CONF_URL] = redact_url(data.endpoint.base_url)
    return {
        "entry": settings,
        "profiles": [
            {"title": subentry.title, "type": subentry.subentry_type, **subentry.data}
            for subentry in entry.subentries.values()
        ],
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
