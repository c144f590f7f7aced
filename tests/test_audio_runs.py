"""Audio of every shape through the STT entity: what is sent is what Deepgram
is told, and a WAV that does not match ends the run with a clear error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import dataclasses
import logging

from homeassistant.components import stt
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.deepgram_server import FakeDeepgram, script_from_text
from tests.pipeline_helpers import METADATA, transcribe
from tests.test_audio import chunk, fmt, riff, wav_bytes

SCRIPT = script_from_text("turn on the light", start=0.1, end=0.6)


def metadata(rate: int, channels: int) -> stt.SpeechMetadata:
    return dataclasses.replace(
        METADATA,
        sample_rate=stt.AudioSampleRates(rate),
        channel=stt.AudioChannels(channels),
    )


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize(
    ("rate", "channels", "size"),
    [(8000, 1, 160), (16000, 1, 320), (16000, 1, 321), (44100, 2, 1764), (48000, 2, 7)],
)
@pytest.mark.parametrize("as_wav", [False, True], ids=["raw", "wav"])
async def test_rates_channels_and_odd_chunks(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    rate: int,
    channels: int,
    size: int,
    as_wav: bool,
) -> None:
    """Deepgram is told the rate and channels, and gets every byte of audio."""
    server.script = SCRIPT
    pcm = bytes(rate * channels * 2 // 2)  # half a second
    data = wav_bytes(pcm, rate=rate, channels=channels) if as_wav else pcm
    result = await transcribe(hass, pieces(data, size), metadata(rate, channels))
    assert result.result is stt.SpeechResultState.SUCCESS
    await server.wait_for_sessions_closed()
    (session,) = server.sessions
    assert session.query["sample_rate"] == str(rate)
    assert session.query["channels"] == str(channels)
    assert session.audio_bytes == len(pcm)
    assert session.got_close_stream


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (riff(fmt(3, 1, 16000, 32), chunk(b"data", bytes(32000))), "32-bit float"),
        (riff(fmt(6, 1, 16000, 8), chunk(b"data", bytes(8000))), "A-law"),
        (wav_bytes(bytes(44100), rate=44100), "44100 Hz"),
        (riff(fmt(1, 1, 16000, 16), chunk(b"LIST", bytes(100))), "ends before"),
    ],
    ids=["float", "alaw", "44k1-as-16k", "no-data"],
)
async def test_wrong_wav_is_an_error(
    hass: HomeAssistant,
    server: FakeDeepgram,
    setup_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    data: bytes,
    words: str,
) -> None:
    """An error result and one log line; no audio sent; the request is ended."""
    server.script = SCRIPT
    result = await transcribe(hass, pieces(data, 320), METADATA)
    assert result.result is stt.SpeechResultState.ERROR
    errors = [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.deepgram")
        and r.levelno >= logging.WARNING
    ]
    assert len(errors) == 1
    message = errors[0].getMessage()
    assert message.startswith("The audio cannot be sent to Deepgram")
    assert words in message
    assert errors[0].exc_info is None  # no traceback: it is not a bug
    # The request is ended in the background, within its bound.
    closing = set(setup_integration.runtime_data.closing)
    async with asyncio.timeout(6):
        await asyncio.gather(*closing)
    await server.wait_for_sessions_closed()
    assert len(server.sessions) == 1  # opened as the run started
    for session in server.sessions:
        assert session.audio_bytes == 0
        assert session.got_close_stream
    assert not setup_integration.runtime_data.closing
    (record,) = setup_integration.runtime_data.history
    assert record.outcome == "error"
    assert record.error == "audio_format"
