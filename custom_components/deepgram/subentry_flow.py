"""Subentry flow of the Deepgram integration: speech-to-text profiles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, override
import unicodedata

from homeassistant.config_entries import SubentryFlowResult
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
    CONF_END_OF_SPEECH,
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
    CONF_UTTERANCE_END_MS,
    RECOMMENDED_STT_OPTIONS,
)
from .data import DeepgramConfigEntry
from .end_of_speech import EndOfSpeech
from .language import MULTI
from .profile_flow import NamedProfileFlow, NumberBox
from .profile_names import is_generated_name, profile_name
from .term_budget import (
    QUERY_BUDGET,
    TOKEN_BUDGET,
    clean_term,
    count_tokens,
    query_bytes,
)

ENDPOINTING_MIN = 10
ENDPOINTING_MAX = 5000
UTTERANCE_END_MIN = 1000  # Deepgram's minimum
UTTERANCE_END_MAX = 5000
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})

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
    cleaned = (clean_term(term) for term in terms)
    return list(dict.fromkeys(term for term in cleaned if term))


def profile_from_input(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The subentry data: exactly the keys of RECOMMENDED_STT_OPTIONS."""
    profile: dict[str, Any] = {
        CONF_MODEL: str(user_input[CONF_MODEL]).strip(),
        CONF_KEYTERMS: _clean_terms(user_input.get(CONF_KEYTERMS) or []),
        CONF_ENDPOINTING: round(float(user_input[CONF_ENDPOINTING])),
        CONF_END_OF_SPEECH: EndOfSpeech(user_input[CONF_END_OF_SPEECH]).value,
        CONF_UTTERANCE_END_MS: round(float(user_input[CONF_UTTERANCE_END_MS])),
        # Offered only with models that take key terms; on by default.
        CONF_HOME_TERMS: bool(user_input.get(CONF_HOME_TERMS, True)),
    }
    profile.update({key: bool(user_input[key]) for key in _BOOLEANS})
    return {key: profile[key] for key in RECOMMENDED_STT_OPTIONS}


def bad_character(term: str) -> str | None:
    """A character a key term may not hold (control, format, unassigned)."""
    for char in term:
        if not char.isspace() and unicodedata.category(char) in _BAD_CATEGORIES:
            return char
    return None


def keyterm_error(keyterms: list[str], placeholders: dict[str, str]) -> str | None:
    """Why the key terms cannot be sent (filling `placeholders`), or None.

    The profile's own terms must fit Deepgram's budget on their own (names
    from the home then fill what is left, see `home_terms`).
    """
    for term in keyterms:
        if (char := bad_character(term)) is not None:
            placeholders["character"] = f"U+{ord(char):04X}"
            return "keyterms_bad_character"
    tokens = sum(count_tokens(term) for term in keyterms)
    size = sum(query_bytes(term) for term in keyterms)
    if tokens <= TOKEN_BUDGET and size <= QUERY_BUDGET:
        return None
    placeholders["tokens"] = str(tokens)
    placeholders["query_bytes"] = str(size)
    return "keyterms_too_long"


def validate_profile(
    profile: Mapping[str, Any], models: Mapping[str, tuple[str, ...]]
) -> tuple[dict[str, str], dict[str, str]]:
    """Form errors for a profile and the placeholders their texts use."""
    placeholders = form_placeholders()
    model = profile[CONF_MODEL]
    if (reason := _model_error(model)) is not None:
        placeholders["error"] = reason
        return {CONF_MODEL: "invalid_model"}, placeholders
    errors: dict[str, str] = {}
    if profile[CONF_MULTILINGUAL] and not offers_multilingual(model, models):
        errors[CONF_MULTILINGUAL] = "multilingual_unsupported"
    if keyterms := profile[CONF_KEYTERMS]:
        if not is_nova3_or_flux(model):
            errors[CONF_KEYTERMS] = "keyterms_unsupported"
        elif error := keyterm_error(keyterms, placeholders):
            errors[CONF_KEYTERMS] = error
    if not ENDPOINTING_MIN <= profile[CONF_ENDPOINTING] <= ENDPOINTING_MAX:
        errors[CONF_ENDPOINTING] = "endpointing_out_of_range"
    return errors, placeholders


def form_placeholders() -> dict[str, str]:
    """Every placeholder of the form's texts, with the budgets filled in."""
    return {
        "error": "",
        "character": "",
        "tokens": "",
        "query_bytes": "",
        "token_budget": str(TOKEN_BUDGET),
        "query_budget": str(QUERY_BUDGET),
        "endpointing_min": str(ENDPOINTING_MIN),
        "endpointing_max": str(ENDPOINTING_MAX),
    }


class ProfileSubentryFlow(NamedProfileFlow):
    """Add or change a listening profile (one STT entity each): its one form
    and its name after the model and options; each family brings its form."""

    async def async_step_user(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> SubentryFlowResult:
        """Add a profile, starting from the recommended settings."""
        self._profile = dict(self.recommended)
        return await self.async_step_init()

    async def async_step_reconfigure(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> SubentryFlowResult:
        """Change a profile."""
        self._start_reconfigure()
        return await self.async_step_init()

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The profile's form."""
        return await self._async_profile_form("init", user_input)

    @override
    def _generated_name(
        self, entry: DeepgramConfigEntry, profile: Mapping[str, Any]
    ) -> str:
        return profile_name(profile)

    @override
    def _is_generated_name(
        self, entry: DeepgramConfigEntry, title: str, profile: Mapping[str, Any]
    ) -> bool:
        return is_generated_name(title, profile)


class DeepgramSttSubentryFlow(ProfileSubentryFlow):
    """Add or change a speech-to-text profile (one STT entity each)."""

    recommended = RECOMMENDED_STT_OPTIONS

    @override
    def _from_input(self, user_input: Mapping[str, Any]) -> dict[str, Any]:
        return profile_from_input(user_input)

    @override
    def _validate(
        self, entry: DeepgramConfigEntry, profile: dict[str, Any]
    ) -> tuple[dict[str, str], dict[str, str]]:
        return validate_profile(profile, entry.runtime_data.models)

    @override
    def _placeholders(self) -> dict[str, str]:
        return form_placeholders()

    @override
    def _schema(self, entry: DeepgramConfigEntry) -> probatio.Schema:
        models = entry.runtime_data.models
        defaults = RECOMMENDED_STT_OPTIONS
        fields: dict[probatio.Marker, Any] = {probatio.Optional(CONF_NAME): str}
        model_selector = SelectSelector(
            SelectSelectorConfig(
                options=model_choices(models, self._profile[CONF_MODEL]),
                mode=SelectSelectorMode.DROPDOWN,
                custom_value=True,
            )
        )
        endpointing_selector = NumberBox(
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
        fields[
            probatio.Required(CONF_END_OF_SPEECH, default=defaults[CONF_END_OF_SPEECH])
        ] = SelectSelector(
            SelectSelectorConfig(
                options=[mode.value for mode in EndOfSpeech],
                mode=SelectSelectorMode.LIST,
                translation_key=CONF_END_OF_SPEECH,
            )
        )
        fields[
            probatio.Required(
                CONF_UTTERANCE_END_MS, default=defaults[CONF_UTTERANCE_END_MS]
            )
        ] = NumberSelector(
            NumberSelectorConfig(
                min=UTTERANCE_END_MIN,
                max=UTTERANCE_END_MAX,
                step=100,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement="ms",
            )
        )
        return probatio.Schema(fields)
