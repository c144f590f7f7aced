"""Subentry flow of Flux profiles (subentry type `flux`).

Flux models have their own options (end-of-turn thresholds, turn timeout,
language hints) and none of nova's (language, endpointing, formatting), so
they get their own profile type, with a form of their own fields only. The
ranges are Deepgram's documented ones; where its pages disagree the wider
range is offered (`eot_threshold` up to 1.0, `eot_timeout_ms` up to 60000).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, override

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

from .api import DeepgramOptionsError, FluxOptions, is_flux
from .api.flux_options import (
    EAGER_EOT_THRESHOLD_RANGE,
    EOT_THRESHOLD_RANGE,
    EOT_TIMEOUT_MS_RANGE,
    FLUX_MULTI_MODEL,
)
from .const import (
    CONF_EAGER_EOT_THRESHOLD,
    CONF_EOT_THRESHOLD,
    CONF_EOT_TIMEOUT_MS,
    CONF_HOME_TERMS,
    CONF_KEYTERMS,
    CONF_LANGUAGE_HINTS,
    CONF_MIP_OPT_OUT,
    CONF_MODEL,
    FALLBACK_MODELS,
    RECOMMENDED_FLUX_OPTIONS,
)
from .data import DeepgramConfigEntry
from .language import MULTI
from .subentry_flow import ProfileSubentryFlow, keyterm_error
from .term_budget import QUERY_BUDGET, TOKEN_BUDGET


def flux_models(models: Mapping[str, tuple[str, ...]], current: str) -> list[str]:
    """The Flux models the entry knows (or the built-in ones), and the current one."""
    choices = {model for model in models if is_flux(model)}
    if not choices:
        choices = {model for model in FALLBACK_MODELS if is_flux(model)}
    if current:
        choices.add(current)
    return sorted(choices)


def hint_choices(models: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The languages the multi model offers, for its language hints."""
    languages = models.get(FLUX_MULTI_MODEL) or FALLBACK_MODELS[FLUX_MULTI_MODEL]
    return sorted(lang for lang in languages if lang != MULTI)


def _clean(values: Iterable[str]) -> list[str]:
    cleaned = (" ".join(str(value).split()) for value in values)
    return list(dict.fromkeys(value for value in cleaned if value))


