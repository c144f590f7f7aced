"""The key-term budget: Deepgram's 500 tokens and a request line that fits."""

from __future__ import annotations

from yarl import URL

from custom_components.deepgram.api import LiveOptions
from custom_components.deepgram.keyterms import (
    QUERY_BUDGET,
    REQUEST_LINE_LIMIT,
    TOKEN_BUDGET,
    bad_character,
    clean,
    count_tokens,
    fit,
    query_bytes,
    usage,
)


def test_count_tokens() -> None:
    """Letters count a token per four, digits per three, anything else one."""
    assert count_tokens("") == 0
    assert count_tokens("Kodi") == 1
    assert count_tokens("kitchen") == 2
    assert count_tokens("Living Room") == 3
    assert count_tokens("EZS93AV") == 3
    assert count_tokens("R&B") == 3
    assert count_tokens("2026") == 2
    assert count_tokens("Küche") == 3
    assert count_tokens("台所") == 2
    assert count_tokens("  a\n\tb ") == 2
    assert count_tokens("x" * 10_000) == 2500


def test_query_bytes_are_what_is_sent() -> None:
    """The estimate is the length of `&keyterm=<encoded>` as yarl builds it."""
    for term in ["Kodi", "a b", "R&B=#%", "台所", "x" * 300]:
        url = URL("ws://h/v1/listen").extend_query(model="nova-3", keyterm=term)
        assert len(url.raw_query_string) == len("model=nova-3") + query_bytes(term)
    assert query_bytes("台所") == len("&keyterm=") + 18


def test_bad_character() -> None:
    """Control and format characters are refused; blanks are squeezed."""
    assert bad_character("Kodi\nTV\t") is None
    assert bad_character("台所 & Küche") is None
    assert bad_character("a\x00b") == "\x00"
    assert bad_character("a\x7fb") == "\x7f"
    assert bad_character("a\u200bb") == "\u200b"
    assert clean(" Kodi \n TV ") == "Kodi TV"


def test_usage_and_fits() -> None:
    assert usage([]).fits
    assert usage(["Kodi", "Living Room"]).tokens == 4
    assert not usage(["x" * 10_000]).fits
    assert not usage([f"word{n}" for n in range(499)]).fits
    assert usage(["abcd"] * TOKEN_BUDGET).tokens == TOKEN_BUDGET


def test_fit_keeps_order_and_budget() -> None:
    """Terms are kept in order while they fit; later small ones still may."""
    terms = ["Kodi", "x" * 2100, " Kodi ", "", "Living Room", "a\x00b", "TV"]
    kept, left_out = fit(terms, tokens=10)
    assert kept == ["Kodi", "Living Room", "TV"]
    assert left_out == ["x" * 2100, "a\x00b"]


def test_fit_fills_the_request_line() -> None:
    """Many one-token terms stop at the query budget, not the token budget."""
    terms = [f"ab{n:04d}" for n in range(2000)]
    kept, left_out = fit(terms, tokens=10_000)
    assert sum(query_bytes(term) for term in kept) <= QUERY_BUDGET
    assert left_out
    kept, _ = fit(terms)
    assert usage(kept).fits
    assert usage(kept).tokens <= TOKEN_BUDGET


def test_a_full_budget_fits_the_request_line() -> None:
    """With every other option set, a full budget stays under 8,190 bytes."""
    kept, _ = fit(f"Wörd{n}%&=#" for n in range(5000))
    options = LiveOptions(
        model="nova-3-medical-experimental",
        language="en-US",
        punctuate=True,
        smart_format=True,
        numerals=True,
        profanity_filter=True,
        interim_results=True,
        endpointing=5000,
        utterance_end_ms=5000,
        vad_events=True,
        filler_words=True,
        mip_opt_out=True,
        keyterms=tuple(kept),
        tags=("home-assistant",),
    )
    url = URL("wss://deepgram.example.internal:8443/some/prefix/v1/listen")
    path = url.extend_query(options.query()).raw_path_qs
    assert len(f"GET {path} HTTP/1.1") <= REQUEST_LINE_LIMIT
