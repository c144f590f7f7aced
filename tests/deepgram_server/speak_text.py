"""Where the fake ``/v1`` and ``/v2/speak`` cut text into pieces of speech.

A sentence ends at a run of ``.``, ``!``, ``?`` or ``…`` (closing quotes or
brackets may follow) that is followed by whitespace, or at an ideographic
full stop or a fullwidth ``!`` or ``?`` (no space needed). A terminator at
the very end of the text is not yet a sentence end (``"3."`` may become
``"3.5"``): only whitespace after it, or a ``Flush``, completes it. Pieces are
stripped of surrounding whitespace.
"""

from __future__ import annotations

import re
import unicodedata

_SENTENCE_END = re.compile(
    "(?:[.!?\u2026]+[\"'\u201d\u2019)\\]]*(?=\\s)|[\u3002\uff01\uff1f]+[\u300d\u300f\uff09]*)"
)


def split_sentences(text: str) -> tuple[list[str], str]:
    """(complete sentences, the rest not yet ended) of ``text``."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        sentences.append(text[start : match.end()].strip())  # never empty
        start = match.end()
    return sentences, text[start:]


def pieces_of(text: str) -> list[str]:
    """The pieces of complete ``text`` (at a Flush): its sentences and the rest."""
    sentences, rest = split_sentences(text)
    if rest.strip():
        sentences.append(rest.strip())
    return sentences


def synthesizable(text: str) -> bool:
    """Whether ``text`` has anything to say (not only whitespace or punctuation)."""
    return any(char.isalnum() for char in text)


def billable_count(text: str) -> int:
    """Characters Deepgram bills: the input without control characters."""
    return sum(1 for char in text if unicodedata.category(char) != "Cc")
