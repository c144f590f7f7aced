"""Config flow of the Deepgram integration: key, endpoint, reauth, reconfigure."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any, override

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryData,
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
    has_credentials,
    is_valid_key,
    normalize_base_url,
    redact_url,
    voices_or_fallback,
)
from .api.endpoint import is_clear_text_to_deepgram, is_deepgram_host
from .const import (
    CONF_VOICE,
    DEFAULT_TITLE,
    DEFAULT_URL,
    DOMAIN,
    RECOMMENDED_STT_OPTIONS,
    RECOMMENDED_TTS_OPTIONS,
    SECTION_ADVANCED,
    SUBENTRY_FLUX,
    SUBENTRY_STT,
    SUBENTRY_TTS,
)
from .flux_flow import DeepgramFluxSubentryFlow
from .profile_names import profile_name, voice_name
from .subentry_flow import DeepgramSttSubentryFlow
from .voice_flow import DeepgramVoiceSubentryFlow, first_voice

_LOGGER = logging.getLogger(__name__)

CONSOLE_URL = "https://console.deepgram.com/"
KEYS_DOCS_URL = "https://developers.deepgram.com/docs/create-additional-api-keys"
EU_URL = "https://api.eu.deepgram.com"
SELF_HOSTED_EXAMPLE_URL = "http://192.168.1.20:8080"

_KEY_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_URL_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))


def user_schema(*, expanded: bool = False) -> probatio.Schema:
    """The key and, in the Advanced section, the endpoint URL.

    The key may stay empty for a self-hosted Deepgram that does not check
    keys; Deepgram's cloud refuses an empty key (see `_key_error`). The
    section is open when it holds an error, so the wrong field shows.
    """
    return probatio.Schema(
        {
            probatio.Optional(CONF_API_KEY): _KEY_SELECTOR,
            probatio.Required(SECTION_ADVANCED): section(
                probatio.Schema(
                    {probatio.Required(CONF_URL, default=DEFAULT_URL): _URL_SELECTOR}
                ),
                {"collapsed": not expanded},
            ),
        }
    )


def is_deepgram_cloud(url: str) -> bool:
    """Whether the base URL is Deepgram's cloud (any region), which needs a key."""
    return is_deepgram_host(URL(url).host or "")


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
    """The links and example URLs of the texts (strings carry no URLs)."""
    return {
        "console_url": CONSOLE_URL,
        "keys_docs_url": KEYS_DOCS_URL,
        "default_url": DEFAULT_URL,
        "eu_url": EU_URL,
        "self_hosted_url": SELF_HOSTED_EXAMPLE_URL,
        **extra,
    }


def _url_from(user_input: Mapping[str, Any]) -> tuple[str, str | None]:
    """The normalised endpoint URL, or a form error for the Advanced section."""
    raw = str(user_input[SECTION_ADVANCED][CONF_URL])
    if has_credentials(raw):
        return "", "url_credentials"
    if is_clear_text_to_deepgram(raw):
        # The key would travel unencrypted: say so rather than change the URL.
        return "", "url_not_encrypted"
    try:
        return normalize_base_url(raw), None
    except DeepgramOptionsError:
        return "", "invalid_url"


def _key_error(url: str, api_key: str) -> str | None:
    """What is wrong with a key before Deepgram is asked, or None."""
    if not api_key:
        return "key_required" if is_deepgram_cloud(url) else None
    if not is_valid_key(api_key):
        return "invalid_key_format"
    return None


def _reauth_target(title: str, url: str) -> str:
    """The entry as the reauth text names it: its title, and its URL if needed."""
    host = URL(url).host or ""
    if url == DEFAULT_URL or (host and host in title):
        return title
    return f"{title} (`{redact_url(url)}`)"


async def _async_check_key(
    hass: HomeAssistant, url: str, api_key: str
) -> dict[str, str]:
    """Check `api_key` (with Deepgram at `url` if need be); return form errors."""
    if error := _key_error(url, api_key):
        return {CONF_API_KEY: error}
    endpoint = Endpoint(url, api_key)
    rest = DeepgramRestClient(async_get_clientsession(hass), endpoint)
    try:
        await rest.validate_key()
    except (DeepgramAuthError, DeepgramForbiddenError) as err:
        _LOGGER.debug("Deepgram at %s refused the key: %s", endpoint.host, err)
        return {CONF_API_KEY: "invalid_auth"}
    except DeepgramError as err:
        _LOGGER.debug("Deepgram at %s could not check the key: %s", endpoint.host, err)
        return {"base": "cannot_connect"}
    except Exception:
        _LOGGER.exception("Unexpected error checking the key with %s", endpoint.host)
        return {"base": "unknown"}
    return {}


