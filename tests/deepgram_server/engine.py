"""Deterministic transcript emission driven by audio time (not wall clock).

:class:`TranscriptEngine` turns a script and the query options into the
messages Deepgram would send as audio arrives:

- interim ``Results`` (``interim_results=true``) every ``interim_interval``
  seconds of audio, with the heard (``audio >= word.end``) words not yet final;
- a final per segment at ``segment.end + final_lag``; when endpointing is on
  and the pause after the segment (to the next segment's start, forever for
  the last one) is >= ``endpointing`` ms, the final comes instead at
  ``segment.end + endpointing`` with ``speech_final: true``;
- ``UtteranceEnd`` (``utterance_end_ms`` with ``interim_results``) at
  ``word.end + utterance_end_ms`` for a word followed by at least that gap;
- ``SpeechStarted`` (``vad_events=true``) at the start of the first word of an
  utterance: the first segment, and a segment after a pause that ended the
  previous one with ``speech_final`` (or a pause >= 1 s without endpointing).

On equal audio times the order is SpeechStarted, interim, final, UtteranceEnd.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import math
from typing import Any

from . import messages
from .models_catalog import CatalogModel
from .options import ListenOptions
from .script import Segment, Word

_EPS = 1e-9
_UTTERANCE_GAP_WITHOUT_ENDPOINTING = 1.0


@dataclass(frozen=True, slots=True)
class _Event:
    at: float
    order: int
    kind: str  # "speech_started" | "final" | "utterance_end"
    index: int  # word index (speech_started/utterance_end) or segment index


class TranscriptEngine:
    """The per-session transcript state machine."""

    def __init__(
        self,
        script: Sequence[Segment],
        options: ListenOptions,
        *,
        request_id: str,
        final_lag: float = 0.3,
        interim_interval: float = 1.0,
    ) -> None:
        """Plan the events of ``script`` for a session with ``options``."""
        self._segments = list(script)
        self._options = options
        self._request_id = request_id
        self._interim_interval = interim_interval
        self._words: list[Word] = [w for s in self._segments for w in s.words]
        self._segment_stop: list[int] = []  # index after each segment's last word
        self._speech_final: list[bool] = []
        count = 0
        for segment in self._segments:
            count += len(segment.words)
            self._segment_stop.append(count)
        self.audio_time = 0.0
        self._final_count = 0  # words already sent in a final (a prefix)
        self._cursor = 0.0  # audio time the next final/interim span starts
        self._next_tick = interim_interval
        self._events = self._plan(final_lag)
        self._next_event = 0

    @property
    def model(self) -> CatalogModel:
        """The model the session uses."""
        return self._options.model

    def _plan(self, final_lag: float) -> list[_Event]:
        opts = self._options
        endpoint = None if opts.endpointing_ms is None else opts.endpointing_ms / 1000
        events: list[_Event] = []
        segments = self._segments
        for i, segment in enumerate(segments):
            pause = (
                segments[i + 1].start - segment.end
                if i + 1 < len(segments)
                else math.inf
            )
            speech_final = endpoint is not None and pause + _EPS >= endpoint
            self._speech_final.append(speech_final)
            delay = endpoint if speech_final and endpoint is not None else final_lag
            events.append(_Event(segment.end + delay, 2, "final", i))
            if opts.vad_events:
                previous_pause = segment.start - segments[i - 1].end if i else math.inf
                gap = (
                    _UTTERANCE_GAP_WITHOUT_ENDPOINTING if endpoint is None else endpoint
                )
                if i == 0 or previous_pause + _EPS >= gap:
                    first = self._segment_stop[i] - len(segment.words)
                    events.append(_Event(segment.start, 0, "speech_started", first))
        if opts.utterance_end_ms is not None and opts.interim_results:
            gap = opts.utterance_end_ms / 1000
            for j, word in enumerate(self._words):
                following = (
                    self._words[j + 1].start if j + 1 < len(self._words) else math.inf
                )
                if following - word.end + _EPS >= gap:
                    events.append(_Event(word.end + gap, 3, "utterance_end", j))
        events.sort(key=lambda e: (e.at, e.order))
        return events

    def _results(
        self,
        words: Sequence[Word],
        *,
        end: float,
        is_final: bool,
        speech_final: bool = False,
        from_finalize: bool = False,
    ) -> dict[str, Any]:
        message = messages.results(
            words,
            start=self._cursor,
            duration=end - self._cursor,
            is_final=is_final,
            speech_final=speech_final,
            from_finalize=from_finalize,
            punctuate=self._options.punctuate,
            channels=self._options.channels,
            request_id=self._request_id,
            model=self._options.model,
        )
        if is_final:
            self._cursor = max(self._cursor, end)
        return message

    def advance(self, audio_time: float) -> list[dict[str, Any]]:
        """Move audio time forward; return the messages due on the way."""
        out: list[dict[str, Any]] = []
        interim = self._options.interim_results
        while True:
            event = (
                self._events[self._next_event]
                if self._next_event < len(self._events)
                else None
            )
            tick_due = interim and self._next_tick <= audio_time + _EPS
            event_due = event is not None and event.at <= audio_time + _EPS
            if not tick_due and not event_due:
                break
            if (
                event is not None
                and event_due
                and (not tick_due or (event.at, event.order) <= (self._next_tick, 1))
            ):
                self._next_event += 1
                self.audio_time = max(self.audio_time, event.at)
                message = self._handle(event)
                if message is not None:
                    out.append(message)
            else:
                tick = self._next_tick
                self._next_tick += self._interim_interval
                self.audio_time = max(self.audio_time, tick)
                heard = [
                    w for w in self._words[self._final_count :] if w.end <= tick + _EPS
                ]
                if heard:
                    out.append(self._results(heard, end=tick, is_final=False))
        self.audio_time = max(self.audio_time, audio_time)
        return out

    def _handle(self, event: _Event) -> dict[str, Any] | None:
        channels = self._options.channels
        if event.kind == "speech_started":
            return messages.speech_started(self._words[event.index].start, channels)
        if event.kind == "utterance_end":
            return messages.utterance_end(self._words[event.index].end, channels)
        stop = self._segment_stop[event.index]
        if stop <= self._final_count:
            return None  # already sent by Finalize
        words = self._words[self._final_count : stop]
        self._final_count = stop
        return self._results(
            words,
            end=event.at,
            is_final=True,
            speech_final=self._speech_final[event.index],
        )

    def _pending(self) -> list[Word]:
        """Heard or partly heard words not yet in a final."""
        return [
            w for w in self._words[self._final_count :] if w.start < self.audio_time
        ]

    @property
    def has_pending(self) -> bool:
        """Whether a Finalize would flush any word."""
        return bool(self._pending())

    def finalize(self) -> dict[str, Any]:
        """The ``from_finalize`` final answering ``Finalize`` (maybe empty)."""
        words = self._pending()
        self._final_count += len(words)
        return self._results(
            words, end=self.audio_time, is_final=True, from_finalize=True
        )

    def close_stream(self) -> list[dict[str, Any]]:
        """The remaining finals at ``CloseStream``.

        Pending words go out in one final; with none pending but unaccounted
        audio, an empty final covers it (as real Deepgram does).
        """
        words = self._pending()
        if not words and self.audio_time <= self._cursor + _EPS:
            return []
        self._final_count += len(words)
        return [self._results(words, end=self.audio_time, is_final=True)]
