"""Fix flows of the integration's repair issues.

"Model not allowed" (a 403 on a profile's run, see `problems.py`): the flow
offers the models of the profile's family. Keeping the model says it is now
allowed in the Deepgram console (the next run tries it again); another model
is checked with the profile's other settings, as the profile's own form
would, and saved, which reloads the entry.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import probatio

from .const import (
    CONF_MODEL,
    DOMAIN,
    RECOMMENDED_FLUX_OPTIONS,
    RECOMMENDED_STT_OPTIONS,
    SUBENTRY_FLUX,
)
from .data import DeepgramConfigEntry
from .flux_flow import flux_models, validate_flux_profile
from .problems import DATA_ENTRY_ID, DATA_SUBENTRY_ID
from .profile_names import is_generated_name, numbered_name, profile_name
from .subentry_flow import model_choices, validate_profile


async def async_create_fix_flow(
    hass: HomeAssistant,
    issue_id: str,
    data: dict[str, str | int | float | None] | None,
) -> RepairsFlow:
    """The fix flow of a fixable issue: only "model not allowed" issues are."""
    data = data or {}
    return ModelNotAllowedFlow(
        str(data.get(DATA_ENTRY_ID)), str(data.get(DATA_SUBENTRY_ID))
    )


class ModelNotAllowedFlow(RepairsFlow):
    """Choose another model for a profile, or keep it once it is allowed."""

    def __init__(self, entry_id: str, subentry_id: str) -> None:
        """Fix the profile `subentry_id` of the entry `entry_id`."""
        super().__init__()
        self._entry_id = entry_id
        self._subentry_id = subentry_id

    async def async_step_init(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> RepairsFlowResult:
        """Start at the model (the input here is the issue's id, not a form's)."""
        return await self.async_step_model()

    async def async_step_model(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """The profile's model: kept (allowed now) or another one."""
        entry: DeepgramConfigEntry | None = self.hass.config_entries.async_get_entry(
            self._entry_id
        )
        if (
            entry is None
            or entry.state is not ConfigEntryState.LOADED
            or self._subentry_id not in entry.subentries
        ):
            return self.async_abort(reason="profile_gone")
        subentry = entry.subentries[self._subentry_id]
        flux = subentry.subentry_type == SUBENTRY_FLUX
        recommended = RECOMMENDED_FLUX_OPTIONS if flux else RECOMMENDED_STT_OPTIONS
        profile = {**recommended, **subentry.data}
        current = str(profile[CONF_MODEL])
        models = entry.runtime_data.models
        errors: dict[str, str] = {}
        if user_input is not None:
            model = str(user_input[CONF_MODEL]).strip()
            if model == current:
                # Allowed in the console now: the next run tries it again.
                return self.async_create_entry(data={})
            changed = {**profile, CONF_MODEL: model}
            found, _ = (
                validate_flux_profile(changed)
                if flux
                else validate_profile(changed, models)
            )
            if not found:
                self._save(entry, subentry, profile, changed)
                return self.async_create_entry(data={})
            errors["base"] = "settings_conflict"
        choices = (
            flux_models(models, current) if flux else model_choices(models, current)
        )
        return self.async_show_form(
            step_id="model",
            data_schema=probatio.Schema(
                {
                    probatio.Required(CONF_MODEL, default=current): SelectSelector(
                        SelectSelectorConfig(
                            options=choices,
                            mode=SelectSelectorMode.DROPDOWN,
                            custom_value=True,
                        )
                    )
                }
            ),
            errors=errors,
            description_placeholders=self._placeholders(),
        )

    def _placeholders(self) -> dict[str, str]:
        """The issue's own placeholders (profile, model, entry, console)."""
        found = ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id)
        return dict(found.translation_placeholders or {}) if found else {}

    def _save(
        self,
        entry: DeepgramConfigEntry,
        subentry: ConfigSubentry,
        profile: dict[str, Any],
        changed: dict[str, Any],
    ) -> None:
        """Store the new model; a generated name follows it, as in the form."""
        title = subentry.title
        if is_generated_name(title, profile):
            others = [
                other.title
                for other in entry.subentries.values()
                if other.subentry_id != subentry.subentry_id
            ]
            title = numbered_name(profile_name(changed), others)
        self.hass.config_entries.async_update_subentry(
            entry, subentry, data=changed, title=title
        )
