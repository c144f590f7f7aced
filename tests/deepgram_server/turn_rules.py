"""Deepgram's state rules for a ``/v2/listen`` message sequence, as a checker.

``check_turn_rules(messages)`` raises ``AssertionError`` naming the first
message that breaks a rule:

- ``Connected`` first; ``sequence_id`` 0, 1, 2, ... over every message;
- per turn: ``Update`` events may come any time; ``StartOfTurn`` opens the
  turn; ``EagerEndOfTurn`` (non-empty text) only in an open turn and is
  followed by ``TurnResumed`` or by an ``EndOfTurn`` with the same text;
  ``TurnResumed`` only after ``EagerEndOfTurn``; ``EndOfTurn`` closes an open
  turn and the next ``TurnInfo`` has ``turn_index`` one higher.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def check_turn_rules(messages: Sequence[dict[str, Any]]) -> None:
    """Raise ``AssertionError`` when the sequence breaks a rule."""
    assert messages, "no messages"
    assert messages[0]["type"] == "Connected", "Connected must come first"
    turn = 0
    open_turn = False
    eager_text: str | None = None
    for number, message in enumerate(messages):
        where = f"message {number} ({message.get('type')} {message.get('event')})"
        assert message["sequence_id"] == number, f"{where}: sequence_id"
        if message["type"] != "TurnInfo":
            continue
        event = message["event"]
        assert message["turn_index"] == turn, f"{where}: turn_index"
        if event == "StartOfTurn":
            assert not open_turn, f"{where}: turn already open"
            open_turn = True
        elif event == "EagerEndOfTurn":
            assert open_turn, f"{where}: no open turn"
            assert eager_text is None, f"{where}: second eager"
            assert message["transcript"], f"{where}: eager without text"
            eager_text = message["transcript"]
        elif event == "TurnResumed":
            assert eager_text is not None, f"{where}: resumed without eager"
            eager_text = None
        elif event == "EndOfTurn":
            assert open_turn, f"{where}: no open turn"
            if eager_text is not None:
                assert message["transcript"] == eager_text, f"{where}: text changed"
            open_turn = False
            eager_text = None
            turn += 1
        else:
            assert event == "Update", f"{where}: unknown event"
