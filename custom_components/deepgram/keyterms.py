"""The budget of Deepgram key terms: tokens and bytes of the request line.

Deepgram takes at most 500 tokens of key terms in a request (its tokenizer's
sub-word tokens, not words: "EZS93AV" is several), and every term travels in
the `/v1/listen` query string, which servers (aiohttp's among them) cap with
the rest of the request line at 8,190 bytes. Both bounds are estimated here,
conservatively, so that what fits here is not refused by Deepgram.

Pure functions, no Home Assistant: the profile form refuses what does not fit
(`check`), and terms gathered automatically are cut to what fits (`fit`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import math
import re
import unicodedata

from yarl import URL

TOKEN_BUDGET = 500
"""Deepgram's limit on the tokens of all key terms of one request."""

REQUEST_LINE_LIMIT = 8190
"""aiohttp's (and many servers') limit on an HTTP request line, in bytes."""

QUERY_RESERVE = 1190
"""Bytes kept for everything else on the line: method, path (a self-hosted
server's path prefix too), the other parameters, the HTTP version."""

QUERY_BUDGET = REQUEST_LINE_LIMIT - QUERY_RESERVE
"""Bytes the key terms may take in the query string (`&keyterm=...` each)."""

_PIECES = re.compile(r"[A-Za-z]+|[0-9]+|\S", re.ASCII)
_LETTERS_PER_TOKEN = 4
_DIGITS_PER_TOKEN = 3


def clean(term: str) -> str:
    """The term as sent: blanks (newlines, tabs) squeezed to single spaces."""
    return " ".join(term.split())


def count_tokens(term: str) -> int:
    """A conservative estimate of the tokens Deepgram counts for one term.

    A run of ASCII letters counts one token per four letters (common words
    are one token; rare ones, codes and names are split), a run of digits
    one per three, any other character (punctuation, letters of other
    scripts) one each.
    """
    tokens = 0
    for piece in _PIECES.findall(clean(term)):
        if piece.isascii() and piece.isalpha():
            tokens += math.ceil(len(piece) / _LETTERS_PER_TOKEN)
        elif piece.isascii() and piece.isdigit():
            tokens += math.ceil(len(piece) / _DIGITS_PER_TOKEN)
        else:
            tokens += len(piece)
    return tokens


def query_bytes(term: str) -> int:
    """Bytes the term takes in the query string, `&keyterm=` included."""
    encoded = URL("/").extend_query(keyterm=clean(term)).raw_query_string
    return len(encoded) + 1


def bad_character(term: str) -> str | None:
    """A character a key term may not hold (control or unassigned), or None."""
    for char in term:
        if char.isspace():
            continue  # squeezed to a space by `clean`
        if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"}:
            return char
    return None


@dataclass(frozen=True, slots=True)
class Usage:
    """How much of the budget terms use."""

    tokens: int
    query_bytes: int

    @property
    def fits(self) -> bool:
        """Whether Deepgram (and the request line) take terms of this size."""
        return self.tokens <= TOKEN_BUDGET and self.query_bytes <= QUERY_BUDGET


def usage(terms: Iterable[str]) -> Usage:
    """Tokens and query bytes of the terms together."""
    cleaned = [clean(term) for term in terms]
    return Usage(
        tokens=sum(count_tokens(term) for term in cleaned),
        query_bytes=sum(query_bytes(term) for term in cleaned),
    )


def fit(
    terms: Iterable[str],
    *,
    tokens: int = TOKEN_BUDGET,
    max_query_bytes: int = QUERY_BUDGET,
) -> tuple[list[str], list[str]]:
    """Split terms (in order, cleaned, without repeats) into kept and left out.

    Terms are kept in the order given while they fit both budgets; a term
    that does not fit is left out and later, smaller ones may still fit.
    Terms that are empty or hold a `bad_character` are left out too.
    """
    kept: list[str] = []
    left_out: list[str] = []
    used_tokens = used_bytes = 0
    for term in dict.fromkeys(clean(term) for term in terms):
        if not term:
            continue
        cost_tokens = count_tokens(term)
        cost_bytes = query_bytes(term)
        if (
            bad_character(term) is None
            and used_tokens + cost_tokens <= tokens
            and used_bytes + cost_bytes <= max_query_bytes
        ):
            kept.append(term)
            used_tokens += cost_tokens
            used_bytes += cost_bytes
        else:
            left_out.append(term)
    return kept, left_out
