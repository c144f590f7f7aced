"""The utterance built from a session's results."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
import random
from typing import override

import pytest

from custom_components.deepgram.api import Results, Transcript, Word


def result(
    transcript: str,
    *,
    duration: float = 1.0,
    is_final: bool = True,
    confidence: float = 0.9,
    words: int | None = None,
    word_languages: tuple[str | None, ...] = (),
    languages: tuple[str, ...] = (),
    start: float = 0.0,
) -> Results:
    """A `Results` with one `Word` per token (or `words` placeholder words)."""
    tokens = transcript.split() if words is None else ["w"] * words
    langs = word_languages or (None,) * len(tokens)
    return Results(
        transcript=transcript,
        confidence=confidence,
        words=tuple(
            Word(token, start + i, start + i + 1, confidence, language=lang)
            for i, (token, lang) in enumerate(zip(tokens, langs, strict=True))
        ),
        is_final=is_final,
        speech_final=False,
        from_finalize=False,
        start=start,
        duration=duration,
        request_id="req",
        languages=languages,
    )


def test_empty_transcript() -> None:
    """Nothing heard: empty text, no confidence, no language."""
    transcript = Transcript()
    assert transcript.text == ""
    assert transcript.final_text == ""
    assert transcript.confidence is None
    assert transcript.languages == ()


def test_repr_shows_the_text_and_the_finals() -> None:
    """A transcript in a debug log says what it holds, briefly."""
    transcript = Transcript()
    transcript.add(result("turn on"))
    transcript.add(result(""))
    transcript.add(result("the", is_final=False, start=2.0))
    assert repr(transcript) == "Transcript('turn on the', finals=2)"


def test_every_final_segment_in_order() -> None:
    """A long command is every final joined, not only the last one."""
    transcript = Transcript()
    for segment in ("turn on", "the kitchen", "light please"):
        transcript.add(result(segment))
    assert transcript.final_text == "turn on the kitchen light please"
    assert transcript.text == "turn on the kitchen light please"
    assert [r.transcript for r in transcript.finals] == [
        "turn on",
        "the kitchen",
        "light please",
    ]


def test_interim_is_replaced_by_later_interims_and_by_the_final() -> None:
    """Only the latest interim counts, and only until its final arrives."""
    transcript = Transcript()
    transcript.add(result("turn", is_final=False))
    assert transcript.text == "turn"
    transcript.add(result("turn on the", is_final=False))
    assert transcript.text == "turn on the"
    assert transcript.final_text == ""
    transcript.add(result("turn on the light"))
    assert transcript.interim is None
    assert transcript.text == "turn on the light"
    transcript.add(result("in the", is_final=False, start=2.0))
    assert transcript.final_text == "turn on the light"
    assert transcript.text == "turn on the light in the"
    transcript.add(result("in the kitchen", is_final=False, start=2.0))
    assert transcript.text == "turn on the light in the kitchen"


def test_empty_and_blank_segments_add_no_spaces() -> None:
    """Empty finals (Deepgram sends them for silence) leave no double spaces."""
    transcript = Transcript()
    transcript.add(result(""))
    transcript.add(result("  turn on  "))
    transcript.add(result("   "))
    transcript.add(result("the light"))
    transcript.add(result("", is_final=False))
    assert transcript.final_text == "turn on the light"
    assert transcript.text == "turn on the light"
    assert len(transcript.finals) == 4


def test_only_an_interim() -> None:
    """Before any final, the text is the interim."""
    transcript = Transcript()
    transcript.add(result(" hello ", is_final=False))
    assert transcript.final_text == ""
    assert transcript.text == "hello"


def test_confidence_is_weighted_by_words() -> None:
    """A three-word segment weighs three times a one-word segment."""
    transcript = Transcript()
    transcript.add(result("turn on light", confidence=0.9))
    transcript.add(result("please", confidence=0.5))
    assert transcript.confidence == pytest.approx((3 * 0.9 + 0.5) / 4)


def test_confidence_ignores_empty_segments_and_counts_the_interim() -> None:
    """Empty segments (confidence 0) do not drag the mean down."""
    transcript = Transcript()
    transcript.add(result("", confidence=0.0))
    transcript.add(result("turn on", confidence=0.8))
    assert transcript.confidence == pytest.approx(0.8)
    transcript.add(result("the", is_final=False, confidence=0.2))
    assert transcript.confidence == pytest.approx((2 * 0.8 + 0.2) / 3)


def test_confidence_of_a_segment_without_words_counts_once() -> None:
    """A segment with a transcript but no words still counts with weight one."""
    transcript = Transcript()
    transcript.add(result("hello", words=0, confidence=0.6))
    transcript.add(result("a b", confidence=0.9))
    assert transcript.confidence == pytest.approx((0.6 + 2 * 0.9) / 3)


def test_confidence_of_only_empty_segments_is_none() -> None:
    """Silence has no confidence at all."""
    transcript = Transcript()
    transcript.add(result(""))
    transcript.add(result("", is_final=False))
    assert transcript.confidence is None


def test_languages_most_used_first() -> None:
    """Languages of words are counted; the most used language comes first."""
    transcript = Transcript()
    transcript.add(result("mach das light an", word_languages=("de", "de", "en", "de")))
    transcript.add(result("please now", word_languages=("en", "en")))
    assert transcript.languages == ("de", "en")
    transcript.add(
        result("bitte sofort jetzt", is_final=False, word_languages=("en",) * 3)
    )
    assert transcript.languages == ("en", "de")


def test_languages_of_results_without_word_languages() -> None:
    """Result-level languages count even when words carry none."""
    transcript = Transcript()
    transcript.add(result("bonjour", languages=("fr",)))
    assert transcript.languages == ("fr",)
    transcript.add(result("hallo welt", word_languages=("de", "de"), languages=("de",)))
    assert list(transcript.languages) == ["de", "fr"]


def test_replaced_interim_languages_are_forgotten() -> None:
    """An interim later replaced does not leave its language behind."""
    transcript = Transcript()
    transcript.add(result("ciao", is_final=False, word_languages=("it",)))
    transcript.add(result("hello", word_languages=("en",)))
    assert transcript.languages == ("en",)


def spoken(
    *words: tuple[str, float, float], is_final: bool, punctuated: bool = False
) -> Results:
    """A result of the given (word, start, end) spanning from the first start."""
    start = words[0][1] if words else 0.0
    end = words[-1][2] if words else 0.0
    parsed = tuple(
        Word(w, s, e, 0.9, punctuated_word=w.capitalize() if punctuated else None)
        for w, s, e in words
    )
    return Results(
        transcript=" ".join(w.punctuated_word or w.word for w in parsed),
        confidence=0.9,
        words=parsed,
        is_final=is_final,
        speech_final=False,
        from_finalize=False,
        start=start,
        duration=end - start,
        request_id=None,
    )


TURN, ON, THE, LIGHT = (
    ("turn", 0.0, 0.5),
    ("on", 0.5, 1.0),
    ("the", 1.0, 1.5),
    ("light", 1.5, 2.0),
)


def test_interim_reaching_past_a_final_keeps_its_tail() -> None:
    """A final covering only the start of the interim leaves the rest shown."""
    transcript = Transcript()
    transcript.add(spoken(TURN, ON, THE, LIGHT, is_final=False, punctuated=True))
    transcript.add(spoken(TURN, ON, is_final=True))
    assert transcript.final_text == "turn on"
    assert transcript.text == "turn on The Light"
    tail = transcript.interim
    assert tail is not None
    assert [w.word for w in tail.words] == ["the", "light"]
    assert tail.start == 1.0
    assert tail.duration == 1.0  # what the final left open: 1.0 to 2.0 s
    assert not tail.is_final
    transcript.add(spoken(THE, LIGHT, is_final=True))
    assert transcript.interim is None
    assert transcript.text == "turn on the light"


def test_interim_tail_without_punctuation_uses_the_words() -> None:
    """Without punctuated words the tail is the plain words."""
    transcript = Transcript()
    transcript.add(spoken(TURN, ON, THE, is_final=False))
    transcript.add(spoken(TURN, is_final=True))
    assert transcript.text == "turn on the"
    assert transcript.confidence == pytest.approx(0.9)


def test_interim_ending_with_the_final_is_dropped() -> None:
    """An interim ending where the final ends (within a millisecond) is covered."""
    transcript = Transcript()
    transcript.add(spoken(TURN, ("on", 0.5, 1.0005), is_final=False))
    transcript.add(spoken(TURN, ON, is_final=True))
    assert transcript.interim is None
    assert transcript.text == "turn on"


def test_interim_longer_than_the_final_without_later_words_is_dropped() -> None:
    """An interim that only reaches further in silence leaves nothing open."""
    transcript = Transcript()
    interim = spoken(TURN, ON, is_final=False)
    transcript.add(
        Results(
            transcript=interim.transcript,
            confidence=interim.confidence,
            words=interim.words,
            is_final=False,
            speech_final=False,
            from_finalize=False,
            start=0.0,
            duration=3.0,
            request_id=None,
        )
    )
    transcript.add(spoken(TURN, ON, is_final=True))
    assert transcript.interim is None
    assert transcript.text == "turn on"


def test_the_millisecond_tolerance_is_inclusive() -> None:
    """Exactly at the tolerance (1 ms): an interim ending 1 ms after the final
    is covered, and a word starting 1 ms before the final's end stays open."""
    end = 1.0  # where the final TURN ON ends
    transcript = Transcript()
    transcript.add(spoken(TURN, ON, ("now", end, end + 1e-3), is_final=False))
    interim = transcript.interim
    assert interim is not None
    assert interim.start + interim.duration == end + 1e-3
    transcript.add(spoken(TURN, ON, is_final=True))
    assert transcript.interim is None

    transcript = Transcript()
    transcript.add(spoken(TURN, ("light", end - 1e-3, 2.0), is_final=False))
    transcript.add(spoken(TURN, ON, is_final=True))
    assert transcript.text == "turn on light"


