"""The voice entity when the listener stops early or Deepgram misbehaves.

Each ends bounded, with `Close` sent whenever a socket was open (after
`Clear` on Aura, `Interrupt` on Flux when stopped early), nothing left
running, a translated error, and the key in no log line (conftest).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import contextlib
import logging

from homeassistant.components.tts.entity import TTSAudioRequest
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.deepgram import speak_run
from custom_components.deepgram.const import DOMAIN
from tests.conftest import set_up_entry
from tests.deepgram_server import FakeDeepgram, Faults
from tests.deepgram_server.latency import Latency
from tests.deepgram_server.testing import decode_speech, wait_for
from tests.speak_helpers import REPLY, SENTENCES
from tests.tts_helpers import (
    AURA,
    FLUX,
    SATELLITE,
    text_of,
    tts_entity,
    voice_entity,
    voice_entry,
)

LONG_SENTENCE = (
    "While you were out the kitchen light and the hall light and the "
    "porch light and the garage light were all left on for you"
)
"""A sentence long enough to be written for several seconds."""
STOP_FIRST = {AURA: "Clear", FLUX: "Interrupt"}
"""What each socket sends before `Close` when the listener stops early."""


async def speaking(
    hass: HomeAssistant, server: FakeDeepgram, voice: str
) -> tuple[MockConfigEntry, str]:
    entry = await set_up_entry(hass, voice_entry(server, voice))
    return entry, tts_entity(hass, entry, voice)


async def entity_audio(
    hass: HomeAssistant, entity_id: str, text: AsyncGenerator[str]
) -> AsyncGenerator[bytes]:
    """The entity's own stream, as Home Assistant reads it."""
    entity = voice_entity(hass, entity_id)
    response = await entity.async_stream_tts_audio(
        TTSAudioRequest("en", dict(SATELLITE), text)
    )
    return response.data_gen


async def failure_of(audio: AsyncGenerator[bytes], within: float) -> str | None:
    """The translation key of the error that ends the stream (within a bound)."""
    async with asyncio.timeout(within):
        with pytest.raises(HomeAssistantError) as raised:
            await drain(audio)
    return raised.value.translation_key


async def drain(audio: AsyncGenerator[bytes]) -> None:
    """Read a stream to its end."""
    async for _ in audio:
        pass


async def forever(first: str) -> AsyncGenerator[str]:
    """An agent that writes `first`, then never ends."""
    yield first
    await asyncio.Event().wait()


async def assert_nothing_left(entry: MockConfigEntry) -> None:
    """No socket in use; those closing in the background end within their bound."""
    data = entry.runtime_data
    assert not data.live
    if data.closing:
        await asyncio.wait(list(data.closing), timeout=6)
    assert not data.closing


@pytest.mark.parametrize("voice", [AURA, FLUX])
async def test_listener_stops_early(
    hass: HomeAssistant, server: FakeDeepgram, voice: str
) -> None:
    """The stream closed after the first audio: Clear/Interrupt, Close, gone
    within a second."""
    server.latency = Latency(speak_realtime=1.0, speak_seconds_per_char=0.05)
    entry, entity_id = await speaking(hass, server, voice)
    audio = await entity_audio(hass, entity_id, text_of([REPLY]))
    assert len(await anext(audio)) == 44  # the header
    assert await anext(audio)  # the first audio
    async with asyncio.timeout(1.5):
        await audio.aclose()
    await server.wait_for_speak_sessions_closed()
    (session,) = server.speak_sessions
    assert session.control_messages()[-2:] == [STOP_FIRST[voice], "Close"]
    assert session.ended == "close_message"
    await assert_nothing_left(entry)
    record = entry.runtime_data.speak_history[-1]
    assert (record.outcome, record.ended_by) == ("stopped", "abort")


