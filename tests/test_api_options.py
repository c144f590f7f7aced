"""Options of a `/v1/listen` request: validation and the query string."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from custom_components.deepgram.api import (
    DEFAULT_MODEL,
    DeepgramError,
    DeepgramOptionsError,
    LiveOptions,
    is_nova3_or_flux,
    supports_multi,
)
from custom_components.deepgram.api.options import KEYTERM_TOKEN_LIMIT


def test_defaults_are_raw_pcm_for_nova3_in_english() -> None:
    """The defaults describe Home Assistant's audio: 16 kHz mono linear16."""
    assert LiveOptions().query() == [
        ("model", DEFAULT_MODEL),
        ("language", "en"),
        ("encoding", "linear16"),
        ("sample_rate", "16000"),
        ("channels", "1"),
    ]
    assert DEFAULT_MODEL == "nova-3"


def test_every_option_in_the_query_in_order() -> None:
    """Every option is sent; booleans as true/false, numbers as text."""
    options = LiveOptions(
        model="nova-3",
        language="de",
        encoding="linear16",
        sample_rate=16000,
        channels=1,
        punctuate=True,
        smart_format=False,
        numerals=True,
        profanity_filter=False,
        interim_results=True,
        endpointing=300,
        utterance_end_ms=1000,
        vad_events=True,
        keyterms=("Küche", "living room light"),
        filler_words=False,
        mip_opt_out=True,
        tags=("home-assistant", "kitchen"),
    )
    assert options.query() == [
        ("model", "nova-3"),
        ("language", "de"),
        ("encoding", "linear16"),
        ("sample_rate", "16000"),
        ("channels", "1"),
        ("punctuate", "true"),
        ("smart_format", "false"),
        ("numerals", "true"),
        ("profanity_filter", "false"),
        ("interim_results", "true"),
        ("endpointing", "300"),
        ("utterance_end_ms", "1000"),
        ("vad_events", "true"),
        ("filler_words", "false"),
        ("mip_opt_out", "true"),
        ("keyterm", "Küche"),
        ("keyterm", "living room light"),
        ("tag", "home-assistant"),
        ("tag", "kitchen"),
    ]


def test_none_leaves_a_parameter_out() -> None:
    """`None` lets Deepgram's default apply: the key is not sent at all."""
    options = LiveOptions(language=None, channels=None, punctuate=None)
    keys = [key for key, _ in options.query()]
    assert "language" not in keys
    assert "channels" not in keys
    assert "punctuate" not in keys
    assert keys == ["model", "encoding", "sample_rate"]


@pytest.mark.parametrize(
    ("endpointing", "expected"),
    [(False, "false"), (0, "0"), (10, "10"), (500, "500"), (60000, "60000")],
)
def test_endpointing_takes_milliseconds_or_false(
    endpointing: int, expected: str
) -> None:
    """`endpointing=False` turns it off; a number is milliseconds of silence."""
    query = dict(LiveOptions(endpointing=endpointing).query())
    assert query["endpointing"] == expected


def test_list_parameters_repeat_the_key_and_are_stripped() -> None:
    """Keyterms, keywords and tags repeat the key, never comma-joined."""
    nova3 = LiveOptions(keyterms=(" kitchen light ", "C++, maybe"), tags=(" t1 ",))
    assert [v for k, v in nova3.query() if k == "keyterm"] == [
        "kitchen light",
        "C++, maybe",
    ]
    assert [v for k, v in nova3.query() if k == "tag"] == ["t1"]
    nova2 = LiveOptions(model="nova-2", keywords=(" snuffleupagus:5 ", "kitchen"))
    assert [v for k, v in nova2.query() if k == "keywords"] == [
        "snuffleupagus:5",
        "kitchen",
    ]


def test_model_is_stripped() -> None:
    """Whitespace around a model name (from a text field) is not sent."""
    assert LiveOptions(model="  nova-2-general ").query()[0] == (
        "model",
        "nova-2-general",
    )


