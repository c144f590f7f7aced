"""The transcript timeline a fake Deepgram session "hears".

A script is a list of :class:`Segment` (one ``is_final`` span each) made of
:class:`Word` with times in seconds of *audio* (not wall time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

_KEEP = frozenset("'-%")


@dataclass(frozen=True, slots=True)
class Word:
    """One word of the timeline.

    ``text`` is the punctuated form Deepgram returns with ``punctuate=true``
    ("Turn", "light."); :attr:`plain` is the lowercase form without
    punctuation used for ``word`` (and the transcript without punctuate).
    """

    text: str
    start: float
    end: float
    confidence: float = 0.99
    language: str | None = None
    """The word's language, as multilingual (``language=multi``) models tag it."""

    def __post_init__(self) -> None:
        """Reject words that end before they start."""
        if self.end < self.start:
            raise ValueError(f"word {self.text!r} ends before it starts")

    @property
    def plain(self) -> str:
        """Lowercase form without punctuation ("Light." -> "light")."""
        kept = "".join(ch for ch in self.text.lower() if ch.isalnum() or ch in _KEEP)
        return kept.strip("'-") or kept


@dataclass(frozen=True, slots=True)
class Segment:
    """One ``is_final`` span of words (in time order)."""

    words: tuple[Word, ...]

    def __post_init__(self) -> None:
        """Reject empty or unordered segments."""
        if not self.words:
            raise ValueError("a segment needs at least one word")
        for before, after in zip(self.words, self.words[1:], strict=False):
            if after.start < before.start:
                raise ValueError("segment words must be in time order")

    @property
    def start(self) -> float:
        """Audio time the first word starts."""
        return self.words[0].start

    @property
    def end(self) -> float:
        """Audio time the last word ends."""
        return self.words[-1].end


def script_from_text(
    text: str,
    *,
    start: float = 0.5,
    end: float | None = None,
    words_per_segment: int = 3,
    seconds_per_word: float = 0.3,
) -> list[Segment]:
    """Spread the words of ``text`` evenly over ``[start, end]`` and group them.

    ``end`` defaults to ``start + seconds_per_word * len(words)``. Words are
    contiguous (no pause between segments), so with endpointing only the last
    segment ends in a pause (``speech_final``). The text is split on
    whitespace and used as the punctuated form.
    """
    tokens = text.split()
    if not tokens:
        return []
    if words_per_segment < 1:
        raise ValueError("words_per_segment must be >= 1")
    stop = start + seconds_per_word * len(tokens) if end is None else end
    if stop <= start:
        raise ValueError("end must be after start")
    step = (stop - start) / len(tokens)
    words = [
        Word(token, round(start + i * step, 4), round(start + (i + 1) * step, 4))
        for i, token in enumerate(tokens)
    ]
    return [
        Segment(tuple(words[i : i + words_per_segment]))
        for i in range(0, len(words), words_per_segment)
    ]


def script_words(script: Sequence[Segment]) -> list[Word]:
    """All words of a script, in order."""
    return [word for segment in script for word in segment.words]
