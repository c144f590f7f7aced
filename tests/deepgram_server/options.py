"""Parsing and validation of ``/v1/listen`` query strings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from multidict import MultiMapping

from .models_catalog import CatalogModel, find_model

ENCODINGS = frozenset(
    {
        "linear16", "linear32", "flac", "alaw", "mulaw", "amr-nb", "amr-wb",
        "opus", "ogg-opus", "speex", "g729",
    }
)  # fmt: skip
CONTAINER_ENCODINGS = frozenset({"flac", "ogg-opus"})
_SAMPLE_WIDTH = {"linear16": 2, "linear32": 4, "alaw": 1, "mulaw": 1}
DEFAULT_ENDPOINTING_MS = 10
KEYTERM_ARCHITECTURES = frozenset({"nova-3", "flux"})
# Deepgram counts subword tokens; words are a lower bound of them.
KEYTERM_TOKEN_LIMIT = 500
BOOLEAN_PARAMS = (
    "interim_results", "punctuate", "smart_format", "vad_events", "numerals",
    "profanity_filter", "dictation", "filler_words", "diarize", "multichannel",
    "detect_entities",
)  # fmt: skip


class QueryError(Exception):
    """A query Deepgram refuses with 400: ``dg_error`` names the parameter."""

    def __init__(self, parameter: str, dg_error: str, body: dict[str, Any]) -> None:
        """Store the refused parameter, the ``dg-error`` text and the body."""
        super().__init__(dg_error)
        self.parameter = parameter
        self.dg_error = dg_error
        self.body = body


def _invalid(parameter: str, detail: str) -> QueryError:
    message = f"Invalid query string: {parameter}: {detail}"
    return QueryError(
        parameter,
        message,
        {
            "category": "INVALID_QUERY_PARAMETER",
            "message": "Invalid query string.",
            "details": f"{parameter}: {detail}",
        },
    )


def _no_such_model(parameter: str, model: str, language: str) -> QueryError:
    message = (
        f"No such model/language/tier combination found ({parameter}): "
        f"model={model} language={language}"
    )
    return QueryError(
        parameter,
        message,
        {
            "err_code": "Bad Request",
            "err_msg": "Bad Request: No such model/language/tier combination "
            f"found. model={model} language={language}",
        },
    )


@dataclass(frozen=True, slots=True)
class ListenOptions:
    """The query options the fake server acts on."""

    model: CatalogModel
    language: str
    encoding: str | None
    sample_rate: int | None
    channels: int
    interim_results: bool
    punctuate: bool
    endpointing_ms: int | None
    utterance_end_ms: int | None
    vad_events: bool

    @property
    def bytes_per_second(self) -> int:
        """Audio bytes per second (linear16 16 kHz mono if not raw PCM-like)."""
        width = _SAMPLE_WIDTH.get(self.encoding or "", 2)
        return (self.sample_rate or 16000) * self.channels * width


def _bool(query: MultiMapping[str], name: str) -> bool:
    value = query.get(name)
    if value is None:
        return False
    if value.lower() not in {"true", "false"}:
        raise _invalid(name, f"expected true or false, got {value!r}")
    return value.lower() == "true"


def _int(query: MultiMapping[str], name: str) -> int | None:
    value = query.get(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise _invalid(name, f"expected an integer, got {value!r}") from None
    if number < 0:
        raise _invalid(name, f"must not be negative, got {number}")
    return number


def parse_listen_query(
    query: MultiMapping[str],
    catalog: Sequence[CatalogModel],
    *,
    streaming: bool,
) -> ListenOptions:
    """Validate a ``/v1/listen`` query like Deepgram; raise :class:`QueryError`.

    Unknown parameters are accepted. A missing ``model`` means ``base`` and a
    missing ``language`` means ``en`` (Deepgram's defaults).
    """
    model_name = query.get("model", "base")
    language = query.get("language", "en")
    model = find_model(catalog, model_name)
    if model is None:
        raise _no_such_model("model", model_name, language)
    if model.architecture == "flux":
        raise _invalid("model", f"{model_name} is only served on /v2/listen")
    if (streaming and not model.streaming) or (not streaming and not model.batch):
        mode = "streaming" if streaming else "pre-recorded"
        raise _invalid("model", f"{model_name} is not available for {mode} audio")
    if not model.offers(language):
        raise _no_such_model("language", model_name, language)
    encoding = query.get("encoding")
    if encoding is not None and encoding not in ENCODINGS:
        raise _invalid("encoding", f"unknown encoding {encoding!r}")
    sample_rate = _int(query, "sample_rate")
    if (
        encoding is not None
        and encoding not in CONTAINER_ENCODINGS
        and sample_rate is None
    ):
        raise _invalid("sample_rate", f"required with encoding={encoding}")
    if sample_rate == 0:
        raise _invalid("sample_rate", "must be positive")
    channels = _int(query, "channels") or 1
    if "keyterm" in query and model.architecture not in KEYTERM_ARCHITECTURES:
        raise _invalid(
            "keyterm", f"only supported by Nova-3 and Flux, not {model_name}"
        )
    if sum(len(term.split()) for term in query.getall("keyterm", [])) > (
        KEYTERM_TOKEN_LIMIT
    ):
        raise _invalid(
            "keyterm",
            "Keyterm limit exceeded. The maximum number of tokens across all "
            f"keyterms is {KEYTERM_TOKEN_LIMIT}.",
        )
    if "keywords" in query and model.architecture in KEYTERM_ARCHITECTURES:
        raise _invalid("keywords", f"not supported by {model_name}; use keyterm")
    for name in BOOLEAN_PARAMS:
        _bool(query, name)
    endpointing_raw = query.get("endpointing")
    endpointing: int | None
    if endpointing_raw is None or endpointing_raw.lower() == "true":
        endpointing = DEFAULT_ENDPOINTING_MS
    elif endpointing_raw.lower() == "false":
        endpointing = None
    else:
        endpointing = _int(query, "endpointing")
    return ListenOptions(
        model=model,
        language=language,
        encoding=encoding,
        sample_rate=sample_rate,
        channels=channels,
        interim_results=_bool(query, "interim_results"),
        punctuate=_bool(query, "punctuate") or _bool(query, "smart_format"),
        endpointing_ms=endpointing,
        utterance_end_ms=_int(query, "utterance_end_ms"),
        vad_events=_bool(query, "vad_events"),
    )
