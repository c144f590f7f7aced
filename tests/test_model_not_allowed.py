"""A 403 on a run: the profile's model is not allowed, never re-authentication.

The key is valid (setup checked it), so asking for it again would pass and
the next command would ask once more. Instead the run fails with a repair
issue naming the profile and its model; 401 keeps re-authentication.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from homeassistant.components.assist_pipeline import PipelineEvent, PipelineEventType
from homeassistant.components.stt import SpeechResultState
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram.const import (
    CONF_MODEL,
    CONSOLE_URL,
    DOMAIN,
    ISSUE_MODEL_NOT_ALLOWED,
    RECOMMENDED_FLUX_OPTIONS,
    RECOMMENDED_STT_OPTIONS,
    SUBENTRY_FLUX,
)
from custom_components.deepgram.problems import ISSUE_MODEL_NOT_ALLOWED_NO_PROFILE
from custom_components.deepgram.transcriber import Transcriber, live_options
from tests.conftest import entry_with_profiles, set_up_entry
from tests.deepgram_server import FakeDeepgram, Faults
from tests.deepgram_server.testing import silence, wav_silence
from tests.services_helpers import call_transcribe

from .pipeline_helpers import (
    METADATA,
    chunks,
    run_pipeline,
    setup_pipeline,
    speech_pcm,
    transcribe,
)

KITCHEN = "Kitchen"
KITCHEN_ENTITY = "stt.kitchen"
HALL = "Hall"
HALL_ENTITY = "stt.hall"


@pytest.fixture
async def entry(hass: HomeAssistant, server: FakeDeepgram) -> MockConfigEntry:
    """Two nova-3 profiles, named unlike their model."""
    profile = dict(RECOMMENDED_STT_OPTIONS)
    return await set_up_entry(
        hass, entry_with_profiles(server, {KITCHEN: profile, HALL: profile})
    )


def subentry_id(entry: MockConfigEntry, title: str) -> str:
    return next(s.subentry_id for s in entry.subentries.values() if s.title == title)


def model_issue(
    hass: HomeAssistant, entry: MockConfigEntry, title: str = KITCHEN
) -> ir.IssueEntry | None:
    """The profile's "model not allowed" repair issue, if raised."""
    issue_id = f"{ISSUE_MODEL_NOT_ALLOWED}_{entry.entry_id}_{subentry_id(entry, title)}"
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id)


def placeholders(issue: ir.IssueEntry) -> dict[str, str]:
    assert issue.translation_placeholders is not None
    return issue.translation_placeholders


def integration_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The integration's warnings and errors."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components") and r.levelno >= logging.WARNING
    ]


async def no_reauth(hass: HomeAssistant) -> bool:
    await hass.async_block_till_done()
    return hass.config_entries.flow.async_progress() == []


