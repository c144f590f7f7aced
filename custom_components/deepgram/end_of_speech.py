"""When has the user finished speaking? One end-of-turn policy for every stream.

Home Assistant's voice activity detector ends the audio stream about a second
after the last word. Deepgram hears the end first; this module decides, from
what Deepgram reports, when the speech-to-text stage may return.

The policy is transport-neutral: `/v1/listen` (nova) feeds it from `Results`,
`UtteranceEnd` and `SpeechStarted`; a `/v2/listen` (Flux) client can feed it
from its turn events (`EagerEndOfTurn` as a final with `speech_final`,
`TurnResumed` as speech started, `EndOfTurn` as an utterance end).

Events in (`EndOfTurnPolicy`):

- `on_words(final=..., speech_final=..., has_words=...)`: a transcript.
- `on_utterance_end()`: a long pause (Deepgram's `UtteranceEnd`).
- `on_speech_started()`: new speech begins (Deepgram's `SpeechStarted`).
- `on_match(question, matched)`: the sentence matcher's answer.
- `on_stream_ended()`: Home Assistant's detector ended the audio stream.

Decision out (`Decision`): keep listening, ask the sentence matcher whether
the words so far are a complete command, return the transcript now, or flush
(`Finalize`) and return what the flush brings.

With `EndOfSpeech.DEEPGRAM` whichever comes first ends the turn:

1. a final with `speech_final` whose words the sentence matcher recognises;
2. an utterance end (the user paused for `utterance_end_ms`);
3. the end of the stream, answered at once when Deepgram has already
   finalised everything (a `speech_final` or utterance end after the last
   word and no new speech since), with `Finalize` otherwise.

With `EndOfSpeech.HOME_ASSISTANT` only the end of the stream counts, always
answered with `Finalize`. `TurnDetector` drives a policy from `/v1/listen`
messages and runs the matcher in the background; no Home Assistant imports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
import logging
from typing import Final

from .api.messages import Results, ServerMessage, SpeechStarted, UtteranceEnd

_LOGGER = logging.getLogger(__name__)

MATCH_TIMEOUT: Final = 1.0
"""Bound of one sentence-matcher call (seconds); a late answer is no match."""
PREPARE_TIMEOUT: Final = 10.0
"""Bound of the first call, which may load the language's sentences."""


class EndOfSpeech(StrEnum):
    """Who decides that the user has finished speaking."""

    HOME_ASSISTANT = "home_assistant"
    DEEPGRAM = "deepgram"


class Action(StrEnum):
    """What the caller should do after an event."""

    LISTEN = "listen"
    """Keep streaming; nothing is decided."""
    ASK_MATCHER = "ask_matcher"
    """Ask the sentence matcher about the words so far (see `Decision.question`)."""
    RETURN = "return"
    """Return the transcript now; stop reading the stream."""
    FINALIZE = "finalize"
    """Flush Deepgram (`Finalize`) and return what the flush brings."""


class EndedBy(StrEnum):
    """Why a turn ended (diagnostics and benchmarks)."""

    MATCH = "sentence_match"
    UTTERANCE_END = "utterance_end"
    STREAM_END_SETTLED = "stream_end_settled"
    STREAM_END_FINALIZE = "stream_end_finalize"


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer to one event."""

    action: Action
    question: int = 0
    """With `ASK_MATCHER`: pass it back to `on_match` with the answer."""
    ended_by: EndedBy | None = None
    """With `RETURN` and `FINALIZE`: why the turn ended."""


LISTEN: Final = Decision(Action.LISTEN)


class EndOfTurnPolicy:
    """The end-of-turn rules of the module docstring, as a state machine."""

    def __init__(self, mode: EndOfSpeech, *, matcher_available: bool = True) -> None:
        """A policy for one turn; `matcher_available=False` skips rule 1."""
        self.mode = mode
        self.matcher_available = matcher_available
        self.ended_by: EndedBy | None = None
        self._heard_words = False
        self._settled = False  # finalised after the last word, nothing new since
        self._generation = 0  # bumped by every sign of new speech

    @property
    def settled(self) -> bool:
        """Whether Deepgram has finalised everything heard so far."""
        return self._settled

    def on_words(self, *, final: bool, speech_final: bool, has_words: bool) -> Decision:
        """A transcript (interim or final) arrived."""
        if self.ended_by is not None:
            return LISTEN
        if has_words:
            self._heard_words = True
            self._generation += 1
        if not final:
            if has_words:
                self._settled = False  # new words not yet final
            return LISTEN
        if not speech_final:
            if has_words:
                self._settled = False
            return LISTEN
        self._settled = self._heard_words
        if (
            self.mode is EndOfSpeech.DEEPGRAM
            and self.matcher_available
            and self._settled
        ):
            return Decision(Action.ASK_MATCHER, question=self._generation)
        return LISTEN

    def on_speech_started(self) -> Decision:
        """New speech began: earlier end-of-speech signals no longer hold."""
        if self.ended_by is None:
            self._generation += 1
            self._settled = False
        return LISTEN

    def on_utterance_end(self) -> Decision:
        """The user paused for `utterance_end_ms` after the last word."""
        if self.ended_by is not None or not self._heard_words:
            return LISTEN
        self._settled = True
        if self.mode is EndOfSpeech.DEEPGRAM:
            return self._end(Action.RETURN, EndedBy.UTTERANCE_END)
        return LISTEN

    def on_match(self, question: int, matched: bool) -> Decision:
        """The matcher's answer about the words of `question`."""
        if (
            matched
            and self.ended_by is None
            and question == self._generation
            and self._settled
        ):
            return self._end(Action.RETURN, EndedBy.MATCH)
        return LISTEN

    def on_stream_ended(self) -> Decision:
        """Home Assistant's detector ended the stream (or the audio ran out)."""
        if self.ended_by is not None:
            return Decision(Action.RETURN, ended_by=self.ended_by)
        if self.mode is EndOfSpeech.DEEPGRAM and self._settled:
            return self._end(Action.RETURN, EndedBy.STREAM_END_SETTLED)
        return self._end(Action.FINALIZE, EndedBy.STREAM_END_FINALIZE)

    def _end(self, action: Action, ended_by: EndedBy) -> Decision:
        self.ended_by = ended_by
        return Decision(action, ended_by=ended_by)


