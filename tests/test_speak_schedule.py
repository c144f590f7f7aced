"""The Aura-2 text schedule: when `Speak` and `Flush` go on `/v1/speak`.

Pure logic with a simulated clock: a reply arrives in deltas, `Wait`s are
honoured by moving the clock, and the steps are checked against Deepgram's
limits (2000 characters a Speak, 20 Flush and 2400 characters in any 60 s)
and against the reply (nothing dropped, order kept).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import FrozenInstanceError
import itertools
import math
import random

import pytest

from custom_components.deepgram.api.speak_schedule import (
    CHARS_PER_WINDOW,
    GROUP_CHARS,
    LIMIT_WINDOW,
    MAX_FLUSHES,
    MAX_SPEAK_CHARS,
    Flush,
    Speak,
    SpeakBudget,
    SpeakSchedule,
    Step,
    Wait,
)

type Log = list[tuple[float, Step]]

_SENTENCES = (
    "Sure, here is the full plan for your evening.",
    "The living room lights are now at 40 percent, and the kitchen lights are off.",
    "Mr. Jensen from next door asked whether the garage door should stay "
    "open until 9 p.m. tonight.",
    "It is 21.5 degrees inside and 3.5 degrees outside, so the heating will "
    "run for about 2 more hours.",
    "Okay!",
    "Do you want me to remind you about the recycling, e.g. the paper and "
    "the glass, tomorrow morning at 7 o'clock?",
    "Your calendar shows three meetings tomorrow: the first one starts at "
    "half past eight with the design team, the second one is a short "
    "check-in with Dr. Patel at eleven, and the last one is the weekly "
    "review that usually runs long, so you may want to block the hour "
    "after it as well.",
    "Done.",
    "The washing machine finished 20 minutes ago.",
    "I also noticed that the front door sensor reported low battery twice "
    "today, which usually means it has a week or two left before it stops "
    "reporting altogether.",
    "Shall I add batteries to the shopping list?",
    "By the way, the forecast says it will rain after midnight, with about "
    "12 millimetres expected before sunrise, so the garden irrigation is "
    "paused for tomorrow.",
    "Anything else?",
)


NO_HOLD = math.inf
"""Text may wait unsent as long as the other rules say (the hold limit is
tested on its own)."""


def _reply(length: int) -> str:
    """Realistic sentences of varied length, at least `length` characters."""
    sentences = itertools.cycle(_SENTENCES)
    text = next(sentences)
    while len(text) < length:
        text = f"{text} {next(sentences)}"
    return text


def _deltas(text: str, size: int = 40) -> list[str]:
    """`text` cut in pieces of `size` characters, as an LLM streams it."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def _drive(
    schedule: SpeakSchedule,
    deltas: Sequence[str],
    *,
    interval: float = 0.3,
    start: float = 0.0,
) -> tuple[Log, list[float]]:
    """Feed `deltas` every `interval` s, honouring Waits; return the sends.

    Also returns when each delta arrived. The reply ends with its last
    delta. A `Wait` must lie in the future, and the schedule must end `done`.
    """
    log: Log = []
    arrivals: list[float] = []
    now = start
    index = 0

    def arrive() -> None:
        nonlocal index
        schedule.add(deltas[index])
        arrivals.append(now)
        index += 1
        if index == len(deltas):
            schedule.end()

    for _ in range(100_000):
        step = schedule.next_step(now)
        if isinstance(step, Speak | Flush):
            log.append((now, step))
            continue
        arrival = start + index * interval
        if isinstance(step, Wait):
            assert step.until > now
            if index < len(deltas) and arrival < step.until:
                now = max(now, arrival)
                arrive()
            else:
                now = step.until
            continue
        if index < len(deltas):
            now = max(now, arrival)
            arrive()
        else:
            assert schedule.done
            return log, arrivals
    raise AssertionError("the schedule never finished")


def _speaks(log: Log) -> list[str]:
    return [step.text for _, step in log if isinstance(step, Speak)]