@pytest.mark.parametrize("voice", [AURA, FLUX])
async def test_cancelled_mid_answer(
    hass: HomeAssistant, server: FakeDeepgram, voice: str
) -> None:
    """The run cancelled while the agent still writes: Close within a second."""
    entry, entity_id = await speaking(hass, server, voice)
    audio = await entity_audio(hass, entity_id, forever(SENTENCES[0] + " It"))
    heard = asyncio.Event()

    async def read() -> None:
        async for chunk in audio:
            if len(chunk) != 44:  # past the header: audio
                heard.set()

    reader = asyncio.create_task(read())
    async with asyncio.timeout(5):
        await heard.wait()
    reader.cancel()
    async with asyncio.timeout(1.5):
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    await server.wait_for_speak_sessions_closed()
    (session,) = server.speak_sessions
    assert session.control_messages()[-2:] == [STOP_FIRST[voice], "Close"]
    assert session.ended == "close_message"
    await assert_nothing_left(entry)


@pytest.mark.parametrize("voice", [AURA, FLUX])
async def test_deepgram_stalls_after_the_handshake(
    hass: HomeAssistant,
    server: FakeDeepgram,
    voice: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No audio ever: a translated error after the first-audio bound, Close sent."""
    monkeypatch.setattr(speak_run, "FIRST_AUDIO_TIMEOUT", 0.5)
    server.faults = Faults(speak_stall=True)
    entry, entity_id = await speaking(hass, server, voice)
    audio = await entity_audio(hass, entity_id, text_of([REPLY]))
    assert await failure_of(audio, within=5) == "speak_failed"
    await server.wait_for_speak_sessions_closed()
    (session,) = server.speak_sessions
    assert "Close" in session.control_messages()
    await assert_nothing_left(entry)
    assert entry.runtime_data.speak_history[-1].outcome == "error"


@pytest.mark.parametrize("voice", [AURA, FLUX])
async def test_deepgram_closes_mid_message(
    hass: HomeAssistant, server: FakeDeepgram, voice: str
) -> None:
    """Deepgram closes the socket halfway: the message ends with an error."""
    server.faults = Faults(speak_close_after_audio_bytes=4000)
    entry, entity_id = await speaking(hass, server, voice)
    audio = await entity_audio(hass, entity_id, text_of([REPLY]))
    assert await failure_of(audio, within=5) == "speak_failed"
    await assert_nothing_left(entry)


@pytest.mark.parametrize("voice", [AURA, FLUX])
async def test_a_warning_does_not_stop_the_speech(
    hass: HomeAssistant,
    server: FakeDeepgram,
    voice: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A Warning is logged; every sentence is still spoken."""
    server.faults = Faults(speak_warning=("SOME_WARNING", "Something to know"))
    _, entity_id = await speaking(hass, server, voice)
    audio = await entity_audio(hass, entity_id, text_of([REPLY]))
    data = b"".join([chunk async for chunk in audio])
    assert decode_speech(data[44:], 16000) == SENTENCES
    assert "Something to know" in caplog.text


@pytest.mark.parametrize("voice", [AURA, FLUX])
async def test_a_pause_in_the_text_goes_on_a_new_socket(
    hass: HomeAssistant, server: FakeDeepgram, voice: str
) -> None:
    """A 6 s tool call in the middle of the answer, with Deepgram closing
    sockets idle for 3 s: the first sentence is spoken and its socket closed
    by us; the rest goes on a new socket; every sentence once, in order."""
    server.speak_idle_timeout = 3.0

    async def with_tool_call() -> AsyncGenerator[str]:
        yield SENTENCES[0]
        await asyncio.sleep(6)
        yield " " + SENTENCES[1]
        yield " " + SENTENCES[2]

    entry, entity_id = await speaking(hass, server, voice)
    audio = await entity_audio(hass, entity_id, with_tool_call())
    data = b"".join([chunk async for chunk in audio])
    assert decode_speech(data[44:], 16000) == SENTENCES
    await server.wait_for_speak_sessions_closed()
    first, second = server.speak_sessions
    for session in (first, second):
        assert session.control_messages()[-1] == "Close"
        assert session.ended == "close_message"  # not Deepgram's idle close
    assert first.spoken() == SENTENCES[:1]
    assert second.spoken() == SENTENCES[1:]
    record = entry.runtime_data.speak_history[-1]
    assert (record.outcome, record.sockets) == ("success", 2)


@pytest.mark.parametrize("voice", [AURA, FLUX])
@pytest.mark.parametrize("text", ["", "   ", "\n"])
async def test_nothing_to_say_opens_no_socket(
    hass: HomeAssistant, server: FakeDeepgram, voice: str, text: str
) -> None:
    """A blank message: a WAV with no audio, no socket, and no success that
    would clear a repair (a refusal could not have shown)."""
    entry, entity_id = await speaking(hass, server, voice)
    server.faults = Faults(handshake_status=402)
    await failing_message(hass, entity_id)  # raises the credits repair
    server.faults = Faults()
    audio = await entity_audio(hass, entity_id, text_of([text]))
    async with asyncio.timeout(5):
        data = b"".join([chunk async for chunk in audio])
    assert len(data) == 44
    assert not server.speak_sessions  # no socket was opened for it
    assert entry.runtime_data.speak_history[-1].outcome == "nothing_to_say"
    assert any(i.startswith("payment_required") for _, i in ir.async_get(hass).issues)
    await assert_nothing_left(entry)


@pytest.mark.parametrize("voice", [AURA, FLUX])
@pytest.mark.parametrize("text", ["...", "?!", " - "])
async def test_nothing_speakable_ends_cleanly(
    hass: HomeAssistant, server: FakeDeepgram, voice: str, text: str
) -> None:
    """Only punctuation: Deepgram has nothing to say; the message ends without
    audio and without hanging, its socket closed with Close."""
    entry, entity_id = await speaking(hass, server, voice)
    audio = await entity_audio(hass, entity_id, text_of([text]))
    async with asyncio.timeout(5):
        data = b"".join([chunk async for chunk in audio])
    assert decode_speech(data[44:], 16000) in ([], [text.strip()])
    await assert_nothing_left(entry)
    await server.wait_for_speak_sessions_closed()
    assert len(server.speak_sessions) == 1
    assert server.speak_sessions[0].ended == "close_message"


@pytest.mark.parametrize("voice", [AURA, FLUX])
async def test_the_first_text_coming_late(
    hass: HomeAssistant, server: FakeDeepgram, voice: str
) -> None:
    """The agent writes nothing for 3 s (Deepgram closes sockets idle for 1 s):
    no socket waits idle for it; the answer is spoken whole."""
    server.speak_idle_timeout = 1.0

    async def late() -> AsyncGenerator[str]:
        await asyncio.sleep(3)
        yield REPLY

    _, entity_id = await speaking(hass, server, voice)
    audio = await entity_audio(hass, entity_id, late())
    data = b"".join([chunk async for chunk in audio])
    assert decode_speech(data[44:], 16000) == SENTENCES
    await server.wait_for_speak_sessions_closed()
    (session,) = server.speak_sessions
    assert session.ended == "close_message"


async def failing_message(hass: HomeAssistant, entity_id: str) -> None:
    """Speak a message that Deepgram refuses (its error expected)."""
    audio = await entity_audio(hass, entity_id, text_of([REPLY]))
    with pytest.raises(HomeAssistantError):
        await drain(audio)


async def test_a_text_that_never_ends_is_bounded(
    hass: HomeAssistant, server: FakeDeepgram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole message is bounded: a source that never ends stops there."""
    monkeypatch.setattr(speak_run, "MAX_MESSAGE_SECONDS", 3.0)
    entry, entity_id = await speaking(hass, server, AURA)
    audio = await entity_audio(hass, entity_id, forever(SENTENCES[0]))
    assert await failure_of(audio, within=6) == "speak_timeout"
    await server.wait_for_speak_sessions_closed()
    assert all(s.ended == "close_message" for s in server.speak_sessions)
    await assert_nothing_left(entry)


@pytest.mark.parametrize(
    ("status", "key"),
    [
        (401, "speak_auth_failed"),
        (402, "speak_payment_required"),
        (403, "speak_forbidden"),
        (429, "speak_rate_limited"),
        (500, "speak_failed"),
        (503, "speak_failed"),
    ],
)
async def test_refusals(
    hass: HomeAssistant,
    server: FakeDeepgram,
    status: int,
    key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Deepgram refuses the socket: the reactions every socket shares."""
    entry, entity_id = await speaking(hass, server, AURA)
    server.faults = Faults(handshake_status=status)
    audio = await entity_audio(hass, entity_id, text_of([REPLY]))
    assert await failure_of(audio, within=5) == key
    ours = [r for r in caplog.records if r.name.startswith("custom_components")]
    assert len([r for r in ours if r.levelno >= logging.WARNING]) == 1
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert any(f["context"]["source"] == SOURCE_REAUTH for f in flows) == (
        status == 401
    )
    issues = {i for d, i in ir.async_get(hass).issues if d == DOMAIN}
    assert any(i.startswith("payment_required") for i in issues) == (status == 402)
    assert any(i.startswith("model_not_allowed") for i in issues) == (status == 403)
    for issue in ir.async_get(hass).issues.values():
        if issue.issue_id.startswith("model_not_allowed"):
            # A voice's issue names it and has no fix flow (that changes
            # listening models); Reconfigure changes the voice.
            assert issue.translation_key == "voice_not_allowed"
            assert not issue.is_fixable
            assert issue.translation_placeholders
            assert issue.translation_placeholders["model"] == AURA
    await assert_nothing_left(entry)
    assert entry.runtime_data.speak_history[-1].error is not None


@pytest.mark.parametrize("voice", [AURA, FLUX])
async def test_home_assistant_stopping_mid_message(
    hass: HomeAssistant,
    server: FakeDeepgram,
    voice: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A real stop while a voice speaks: the socket ends with Close before the
    HTTP session goes, and the stop is no error in the log."""
    server.latency = Latency(speak_realtime=1.0, speak_seconds_per_char=0.05)
    _, entity_id = await speaking(hass, server, voice)
    audio = await entity_audio(hass, entity_id, forever(REPLY))
    reader = asyncio.create_task(drain(audio))
    await server.wait_for_speak_sessions(1)
    (session,) = server.speak_sessions
    await wait_for(lambda: bool(session.audio_bytes))
    await hass.async_stop()
    await server.wait_for_speak_sessions_closed(timeout=2)
    # Stopped early: Clear or Interrupt once, then Close, nothing after it.
    assert session.control_messages()[-2:] == [STOP_FIRST[voice], "Close"]
    assert session.ended == "close_message"
    with contextlib.suppress(HomeAssistantError, asyncio.CancelledError):
        await reader
    assert "text-to-speech failed" not in caplog.text


@pytest.mark.parametrize("voice", [AURA, FLUX])
async def test_the_agent_failing_mid_answer(
    hass: HomeAssistant,
    server: FakeDeepgram,
    voice: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The agent's text fails: a translated error and one log line; the socket
    is stopped and closed with Close."""

    async def failing() -> AsyncGenerator[str]:
        yield SENTENCES[0] + " It"
        raise RuntimeError("the agent lost its connection")

    entry, entity_id = await speaking(hass, server, voice)
    audio = await entity_audio(hass, entity_id, failing())
    assert await failure_of(audio, within=5) == "speak_failed"
    assert "the agent lost its connection" in caplog.text
    record = entry.runtime_data.speak_history[-1]
    assert (record.outcome, record.error) == ("error", "text_source")
    await server.wait_for_speak_sessions_closed()
    (session,) = server.speak_sessions
    assert session.control_messages()[-1] == "Close"
    assert session.ended == "close_message"
    await assert_nothing_left(entry)


async def test_a_long_sentence_written_slowly(
    hass: HomeAssistant, server: FakeDeepgram
) -> None:
    """Aura: a sentence written over 9 s without an end, with Deepgram closing
    sockets idle for 5 s: its start is sent (and heard) after 4 s, so the
    socket is never idle; every word is said once, in order."""
    server.speak_idle_timeout = 5.0
    words = LONG_SENTENCE.split()

    async def slowly() -> AsyncGenerator[str]:
        for index, word in enumerate(words):
            yield word if index == 0 else " " + word
            await asyncio.sleep(0.35)
        yield "."

    entry, entity_id = await speaking(hass, server, AURA)
    audio = await entity_audio(hass, entity_id, slowly())
    data = b"".join([chunk async for chunk in audio])
    said = decode_speech(data[44:], 16000)
    assert len(said) >= 2  # spoken before the sentence ended
    assert " ".join(said).split() == [*words[:-1], words[-1] + "."]
    await server.wait_for_speak_sessions_closed()
    (session,) = server.speak_sessions
    assert session.ended == "close_message"
    assert entry.runtime_data.speak_history[-1].outcome == "success"
