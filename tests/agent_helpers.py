"""A conversation agent that writes its answer as an LLM does, and a satellite.

`StreamingAgent` streams its answer into the chat log in deltas (the chat
log's delta API, as core's LLM agents do), so that the assist pipeline
starts speaking before the answer is complete. `Satellite` runs the
pipeline's events as a voice satellite does: it starts reading the answer's
audio from the run's TTS stream at `run-start`, before anything is said.

Both note what happened in one shared `order` list ("first audio",
"last delta"), so a test asserts the order of events, never their timing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import contextlib
from dataclasses import dataclass, field
import re
from typing import Any, Literal, override

from homeassistant.components import conversation, tts
from homeassistant.components.assist_pipeline import PipelineEvent, PipelineEventType
from homeassistant.components.assist_pipeline.pipeline import KEY_ASSIST_PIPELINE
from homeassistant.components.conversation.const import DATA_COMPONENT
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from tests.speak_helpers import REPLY

FIRST_AUDIO = "first audio"
LAST_DELTA = "last delta"
HOLD_SECONDS = 10.0
"""Longest the agent holds its last delta back for the satellite to hear audio."""
STT_ENTITY = "stt.deepgram_nova_3"


def word_pieces(text: str, size: int) -> list[str]:
    """`text` cut into pieces of at most `size` characters at word ends (each
    word with the space after it), as an LLM writes tokens; a longer word is
    a piece of its own."""
    pieces: list[str] = []
    for word in re.findall(r"\S+\s*", text):
        if pieces and len(pieces[-1]) + len(word) <= size:
            pieces[-1] += word
        else:
            pieces.append(word)
    return pieces


class StreamingAgent(conversation.ConversationEntity):
    """Writes `reply` in deltas of up to `size` characters, `pause` seconds apart.

    Before its last delta it waits (at most `HOLD_SECONDS`) for `hold_last`:
    set by the satellite when it hears the first audio. With a voice that
    speaks as the text comes, audio arrives while the answer is still being
    written, whatever the machine's speed; with one that waits for the whole
    text, no audio can come before the last delta, the wait runs out and the
    last delta is written first.

    `REPLY` in 40-character pieces: its third sentence is the last delta, so
    a hold longer than the voice's text gap (`speak_run.TEXT_GAP_SECONDS`,
    a slow machine) moves that whole sentence to a new socket, never half a
    word.
    """

    _attr_has_entity_name = False
    _attr_name = "Streaming agent"
    _attr_supports_streaming = True

    def __init__(
        self,
        order: list[str],
        reply: str = REPLY,
        size: int = 40,
        pause: float = 0.3,
    ) -> None:
        """An agent noting its last delta in `order`."""
        self.order = order
        self.reply = reply
        self.size = size
        self.pause = pause
        self.hold_last: asyncio.Event | None = None
        self.deltas: list[str] = []

    @property
    @override
    def supported_languages(self) -> Literal["*"]:
        return "*"

    @override
    async def _async_handle_message(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
    ) -> conversation.ConversationResult:
        """Stream the answer into the chat log; the result is its last content."""
        async for _content in chat_log.async_add_delta_content_stream(
            self.entity_id, self._stream()
        ):
            pass
        return conversation.async_get_result_from_chat_log(user_input, chat_log)

    async def _stream(self) -> AsyncGenerator[conversation.AssistantContentDeltaDict]:
        yield {"role": "assistant"}
        pieces = word_pieces(self.reply, self.size)
        for number, piece in enumerate(pieces):
            if number:
                await asyncio.sleep(self.pause)
            if number == len(pieces) - 1:
                await self._hold()
                self.order.append(LAST_DELTA)
            self.deltas.append(piece)
            yield {"content": piece}

    async def _hold(self) -> None:
        if self.hold_last is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(HOLD_SECONDS):
                await self.hold_last.wait()


async def add_agent(hass: HomeAssistant, agent: StreamingAgent) -> str:
    """Register `agent` as a conversation entity; its entity id."""
    # The default agent reads which entities are exposed (`homeassistant`).
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    await hass.data[DATA_COMPONENT].async_add_entities([agent])
    await hass.async_block_till_done()
    return agent.entity_id


async def voice_pipeline(
    hass: HomeAssistant, agent_id: str, tts_engine: str, stt_engine: str = STT_ENTITY
) -> str:
    """A pipeline from our STT through `agent_id` to `tts_engine`; its id."""
    assert await async_setup_component(hass, "assist_pipeline", {})
    await hass.async_block_till_done()
    store = hass.data[KEY_ASSIST_PIPELINE].pipeline_store
    pipeline = await store.async_create_item(
        {
            "conversation_engine": agent_id,
            "conversation_language": "en",
            "language": "en",
            "name": "Deepgram voice test",
            "stt_engine": stt_engine,
            "stt_language": "en-US",
            "tts_engine": tts_engine,
            "tts_language": "en",
            "tts_voice": None,
            "wake_word_entity": None,
            "wake_word_id": None,
        }
    )
    return pipeline.id


def wav_data_start(data: bytes) -> int | None:
    """Where the samples of a WAV file begin, once its header is all there."""
    offset = 12
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset + 4 : offset + 8], "little")
        if data[offset : offset + 4] == b"data":
            return offset + 8
        offset += 8 + size + (size & 1)
    return None


@dataclass
class Satellite:
    """Follows a run's events and reads its answer as a voice satellite does.

    At `run-start` (which names the TTS stream when the answer may be
    streamed) it starts reading that stream; the first sample past the WAV
    header is noted in `order` and sets `heard`.
    """

    hass: HomeAssistant
    order: list[str]
    events: list[PipelineEvent] = field(default_factory=list)
    audio: bytearray = field(default_factory=bytearray)
    heard: asyncio.Event = field(default_factory=asyncio.Event)
    listening: asyncio.Task[None] | None = None

    def on_event(self, event: PipelineEvent) -> None:
        """The pipeline's event callback."""
        self.events.append(event)
        if event.type is PipelineEventType.RUN_START and event.data:
            output: dict[str, Any] = event.data["tts_output"]
            self.listening = self.hass.async_create_task(self._listen(output["token"]))

    async def _listen(self, token: str) -> None:
        stream = tts.async_get_stream(self.hass, token)
        assert stream is not None
        async for chunk in stream.async_stream_result():
            self.audio += chunk
            start = wav_data_start(bytes(self.audio))
            if not self.heard.is_set() and start and len(self.audio) > start:
                self.order.append(FIRST_AUDIO)
                self.heard.set()

    async def answer(self, timeout: float = 30.0) -> bytes:
        """Every byte of the answer's audio, once the stream ended."""
        assert self.listening is not None, "no run-start with a TTS stream"
        async with asyncio.timeout(timeout):
            await self.listening
        return bytes(self.audio)

    def event_data(self, kind: PipelineEventType) -> list[dict[str, Any]]:
        """The data of every event of `kind`, in order."""
        return [e.data or {} for e in self.events if e.type is kind]