def _assert_within_limits(
    log: Log,
    *,
    max_chars: int = MAX_SPEAK_CHARS,
    max_flushes: int = MAX_FLUSHES,
    chars_per_window: int = CHARS_PER_WINDOW,
    window: float = LIMIT_WINDOW,
) -> None:
    """Every Speak fits, every Speak is flushed, and no window overflows."""
    assert all(len(text) <= max_chars for text in _speaks(log))
    kinds = [type(step) for _, step in log]
    assert kinds == [Speak, Flush] * (len(kinds) // 2)
    for start, _ in log:
        inside = [step for at, step in log if start <= at < start + window]
        assert sum(isinstance(step, Flush) for step in inside) <= max_flushes
        chars = sum(len(step.text) for step in inside if isinstance(step, Speak))
        assert chars <= chars_per_window


def _run(schedule: SpeakSchedule, now: float) -> list[Step]:
    """The steps `next_step` gives at `now` until it waits or has none."""
    steps: list[Step] = []
    while (step := schedule.next_step(now)) is not None:
        steps.append(step)
        if isinstance(step, Wait):
            break
    return steps


def _spoken(steps: Iterable[Step]) -> list[str]:
    return [step.text for step in steps if isinstance(step, Speak)]


def test_long_streamed_reply_stays_within_every_limit() -> None:
    """5000 characters in 40-character deltas every 0.3 s: all limits hold.

    The reply arrives far faster than 2400 characters a minute, so the
    schedule must wait (the last send comes after a minute), yet every
    character is spoken once, in order, and the first sentence goes alone
    the moment the delta confirming its end arrives.
    """
    reply = _reply(5000)
    assert len(reply) >= 5000
    log, arrivals = _drive(SpeakSchedule(), _deltas(reply))

    _assert_within_limits(log)
    assert "".join(_speaks(log)) == reply
    assert log[-1][0] > LIMIT_WINDOW  # waited for the character budget

    first = _SENTENCES[0]
    confirming = len(first) // 40  # the delta with the space after its "."
    assert log[0] == (arrivals[confirming], Speak(first))
    assert log[1] == (arrivals[confirming], Flush())
    # Later sentences go in groups, not one by one.
    assert len(_speaks(log)) < len(reply) / GROUP_CHARS


def test_first_sentence_alone_even_when_the_reply_is_whole() -> None:
    """A reply given in one piece still speaks its first sentence alone."""
    schedule = SpeakSchedule()
    schedule.add("Hi there. The lights are on. The door is locked.")
    schedule.end()
    assert _run(schedule, 0.0) == [
        Speak("Hi there."),
        Flush(),
        Speak(" The lights are on. The door is locked."),
        Flush(),
    ]
    assert schedule.done


def test_sentence_end_needs_whitespace_or_the_end_of_the_reply() -> None:
    """A "3." may be "3.5": the end is known only once whitespace follows."""
    schedule = SpeakSchedule(max_hold=NO_HOLD)
    schedule.add("It is 3.")
    assert _run(schedule, 0.0) == []
    schedule.add("5 degrees.")
    assert _run(schedule, 0.1) == []
    schedule.add(" Brr")
    assert _run(schedule, 0.2) == [Speak("It is 3.5 degrees."), Flush()]


def test_text_without_a_sentence_end_goes_at_the_end_of_the_reply() -> None:
    """With no sentence end, the text waits for `end()`, then goes whole."""
    text = "turn on the kitchen lights and then dim the hallway to twenty percent"
    schedule = SpeakSchedule(max_hold=NO_HOLD)
    for number, delta in enumerate(_deltas(text, 7)):
        schedule.add(delta)
        assert _run(schedule, number * 0.3) == []
    schedule.end()
    assert _run(schedule, 9.0) == [Speak(text), Flush()]
    assert schedule.done
    assert schedule.next_step(9.0) is None


def test_the_end_of_a_reply_without_punctuation_is_flushed() -> None:
    """The last words, with no sentence end, still get a Speak and a Flush."""
    schedule = SpeakSchedule(max_hold=NO_HOLD)
    schedule.add("Done. The heating is now set to twenty one degrees and")
    assert _run(schedule, 0.0) == [Speak("Done."), Flush()]
    schedule.add(" the lights stay on  ")
    assert _run(schedule, 0.3) == []
    schedule.end()
    assert _run(schedule, 0.6) == [
        Speak(" The heating is now set to twenty one degrees and the lights stay on"),
        Flush(),
    ]
    assert schedule.done


def test_a_long_sentence_without_punctuation_is_cut_at_a_word() -> None:
    """Over 2000 characters with no sentence end: cut after a whole word.

    The first piece goes before the reply ends (nothing more could join
    it), ends on a word, and the rest follows at the end of the reply.
    """
    words = itertools.cycle(("lights", "and", "the", "kitchen", "dimmer", "so"))
    reply = next(words)
    while len(reply) < 2300:
        reply = f"{reply} {next(words)}"
    log, arrivals = _drive(SpeakSchedule(max_hold=NO_HOLD), _deltas(reply))

    _assert_within_limits(log)
    speaks = _speaks(log)
    assert "".join(speaks) == reply
    assert len(speaks) == 2
    assert reply[len(speaks[0]) - 1] != " "
    assert reply[len(speaks[0])] == " "
    assert len(speaks[0]) > MAX_SPEAK_CHARS - len("kitchen ")
    assert log[0][0] < arrivals[-1]


def test_a_word_longer_than_a_speak_is_cut_hard() -> None:
    """A 2500-character "word" is cut at 2000; the rest waits for room.

    2000 + 500 is over 2400 characters a minute: the rest goes exactly when
    the first piece leaves the window.
    """
    schedule = SpeakSchedule()
    schedule.add("x" * 2500)
    schedule.end()
    assert _run(schedule, 0.0) == [Speak("x" * 2000), Flush(), Wait(60.0)]
    assert _run(schedule, 59.9) == [Wait(60.0)]
    assert _run(schedule, 60.0) == [Speak("x" * 500), Flush()]
    assert schedule.done


def test_a_long_text_is_cut_at_the_last_sentence_end_that_fits() -> None:
    """Sentence ends beat word ends when a Speak must be cut."""
    schedule = SpeakSchedule(max_chars=40)
    schedule.add("One two three. Four five six seven. Eight nine ten eleven")
    schedule.end()
    assert _spoken(_run(schedule, 0.0)) == [
        "One two three.",
        " Four five six seven.",
        " Eight nine ten eleven",
    ]
    assert schedule.done


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Mr. Smith is here. Next", "Mr. Smith is here."),
        ("Ask Dr. Patel. Next", "Ask Dr. Patel."),
        ("Buy fruit, e.g. apples. Next", "Buy fruit, e.g. apples."),
        ("Some fruit (e.g. apples) is here. Next", "Some fruit (e.g. apples) is here."),
        ("Call J. R. Smith at 9 a.m. today. Next", "Call J. R. Smith at 9 a.m. today."),
        ("It is 21.5 degrees. Next", "It is 21.5 degrees."),
        ("She moved in 2024. Next", "She moved in 2024."),
        (
            "Hallo Hr. Müller, bzw. Frau Meier. Weiter",
            "Hallo Hr. Müller, bzw. Frau Meier.",
        ),
        ("1. Turn on the lights\n2. Lock the door", "1. Turn on the lights"),
        ("Steps:\n1. Turn on the lights\n2. Lock", "Steps:"),
        ('He said "Go!" Then', 'He said "Go!"'),
        ("Wait... what?! Yes", "Wait..."),
        ("Really?! Yes", "Really?!"),
        ("**Done.** Next", "**Done.**"),
        ("Here is the plan  \nFirst", "Here is the plan"),
        ("はい。電気を消しました。", "はい。"),
        ("「はい。」電気", "「はい。」"),
        ("好的\uff01灯已关", "好的\uff01"),
    ],
)
def test_sentence_ends(text: str, first: str) -> None:
    """Where the first sentence ends: abbreviations and decimals hold it."""
    schedule = SpeakSchedule()
    schedule.add(text)
    assert _spoken(_run(schedule, 0.0))[0] == first


