"""Typed options of a Deepgram Flux (`/v2/listen`) request and its query string.

Ranges follow Deepgram's documentation. Its pages disagree on two of them
(`eot_threshold` 0.5-0.9 or 0.5-1.0, `eot_timeout_ms` 500-10000 or
500-60000); the wider range is accepted, as the server takes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import re
from typing import Final

from .errors import DeepgramOptionsError
from .options import KEYTERM_TOKEN_LIMIT, scalar_params

FLUX_MODELS: Final = ("flux-general-en", "flux-general-multi")
FLUX_MULTI_MODEL: Final = "flux-general-multi"
FLUX_ENCODINGS: Final = frozenset(
    {"linear16", "linear32", "mulaw", "alaw", "opus", "ogg-opus"}
)
EOT_THRESHOLD_RANGE: Final = (0.5, 1.0)
EAGER_EOT_THRESHOLD_RANGE: Final = (0.3, 0.9)
EOT_TIMEOUT_MS_RANGE: Final = (500, 60000)
DEFAULT_EOT_THRESHOLD: Final = 0.7
DEFAULT_EOT_TIMEOUT_MS: Final = 5000
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def is_flux(model: str) -> bool:
    """Tell whether a model is a Flux model, served on `/v2/listen`."""
    return model.strip().startswith("flux")


def check_thresholds(
    eot_threshold: float | None,
    eager_eot_threshold: float | None,
    eot_timeout_ms: int | None,
) -> None:
    """Raise `DeepgramOptionsError` for an end-of-turn setting Deepgram refuses."""
    low, high = EOT_THRESHOLD_RANGE
    if eot_threshold is not None and not low <= eot_threshold <= high:
        raise DeepgramOptionsError(
            f"eot_threshold must be between {low:g} and {high:g}"
        )
    low, high = EAGER_EOT_THRESHOLD_RANGE
    if eager_eot_threshold is not None:
        if not low <= eager_eot_threshold <= high:
            raise DeepgramOptionsError(
                f"eager_eot_threshold must be between {low:g} and {high:g}"
            )
        if eager_eot_threshold > (eot_threshold or DEFAULT_EOT_THRESHOLD):
            raise DeepgramOptionsError(
                "eager_eot_threshold may not be above eot_threshold"
            )
    first, last = EOT_TIMEOUT_MS_RANGE
    if eot_timeout_ms is not None and not first <= eot_timeout_ms <= last:
        raise DeepgramOptionsError(f"eot_timeout_ms must be between {first} and {last}")


def check_keyterms(keyterms: tuple[str, ...]) -> None:
    """Plain phrases, not empty, within Deepgram's token budget."""
    if any(not term.strip() for term in keyterms):
        raise DeepgramOptionsError("A keyterm may not be empty")
    tokens = sum(len(term.split()) for term in keyterms)
    if tokens > KEYTERM_TOKEN_LIMIT:
        raise DeepgramOptionsError(
            f"keyterms hold {tokens} words; Deepgram takes at most "
            f"{KEYTERM_TOKEN_LIMIT}"
        )


def check_language_hints(model: str, hints: tuple[str, ...]) -> None:
    """Language hints: only for the multi model, valid tags."""
    if not hints:
        return
    if model.strip() != FLUX_MULTI_MODEL:
        raise DeepgramOptionsError(
            f"Language hints work with {FLUX_MULTI_MODEL} only, not {model}"
        )
    for hint in hints:
        if not _LANGUAGE.match(hint.strip()):
            raise DeepgramOptionsError(f"Invalid language hint: {hint!r}")


@dataclass(frozen=True, kw_only=True)
class FluxOptions:
    """What a Flux streaming request asks of Deepgram.

    `None` leaves a parameter out so Deepgram's default applies. Flux takes
    one channel; there is no `channels` parameter on `/v2/listen`.
    """

    model: str = FLUX_MODELS[0]
    encoding: str | None = "linear16"
    sample_rate: int | None = 16000
    eot_threshold: float | None = None
    eager_eot_threshold: float | None = None
    eot_timeout_ms: int | None = None
    keyterms: tuple[str, ...] = ()
    language_hints: tuple[str, ...] = ()
    mip_opt_out: bool | None = None
    tags: tuple[str, ...] = field(default=())

    def validate(self) -> None:
        """Raise `DeepgramOptionsError` for a value or combination Deepgram refuses."""
        model = self.model.strip()
        if not is_flux(model):
            raise DeepgramOptionsError(
                f"Model {model or '(none)'} is not a Flux model; /v2/listen "
                "serves flux-general-en and flux-general-multi"
            )
        if self.encoding is not None:
            if self.encoding not in FLUX_ENCODINGS:
                raise DeepgramOptionsError(f"Unknown encoding: {self.encoding!r}")
            if self.encoding != "ogg-opus" and self.sample_rate is None:
                raise DeepgramOptionsError(
                    f"encoding={self.encoding} needs sample_rate"
                )
        if self.sample_rate is not None and not 1000 <= self.sample_rate <= 192000:
            raise DeepgramOptionsError(f"Invalid sample_rate: {self.sample_rate}")
        check_thresholds(
            self.eot_threshold, self.eager_eot_threshold, self.eot_timeout_ms
        )
        check_keyterms(self.keyterms)
        check_language_hints(model, self.language_hints)
        if any(not tag.strip() for tag in self.tags):
            raise DeepgramOptionsError("A tag may not be empty")

    def query(self) -> list[tuple[str, str]]:
        """Validate and return the query parameters, list ones repeated."""
        self.validate()
        params: list[tuple[str, str]] = [("model", self.model.strip())]
        scalars: dict[str, str | int | float | bool | None] = {
            "encoding": self.encoding,
            "sample_rate": self.sample_rate,
            "eot_threshold": self.eot_threshold,
            "eager_eot_threshold": self.eager_eot_threshold,
            "eot_timeout_ms": self.eot_timeout_ms,
            "mip_opt_out": self.mip_opt_out,
        }
        params.extend(scalar_params(scalars))
        params.extend(("keyterm", term.strip()) for term in self.keyterms)
        params.extend(("language_hint", hint.strip()) for hint in self.language_hints)
        params.extend(("tag", tag.strip()) for tag in self.tags)
        return params

    @property
    def bytes_per_second(self) -> int | None:
        """Bytes of raw 16-bit PCM per second of audio, or None when unknown."""
        if self.encoding != "linear16" or self.sample_rate is None:
            return None
        return self.sample_rate * 2
