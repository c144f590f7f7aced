"""Deepgram text-to-speech entities, one per voice profile (config subentry).

Each message is spoken while it is written (`async_stream_tts_audio`): the
agent's text goes to Deepgram as it comes and the voice's audio comes back
as WAV (a streaming header, then 16-bit PCM unless asked otherwise) at the
rate, channels and sample width Home Assistant asks for (`preferred_*`),
so that Home Assistant 2026.11 passes a satellite's audio on without
converting it (2026.10 runs ffmpeg over it whatever the entity supports).
Another format (MP3 for a media player) is converted by Home Assistant.
The socket's life and its bounds are `speak_run.py`'s.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
import contextlib
from typing import Any, override

from homeassistant.components.tts import (
    ATTR_PREFERRED_FORMAT,
    ATTR_PREFERRED_SAMPLE_BYTES,
    ATTR_PREFERRED_SAMPLE_CHANNELS,
    ATTR_PREFERRED_SAMPLE_RATE,
    TextToSpeechEntity,
)
from homeassistant.components.tts.entity import TTSAudioRequest, TTSAudioResponse
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import DeepgramOptionsError, SpeakOptions
from .api.speak_options import speak_path
from .const import (
    CONF_EXPRESSIVITY,
    CONF_MIP_OPT_OUT,
    CONF_SPEED,
    CONF_VOICE,
    CONSOLE_URL,
    DOMAIN,
    LOGGER,
    RECOMMENDED_TTS_OPTIONS,
    SUBENTRY_TTS,
)
from .data import DeepgramConfigEntry
from .language import supported_languages
from .speak_run import SpeakRun
from .transcriber import USAGE_TAG
from .tts_format import PcmConverter, speak_output, wav_header
from .voice_flow import model_language

PARALLEL_UPDATES = 0

SUPPORTED_OPTIONS = [
    ATTR_PREFERRED_FORMAT,
    ATTR_PREFERRED_SAMPLE_RATE,
    ATTR_PREFERRED_SAMPLE_CHANNELS,
    ATTR_PREFERRED_SAMPLE_BYTES,
]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DeepgramConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one entity per voice profile."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type != SUBENTRY_TTS:
            continue
        async_add_entities(
            [DeepgramTtsEntity(entry, subentry)],
            config_subentry_id=subentry.subentry_id,
        )


def voice_languages(model: str, entry: DeepgramConfigEntry) -> list[str]:
    """The tags a pipeline may ask for in the voice's language(s).

    From Deepgram's voice list; a voice it does not list (typed in by hand)
    by the language its model names (`aura-2-thalia-en`: English).
    """
    for voice in entry.runtime_data.voices:
        if voice.name == model:
            return supported_languages(voice.languages)
    language = model_language(model)
    return supported_languages([language] if language else [])


class DeepgramTtsEntity(TextToSpeechEntity):
    """Speaks with one Deepgram voice, over one WebSocket per message."""

    # Named after the profile, not after its device: Home Assistant's TTS
    # refuses an engine whose name is None (as core's OpenAI voices do).
    _attr_has_entity_name = False
    _attr_supported_options = SUPPORTED_OPTIONS

    def __init__(self, entry: DeepgramConfigEntry, subentry: ConfigSubentry) -> None:
        """Set up the entity of one voice profile."""
        self._entry = entry
        self._profile: dict[str, Any] = {**RECOMMENDED_TTS_OPTIONS, **subentry.data}
        self._voice = str(self._profile[CONF_VOICE])
        self._attr_unique_id = subentry.subentry_id
        self._attr_name = subentry.title
        self._attr_supported_languages = voice_languages(self._voice, entry) or ["en"]
        self._attr_default_language = self._attr_supported_languages[0]
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, subentry.subentry_id)},
            name=subentry.title,
            manufacturer="Deepgram",
            model=self._voice,
            entry_type=DeviceEntryType.SERVICE,
            configuration_url=CONSOLE_URL,
        )

    @override
    async def async_stream_tts_audio(
        self, request: TTSAudioRequest
    ) -> TTSAudioResponse:
        """Speak the message as it is written: WAV, as Home Assistant asked."""
        options = self._speak_options(request.options)
        return TTSAudioResponse("wav", self._wav(options, request))

    @override
    async def async_get_tts_audio(
        self, message: str, language: str, options: dict[str, Any]
    ) -> tuple[str, bytes]:
        """The whole message at once (the same path as a streamed one)."""

        async def text() -> AsyncGenerator[str]:
            yield message

        response = await self.async_stream_tts_audio(
            TTSAudioRequest(language, options, text())
        )
        return "wav", b"".join([chunk async for chunk in response.data_gen])

    def _speak_options(
        self, options: Mapping[str, Any]
    ) -> tuple[SpeakOptions, PcmConverter, bytes]:
        """What to ask Deepgram for, and how its audio becomes what was asked."""
        try:
            rate, fmt = speak_output(options, speak_path(self._voice))
            speak = SpeakOptions(
                model=self._voice,
                sample_rate=rate,
                speed=self._profile.get(CONF_SPEED),
                expressivity=self._profile.get(CONF_EXPRESSIVITY),
                mip_opt_out=bool(self._profile.get(CONF_MIP_OPT_OUT)),
                tag=USAGE_TAG,
            )
        except (ValueError, DeepgramOptionsError) as err:
            LOGGER.error("%s cannot speak as asked: %s", self.entity_id, err)
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="speak_options",
                translation_placeholders={"error": str(err)},
            ) from err
        return speak, PcmConverter(rate, fmt), wav_header(fmt)

    async def _wav(
        self,
        options: tuple[SpeakOptions, PcmConverter, bytes],
        request: TTSAudioRequest,
    ) -> AsyncGenerator[bytes]:
        """The WAV header at once, then the audio as Deepgram sends it."""
        speak, converter, header = options
        yield header
        run = SpeakRun(self.hass, self._entry, self.entity_id)
        # Closed at once when the listener stops: the socket is aborted then.
        async with contextlib.aclosing(run.audio(speak, request.message_gen)) as audio:
            async for chunk in audio:
                if converted := converter.convert(chunk):
                    yield converted
        if rest := converter.flush():
            yield rest
