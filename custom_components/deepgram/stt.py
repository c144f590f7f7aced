"""Deepgram speech-to-text entities, one per STT profile (config subentry)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, override

from homeassistant.components import stt
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

from .api import FluxTurn, Transcript, is_flux
from .const import CONF_MODEL, CONF_MULTILINGUAL, DOMAIN, LISTENING_SUBENTRIES, LOGGER
from .data import DeepgramConfigEntry
from .end_of_speech import EndOfSpeech
from .flux_transcriber import FluxTranscriber, flux_options
from .language import deepgram_language, supported_languages
from .sentence_matcher import sentence_matcher
from .transcriber import Transcriber, end_of_speech, live_options

PARALLEL_UPDATES = 0


@dataclass(slots=True)
class _PartialSpeechResult:
    """Home Assistant 2026.11's `stt.PartialSpeechResult`, for older releases."""

    text: str
    speaker_id: str | None = None


# Home Assistant 2026.11 added partial results; 2026.10 has no such class
# and never calls `async_process_audio_stream_with_progress`. Type-checked
# against 2026.11's class (Any on 2026.10, where the import fails).
if TYPE_CHECKING:
    from homeassistant.components.stt import (  # type: ignore[attr-defined, unused-ignore]
        PartialSpeechResult as PartialSpeechResult,  # noqa: PLC0414 (re-export)
    )
else:
    PartialSpeechResult = getattr(stt, "PartialSpeechResult", _PartialSpeechResult)

# Deepgram asks for unprocessed audio: its models are trained on real,
# noisy speech, and noise suppression or automatic gain can remove what
# they use. Home Assistant's voice activity detector still runs: it ends the
# stream (then Finalize) unless Deepgram's end of speech came first.
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
    """Add one entity per listening profile (nova or Flux)."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type not in LISTENING_SUBENTRIES:
            continue
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
        self._end_of_speech = end_of_speech(self._profile)
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
        return await self._async_transcribe(metadata, stream)

    # No @override: Home Assistant 2026.10 has no such method to override.
    async def async_process_audio_stream_with_progress(
        self, metadata: SpeechMetadata, stream: AsyncIterable[bytes]
    ) -> AsyncGenerator[PartialSpeechResult | SpeechResult]:
        """Transcribe one run, yielding the text so far as Deepgram sends it.

        Every partial is the whole transcript so far (the final segments plus
        the latest interim); then exactly one `SpeechResult`. Home Assistant
        2026.11 stops reading at that result, so nothing is awaited after it:
        the request is closed in the background as without progress. When the
        consumer is cancelled or stops early, the run is aborted (CloseStream)
        before the generator ends.
        """
        texts: asyncio.Queue[str | None] = asyncio.Queue()
        last = ""
        count = 0

        def on_transcript(transcript: Transcript | FluxTurn) -> None:
            nonlocal last, count
            text = transcript.text
            if text and text != last:
                last = text
                count += 1
                texts.put_nowait(text)

        run = asyncio.create_task(
            self._async_transcribe(metadata, stream, on_transcript),
            name=f"{self.entity_id} transcription",
        )
        run.add_done_callback(lambda _: texts.put_nowait(None))
        try:
            while (text := await texts.get()) is not None:
                yield PartialSpeechResult(text)
        finally:
            if not run.done():
                run.cancel()
                await asyncio.gather(run, return_exceptions=True)
        LOGGER.debug(
            "%s: %d partial results before the final one", self.entity_id, count
        )
        # Outside the `try`: closing the generator at this yield awaits nothing.
        yield run.result()

    async def _async_transcribe(
        self,
        metadata: SpeechMetadata,
        stream: AsyncIterable[bytes],
        on_transcript: Callable[[Transcript | FluxTurn], None] | None = None,
    ) -> SpeechResult:
        keyterms = self._entry.runtime_data.keyterms.terms(self._subentry_id)
        if self._flux:
            flux = FluxTranscriber(self.hass, self._entry, self.entity_id)
            flux_request = flux_options(self._profile, metadata, keyterms)
            return await flux.async_transcribe_flux(
                flux_request,
                stream,
                # Only an eager end of turn asks the sentence matcher.
                matcher=sentence_matcher(self.hass, metadata.language)
                if flux_request.eager_eot_threshold is not None
                else None,
                on_turn=on_transcript,
            )
        language = deepgram_language(
            metadata.language, self._model_languages, multilingual=self._multilingual
        )
        options = live_options(self._profile, language, metadata, keyterms)
        transcriber = Transcriber(
            self.hass,
            self._entry,
            self.entity_id,
            mode=self._end_of_speech,
            matcher=sentence_matcher(self.hass, metadata.language)
            if self._end_of_speech is EndOfSpeech.DEEPGRAM
            else None,
        )
        return await transcriber.async_transcribe(options, stream, on_transcript)
