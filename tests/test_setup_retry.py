"""Setup retries: Deepgram's 429 and 5xx ask for a delay where Home Assistant
takes one (`ConfigEntryNotReady(retry_after=...)`, new in 2026.11)."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.deepgram as integration
from custom_components.deepgram.const import FALLBACK_MODELS
from tests.deepgram_server import FakeDeepgram, Faults


class NotReadyWithDelay(ConfigEntryNotReady):
    """Home Assistant 2026.11's ConfigEntryNotReady, on 2026.10."""

    def __init__(self, *args: object, retry_after: float | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


@pytest.mark.parametrize(
    ("status", "delay"),
    [(429, 60.0), (500, 30.0), (503, 30.0), (None, None)],
)
async def test_retry_delay(
    hass: HomeAssistant,
    server: FakeDeepgram,
    config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    status: int | None,
    delay: float | None,
) -> None:
    """429 and 5xx at setup: not ready, with Deepgram's delay; else none."""
    monkeypatch.setattr(integration, "ConfigEntryNotReady", NotReadyWithDelay)
    monkeypatch.setattr(integration, "_TAKES_RETRY_AFTER", True)
    raised: list[NotReadyWithDelay] = []
    original = integration.not_ready

    def spy(err: Any) -> ConfigEntryNotReady:
        error = original(err)
        assert isinstance(error, NotReadyWithDelay)
        raised.append(error)
        return error

    monkeypatch.setattr(integration, "not_ready", spy)
    if status is None:
        await server.stop()  # unreachable: Home Assistant's own backoff
    else:
        server.faults = Faults(rest_status=status)
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    (error,) = raised
    assert error.retry_after == delay
    assert error.translation_key == "cannot_connect"


async def test_release_without_retry_after(
    hass: HomeAssistant, server: FakeDeepgram, config_entry: MockConfigEntry
) -> None:
    """Where ConfigEntryNotReady takes no delay (2026.10), none is passed."""
    server.faults = Faults(rest_status=429)
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert integration._TAKES_RETRY_AFTER is hasattr(ConfigEntryNotReady, "retry_after")


# -- answers that cannot be understood (issue 18, item 3) -------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000
"""JSON nested 100 000 deep (json.loads raises RecursionError)."""
NUMBER_FOR_LIST = b'{"stt": [{"name": "nova-3", "streaming": true, "languages": 5}]}'
"""A model list with a number where the languages belong (TypeError)."""


@pytest.mark.parametrize(
    "body",
    [DEEP, b'{"scopes": ' + DEEP + b"}"],
    ids=["deep", "deep-inside"],
)
async def test_a_key_check_answer_that_cannot_be_understood_is_retried(
    hass: HomeAssistant,
    server: FakeDeepgram,
    config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
) -> None:
    """Odd JSON from /v1/auth/token: setup is retried, not failed for good."""
    server.faults = Faults(odd_rest_answer=("/v1/auth/token", body))
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert "Unexpected error" not in caplog.text
    assert "nested too deeply" in caplog.text


@pytest.mark.parametrize(
    "body",
    [DEEP, b'{"stt": ' + DEEP + b"}", NUMBER_FOR_LIST],
    ids=["deep", "deep-inside", "number-for-list"],
)
async def test_a_model_list_that_cannot_be_understood_falls_back(
    hass: HomeAssistant,
    server: FakeDeepgram,
    config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
) -> None:
    """Odd JSON from /v1/models: set up with the built-in model list."""
    server.faults = Faults(odd_rest_answer=("/v1/models", body))
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.LOADED
    data = config_entry.runtime_data
    assert not data.models_from_server
    assert data.models == dict(FALLBACK_MODELS)
    assert "Using built-in model list" in caplog.text
    # The voices are read from both model lists after it (the odd one gives
    # the built-in Aura voices instead).
    assert [r.path for r in server.rest_requests] == [
        "/v1/auth/token",
        "/v1/models",
        "/v1/models",
        "/v2/models",
    ]
    assert any(voice.builtin for voice in data.voices)
