"""One pipeline run on a Flux profile: the server tells when the turn ends.

Audio flows while the user speaks; the run returns the turn

- at Flux's `EndOfTurn` (Deepgram's own end-of-turn model), or
- at an `EagerEndOfTurn` when the words already form a complete command
  (the sentence matcher says so, as in the nova profiles' Deepgram end of
  speech) and no `TurnResumed` came since, or
- when Home Assistant's voice activity detector ends the stream first: then
  the turn is ended with `ForceEndTurn`, waiting a bounded time for its
  `EndOfTurn` and falling back to the last `Update`.

Once the turn is returned the stream is no longer read (nothing more is
sent or billed) and the request is ended in the background: `CloseStream`,
bounded wait, close. A cancelled run sends `CloseStream` and closes within
about a second. Results, the transcript event, diagnostics and errors are
those of nova runs (`transcriber.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Callable, Mapping, Sequence
from typing import Any

from homeassistant.components.stt import SpeechMetadata, SpeechResult
from homeassistant.util import dt as dt_util

from .api import (
    DeepgramError,
    FluxMessage,
    FluxOptions,
    FluxSession,
    FluxTurn,
    TurnEvent,
    TurnInfo,
)
from .api.flux_options import FLUX_MULTI_MODEL
from .audio import pcm_audio
from .audio_bounds import bounded_audio
from .const import (
    CONF_EAGER_EOT_THRESHOLD,
    CONF_EOT_THRESHOLD,
    CONF_EOT_TIMEOUT_MS,
    CONF_KEYTERMS,
    CONF_LANGUAGE_HINTS,
    CONF_MIP_OPT_OUT,
    CONF_MODEL,
    CONNECT_TIMEOUT,
    END_TURN_TIMEOUT,
    RECOMMENDED_FLUX_OPTIONS,
    STALL_TIMEOUT,
)
from .data import SessionRecord
from .end_of_speech import (
    Action,
    EndedBy,
    EndOfSpeech,
    EndOfTurnPolicy,
    SentenceMatcher,
    TurnDetector,
)
from .language import MULTI
from .socket_runs import first_of
from .transcriber import USAGE_TAG, Transcriber


def flux_options(
    profile: Mapping[str, Any],
    metadata: SpeechMetadata,
    keyterms: Sequence[str] | None = None,
) -> FluxOptions:
    """The request options for a Flux profile (subentry data) and a run's audio.

    `keyterms` (the profile's own and the home's, fitted) replaces the
    profile's own terms when given.
    """
    settings = {**RECOMMENDED_FLUX_OPTIONS, **profile}
    if keyterms is None:
        keyterms = settings[CONF_KEYTERMS] or ()
    eager = settings[CONF_EAGER_EOT_THRESHOLD]
    return FluxOptions(
        model=settings[CONF_MODEL],
        encoding="linear16",
        sample_rate=int(metadata.sample_rate),
        eot_threshold=float(settings[CONF_EOT_THRESHOLD]),
        eager_eot_threshold=float(eager) if eager else None,
        eot_timeout_ms=int(settings[CONF_EOT_TIMEOUT_MS]),
        keyterms=tuple(keyterms),
        language_hints=tuple(settings[CONF_LANGUAGE_HINTS] or ()),
        mip_opt_out=settings[CONF_MIP_OPT_OUT],
        tags=(USAGE_TAG,),
    )


def flux_language(options: FluxOptions) -> str:
    """The language a Flux run is in, as far as the options tell."""
    if options.model.strip() != FLUX_MULTI_MODEL:
        return "en"
    return ",".join(options.language_hints) or MULTI


class FluxTurnDetector(TurnDetector):
    """Drives the nova profiles' end-of-turn policy from Flux's turn events.

    One policy serves both (`end_of_speech.py`, *End of speech: Deepgram*):
    an `EagerEndOfTurn` is a final with `speech_final` (the sentence matcher
    is asked about its words), `TurnResumed` is new speech, `EndOfTurn` an
    utterance end, and an `Update` or `StartOfTurn` counts only when it
    brings new words. A match ends the run with the eager words; when the
    stream ends after an eager end of turn with nothing new since, those
    words are the turn (Flux's `EndOfTurn` would carry the same); otherwise
    the turn is ended with `ForceEndTurn`.
    """

    def __init__(self, matcher: SentenceMatcher | None) -> None:
        """Watch the first turn of one run."""
        super().__init__(
            EndOfTurnPolicy(EndOfSpeech.DEEPGRAM), self._eager_text, matcher
        )
        self.eager: TurnInfo | None = None
        self._words = 0

    def _eager_text(self) -> str:
        return self.eager.transcript if self.eager is not None else ""

    @property
    def turn(self) -> FluxTurn | None:
        """The eager words, once the policy ended the turn on them."""
        if self.eager is None or self.policy.ended_by not in (
            EndedBy.MATCH,
            EndedBy.STREAM_END_SETTLED,
        ):
            return None
        return FluxTurn.from_info(self.eager, "eager_end_of_turn")

    def on_flux_message(self, message: FluxMessage) -> None:
        """Feed one server message of a Flux session."""
        if not isinstance(message, TurnInfo) or message.turn_index != 0:
            return
        policy = self.policy
        event = message.event
        if event is TurnEvent.EAGER_END_OF_TURN:
            self.eager = message
            self._words = len(message.words)
            self._apply(
                policy.on_words(
                    final=True,
                    speech_final=True,
                    has_words=bool(message.transcript.strip()),
                )
            )
        elif event is TurnEvent.TURN_RESUMED:
            self.eager = None
            self._apply(policy.on_speech_started())
        elif event is TurnEvent.END_OF_TURN:
            self._apply(policy.on_utterance_end())
        elif len(message.words) > self._words:
            self._words = len(message.words)
            self._apply(
                policy.on_words(final=False, speech_final=False, has_words=True)
            )


class FluxTranscriber(Transcriber):
    """Runs pipeline audio through a Flux session for one STT entity."""

    async def async_transcribe_flux(
        self,
        options: FluxOptions,
        stream: AsyncIterable[bytes],
        matcher: SentenceMatcher | None = None,
        on_turn: Callable[[FluxTurn], None] | None = None,
    ) -> SpeechResult:
        """Stream the audio until the turn ends; return the turn's words.

        `on_turn` sees the first turn's words so far after every turn event.
        """
        data = self.entry.runtime_data
        record = SessionRecord(
            started=dt_util.utcnow().isoformat(),
            entity_id=self.entity_id,
            model=options.model,
            language=flux_language(options),
        )
        data.history.append(record)
        detector = FluxTurnDetector(matcher)

        def on_message(message: FluxMessage) -> None:
            detector.on_flux_message(message)
            if (
                on_turn is not None
                and isinstance(message, TurnInfo)
                and message.turn_index == 0
            ):
                on_turn(FluxTurn.from_info(message, "update"))

        try:
            session = FluxSession(
                data.http,
                data.endpoint,
                options,
                connect_timeout=CONNECT_TIMEOUT,
                stall_timeout=STALL_TIMEOUT,
                on_message=on_message,
            )
        except DeepgramError as err:
            return self._failed(record, err)
        detector.prepare()

        async def run() -> FluxTurn:
            turn = await self._until_turn_end(
                session, stream, detector, options.sample_rate or 0
            )
            record.ended_by = turn.ended_by
            return turn

        return await self._run_session(record, session, run, detector.close)

    @staticmethod
    async def _send_flux_stream(
        session: FluxSession, stream: AsyncIterable[bytes], sample_rate: int
    ) -> None:
        # Bounded as nova runs are: a source that never ends stops after
        # MAX_RUN_SECONDS of time or audio (a stall ends the turn sooner, see
        # FluxSession); more audio than that, far ahead of real time, is an
        # error.
        audio = bounded_audio(
            pcm_audio(stream, sample_rate=sample_rate, channels=1), sample_rate * 2
        )
        async for chunk in audio:
            await session.send_audio(chunk)

    async def _until_turn_end(
        self,
        session: FluxSession,
        stream: AsyncIterable[bytes],
        detector: FluxTurnDetector,
        sample_rate: int,
    ) -> FluxTurn:
        """Whichever comes first: the end of turn, an eager match, the stream's end.

        A failing session ends the wait for the turn with its error, audio
        flowing or not.
        """
        sender = asyncio.create_task(
            self._send_flux_stream(session, stream, sample_rate),
            name="deepgram flux send audio",
        )
        ended = asyncio.create_task(
            session.wait_for_turn_end(END_TURN_TIMEOUT), name="deepgram flux turn"
        )
        accepted = asyncio.create_task(
            detector.ended.wait(), name="deepgram flux accepted"
        )
        async with first_of(sender, ended, accepted):
            if ended.done():
                return ended.result()
            if (matched := detector.turn) is not None:
                return matched
            if accepted.done():  # Flux's EndOfTurn: the session has it
                return await ended
            sender.result()  # the stream ended: raises what the sending raised
            if detector.stream_ended().action is Action.RETURN and (
                settled := detector.turn
            ):
                return settled
            return await session.end_turn(END_TURN_TIMEOUT)
