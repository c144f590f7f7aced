"""The `deepgram.transcribe` action: a recording to text, as response data.

The recording (a media source item or an allowed file) is streamed to
Deepgram's pre-recorded endpoint with a profile's model and formatting, and
the transcript returned to the caller. No `deepgram_transcript` event is
fired: that event belongs to voice commands.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Mapping
import contextlib
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    config_validation as cv,
    entity_registry as er,
)
import probatio

from .api import (
    DeepgramBadRequestError,
    DeepgramError,
    DeepgramOptionsError,
    DeepgramRateLimitError,
    DeepgramTimeoutError,
    LiveOptions,
    PrerecordedResult,
)
from .const import (
    CONF_FILLER_WORDS,
    CONF_KEYTERMS,
    CONF_MIP_OPT_OUT,
    CONF_MODEL,
    CONF_MULTILINGUAL,
    CONF_NUMERALS,
    CONF_PROFANITY_FILTER,
    CONF_PUNCTUATE,
    CONF_SMART_FORMAT,
    DOMAIN,
    LOGGER,
    RECOMMENDED_STT_OPTIONS,
    SUBENTRY_STT,
)
from .data import DeepgramConfigEntry
from .language import MULTI, deepgram_language
from .media import MEGABYTE, Recording, open_media, open_path
from .problems import Refusal, RunProfile, async_run_failed, async_run_succeeded

SERVICE_TRANSCRIBE: Final = "transcribe"
ATTR_MEDIA_CONTENT_ID: Final = "media_content_id"
ATTR_PATH: Final = "path"
ATTR_PROFILE: Final = "profile"
ATTR_LANGUAGE: Final = "language"
ATTR_DETECT: Final = "detect"
ATTR_DIARIZE: Final = "diarize"
ATTR_MAX_SIZE: Final = "max_size"

DEFAULT_MAX_SIZE_MB: Final = 100
MAX_SIZE_MB: Final = 2000  # Deepgram takes files up to 2 GB
CONNECT_TIMEOUT: Final = 10.0
# A whole request may take this long plus this much per megabyte: uploads on
# a slow home uplink and Deepgram's processing both grow with the file.
TIMEOUT_BASE: Final = 60.0
TIMEOUT_PER_MEGABYTE: Final = 3.0
USAGE_TAG: Final = "home-assistant"


def _media_content_id(value: Any) -> str:
    """A media id as typed in YAML or as the media selector gives it."""
    if isinstance(value, Mapping):
        value = value.get(ATTR_MEDIA_CONTENT_ID)
    return str(cv.string(value))


def _language_or_detect(data: dict[str, Any]) -> dict[str, Any]:
    if data.get(ATTR_DETECT) and data.get(ATTR_LANGUAGE):
        raise probatio.Invalid("Give either a language or detect: true, not both")
    return data


_MAX_SIZE = probatio.All(
    probatio.Coerce(float),
    probatio.Range(min=0, min_included=False, max=MAX_SIZE_MB),
)

SCHEMA: Final = probatio.All(
    cv.has_at_least_one_key(ATTR_MEDIA_CONTENT_ID, ATTR_PATH),
    probatio.Schema(
        {
            probatio.Exclusive(ATTR_MEDIA_CONTENT_ID, "audio"): _media_content_id,
            probatio.Exclusive(ATTR_PATH, "audio"): cv.string,
            probatio.Optional(ATTR_PROFILE): cv.entity_id,
            probatio.Optional(ATTR_LANGUAGE): cv.string,
            probatio.Optional(ATTR_DETECT, default=False): cv.boolean,
            probatio.Optional(ATTR_DIARIZE, default=False): cv.boolean,
            probatio.Optional(ATTR_MAX_SIZE, default=DEFAULT_MAX_SIZE_MB): _MAX_SIZE,
        }
    ),
    _language_or_detect,
)


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions (once, not per entry)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_TRANSCRIBE,
        _async_transcribe,
        schema=SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )


@dataclass(frozen=True, slots=True)
class Profile:
    """The STT entity chosen for a call: its entry and settings."""

    entity_id: str
    entry: DeepgramConfigEntry
    subentry: ConfigSubentry

    @property
    def settings(self) -> dict[str, Any]:
        """The profile's options over the recommended ones."""
        return {**RECOMMENDED_STT_OPTIONS, **self.subentry.data}

    @property
    def model(self) -> str:
        """The Deepgram model of the profile."""
        return str(self.settings[CONF_MODEL])