# -- built as results arrive ---------------------------------------------------


@dataclass(slots=True)
class Rebuilt:
    """The utterance rebuilt from every result on each read: the meaning
    `Transcript` keeps while building it as results arrive."""

    finals: list[Results] = field(default_factory=list)
    interim: Results | None = None

    def add(self, result: Results) -> None:
        if not result.is_final:
            self.interim = result
            return
        self.finals.append(result)
        if self.interim is None:
            return
        end = result.start + result.duration
        interim = self.interim
        words = tuple(w for w in interim.words if w.start >= end - 1e-3)
        if interim.start + interim.duration <= end + 1e-3 or not words:
            self.interim = None
            return
        self.interim = replace(
            interim,
            transcript=" ".join(w.punctuated_word or w.word for w in words),
            words=words,
            start=words[0].start,
            duration=interim.start + interim.duration - words[0].start,
        )

    def segments(self) -> list[Results]:
        return [*self.finals, *([self.interim] if self.interim else [])]

    @property
    def final_text(self) -> str:
        return " ".join(s for r in self.finals if (s := r.transcript.strip()))

    @property
    def text(self) -> str:
        interim = self.interim.transcript.strip() if self.interim else ""
        return " ".join(p for p in (self.final_text, interim) if p)

    @property
    def confidence(self) -> float | None:
        segments = [r for r in self.segments() if r.transcript.strip()]
        if not segments:
            return None
        weights = [max(len(r.words), 1) for r in segments]
        total = sum(r.confidence * w for r, w in zip(segments, weights, strict=True))
        return total / sum(weights)

    @property
    def languages(self) -> tuple[str, ...]:
        counts: dict[str, int] = {}
        for result in self.segments():
            for word in result.words:
                if word.language:
                    counts[word.language] = counts.get(word.language, 0) + 1
            for language in result.languages:
                counts.setdefault(language, 0)
        return tuple(sorted(counts, key=lambda lang: -counts[lang]))


