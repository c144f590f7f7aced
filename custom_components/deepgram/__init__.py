"""Deepgram live speech-to-text for Home Assistant Assist."""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.const import (
    CONF_API_KEY,
    CONF_URL,
    EVENT_HOMEASSISTANT_STOP,
    Platform,
)
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
)
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType
from homeassistant.util.hass_dict import HassKey

from .api import (
    DeepgramAuthError,
    DeepgramError,
    DeepgramForbiddenError,
    DeepgramKeyFormatError,
    DeepgramRateLimitError,
    DeepgramRequestError,
    DeepgramRestClient,
    Endpoint,
    redact_url,
    voices_or_fallback,
)
from .api.endpoint import is_clear_text_to_deepgram
from .const import (
    ABORT_TIMEOUT,
    CLOSE_TIMEOUT,
    DEFAULT_URL,
    DOMAIN,
    FALLBACK_MODELS,
    LISTENING_SUBENTRIES,
    LOGGER,
)
from .data import DeepgramConfigEntry, DeepgramData
from .home_terms import HomeTermsTracker
from .problems import async_clear_model_issues, payment_issue_id
from .services import async_setup_services

PLATFORMS: tuple[Platform, ...] = (Platform.STT, Platform.TTS)
DATA_UNLOADED: HassKey[set[DeepgramData]] = HassKey(f"{DOMAIN}_unloaded")
"""Loads unloaded while their sessions ran: Home Assistant's stop ends those.

Each is held only while busy: it is let go of (with its HTTP session
references, history and key terms) when its last session and closing task
are over, and when Home Assistant has stopped.
"""

# Seconds before setup is retried after Deepgram said "too many requests"
# (429) or failed (5xx), where Home Assistant takes a delay (2026.11 added
# `ConfigEntryNotReady(retry_after=...)`; 2026.10 uses its own backoff).
RETRY_AFTER_RATE_LIMIT = 60.0
RETRY_AFTER_SERVER_ERROR = 30.0
_TAKES_RETRY_AFTER = hasattr(ConfigEntryNotReady, "retry_after")
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up the integration (config entries only), its actions, stop handling.

    One stop listener for the whole integration, not one per entry load: a
    run started before a reload still has its session when Home Assistant
    stops, and that session must be ended too.
    """
    async_setup_services(hass)
    unloaded: set[DeepgramData] = set()
    hass.data[DATA_UNLOADED] = unloaded

    async def _async_stop(event: Event) -> None:
        await _async_end_sessions(_loads_with_sessions(hass))
        # Ended or out of time: either way nothing is left to do for them.
        for data in unloaded:
            data.on_busy_change(None)
        unloaded.clear()

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _async_stop)
    return True


def _loads_with_sessions(hass: HomeAssistant) -> list[DeepgramData]:
    """The run-time data of every load that may hold sessions: the loaded
    entries', and that of loads unloaded while a run went on."""
    loaded: list[DeepgramConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    return [
        *(entry.runtime_data for entry in loaded),
        *hass.data.get(DATA_UNLOADED, ()),
    ]


async def async_setup_entry(hass: HomeAssistant, entry: DeepgramConfigEntry) -> bool:
    """Check the key, read the models, and set up the STT entities."""
    http = async_get_clientsession(hass)
    endpoint = _endpoint(hass, entry)
    rest = DeepgramRestClient(http, endpoint)
    try:
        await rest.validate_key()
    except DeepgramKeyFormatError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="invalid_key_format",
            translation_placeholders={"error": err.message},
        ) from err
    except (DeepgramAuthError, DeepgramForbiddenError) as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="invalid_auth",
            translation_placeholders={"error": err.detail},
        ) from err
    except DeepgramRequestError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="invalid_request",
            translation_placeholders={"error": err.message},
        ) from err
    except DeepgramError as err:
        raise not_ready(err) from err

    models_from_server = True
    try:
        listed = await rest.list_models()
        models = {model.name: model.languages for model in listed}
    except DeepgramError as err:
        LOGGER.info("Using built-in model list; Deepgram's could not be read: %s", err)
        models = {}
    if not models:
        models_from_server = False
        models = dict(FALLBACK_MODELS)

    entry.runtime_data = DeepgramData(
        http=http,
        endpoint=endpoint,
        rest=rest,
        models=models,
        models_from_server=models_from_server,
        # After the models, on the same kept-alive connection.
        voices=tuple(await voices_or_fallback(rest)),
    )
    # The profiles may have changed (or the key): a refused model is tried anew.
    async_clear_model_issues(hass, entry)
    tracker = HomeTermsTracker(
        hass,
        entry.runtime_data.keyterms,
        {
            key: subentry.data
            for key, subentry in entry.subentries.items()
            if subentry.subentry_type in LISTENING_SUBENTRIES
        },
    )
    entry.async_on_unload(await tracker.async_start())
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(_async_update_listener))
    return True


