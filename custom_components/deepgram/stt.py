"""Deepgram speech-to-text entities, one per STT profile (config subentry)."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import override

from homeassistant.components.stt import (
    AudioBitRates,
    AudioChannels,
    AudioCodecs,
    AudioFormats,
    AudioSampleRates,
    SpeechMetadata,
    SpeechResult,
    SpeechToTextEntity,
)
from homeassistant.components.stt.models import SpeechAudioProcessing
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import is_flux
from .const import CONF_MODEL, CONF_MULTILINGUAL, DOMAIN
from .data import DeepgramConfigEntry
from .flux_transcriber import FluxTranscriber, flux_options
from .language import deepgram_language, supported_languages
from .transcriber import Transcriber, live_options

PARALLEL_UPDATES = 0

# Deepgram asks for unprocessed audio: its models are trained on real,
# noisy speech, and noise suppression or automatic gain can remove what
# they use. End of speech comes from Home Assistant's voice activity
# detector, which ends the stream and so triggers Finalize.
AUDIO_PROCESSING = SpeechAudioProcessing(
    requires_external_vad=True,
    prefers_auto_gain_enabled=False,
    prefers_noise_reduction_enabled=False,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DeepgramConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one entity per STT profile."""
    for subentry in entry.subentries.values():
        async_add_entities(
            [DeepgramSttEntity(entry, subentry)],
            config_subentry_id=subentry.subentry_id,
        )


class DeepgramSttEntity(SpeechToTextEntity):
    """Streams a pipeline run's audio to Deepgram over one WebSocket."""

    _attr_has_entity_name = True
    _attr_name = None

    def __init__(self, entry: DeepgramConfigEntry, subentry: ConfigSubentry) -> None:
        """Set up the entity of one profile."""
        self._entry = entry
        self._profile = dict(subentry.data)
        self._model: str = self._profile[CONF_MODEL]
        self._multilingual = bool(self._profile.get(CONF_MULTILINGUAL))
        self._flux = is_flux(self._model)
        models = entry.runtime_data.models
        self._model_languages: tuple[str, ...] = models.get(self._model) or tuple(
            sorted({lang for langs in models.values() for lang in langs})
        )
        self._languages = supported_languages(self._model_languages)
        self._subentry_id = subentry.subentry_id
        self._attr_unique_id = subentry.subentry_id
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, subentry.subentry_id)},
            name=subentry.title,
            manufacturer="Deepgram",
            model=self._model,
            entry_type=DeviceEntryType.SERVICE,
            configuration_url="https://console.deepgram.com/",
        )

    @property
    @override
    def supported_languages(self) -> list[str]:
        """Every tag a pipeline may use for a language the model offers."""
        return self._languages

    @property
    @override
    def supported_formats(self) -> list[AudioFormats]:
        """Raw PCM, or WAV (its header is removed)."""
        return [AudioFormats.WAV]

    @property
    @override
    def supported_codecs(self) -> list[AudioCodecs]:
        """16-bit PCM."""
        return [AudioCodecs.PCM]

    @property
    @override
    def supported_bit_rates(self) -> list[AudioBitRates]:
        """16 bits a sample."""
        return [AudioBitRates.BITRATE_16]

    @property
    @override
    def supported_sample_rates(self) -> list[AudioSampleRates]:
        """Deepgram takes any rate; these are the ones Home Assistant names."""
        return list(AudioSampleRates)

    @property
    @override
    def supported_channels(self) -> list[AudioChannels]:
        """Mono or stereo (Flux: mono only, /v2/listen has no channels)."""
        if self._flux:
            return [AudioChannels.CHANNEL_MONO]
        return [AudioChannels.CHANNEL_MONO, AudioChannels.CHANNEL_STEREO]

    @property
    @override
    def audio_processing(self) -> SpeechAudioProcessing:
        """Unprocessed audio, ended by Home Assistant's voice activity detector."""
        return AUDIO_PROCESSING

    @override
    async def async_process_audio_stream(
        self, metadata: SpeechMetadata, stream: AsyncIterable[bytes]
    ) -> SpeechResult:
        """Transcribe one pipeline run's audio with Deepgram."""
        keyterms = self._entry.runtime_data.keyterms.terms(self._subentry_id)
        if self._flux:
            flux = FluxTranscriber(self.hass, self._entry, self.entity_id)
            return await flux.async_transcribe_flux(
                flux_options(self._profile, metadata, keyterms), stream
            )
        language = deepgram_language(
            metadata.language, self._model_languages, multilingual=self._multilingual
        )
        options = live_options(self._profile, language, metadata, keyterms)
        transcriber = Transcriber(self.hass, self._entry, self.entity_id)
        return await transcriber.async_transcribe(options, stream)