def random_result(rng: random.Random, at: float) -> Results:
    """A result near `at`: maybe final, maybe empty or blank, with languages."""
    start = max(0.0, at + rng.choice((-0.5, 0.0, 0.0, 0.3)))
    count = rng.choice((0, 0, 1, 2, 3, 5))
    times = sorted(rng.uniform(start, start + 3.0) for _ in range(count))
    words = tuple(
        Word(
            rng.choice(("turn", "on", "licht", "an", "please")),
            t,
            t + 0.2,
            rng.random(),
            punctuated_word=rng.choice((None, "Turn.")),
            language=rng.choice((None, "en", "de", "fr")),
        )
        for t in times
    )
    transcript = rng.choice((" ".join(w.word for w in words), "", "   ", " padded "))
    return Results(
        transcript=transcript,
        confidence=rng.random(),
        words=words,
        is_final=rng.random() < 0.5,
        speech_final=False,
        from_finalize=False,
        start=start,
        duration=(times[-1] + 0.2 - start) if times else rng.uniform(0, 3),
        request_id=None,
        languages=tuple(rng.sample(("en", "de", "es"), rng.choice((0, 0, 1, 2)))),
    )


def test_built_as_results_arrive_it_means_what_the_rebuilt_one_means() -> None:
    """Text, finals, interim tail, confidence and languages equal a rebuild
    from every result, after each of many random results (seeded)."""
    rng = random.Random(18)
    for _ in range(300):
        built, rebuilt = Transcript(), Rebuilt()
        at = 0.0
        for _ in range(rng.randrange(1, 25)):
            result = random_result(rng, at)
            if result.is_final:
                at = result.start + result.duration
            built.add(result)
            rebuilt.add(result)
            assert built.text == rebuilt.text
            assert built.final_text == rebuilt.final_text
            assert list(built.finals) == rebuilt.finals
            assert built.interim == rebuilt.interim
            assert built.word_count == sum(len(r.words) for r in rebuilt.segments())
            assert built.languages == rebuilt.languages
            if rebuilt.confidence is None:
                assert built.confidence is None
            else:
                assert built.confidence == pytest.approx(rebuilt.confidence)


