"""What Home Assistant does when Deepgram refuses a run, in one place.

A voice command, the transcribe action (and later the voices) each get
Deepgram's answer for one profile; they agree on the reactions:

- 401: the key is no longer valid: re-authentication.
- 402: the project is out of credits: the entry's credits repair issue.
- 403: the key is valid (setup checked it) but this key or its project may
  not use the profile's model or one of its features: a repair issue for that
  profile naming it and its model. Never re-authentication: the same valid
  key would pass it and the next command would ask again.

A successful run clears the credits issue and its profile's model issue; the
model issues of an entry go when it is set up again (a profile changed or was
removed, the key was replaced) and when it is removed. The model issue is
fixable: its flow (repairs.py) changes the profile's model, or keeps it once
the Deepgram console allows it. A run whose profile is not known (its entity
is not in the registry) gets a model issue without a fix flow, which could
only abort: its text points to the console and the profile's Reconfigure.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir

from .api import (
    DeepgramAuthError,
    DeepgramError,
    DeepgramForbiddenError,
    DeepgramPaymentRequiredError,
)
from .const import (
    CONSOLE_URL,
    DOMAIN,
    ISSUE_MODEL_NOT_ALLOWED,
    ISSUE_PAYMENT_REQUIRED,
    SUBENTRY_TTS,
)
from .data import DeepgramConfigEntry

# The data of a "model not allowed" issue, for its fix flow (repairs.py).
DATA_ENTRY_ID = "entry_id"
DATA_SUBENTRY_ID = "subentry_id"
ISSUE_MODEL_NOT_ALLOWED_NO_PROFILE = f"{ISSUE_MODEL_NOT_ALLOWED}_no_profile"
"""The translation of a model issue whose profile is not known (no fix flow)."""
ISSUE_VOICE_NOT_ALLOWED = "voice_not_allowed"
"""The translation of a voice profile's model issue (no fix flow)."""


class Refusal(StrEnum):
    """Which refusal a run met (the ones Home Assistant reacts to)."""

    AUTH = "auth"
    """401: the key was rejected; re-authentication started."""
    PAYMENT = "payment"
    """402: out of credits; the credits repair issue raised."""
    MODEL = "model"
    """403: the model or a feature is not allowed; the profile's issue raised."""


@dataclass(frozen=True, slots=True)
class RunProfile:
    """The profile a run used, as its repair issue names it."""

    subentry_id: str | None
    """None: the profile is not known (the run's issue cannot change it)."""
    name: str
    model: str
    voice: bool = False
    """A voice profile: its issue names the voice and has no fix flow (the
    model flow changes listening models; a voice is changed by Reconfigure)."""

    @property
    def issue_key(self) -> str:
        """What the profile's model issue is keyed by: the profile, else its model."""
        return self.subentry_id if self.subentry_id is not None else self.model


def profile_of_entity(
    hass: HomeAssistant, entry: DeepgramConfigEntry, entity_id: str | None, model: str
) -> RunProfile:
    """The profile (subentry) behind an STT entity.

    An entity the registry does not know (never the case for the entities
    this integration adds) is named by its id and keyed by its model; its
    profile is not known.
    """
    registered = er.async_get(hass).async_get(entity_id) if entity_id else None
    subentry_id = registered.config_subentry_id if registered else None
    if subentry_id is not None and (subentry := entry.subentries.get(subentry_id)):
        voice = subentry.subentry_type == SUBENTRY_TTS
        return RunProfile(subentry_id, subentry.title, model, voice=voice)
    return RunProfile(None, entity_id or entry.title, model)


def model_issue_id(entry: DeepgramConfigEntry, issue_key: str) -> str:
    """The id of a "model not allowed" repair issue, by `RunProfile.issue_key`:
    the profile's subentry id, or the model when the profile is not known."""
    return f"{ISSUE_MODEL_NOT_ALLOWED}_{entry.entry_id}_{issue_key}"


def payment_issue_id(entry: DeepgramConfigEntry) -> str:
    """The id of an entry's "out of credits" repair issue."""
    return f"{ISSUE_PAYMENT_REQUIRED}_{entry.entry_id}"


def async_run_failed(
    hass: HomeAssistant,
    entry: DeepgramConfigEntry,
    profile: RunProfile,
    err: DeepgramError,
) -> Refusal | None:
    """React to a refused run; which refusal it was (None: no reaction).

    Logging is the caller's: it knows what was being done.
    """
    if isinstance(err, DeepgramAuthError):
        entry.async_start_reauth(hass)
        return Refusal.AUTH
    if isinstance(err, DeepgramPaymentRequiredError):
        ir.async_create_issue(
            hass,
            DOMAIN,
            payment_issue_id(entry),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_PAYMENT_REQUIRED,
            translation_placeholders={
                "console_url": CONSOLE_URL,
                "entry_title": entry.title,
            },
        )
        return Refusal.PAYMENT
    if isinstance(err, DeepgramForbiddenError):
        known = profile.subentry_id is not None and not profile.voice
        ir.async_create_issue(
            hass,
            DOMAIN,
            model_issue_id(entry, profile.issue_key),
            is_fixable=known,
            data=(
                {DATA_ENTRY_ID: entry.entry_id, DATA_SUBENTRY_ID: profile.subentry_id}
                if known
                else None
            ),
            severity=ir.IssueSeverity.ERROR,
            translation_key=(
                ISSUE_VOICE_NOT_ALLOWED
                if profile.voice
                else ISSUE_MODEL_NOT_ALLOWED
                if known
                else ISSUE_MODEL_NOT_ALLOWED_NO_PROFILE
            ),
            translation_placeholders={
                "console_url": CONSOLE_URL,
                "entry_title": entry.title,
                "profile": profile.name,
                "model": profile.model,
            },
        )
        return Refusal.MODEL
    return None


def async_run_succeeded(
    hass: HomeAssistant, entry: DeepgramConfigEntry, profile: RunProfile
) -> None:
    """Deepgram took a run: the issues it would have answered are gone."""
    ir.async_delete_issue(hass, DOMAIN, payment_issue_id(entry))
    ir.async_delete_issue(hass, DOMAIN, model_issue_id(entry, profile.issue_key))


def async_clear_model_issues(hass: HomeAssistant, entry: DeepgramConfigEntry) -> None:
    """Remove every profile's model issue of an entry (set up again or removed).

    Set up again means a profile changed or went, or the key was replaced: the
    next run raises the issue again if Deepgram still refuses.
    """
    prefix = model_issue_id(entry, "")
    registry = ir.async_get(hass)
    for domain, issue_id in list(registry.issues):
        if domain == DOMAIN and issue_id.startswith(prefix):
            ir.async_delete_issue(hass, DOMAIN, issue_id)
