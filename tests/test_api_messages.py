"""Parsing of Deepgram live server messages, with real recorded ones."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema  # type: ignore[import-untyped]
import pytest

from custom_components.deepgram.api import (
    ErrorMessage,
    Metadata,
    Results,
    SpeechStarted,
    UtteranceEnd,
    Word,
    messages as messages_module,
    parse_message,
)
from custom_components.deepgram.api.messages import MessageFormatError, parse_results
from tests.api_helpers import live, pcm, send
from tests.deepgram_server import FakeDeepgram, script_from_text

FIXTURES = Path(__file__).parent / "fixtures"
RECORDED = sorted(
    path
    for path in (FIXTURES / "recorded").glob("*.json")
    if not path.name.endswith(".options.json")
)
SCHEMA: dict[str, Any] = json.loads(
    (FIXTURES / "listen_v1_messages.schema.json").read_text()
)


def _spec_valid(message: dict[str, Any]) -> str:
    """Check a hand-written message against Deepgram's spec; return its JSON."""
    jsonschema.validate(message, SCHEMA["$defs"][message["type"]])
    return json.dumps(message)


def results_message(
    transcript: str = "turn on the light",
    *,
    words: list[dict[str, Any]] | None = None,
    is_final: bool = True,
    speech_final: bool = False,
    from_finalize: bool = False,
    confidence: float = 0.98,
    start: float = 0.0,
    duration: float = 1.5,
    request_id: str = "5d2e3a3f-3bb3-4d5f-9d0b-8b8a1d1c0f00",
    languages: list[str] | None = None,
) -> dict[str, Any]:
    """A `Results` message shaped like Deepgram's (valid against the spec)."""
    if words is None:
        words = [
            {
                "word": token,
                "start": start + i * 0.3,
                "end": start + (i + 1) * 0.3,
                "confidence": confidence,
                "punctuated_word": token.capitalize(),
            }
            for i, token in enumerate(transcript.split())
        ]
    alternative: dict[str, Any] = {
        "transcript": transcript,
        "confidence": confidence,
        "words": words,
    }
    if languages is not None:
        alternative["languages"] = languages
    return {
        "type": "Results",
        "channel_index": [0, 1],
        "duration": duration,
        "start": start,
        "is_final": is_final,
        "speech_final": speech_final,
        "from_finalize": from_finalize,
        "channel": {"alternatives": [alternative]},
        "metadata": {
            "request_id": request_id,
            "model_info": {"name": "2-general-nova", "version": "1", "arch": "nova-3"},
            "model_uuid": "c0d1a568-ce81-4fea-97e7-bd45cb1fdf3c",
        },
    }


@pytest.mark.parametrize("path", RECORDED, ids=lambda path: path.name)
def test_recorded_real_results_parse_unchanged(path: Path) -> None:
    """Every field of a real Deepgram `Results` comes through as sent."""
    raw = json.loads(path.read_text())
    jsonschema.validate(raw, SCHEMA["$defs"]["Results"])
    message = parse_message(path.read_text())

    assert isinstance(message, Results)
    best = raw["channel"]["alternatives"][0]
    assert message.transcript == best["transcript"]
    assert message.confidence == best["confidence"]
    assert message.is_final is raw["is_final"]
    assert message.speech_final is raw["speech_final"]
    assert message.from_finalize is raw["from_finalize"]
    assert message.start == raw["start"]
    assert message.duration == raw["duration"]
    assert message.request_id == raw["metadata"]["request_id"]
    assert message.languages == ()
    assert message.words == tuple(
        Word(
            word=word["word"],
            start=word["start"],
            end=word["end"],
            confidence=word["confidence"],
            punctuated_word=word.get("punctuated_word"),
            language=word.get("language"),
        )
        for word in best["words"]
    )


