"""Counting key-term tokens, fitting them into the budget, plain words."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.deepgram import plain_words
from custom_components.deepgram.api import LiveOptions
from custom_components.deepgram.const import CONF_KEYTERMS, RECOMMENDED_STT_OPTIONS
from custom_components.deepgram.plain_words import (
    COMMON_ENGLISH,
    is_plain,
    load_plain_words,
    words_of,
)
from custom_components.deepgram.term_budget import (
    QUERY_BUDGET,
    TOKEN_BUDGET,
    count_tokens,
    fit_terms,
    query_bytes,
)
from custom_components.deepgram.transcriber import live_options
from tests.pipeline_helpers import METADATA


@pytest.mark.parametrize(
    ("term", "tokens"),
    [
        ("lamp", 2),
        ("Kallax lamp", 4),
        ("Oma's room", 1 + 1 + 1 + 2),
        ("Tom & Jerry", 1 + 1 + 2),
        ("客厅灯", 6),
        ("Küche", 1 + 2 + 1),
        ("  ", 0),
    ],
)
def test_count_tokens(term: str, tokens: int) -> None:
    """Letters and digits by threes, other characters one or two each."""
    assert count_tokens(term) == tokens


@pytest.mark.parametrize(
    "term", ["a", "I", "x y z", "&", "Zorblax gadget 001", "客", "a b c d e"]
)
def test_tokens_never_fewer_than_words(term: str) -> None:
    """So a fitted list always passes the word limit LiveOptions checks."""
    assert count_tokens(term) >= len(term.split())


def test_fit_keeps_order_skips_repeats_and_blanks() -> None:
    fitted = fit_terms(["Anouk", " ", "Sonos  Arc", "ANOUK", "sonos arc", "Bubbles"])
    assert fitted.terms == ("Anouk", "Sonos Arc", "Bubbles")
    assert fitted.left_out == ()
    assert fitted.tokens == sum(count_tokens(t) for t in fitted.terms)


def test_fit_token_budget_leaves_out_what_does_not_fit() -> None:
    """A long term is left out; shorter ones after it still fit."""
    fitted = fit_terms(["aaaaaa", "bbbbbbbbb", "cc"], token_budget=4)
    assert fitted.terms == ("aaaaaa", "cc")
    assert fitted.tokens == 3
    assert fitted.left_out == ("bbbbbbbbb",)


def test_fit_hundreds_of_terms_stays_in_budget() -> None:
    candidates = [f"Zorblax gadget {i:03}" for i in range(1000)]
    fitted = fit_terms(candidates)
    assert fitted.tokens <= TOKEN_BUDGET
    assert fitted.terms == tuple(candidates[: len(fitted.terms)])
    assert len(fitted.terms) + len(fitted.left_out) == 1000
    LiveOptions(model="nova-3", keyterms=fitted.terms).validate()


def test_fit_query_budget_bounds_the_request_line() -> None:
    """Terms that are cheap in tokens but long once encoded stop at the cap."""
    candidates = [f"{i}" + "&" * 40 for i in range(200)]
    fitted = fit_terms(candidates, token_budget=10_000)
    assert fitted.left_out
    assert sum(query_bytes(t) for t in fitted.terms) <= QUERY_BUDGET
    assert query_bytes("a b") == len("&keyterm=a%20b")


def test_words_of_intents_data() -> None:
    data: dict[str, Any] = {
        "skip_words": ["please"],
        "intents": {"HassTurnOn": {"data": [{"sentences": ["turn on [the] {name}"]}]}},
        "lists": {"color": {"values": [{"in": "Rot", "out": "red"}]}},
        "responses": {"ignored": "Sorry"},
    }
    words = words_of(data)
    assert {"please", "turn", "on", "the", "name", "rot", "red", "color"} <= words
    assert "sorry" not in words


def test_load_plain_words_by_language() -> None:
    english = load_plain_words("en-GB")
    assert {"light", "fan", "kitchen", "turn"} <= english
    german = load_plain_words("de")
    assert {"licht", "kitchen"} <= german
    assert load_plain_words("xx") == COMMON_ENGLISH


def test_load_plain_words_without_intents_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Unreadable intents data leaves the built-in words; nothing raises."""
    import home_assistant_intents

    def unreadable(language: str) -> None:
        raise OSError("no such file")

    monkeypatch.setattr(home_assistant_intents, "get_intents", unreadable)
    assert load_plain_words("en") == plain_words.COMMON_ENGLISH


@pytest.mark.parametrize(
    ("term", "plain"),
    [
        ("Kitchen", True),
        ("light", True),
        ("Kitchen light", False),
        ("Kallax", False),
        ("Bubbles", False),
        ("", False),
    ],
)
def test_is_plain(term: str, plain: bool) -> None:
    assert is_plain(term, frozenset({"kitchen", "light"})) is plain


def test_live_options_take_the_fitted_terms() -> None:
    """Without a fitted list a request carries the profile's own terms."""
    profile = {**RECOMMENDED_STT_OPTIONS, CONF_KEYTERMS: ["Anouk"]}
    assert live_options(profile, "en", METADATA).keyterms == ("Anouk",)
    fitted = live_options(profile, "en", METADATA, ["Anouk", "Bubbles"])
    assert fitted.keyterms == ("Anouk", "Bubbles")