@pytest.mark.parametrize(
    "text",
    [
        "It is 3.",  # maybe 3.5
        "Done.",  # maybe Done.com, or a quote to close
        "はい。",  # maybe a closing 」
        "「はい。」",
        "Say hi to Mr. ",
        "See e.g. ",
        "1. ",
    ],
)
def test_no_sentence_end_yet(text: str) -> None:
    """Text whose end is not yet certain waits for more."""
    schedule = SpeakSchedule(max_hold=NO_HOLD)
    schedule.add(text)
    assert _run(schedule, 0.0) == []


@pytest.mark.parametrize("text", ["", "   ", " \n\t "])
def test_a_blank_reply_gives_no_step(text: str) -> None:
    """Nothing to say: no Speak, and no Flush either (nothing was spoken)."""
    schedule = SpeakSchedule()
    schedule.add(text)
    schedule.end()
    assert schedule.done
    assert schedule.next_step(0.0) is None


def test_a_whitespace_run_longer_than_a_speak_is_skipped() -> None:
    """No Speak is only whitespace, even when a run of it fills a Speak."""
    schedule = SpeakSchedule(max_chars=10)
    schedule.add("Hi." + " " * 25 + "there")
    schedule.end()
    assert _spoken(_run(schedule, 0.0)) == ["Hi.", " " * 5 + "there"]
    assert schedule.done