def _endpoint(hass: HomeAssistant, entry: DeepgramConfigEntry) -> Endpoint:
    """The entry's endpoint; a stored clear-text URL to Deepgram is upgraded.

    The flows refuse `http`/`ws` for Deepgram's hosts, but an entry stored
    before they did would send the key unencrypted: `Endpoint` uses TLS for
    those hosts, and the stored URL is rewritten to match (said once, in the
    log). Clear text to another host that is not local gets a warning.
    """
    url = str(entry.data.get(CONF_URL) or DEFAULT_URL)
    endpoint = Endpoint(url, entry.data[CONF_API_KEY])
    if is_clear_text_to_deepgram(url):
        LOGGER.warning(
            "Deepgram's cloud is only reached over an encrypted connection: "
            "the entry's URL %s is changed to %s",
            redact_url(url),
            redact_url(endpoint.base_url),
        )
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_URL: endpoint.base_url}
        )
    elif endpoint.key_in_clear_text:
        LOGGER.warning(
            "The API key is sent unencrypted to %s, which is not on the local "
            "network: use an https or wss URL if the server offers one",
            endpoint.host,
        )
    return endpoint


async def _async_end_sessions(loads: list[DeepgramData]) -> None:
    """Home Assistant is stopping: end every session with CloseStream, bounded.

    Before the shared HTTP session closes (at `homeassistant_close`), which
    would drop the sockets without a word to Deepgram. Running sessions are
    aborted (their runs end with an error); closing ones get their bound.
    """
    running = [
        asyncio.ensure_future(
            session.abort(ABORT_TIMEOUT, reason="Home Assistant is stopping")
        )
        for data in loads
        for session in data.live
    ]
    pending = [*running, *(task for data in loads for task in data.closing)]
    if pending:
        LOGGER.debug("Ending %d Deepgram sessions: stopping", len(pending))
        await asyncio.wait(pending, timeout=CLOSE_TIMEOUT)


def retry_after(err: DeepgramError) -> float | None:
    """How long to wait before retrying setup after `err`, if Deepgram says."""
    if isinstance(err, DeepgramRateLimitError):
        return RETRY_AFTER_RATE_LIMIT
    if err.status is not None and err.status >= 500:
        return RETRY_AFTER_SERVER_ERROR
    return None


def not_ready(err: DeepgramError) -> ConfigEntryNotReady:
    """The setup error for `err`, with a retry delay where Home Assistant takes one."""
    extra: dict[str, Any] = {}
    if _TAKES_RETRY_AFTER and (delay := retry_after(err)) is not None:
        extra["retry_after"] = delay
    return ConfigEntryNotReady(
        translation_domain=DOMAIN,
        translation_key="cannot_connect",
        translation_placeholders={"error": str(err)},
        **extra,
    )


async def async_unload_entry(hass: HomeAssistant, entry: DeepgramConfigEntry) -> bool:
    """Unload the entities, letting sessions that are closing finish (bounded).

    A run in progress is left to finish: a reload (a profile edited while
    someone speaks) should not cut the command off. Its load's data is kept
    for the stop listener until its sessions are over, so that Home
    Assistant stopping still ends them with CloseStream; it is let go of as
    soon as its last session and closing task are over.
    """
    data = entry.runtime_data
    if data.closing:
        await asyncio.wait(data.closing, timeout=CLOSE_TIMEOUT)
    if not await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        return False
    unloaded = hass.data[DATA_UNLOADED]

    def _hold_while_busy() -> None:
        # A run's close task joins `closing` before its session leaves
        # `live`, so a busy load is never let go of between the two.
        if data.busy:
            unloaded.add(data)
        else:
            unloaded.discard(data)

    data.on_busy_change(_hold_while_busy)
    _hold_while_busy()
    return True


async def async_remove_entry(hass: HomeAssistant, entry: DeepgramConfigEntry) -> None:
    """Remove the entry's repair issues with it."""
    ir.async_delete_issue(hass, DOMAIN, payment_issue_id(entry))
    async_clear_model_issues(hass, entry)


async def _async_update_listener(
    hass: HomeAssistant, entry: DeepgramConfigEntry
) -> None:
    """Reload when a profile (subentry) was added, changed or removed."""
    await hass.config_entries.async_reload(entry.entry_id)
