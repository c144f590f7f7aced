"""Subentry flow of voice profiles (subentry type `tts`): one TTS entity each.

Deepgram lists hundreds of voices, so the form asks in two steps: first a
language (those the voices speak, Home Assistant's own first), then a voice
of that language, its speed, its expressivity (Flux voices) and the Model
Improvement Program opt-out. A voice model that is not listed may be typed
in. The speak options of the protocol layer (`api.SpeakOptions`) judge
every value, so the form refuses just what a speak socket would, on the
field at fault, with a text naming the family's range.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, override

from homeassistant.config_entries import ConfigEntryState, SubentryFlowResult
from homeassistant.const import CONF_LANGUAGE, CONF_NAME
from homeassistant.helpers.selector import (
    LanguageSelector,
    LanguageSelectorConfig,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import probatio

from .api import DEFAULT_SPEAK_MODEL, DeepgramOptionsError, SpeakOptions, Voice
from .api.speak_options import (
    EXPRESSIVITY_RANGE,
    V1_SPEED_RANGE,
    V2_SPEED_RANGE,
    V2_SPEED_STEP,
    SpeakFamily,
    speak_family,
)
from .const import (
    CONF_EXPRESSIVITY,
    CONF_MIP_OPT_OUT,
    CONF_SPEED,
    CONF_VOICE,
    RECOMMENDED_TTS_OPTIONS,
)
from .data import DeepgramConfigEntry
from .profile_flow import NamedProfileFlow, NumberBox
from .profile_names import voice_name

ENGLISH: Final = "en"
FAMILY_LABELS: Final[dict[SpeakFamily, str]] = {
    "flux": "Flux",
    "aura-2": "Aura-2",
    "aura": "Aura",
}
_SPEED_BOUNDS: Final = (
    min(V1_SPEED_RANGE[0], V2_SPEED_RANGE[0]),
    max(V1_SPEED_RANGE[1], V2_SPEED_RANGE[1]),
)
"""What the speed box offers: every family's range (each is checked on save)."""


def primary(tag: str) -> str:
    """A language tag's primary subtag: `en-US` -> `en`."""
    return tag.strip().split("-", 1)[0].lower()


def _model_parts(model: str) -> tuple[SpeakFamily, str, str] | None:
    """`(family, voice, language)` of a voice model; None if it names no voice."""
    try:
        family = speak_family(model)
    except DeepgramOptionsError:
        return None
    voice, _, language = model.strip()[len(family) + 1 :].partition("-")
    return family, voice, language


def model_language(model: str) -> str | None:
    """The primary language a voice model names (`aura-2-thalia-en` -> `en`)."""
    parts = _model_parts(model)
    return primary(parts[2]) if parts else None


def speaks(voice: Voice, language: str) -> bool:
    """Whether the voice speaks the language (by primary subtag)."""
    return any(primary(tag) == language for tag in voice.languages)


def voice_speaks(model: str, voices: Iterable[Voice], language: str) -> bool:
    """Whether the voice `model` speaks `language`: as Deepgram lists it,
    else (a voice typed in by hand) by the language its model names."""
    for voice in voices:
        if voice.name == model:
            return speaks(voice, language)
    return model_language(model) == language


def voice_language(model: str, voices: Iterable[Voice], hass_language: str) -> str:
    """The language a voice's profile is shown in: Home Assistant's when the
    voice speaks it (a voice of several languages), else the voice's main one."""
    voices = list(voices)
    if voice_speaks(model, voices, primary(hass_language)):
        return primary(hass_language)
    for voice in voices:
        if voice.name == model:
            return primary(voice.language)
    return model_language(model) or ""


def language_choices(voices: Iterable[Voice], current: str) -> list[str]:
    """The languages the voices speak, and the current voice's."""
    languages = {primary(tag) for voice in voices for tag in voice.languages}
    if language := model_language(current):
        languages.add(language)
    return sorted(languages)


def default_language(choices: Sequence[str], hass_language: str) -> str:
    """Home Assistant's language when a voice speaks it, else English."""
    wanted = primary(hass_language)
    for language in (wanted, ENGLISH):
        if language in choices:
            return language
    return next(iter(choices), ENGLISH)