async def _async_transcribe(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    profile = _profile(hass, call.data.get(ATTR_PROFILE))
    language = _language(hass, profile, call.data)
    options = _options(profile, language, call.data)
    limit = int(call.data[ATTR_MAX_SIZE] * MEGABYTE)
    async with _open(hass, call.data, limit) as recording:
        size = recording.size if recording.size is not None else limit
        timeout = TIMEOUT_BASE + TIMEOUT_PER_MEGABYTE * size / MEGABYTE
        try:
            result = await profile.entry.runtime_data.rest.transcribe(
                recording.chunks,
                options,
                content_type=recording.content_type,
                size=recording.size,
                timeout=timeout,
                connect_timeout=CONNECT_TIMEOUT,
            )
        except DeepgramError as err:
            raise _failed(hass, profile, recording, err, timeout) from None
    async_run_succeeded(hass, profile.entry, _run_profile(profile))
    LOGGER.debug(
        "Transcribed %s (%.1f s of audio) in request %s: %d characters",
        recording.name,
        result.duration,
        result.request_id,
        len(result.transcript),
    )
    return _response(profile, language, result)


@contextlib.asynccontextmanager
async def _open(
    hass: HomeAssistant, data: Mapping[str, Any], limit: int
) -> AsyncIterator[Recording]:
    if ATTR_PATH in data:
        async with open_path(hass, data[ATTR_PATH], limit) as recording:
            yield recording
    else:
        async with open_media(hass, data[ATTR_MEDIA_CONTENT_ID], limit) as recording:
            yield recording


def _profile(hass: HomeAssistant, entity_id: str | None) -> Profile:
    """The profile asked for, or the first profile of a loaded entry."""
    registry = er.async_get(hass)
    if entity_id is None:
        for entry in hass.config_entries.async_loaded_entries(DOMAIN):
            for subentry in entry.subentries.values():
                found = registry.async_get_entity_id(
                    "stt", DOMAIN, subentry.subentry_id
                )
                if found and _can_transcribe(subentry):
                    return Profile(found, entry, subentry)
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="no_profile"
        )
    placeholders = {"entity_id": entity_id}
    entity = registry.async_get(entity_id)
    named = (
        hass.config_entries.async_get_entry(entity.config_entry_id)
        if entity is not None
        and entity.platform == DOMAIN
        and entity.domain == "stt"
        and entity.config_entry_id
        else None
    )
    if named is None or entity is None or entity.config_subentry_id is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_profile",
            translation_placeholders=placeholders,
        )
    if named.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="profile_not_loaded",
            translation_placeholders=placeholders,
        )
    return _supported(
        Profile(entity_id, named, named.subentries[entity.config_subentry_id])
    )


def _can_transcribe(subentry: ConfigSubentry) -> bool:
    """Whether a profile's model takes recordings (Flux only streams)."""
    model = str(subentry.data.get(CONF_MODEL, ""))
    return subentry.subentry_type == SUBENTRY_STT and not model.startswith("flux")


def _supported(profile: Profile) -> Profile:
    """Refuse profiles whose model cannot transcribe recordings."""
    if not _can_transcribe(profile.subentry):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unsupported_profile",
            translation_placeholders={
                "entity_id": profile.entity_id,
                "model": profile.model,
            },
        )
    return profile


