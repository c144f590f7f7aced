"""Speak socket options: voice families, their paths, bounds and query strings."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from custom_components.deepgram.api.errors import DeepgramError, DeepgramOptionsError
from custom_components.deepgram.api.speak_options import (
    DEFAULT_SPEAK_MODEL,
    MAX_TAG_LENGTH,
    SpeakOptions,
    speak_family,
    speak_path,
)

AURA = "aura-asteria-en"
AURA_2 = "aura-2-thalia-en"
FLUX = "flux-alexis-en"


# -- families and paths ----------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "family", "path"),
    [
        ("aura-asteria-en", "aura", "/v1/speak"),
        ("aura-zeus-en", "aura", "/v1/speak"),
        ("aura-2-thalia-en", "aura-2", "/v1/speak"),
        ("aura-2-julius-de", "aura-2", "/v1/speak"),
        ("aura-2-ama-ja", "aura-2", "/v1/speak"),
        ("aura-2-arcas-en", "aura-2", "/v1/speak"),  # a name Aura-1 has too
        ("flux-alexis-en", "flux", "/v2/speak"),
        ("flux-haley-en", "flux", "/v2/speak"),
        ("flux-lena-pt-br", "flux", "/v2/speak"),  # a regional language
        ("flux-general2-de", "flux", "/v2/speak"),  # a voice is not a listen model
        (" aura-2-thalia-en ", "aura-2", "/v1/speak"),  # stripped
    ],
)
def test_families_and_paths(model: str, family: str, path: str) -> None:
    """The model's shape names its family and the socket serving it."""
    assert speak_family(model) == family
    assert speak_path(model) == path
    options = SpeakOptions(model=model)
    assert options.family == family
    assert options.path == path


@pytest.mark.parametrize(
    ("model", "match"),
    [
        ("flux-general-en", "Flux speech-to-text model"),
        ("flux-general-multi", "Flux speech-to-text model"),
        (" flux-general-en", "Flux speech-to-text model"),
        ("nova-3", "Unknown voice model"),
        ("", "Unknown voice model"),
        ("aura-asteria-de", "Unknown voice model"),  # Aura-1 is English only
        ("aura-2-en", "Unknown voice model"),  # no voice
        ("aura-2-thalia", "Unknown voice model"),  # no language
        ("aura-thalia", "Unknown voice model"),
        ("Aura-2-Thalia-EN", "Unknown voice model"),  # Deepgram's names are lower
        ("aura-2-thalia-en-", "Unknown voice model"),
        ("aura-2-thalia-english", "Unknown voice model"),
        ("aura-2-\nthalia-en", "Unknown voice model"),
        ("flux-alexis", "Unknown voice model"),
        ("flux-alexis-en extra", "Unknown voice model"),
        ("xflux-alexis-en", "Unknown voice model"),
        ("flux-2x-en", "Unknown voice model"),  # a voice starts with a letter
    ],
)
def test_models_that_are_not_voices(model: str, match: str) -> None:
    """Listen models, typos and other shapes are refused with what was expected."""
    with pytest.raises(DeepgramOptionsError, match=match):
        speak_family(model)
    with pytest.raises(DeepgramOptionsError, match=match):
        SpeakOptions(model=model)


def test_an_unknown_model_is_named_cut_short() -> None:
    """A huge model string is not echoed whole into the message."""
    with pytest.raises(DeepgramOptionsError) as info:
        speak_family("x" * 90)
    assert "x" * 60 in str(info.value)
    assert "x" * 61 not in str(info.value)


def test_a_model_name_longer_than_a_voice_name_is_refused() -> None:
    """Well shaped but 100+ characters (typed into the form): refused, not
    echoed, as the voice list's parser refuses it."""
    with pytest.raises(DeepgramOptionsError, match="at most 100 characters") as info:
        speak_family("aura-2-" + "a" * 100 + "-en")
    assert "a" * 60 not in str(info.value)


# -- queries ---------------------------------------------------------------------


def test_defaults_query() -> None:
    """The default: an Aura-2 voice, raw 16 kHz PCM, nothing else sent."""
    options = SpeakOptions()
    assert options.model == DEFAULT_SPEAK_MODEL == AURA_2
    assert options.query() == [
        ("model", "aura-2-thalia-en"),
        ("encoding", "linear16"),
        ("sample_rate", "16000"),
    ]
    assert options.path == "/v1/speak"


def test_full_flux_query_in_order() -> None:
    """Every option of a Flux voice, in the spec's order, stripped."""
    options = SpeakOptions(
        model=" flux-alexis-en ",
        encoding="linear16",
        sample_rate=44100,
        speed=1.05,
        expressivity=-2,
        mip_opt_out=True,
        tag=" kitchen ",
    )
    assert options.query() == [
        ("model", "flux-alexis-en"),
        ("encoding", "linear16"),
        ("sample_rate", "44100"),
        ("speed", "1.05"),
        ("expressivity", "-2"),
        ("mip_opt_out", "true"),
        ("tag", "kitchen"),
    ]