def test_recorded_fixtures_are_present() -> None:
    """The four recorded messages (one of them an empty final) are tested."""
    assert len(RECORDED) == 4
    transcripts = [parse_message(path.read_text()) for path in RECORDED]
    empties = [m for m in transcripts if isinstance(m, Results) and m.transcript == ""]
    assert len(empties) == 1
    assert empties[0].is_final
    assert empties[0].words == ()
    assert empties[0].confidence == 0.0


def test_results_from_finalize_and_interim() -> None:
    """The flags of a result are read as sent, and only `true` counts."""
    final = parse_message(
        _spec_valid(results_message(from_finalize=True, speech_final=True))
    )
    assert isinstance(final, Results)
    assert (final.is_final, final.speech_final, final.from_finalize) == (
        True,
        True,
        True,
    )
    interim = parse_message(_spec_valid(results_message(is_final=False)))
    assert isinstance(interim, Results)
    assert (interim.is_final, interim.speech_final, interim.from_finalize) == (
        False,
        False,
        False,
    )
    # Truthy non-booleans are not `true`.
    odd = results_message()
    odd.update(is_final="true", speech_final=1, from_finalize="yes")
    parsed = parse_message(json.dumps(odd))
    assert isinstance(parsed, Results)
    assert (parsed.is_final, parsed.speech_final, parsed.from_finalize) == (
        False,
        False,
        False,
    )


def test_results_without_optional_flags() -> None:
    """The spec makes is_final, speech_final and from_finalize optional."""
    message = results_message()
    for key in ("is_final", "speech_final", "from_finalize"):
        del message[key]
    parsed = parse_message(_spec_valid(message))
    assert isinstance(parsed, Results)
    assert not parsed.is_final
    assert not parsed.speech_final
    assert not parsed.from_finalize


def test_results_multilingual_words_and_languages() -> None:
    """Word languages and the alternative's languages (nova-3 multi) are kept."""
    message = results_message(
        "schalte das light an",
        words=[
            {"word": "schalte", "start": 0.1, "end": 0.4, "confidence": 0.9,
             "language": "de"},
            {"word": "das", "start": 0.4, "end": 0.5, "confidence": 0.9,
             "language": "de"},
            {"word": "light", "start": 0.5, "end": 0.8, "confidence": 0.8,
             "language": "en"},
            {"word": "an", "start": 0.8, "end": 0.9, "confidence": 0.9,
             "language": "de"},
        ],
        languages=["de", "en"],
    )  # fmt: skip
    parsed = parse_message(_spec_valid(message))
    assert isinstance(parsed, Results)
    assert parsed.languages == ("de", "en")
    assert [w.language for w in parsed.words] == ["de", "de", "en", "de"]
    assert [w.punctuated_word for w in parsed.words] == [None] * 4


def test_results_tolerates_odd_optional_fields() -> None:
    """Wrong types of optional fields fall back instead of failing."""
    message = results_message()
    alternative = message["channel"]["alternatives"][0]
    alternative["confidence"] = "high"
    alternative["words"] = None
    alternative["languages"] = ["en", 7, None]
    message["metadata"] = "not an object"
    message["start"] = None
    message["duration"] = "1.5"
    parsed = parse_message(json.dumps(message))
    assert isinstance(parsed, Results)
    assert parsed.confidence == 0.0
    assert parsed.words == ()
    assert parsed.languages == ("en",)
    assert parsed.request_id is None
    assert parsed.start == 0.0
    assert parsed.duration == 0.0
    word = results_message()
    word["channel"]["alternatives"][0]["words"] = [
        {"word": "hi", "start": 1, "end": "x", "punctuated_word": 3, "language": 4}
    ]
    parsed = parse_message(json.dumps(word))
    assert isinstance(parsed, Results)
    assert parsed.words == (Word(word="hi", start=1.0, end=0.0, confidence=0.0),)
    assert isinstance(parsed.words[0].start, float)


