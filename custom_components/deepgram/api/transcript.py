"""The utterance built from a session's results.

Deepgram's utterance is every `is_final` transcript joined in order; an
interim result is replaced by later ones for the same span, so only the
latest is kept, and it counts only while no final has covered it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .messages import Results

_EPSILON = 1e-3


@dataclass(slots=True)
class Transcript:
    """Accumulates `Results` into the text of one utterance."""

    finals: list[Results] = field(default_factory=list)
    interim: Results | None = None

    def add(self, result: Results) -> None:
        """Take one `Results` message into the utterance."""
        if not result.is_final:
            self.interim = result
            return
        self.finals.append(result)
        if self.interim is not None:
            self.interim = _after(self.interim, result.start + result.duration)

    @property
    def final_text(self) -> str:
        """Every final segment's transcript, in order."""
        return " ".join(
            r.transcript.strip() for r in self.finals if r.transcript.strip()
        )

    @property
    def text(self) -> str:
        """The final segments plus the latest interim not yet made final."""
        parts = [self.final_text]
        if self.interim is not None:
            parts.append(self.interim.transcript.strip())
        return " ".join(part for part in parts if part)

    @property
    def confidence(self) -> float | None:
        """Mean confidence of the non-empty segments, weighted by their words."""
        segments = [r for r in self._segments() if r.transcript.strip()]
        words = sum(max(len(r.words), 1) for r in segments)
        if not segments:
            return None
        total = sum(r.confidence * max(len(r.words), 1) for r in segments)
        return total / words

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages Deepgram detected (multilingual models), most used first."""
        counts: dict[str, int] = {}
        for result in self._segments():
            for word in result.words:
                if word.language:
                    counts[word.language] = counts.get(word.language, 0) + 1
            for language in result.languages:
                counts.setdefault(language, 0)
        return tuple(sorted(counts, key=lambda lang: -counts[lang]))

    def _segments(self) -> list[Results]:
        return [*self.finals, *([self.interim] if self.interim else [])]


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
