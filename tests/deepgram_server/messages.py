"""Builders of the JSON messages the fake server sends on ``/v1/listen``.

Field sets and order follow the recorded real messages and the AsyncAPI spec.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from .models_catalog import CatalogModel
from .script import Word


def _t(value: float) -> float:
    return round(value, 6)


def alternative(
    words: Sequence[Word],
    *,
    punctuate: bool,
    speakers: Sequence[int] = (),
    language: str | None = None,
) -> dict[str, Any]:
    """``channel.alternatives[0]``: transcript, confidence and words.

    ``speakers`` (diarization) gives each word's speaker, in order;
    ``language`` (``language=multi``) each word's language.
    """
    transcript = " ".join(w.text if punctuate else w.plain for w in words)
    confidence = (
        round(sum(w.confidence for w in words) / len(words), 6) if words else 0.0
    )
    # Multilingual models tag each word and list the segment's languages.
    languages = list(dict.fromkeys(w.language for w in words if w.language))
    return {
        "transcript": transcript,
        "confidence": confidence,
        **({"languages": languages} if languages else {}),
        "words": [
            {
                "word": w.plain,
                "start": _t(w.start),
                "end": _t(w.end),
                "confidence": w.confidence,
                **({"speaker": speakers[i]} if speakers else {}),
                **({"language": language} if language else {}),
                "punctuated_word": w.text,
                **({"language": w.language} if w.language else {}),
            }
            for i, w in enumerate(words)
        ],
        **({"languages": [language]} if language else {}),
    }


def results(
    words: Sequence[Word],
    *,
    start: float,
    duration: float,
    is_final: bool,
    speech_final: bool,
    from_finalize: bool,
    punctuate: bool,
    channels: int,
    request_id: str,
    model: CatalogModel,
) -> dict[str, Any]:
    """A ``Results`` message (same keys, same order as the recorded ones)."""
    return {
        "channel": {"alternatives": [alternative(words, punctuate=punctuate)]},
        "metadata": {
            "model_info": model.model_info(),
            "request_id": request_id,
            "model_uuid": model.uuid,
        },
        "type": "Results",
        "channel_index": [0, channels],
        "duration": _t(max(duration, 0.0)),
        "start": _t(start),
        "is_final": is_final,
        "from_finalize": from_finalize,
        "speech_final": speech_final,
    }


def utterance_end(last_word_end: float, channels: int) -> dict[str, Any]:
    """An ``UtteranceEnd`` message."""
    return {
        "type": "UtteranceEnd",
        "channel": [0, channels],
        "last_word_end": _t(last_word_end),
    }


def speech_started(timestamp: float, channels: int) -> dict[str, Any]:
    """A ``SpeechStarted`` message."""
    return {
        "type": "SpeechStarted",
        "channel": [0, channels],
        "timestamp": _t(timestamp),
    }


def created_now() -> str:
    """Deepgram's ``created`` timestamp format."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def metadata(
    *,
    request_id: str,
    duration: float,
    channels: int,
    sha256: str,
    model: CatalogModel,
    created: str,
) -> dict[str, Any]:
    """The ``Metadata`` message that precedes a clean close."""
    return {
        "type": "Metadata",
        "transaction_key": "deprecated",
        "request_id": request_id,
        "sha256": sha256,
        "created": created,
        "duration": _t(duration),
        "channels": channels,
        "models": [model.uuid],
        "model_info": {model.uuid: model.model_info()},
    }


def error(description: str, message: str, variant: str) -> dict[str, Any]:
    """An in-band ``Error`` message."""
    return {
        "type": "Error",
        "description": description,
        "message": message,
        "variant": variant,
    }


def prerecorded_response(
    script: Sequence[Word],
    *,
    request_id: str,
    duration: float,
    channels: int,
    sha256: str,
    model: CatalogModel,
    punctuate: bool,
    diarize: bool,
    detected_language: str | None,
    word_language: str | None = None,
) -> dict[str, Any]:
    """The JSON answer of ``POST /v1/listen``: ``metadata`` and ``results``.

    Every script word that starts within ``duration`` is heard. With
    ``diarize`` the speaker changes at each sentence end ("." "?" "!"); with
    ``detected_language`` the channel says which language was detected;
    ``word_language`` (``language=multi``) labels every word's language.
    """
    words = [w for w in script if w.start < duration]
    speakers: list[int] = []
    speaker = 0
    for word in words:
        speakers.append(speaker)
        if word.text.endswith((".", "?", "!")):
            speaker = 1 - speaker
    best = alternative(
        words,
        punctuate=punctuate,
        speakers=speakers if diarize else (),
        language=word_language,
    )
    channel: dict[str, Any] = {"alternatives": [best]}
    if detected_language is not None:
        channel["detected_language"] = detected_language
        channel["language_confidence"] = 0.97
    meta = metadata(
        request_id=request_id,
        duration=duration,
        channels=channels,
        sha256=sha256,
        model=model,
        created=created_now(),
    )
    del meta["type"]
    return {"metadata": meta, "results": {"channels": [channel]}}
