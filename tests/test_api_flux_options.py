"""Flux options, their query string, and parsing of Flux server messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.deepgram.api import (
    ConfigureFailure,
    ConfigureSuccess,
    Connected,
    DeepgramOptionsError,
    FluxError,
    FluxOptions,
    FluxTurn,
    TurnEvent,
    TurnInfo,
    is_flux,
    parse_flux_message,
)
from custom_components.deepgram.api.messages import MessageFormatError

SCHEMA = json.loads(
    (Path(__file__).parent / "fixtures" / "listen_v2_messages.schema.json").read_text()
)


def test_defaults_query() -> None:
    """The defaults: Flux English, raw 16 kHz PCM, Deepgram's turn defaults."""
    assert FluxOptions().query() == [
        ("model", "flux-general-en"),
        ("encoding", "linear16"),
        ("sample_rate", "16000"),
    ]
    assert FluxOptions().bytes_per_second == 32000
    assert FluxOptions(encoding="mulaw", sample_rate=8000).bytes_per_second is None


def test_full_query_repeats_lists() -> None:
    """Every option; keyterms, hints and tags repeat their key."""
    options = FluxOptions(
        model=" flux-general-multi ",
        eot_threshold=0.75,
        eager_eot_threshold=0.5,
        eot_timeout_ms=60000,
        keyterms=(" Hue lamp ", "Sonos"),
        language_hints=("de", "en-US"),
        mip_opt_out=False,
        tags=("ha",),
    )
    assert options.query() == [
        ("model", "flux-general-multi"),
        ("encoding", "linear16"),
        ("sample_rate", "16000"),
        ("eot_threshold", "0.75"),
        ("eager_eot_threshold", "0.5"),
        ("eot_timeout_ms", "60000"),
        ("mip_opt_out", "false"),
        ("keyterm", "Hue lamp"),
        ("keyterm", "Sonos"),
        ("language_hint", "de"),
        ("language_hint", "en-US"),
        ("tag", "ha"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "nova-3"}, "not a Flux model"),
        ({"model": ""}, "not a Flux model"),
        ({"encoding": "flac"}, "Unknown encoding"),
        ({"sample_rate": None}, "needs sample_rate"),
        ({"sample_rate": 500}, "Invalid sample_rate"),
        ({"eot_threshold": 0.49}, "eot_threshold must be"),
        ({"eot_threshold": 1.01}, "eot_threshold must be"),
        ({"eager_eot_threshold": 0.29}, "eager_eot_threshold must be"),
        ({"eager_eot_threshold": 0.91, "eot_threshold": 1.0}, "eager_eot_threshold"),
        ({"eager_eot_threshold": 0.75}, "above eot_threshold"),
        ({"eager_eot_threshold": 0.6, "eot_threshold": 0.55}, "above eot_threshold"),
        ({"eot_timeout_ms": 499}, "eot_timeout_ms must be"),
        ({"eot_timeout_ms": 60001}, "eot_timeout_ms must be"),
        ({"keyterms": ("  ",)}, "may not be empty"),
        ({"keyterms": ("word",) * 501}, "at most 500"),
        ({"language_hints": ("de",)}, "flux-general-multi only"),
        (
            {"model": "flux-general-multi", "language_hints": ("not a tag",)},
            "Invalid language hint",
        ),
        ({"tags": (" ",)}, "tag may not be empty"),
    ],
)
def test_refused_options(kwargs: dict[str, Any], match: str) -> None:
    """Each value or combination Deepgram refuses is caught before connecting."""
    with pytest.raises(DeepgramOptionsError, match=match):
        FluxOptions(**kwargs).query()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"eot_threshold": 1.0, "eot_timeout_ms": 60000},  # the wider documented ranges
        {"eot_threshold": 0.5, "eager_eot_threshold": 0.3, "eot_timeout_ms": 500},
        {"eager_eot_threshold": 0.7},  # equal to the default eot_threshold
        {"encoding": "ogg-opus", "sample_rate": None},
    ],
)
def test_accepted_edges(kwargs: dict[str, Any]) -> None:
    """The edges of the documented ranges (the wider where pages disagree)."""
    FluxOptions(**kwargs).validate()


