"""Key terms within Deepgram's budget: counting and fitting (pure functions).

Deepgram takes at most 500 tokens of key terms per request and does not
publish its tokenizer, so tokens are counted conservatively: a subword
tokenizer gives a common word one token and splits a rare one into pieces of
a few characters; here every run of ASCII letters and digits costs one token
per 3 characters (rounded up), any other character (punctuation, accents,
non-Latin scripts) one token for ASCII and two otherwise. The encoded
`keyterm` parameters are also kept short enough for any request line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from math import ceil
import re
from urllib.parse import quote

from .api.options import KEYTERM_TOKEN_LIMIT

TOKEN_BUDGET = KEYTERM_TOKEN_LIMIT
# Bytes of `&keyterm=...` parameters; request lines of 8 KiB are the common
# server limit and the other parameters need room too.
QUERY_BUDGET = 6000
_ASCII_RUN = re.compile(r"[A-Za-z0-9]+")


def clean_term(term: str) -> str:
    """The term with its whitespace collapsed."""
    return " ".join(term.split())


def count_tokens(term: str) -> int:
    """A conservative count of Deepgram's tokens for one key term."""
    tokens = 0
    for word in term.split():
        for run in _ASCII_RUN.findall(word):
            tokens += ceil(len(run) / 3)
        for char in _ASCII_RUN.sub("", word):
            tokens += 1 if char.isascii() else 2
    return tokens


def query_bytes(term: str) -> int:
    """Bytes the term adds to the request line as `&keyterm=<encoded>`."""
    return len("&keyterm=") + len(quote(term, safe=""))


@dataclass(frozen=True, slots=True)
class FittedTerms:
    """The key terms sent with a request and what did not fit."""

    terms: tuple[str, ...] = ()
    tokens: int = 0
    left_out: tuple[str, ...] = ()


def fit_terms(
    candidates: Iterable[str],
    *,
    token_budget: int = TOKEN_BUDGET,
    query_budget: int = QUERY_BUDGET,
) -> FittedTerms:
    """Take terms in the order given while they fit, skipping repeats.

    Repeats are found case-insensitively (the first spelling wins). A term
    that does not fit is left out and the next ones are still tried, so a
    long name does not crowd out the short ones after it; the terms kept
    stay in the order given.
    """
    seen: set[str] = set()
    kept: list[str] = []
    left_out: list[str] = []
    tokens = 0
    size = 0
    for raw in candidates:
        term = clean_term(raw)
        key = term.casefold()
        if not term or key in seen:
            continue
        seen.add(key)
        cost = count_tokens(term)
        length = query_bytes(term)
        if tokens + cost <= token_budget and size + length <= query_budget:
            kept.append(term)
            tokens += cost
            size += length
        else:
            left_out.append(term)
    return FittedTerms(tuple(kept), tokens, tuple(left_out))
