"""Config flow of the Deepgram integration: key, endpoint, reauth, reconfigure."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any, override

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
)
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import AbortFlow, section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio
from yarl import URL

from .api import (
    DeepgramAuthError,
    DeepgramError,
    DeepgramForbiddenError,
    DeepgramOptionsError,
    DeepgramRestClient,
    Endpoint,
    normalize_base_url,
)
from .const import (
    DEFAULT_STT_NAME,
    DEFAULT_TITLE,
    DEFAULT_URL,
    DOMAIN,
    RECOMMENDED_STT_OPTIONS,
    SECTION_ADVANCED,
    SUBENTRY_FLUX,
    SUBENTRY_STT,
)
from .flux_flow import DeepgramFluxSubentryFlow
from .subentry_flow import DeepgramSttSubentryFlow

_LOGGER = logging.getLogger(__name__)

CONSOLE_URL = "https://console.deepgram.com/"
KEYS_DOCS_URL = "https://developers.deepgram.com/docs/create-additional-api-keys"

_KEY_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_URL_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))

# The key may stay empty for a self-hosted Deepgram that does not check keys;
# Deepgram's cloud refuses an empty key (see `_async_check_key`).
STEP_USER_SCHEMA = probatio.Schema(
    {
        probatio.Optional(CONF_API_KEY): _KEY_SELECTOR,
        probatio.Required(SECTION_ADVANCED): section(
            probatio.Schema(
                {probatio.Required(CONF_URL, default=DEFAULT_URL): _URL_SELECTOR}
            ),
            {"collapsed": True},
        ),
    }
)


def is_deepgram_cloud(url: str) -> bool:
    """Whether the base URL is Deepgram's cloud (any region), which needs a key."""
    host = (URL(url).host or "").lower()
    return host == "deepgram.com" or host.endswith(".deepgram.com")


def entry_title(url: str) -> str:
    """`Deepgram`, or `Deepgram (<host>)` for any other endpoint than the default."""
    if url == DEFAULT_URL:
        return DEFAULT_TITLE
    parsed = URL(url)
    host = parsed.host or url
    if parsed.explicit_port is not None:
        host = f"{host}:{parsed.explicit_port}"
    return f"{DEFAULT_TITLE} ({host})"


def _entry_url(entry: ConfigEntry) -> str:
    return str(entry.data.get(CONF_URL) or DEFAULT_URL)


def _key_from(user_input: Mapping[str, Any]) -> str:
    return str(user_input.get(CONF_API_KEY) or "").strip()


def _placeholders(**extra: str) -> dict[str, str]:
    return {"console_url": CONSOLE_URL, "keys_docs_url": KEYS_DOCS_URL, **extra}


async def _async_check_key(hass: HomeAssistant, url: str, api_key: str) -> str | None:
    """Ask Deepgram at `url` whether `api_key` works; return a form error or None."""
    if not api_key and is_deepgram_cloud(url):
        return "invalid_auth"
    endpoint = Endpoint(url, api_key)
    rest = DeepgramRestClient(async_get_clientsession(hass), endpoint)
    try:
        await rest.validate_key()
    except (DeepgramAuthError, DeepgramForbiddenError) as err:
        _LOGGER.debug("Deepgram at %s refused the key: %s", endpoint.host, err)
        return "invalid_auth"
    except DeepgramError as err:
        _LOGGER.debug("Deepgram at %s could not check the key: %s", endpoint.host, err)
        return "cannot_connect"
    except Exception:
        _LOGGER.exception("Unexpected error checking the key with %s", endpoint.host)
        return "unknown"
    return None


class DeepgramConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Deepgram account (or a self-hosted Deepgram)."""

    VERSION = 1
    MINOR_VERSION = 1

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the key and, optionally, the endpoint."""
        errors: dict[str, str] = {}
        if user_input is not None:
            api_key = _key_from(user_input)
            try:
                url = normalize_base_url(user_input[SECTION_ADVANCED][CONF_URL])
            except DeepgramOptionsError:
                errors["base"] = "invalid_url"
            else:
                self._abort_if_configured(api_key, url)
                if error := await _async_check_key(self.hass, url, api_key):
                    errors["base"] = error
                else:
                    return self.async_create_entry(
                        title=entry_title(url),
                        data={CONF_API_KEY: api_key, CONF_URL: url},
                        subentries=[
                            {
                                "subentry_type": SUBENTRY_STT,
                                "data": dict(RECOMMENDED_STT_OPTIONS),
                                "title": DEFAULT_STT_NAME,
                                "unique_id": None,
                            }
                        ],
                    )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                STEP_USER_SCHEMA, user_input
            ),
            errors=errors,
            description_placeholders=_placeholders(),
        )

    async def async_step_reauth(
        self,
        entry_data: Mapping[str, Any],  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Deepgram refused the entry's key."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new key and check it against the entry's endpoint."""
        entry = self._get_reauth_entry()
        url = _entry_url(entry)
        errors: dict[str, str] = {}
        if user_input is not None:
            api_key = _key_from(user_input)
            self._abort_if_configured(api_key, url, exclude=entry.entry_id)
            if error := await _async_check_key(self.hass, url, api_key):
                errors["base"] = error
            else:
                return self._async_update_entry(entry, {CONF_API_KEY: api_key})
        # Only a self-hosted Deepgram may be used without a key.
        marker = probatio.Required if is_deepgram_cloud(url) else probatio.Optional
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=probatio.Schema({marker(CONF_API_KEY): _KEY_SELECTOR}),
            errors=errors,
            description_placeholders=_placeholders(title=entry.title, url=url),
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the key and the endpoint of an entry."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        # The stored key never goes to the frontend: empty keeps it.
        suggested: Mapping[str, Any] = {
            SECTION_ADVANCED: {CONF_URL: _entry_url(entry)},
        }
        if user_input is not None:
            suggested = {k: v for k, v in user_input.items() if k != CONF_API_KEY}
            api_key = _key_from(user_input) or str(entry.data.get(CONF_API_KEY) or "")
            try:
                url = normalize_base_url(user_input[SECTION_ADVANCED][CONF_URL])
            except DeepgramOptionsError:
                errors["base"] = "invalid_url"
            else:
                self._abort_if_configured(api_key, url, exclude=entry.entry_id)
                if error := await _async_check_key(self.hass, url, api_key):
                    errors["base"] = error
                else:
                    # Keep a title the user chose; follow the URL otherwise.
                    title = entry.title
                    if title == entry_title(_entry_url(entry)):
                        title = entry_title(url)
                    return self._async_update_entry(
                        entry, {CONF_API_KEY: api_key, CONF_URL: url}, title=title
                    )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                STEP_USER_SCHEMA, suggested
            ),
            errors=errors,
            description_placeholders=_placeholders(title=entry.title),
        )

    @callback
    def _abort_if_configured(
        self, api_key: str, url: str, *, exclude: str | None = None
    ) -> None:
        """Abort if another entry has this key (or, keyless, this endpoint)."""
        for entry in self._async_current_entries(include_ignore=False):
            if entry.entry_id == exclude:
                continue
            other_key = entry.data.get(CONF_API_KEY) or ""
            if api_key:
                duplicate = other_key == api_key
            else:
                duplicate = not other_key and _entry_url(entry) == url
            if duplicate:
                raise AbortFlow("already_configured")

    @callback
    def _async_update_entry(
        self, entry: ConfigEntry, data_updates: dict[str, Any], title: str = ""
    ) -> ConfigFlowResult:
        """Store the new data and have the entry reloaded once."""
        title = title or entry.title
        if entry.update_listeners:
            # A loaded entry reloads through its update listener.
            return self.async_update_and_abort(
                entry, title=title, data_updates=data_updates
            )
        return self.async_update_reload_and_abort(
            entry, title=title, data_updates=data_updates
        )

    @classmethod
    @callback
    @override
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """The STT profiles of an entry: nova (and older) and Flux."""
        return {
            SUBENTRY_STT: DeepgramSttSubentryFlow,
            SUBENTRY_FLUX: DeepgramFluxSubentryFlow,
        }