def test_containerised_audio_sends_no_encoding_or_sample_rate() -> None:
    """WAV carries its format: encoding and sample_rate are left out."""
    options = LiveOptions(encoding=None, sample_rate=None)
    keys = [key for key, _ in options.query()]
    assert "encoding" not in keys
    assert "sample_rate" not in keys
    assert options.bytes_per_second is None


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, 32000),
        ({"sample_rate": 8000}, 16000),
        ({"sample_rate": 48000, "channels": 2}, 192000),
        ({"channels": None}, 32000),
        ({"encoding": "mulaw", "sample_rate": 8000}, None),
        ({"encoding": "opus", "sample_rate": 48000}, None),
        ({"encoding": None, "sample_rate": None}, None),
    ],
)
def test_bytes_per_second(kwargs: dict[str, Any], expected: int | None) -> None:
    """Only linear16 has a known byte rate (16-bit samples)."""
    assert LiveOptions(**kwargs).bytes_per_second == expected


@pytest.mark.parametrize(
    "encoding",
    [
        "linear16",
        "linear32",
        "flac",
        "alaw",
        "mulaw",
        "amr-nb",
        "amr-wb",
        "opus",
        "ogg-opus",
        "speex",
        "g729",
    ],
)
def test_every_raw_encoding_is_accepted(encoding: str) -> None:
    """Each encoding Deepgram documents for raw audio passes validation."""
    query = dict(LiveOptions(encoding=encoding, sample_rate=8000).query())
    assert query["encoding"] == encoding
    assert query["sample_rate"] == "8000"


@pytest.mark.parametrize(
    "language", ["en", "en-US", "de", "pt-BR", "zh-Hans-CN", "yue", "es-419"]
)
def test_valid_languages(language: str) -> None:
    """BCP-47 tags pass validation."""
    assert dict(LiveOptions(language=language).query())["language"] == language


@pytest.mark.parametrize(
    "model", ["nova-3", "nova-3-general", "nova-2", "nova-2-phonecall"]
)
def test_multi_with_nova3_and_nova2(model: str) -> None:
    """`language=multi` is offered by nova-3 and nova-2."""
    assert dict(LiveOptions(model=model, language="multi").query())["language"] == (
        "multi"
    )


def test_keyterms_up_to_the_token_limit() -> None:
    """Exactly 500 words of keyterms are accepted."""
    terms = tuple(["one two three four five"] * (KEYTERM_TOKEN_LIMIT // 5))
    assert len(
        [k for k, _ in LiveOptions(keyterms=terms).query() if k == "keyterm"]
    ) == (KEYTERM_TOKEN_LIMIT // 5)


@pytest.mark.parametrize(
    "keyword", ["kitchen", "kitchen:2", "kitchen:-3", "kitchen:1.5", "New York:0.5"]
)
def test_valid_keywords(keyword: str) -> None:
    """`keywords` takes a word with an optional numeric boost."""
    assert ("keywords", keyword) in LiveOptions(
        model="nova-2", keywords=(keyword,)
    ).query()


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"model": ""}, "model is required"),
    ({"model": "   "}, "model is required"),
    ({"model": "flux-general-en"}, "/v2/listen"),
    ({"model": "flux-general-multi", "language": None}, "Flux"),
    ({"model": "base", "language": "multi"}, "language=multi"),
    ({"model": "enhanced", "language": "multi"}, "language=multi"),
    ({"model": "whisper-large", "language": "multi"}, "language=multi"),
    ({"language": "english"}, "Invalid language"),
    ({"language": ""}, "Invalid language"),
    ({"language": "e"}, "Invalid language"),
    ({"language": "en_US"}, "Invalid language"),
    ({"language": "en-"}, "Invalid language"),
    ({"language": "en US"}, "Invalid language"),
    ({"language": "MULTI"}, "Invalid language"),
    ({"encoding": "mp3"}, "Unknown encoding"),
    ({"encoding": "wav", "sample_rate": None}, "Unknown encoding"),
    ({"encoding": "LINEAR16"}, "Unknown encoding"),
    ({"encoding": "linear16", "sample_rate": None}, "needs sample_rate"),
    ({"encoding": "mulaw", "sample_rate": None}, "needs sample_rate"),
    ({"encoding": None}, "sample_rate goes with a raw encoding"),
    ({"sample_rate": 0}, "Invalid sample_rate"),
    ({"sample_rate": 999}, "Invalid sample_rate"),
    ({"sample_rate": 192001}, "Invalid sample_rate"),
    ({"sample_rate": -16000}, "Invalid sample_rate"),
    ({"channels": 0}, "Invalid channels"),
    ({"channels": 33}, "Invalid channels"),
    ({"channels": -1}, "Invalid channels"),
    ({"endpointing": True}, "milliseconds or False"),
    ({"endpointing": -1}, "Invalid endpointing"),
    ({"endpointing": 60001}, "Invalid endpointing"),
    ({"utterance_end_ms": 1000}, "needs interim_results"),
    ({"utterance_end_ms": 1000, "interim_results": False}, "needs interim_results"),
    ({"utterance_end_ms": 999, "interim_results": True}, "between 1000 and 5000"),
    ({"utterance_end_ms": 5001, "interim_results": True}, "between 1000 and 5000"),
    ({"utterance_end_ms": 0, "interim_results": True}, "between 1000 and 5000"),
    ({"model": "nova-2", "keyterms": ("kitchen",)}, "keyterm works with nova-3"),
    ({"model": "base", "keyterms": ("kitchen",)}, "keyterm works with nova-3"),
    ({"keyterms": ("kitchen", "")}, "keyterm may not be empty"),
    ({"keyterms": ("  ",)}, "keyterm may not be empty"),
    (
        {"keyterms": (*(["one two three four five"] * 100), "six")},
        "at most 500",
    ),
    ({"keywords": ("kitchen",)}, "keywords work with nova-2"),
    ({"model": "nova-3-general", "keywords": ("kitchen",)}, "keywords work with"),
    ({"model": "nova-2", "keywords": ("",)}, "Invalid keyword"),
    ({"model": "nova-2", "keywords": ("   ",)}, "Invalid keyword"),
    ({"model": "nova-2", "keywords": ("kitchen:loud",)}, "Invalid keyword"),
    ({"model": "nova-2", "keywords": (":2",)}, "Invalid keyword"),
    ({"model": "nova-2", "keywords": ("a:b:2",)}, "Invalid keyword"),
    ({"model": "nova-2", "keywords": ("kitchen:2.",)}, "Invalid keyword"),
    ({"tags": ("",)}, "tag may not be empty"),
    ({"tags": ("ok", "  ")}, "tag may not be empty"),
]