def test_full_aura_query_in_order() -> None:
    """Every option of an Aura voice (no expressivity there)."""
    options = SpeakOptions(
        model=AURA,
        encoding="mulaw",
        sample_rate=8000,
        speed=0.7,
        mip_opt_out=True,
        tag="ha",
    )
    assert options.query() == [
        ("model", AURA),
        ("encoding", "mulaw"),
        ("sample_rate", "8000"),
        ("speed", "0.7"),
        ("mip_opt_out", "true"),
        ("tag", "ha"),
    ]


@pytest.mark.parametrize(
    ("speed", "sent"),
    [(1.0, "1"), (1, "1"), (1.0500000001, "1.05"), (0.5, "0.5"), (1.5, "1.5")],
)
def test_flux_speed_is_sent_on_its_step(speed: float, sent: str) -> None:
    """A Flux speed within float noise of a step is sent as that step."""
    assert ("speed", sent) in SpeakOptions(model=FLUX, speed=speed).query()


def test_aura_speed_is_sent_as_given() -> None:
    """Aura takes any speed in its range: no rounding to a step."""
    assert ("speed", "1.23") in SpeakOptions(model=AURA_2, speed=1.23).query()
    assert ("speed", "1") in SpeakOptions(model=AURA_2, speed=1).query()


def test_unset_options_are_left_out() -> None:
    """speed, expressivity and tag None, mip_opt_out False: not in the query."""
    keys = [key for key, _ in SpeakOptions(model=FLUX, mip_opt_out=False).query()]
    assert keys == ["model", "encoding", "sample_rate"]
    assert ("expressivity", "0") in SpeakOptions(model=FLUX, expressivity=0).query()


# -- bounds ----------------------------------------------------------------------


V1_LINEAR16 = (8000, 16000, 24000, 32000, 48000)
V2_LINEAR16 = (8000, 16000, 24000, 32000, 44100, 48000)
G711 = (8000, 16000)


@pytest.mark.parametrize(
    ("model", "encoding", "rates"),
    [
        (model, encoding, rates)
        for model in (AURA, AURA_2)
        for encoding, rates in (("linear16", V1_LINEAR16), ("mulaw", G711))
    ]
    + [(AURA_2, "alaw", G711)]
    + [(FLUX, "linear16", V2_LINEAR16), (FLUX, "mulaw", G711), (FLUX, "alaw", G711)],
)
def test_sample_rates_of_each_family_and_encoding(
    model: str, encoding: str, rates: tuple[int, ...]
) -> None:
    """Exactly the listed rates are taken; every other common rate is refused."""
    for rate in (*V2_LINEAR16, 11025, 22050, 96000, 0, -16000):
        if rate in rates:
            options = SpeakOptions(model=model, encoding=encoding, sample_rate=rate)
            assert ("sample_rate", str(rate)) in options.query()
        else:
            with pytest.raises(DeepgramOptionsError, match="Invalid sample_rate") as e:
                SpeakOptions(model=model, encoding=encoding, sample_rate=rate)
            assert ", ".join(str(r) for r in rates) in str(e.value)


def test_a_sample_rate_of_another_type_is_refused() -> None:
    """A float, a bool or a string rate is refused, even one equal to a rate."""
    for rate in (16000.0, True, "16000", None):
        with pytest.raises(DeepgramOptionsError, match="Invalid sample_rate"):
            SpeakOptions(sample_rate=rate)  # type: ignore[arg-type]


@pytest.mark.parametrize("encoding", ["mp3", "opus", "flac", "Linear16", "", None])
def test_unknown_encodings(encoding: Any) -> None:
    """Only the raw encodings a speak socket streams are taken."""
    with pytest.raises(DeepgramOptionsError, match="Unknown encoding"):
        SpeakOptions(encoding=encoding)


@pytest.mark.parametrize(
    ("model", "speed", "accepted"),
    [
        (AURA_2, 0.7, True),
        (AURA_2, 0.699, False),
        (AURA_2, 1.5, True),
        (AURA_2, 1.501, False),
        (AURA, 0.7, True),
        (AURA, 0.69, False),
        (AURA, 1.5, True),
        (AURA, 1.51, False),
        (AURA_2, 0.5, False),  # a Flux speed, not an Aura one
        (AURA_2, 1.23, True),  # Aura has no step
        (FLUX, 0.5, True),
        (FLUX, 0.45, False),
        (FLUX, 0.49, False),
        (FLUX, 1.5, True),
        (FLUX, 1.55, False),
        (FLUX, 1.51, False),
        (FLUX, 0.55, True),
        (FLUX, 1.45, True),
        (FLUX, 1.05, True),
        (FLUX, 1.04, False),  # off the 0.05 step
        (FLUX, 1.06, False),
        (FLUX, 1.025, False),
        (FLUX, 1, True),
    ],
)
def test_speed_bounds_of_each_family(model: str, speed: float, accepted: bool) -> None:
    """Aura 0.7-1.5 any value; Flux 0.5-1.5 on steps of 0.05; both ends inclusive."""
    if accepted:
        SpeakOptions(model=model, speed=speed)
        return
    with pytest.raises(DeepgramOptionsError, match="speed") as info:
        SpeakOptions(model=model, speed=speed)
    message = str(info.value)
    if 0.5 <= speed <= 1.5 and model == FLUX:
        assert "not a step of 0.05" in message
    else:
        assert "out of range" in message
        assert ("0.5 to 1.5" if model == FLUX else "0.7 to 1.5") in message


