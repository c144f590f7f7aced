"""One pipeline run: a Deepgram live session from first chunk to transcript.

The socket opens as the run starts and audio flows while the user speaks.
When the stream ends (the pipeline's voice activity detector heard the end
of speech) Deepgram is flushed with `Finalize` and the transcript returned as
soon as the flushed result arrives; the request is then ended cleanly
(`CloseStream`, bounded wait, close) in the background. A cancelled run
sends `CloseStream` and closes within about a second, then re-raises.

An audio source that stalls without ending (no audio for
`AUDIO_IDLE_TIMEOUT`) or never ends (`MAX_RUN_SECONDS` of time or of audio)
ends the run the same way as the end of speech: with what was heard. No run
sends more than `MAX_RUN_SECONDS` of audio. Audio that reaches that bound
further ahead of the clock than a live satellite runs (`AUDIO_LEAD_SECONDS`)
was pushed faster than real time (a file posted to `/api/stt`): that run ends
in an error saying so, as its transcript would silently lack the rest. A
session that fails (Deepgram closing it) ends the run at once with its
error, whether or not audio is flowing.

With a profile's end of speech set to Deepgram, the run may end earlier, as
`end_of_speech.py` decides from Deepgram's messages: the transcript is
returned at once, the stream is no longer read (nothing more is sent or
billed), and the request is ended in the background as above.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncIterable,
    Awaitable,
    Callable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from typing import Any

from homeassistant.components.stt import (
    SpeechMetadata,
    SpeechResult,
    SpeechResultState,
)
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .api import (
    DeepgramError,
    DeepgramProtocolError,
    FluxSession,
    FluxTurn,
    LiveOptions,
    LiveSession,
    Results,
    ServerMessage,
    Transcript,
)
from .audio import AudioFormatError, pcm_audio
from .audio_bounds import AudioTooLongError, bounded_audio
from .const import (
    ABORT_TIMEOUT,
    CONF_END_OF_SPEECH,
    CONF_ENDPOINTING,
    CONF_FILLER_WORDS,
    CONF_KEYTERMS,
    CONF_MIP_OPT_OUT,
    CONF_MODEL,
    CONF_NUMERALS,
    CONF_PROFANITY_FILTER,
    CONF_PUNCTUATE,
    CONF_SMART_FORMAT,
    CONF_UTTERANCE_END_MS,
    CONNECT_TIMEOUT,
    EVENT_TRANSCRIPT,
    FINALIZE_TIMEOUT,
    LOGGER,
    RECOMMENDED_STT_OPTIONS,
)
from .data import DeepgramConfigEntry, DeepgramData, SessionRecord
from .end_of_speech import (
    Action,
    EndOfSpeech,
    EndOfTurnPolicy,
    SentenceMatcher,
    TurnDetector,
)
from .problems import RunProfile, async_run_succeeded, profile_of_entity
from .socket_runs import close_in_background, first_of, log_failure, tracked

USAGE_TAG = "home-assistant"


def live_options(
    profile: Mapping[str, Any],
    language: str,
    metadata: SpeechMetadata,
    keyterms: Sequence[str] | None = None,
) -> LiveOptions:
    """The request options for a profile (subentry data) and a run's audio.

    `keyterms` (the profile's own and the home's, fitted) replaces the
    profile's own terms when given.
    """
    settings = {**RECOMMENDED_STT_OPTIONS, **profile}
    if keyterms is None:
        keyterms = settings[CONF_KEYTERMS] or ()
    endpointing = settings[CONF_ENDPOINTING]
    deepgram_ends = end_of_speech(profile) is EndOfSpeech.DEEPGRAM
    return LiveOptions(
        model=settings[CONF_MODEL],
        language=language,
        encoding="linear16",
        sample_rate=int(metadata.sample_rate),
        channels=int(metadata.channel),
        punctuate=settings[CONF_PUNCTUATE],
        smart_format=settings[CONF_SMART_FORMAT],
        numerals=settings[CONF_NUMERALS],
        profanity_filter=settings[CONF_PROFANITY_FILTER],
        interim_results=True,
        endpointing=int(endpointing) if endpointing else False,
        keyterms=tuple(keyterms),
        filler_words=settings[CONF_FILLER_WORDS],
        mip_opt_out=settings[CONF_MIP_OPT_OUT],
        tags=(USAGE_TAG,),
        # Deepgram's end-of-speech signals, only when they end the run.
        utterance_end_ms=int(settings[CONF_UTTERANCE_END_MS])
        if deepgram_ends
        else None,
        vad_events=True if deepgram_ends else None,
    )


def end_of_speech(profile: Mapping[str, Any]) -> EndOfSpeech:
    """Who ends a profile's runs (an unknown value: Home Assistant)."""
    value = profile.get(CONF_END_OF_SPEECH, RECOMMENDED_STT_OPTIONS[CONF_END_OF_SPEECH])
    try:
        return EndOfSpeech(value)
    except ValueError:
        return EndOfSpeech.HOME_ASSISTANT