@pytest.mark.parametrize(("kwargs", "message"), INVALID)
def test_invalid_options_are_refused_before_connecting(
    kwargs: dict[str, Any], message: str
) -> None:
    """Every value or combination Deepgram refuses raises `DeepgramOptionsError`."""
    options = LiveOptions(**kwargs)
    with pytest.raises(DeepgramOptionsError, match=message):
        options.validate()
    with pytest.raises(DeepgramOptionsError, match=message):
        options.query()


def test_options_error_is_a_value_error_and_a_deepgram_error() -> None:
    """Callers may catch it as either."""
    with pytest.raises(ValueError, match="Unknown encoding") as info:
        LiveOptions(encoding="mp3").validate()
    assert isinstance(info.value, DeepgramError)
    assert info.value.status is None


@pytest.mark.parametrize(
    ("low", "high"),
    [("sample_rate", 1000), ("sample_rate", 192000), ("channels", 1), ("channels", 32)],
)
def test_audio_bounds_are_inclusive(low: str, high: int) -> None:
    """The limits themselves are valid."""
    kwargs: dict[str, Any] = {low: high}
    assert (low, str(high)) in LiveOptions(**kwargs).query()


@pytest.mark.parametrize("ms", [1000, 5000])
def test_utterance_end_bounds_with_interim_results(ms: int) -> None:
    """1000 and 5000 ms are both accepted with interim results."""
    query = LiveOptions(utterance_end_ms=ms, interim_results=True).query()
    assert ("utterance_end_ms", str(ms)) in query
    assert ("interim_results", "true") in query


def test_options_are_frozen() -> None:
    """Options are values: changing one means building a new one."""
    options = LiveOptions()
    with pytest.raises(AttributeError):
        options.model = "nova-2"  # type: ignore[misc]
    assert replace(options, model="nova-2").query()[0] == ("model", "nova-2")


@pytest.mark.parametrize(
    ("model", "keyterm", "multi"),
    [
        ("nova-3", True, True),
        ("nova-3-medical", True, True),
        ("flux-general-en", True, False),
        ("nova-2", False, True),
        ("nova-2-general", False, True),
        ("nova", False, False),
        ("enhanced", False, False),
        ("base", False, False),
        ("whisper-medium", False, False),
    ],
)
def test_model_families(model: str, keyterm: bool, multi: bool) -> None:
    """Which models take keyterm, and which offer code-switching."""
    assert is_nova3_or_flux(model) is keyterm
    assert supports_multi(model) is multi