@pytest.mark.parametrize("speed", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("model", [AURA_2, FLUX])
def test_non_finite_speeds(model: str, speed: float) -> None:
    """inf and NaN are refused as such, not compared."""
    with pytest.raises(DeepgramOptionsError, match="finite number"):
        SpeakOptions(model=model, speed=speed)


@pytest.mark.parametrize("speed", [True, "1.0", [1.0]])
def test_a_speed_of_another_type(speed: Any) -> None:
    """A bool, string or list is not a speed."""
    with pytest.raises(DeepgramOptionsError, match="speed must be a number"):
        SpeakOptions(model=FLUX, speed=speed)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [(-2, True), (-1, True), (0, True), (1, True), (2, True), (-3, False), (3, False)],
)
def test_expressivity_bounds(value: int, accepted: bool) -> None:
    """Flux takes a whole number from -2 to 2, both ends inclusive."""
    if accepted:
        assert ("expressivity", str(value)) in SpeakOptions(
            model=FLUX, expressivity=value
        ).query()
        return
    with pytest.raises(DeepgramOptionsError, match="out of range: use -2 to 2"):
        SpeakOptions(model=FLUX, expressivity=value)


@pytest.mark.parametrize("value", [1.0, 0.5, True, "1", math.nan])
def test_expressivity_of_another_type(value: Any) -> None:
    """A fraction, a float, a bool or a string is refused."""
    with pytest.raises(DeepgramOptionsError, match="whole number from -2 to 2"):
        SpeakOptions(model=FLUX, expressivity=value)


@pytest.mark.parametrize(("model", "family"), [(AURA, "aura"), (AURA_2, "aura-2")])
def test_expressivity_only_for_flux(model: str, family: str) -> None:
    """An Aura voice takes no expressivity, not even the default 0."""
    with pytest.raises(DeepgramOptionsError, match=f"Flux voices only, not {family}"):
        SpeakOptions(model=model, expressivity=0)


def test_tag_bounds() -> None:
    """A tag: not empty, at most MAX_TAG_LENGTH once stripped, printable."""
    longest = "t" * MAX_TAG_LENGTH
    assert ("tag", longest) in SpeakOptions(tag=f" {longest} ").query()
    assert ("tag", "Küche 1") in SpeakOptions(tag="Küche 1").query()
    with pytest.raises(DeepgramOptionsError, match="at most 128"):
        SpeakOptions(tag=longest + "t")
    for empty in ("", "   "):
        with pytest.raises(DeepgramOptionsError, match="non-empty string"):
            SpeakOptions(tag=empty)
    for control in ("a\nb", "a\tb", "a\x00b", "a\x7fb", "a\u2028b"):
        with pytest.raises(DeepgramOptionsError, match="printable"):
            SpeakOptions(tag=control)
    with pytest.raises(DeepgramOptionsError, match="non-empty string"):
        SpeakOptions(tag=5)  # type: ignore[arg-type]


def test_values_of_another_type_are_refused() -> None:
    """A model or mip_opt_out of the wrong type says which."""
    with pytest.raises(DeepgramOptionsError, match="model must be a string"):
        SpeakOptions(model=None)  # type: ignore[arg-type]
    for odd in (None, 1, "true"):
        with pytest.raises(DeepgramOptionsError, match="mip_opt_out must be"):
            SpeakOptions(mip_opt_out=odd)  # type: ignore[arg-type]


# -- audio sizes and the type ----------------------------------------------------


@pytest.mark.parametrize(
    ("model", "encoding", "rate", "sample", "per_second"),
    [
        (AURA_2, "linear16", 16000, 2, 32000),
        (AURA_2, "linear16", 48000, 2, 96000),
        (FLUX, "linear16", 44100, 2, 88200),
        (AURA, "mulaw", 8000, 1, 8000),
        (FLUX, "alaw", 16000, 1, 16000),
    ],
)
def test_audio_sizes(
    model: str, encoding: str, rate: int, sample: int, per_second: int
) -> None:
    """linear16 samples are 2 bytes, G.711 ones 1; one channel."""
    options = SpeakOptions(model=model, encoding=encoding, sample_rate=rate)
    assert options.sample_bytes == sample
    assert options.bytes_per_second == per_second


def test_options_are_frozen_and_errors_typed() -> None:
    """Options cannot change after validation; the error is a ValueError too."""
    options = SpeakOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.speed = 3.0  # type: ignore[misc]
    with pytest.raises(DeepgramOptionsError) as info:
        SpeakOptions(speed=9.0)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, DeepgramError)
    with pytest.raises(TypeError):
        SpeakOptions(AURA)  # type: ignore[call-arg]
    options.validate()