@dataclass(slots=True)
class Transcriber:
    """Runs pipeline audio through Deepgram for one STT entity."""

    hass: HomeAssistant
    entry: DeepgramConfigEntry
    entity_id: str | None
    mode: EndOfSpeech = EndOfSpeech.HOME_ASSISTANT
    matcher: SentenceMatcher | None = None

    async def async_transcribe(
        self,
        options: LiveOptions,
        stream: AsyncIterable[bytes],
        on_transcript: Callable[[Transcript], None] | None = None,
    ) -> SpeechResult:
        """Stream the audio until the end of speech, return the transcript.

        `on_transcript` sees the utterance so far after every result.
        """
        data = self.entry.runtime_data
        record = SessionRecord(
            started=dt_util.utcnow().isoformat(),
            entity_id=self.entity_id,
            model=options.model,
            language=options.language or "",
        )
        data.history.append(record)
        detector: TurnDetector | None = None
        if self.mode is EndOfSpeech.DEEPGRAM:
            detector = TurnDetector(
                EndOfTurnPolicy(self.mode),
                lambda: session.transcript.text,
                self.matcher,
            )

        answered = False  # whether Deepgram sent any message at all

        def on_message(message: ServerMessage) -> None:
            nonlocal answered
            answered = True
            if detector is not None:
                detector.on_message(message)
            if on_transcript is not None and isinstance(message, Results):
                on_transcript(session.transcript)

        try:
            session = LiveSession(
                data.http,
                data.endpoint,
                options,
                connect_timeout=CONNECT_TIMEOUT,
                on_message=on_message,
            )
        except DeepgramError as err:
            return self._failed(record, err)
        if detector is not None:
            detector.prepare()

        async def run() -> Transcript:
            audio = bounded_audio(
                pcm_audio(
                    stream,
                    sample_rate=options.sample_rate or 0,
                    channels=options.channels or 1,
                ),
                options.bytes_per_second,
            )
            transcript = await self._until_end_of_turn(session, audio, detector)
            if detector is not None:
                record.ended_by = detector.policy.ended_by
            if not answered and session.stats.audio_bytes:
                _warn_unanswered(session, options)
            return transcript

        return await self._run_session(
            record, session, run, detector.close if detector is not None else None
        )

    async def _run_session[R: (Transcript, FluxTurn)](
        self,
        record: SessionRecord,
        session: LiveSession | FluxSession,
        run: Callable[[], Awaitable[R]],
        cleanup: Callable[[], Awaitable[None]] | None,
    ) -> SpeechResult:
        """Run one session to its result; every way out ends the request.

        Shared by nova and Flux runs: the session is known to Home
        Assistant's stop handling while it runs; a cancelled run sends
        `CloseStream` and closes within `ABORT_TIMEOUT`; an error or a result
        closes the request cleanly in the background.
        """
        data = self.entry.runtime_data
        session.start()
        try:
            # Out of `live` once its close (or abort) is under way: Home
            # Assistant stopping still sees it during the cleanup.
            with tracked(data, session):
                try:
                    result = await run()
                except asyncio.CancelledError:
                    record.outcome = "cancelled"
                    await session.abort(ABORT_TIMEOUT)
                    self._fill(record, session)
                    raise
                except DeepgramError as err:
                    # A flooding server sends no close frame: CloseStream, then cut.
                    flood = isinstance(err, DeepgramProtocolError)
                    self._close_in_background(data, session, record, abort=flood)
                    return self._failed(record, err)
                except AudioFormatError as err:
                    LOGGER.error("The audio cannot be sent to Deepgram: %s", err)
                    self._close_in_background(data, session, record)
                    record.outcome = "error"
                    record.error = "audio_format"
                    return SpeechResult(None, SpeechResultState.ERROR)
                except AudioTooLongError as err:
                    LOGGER.error(
                        "The audio is longer than %.0f s, the most one run sends to "
                        "Deepgram: the run ended with an error after sending the "
                        "first %.0f s. Transcribe longer recordings with the "
                        "deepgram.transcribe action",
                        err.seconds,
                        err.seconds,
                    )
                    self._close_in_background(data, session, record)
                    record.outcome = "error"
                    record.error = "audio_too_long"
                    return SpeechResult(None, SpeechResultState.ERROR)
                except Exception:
                    # Whatever went wrong (the audio source, a bug), the request is
                    # still ended cleanly and the pipeline gets an error result.
                    LOGGER.exception("Unexpected error during Deepgram speech-to-text")
                    self._close_in_background(data, session, record)
                    record.outcome = "error"
                    record.error = "unexpected"
                    return SpeechResult(None, SpeechResultState.ERROR)
                else:
                    self._close_in_background(data, session, record)
        finally:
            if cleanup is not None:
                await _bounded_cleanup(cleanup)
        return self._succeeded(record, session, result)

    @staticmethod
    async def _send_stream(session: LiveSession, stream: AsyncIterable[bytes]) -> bool:
        """Send the (PCM) stream until it ends; whether it held any audio."""
        heard_audio = False
        async for chunk in stream:
            heard_audio = heard_audio or bool(chunk)
            await session.send_audio(chunk)
        return heard_audio

    @staticmethod
    async def _flushed(session: LiveSession, heard_audio: bool) -> Transcript:
        """Flush Deepgram at the end of the stream: the whole transcript."""
        if heard_audio:
            return await session.finalize(FINALIZE_TIMEOUT)
        # Nothing to transcribe, but a refused key must still show.
        await session.connect()
        return Transcript()

    async def _until_end_of_turn(
        self,
        session: LiveSession,
        stream: AsyncIterable[bytes],
        detector: TurnDetector | None,
    ) -> Transcript:
        """Whichever comes first: the stream's end (then Finalize, unless the
        detector says all is final), Deepgram's end of the turn (with a
        detector), or the session failing, audio flowing or not."""
        sender = asyncio.create_task(
            self._send_stream(session, stream), name="deepgram send audio"
        )
        failed = asyncio.create_task(session.wait_failed(), name="deepgram failure")
        waits = [sender, failed]
        if detector is not None:
            waits.append(
                asyncio.create_task(detector.ended.wait(), name="deepgram end of turn")
            )
        async with first_of(*waits):
            if detector is not None and detector.ended.is_set():
                return session.transcript
            if failed.done():
                failed.result()  # raises the session's error
            heard_audio = sender.result()  # raises what the sending raised
        if detector is not None and detector.stream_ended().action is Action.RETURN:
            return session.transcript
        return await self._flushed(session, heard_audio)

    def _succeeded(
        self,
        record: SessionRecord,
        session: LiveSession | FluxSession,
        transcript: Transcript | FluxTurn,
    ) -> SpeechResult:
        record.outcome = "success"
        self._fill(record, session)
        async_run_succeeded(self.hass, self.entry, self._profile(record))
        text = transcript.text
        LOGGER.debug(
            "Transcribed %.2f s of audio in request %s: %d characters",
            session.audio_seconds or 0.0,
            session.request_id,
            len(text),
        )
        if text:
            languages = transcript.languages
            self.hass.bus.async_fire(
                EVENT_TRANSCRIPT,
                {
                    "entity_id": self.entity_id,
                    "text": text,
                    "confidence": transcript.confidence,
                    "language": languages[0] if languages else record.language,
                    "model": record.model,
                    "audio_seconds": session.audio_seconds,
                    "request_id": session.request_id,
                },
            )
        return SpeechResult(text, SpeechResultState.SUCCESS)

    def _failed(self, record: SessionRecord, err: DeepgramError) -> SpeechResult:
        record.outcome = "error"
        record.error = type(err).__name__
        record.request_id = record.request_id or err.request_id
        log_failure(
            self.hass,
            self.entry,
            self._profile(record),
            err,
            doing="speech-to-text",
            request=f"model {record.model} with language {record.language}",
        )
        return SpeechResult(None, SpeechResultState.ERROR)

    def _profile(self, record: SessionRecord) -> RunProfile:
        """The profile of this run, as problems and their issues name it."""
        return profile_of_entity(self.hass, self.entry, self.entity_id, record.model)

    def _close_in_background(
        self,
        data: DeepgramData,
        session: LiveSession | FluxSession,
        record: SessionRecord,
        *,
        abort: bool = False,
    ) -> None:
        """End the request cleanly without making the pipeline wait for it
        (`socket_runs.close_in_background`), then fill in the record."""
        close_in_background(
            self.hass,
            self.entry,
            data,
            session,
            abort=abort,
            then=lambda: self._fill(record, session),
        )

    @staticmethod
    def _fill(record: SessionRecord, session: LiveSession | FluxSession) -> None:
        stats = session.stats
        record.request_id = session.request_id or record.request_id
        record.connect_seconds = stats.connect_seconds
        if isinstance(session, FluxSession):
            # Flux has no Finalize: its counterpart is ForceEndTurn.
            record.finalize_seconds = session.stats.end_turn_seconds
            record.finalize_answered = session.stats.end_turn_answered
        else:
            record.finalize_seconds = session.stats.finalize_seconds
            record.finalize_answered = session.stats.finalize_answered
        record.audio_seconds = session.audio_seconds
        record.close_code = stats.close_code