def first_voice(voices: Iterable[Voice], language: str) -> Voice | None:
    """The voice a profile in `language` starts with; None if none speaks it.

    Thalia for English (Deepgram's default voice), else an Aura-2 voice whose
    main language it is: Aura-2 speaks the most languages, and Flux voices
    cost more.
    """
    wanted = primary(language)
    return min(
        (voice for voice in voices if speaks(voice, wanted)),
        key=lambda voice: (
            voice.name != DEFAULT_SPEAK_MODEL,
            voice.family != "aura-2",
            primary(voice.language) != wanted,
        ),
        default=None,
    )


def display_name(model: str, voices: Iterable[Voice]) -> str:
    """The voice's own name (`Thalia`): as listed, else from its model string."""
    for voice in voices:
        if voice.name == model:
            return voice.display_name
    parts = _model_parts(model)
    return parts[1].capitalize() if parts else model


def voice_label(voice: Voice) -> str:
    """How the dropdown shows a voice: `Thalia (Aura-2, feminine, American)`."""
    details = [FAMILY_LABELS[voice.family], voice.gender, voice.accent]
    return f"{voice.display_name} ({', '.join(d for d in details if d)})"


def voice_profile_from_input(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The subentry data: exactly the keys of RECOMMENDED_TTS_OPTIONS.

    An expressivity that is a whole number becomes an int (the number box
    gives floats); any other is kept for the check to refuse.
    """
    expressivity = user_input.get(CONF_EXPRESSIVITY)
    if isinstance(expressivity, float) and expressivity.is_integer():
        expressivity = int(expressivity)
    return {
        CONF_VOICE: str(user_input[CONF_VOICE]).strip(),
        CONF_SPEED: float(user_input[CONF_SPEED]),
        CONF_EXPRESSIVITY: expressivity,
        CONF_MIP_OPT_OUT: bool(user_input[CONF_MIP_OPT_OUT]),
    }


def voice_placeholders() -> dict[str, str]:
    """Every placeholder of the voice form's texts (the speed's filled on error)."""
    low, high = EXPRESSIVITY_RANGE
    return {
        "family": "",
        "speed_min": "",
        "speed_max": "",
        "speed_step": f"{V2_SPEED_STEP:g}",
        "expressivity_min": str(low),
        "expressivity_max": str(high),
    }


def validate_voice_profile(
    profile: Mapping[str, Any],
) -> tuple[dict[str, str], dict[str, str]]:
    """Form errors for a voice profile and the placeholders their texts use.

    Each value is put to `SpeakOptions` on its own, so the error lands on
    the field at fault.
    """
    placeholders = voice_placeholders()
    voice = profile[CONF_VOICE]
    try:
        family = SpeakOptions(model=voice).family
    except DeepgramOptionsError:
        return {CONF_VOICE: "unknown_voice"}, placeholders
    errors: dict[str, str] = {}
    speed = profile[CONF_SPEED]
    try:
        SpeakOptions(model=voice, speed=speed)
    except DeepgramOptionsError:
        low, high = V2_SPEED_RANGE if family == "flux" else V1_SPEED_RANGE
        placeholders.update(
            family=FAMILY_LABELS[family], speed_min=f"{low:g}", speed_max=f"{high:g}"
        )
        in_range = low <= speed <= high
        errors[CONF_SPEED] = "speed_step" if in_range else "speed_out_of_range"
    try:
        SpeakOptions(model=voice, expressivity=profile[CONF_EXPRESSIVITY])
    except DeepgramOptionsError:
        flux = family == "flux"
        errors[CONF_EXPRESSIVITY] = (
            "expressivity_out_of_range" if flux else "expressivity_flux_only"
        )
    return errors, placeholders


def _box(bounds: tuple[float, float], step: float) -> NumberBox:
    low, high = bounds
    return NumberBox(
        NumberSelectorConfig(min=low, max=high, step=step, mode=NumberSelectorMode.BOX)
    )


class DeepgramVoiceSubentryFlow(NamedProfileFlow):
    """Add or change a voice profile (one text-to-speech entity each)."""

    recommended = RECOMMENDED_TTS_OPTIONS
    _language: str = ""

    async def async_step_user(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> SubentryFlowResult:
        """Add a voice, in Home Assistant's language."""
        # No voice until a language is chosen: its first voice is suggested.
        self._profile = {**RECOMMENDED_TTS_OPTIONS, CONF_VOICE: ""}
        return await self.async_step_language()

    async def async_step_reconfigure(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> SubentryFlowResult:
        """Change a voice, starting from its language."""
        self._start_reconfigure()
        entry: DeepgramConfigEntry = self._get_entry()
        voices = (
            entry.runtime_data.voices if entry.state is ConfigEntryState.LOADED else ()
        )
        self._language = voice_language(
            self._profile[CONF_VOICE], voices, self.hass.config.language
        )
        return await self.async_step_language()

    async def async_step_language(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Choose the language whose voices the next step lists."""
        entry: DeepgramConfigEntry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        voices = entry.runtime_data.voices
        if user_input is not None:
            self._language = str(user_input[CONF_LANGUAGE])
            if not voice_speaks(self._profile[CONF_VOICE], voices, self._language):
                # Another language: start from its first voice, at its defaults.
                first = first_voice(voices, self._language)
                self._profile[CONF_VOICE] = first.name if first else ""
                self._profile[CONF_SPEED] = RECOMMENDED_TTS_OPTIONS[CONF_SPEED]
                self._profile[CONF_EXPRESSIVITY] = None
            return await self.async_step_voice()
        choices = language_choices(voices, self._profile[CONF_VOICE])
        language = self._language or default_language(
            choices, self.hass.config.language
        )
        schema = probatio.Schema(
            {
                probatio.Required(CONF_LANGUAGE): LanguageSelector(
                    LanguageSelectorConfig(languages=choices, native_name=True)
                )
            }
        )
        return self.async_show_form(
            step_id="language",
            data_schema=self.add_suggested_values_to_schema(
                schema, {CONF_LANGUAGE: language}
            ),
        )

    async def async_step_voice(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The language's voices, the speed, expressivity and opt-out, a name."""
        return await self._async_profile_form("voice", user_input)

    @override
    def _from_input(self, user_input: Mapping[str, Any]) -> dict[str, Any]:
        return voice_profile_from_input(user_input)

    @override
    def _validate(
        self, entry: DeepgramConfigEntry, profile: dict[str, Any]
    ) -> tuple[dict[str, str], dict[str, str]]:
        return validate_voice_profile(profile)

    @override
    def _placeholders(self) -> dict[str, str]:
        return voice_placeholders()

    @override
    def _schema(self, entry: DeepgramConfigEntry) -> probatio.Schema:
        """The voice form: only the chosen language's voices (and the current)."""
        voices = entry.runtime_data.voices
        current = self._profile[CONF_VOICE]
        offered = [voice for voice in voices if speaks(voice, self._language)]
        options = [
            SelectOptionDict(value=voice.name, label=voice_label(voice))
            for voice in offered
        ]
        if current and all(voice.name != current for voice in offered):
            options.append(SelectOptionDict(value=current, label=current))
        fields: dict[probatio.Marker, Any] = {probatio.Optional(CONF_NAME): str}
        fields[probatio.Required(CONF_VOICE)] = SelectSelector(
            SelectSelectorConfig(
                options=options, mode=SelectSelectorMode.DROPDOWN, custom_value=True
            )
        )
        fields[probatio.Required(CONF_SPEED, default=1.0)] = _box(
            _SPEED_BOUNDS, V2_SPEED_STEP
        )
        families = {voice.family for voice in offered}
        if (parts := _model_parts(current)) is not None:
            families.add(parts[0])
        if "flux" in families:
            low, high = EXPRESSIVITY_RANGE
            fields[probatio.Optional(CONF_EXPRESSIVITY)] = _box((low, high), 1)
        fields[probatio.Required(CONF_MIP_OPT_OUT, default=False)] = bool
        return probatio.Schema(fields)

    @override
    def _generated_name(
        self, entry: DeepgramConfigEntry, profile: Mapping[str, Any]
    ) -> str:
        """`Deepgram Thalia`: after the voice, as listed or from its model."""
        voices = entry.runtime_data.voices
        return voice_name(display_name(profile[CONF_VOICE], voices))

    @override
    def _async_save(
        self, entry: DeepgramConfigEntry, profile: dict[str, Any], name: str
    ) -> SubentryFlowResult:
        """Save the profile with its speed kept to two decimals.

        Flux's steps are 0.05, and no one hears a finer difference in an
        Aura voice.
        """
        profile[CONF_SPEED] = round(profile[CONF_SPEED], 2)
        return super()._async_save(entry, profile, name)
