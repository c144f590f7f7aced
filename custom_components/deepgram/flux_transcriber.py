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
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping, Sequence
import logging
from typing import Any, Final

from homeassistant.components.stt import SpeechMetadata, SpeechResult, SpeechResultState
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
from .audio import AudioFormatError, pcm_audio
from .const import (
    ABORT_TIMEOUT,
    CONF_EAGER_EOT_THRESHOLD,
    CONF_EOT_THRESHOLD,
    CONF_EOT_TIMEOUT_MS,
    CONF_KEYTERMS,
    CONF_LANGUAGE_HINTS,
    CONF_MIP_OPT_OUT,
    CONF_MODEL,
    CONNECT_TIMEOUT,
    END_TURN_TIMEOUT,
    LOGGER,
    RECOMMENDED_FLUX_OPTIONS,
    STALL_TIMEOUT,
)
from .data import SessionRecord
from .language import MULTI
from .transcriber import USAGE_TAG, Transcriber

_LOGGER = logging.getLogger(__name__)

MATCH_TIMEOUT: Final = 1.0
"""Bound of one sentence-matcher call (seconds); a late answer is no match."""

type SentenceMatcher = Callable[[str], Awaitable[bool]]
"""Whether a text is a complete command; raises when it cannot tell."""


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


class EagerTurn:
    """Decides whether an `EagerEndOfTurn` may end the run.

    Only when a sentence matcher is given and says the eager words are a
    complete command, and no `TurnResumed` came in between (its answer is
    then stale and ignored). A matcher that fails is not asked again.
    """

    def __init__(self, matcher: SentenceMatcher | None) -> None:
        """Watch one run's turn events."""
        self.accepted = asyncio.Event()
        self.turn: FluxTurn | None = None
        self._matcher = matcher
        self._generation = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def on_message(self, message: FluxMessage) -> None:
        """Feed one server message."""
        if not isinstance(message, TurnInfo) or self.accepted.is_set():
            return
        if message.event is TurnEvent.TURN_RESUMED:
            self._generation += 1
        elif message.event is TurnEvent.EAGER_END_OF_TURN and self._matcher:
            self._generation += 1
            task = asyncio.create_task(
                self._ask(self._matcher, message, self._generation),
                name="deepgram flux eager match",
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _ask(
        self, matcher: SentenceMatcher, info: TurnInfo, generation: int
    ) -> None:
        try:
            async with asyncio.timeout(MATCH_TIMEOUT):
                matched = await matcher(info.transcript)
        except TimeoutError:
            _LOGGER.debug("The sentence matcher took over %.1f s", MATCH_TIMEOUT)
            return
        except Exception as err:  # never fail the run for it
            _LOGGER.debug("Sentence matching is unavailable: %s", err or "no reason")
            self._matcher = None
            return
        if matched and generation == self._generation:
            self.turn = FluxTurn.from_info(info, "eager_end_of_turn")
            self.accepted.set()

    async def close(self) -> None:
        """Cancel matcher calls still running."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


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
        eager = EagerTurn(matcher)

        def on_message(message: FluxMessage) -> None:
            eager.on_message(message)
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
        session.start()
        try:
            turn = await self._until_turn_end(
                session, stream, eager, options.sample_rate or 0
            )
            record.ended_by = turn.ended_by
        except asyncio.CancelledError:
            record.outcome = "cancelled"
            await session.abort(ABORT_TIMEOUT)
            self._fill(record, session)
            raise
        except DeepgramError as err:
            self._close_in_background(data, session, record)
            return self._failed(record, err)
        except AudioFormatError as err:
            LOGGER.error("The audio cannot be sent to Deepgram: %s", err)
            self._close_in_background(data, session, record)
            record.outcome = "error"
            record.error = "audio_format"
            return SpeechResult(None, SpeechResultState.ERROR)
        except Exception:
            LOGGER.exception("Unexpected error during Deepgram speech-to-text")
            self._close_in_background(data, session, record)
            record.outcome = "error"
            record.error = "unexpected"
            return SpeechResult(None, SpeechResultState.ERROR)
        finally:
            await eager.close()
        self._close_in_background(data, session, record)
        return self._succeeded(record, session, turn)

    @staticmethod
    async def _send_stream(
        session: FluxSession, stream: AsyncIterable[bytes], sample_rate: int
    ) -> None:
        async for chunk in pcm_audio(stream, sample_rate=sample_rate, channels=1):
            await session.send_audio(chunk)

    async def _until_turn_end(
        self,
        session: FluxSession,
        stream: AsyncIterable[bytes],
        eager: EagerTurn,
        sample_rate: int,
    ) -> FluxTurn:
        """Whichever comes first: the end of turn, an eager match, the stream's end."""
        sender = asyncio.create_task(
            self._send_stream(session, stream, sample_rate),
            name="deepgram flux send audio",
        )
        ended = asyncio.create_task(
            session.wait_for_turn_end(END_TURN_TIMEOUT), name="deepgram flux turn"
        )
        accepted = asyncio.create_task(eager.accepted.wait())
        try:
            await asyncio.wait(
                {sender, ended, accepted}, return_when=asyncio.FIRST_COMPLETED
            )
            if ended.done():
                return ended.result()
            if eager.turn is not None:
                return eager.turn
            sender.result()  # the stream ended: raises what the sending raised
            return await session.end_turn(END_TURN_TIMEOUT)
        finally:
            for task in (sender, ended, accepted):
                # The turn is over: stop reading the stream (the rest of the
                # audio is never sent, so never billed).
                task.cancel()
            await asyncio.wait({sender, ended, accepted})
            for task in (sender, ended):
                if not task.cancelled():
                    task.exception()  # retrieved: raised above or not needed