def _language(
    hass: HomeAssistant, profile: Profile, data: Mapping[str, Any]
) -> str | None:
    """The language to send: none when detecting, else mapped to the model's tags."""
    if data[ATTR_DETECT]:
        return None
    wanted = data.get(ATTR_LANGUAGE)
    multilingual = bool(profile.settings[CONF_MULTILINGUAL]) and not wanted
    models = profile.entry.runtime_data.models
    offered = models.get(profile.model) or tuple(
        sorted({lang for langs in models.values() for lang in langs})
    )
    return deepgram_language(
        wanted or hass.config.language, offered, multilingual=multilingual
    )


def _options(
    profile: Profile, language: str | None, data: Mapping[str, Any]
) -> LiveOptions:
    """The request options: the profile's model and formatting, no streaming."""
    settings = profile.settings
    options = LiveOptions(
        model=profile.model,
        language=language,
        encoding=None,
        sample_rate=None,
        channels=None,
        punctuate=settings[CONF_PUNCTUATE],
        smart_format=settings[CONF_SMART_FORMAT],
        numerals=settings[CONF_NUMERALS],
        profanity_filter=settings[CONF_PROFANITY_FILTER],
        keyterms=tuple(settings[CONF_KEYTERMS] or ()),
        filler_words=settings[CONF_FILLER_WORDS],
        mip_opt_out=settings[CONF_MIP_OPT_OUT],
        detect_language=True if data[ATTR_DETECT] else None,
        diarize=True if data[ATTR_DIARIZE] else None,
        tags=(USAGE_TAG,),
    )
    try:
        options.validate()
    except DeepgramOptionsError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_options",
            translation_placeholders={"error": str(err)},
        ) from err
    return options


def _response(
    profile: Profile, language: str | None, result: PrerecordedResult
) -> dict[str, Any]:
    """The response data, with the `deepgram_transcript` event's field names."""
    spoken = Counter(w.language for w in result.words if w.language)
    if result.detected_language:
        language = result.detected_language
    elif language == MULTI and spoken:
        language = spoken.most_common(1)[0][0]
    text = result.transcript.strip()
    return {
        "entity_id": profile.entity_id,
        "text": text,
        "confidence": result.confidence if text else None,
        "language": language,
        "model": profile.model,
        "duration": result.duration,
        "request_id": result.request_id,
        "words": [
            {
                "word": word.punctuated_word or word.word,
                "start": word.start,
                "end": word.end,
                "confidence": word.confidence,
                **({"speaker": word.speaker} if word.speaker is not None else {}),
            }
            for word in result.words
        ],
    }


def _run_profile(profile: Profile) -> RunProfile:
    """The profile as problems and their repair issues name it."""
    return RunProfile(
        profile.subentry.subentry_id, profile.subentry.title, profile.model
    )


def _failed(
    hass: HomeAssistant,
    profile: Profile,
    recording: Recording,
    err: DeepgramError,
    timeout: float,
) -> HomeAssistantError:
    """The error for a failed request, after the reactions a voice command has.

    401 starts reauth, 402 raises the credits repair, 403 the profile's
    "model not allowed" repair (`problems.py`).
    """
    run_profile = _run_profile(profile)
    LOGGER.warning(
        "Deepgram could not transcribe %s with profile %s (model %s): %s",
        recording.name,
        run_profile.name,
        run_profile.model,
        err,
    )
    placeholders = {"error": str(err), "model": profile.model}
    refusal = async_run_failed(hass, profile.entry, run_profile, err)
    if refusal is Refusal.AUTH:
        key = "transcribe_auth_failed"
    elif refusal is Refusal.PAYMENT:
        key = "transcribe_payment_required"
    elif refusal is Refusal.MODEL:
        key = "transcribe_forbidden"
        placeholders["profile"] = run_profile.name
    elif isinstance(err, DeepgramRateLimitError):
        key = "transcribe_rate_limited"
    elif isinstance(err, DeepgramBadRequestError):
        key = "transcribe_bad_request"
    elif isinstance(err, DeepgramTimeoutError):
        key = "transcribe_timeout"
        placeholders["seconds"] = f"{timeout:.0f}"
    else:
        key = "transcribe_failed"
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )
