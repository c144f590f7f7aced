"""`FluxTurnDetector`: Flux's turn events fed to the shared end-of-turn policy.

Event by event, without a server: which events count as new words, when
the sentence matcher is asked, and which words a stream end returns.
"""

from __future__ import annotations

import asyncio

from custom_components.deepgram.api import FluxWord, TurnEvent, TurnInfo
from custom_components.deepgram.end_of_speech import Action, EndedBy
from custom_components.deepgram.flux_transcriber import FluxTurnDetector


def info(event: TurnEvent, transcript: str) -> TurnInfo:
    """A first-turn `TurnInfo` with one word per word of `transcript`."""
    words = tuple(FluxWord(word, 0.9) for word in transcript.split())
    return TurnInfo(
        event=event,
        turn_index=0,
        transcript=transcript,
        words=words,
        end_of_turn_confidence=0.5,
        audio_window_start=0.0,
        audio_window_end=1.0,
    )


async def test_new_words_after_an_eager_end_are_not_lost() -> None:
    """An Update with more words after EagerEndOfTurn: the eager words are stale.

    The stream's end then flushes (ForceEndTurn) rather than returning them.
    """
    detector = FluxTurnDetector(matcher=None)
    detector.on_flux_message(info(TurnEvent.START_OF_TURN, "Turn on the"))
    detector.on_flux_message(info(TurnEvent.EAGER_END_OF_TURN, "Turn on the"))
    settled = [detector.policy.settled]
    detector.on_flux_message(info(TurnEvent.UPDATE, "Turn on the kitchen light"))
    settled.append(detector.policy.settled)
    assert settled == [True, False]
    decision = detector.stream_ended()
    assert (decision.action, decision.ended_by) == (
        Action.FINALIZE,
        EndedBy.STREAM_END_FINALIZE,
    )
    assert detector.turn is None


async def test_eager_words_settled_at_the_stream_end_are_the_turn() -> None:
    """Nothing new after EagerEndOfTurn: the stream's end returns its words."""
    detector = FluxTurnDetector(matcher=None)
    detector.on_flux_message(info(TurnEvent.START_OF_TURN, "Turn on the light"))
    detector.on_flux_message(info(TurnEvent.EAGER_END_OF_TURN, "Turn on the light"))
    decision = detector.stream_ended()
    assert decision.action is Action.RETURN
    turn = detector.turn
    assert turn is not None
    assert (turn.transcript, turn.ended_by) == (
        "Turn on the light",
        "eager_end_of_turn",
    )


async def test_an_eager_end_bringing_the_first_words_asks_the_matcher() -> None:
    """A StartOfTurn without words, then EagerEndOfTurn with them: asked, matched."""
    asked: list[str] = []

    async def matcher(text: str) -> bool:
        asked.append(text)
        return True

    detector = FluxTurnDetector(matcher)
    detector.on_flux_message(info(TurnEvent.START_OF_TURN, ""))
    detector.on_flux_message(info(TurnEvent.EAGER_END_OF_TURN, "Lights off"))
    await asyncio.wait_for(detector.ended.wait(), 2)
    await detector.close()
    assert asked == ["Lights off"]
    assert detector.policy.ended_by is EndedBy.MATCH
    turn = detector.turn
    assert turn is not None
    assert turn.transcript == "Lights off"