class CountedStr(str):
    """A transcript that counts how often it is stripped (read)."""

    reads = 0
    limit = 0

    @override
    def strip(self, chars: str | None = None, /) -> str:
        CountedStr.reads += 1
        assert CountedStr.reads <= CountedStr.limit, "read again for every result"
        return super().strip(chars)


def test_twenty_thousand_empty_finals_cost_each_the_same() -> None:
    """A flood of empty finals (the text read after each, as a session does):
    each result's transcript is read a fixed number of times, not once per
    result that came before, and the text stays right."""
    count = 20_000
    CountedStr.reads = 0
    CountedStr.limit = 4 * count  # a rebuild per read needs about count**2 / 2
    transcript = Transcript()
    transcript.add(result(CountedStr("turn on")))
    expected = "turn on"
    for i in range(count):
        transcript.add(result(CountedStr(""), start=1.0 + i))
        assert transcript.text == expected
        if i == count // 2:
            transcript.add(result(CountedStr("the light"), is_final=False, start=i))
            assert transcript.text == "turn on the light"
            transcript.add(result(CountedStr("the light"), start=i))
            expected = "turn on the light"
    transcript.add(result(CountedStr("please"), is_final=False, start=count + 2.0))
    assert transcript.text == "turn on the light please"
    assert transcript.final_text == "turn on the light"
    assert len(transcript.finals) == count + 2
    assert transcript.confidence == pytest.approx(0.9)
    assert CountedStr.reads <= 4 * count