async def _bounded_cleanup(cleanup: Callable[[], Awaitable[None]]) -> None:
    """Run `cleanup` (the turn detector's close) for `ABORT_TIMEOUT` at most.

    It cancels a sentence matcher call and waits for it; a matcher that
    ignores cancellation must not hold the run's result. `asyncio.wait`, not
    `asyncio.timeout`: a gather waiting on a task that ignores cancellation
    does not end when cancelled.
    """
    task = asyncio.ensure_future(cleanup())
    done, _ = await asyncio.wait([task], timeout=ABORT_TIMEOUT)
    if not done:
        LOGGER.debug(
            "The sentence matcher did not stop within %.0f s; not waiting for it",
            ABORT_TIMEOUT,
        )


def _warn_unanswered(session: LiveSession, options: LiveOptions) -> None:
    """Audio went out, yet Deepgram sent nothing back, not even for Finalize.

    Deepgram answers any audio it transcribes with results (empty ones for
    silence): a silent request usually means the model could not run with
    these settings, which the run's empty success would otherwise hide.
    """
    LOGGER.warning(
        "Deepgram sent nothing back for %.1f s of audio (request %s), not "
        "even an answer to Finalize: the model %s may not work with language "
        "%s or the profile's %d key terms. Check the profile's model and key "
        "terms, and the request in Deepgram's usage logs",
        session.audio_seconds or 0.0,
        session.request_id,
        options.model,
        options.language,
        len(options.keyterms),
    )