def _broken(change: str) -> dict[str, Any]:
    message = results_message()
    alternative = message["channel"]["alternatives"][0]
    match change:
        case "no channel":
            del message["channel"]
        case "channel not object":
            message["channel"] = []
        case "no alternatives":
            del message["channel"]["alternatives"]
        case "empty alternatives":
            message["channel"]["alternatives"] = []
        case "alternatives not list":
            message["channel"]["alternatives"] = {"0": alternative}
        case "alternative not object":
            message["channel"]["alternatives"] = ["turn on"]
        case "no transcript":
            del alternative["transcript"]
        case "transcript not string":
            alternative["transcript"] = None
        case "words not list":
            alternative["words"] = {"word": "x"}
        case "word not object":
            alternative["words"] = ["turn"]
        case "word without word":
            del alternative["words"][0]["word"]
        case "word not string":
            alternative["words"][0]["word"] = 12
    return message


@pytest.mark.parametrize(
    "change",
    [
        "no channel",
        "channel not object",
        "no alternatives",
        "empty alternatives",
        "alternatives not list",
        "alternative not object",
        "no transcript",
        "transcript not string",
        "words not list",
        "word not object",
        "word without word",
        "word not string",
    ],
)
def test_results_without_what_a_transcript_needs(change: str) -> None:
    """A `Results` whose structure is broken raises `MessageFormatError`."""
    with pytest.raises(MessageFormatError):
        parse_message(json.dumps(_broken(change)))


def test_parse_results_directly_for_a_prerecorded_channel() -> None:
    """`parse_results` reads a pre-recorded channel wrapped like a result."""
    channel = results_message("hello there")["channel"]
    parsed = parse_results({"channel": channel, "is_final": True})
    assert parsed.transcript == "hello there"
    assert parsed.is_final
    assert parsed.request_id is None


def test_metadata() -> None:
    """Metadata (the last message before a clean close) is read in full."""
    message = {
        "type": "Metadata",
        "transaction_key": "deprecated",
        "request_id": "a8f0a2b6-5b0e-4d6b-8a7a-9c1d0e6f1a2b",
        "sha256": "0" * 64,
        "created": "2026-03-01T10:11:12.345Z",
        "duration": 2.56,
        "channels": 1,
        "models": ["c0d1a568-ce81-4fea-97e7-bd45cb1fdf3c"],
        "model_info": {
            "c0d1a568-ce81-4fea-97e7-bd45cb1fdf3c": {
                "name": "2-general-nova",
                "version": "2024-01-18.26916",
                "arch": "nova-3",
            },
            "other": "not an object",
            "nameless": {"version": "1"},
        },
    }
    parsed = parse_message(_spec_valid(message))
    assert parsed == Metadata(
        request_id="a8f0a2b6-5b0e-4d6b-8a7a-9c1d0e6f1a2b",
        duration=2.56,
        channels=1,
        created="2026-03-01T10:11:12.345Z",
        model_names=("2-general-nova",),
    )


def test_metadata_without_audio_or_with_odd_fields() -> None:
    """Metadata of a session without audio has no models; bad fields default."""
    parsed = parse_message(
        json.dumps(
            {"type": "Metadata", "request_id": 5, "channels": "two", "created": 1}
        )
    )
    assert parsed == Metadata(
        request_id=None, duration=0.0, channels=1, created=None, model_names=()
    )
    parsed = parse_message(
        json.dumps({"type": "Metadata", "channels": 2, "model_info": ["x"]})
    )
    assert isinstance(parsed, Metadata)
    assert parsed.channels == 2
    assert parsed.model_names == ()


def test_utterance_end_and_speech_started() -> None:
    """The two end/start-of-speech signals carry their audio times."""
    end = parse_message(
        _spec_valid({"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": 2.4})
    )
    assert end == UtteranceEnd(last_word_end=2.4)
    started = parse_message(
        _spec_valid({"type": "SpeechStarted", "channel": [0], "timestamp": 0.52})
    )
    assert started == SpeechStarted(timestamp=0.52)
    assert parse_message('{"type": "UtteranceEnd"}') == UtteranceEnd(0.0)
    assert parse_message('{"type": "SpeechStarted", "timestamp": "1"}') == (
        SpeechStarted(0.0)
    )


