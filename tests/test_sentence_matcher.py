"""Home Assistant's sentence matcher, as the end-of-turn policy asks it."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from custom_components.deepgram.sentence_matcher import (
    MatcherUnavailableError,
    sentence_matcher,
)

from .pipeline_helpers import setup_pipeline


async def test_commands_match_and_other_words_do_not(hass: HomeAssistant) -> None:
    """Intents of exposed entities and automation sentences; nothing is run."""
    await setup_pipeline(hass)
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "triggers": {"trigger": "conversation", "command": ["movie time"]},
                "actions": {"action": "light.turn_on", "target": {"entity_id": "all"}},
            }
        },
    )
    await hass.async_block_till_done()
    matches = sentence_matcher(hass, "en-US")

    assert await matches("Turn on the kitchen light.")
    assert await matches("Movie time!")
    assert not await matches("Turn on the")
    assert not await matches("Tell me a story")
    assert not await matches("")
    # Recognising is not acting.
    await hass.async_block_till_done()
    state = hass.states.get("light.kitchen_light")
    assert state is not None
    assert state.state != "on"


async def test_without_the_conversation_integration(hass: HomeAssistant) -> None:
    with pytest.raises(MatcherUnavailableError):
        await sentence_matcher(hass, "en-US")("turn on the light")


async def test_an_agent_without_recognisers(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another release changed the built-in agent: unavailable, not a crash."""
    await setup_pipeline(hass)

    def no_agent(*args: Any) -> object:
        return object()

    monkeypatch.setattr(
        "homeassistant.components.conversation.agent_manager.async_get_agent",
        no_agent,
    )
    with pytest.raises(MatcherUnavailableError):
        await sentence_matcher(hass, "en-US")("turn on the light")
