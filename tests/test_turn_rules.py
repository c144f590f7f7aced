"""The checker of Deepgram's /v2/listen state rules catches each broken rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deepgram_server.turn_rules import check_turn_rules


def info(event: str, turn: int = 0, text: str = "Hi") -> dict[str, Any]:
    return {"type": "TurnInfo", "event": event, "turn_index": turn, "transcript": text}


def numbered(*messages: dict[str, Any]) -> list[dict[str, Any]]:
    out = [{"type": "Connected", "sequence_id": 0}]
    for number, message in enumerate(messages, start=1):
        out.append({**message, "sequence_id": number})
    return out


def test_a_valid_sequence_passes() -> None:
    """Eager, resumed, eager, end, then the next turn."""
    check_turn_rules(
        numbered(
            info("Update", text=""),
            info("StartOfTurn"),
            info("EagerEndOfTurn", text="Turn on"),
            info("TurnResumed", text="Turn on"),
            info("EagerEndOfTurn", text="Turn on it"),
            info("EndOfTurn", text="Turn on it"),
            {"type": "ConfigureSuccess"},
            info("Update", turn=1, text=""),
            info("StartOfTurn", turn=1),
            info("EndOfTurn", turn=1),
        )
    )


@pytest.mark.parametrize(
    ("messages", "rule"),
    [
        ([], "no messages"),
        ([{"type": "TurnInfo", "sequence_id": 0}], "Connected must come first"),
        (numbered(info("StartOfTurn"), info("StartOfTurn")), "already open"),
        (numbered(info("EagerEndOfTurn")), "no open turn"),
        (
            numbered(info("StartOfTurn"), info("EagerEndOfTurn", text="")),
            "eager without text",
        ),
        (
            numbered(
                info("StartOfTurn"), info("EagerEndOfTurn"), info("EagerEndOfTurn")
            ),
            "second eager",
        ),
        (numbered(info("StartOfTurn"), info("TurnResumed")), "resumed without eager"),
        (numbered(info("EndOfTurn")), "no open turn"),
        (
            numbered(
                info("StartOfTurn"),
                info("EagerEndOfTurn", text="A"),
                info("EndOfTurn", text="A b"),
            ),
            "text changed",
        ),
        (numbered(info("Update", turn=1)), "turn_index"),
        (numbered(info("Middle")), "unknown event"),
        (
            [
                {"type": "Connected", "sequence_id": 0},
                {**info("Update"), "sequence_id": 2},
            ],
            "sequence_id",
        ),
    ],
)
def test_each_broken_rule_is_caught(messages: list[dict[str, Any]], rule: str) -> None:
    """Every rule has a sequence that breaks it."""
    with pytest.raises(AssertionError, match=rule):
        check_turn_rules(messages)