async def test_voice_command_refused_403_raises_the_model_repair(
    hass: HomeAssistant,
    server: FakeDeepgram,
    entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Through the real pipeline: an error, the profile's issue, no reauth, twice."""
    server.faults = Faults(handshake_status=403)
    pipeline_id = await setup_pipeline(hass, stt_engine=KITCHEN_ENTITY)
    for _ in range(2):
        events: list[PipelineEvent] = []
        await run_pipeline(hass, pipeline_id, chunks(speech_pcm()), events)
        error = next(e for e in events if e.type is PipelineEventType.ERROR)
        assert error.data is not None
        assert error.data["code"] == "stt-stream-failed"
        assert await no_reauth(hass)
    issue = model_issue(hass, entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == ISSUE_MODEL_NOT_ALLOWED
    assert issue.translation_placeholders == {
        "console_url": CONSOLE_URL,
        "entry_title": entry.title,
        "profile": KITCHEN,
        "model": "nova-3",
    }
    assert model_issue(hass, entry, HALL) is None  # the other profile ran nothing
    # The texts shown name the profile and the model.
    texts = await async_get_translations(hass, "en", "issues", [DOMAIN])
    prefix = f"component.{DOMAIN}.issues.{ISSUE_MODEL_NOT_ALLOWED}"
    title = texts[f"{prefix}.title"].format(**issue.translation_placeholders)
    assert title == "Deepgram does not allow model nova-3 for profile Kitchen"
    description = texts[f"{prefix}.fix_flow.step.model.description"].format(
        **placeholders(issue)
    )
    assert "profile Kitchen" in description
    assert "model nova-3" in description
    assert issue.is_fixable  # the fix flow: test_model_not_allowed_fix.py
    # One error line a run, naming profile and model, not asking for the key.
    lines = integration_lines(caplog)
    assert len(lines) == 2
    for line in lines:
        assert "model nova-3" in line
        assert "profile Kitchen" in line
        assert "HTTP 403" in line
        assert "Re-authenticate" not in line


async def test_refused_run_without_audio_is_no_reauth_either(
    hass: HomeAssistant, server: FakeDeepgram, entry: MockConfigEntry
) -> None:
    """A run that ends before any audio still learns of the 403 (same reaction)."""
    server.faults = Faults(handshake_status=403)
    result = await transcribe(hass, chunks(b""), entity_id=KITCHEN_ENTITY)
    assert result.result is SpeechResultState.ERROR
    assert await no_reauth(hass)
    assert model_issue(hass, entry) is not None


async def test_rejected_key_401_still_starts_reauth(
    hass: HomeAssistant,
    server: FakeDeepgram,
    entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """401 is the key: re-authentication, and no model issue."""
    server.faults = Faults(handshake_status=401)
    pipeline_id = await setup_pipeline(hass, stt_engine=KITCHEN_ENTITY)
    events: list[PipelineEvent] = []
    await run_pipeline(hass, pipeline_id, chunks(speech_pcm()), events)
    assert PipelineEventType.ERROR in [e.type for e in events]
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert model_issue(hass, entry) is None
    [line] = integration_lines(caplog)
    assert "Re-authenticate" in line
    assert "profile Kitchen (model nova-3)" in line


async def test_a_run_without_a_registered_entity_is_named_by_its_model(
    hass: HomeAssistant, server: FakeDeepgram, entry: MockConfigEntry
) -> None:
    """A transcriber whose entity the registry does not know (none of ours):
    the issue is the model's, named after the entry."""
    server.faults = Faults(handshake_status=403)
    run = Transcriber(hass, entry, None)
    (subentry, _) = entry.subentries.values()
    options = live_options(subentry.data, "en", METADATA)
    result = await run.async_transcribe(options, chunks(silence(0.3)))
    assert result.result is SpeechResultState.ERROR
    assert await no_reauth(hass)
    issue_id = f"{ISSUE_MODEL_NOT_ALLOWED}_{entry.entry_id}_nova-3"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert placeholders(issue)["profile"] == entry.title
    # No profile to change: no fix flow (it could only abort), a text instead.
    assert not issue.is_fixable
    assert issue.data is None
    assert issue.translation_key == ISSUE_MODEL_NOT_ALLOWED_NO_PROFILE
    texts = await async_get_translations(hass, "en", "issues", [DOMAIN])
    prefix = f"component.{DOMAIN}.issues.{ISSUE_MODEL_NOT_ALLOWED_NO_PROFILE}"
    title = texts[f"{prefix}.title"].format(**placeholders(issue))
    assert title == f"Deepgram does not allow model nova-3 for {entry.title}"
    description = texts[f"{prefix}.description"].format(**placeholders(issue))
    assert "model nova-3" in description
    assert CONSOLE_URL in description
    # Its next success clears it, as a profile's would.
    server.faults = Faults()
    result = await run.async_transcribe(options, chunks(silence(0.3)))
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_success_clears_only_its_profiles_issue(
    hass: HomeAssistant, server: FakeDeepgram, entry: MockConfigEntry
) -> None:
    """The model issue goes with the profile's next success, not another's."""
    server.faults = Faults(handshake_status=403)
    for entity_id in (KITCHEN_ENTITY, HALL_ENTITY):
        await transcribe(hass, chunks(silence(0.3)), entity_id=entity_id)
    assert model_issue(hass, entry) is not None
    assert model_issue(hass, entry, HALL) is not None
    server.faults = Faults()
    result = await transcribe(hass, chunks(silence(0.3)), entity_id=HALL_ENTITY)
    assert result.result is SpeechResultState.SUCCESS
    assert model_issue(hass, entry, HALL) is None
    assert model_issue(hass, entry) is not None
    result = await transcribe(hass, chunks(silence(0.3)), entity_id=KITCHEN_ENTITY)
    assert result.result is SpeechResultState.SUCCESS
    assert model_issue(hass, entry) is None


async def test_changed_profile_and_removed_entry_clear_the_issue(
    hass: HomeAssistant, server: FakeDeepgram, entry: MockConfigEntry
) -> None:
    """A changed profile is tried anew (the entry reloads); removal clears all."""
    server.faults = Faults(handshake_status=403)
    await transcribe(hass, chunks(silence(0.3)), entity_id=KITCHEN_ENTITY)
    assert model_issue(hass, entry) is not None
    # The credits issue is no model issue: a reload does not prove credits.
    server.faults = Faults(handshake_status=402)
    await transcribe(hass, chunks(silence(0.3)), entity_id=HALL_ENTITY)
    payment_issue = f"payment_required_{entry.entry_id}"
    server.faults = Faults(handshake_status=403)
    subentry = entry.subentries[subentry_id(entry, KITCHEN)]
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, CONF_MODEL: "nova-2"}
    )
    await hass.async_block_till_done()
    assert model_issue(hass, entry) is None
    assert ir.async_get(hass).async_get_issue(DOMAIN, payment_issue) is not None
    await transcribe(hass, chunks(silence(0.3)), entity_id=KITCHEN_ENTITY)
    issue = model_issue(hass, entry)
    assert issue is not None
    assert placeholders(issue)["model"] == "nova-2"
    await hass.config_entries.async_remove(entry.entry_id)
    assert model_issue(hass, entry) is None


async def test_flux_run_refused_403_raises_the_model_repair(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Flux runs react as nova runs do."""
    entry = await set_up_entry(
        hass,
        entry_with_profiles(
            server,
            {"Flux": dict(RECOMMENDED_FLUX_OPTIONS)},
            subentry_type=SUBENTRY_FLUX,
        ),
    )
    server.faults = Faults(handshake_status=403)
    result = await transcribe(hass, chunks(silence(0.3)), entity_id="stt.flux")
    assert result.result is SpeechResultState.ERROR
    assert await no_reauth(hass)
    issue = model_issue(hass, entry, "Flux")
    assert issue is not None
    assert placeholders(issue)["model"] == "flux-general-en"
    assert placeholders(issue)["profile"] == "Flux"


async def test_transcribe_action_refused_403_raises_the_same_repair(
    hass: HomeAssistant,
    server: FakeDeepgram,
    entry: MockConfigEntry,
    allowed: Path,
) -> None:
    """The action's 403: its error names profile and model, the same issue, no
    reauth; its next success clears the issue."""
    path = allowed / "voicemail.wav"
    path.write_bytes(wav_silence(1.0))
    data: dict[str, Any] = {"path": str(path), "profile": KITCHEN_ENTITY}
    server.faults = Faults(prerecorded_status=403)
    with pytest.raises(HomeAssistantError) as info:
        await call_transcribe(hass, **data)
    assert info.value.translation_key == "transcribe_forbidden"
    message = str(info.value)
    assert "model nova-3 (profile Kitchen)" in message
    assert "HTTP 403" in message
    assert await no_reauth(hass)
    issue = model_issue(hass, entry)
    assert issue is not None
    assert placeholders(issue)["profile"] == KITCHEN
    server.faults = Faults()
    await call_transcribe(hass, **data)
    assert model_issue(hass, entry) is None
