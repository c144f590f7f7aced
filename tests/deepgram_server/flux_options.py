"""Parsing and validation of ``/v2/listen`` (Flux) query strings and Configure.

Ranges follow Deepgram's documentation; where its pages disagree the wider
range is accepted (PROTOCOL.md section 6): ``eot_threshold`` 0.5-1.0,
``eager_eot_threshold`` 0.3-0.9 and never above ``eot_threshold``,
``eot_timeout_ms`` 500-60000.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from multidict import MultiMapping

from .models_catalog import CatalogModel, find_model
from .options import _invalid, _no_such_model

FLUX_ENCODINGS = frozenset(
    {"linear16", "linear32", "mulaw", "alaw", "opus", "ogg-opus"}
)
_CONTAINER = frozenset({"ogg-opus"})
_SAMPLE_WIDTH = {"linear16": 2, "linear32": 4, "alaw": 1, "mulaw": 1}
MULTI_MODEL = "flux-general-multi"
EOT_THRESHOLD_RANGE = (0.5, 1.0)
EAGER_EOT_THRESHOLD_RANGE = (0.3, 0.9)
EOT_TIMEOUT_MS_RANGE = (500, 60000)
DEFAULT_EOT_THRESHOLD = 0.7
DEFAULT_EOT_TIMEOUT_MS = 5000


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The end-of-turn settings a Flux session runs with (Configure changes them)."""

    eot_threshold: float = DEFAULT_EOT_THRESHOLD
    eager_eot_threshold: float | None = None
    eot_timeout_ms: int = DEFAULT_EOT_TIMEOUT_MS

    def as_json(self) -> dict[str, Any]:
        """``thresholds`` of a ``ConfigureSuccess``."""
        out: dict[str, Any] = {
            "eot_threshold": self.eot_threshold,
            "eot_timeout_ms": self.eot_timeout_ms,
        }
        if self.eager_eot_threshold is not None:
            out["eager_eot_threshold"] = self.eager_eot_threshold
        return out


@dataclass(frozen=True, slots=True)
class FluxOptions:
    """The ``/v2/listen`` query options the fake server acts on."""

    model: CatalogModel
    encoding: str | None
    sample_rate: int | None
    thresholds: Thresholds
    keyterms: tuple[str, ...]
    language_hints: tuple[str, ...]

    @property
    def bytes_per_second(self) -> int:
        """Audio bytes per second (linear16 16 kHz mono if not PCM-like)."""
        width = _SAMPLE_WIDTH.get(self.encoding or "", 2)
        return (self.sample_rate or 16000) * width

    @property
    def multi(self) -> bool:
        """Whether the model takes language hints."""
        return self.model.canonical_name == MULTI_MODEL


def _number(value: object, name: str) -> float:
    if isinstance(value, bool):
        raise _invalid(name, f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        raise _invalid(name, f"expected a number, got {value!r}") from None


def _in_range(number: float, name: str, bounds: tuple[float, float]) -> None:
    low, high = bounds
    if not low <= number <= high:
        raise _invalid(name, f"must be between {low:g} and {high:g}, got {number:g}")


def merge_thresholds(current: Thresholds, given: dict[str, Any]) -> Thresholds:
    """Apply the thresholds given (query or Configure); validate the result."""
    updated = current
    if "eot_threshold" in given:
        value = _number(given["eot_threshold"], "eot_threshold")
        _in_range(value, "eot_threshold", EOT_THRESHOLD_RANGE)
        updated = replace(updated, eot_threshold=value)
    if "eager_eot_threshold" in given:
        value = _number(given["eager_eot_threshold"], "eager_eot_threshold")
        _in_range(value, "eager_eot_threshold", EAGER_EOT_THRESHOLD_RANGE)
        updated = replace(updated, eager_eot_threshold=value)
    if "eot_timeout_ms" in given:
        number = _number(given["eot_timeout_ms"], "eot_timeout_ms")
        if number != int(number):
            raise _invalid("eot_timeout_ms", f"expected an integer, got {number:g}")
        _in_range(number, "eot_timeout_ms", EOT_TIMEOUT_MS_RANGE)
        updated = replace(updated, eot_timeout_ms=int(number))
    eager = updated.eager_eot_threshold
    if eager is not None and eager > updated.eot_threshold:
        raise _invalid(
            "eager_eot_threshold",
            f"{eager:g} is above eot_threshold {updated.eot_threshold:g}",
        )
    return updated


def check_language_hints(hints: Sequence[str], *, multi: bool) -> None:
    """Language hints: multi model only, never empty."""
    if not hints:
        return
    if not multi:
        raise _invalid("language_hint", f"only valid with {MULTI_MODEL}")
    if any(not hint.strip() for hint in hints):
        raise _invalid("language_hint", "empty values are rejected")


def check_keyterms(terms: Sequence[str]) -> None:
    """Plain terms only: no weights, never empty."""
    for term in terms:
        if not term.strip():
            raise _invalid("keyterm", "empty values are rejected")
        if ":" in term:
            raise _invalid("keyterm", f"plain terms only, got {term!r}")


def parse_flux_query(
    query: MultiMapping[str], catalog: Sequence[CatalogModel]
) -> FluxOptions:
    """Validate a ``/v2/listen`` query like Deepgram; raise :class:`QueryError`."""
    model_name = query.get("model")
    if model_name is None:
        raise _invalid("model", "a Flux model is required on /v2/listen")
    model = find_model(catalog, model_name)
    if model is None:
        raise _no_such_model("model", model_name, "")
    if model.architecture != "flux":
        raise _invalid("model", f"{model_name} is not a Flux model; use /v1/listen")
    encoding = query.get("encoding")
    if encoding is not None and encoding not in FLUX_ENCODINGS:
        raise _invalid("encoding", f"unknown encoding {encoding!r}")
    sample_rate_raw = query.get("sample_rate")
    sample_rate: int | None = None
    if sample_rate_raw is not None:
        try:
            sample_rate = int(sample_rate_raw)
        except ValueError:
            raise _invalid(
                "sample_rate", f"expected an integer, got {sample_rate_raw!r}"
            ) from None
        if sample_rate <= 0:
            raise _invalid("sample_rate", "must be positive")
    if encoding is not None and encoding not in _CONTAINER and sample_rate is None:
        raise _invalid("sample_rate", f"required with encoding={encoding}")
    given = {
        key: query[key]
        for key in ("eot_threshold", "eager_eot_threshold", "eot_timeout_ms")
        if key in query
    }
    thresholds = merge_thresholds(Thresholds(), given)
    keyterms = tuple(query.getall("keyterm", ()))
    check_keyterms(keyterms)
    hints = tuple(query.getall("language_hint", ()))
    check_language_hints(hints, multi=model.canonical_name == MULTI_MODEL)
    for name in ("mip_opt_out", "profanity_filter", "numerals"):
        value = query.get(name)
        if value is not None and value.lower() not in {"true", "false"}:
            raise _invalid(name, f"expected true or false, got {value!r}")
    return FluxOptions(
        model=model,
        encoding=encoding,
        sample_rate=sample_rate,
        thresholds=thresholds,
        keyterms=keyterms,
        language_hints=hints,
    )
