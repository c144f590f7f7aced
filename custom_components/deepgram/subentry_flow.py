"""Subentry flow of the Deepgram integration: speech-to-text profiles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from homeassistant.config_entries import (
    SOURCE_USER,
    ConfigEntryState,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
)
import probatio

from .api import DeepgramOptionsError, LiveOptions, is_nova3_or_flux, supports_multi
from .const import (
    CONF_ENDPOINTING,
    CONF_FILLER_WORDS,
    CONF_HOME_TERMS,
    CONF_KEYTERMS,
    CONF_MIP_OPT_OUT,
    CONF_MODEL,
    CONF_MULTILINGUAL,
    CONF_NUMERALS,
    CONF_PROFANITY_FILTER,
    CONF_PUNCTUATE,
    CONF_SMART_FORMAT,
    DEFAULT_STT_NAME,
    RECOMMENDED_STT_OPTIONS,
)
from .data import DeepgramConfigEntry
from .language import MULTI

ENDPOINTING_MIN = 10
ENDPOINTING_MAX = 5000

_BOOLEANS = (
    CONF_MULTILINGUAL,
    CONF_PUNCTUATE,
    CONF_SMART_FORMAT,
    CONF_NUMERALS,
    CONF_PROFANITY_FILTER,
    CONF_FILLER_WORDS,
    CONF_MIP_OPT_OUT,
)


def _model_error(model: str) -> str | None:
    """Why the model cannot stream on `/v1/listen`, or None when it can."""
    try:
        LiveOptions(model=model, language=None).validate()
    except DeepgramOptionsError as err:
        return str(err)
    return None


def model_choices(models: Iterable[str], current: str) -> list[str]:
    """The models the dropdown offers: the usable ones and the current one."""
    choices = {model for model in models if _model_error(model) is None}
    if current:
        choices.add(current)
    return sorted(choices)


def offers_multilingual(model: str, models: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether `language=multi` works with the model.

    The model's languages come from Deepgram's model list (or the built-in
    one); a model typed in by hand is judged by its name alone.
    """
    languages = models.get(model)
    return supports_multi(model) and (languages is None or MULTI in languages)


def _clean_terms(terms: Iterable[str]) -> list[str]:
    """The phrases without blanks and repeats, in the order given."""
    cleaned = (" ".join(term.split()) for term in terms)
    return list(dict.fromkeys(term for term in cleaned if term))


def profile_from_input(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The subentry data: exactly the keys of RECOMMENDED_STT_OPTIONS."""
    profile: dict[str, Any] = {
        CONF_MODEL: str(user_input[CONF_MODEL]).strip(),
        CONF_KEYTERMS: _clean_terms(user_input.get(CONF_KEYTERMS) or []),
        CONF_ENDPOINTING: round(float(user_input[CONF_ENDPOINTING])),
        # Offered only with models that take key terms; on by default.
        CONF_HOME_TERMS: bool(user_input.get(CONF_HOME_TERMS, True)),
    }
    profile.update({key: bool(user_input[key]) for key in _BOOLEANS})
    return {key: profile[key] for key in RECOMMENDED_STT_OPTIONS}


def validate_profile(
    profile: Mapping[str, Any], models: Mapping[str, tuple[str, ...]]
) -> tuple[dict[str, str], str]:
    """Form errors for a profile and Deepgram's reason (for `{error}`)."""
    model = profile[CONF_MODEL]
    if (reason := _model_error(model)) is not None:
        return {CONF_MODEL: "invalid_model"}, reason
    errors: dict[str, str] = {}
    reason = ""
    if profile[CONF_MULTILINGUAL] and not offers_multilingual(model, models):
        errors[CONF_MULTILINGUAL] = "multilingual_unsupported"
    if keyterms := profile[CONF_KEYTERMS]:
        if not is_nova3_or_flux(model):
            errors[CONF_KEYTERMS] = "keyterms_unsupported"
        else:
            try:
                LiveOptions(
                    model=model, language=None, keyterms=tuple(keyterms)
                ).validate()
            except DeepgramOptionsError as err:
                errors[CONF_KEYTERMS] = "invalid_keyterms"
                reason = str(err)
    return errors, reason


class DeepgramSttSubentryFlow(ConfigSubentryFlow):
    """Add or change a speech-to-text profile (one STT entity each)."""

    _profile: dict[str, Any]
    _name: str = DEFAULT_STT_NAME

    @property
    def _is_new(self) -> bool:
        return self.source == SOURCE_USER

    async def async_step_user(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> SubentryFlowResult:
        """Add a profile, starting from the recommended settings."""
        self._profile = dict(RECOMMENDED_STT_OPTIONS)
        return await self.async_step_init()

    async def async_step_reconfigure(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> SubentryFlowResult:
        """Change a profile."""
        subentry = self._get_reconfigure_subentry()
        self._profile = {**RECOMMENDED_STT_OPTIONS, **subentry.data}
        return await self.async_step_init()

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The profile's form."""
        entry: DeepgramConfigEntry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        models = entry.runtime_data.models
        errors: dict[str, str] = {}
        reason = ""
        if user_input is not None:
            profile = profile_from_input(user_input)
            errors, reason = validate_profile(profile, models)
            if not errors:
                if self._is_new:
                    name = str(user_input.get(CONF_NAME) or "").strip()
                    return self.async_create_entry(
                        title=name or DEFAULT_STT_NAME, data=profile
                    )
                subentry = self._get_reconfigure_subentry()
                return self.async_update_and_abort(
                    entry, subentry, data=profile, title=subentry.title
                )
            self._profile = profile
            self._name = str(user_input.get(CONF_NAME) or DEFAULT_STT_NAME)
        suggested = {**self._profile, CONF_NAME: self._name}
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                self._schema(models), suggested
            ),
            errors=errors,
            description_placeholders={"error": reason},
        )

    def _schema(self, models: Mapping[str, tuple[str, ...]]) -> probatio.Schema:
        defaults = RECOMMENDED_STT_OPTIONS
        fields: dict[probatio.Marker, Any] = {}
        if self._is_new:
            fields[probatio.Required(CONF_NAME, default=DEFAULT_STT_NAME)] = str
        model_selector = SelectSelector(
            SelectSelectorConfig(
                options=model_choices(models, self._profile[CONF_MODEL]),
                mode=SelectSelectorMode.DROPDOWN,
                custom_value=True,
            )
        )
        endpointing_selector = NumberSelector(
            NumberSelectorConfig(
                min=ENDPOINTING_MIN,
                max=ENDPOINTING_MAX,
                step=10,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement="ms",
            )
        )
        fields[probatio.Required(CONF_MODEL, default=defaults[CONF_MODEL])] = (
            model_selector
        )
        fields[probatio.Required(CONF_MULTILINGUAL, default=False)] = bool
        fields[probatio.Optional(CONF_KEYTERMS)] = TextSelector(
            TextSelectorConfig(multiple=True)
        )
        if is_nova3_or_flux(self._profile[CONF_MODEL]):
            fields[probatio.Required(CONF_HOME_TERMS, default=True)] = bool
        fields[
            probatio.Required(CONF_ENDPOINTING, default=defaults[CONF_ENDPOINTING])
        ] = endpointing_selector
        for key in _BOOLEANS[1:]:
            fields[probatio.Required(key, default=defaults[key])] = bool
        return probatio.Schema(fields)