def test_flush_budget_exhausted_mid_reply_waits_for_the_oldest_flush() -> None:
    """The 21st Flush within 60 s waits until the first leaves the window."""
    schedule = SpeakSchedule(group_chars=1)
    for second in range(MAX_FLUSHES):
        schedule.add(f"Sentence {second}. ")
        assert _run(schedule, float(second)) == [
            Speak(f"{' ' if second else ''}Sentence {second}."),
            Flush(),
        ]
    schedule.add("One more. ")
    assert _run(schedule, 20.0) == [Wait(LIMIT_WINDOW)]
    schedule.add("And another. ")
    assert _run(schedule, 30.0) == [Wait(LIMIT_WINDOW)]
    assert _run(schedule, LIMIT_WINDOW) == [
        Speak(" One more. And another."),
        Flush(),
    ]
    assert _run(schedule, 61.0) == []


def test_character_budget_waits_until_enough_has_left_the_window() -> None:
    """A piece over the room left waits for the oldest sends to expire.

    100 + 100 + 100 sent at 0, 1 and 2 (budget 250): a 100-character piece
    fits only once the first two have left the window at 10 and 11.
    """
    budget = SpeakBudget(chars_per_window=350, window=10.0)
    assert budget.ready_at(0.0, 350) == 0.0
    for second in range(3):
        budget.spoke(float(second), 100)
        budget.flushed(float(second))
    assert budget.ready_at(2.0, 50) == 2.0
    assert budget.ready_at(2.0, 100) == 10.0
    assert budget.ready_at(2.0, 200) == 11.0
    assert budget.ready_at(10.5, 200) == 11.0
    assert budget.ready_at(12.0, 350) == 12.0
    with pytest.raises(ValueError, match="never fits"):
        budget.ready_at(12.0, 351)


def test_replies_on_one_socket_share_the_budget() -> None:
    """A second reply's first sentence waits for the first reply's flushes."""
    budget = SpeakBudget(max_flushes=2)
    first = SpeakSchedule(budget)
    first.add("One. Two three four. ")
    first.end()
    assert len(_run(first, 0.0) + _run(first, 1.0)) == 4
    assert first.done
    second = SpeakSchedule(budget)
    second.add("Hello again. ")
    assert _run(second, 5.0) == [Wait(LIMIT_WINDOW)]
    assert _run(second, LIMIT_WINDOW) == [Speak("Hello again."), Flush()]


def test_small_groups_go_when_the_flushed_audio_is_about_to_end() -> None:
    """A slow reply: a complete sentence short of a group is not held forever.

    The first 40 characters are estimated at 4 s of audio (10 a second);
    a sentence completed at 0.5 waits until 1 s before that audio ends,
    while a sentence completing a whole group goes at once.
    """
    schedule = SpeakSchedule(
        max_hold=NO_HOLD, group_chars=50, spoken_chars_per_second=10.0, group_lead=1.0
    )
    schedule.add("This first sentence is forty chars long. ")
    assert _spoken(_run(schedule, 0.0)) == ["This first sentence is forty chars long."]
    schedule.add("Short one. And")
    assert _run(schedule, 0.5) == [Wait(3.0)]
    assert _run(schedule, 2.9) == [Wait(3.0)]
    assert _run(schedule, 3.0) == [Speak(" Short one."), Flush()]
    # 11 characters more: the estimated audio now ends at 5.1.
    schedule.add(" this one fills the whole group of fifty characters. ")
    assert _spoken(_run(schedule, 3.1)) == [
        " And this one fills the whole group of fifty characters."
    ]
    # 56 characters more: the estimated audio now ends at 10.7.
    schedule.add("Tail. ")
    steps = _run(schedule, 3.2)
    assert steps == [Wait(pytest.approx(9.7))]  # type: ignore[arg-type]


def test_the_longest_piece_fits_the_character_budget() -> None:
    """A budget under 2000 characters a window also caps each Speak."""
    schedule = SpeakSchedule(SpeakBudget(chars_per_window=100, window=1.0))
    reply = " ".join(["word"] * 60)
    log, _ = _drive(schedule, [reply])
    _assert_within_limits(log, max_chars=100, chars_per_window=100, window=1.0)
    assert "".join(_speaks(log)) == reply


def test_text_after_the_end_is_refused() -> None:
    """The end is final: more text would never be flushed."""
    schedule = SpeakSchedule()
    schedule.end()
    with pytest.raises(RuntimeError, match="after the end"):
        schedule.add("late")


