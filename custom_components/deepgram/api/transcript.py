"""The utterance built from a session's results.

Deepgram's utterance is every `is_final` transcript joined in order; an
interim result is replaced by later ones for the same span, so only the
latest is kept, and it counts only while no final has covered it.

The utterance is built as results arrive: the finals' text, their word count,
confidence and languages are running totals, so taking a result and reading
the text cost the same however many results came before (a server flooding
empty finals cannot make each one dearer than the last).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .messages import Results

_EPSILON = 1e-3


class Transcript:
    """Accumulates `Results` into the text of one utterance."""

    __slots__ = (
        "_final_text",
        "_final_words",
        "_finals",
        "_interim",
        "_languages",
        "_text",
        "_weight",
        "_weighted",
    )

    def __init__(self) -> None:
        """Start an empty utterance."""
        self._finals: list[Results] = []
        self._interim: Results | None = None
        self._final_text = ""
        self._final_words = 0
        # The non-empty finals' words (each counts at least once), and the
        # sum of their confidence times those words.
        self._weight = 0
        self._weighted = 0.0
        # Words per language over the finals, in order of first appearance.
        self._languages: dict[str, int] = {}
        self._text: str | None = None  # `text`, until the next change

    def __repr__(self) -> str:
        """Show the text and how many finals made it."""
        return f"Transcript({self.text!r}, finals={len(self._finals)})"

    def add(self, result: Results) -> None:
        """Take one `Results` message into the utterance."""
        if not result.is_final:
            self._interim = result
            self._text = None
            return
        self._finals.append(result)
        self._final_words += len(result.words)
        _count_languages(self._languages, result)
        segment = result.transcript.strip()
        if segment:
            self._final_text = (
                f"{self._final_text} {segment}" if self._final_text else segment
            )
            weight = max(len(result.words), 1)
            self._weight += weight
            self._weighted += result.confidence * weight
            self._text = None
        if self._interim is not None:
            self._interim = _after(self._interim, result.start + result.duration)
            self._text = None

    @property
    def finals(self) -> Sequence[Results]:
        """Every final result, in order."""
        return self._finals

    @property
    def interim(self) -> Results | None:
        """The latest interim result, or the part of it no final covered."""
        return self._interim

    @property
    def word_count(self) -> int:
        """How many words the utterance keeps: the finals' and the interim's."""
        interim = len(self._interim.words) if self._interim else 0
        return self._final_words + interim

    @property
    def final_text(self) -> str:
        """Every final segment's transcript, in order."""
        return self._final_text

    @property
    def text(self) -> str:
        """The final segments plus the latest interim not yet made final."""
        if self._text is None:
            interim = self._interim.transcript.strip() if self._interim else ""
            self._text = " ".join(p for p in (self._final_text, interim) if p)
        return self._text

    @property
    def confidence(self) -> float | None:
        """Mean confidence of the non-empty segments, weighted by their words."""
        weight, weighted = self._weight, self._weighted
        interim = self._interim
        if interim is not None and interim.transcript.strip():
            interim_weight = max(len(interim.words), 1)
            weight += interim_weight
            weighted += interim.confidence * interim_weight
        if not weight:
            return None
        return weighted / weight

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages Deepgram detected (multilingual models), most used first."""
        counts = dict(self._languages)
        if self._interim is not None:
            _count_languages(counts, self._interim)
        return tuple(sorted(counts, key=lambda lang: -counts[lang]))


def _count_languages(counts: dict[str, int], result: Results) -> None:
    """Count the result's words per language; its own languages count too."""
    for word in result.words:
        if word.language:
            counts[word.language] = counts.get(word.language, 0) + 1
    for language in result.languages:
        counts.setdefault(language, 0)


def _after(interim: Results, end: float) -> Results | None:
    """The part of an interim result that a final ending at `end` left open."""
    if interim.start + interim.duration <= end + _EPSILON:
        return None
    words = tuple(w for w in interim.words if w.start >= end - _EPSILON)
    if not words:
        return None
    text = " ".join(w.punctuated_word or w.word for w in words)
    start = words[0].start
    return replace(
        interim,
        transcript=text,
        words=words,
        start=start,
        duration=interim.start + interim.duration - start,
    )