async def _async_first_profiles(
    hass: HomeAssistant, url: str, api_key: str
) -> list[ConfigSubentryData]:
    """A new entry's profiles: the recommended STT one and a voice.

    The voice speaks Home Assistant's language (see `first_voice`); none
    when no voice speaks it. Deepgram's voices are read with the key just
    checked, the built-in ones when they cannot be.
    """
    profiles = [
        ConfigSubentryData(
            subentry_type=SUBENTRY_STT,
            data=dict(RECOMMENDED_STT_OPTIONS),
            title=profile_name(RECOMMENDED_STT_OPTIONS),
            unique_id=None,
        )
    ]
    rest = DeepgramRestClient(async_get_clientsession(hass), Endpoint(url, api_key))
    voice = first_voice(await voices_or_fallback(rest), hass.config.language)
    if voice is not None:
        profiles.append(
            ConfigSubentryData(
                subentry_type=SUBENTRY_TTS,
                data={**RECOMMENDED_TTS_OPTIONS, CONF_VOICE: voice.name},
                title=voice_name(voice.display_name),
                unique_id=None,
            )
        )
    return profiles


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
            url, url_error = _url_from(user_input)
            if url_error:
                errors[SECTION_ADVANCED] = url_error
            else:
                self._abort_if_configured(api_key, url)
                errors = await _async_check_key(self.hass, url, api_key)
                if not errors:
                    return self.async_create_entry(
                        title=entry_title(url),
                        data={CONF_API_KEY: api_key, CONF_URL: url},
                        subentries=await _async_first_profiles(self.hass, url, api_key),
                    )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                user_schema(expanded=SECTION_ADVANCED in errors), user_input
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
            errors = await _async_check_key(self.hass, url, api_key)
            if not errors:
                return self._async_update_entry(
                    entry, {CONF_API_KEY: api_key}, reason="reauth_successful"
                )
        # Only a self-hosted Deepgram may be used without a key.
        marker = probatio.Required if is_deepgram_cloud(url) else probatio.Optional
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema({marker(CONF_API_KEY): _KEY_SELECTOR}), user_input
            ),
            errors=errors,
            description_placeholders=_placeholders(
                entry=_reauth_target(entry.title, url)
            ),
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
            suggested = user_input
            api_key = _key_from(user_input) or str(entry.data.get(CONF_API_KEY) or "")
            url, url_error = _url_from(user_input)
            if url_error:
                errors[SECTION_ADVANCED] = url_error
            else:
                self._abort_if_configured(api_key, url, exclude=entry.entry_id)
                errors = await _async_check_key(self.hass, url, api_key)
                if not errors:
                    # Keep a title the user chose; follow the URL otherwise.
                    title = entry.title
                    if title == entry_title(_entry_url(entry)):
                        title = entry_title(url)
                    return self._async_update_entry(
                        entry,
                        {CONF_API_KEY: api_key, CONF_URL: url},
                        title=title,
                        reason="reconfigure_successful",
                    )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                user_schema(expanded=SECTION_ADVANCED in errors), suggested
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
        self,
        entry: ConfigEntry,
        data_updates: dict[str, Any],
        *,
        reason: str,
        title: str = "",
    ) -> ConfigFlowResult:
        """Store the new data, have the entry reloaded once, show our text."""
        title = title or entry.title
        if entry.update_listeners:
            # A loaded entry reloads through its update listener.
            return self.async_update_and_abort(
                entry, title=title, data_updates=data_updates, reason=reason
            )
        return self.async_update_reload_and_abort(
            entry, title=title, data_updates=data_updates, reason=reason
        )

    @classmethod
    @callback
    @override
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """The profiles of an entry: STT (nova and older, Flux) and voices."""
        return {
            SUBENTRY_STT: DeepgramSttSubentryFlow,
            SUBENTRY_FLUX: DeepgramFluxSubentryFlow,
            SUBENTRY_TTS: DeepgramVoiceSubentryFlow,
        }
