"""What the subentry flows of every profile type share: the form, the names.

A profile's form (nova, Flux or voice) is saved when valid, else shown
again with its errors and the values typed. A blank name becomes one after
the profile's settings, numbered when another profile of the entry
(listening or voice) has it; on reconfigure, an unchanged generated name
follows the new settings. Each profile type brings its steps, its fields,
its checks and how its name is made.
"""

from __future__ import annotations

from collections.abc import Mapping
import math
from typing import Any, override

from homeassistant.config_entries import (
    SOURCE_USER,
    ConfigEntryState,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME
from homeassistant.helpers.selector import NumberSelector
import probatio

from .data import DeepgramConfigEntry
from .profile_names import is_numbered_name, numbered_name, same_name


class NumberBox(NumberSelector):
    """A number box whose bounds the form checks, so its error names them.

    The plain selector refuses a value out of bounds before the form sees
    it, with a bare "Value 5.0 is too small" (and a voice's speed bounds
    cannot be its family's: the family is chosen in the same form).
    """

    @override
    def __call__(self, data: Any) -> float:
        value = float(probatio.Coerce(float)(data))
        if not math.isfinite(value):
            raise probatio.Invalid("Enter a number")
        return value


class NamedProfileFlow(ConfigSubentryFlow):
    """Add or change a profile: its form's round trip, its naming and saving."""

    recommended: Mapping[str, Any]
    _profile: dict[str, Any]
    _name: str = ""

    @property
    def _is_new(self) -> bool:
        return self.source == SOURCE_USER

    def _start_reconfigure(self) -> None:
        """Start from the saved profile (the recommended settings filling gaps)."""
        subentry = self._get_reconfigure_subentry()
        self._profile = {**self.recommended, **subentry.data}
        self._name = subentry.title

    async def _async_profile_form(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        """The profile's form: saved when valid, else shown (again)."""
        entry: DeepgramConfigEntry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        errors: dict[str, str] = {}
        placeholders = self._placeholders()
        if user_input is not None:
            profile = self._from_input(user_input)
            name = str(user_input.get(CONF_NAME) or "").strip()
            errors, placeholders = self._validate(entry, profile)
            if name and self._name_taken(entry, name):
                errors[CONF_NAME] = "name_taken"
            if not errors:
                return self._async_save(entry, profile, name)
            self._profile = profile
            self._name = name
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                self._schema(entry), self._suggested()
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _from_input(self, user_input: Mapping[str, Any]) -> dict[str, Any]:
        """The subentry data the form's input makes."""
        raise NotImplementedError

    def _validate(
        self, entry: DeepgramConfigEntry, profile: dict[str, Any]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Form errors for the profile and the placeholders their texts use."""
        raise NotImplementedError

    def _placeholders(self) -> dict[str, str]:
        """Every placeholder of the form's texts."""
        raise NotImplementedError

    def _schema(self, entry: DeepgramConfigEntry) -> probatio.Schema:
        """The form's fields."""
        raise NotImplementedError

    def _generated_name(
        self, entry: DeepgramConfigEntry, profile: Mapping[str, Any]
    ) -> str:
        """The name a profile with these settings gets when none is typed."""
        raise NotImplementedError

    def _is_generated_name(
        self, entry: DeepgramConfigEntry, title: str, profile: Mapping[str, Any]
    ) -> bool:
        """Whether `title` is the saved profile's generated name (or numbered)."""
        return is_numbered_name(title, self._generated_name(entry, profile))

    def _suggested(self) -> dict[str, Any]:
        suggested = {
            key: value for key, value in self._profile.items() if value is not None
        }
        if self._name:
            suggested[CONF_NAME] = self._name
        return suggested

    def _other_titles(self, entry: DeepgramConfigEntry) -> list[str]:
        """The names of the entry's other profiles (listening and voice)."""
        own = None if self._is_new else self._get_reconfigure_subentry().subentry_id
        return [
            subentry.title
            for subentry in entry.subentries.values()
            if subentry.subentry_id != own
        ]

    def _name_taken(self, entry: DeepgramConfigEntry, name: str) -> bool:
        return any(same_name(name, title) for title in self._other_titles(entry))

    def _async_save(
        self, entry: DeepgramConfigEntry, profile: dict[str, Any], name: str
    ) -> SubentryFlowResult:
        """Create or update the profile, named as typed or after its settings."""
        if self._is_new:
            title = name or numbered_name(
                self._generated_name(entry, profile), self._other_titles(entry)
            )
            return self.async_create_entry(title=title, data=profile)
        subentry = self._get_reconfigure_subentry()
        saved = {**self.recommended, **subentry.data}
        # An unchanged generated name follows the new settings.
        if not name or (
            name == subentry.title and self._is_generated_name(entry, name, saved)
        ):
            name = numbered_name(
                self._generated_name(entry, profile), self._other_titles(entry)
            )
        return self.async_update_and_abort(
            entry, subentry, data=profile, title=name, reason="reconfigure_successful"
        )