type SentenceMatcher = Callable[[str], Awaitable[bool]]
"""Whether a text is a complete command; raises when it cannot tell."""


class TurnDetector:
    """Drives an `EndOfTurnPolicy` from `/v1/listen` messages.

    `on_message` is the session's message callback; `text` returns the
    transcript so far. `ended` is set when the turn ended early (rules 1
    and 2); `stream_ended()` applies rule 3. The matcher runs in one
    background task, one call at a time (the warm-up first), each bounded
    by `MATCH_TIMEOUT`: a question asked while a call is running waits for
    it, and a newer one replaces it (Deepgram may send many `speech_final`
    results while one call runs; only the latest words can end the turn).
    If the matcher fails once, rule 1 is off for the rest of the turn and
    the run goes on. `close()` cancels the call.
    """

    def __init__(
        self,
        policy: EndOfTurnPolicy,
        text: Callable[[], str],
        matcher: SentenceMatcher | None,
    ) -> None:
        """Watch one turn."""
        self.policy = policy
        if matcher is None:
            policy.matcher_available = False
        self.ended = asyncio.Event()
        self._text = text
        self._matcher = matcher
        self._warm_up_first = False
        self._question: tuple[str, int] | None = None  # the latest, not yet asked
        self._asking: asyncio.Task[None] | None = None

    def prepare(self) -> None:
        """Warm the matcher up while the user speaks (its first call loads
        the language's sentences, which can take longer than a pause)."""
        if self._matcher is not None:
            self._warm_up_first = True
            self._ask_soon(self._matcher)

    def on_message(self, message: ServerMessage) -> None:
        """Feed one server message of a `/v1/listen` session."""
        policy = self.policy
        if isinstance(message, Results):
            if message.from_finalize:
                return  # our own flush: the turn is already ending
            has_words = bool(message.transcript.strip())
            self._apply(
                policy.on_words(
                    final=message.is_final,
                    speech_final=message.speech_final,
                    has_words=has_words,
                )
            )
        elif isinstance(message, UtteranceEnd):
            self._apply(policy.on_utterance_end())
        elif isinstance(message, SpeechStarted):
            self._apply(policy.on_speech_started())

    def stream_ended(self) -> Decision:
        """The stream ended: return at once or flush (rule 3)."""
        return self.policy.on_stream_ended()

    async def close(self) -> None:
        """Cancel the matcher call still running; ask nothing more (messages
        still come while the request closes in the background)."""
        self._matcher = None
        self._question = None
        if self._asking is not None:
            self._asking.cancel()
            await asyncio.gather(self._asking, return_exceptions=True)

    def _apply(self, decision: Decision) -> None:
        if decision.action is Action.RETURN:
            self.ended.set()
        elif decision.action is Action.ASK_MATCHER and self._matcher is not None:
            # Replaces a question not yet asked: its words are no longer the
            # latest, so its answer could not end the turn.
            self._question = (self._text(), decision.question)
            self._ask_soon(self._matcher)

    def _ask_soon(self, matcher: SentenceMatcher) -> None:
        """Start the asking task unless it is running (it takes the question)."""
        if self._asking is None or self._asking.done():
            self._asking = asyncio.create_task(
                self._ask_in_turn(matcher), name="deepgram end of turn match"
            )

    async def _ask_in_turn(self, matcher: SentenceMatcher) -> None:
        """The warm-up, then the latest question until none is left."""
        if self._warm_up_first:
            self._warm_up_first = False
            await self._warm_up(matcher)
        while self._question is not None and self.policy.matcher_available:
            text, question = self._question
            self._question = None
            await self._ask(matcher, text, question)

    async def _warm_up(self, matcher: SentenceMatcher) -> None:
        try:
            async with asyncio.timeout(PREPARE_TIMEOUT):
                await matcher("")
        except Exception as err:  # never fail the run for it
            self._unavailable(err)

    def _unavailable(self, err: BaseException) -> None:
        if self.policy.matcher_available:
            _LOGGER.debug(
                "Sentence matching is unavailable (%s); ending speech on "
                "Deepgram's utterance end or Home Assistant's detector",
                err or "no reason given",
            )
        self.policy.matcher_available = False

    async def _ask(self, matcher: SentenceMatcher, text: str, question: int) -> None:
        try:
            async with asyncio.timeout(MATCH_TIMEOUT):
                matched = await matcher(text)
        except TimeoutError:
            _LOGGER.debug("The sentence matcher took over %.1f s", MATCH_TIMEOUT)
            return
        except Exception as err:  # never fail the run for it
            self._unavailable(err)
            return
        self._apply(self.policy.on_match(question, matched))