def test_is_flux() -> None:
    """Flux models by name."""
    assert is_flux("flux-general-en")
    assert is_flux(" flux-general-multi")
    assert not is_flux("nova-3")


# -- messages ------------------------------------------------------------------


TURN_INFO: dict[str, Any] = {
    "type": "TurnInfo",
    "request_id": "5d3f8a9e-0000-4000-8000-000000000001",
    "sequence_id": 7,
    "event": "EndOfTurn",
    "turn_index": 2,
    "audio_window_start": 0.0,
    "audio_window_end": 2.06,
    "transcript": "Turn on the light.",
    "words": [
        {"word": "Turn", "confidence": 0.9, "start": 0.5, "end": 0.7},
        {"word": "on", "confidence": 0.8},
        {"word": "the", "confidence": 0.7, "start": 1, "end": 1.2},
        {"word": "light.", "confidence": 0.6, "start": 1.2, "end": 1.5},
    ],
    "end_of_turn_confidence": 0.71,
    "languages": ["en"],
    "trigger": "manual",
}


def test_turn_info() -> None:
    """A TurnInfo (schema-valid) becomes a typed message and a turn."""
    from jsonschema import validate  # type: ignore[import-untyped]

    validate(TURN_INFO, SCHEMA["$defs"]["TurnInfo"])
    info = parse_flux_message(json.dumps(TURN_INFO))
    assert isinstance(info, TurnInfo)
    assert info.event is TurnEvent.END_OF_TURN
    assert info.turn_index == 2
    assert info.words[1].start is None
    assert info.words[2].start == 1.0
    assert info.confidence == pytest.approx(0.75)
    assert info.trigger == "manual"
    turn = FluxTurn.from_info(info, "manual")
    assert (turn.transcript, turn.turn_index, turn.languages) == (
        "Turn on the light.",
        2,
        ("en",),
    )
    empty = parse_flux_message(
        json.dumps({**TURN_INFO, "words": [], "languages": "en", "turn_index": None})
    )
    assert isinstance(empty, TurnInfo)
    assert empty.confidence is None
    assert empty.languages == ("en",)
    assert empty.turn_index == 0


def test_other_messages() -> None:
    """Connected, ConfigureSuccess/Failure, Error; unknown types are None."""
    connected = parse_flux_message(
        '{"type": "Connected", "request_id": "r", "sequence_id": 0}'
    )
    assert connected == Connected(request_id="r")
    success = parse_flux_message(
        json.dumps(
            {
                "type": "ConfigureSuccess",
                "request_id": "r",
                "thresholds": {"eot_threshold": 0.8, "eot_timeout_ms": 5000, "x": "y"},
                "keyterms": "Hue",
                "sequence_id": 3,
            }
        )
    )
    assert success == ConfigureSuccess(
        thresholds={"eot_threshold": 0.8, "eot_timeout_ms": 5000.0},
        keyterms=("Hue",),
        language_hints=(),
    )
    odd = parse_flux_message('{"type": "ConfigureSuccess", "thresholds": []}')
    assert isinstance(odd, ConfigureSuccess)
    assert odd.thresholds == {}
    assert parse_flux_message('{"type": "ConfigureFailure"}') == ConfigureFailure(None)
    assert parse_flux_message(
        '{"type": "Error", "code": "TIMEOUT", "description": "slow", "sequence_id": 1}'
    ) == FluxError(code="TIMEOUT", description="slow")
    assert parse_flux_message('{"type": "Error"}') == FluxError(
        code=None, description="unknown error"
    )
    assert parse_flux_message('{"type": "Results"}') is None


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        '{"no": "type"}',
        json.dumps({**TURN_INFO, "event": "Middle"}),
        json.dumps({**TURN_INFO, "transcript": None}),
        json.dumps({**TURN_INFO, "words": "Turn"}),
        json.dumps({**TURN_INFO, "words": [{"confidence": 1}]}),
    ],
)
def test_malformed(text: str) -> None:
    """Frames that are not well-formed Flux messages."""
    with pytest.raises(MessageFormatError):
        parse_flux_message(text)