def test_in_band_error() -> None:
    """An in-band Error keeps its description, message and variant."""
    parsed = parse_message(
        _spec_valid(
            {
                "type": "Error",
                "description": "Failed to process audio",
                "message": "NET-0000",
                "variant": "internal",
            }
        )
    )
    assert parsed == ErrorMessage(
        description="Failed to process audio", message="NET-0000", variant="internal"
    )


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({"message": "only a message"}, "only a message"),
        ({"description": "", "message": "fallback"}, "fallback"),
        ({}, "unknown error"),
        ({"description": 3, "message": None, "variant": 1}, "unknown error"),
    ],
)
def test_in_band_error_description_falls_back(
    body: dict[str, Any], description: str
) -> None:
    """Without a description, the message (or a placeholder) describes it."""
    parsed = parse_message(json.dumps({"type": "Error", **body}))
    assert isinstance(parsed, ErrorMessage)
    assert parsed.description == description
    assert parsed.variant is None


@pytest.mark.parametrize(
    "message",
    [
        {"type": "TurnInfo", "event": "Update", "transcript": "hi"},
        {"type": "Connected", "request_id": "x", "sequence_id": 0},
        {"type": "SomethingNew", "payload": [1, 2, 3]},
        {"type": "results"},
        {"type": ""},
    ],
)
def test_unknown_types_are_ignored(message: dict[str, Any]) -> None:
    """Types this client does not know parse to None (Deepgram adds types)."""
    assert parse_message(json.dumps(message)) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "{'type': 'Results'}",
        '{"type": "Results"',
        "[]",
        '["Results"]',
        "null",
        "42",
        '"Results"',
        "{}",
        '{"type": 1}',
        '{"type": null}',
        '{"kind": "Results"}',
    ],
)
def test_malformed_frames_raise_message_format_error(text: str) -> None:
    """Anything but a JSON object with a string `type` is a format error."""
    with pytest.raises(MessageFormatError):
        parse_message(text)


def test_message_format_error_is_a_value_error() -> None:
    """Callers that only know ValueError still catch it."""
    with pytest.raises(ValueError, match="Not JSON"):
        parse_message("<html>")


# -- one net for live frames and REST answers (issue 18 item 3, follow-up) -------


def _metadata_reading_a_list(data: dict[str, Any]) -> Metadata:
    """A Metadata parser with a slip: an object expected, a string sent."""
    request_id = data["request_id"].get("id")
    return Metadata(request_id=request_id, duration=0.0, channels=1, created=None)


def test_an_attribute_error_in_a_parser_is_a_malformed_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AttributeError is caught like the other parse failures, as REST does."""
    monkeypatch.setattr(messages_module, "_parse_metadata", _metadata_reading_a_list)
    text = json.dumps({"type": "Metadata", "request_id": "r1"})
    with pytest.raises(MessageFormatError, match=r"Unexpected Metadata \(Attribute"):
        parse_message(text)


async def test_an_attribute_error_skips_one_message_of_a_session(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """On the WebSocket path the slip costs the one Metadata message (logged),
    not the session: the transcript arrives and the close is clean."""
    monkeypatch.setattr(messages_module, "_parse_metadata", _metadata_reading_a_list)
    deepgram_server.script = script_from_text("turn on the light", start=0.1)
    session = live(deepgram_server, http)
    await send(session, pcm(1.5))
    transcript = await session.finalize(timeout=5)
    await session.close()
    assert transcript.text == "turn on the light"
    assert session.error is None
    assert session.stats.clean_close
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "Unexpected Metadata (AttributeError)" in warnings[0]
