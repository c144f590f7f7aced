"""The end-of-turn policy and its /v1 driver, alone (no Home Assistant)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from custom_components.deepgram.api.messages import (
    Metadata,
    Results,
    SpeechStarted,
    UtteranceEnd,
)
from custom_components.deepgram.end_of_speech import (
    Action,
    Decision,
    EndedBy,
    EndOfSpeech,
    EndOfTurnPolicy,
    TurnDetector,
)

DEEPGRAM = EndOfSpeech.DEEPGRAM
HOME_ASSISTANT = EndOfSpeech.HOME_ASSISTANT


def results(
    text: str,
    *,
    final: bool = True,
    speech_final: bool = False,
    from_finalize: bool = False,
) -> Results:
    return Results(
        transcript=text,
        confidence=0.9,
        words=(),
        is_final=final,
        speech_final=speech_final,
        from_finalize=from_finalize,
        start=0.0,
        duration=1.0,
        request_id=None,
    )


def test_speech_final_asks_the_matcher_and_a_match_returns() -> None:
    policy = EndOfTurnPolicy(DEEPGRAM)
    assert policy.on_words(final=False, speech_final=False, has_words=True).action is (
        Action.LISTEN
    )
    ask = policy.on_words(final=True, speech_final=True, has_words=True)
    assert ask.action is Action.ASK_MATCHER
    decision = policy.on_match(ask.question, matched=True)
    assert decision.action is Action.RETURN
    assert decision.ended_by is EndedBy.MATCH
    assert policy.ended_by is EndedBy.MATCH
    # The turn is over: later events change nothing, the stream end returns.
    assert policy.on_utterance_end().action is Action.LISTEN
    assert policy.on_stream_ended() == Decision(Action.RETURN, ended_by=EndedBy.MATCH)


def test_no_match_keeps_listening() -> None:
    policy = EndOfTurnPolicy(DEEPGRAM)
    ask = policy.on_words(final=True, speech_final=True, has_words=True)
    assert policy.on_match(ask.question, matched=False).action is Action.LISTEN
    assert policy.ended_by is None


@pytest.mark.parametrize(
    "new_speech",
    [
        lambda p: p.on_speech_started(),
        lambda p: p.on_words(final=False, speech_final=False, has_words=True),
        lambda p: p.on_words(final=True, speech_final=False, has_words=True),
    ],
    ids=["speech_started", "interim", "final"],
)
def test_a_match_on_stale_words_is_ignored(
    new_speech: Callable[[EndOfTurnPolicy], Decision],
) -> None:
    """The user went on speaking while the matcher thought: not the end."""
    policy = EndOfTurnPolicy(DEEPGRAM)
    ask = policy.on_words(final=True, speech_final=True, has_words=True)
    new_speech(policy)
    assert policy.on_match(ask.question, matched=True).action is Action.LISTEN
    assert not policy.settled
    assert policy.on_stream_ended().action is Action.FINALIZE


@pytest.mark.parametrize(
    ("speech_started", "interim", "final_words"),
    [(True, False, False), (True, True, False), (False, True, True)],
    ids=["speech_started", "speech_started_interim", "interim_final"],
)
def test_an_answer_to_an_older_question_never_ends_the_turn(
    speech_started: bool, interim: bool, final_words: bool
) -> None:
    """The user went on (a noise, or words) after the matcher was asked, and
    Deepgram settled again (a `speech_final`, even an empty one), which asks
    anew: only the answer to that new question may end the turn."""
    policy = EndOfTurnPolicy(DEEPGRAM)
    old = policy.on_words(final=True, speech_final=True, has_words=True)
    if speech_started:
        policy.on_speech_started()
    if interim:
        policy.on_words(final=False, speech_final=False, has_words=True)
    new = policy.on_words(final=True, speech_final=True, has_words=final_words)
    assert new.action is Action.ASK_MATCHER
    assert new.question != old.question
    assert policy.on_match(old.question, matched=True).action is Action.LISTEN
    assert policy.on_match(new.question, matched=True).action is Action.RETURN


def test_empty_results_are_no_new_speech() -> None:
    policy = EndOfTurnPolicy(DEEPGRAM)
    ask = policy.on_words(final=True, speech_final=True, has_words=True)
    policy.on_words(final=False, speech_final=False, has_words=False)
    policy.on_words(final=True, speech_final=False, has_words=False)
    assert policy.on_match(ask.question, matched=True).action is Action.RETURN


def test_speech_final_without_any_words_settles_nothing() -> None:
    policy = EndOfTurnPolicy(DEEPGRAM)
    assert policy.on_words(final=True, speech_final=True, has_words=False).action is (
        Action.LISTEN
    )
    assert not policy.settled
    assert policy.on_utterance_end().action is Action.LISTEN
    assert policy.on_stream_ended().action is Action.FINALIZE


@pytest.mark.parametrize("mode", [DEEPGRAM, HOME_ASSISTANT])
def test_a_stream_that_ends_before_any_result_is_flushed(mode: EndOfSpeech) -> None:
    """Nothing is final before Deepgram says so: no early return, no match."""
    policy = EndOfTurnPolicy(mode)
    assert not policy.settled
    assert policy.on_utterance_end().action is Action.LISTEN
    assert policy.on_match(0, matched=True).action is Action.LISTEN
    decision = policy.on_stream_ended()
    assert decision == Decision(Action.FINALIZE, ended_by=EndedBy.STREAM_END_FINALIZE)


def test_utterance_end_returns_whatever_was_said() -> None:
    policy = EndOfTurnPolicy(DEEPGRAM)
    policy.on_words(final=True, speech_final=False, has_words=True)
    decision = policy.on_utterance_end()
    assert decision.action is Action.RETURN
    assert decision.ended_by is EndedBy.UTTERANCE_END
    assert policy.settled  # Deepgram has finalised everything heard


def test_stream_end_after_everything_was_final_returns_at_once() -> None:
    policy = EndOfTurnPolicy(DEEPGRAM)
    policy.on_words(final=True, speech_final=True, has_words=True)
    decision = policy.on_stream_ended()
    assert decision.action is Action.RETURN
    assert decision.ended_by is EndedBy.STREAM_END_SETTLED


def test_stream_end_with_words_not_final_flushes() -> None:
    policy = EndOfTurnPolicy(DEEPGRAM)
    policy.on_words(final=True, speech_final=True, has_words=True)
    policy.on_words(final=False, speech_final=False, has_words=True)
    decision = policy.on_stream_ended()
    assert decision.action is Action.FINALIZE
    assert decision.ended_by is EndedBy.STREAM_END_FINALIZE


def test_home_assistant_mode_only_flushes_at_the_stream_end() -> None:
    policy = EndOfTurnPolicy(HOME_ASSISTANT)
    assert policy.on_words(final=True, speech_final=True, has_words=True).action is (
        Action.LISTEN
    )
    assert policy.on_utterance_end().action is Action.LISTEN
    assert policy.settled
    assert policy.on_stream_ended().action is Action.FINALIZE


def test_without_a_matcher_speech_final_asks_nothing() -> None:
    policy = EndOfTurnPolicy(DEEPGRAM, matcher_available=False)
    assert policy.on_words(final=True, speech_final=True, has_words=True).action is (
        Action.LISTEN
    )
    assert policy.on_utterance_end().action is Action.RETURN


async def test_detector_returns_on_a_match() -> None:
    asked: list[str] = []

    async def matcher(text: str) -> bool:
        asked.append(text)
        return text == "turn on the kitchen light"

    text = "turn on the"
    detector = TurnDetector(EndOfTurnPolicy(DEEPGRAM), lambda: text, matcher)
    detector.on_message(results("turn on the", speech_final=True))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert not detector.ended.is_set()
    text = "turn on the kitchen light"
    detector.on_message(results("kitchen light", speech_final=True))
    async with asyncio.timeout(1):
        await detector.ended.wait()
    assert asked == ["turn on the", "turn on the kitchen light"]
    assert detector.policy.ended_by is EndedBy.MATCH
    await detector.close()


async def test_detector_ignores_flush_results_and_other_messages() -> None:
    detector = TurnDetector(EndOfTurnPolicy(DEEPGRAM), lambda: "x", None)
    detector.on_message(results("words", from_finalize=True, speech_final=True))
    detector.on_message(Metadata(None, 1.0, 1, None))
    assert not detector.policy.settled
    detector.on_message(SpeechStarted(0.5))
    detector.on_message(results("words", final=False))
    detector.on_message(UtteranceEnd(1.0))
    assert detector.ended.is_set()
    assert detector.policy.ended_by is EndedBy.UTTERANCE_END
    assert detector.stream_ended().action is Action.RETURN


async def test_a_failing_matcher_turns_rule_one_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    async def matcher(text: str) -> bool:
        nonlocal calls
        calls += 1
        raise RuntimeError("the conversation agent changed")

    detector = TurnDetector(EndOfTurnPolicy(DEEPGRAM), lambda: "turn on", matcher)
    detector.on_message(results("turn on", speech_final=True))
    await asyncio.sleep(0.01)
    assert not detector.policy.matcher_available
    assert "Sentence matching is unavailable" in caplog.text
    detector.on_message(results("the light", speech_final=True))
    await asyncio.sleep(0.01)
    assert calls == 1
    assert not detector.ended.is_set()
    # Rules 2 and 3 still end the turn.
    assert detector.stream_ended().action is Action.RETURN


async def test_a_slow_matcher_is_no_match(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("custom_components.deepgram.end_of_speech.MATCH_TIMEOUT", 0.01)

    async def matcher(text: str) -> bool:
        await asyncio.sleep(1)
        return True

    detector = TurnDetector(EndOfTurnPolicy(DEEPGRAM), lambda: "turn on", matcher)
    detector.on_message(results("turn on", speech_final=True))
    await asyncio.sleep(0.05)
    assert not detector.ended.is_set()
    assert detector.policy.matcher_available


async def test_prepare_warms_the_matcher_up_once() -> None:
    asked: list[str] = []

    async def matcher(text: str) -> bool:
        asked.append(text)
        return False

    detector = TurnDetector(EndOfTurnPolicy(DEEPGRAM), lambda: "turn on", matcher)
    detector.prepare()
    await asyncio.sleep(0.01)
    assert asked == [""]
    assert detector.policy.matcher_available
    await detector.close()


async def test_without_a_matcher_rule_one_is_off() -> None:
    detector = TurnDetector(EndOfTurnPolicy(DEEPGRAM), lambda: "turn on", None)
    detector.prepare()
    assert not detector.policy.matcher_available
    decision = detector.policy.on_words(final=True, speech_final=True, has_words=True)
    assert decision.action is Action.LISTEN
    await detector.close()


async def test_a_warm_up_that_never_answers_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A matcher stuck loading its sentences turns rule 1 off after
    `PREPARE_TIMEOUT`: the turn goes on with rules 2 and 3."""
    monkeypatch.setattr(
        "custom_components.deepgram.end_of_speech.PREPARE_TIMEOUT", 0.01
    )

    async def matcher(text: str) -> bool:
        await asyncio.sleep(10)
        return True

    detector = TurnDetector(EndOfTurnPolicy(DEEPGRAM), lambda: "turn on", matcher)
    detector.prepare()
    await asyncio.sleep(0.1)
    assert not detector.policy.matcher_available
    await detector.close()


async def test_close_cancels_a_running_match() -> None:
    started = asyncio.Event()

    cancelled = False

    async def matcher(text: str) -> bool:
        nonlocal cancelled
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled = True
            raise
        return True

    detector = TurnDetector(EndOfTurnPolicy(DEEPGRAM), lambda: "turn on", matcher)
    detector.on_message(results("turn on", speech_final=True))
    await started.wait()
    await detector.close()
    assert not detector.ended.is_set()
    assert cancelled  # close() waited for the call to end, not just asked


async def test_nothing_is_asked_after_close() -> None:
    """Results still arrive while the request closes: no new matcher call."""
    asked: list[str] = []

    async def matcher(text: str) -> bool:
        asked.append(text)
        return False

    detector = TurnDetector(EndOfTurnPolicy(DEEPGRAM), lambda: "turn on", matcher)
    await detector.close()
    detector.on_message(results("turn on", speech_final=True))
    await asyncio.sleep(0.01)
    assert asked == []
    await detector.close()


def test_profile_mode_and_its_options() -> None:
    """Deepgram mode asks for its signals; Home Assistant mode's query is as before;
    a profile from an older or newer release falls back safely."""
    from custom_components.deepgram.const import RECOMMENDED_STT_OPTIONS
    from custom_components.deepgram.transcriber import (
        end_of_speech,
        live_options,
    )
    from tests.pipeline_helpers import METADATA

    deepgram = {**RECOMMENDED_STT_OPTIONS, "end_of_speech": "deepgram"}
    options = live_options({**deepgram, "utterance_end_ms": 1500}, "en-US", METADATA)
    assert (options.utterance_end_ms, options.vad_events) == (1500, True)
    assert options.interim_results is True
    home = {**RECOMMENDED_STT_OPTIONS, "end_of_speech": "home_assistant"}
    options = live_options(home, "en-US", METADATA)
    assert (options.utterance_end_ms, options.vad_events) == (None, None)
    assert end_of_speech({"end_of_speech": "something new"}) is HOME_ASSISTANT
    assert end_of_speech({}) is EndOfSpeech(RECOMMENDED_STT_OPTIONS["end_of_speech"])
