"""Typed options of a Deepgram `/v1/listen` request and their query string."""

from __future__ import annotations

from dataclasses import dataclass, field
import re
from typing import Literal

from .errors import DeepgramOptionsError

DEFAULT_MODEL = "nova-3"
RAW_ENCODINGS = frozenset(
    {"linear16", "linear32", "flac", "alaw", "mulaw", "amr-nb", "amr-wb", "opus"}
    | {"ogg-opus", "speex", "g729"}
)
KEYTERM_TOKEN_LIMIT = 500
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_KEYWORD = re.compile(r"^[^:]+(:-?\d+(\.\d+)?)?$")


def is_nova3_or_flux(model: str) -> bool:
    """Tell whether a model takes `keyterm` (nova-3 and Flux only)."""
    return model.startswith(("nova-3", "flux"))


def supports_multi(model: str) -> bool:
    """Tell whether a model offers `language=multi` (code-switching)."""
    return model.startswith(("nova-3", "nova-2"))


def scalar_params(
    scalars: dict[str, str | int | float | bool | None],
) -> list[tuple[str, str]]:
    """Query pairs for single-valued options: unset ones left out, booleans
    as `true`/`false`, floats without trailing zeros (`0.7`)."""
    params: list[tuple[str, str]] = []
    for key, value in scalars.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params.append((key, "true" if value else "false"))
        elif isinstance(value, float):
            params.append((key, f"{value:g}"))
        else:
            params.append((key, str(value)))
    return params


@dataclass(frozen=True, kw_only=True)
class LiveOptions:
    """What a streaming (or pre-recorded) request asks of Deepgram.

    `None` leaves a parameter out so Deepgram's default applies. Call
    `validate()` (or `query()`, which validates) before connecting.
    """

    model: str = DEFAULT_MODEL
    language: str | None = "en"
    encoding: str | None = "linear16"
    sample_rate: int | None = 16000
    channels: int | None = 1
    punctuate: bool | None = None
    smart_format: bool | None = None
    numerals: bool | None = None
    profanity_filter: bool | None = None
    interim_results: bool | None = None
    endpointing: int | Literal[False] | None = None
    utterance_end_ms: int | None = None
    vad_events: bool | None = None
    keyterms: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    filler_words: bool | None = None
    mip_opt_out: bool | None = None
    detect_language: bool | None = None
    diarize: bool | None = None
    tags: tuple[str, ...] = field(default=())

    def validate(self) -> None:
        """Raise `DeepgramOptionsError` for a value or combination Deepgram refuses."""
        model = self.model.strip()
        if not model:
            raise DeepgramOptionsError("A model is required")
        if model.startswith("flux"):
            raise DeepgramOptionsError(
                f"Model {model} is a Flux model, served on /v2/listen, not /v1/listen"
            )
        self._validate_language(model)
        self._validate_audio()
        self._validate_timing()
        self._validate_vocabulary(model)
        if any(not tag.strip() for tag in self.tags):
            raise DeepgramOptionsError("A tag may not be empty")

    def _validate_language(self, model: str) -> None:
        if self.detect_language and self.language is not None:
            raise DeepgramOptionsError(
                "detect_language replaces language: leave language out"
            )
        if self.language is None:
            return
        if self.language == "multi":
            if not supports_multi(model):
                raise DeepgramOptionsError(
                    f"language=multi needs nova-3 or nova-2, not {model}"
                )
        elif not _LANGUAGE.match(self.language):
            raise DeepgramOptionsError(f"Invalid language tag: {self.language!r}")

    def _validate_audio(self) -> None:
        if self.encoding is not None:
            if self.encoding not in RAW_ENCODINGS:
                raise DeepgramOptionsError(f"Unknown encoding: {self.encoding!r}")
            if self.sample_rate is None:
                raise DeepgramOptionsError(
                    f"encoding={self.encoding} needs sample_rate"
                )
        elif self.sample_rate is not None:
            raise DeepgramOptionsError(
                "sample_rate goes with a raw encoding; leave both out for "
                "containerised audio such as WAV"
            )
        if self.sample_rate is not None and not 1000 <= self.sample_rate <= 192000:
            raise DeepgramOptionsError(f"Invalid sample_rate: {self.sample_rate}")
        if self.channels is not None and not 1 <= self.channels <= 32:
            raise DeepgramOptionsError(f"Invalid channels: {self.channels}")

    def _validate_timing(self) -> None:
        endpointing: object = self.endpointing
        if endpointing is True:
            raise DeepgramOptionsError("endpointing takes milliseconds or False")
        if (
            isinstance(endpointing, int)
            and endpointing is not False
            and not 0 <= endpointing <= 60000
        ):
            raise DeepgramOptionsError(f"Invalid endpointing: {endpointing} ms")
        if self.utterance_end_ms is not None:
            if not 1000 <= self.utterance_end_ms <= 5000:
                raise DeepgramOptionsError(
                    "utterance_end_ms must be between 1000 and 5000"
                )
            if self.interim_results is not True:
                raise DeepgramOptionsError("utterance_end_ms needs interim_results")

    def _validate_vocabulary(self, model: str) -> None:
        if self.keyterms:
            if not is_nova3_or_flux(model):
                raise DeepgramOptionsError(
                    f"keyterm works with nova-3 and Flux only, not {model}; "
                    "use keywords with older models"
                )
            if any(not term.strip() for term in self.keyterms):
                raise DeepgramOptionsError("A keyterm may not be empty")
            tokens = sum(len(term.split()) for term in self.keyterms)
            if tokens > KEYTERM_TOKEN_LIMIT:
                raise DeepgramOptionsError(
                    f"keyterms hold {tokens} words; Deepgram takes at most "
                    f"{KEYTERM_TOKEN_LIMIT}"
                )
        if self.keywords:
            if is_nova3_or_flux(model):
                raise DeepgramOptionsError(
                    f"keywords work with nova-2 and older models, not {model}; "
                    "use keyterms"
                )
            for keyword in self.keywords:
                if not _KEYWORD.match(keyword.strip()):
                    raise DeepgramOptionsError(
                        f"Invalid keyword {keyword!r}: use word or word:boost"
                    )

    def query(self) -> list[tuple[str, str]]:
        """Validate and return the query parameters, list ones repeated."""
        self.validate()
        params: list[tuple[str, str]] = [("model", self.model.strip())]
        scalars: dict[str, str | int | float | bool | None] = {
            "language": self.language,
            "encoding": self.encoding,
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "punctuate": self.punctuate,
            "smart_format": self.smart_format,
            "numerals": self.numerals,
            "profanity_filter": self.profanity_filter,
            "interim_results": self.interim_results,
            "endpointing": self.endpointing,
            "utterance_end_ms": self.utterance_end_ms,
            "vad_events": self.vad_events,
            "filler_words": self.filler_words,
            "mip_opt_out": self.mip_opt_out,
            "detect_language": self.detect_language,
            "diarize": self.diarize,
        }
        params.extend(scalar_params(scalars))
        params.extend(("keyterm", term.strip()) for term in self.keyterms)
        params.extend(("keywords", word.strip()) for word in self.keywords)
        params.extend(("tag", tag.strip()) for tag in self.tags)
        return params

    @property
    def bytes_per_second(self) -> int | None:
        """Bytes of raw 16-bit PCM per second of audio, or None when unknown."""
        if self.encoding != "linear16" or self.sample_rate is None:
            return None
        return self.sample_rate * (self.channels or 1) * 2
