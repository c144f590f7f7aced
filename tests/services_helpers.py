"""Fixtures and helpers of the `deepgram.transcribe` tests."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant, ServiceResponse
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram.const import DOMAIN
from tests.deepgram_server import FakeDeepgram, RestRequest

FIXTURES = Path(__file__).parent / "fixtures"
COMPONENT = Path(__file__).parent.parent / "custom_components" / "deepgram"
WAV = FIXTURES / "turn_on_the_kitchen_light.wav"
OGG = FIXTURES / "remember_to_buy_milk_and_eggs.ogg"
WAV_SECONDS = (WAV.stat().st_size - 44) / 32000
ENTITY_ID = "stt.deepgram_nova_3"

type Transcribe = Callable[..., Coroutine[Any, Any, dict[str, Any]]]


def posts(server: FakeDeepgram) -> list[RestRequest]:
    """The pre-recorded requests the server saw."""
    return [r for r in server.rest_requests if r.method == "POST"]


@pytest.fixture
def allowed(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A directory listed in allowlist_external_dirs."""
    folder = tmp_path / "allowed"
    folder.mkdir()
    hass.config.allowlist_external_dirs = {str(folder)}
    return folder


@pytest.fixture
async def media_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """The `local` media directory of a loaded media source."""
    folder = tmp_path / "media"
    folder.mkdir()
    hass.config.media_dirs = {"local": str(folder)}
    assert await async_setup_component(hass, "media_source", {})
    return folder


async def call_transcribe(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    """Call the action with `data` and return its response data."""
    response: ServiceResponse = await hass.services.async_call(
        DOMAIN, "transcribe", data, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


@pytest.fixture
def transcribe(hass: HomeAssistant, setup_integration: MockConfigEntry) -> Transcribe:
    """Call the action (with the test entry set up) and return its response data."""

    async def call(**data: Any) -> dict[str, Any]:
        return await call_transcribe(hass, **data)

    return call