def flux_profile_from_input(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The subentry data: exactly the keys of RECOMMENDED_FLUX_OPTIONS."""
    eager = user_input.get(CONF_EAGER_EOT_THRESHOLD)
    return {
        CONF_MODEL: str(user_input[CONF_MODEL]).strip(),
        CONF_EOT_THRESHOLD: round(float(user_input[CONF_EOT_THRESHOLD]), 2),
        CONF_EAGER_EOT_THRESHOLD: None if eager is None else round(float(eager), 2),
        CONF_EOT_TIMEOUT_MS: round(float(user_input[CONF_EOT_TIMEOUT_MS])),
        CONF_KEYTERMS: _clean(user_input.get(CONF_KEYTERMS) or []),
        CONF_HOME_TERMS: bool(user_input.get(CONF_HOME_TERMS, True)),
        CONF_LANGUAGE_HINTS: _clean(user_input.get(CONF_LANGUAGE_HINTS) or []),
        CONF_MIP_OPT_OUT: bool(user_input[CONF_MIP_OPT_OUT]),
    }


def flux_placeholders() -> dict[str, str]:
    """Every placeholder of the form's texts, with the key-term budget filled in."""
    return {
        "error": "",
        "character": "",
        "tokens": "",
        "query_bytes": "",
        "token_budget": str(TOKEN_BUDGET),
        "query_budget": str(QUERY_BUDGET),
    }


def validate_flux_profile(
    profile: Mapping[str, Any],
) -> tuple[dict[str, str], dict[str, str]]:
    """Form errors for a Flux profile and the placeholders their texts use."""
    placeholders = flux_placeholders()
    model = profile[CONF_MODEL]
    if not is_flux(model):
        return {CONF_MODEL: "not_flux"}, placeholders
    if profile[CONF_LANGUAGE_HINTS] and model != FLUX_MULTI_MODEL:
        return {CONF_LANGUAGE_HINTS: "language_hints_unsupported"}, placeholders
    eager = profile[CONF_EAGER_EOT_THRESHOLD]
    if eager is not None and eager > profile[CONF_EOT_THRESHOLD]:
        return {CONF_EAGER_EOT_THRESHOLD: "eager_above_threshold"}, placeholders
    # The profile's own terms, by the same budget as nova profiles' forms.
    if error := keyterm_error(profile[CONF_KEYTERMS], placeholders):
        return {CONF_KEYTERMS: error}, placeholders
    try:
        FluxOptions(
            model=model,
            eot_threshold=profile[CONF_EOT_THRESHOLD],
            eager_eot_threshold=eager,
            eot_timeout_ms=profile[CONF_EOT_TIMEOUT_MS],
            language_hints=tuple(profile[CONF_LANGUAGE_HINTS]),
        ).validate()
    except DeepgramOptionsError as err:
        placeholders["error"] = str(err)
        return {CONF_LANGUAGE_HINTS: "invalid_option"}, placeholders
    return {}, placeholders


def _number(bounds: tuple[float, float], step: float, unit: str = "") -> NumberSelector:
    low, high = bounds
    config = NumberSelectorConfig(
        min=low, max=high, step=step, mode=NumberSelectorMode.BOX
    )
    if unit:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


class DeepgramFluxSubentryFlow(ProfileSubentryFlow):
    """Add or change a Flux profile (one STT entity each)."""

    recommended = RECOMMENDED_FLUX_OPTIONS

    @override
    def _from_input(self, user_input: Mapping[str, Any]) -> dict[str, Any]:
        return flux_profile_from_input(user_input)

    @override
    def _validate(
        self, entry: DeepgramConfigEntry, profile: dict[str, Any]
    ) -> tuple[dict[str, str], dict[str, str]]:
        return validate_flux_profile(profile)

    @override
    def _placeholders(self) -> dict[str, str]:
        return flux_placeholders()

    @override
    def _schema(self, entry: DeepgramConfigEntry) -> probatio.Schema:
        models = entry.runtime_data.models
        defaults = RECOMMENDED_FLUX_OPTIONS
        fields: dict[probatio.Marker, Any] = {probatio.Optional(CONF_NAME): str}
        fields[probatio.Required(CONF_MODEL, default=defaults[CONF_MODEL])] = (
            SelectSelector(
                SelectSelectorConfig(
                    options=flux_models(models, self._profile[CONF_MODEL]),
                    mode=SelectSelectorMode.DROPDOWN,
                    custom_value=True,
                )
            )
        )
        fields[
            probatio.Required(CONF_EOT_THRESHOLD, default=defaults[CONF_EOT_THRESHOLD])
        ] = _number(EOT_THRESHOLD_RANGE, 0.01)
        fields[probatio.Optional(CONF_EAGER_EOT_THRESHOLD)] = _number(
            EAGER_EOT_THRESHOLD_RANGE, 0.01
        )
        fields[
            probatio.Required(
                CONF_EOT_TIMEOUT_MS, default=defaults[CONF_EOT_TIMEOUT_MS]
            )
        ] = _number(EOT_TIMEOUT_MS_RANGE, 100, "ms")
        fields[probatio.Optional(CONF_KEYTERMS)] = TextSelector(
            TextSelectorConfig(multiple=True)
        )
        fields[probatio.Required(CONF_HOME_TERMS, default=True)] = bool
        fields[probatio.Optional(CONF_LANGUAGE_HINTS)] = SelectSelector(
            SelectSelectorConfig(
                options=hint_choices(models),
                multiple=True,
                custom_value=True,
                mode=SelectSelectorMode.DROPDOWN,
            )
        )
        fields[probatio.Required(CONF_MIP_OPT_OUT, default=False)] = bool
        return probatio.Schema(fields)
