"""Home Assistant's own sentence matcher, asked whether words are a command.

The built-in conversation agent recognises a text without acting on it:
sentence triggers of automations first, then the intents of exposed
entities (strictly, as the pipeline's first matching stage does). Anything
that goes wrong (no conversation integration, another release changed the
agent) raises, and the end-of-turn policy then stops asking.
"""

from __future__ import annotations

from homeassistant.core import Context, HomeAssistant

from .end_of_speech import SentenceMatcher


class MatcherUnavailableError(Exception):
    """Home Assistant's sentence matcher cannot be used."""


def sentence_matcher(hass: HomeAssistant, language: str) -> SentenceMatcher:
    """A matcher for texts in `language` (the pipeline's speech language)."""

    async def matches(text: str) -> bool:
        # Imported here: a conversation integration that fails to import
        # must not stop speech-to-text, only this matcher.
        from homeassistant.components import conversation  # noqa: PLC0415
        from homeassistant.components.conversation.agent_manager import (  # noqa: PLC0415
            async_get_agent,
        )

        if "conversation" not in hass.config.components:
            raise MatcherUnavailableError("the conversation integration is not loaded")
        agent = async_get_agent(hass, conversation.HOME_ASSISTANT_AGENT)
        # The built-in agent's recognisers (not part of the agent interface).
        recognize_trigger = getattr(agent, "async_recognize_sentence_trigger", None)
        recognize_intent = getattr(agent, "async_recognize_intent", None)
        if recognize_trigger is None or recognize_intent is None:
            raise MatcherUnavailableError("no built-in sentence matcher")
        user_input = conversation.ConversationInput(
            text=text,
            context=Context(),
            conversation_id=None,
            device_id=None,
            satellite_id=None,
            language=language,
            agent_id=conversation.HOME_ASSISTANT_AGENT,
        )
        if await recognize_trigger(user_input):
            return True
        result = await recognize_intent(user_input, strict_intents_only=True)
        return result is not None and not result.unmatched_entities

    return matches
