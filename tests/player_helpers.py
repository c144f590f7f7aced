"""A media player for tests: plays what `tts.speak` sends it as real players do.

It resolves the media source id it is given to a URL (as Sonos, Cast or
ESPHome's media players do) and keeps what it was asked to play, so a test
fetches the audio from Home Assistant the way the speaker would.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, override

from homeassistant.components import media_source
from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.components.media_player import MediaPlayerEntity
from homeassistant.components.media_player.const import (
    ATTR_MEDIA_ANNOUNCE,
    DATA_COMPONENT,
    MediaPlayerEntityFeature,
    MediaPlayerState,
    MediaType,
)
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component


@dataclass(frozen=True, slots=True)
class Played:
    """One `play_media` call, its media resolved."""

    media_type: MediaType | str
    media_id: str
    announce: bool
    url: str
    mime_type: str


class RecordingPlayer(MediaPlayerEntity):
    """Plays (records) media: `calls`, one per `play_media`."""

    _attr_has_entity_name = False
    _attr_name = "Kitchen speaker"
    _attr_state = MediaPlayerState.IDLE
    _attr_supported_features = (
        MediaPlayerEntityFeature.PLAY_MEDIA | MediaPlayerEntityFeature.MEDIA_ANNOUNCE
    )

    def __init__(self) -> None:
        """A player that has played nothing yet."""
        self.calls: list[Played] = []

    @override
    async def async_play_media(
        self, media_type: MediaType | str, media_id: str, **kwargs: Any
    ) -> None:
        resolved = await media_source.async_resolve_media(
            self.hass, media_id, self.entity_id
        )
        self.calls.append(
            Played(
                media_type=media_type,
                media_id=media_id,
                announce=bool(kwargs.get(ATTR_MEDIA_ANNOUNCE)),
                url=resolved.url,
                mime_type=resolved.mime_type,
            )
        )


async def add_player(hass: HomeAssistant, player: RecordingPlayer) -> str:
    """Register `player` as a media player entity; its entity id."""
    assert await async_setup_component(hass, "media_source", {})
    assert await async_setup_component(hass, "media_player", {})
    await hass.data[DATA_COMPONENT].async_add_entities([player])
    await hass.async_block_till_done()
    return player.entity_id


async def decoded_seconds(hass: HomeAssistant, audio: bytes, rate: int) -> float:
    """How long `audio` (any format ffmpeg reads) plays, decoded at `rate`.

    Decoded, not estimated from headers: a streamed VBR MP3 has no frame
    count for a reader to trust.
    """
    process = await asyncio.create_subprocess_exec(
        get_ffmpeg_manager(hass).binary,
        *("-hide_banner", "-loglevel", "error", "-i", "pipe:0"),
        *("-f", "s16le", "-ac", "1", "-ar", str(rate), "pipe:1"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        pcm, errors = await process.communicate(audio)
    assert process.returncode == 0, errors.decode()
    return len(pcm) / 2 / rate


_MPEG_RATES = {
    0b11: (44100, 48000, 32000),  # MPEG-1
    0b10: (22050, 24000, 16000),  # MPEG-2
    0b00: (11025, 12000, 8000),  # MPEG-2.5
}


def mp3_format(data: bytes) -> tuple[int, int]:
    """(rate, channels) of an MP3 file's first frame, after its ID3v2 tag.

    Raises `AssertionError` when `data` is no MP3 (no frame sync there).
    """
    start = 0
    if data[:3] == b"ID3":
        # The tag's size: four 7-bit bytes, then the 10-byte header.
        start = 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9])
    header = int.from_bytes(data[start : start + 4])
    assert header >> 21 == 0x7FF, f"no MPEG frame sync at byte {start}"
    version = (header >> 19) & 0b11
    layer = (header >> 17) & 0b11
    assert version in _MPEG_RATES, "not an MPEG audio version"
    assert layer == 0b01, "not MPEG audio layer III"
    rate = _MPEG_RATES[version][(header >> 10) & 0b11]
    channels = 1 if (header >> 6) & 0b11 == 0b11 else 2
    return rate, channels
