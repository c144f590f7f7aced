"""Flux's turn state machine, driven by audio time (not wall clock).

:class:`TurnEngine` turns a script (the word timeline) and the end-of-turn
thresholds into the ``TurnInfo`` messages Flux would send as audio arrives.

The model of Flux's end-of-turn confidence: after the last heard word of a
turn it rises linearly with the silence, reaching ``eot_threshold=0.7`` after
``eot_delay`` seconds (Deepgram quotes about 260 ms), capped at 0.99 after
the last word of a script ``Segment`` (a complete thought) and at
``mid_thought_cap`` (0.5) after a word inside a segment (a pause inside a
sentence: "turn on the ... kitchen light"). Hence:

- ``StartOfTurn`` when the first word of a turn has been heard (its end);
- ``Update`` every ``update_interval`` (0.25 s) of audio, always (empty
  transcript between turns);
- ``EagerEndOfTurn`` (only with ``eager_eot_threshold``) when the confidence
  reaches it, ``TurnResumed`` at the start of the next word if one comes,
  else ``EndOfTurn`` with the same words;
- ``EndOfTurn`` when the confidence reaches ``eot_threshold`` (never for 1.0:
  the cap is 0.99) or the silence reaches ``eot_timeout_ms``;
- ``ForceEndTurn`` ends the turn on the audio so far (words heard or partly
  heard), ``"trigger": "manual"``; with nothing heard it sends nothing.

A pause inside a turn only produces events when it is long enough for them:
speech resuming before a threshold is reached changes nothing.
On equal audio times the order is TurnResumed, StartOfTurn, end-of-turn
events, Update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import math
from typing import Any

from .flux_options import Thresholds
from .script import Segment, Word

_EPS = 1e-9
DEFAULT_EOT_DELAY = 0.26
DEFAULT_MID_THOUGHT_CAP = 0.5
FULL_THOUGHT_CAP = 0.99
REFERENCE_THRESHOLD = 0.7
SPEAKING_CONFIDENCE = 0.02


def _t(value: float) -> float:
    return round(value, 6)


@dataclass(frozen=True, slots=True)
class _Event:
    at: float
    order: int
    kind: str  # resumed | start | eager | end | update
    gap: int = -1  # the word whose following silence the event is in


class TurnEngine:
    """The per-session turn state machine of a fake Flux session."""

    def __init__(
        self,
        script: Sequence[Segment],
        thresholds: Thresholds,
        *,
        request_id: str,
        eot_delay: float = DEFAULT_EOT_DELAY,
        mid_thought_cap: float = DEFAULT_MID_THOUGHT_CAP,
        update_interval: float = 0.25,
        language_hints: Sequence[str] = (),
    ) -> None:
        """Plan nothing yet: events are worked out as audio time moves."""
        self._words: list[Word] = [w for s in script for w in s.words]
        self._thought_end: list[bool] = []
        for segment in script:
            self._thought_end += [False] * (len(segment.words) - 1) + [True]
        self.thresholds = thresholds
        self._request_id = request_id
        self._slope = REFERENCE_THRESHOLD / eot_delay
        self._mid_cap = mid_thought_cap
        self._update_interval = update_interval
        self.language_hints = tuple(language_hints)
        self.audio_time = 0.0
        self.turn_index = 0
        self._first = 0  # first word of the current turn
        self._gap = 0  # the next silence window (after word _gap) to examine
        self._open = False  # StartOfTurn sent
        self._eager_gap: int | None = None  # EagerEndOfTurn sent in that window
        self._window_start = 0.0
        self._next_update = update_interval

    # -- the confidence model --------------------------------------------

    def _cap(self, index: int) -> float:
        return FULL_THOUGHT_CAP if self._thought_end[index] else self._mid_cap

    def _next_start(self, index: int) -> float:
        following = index + 1
        if following < len(self._words):
            return self._words[following].start
        return math.inf

    def confidence(self, at: float) -> float:
        """``end_of_turn_confidence`` at audio time ``at``."""
        words = self._words
        heard = [k for k in range(self._first, len(words)) if words[k].end <= at + _EPS]
        if not self._open or not heard:
            return 0.0
        k = heard[-1]
        if self._next_start(k) <= at + _EPS:
            return SPEAKING_CONFIDENCE
        silence = at - self._words[k].end
        return round(min(self._cap(k), self._slope * silence), 4)

    def _turn_event(self) -> _Event | None:
        if not self._open:
            if self._first < len(self._words):
                return _Event(self._words[self._first].end, 1, "start")
            return None
        eager = self.thresholds.eager_eot_threshold
        eot = self.thresholds.eot_threshold
        timeout = self.thresholds.eot_timeout_ms / 1000
        k = self._gap
        while k < len(self._words):
            end = self._words[k].end
            following = self._next_start(k)
            cap = self._cap(k)
            if eager is not None and self._eager_gap != k and cap + _EPS >= eager:
                at = end + eager / self._slope
                if at < following - _EPS:
                    return _Event(max(at, self.audio_time), 2, "eager", k)
            at = end + timeout
            if cap + _EPS >= eot:
                at = min(at, end + eot / self._slope)
            if at < following - _EPS:
                return _Event(max(at, self.audio_time), 2, "end", k)
            if self._eager_gap == k:
                return _Event(following, 0, "resumed", k)
            if following > self.audio_time + _EPS:
                # Speech resumes later; nothing can happen in this window
                # under the current thresholds, but Configure may change them.
                return self._after_window(k)
            k += 1
            self._gap = k
        return None

    def _after_window(self, k: int) -> _Event | None:
        """The first event in the windows after ``k`` (without moving on)."""
        saved = self._gap
        self._gap = k + 1
        try:
            return self._turn_event()
        finally:
            self._gap = saved

    def _next_event(self) -> _Event:
        update = _Event(self._next_update, 3, "update")
        turn = self._turn_event()
        if turn is None or (update.at, update.order) < (turn.at, turn.order):
            return update
        return turn

    # -- messages ----------------------------------------------------------

    def _turn_words(self, at: float, *, partly: bool = False) -> list[Word]:
        if not self._open and not partly:
            return []
        words = self._words[self._first :]
        if partly:
            return [w for w in words if w.start < at - _EPS]
        return [w for w in words if w.end <= at + _EPS]

    def _turn_info(
        self,
        event: str,
        words: Sequence[Word],
        at: float,
        confidence: float,
        **extra: Any,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "TurnInfo",
            "request_id": self._request_id,
            "sequence_id": 0,  # stamped by the session when queued
            "event": event,
            "turn_index": self.turn_index,
            "audio_window_start": _t(self._window_start),
            "audio_window_end": _t(at),
            "transcript": " ".join(w.text for w in words),
            "words": [
                {
                    "word": w.text,
                    "confidence": w.confidence,
                    "start": _t(w.start),
                    "end": _t(w.end),
                }
                for w in words
            ],
            "end_of_turn_confidence": confidence,
        }
        if self.language_hints:
            message["languages"] = [self.language_hints[0]] if words else []
            message["languages_hinted"] = list(self.language_hints)
        message.update(extra)
        return message

    def _handle(self, event: _Event) -> dict[str, Any]:
        at = event.at
        if event.kind == "update":
            self._next_update += self._update_interval
            return self._turn_info(
                "Update", self._turn_words(at), at, self.confidence(at)
            )
        if event.kind == "start":
            self._open = True
            self._gap = self._first
            return self._turn_info(
                "StartOfTurn", self._turn_words(at), at, SPEAKING_CONFIDENCE
            )
        if event.kind == "resumed":
            self._eager_gap = None
            self._gap = event.gap + 1
            return self._turn_info(
                "TurnResumed", self._turn_words(at), at, SPEAKING_CONFIDENCE
            )
        if event.kind == "eager":
            self._eager_gap = event.gap
            self._gap = event.gap
            return self._turn_info(
                "EagerEndOfTurn", self._turn_words(at), at, self.confidence(at)
            )
        words = self._words[self._first : event.gap + 1]
        message = self._turn_info("EndOfTurn", words, at, self.confidence(at))
        self._end_turn(event.gap + 1, at)
        return message

    def _end_turn(self, next_first: int, at: float) -> None:
        self.turn_index += 1
        self._first = next_first
        self._gap = next_first
        self._open = False
        self._eager_gap = None
        self._window_start = at

    def advance(self, audio_time: float) -> list[dict[str, Any]]:
        """Move audio time forward; return the messages due on the way."""
        out: list[dict[str, Any]] = []
        while (event := self._next_event()).at <= audio_time + _EPS:
            self.audio_time = max(self.audio_time, event.at)
            out.append(self._handle(event))
        self.audio_time = max(self.audio_time, audio_time)
        return out

    def force_end_turn(self) -> list[dict[str, Any]]:
        """End the turn on the audio so far (``ForceEndTurn``).

        Words heard or partly heard belong to the turn. A ``StartOfTurn``
        goes first when none was sent yet; with no word at all nothing is
        sent (there is no turn to end).
        """
        at = self.audio_time
        words = self._turn_words(at, partly=True)
        if not words:
            return []
        out: list[dict[str, Any]] = []
        if not self._open:
            self._open = True
            out.append(
                self._turn_info("StartOfTurn", words[:1], at, SPEAKING_CONFIDENCE)
            )
        out.append(
            self._turn_info(
                "EndOfTurn", words, at, self.confidence(at), trigger="manual"
            )
        )
        self._end_turn(self._first + len(words), at)
        return out