@pytest.mark.parametrize(
    "make",
    [
        lambda: SpeakSchedule(max_chars=0),
        lambda: SpeakSchedule(group_chars=0),
        lambda: SpeakSchedule(spoken_chars_per_second=0.0),
        lambda: SpeakSchedule(group_lead=-1.0),
        lambda: SpeakSchedule(max_hold=0.0),
        lambda: SpeakBudget(max_flushes=0),
        lambda: SpeakBudget(window=0.0),
        lambda: SpeakBudget(chars_per_window=0),
    ],
)
def test_limits_must_be_positive(make: Callable[[], object]) -> None:
    """A zero limit could never let text out: refused at once."""
    with pytest.raises(ValueError, match="positive"):
        make()


def test_steps_are_frozen_values() -> None:
    """Steps compare by value and cannot be changed once given."""
    assert Speak("a") == Speak("a")
    assert Flush() == Flush()
    assert Wait(1.0) != Wait(2.0)
    with pytest.raises(FrozenInstanceError):
        Speak("a").text = "b"  # type: ignore[misc]
    schedule = SpeakSchedule()
    schedule.add("abc")
    assert repr(schedule) == "SpeakSchedule(pending=3, ended=False, done=False)"


@pytest.mark.parametrize("seed", range(40))
def test_random_replies_keep_every_rule(seed: int) -> None:
    """Random replies, deltas, pace and limits: the rules always hold.

    A property test without hypothesis (not in the venv): small limits so
    every rule binds often.
    """
    rng = random.Random(seed)
    pieces = [*_SENTENCES, "3.5", "e.g.", "Mr.", "\n", "はい。", "x" * 120, "a b"]
    reply = "".join(
        rng.choice(pieces) + rng.choice(("", " ", "  ", "\n"))
        for _ in range(rng.randint(1, 40))
    )
    max_chars = rng.randint(20, 300)
    window = rng.uniform(2.0, 30.0)
    limits = {
        "max_flushes": rng.randint(1, 6),
        "window": window,
        "chars_per_window": rng.randint(max_chars, 3 * max_chars),
    }
    schedule = SpeakSchedule(
        SpeakBudget(**limits),  # type: ignore[arg-type]
        max_chars=max_chars,
        group_chars=rng.randint(1, 300),
    )
    deltas = []
    rest = reply
    while rest:
        size = rng.randint(1, 60)
        deltas.append(rest[:size])
        rest = rest[size:]
    log, _ = _drive(schedule, deltas, interval=rng.uniform(0.0, 1.0))
    _assert_within_limits(log, max_chars=max_chars, **limits)  # type: ignore[arg-type]
    assert "".join(_speaks(log)) == reply.rstrip()
    assert all(text.strip() for text in _speaks(log))


def test_a_long_sentence_written_slowly_goes_before_its_end() -> None:
    """Text with no sentence end in sight goes up to its last whole word once
    it has waited `max_hold`: Deepgram never sees the socket idle that long."""
    schedule = SpeakSchedule(max_hold=4.0)
    schedule.add("While you were out, the kitchen light, the hall")
    assert _run(schedule, 0.0) == [Wait(4.0)]
    schedule.add(" light and")
    assert _run(schedule, 2.0) == [Wait(4.0)]  # more text: the same deadline
    assert _run(schedule, 4.0) == [
        Speak("While you were out, the kitchen light, the hall light"),
        Flush(),
    ]
    schedule.add(" the porch light were left on. Shall")
    # A complete sentence: it goes when the audio sent is about to end (its
    # 53 characters at 20 a second, less the lead), before the held limit.
    assert _run(schedule, 4.5) == [Wait(4.65)]
    schedule.end()
    steps = _run(schedule, 5.0)
    assert _spoken(steps) == [" and the porch light were left on. Shall"]


def test_complete_sentences_wait_at_most_max_hold() -> None:
    """A short sentence after a long first one goes within `max_hold`, not
    only when the first one's audio is about to end."""
    schedule = SpeakSchedule(max_hold=4.0)
    first = "The weather today " + "is sunny and warm, " * 12 + "with no rain. "
    schedule.add(first)
    assert _spoken(_run(schedule, 0.0)) == [first.rstrip()]
    schedule.add("Anything else? ")
    assert _run(schedule, 1.0) == [Wait(5.0)]
    assert _spoken(_run(schedule, 5.0)) == [" Anything else?"]


def test_one_unfinished_word_waits_for_more() -> None:
    """Half a word is not sent however long it waits: nothing to cut at."""
    schedule = SpeakSchedule(max_hold=1.0)
    schedule.add("Hel")
    assert _run(schedule, 0.0) == []
    assert _run(schedule, 10.0) == []
    schedule.add("lo there")
    assert _spoken(_run(schedule, 10.5)) == ["Hello"]  # it waited long enough
