"""Unit tests of the fake Deepgram's script and transcript timeline (no sockets)."""

from __future__ import annotations

from typing import Any

from multidict import MultiDict, MultiDictProxy
import pytest

from tests.deepgram_server import (
    Segment,
    TranscriptEngine,
    Word,
    default_catalog,
    parse_listen_query,
    script_from_text,
)


def _engine(script: list[Segment], **query: str) -> TranscriptEngine:
    params = {"model": "nova-3", "encoding": "linear16", "sample_rate": "16000"}
    params.update(query)
    options = parse_listen_query(
        MultiDictProxy(MultiDict(params)), default_catalog(), streaming=True
    )
    return TranscriptEngine(script, options, request_id="req")


def _summary(messages: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for m in messages:
        if m["type"] == "Results":
            out.append(
                (
                    "final" if m["is_final"] else "interim",
                    m["channel"]["alternatives"][0]["transcript"],
                    m["speech_final"],
                )
            )
        else:
            out.append((m["type"],))
    return out


def test_word_plain_and_validation() -> None:
    """``plain`` lowercases and strips punctuation; bad words are refused."""
    assert Word("Light.", 0, 1).plain == "light"
    assert Word("don't", 0, 1).plain == "don't"
    assert Word("50%", 0, 1).plain == "50%"
    with pytest.raises(ValueError, match="ends before"):
        Word("x", 1.0, 0.5)
    with pytest.raises(ValueError, match="at least one word"):
        Segment(())
    with pytest.raises(ValueError, match="time order"):
        Segment((Word("b", 1, 2), Word("a", 0, 1)))


def test_script_from_text_spreads_and_groups() -> None:
    """Words are spread evenly over [start, end] and grouped."""
    script = script_from_text("Turn on the kitchen light.", start=0.5, end=1.8)
    assert [len(s.words) for s in script] == [3, 2]
    assert script[0].start == 0.5
    assert script[-1].end == pytest.approx(1.8)
    assert script[1].words[-1].text == "light."
    default = script_from_text("a b", start=1.0)
    assert default[0].end == pytest.approx(1.6)
    assert script_from_text("") == []
    with pytest.raises(ValueError, match="words_per_segment"):
        script_from_text("a", words_per_segment=0)
    with pytest.raises(ValueError, match="end must be after start"):
        script_from_text("a", start=1.0, end=1.0)


def test_finals_interims_speech_final_order() -> None:
    """Interims every second, finals after final_lag, speech_final at the pause."""
    script = [
        Segment((Word("Turn", 0.5, 0.7), Word("on", 0.7, 1.1))),
        Segment((Word("the", 1.1, 1.3), Word("light.", 1.3, 1.6))),
    ]
    engine = _engine(script, interim_results="true", punctuate="true")
    assert engine.advance(0.9) == []
    out = engine.advance(1.05)
    assert _summary(out) == [("interim", "Turn", False)]
    out = engine.advance(1.4)  # first segment final at 1.1 + 0.3
    assert _summary(out) == [("final", "Turn on", False)]
    out = engine.advance(1.61)  # last segment: pause forever, endpointing 10 ms
    assert _summary(out) == [("final", "the light.", True)]
    assert engine.close_stream() == []  # nothing left (audio == cursor)


def test_no_punctuate_uses_plain_words() -> None:
    """Without punctuate the transcript is lowercase and unpunctuated."""
    engine = _engine([Segment((Word("Light.", 0.0, 0.5),))])
    (final,) = engine.advance(1.0)
    alt = final["channel"]["alternatives"][0]
    assert alt["transcript"] == "light"
    assert alt["words"][0]["punctuated_word"] == "Light."


def test_endpointing_false_and_long_endpointing() -> None:
    """endpointing=false: never speech_final; long pause rule otherwise."""
    script = [
        Segment((Word("a", 0.0, 0.5),)),
        Segment((Word("b", 0.6, 1.0),)),  # 100 ms gap
    ]
    engine = _engine(script, endpointing="false")
    assert [m["speech_final"] for m in engine.advance(5.0)] == [False, False]
    engine = _engine(script, endpointing="300")
    out = engine.advance(1.29)
    assert [(m["is_final"], m["speech_final"]) for m in out] == [(True, False)]
    out = engine.advance(1.31)  # b ends 1.0, endpointing 300 ms, pause forever
    assert [(m["is_final"], m["speech_final"]) for m in out] == [(True, True)]


def test_utterance_end_and_speech_started() -> None:
    """UtteranceEnd after the gap (needs interim_results); SpeechStarted on onset."""
    script = [
        Segment((Word("a", 0.5, 1.0),)),
        Segment((Word("b", 3.0, 3.5),)),
    ]
    engine = _engine(
        script, interim_results="true", utterance_end_ms="1000", vad_events="true"
    )
    types = [m["type"] for m in engine.advance(5.0)]
    assert types.count("SpeechStarted") == 2
    assert types.count("UtteranceEnd") == 2
    engine = _engine(script, utterance_end_ms="1000")  # no interim_results
    assert "UtteranceEnd" not in [m["type"] for m in engine.advance(5.0)]


def test_finalize_flushes_partly_heard_words() -> None:
    """Finalize sends every word that started, once; later finals skip them."""
    script = [Segment((Word("a", 0.0, 0.4), Word("b", 0.4, 0.9)))]
    engine = _engine(script)
    engine.advance(0.5)
    assert engine.has_pending
    answer = engine.finalize()
    assert answer["from_finalize"] is True
    assert answer["channel"]["alternatives"][0]["transcript"] == "a b"
    assert engine.advance(2.0) == []  # segment final already covered
    empty = engine.finalize()
    assert empty["channel"]["alternatives"][0]["words"] == []
    assert not engine.has_pending


def test_close_stream_flushes_pending() -> None:
    """CloseStream sends heard words still pending, never unheard ones."""
    script = [Segment((Word("a", 0.0, 0.4),)), Segment((Word("b", 5.0, 5.5),))]
    engine = _engine(script)
    engine.advance(0.2)
    (final,) = engine.close_stream()
    assert final["channel"]["alternatives"][0]["transcript"] == "a"
    assert final["from_finalize"] is False
