"""Typed options of a Deepgram text-to-speech socket and its query string.

Two sockets speak: `/v1/speak` for Aura voices (`aura-<voice>-en`) and
Aura-2 voices (`aura-2-<voice>-<lang>`), `/v2/speak` for Flux TTS voices
(`flux-<voice>-<lang>`). The model names the socket, so one `SpeakOptions`
serves both and `path` says where to connect.

Ranges follow Deepgram's AsyncAPI spec and TTS documentation: `/v1/speak`
takes linear16 at 8000, 16000, 24000, 32000 or 48000 Hz and mulaw or alaw at
8000 or 16000 Hz (the spec lists only the union; the sample-rate page gives
the G.711 pair), speed 0.7-1.5; `/v2/speak` adds 44100 Hz for linear16,
takes speed 0.5-1.5 in steps of 0.05 (changelog 2026-08-31) and an integer
`expressivity` from -2 to 2. Deepgram refuses anything else at the
handshake; refusing it here says which value and why before connecting.

`flux-general-en` and `flux-general-multi` are Flux *listen* models
(`/v2/listen`): their shape is a speak model's, so they are refused by name.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
import re
from typing import Final, Literal

from .errors import DeepgramOptionsError
from .options import scalar_params

type SpeakFamily = Literal["aura", "aura-2", "flux"]

DEFAULT_SPEAK_MODEL: Final = "aura-2-thalia-en"
SPEAK_PATHS: Final[dict[SpeakFamily, str]] = {
    "aura": "/v1/speak",
    "aura-2": "/v1/speak",
    "flux": "/v2/speak",
}
SPEAK_ENCODINGS: Final = ("linear16", "mulaw", "alaw")
SAMPLE_BYTES: Final = {"linear16": 2, "mulaw": 1, "alaw": 1}
"""Bytes of one (mono) sample of each encoding."""
_G711_RATES: Final = (8000, 16000)
V1_SAMPLE_RATES: Final = {
    "linear16": (8000, 16000, 24000, 32000, 48000),
    "mulaw": _G711_RATES,
    "alaw": _G711_RATES,
}
V2_SAMPLE_RATES: Final = {
    "linear16": (8000, 16000, 24000, 32000, 44100, 48000),
    "mulaw": _G711_RATES,
    "alaw": _G711_RATES,
}
V1_SPEED_RANGE: Final = (0.7, 1.5)
V2_SPEED_RANGE: Final = (0.5, 1.5)
V2_SPEED_STEP: Final = 0.05
EXPRESSIVITY_RANGE: Final = (-2, 2)
MAX_TAG_LENGTH: Final = 128
MAX_MODEL_LENGTH: Final = 100
"""The longest voice model name taken (as the voice list's parser takes)."""
FLUX_LISTEN_MODELS: Final = frozenset({"flux-general-en", "flux-general-multi"})
_VOICE = r"[a-z][a-z0-9]*"
_LANG = r"[a-z]{2,3}(?:-[a-z0-9]{2,4})?"
_FAMILIES: Final[tuple[tuple[SpeakFamily, re.Pattern[str]], ...]] = (
    ("aura-2", re.compile(rf"aura-2-{_VOICE}-{_LANG}")),
    ("aura", re.compile(rf"aura-{_VOICE}-en")),
    ("flux", re.compile(rf"flux-{_VOICE}-{_LANG}")),
)


def speak_family(model: str) -> SpeakFamily:
    """The voice family of a speak model, by its shape.

    Raises `DeepgramOptionsError` for anything that is not a speak model
    (a listen model such as `nova-3` or `flux-general-en`, a typo, case).
    """
    name = model.strip()
    if len(name) > MAX_MODEL_LENGTH:
        raise DeepgramOptionsError(
            f"A voice model name has at most {MAX_MODEL_LENGTH} characters"
        )
    if name in FLUX_LISTEN_MODELS:
        raise DeepgramOptionsError(
            f"Model {name} is a Flux speech-to-text model; Flux voices are "
            "named flux-<voice>-<language>"
        )
    for family, pattern in _FAMILIES:
        if pattern.fullmatch(name):
            return family
    raise DeepgramOptionsError(
        f"Unknown voice model {name[:60]!r}: expected aura-2-<voice>-<language>, "
        "aura-<voice>-en or flux-<voice>-<language>"
    )


def speak_path(model: str) -> str:
    """The socket path serving a speak model (`/v1/speak` or `/v2/speak`)."""
    return SPEAK_PATHS[speak_family(model)]


def _number(name: str, value: object) -> float:
    """A finite int or float (not a bool) as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DeepgramOptionsError(f"{name} must be a number, not {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise DeepgramOptionsError(f"{name} must be a finite number, not {value!r}")
    return number


def _on_step(value: float, step: float) -> bool:
    return math.isclose(value / step, round(value / step), abs_tol=1e-6)


@dataclass(frozen=True, kw_only=True)
class SpeakOptions:
    """What a speak socket asks of Deepgram; fixed for the socket's life.

    `encoding` and `sample_rate` are always sent, so the audio's format is
    known without asking. `speed` and `expressivity` left as None take
    Deepgram's default (1.0, 0); `mip_opt_out` is sent only when True.
    Construction validates: an instance is always one Deepgram takes.
    """

    model: str = DEFAULT_SPEAK_MODEL
    encoding: str = "linear16"
    sample_rate: int = 16000
    speed: float | None = None
    expressivity: int | None = None
    mip_opt_out: bool = False
    tag: str | None = None

    def __post_init__(self) -> None:
        """Refuse what Deepgram would refuse at the handshake."""
        self.validate()

    @property
    def family(self) -> SpeakFamily:
        """The voice family: `aura`, `aura-2` or `flux`."""
        return speak_family(self.model)

    @property
    def path(self) -> str:
        """The socket path: `/v1/speak` (Aura, Aura-2) or `/v2/speak` (Flux)."""
        return SPEAK_PATHS[self.family]

    def validate(self) -> None:
        """Raise `DeepgramOptionsError` for a value Deepgram refuses."""
        model: object = self.model
        if not isinstance(model, str):
            raise DeepgramOptionsError(f"model must be a string, not {model!r}")
        family = speak_family(model)
        self._validate_audio(family)
        self._validate_speed(family)
        self._validate_expressivity(family)
        mip_opt_out: object = self.mip_opt_out
        if not isinstance(mip_opt_out, bool):
            raise DeepgramOptionsError("mip_opt_out must be True or False")
        self._validate_tag()

    def _validate_audio(self, family: SpeakFamily) -> None:
        encoding: object = self.encoding
        if encoding not in SPEAK_ENCODINGS:
            raise DeepgramOptionsError(
                f"Unknown encoding {encoding!r}: a speak socket sends "
                "linear16, mulaw or alaw"
            )
        rates = (V2_SAMPLE_RATES if family == "flux" else V1_SAMPLE_RATES)[
            self.encoding
        ]
        rate: object = self.sample_rate
        if isinstance(rate, bool) or not isinstance(rate, int) or rate not in rates:
            allowed = ", ".join(str(r) for r in rates)
            raise DeepgramOptionsError(
                f"Invalid sample_rate {rate!r} for {self.encoding} on "
                f"{SPEAK_PATHS[family]}: use one of {allowed}"
            )

    def _validate_speed(self, family: SpeakFamily) -> None:
        if self.speed is None:
            return
        speed = _number("speed", self.speed)
        low, high = V2_SPEED_RANGE if family == "flux" else V1_SPEED_RANGE
        if not low <= speed <= high:
            raise DeepgramOptionsError(
                f"speed {speed:g} is out of range for {family} voices: "
                f"use {low:g} to {high:g}"
            )
        if family == "flux" and not _on_step(speed, V2_SPEED_STEP):
            raise DeepgramOptionsError(
                f"speed {speed:g} is not a step of {V2_SPEED_STEP:g} "
                "(Flux voices take 0.5, 0.55, ... 1.5)"
            )

    def _validate_expressivity(self, family: SpeakFamily) -> None:
        value: object = self.expressivity
        if value is None:
            return
        if family != "flux":
            raise DeepgramOptionsError(
                f"expressivity works with Flux voices only, not {family} voices"
            )
        low, high = EXPRESSIVITY_RANGE
        if isinstance(value, bool) or not isinstance(value, int):
            raise DeepgramOptionsError(
                f"expressivity must be a whole number from {low} to {high}"
            )
        if not low <= value <= high:
            raise DeepgramOptionsError(
                f"expressivity {value} is out of range: use {low} to {high}"
            )

    def _validate_tag(self) -> None:
        tag: object = self.tag
        if tag is None:
            return
        if not isinstance(tag, str) or not tag.strip():
            raise DeepgramOptionsError("A tag must be a non-empty string")
        if len(tag.strip()) > MAX_TAG_LENGTH:
            raise DeepgramOptionsError(
                f"A tag may hold at most {MAX_TAG_LENGTH} characters"
            )
        if not tag.isprintable():
            raise DeepgramOptionsError(
                "A tag may hold only printable characters (no control characters)"
            )

    def query(self) -> list[tuple[str, str]]:
        """The query parameters in the order `/v2/speak`'s spec lists them.

        `model`, `encoding`, `sample_rate`, then only what is set: `speed`,
        `expressivity`, `mip_opt_out`, `tag` (the `/v1/speak` spec lists its
        parameters alphabetically; the order means nothing to the server).
        """
        speed = self.speed
        if speed is not None and self.family == "flux":
            # 1.0500000001 is sent as 1.05: on the step Deepgram checks.
            speed = round(round(speed / V2_SPEED_STEP) * V2_SPEED_STEP, 2)
        scalars: dict[str, str | int | float | bool | None] = {
            "model": self.model.strip(),
            "encoding": self.encoding,
            "sample_rate": self.sample_rate,
            "speed": None if speed is None else float(speed),
            "expressivity": self.expressivity,
            "mip_opt_out": True if self.mip_opt_out else None,
            "tag": self.tag.strip() if self.tag is not None else None,
        }
        return scalar_params(scalars)

    @property
    def sample_bytes(self) -> int:
        """Bytes of one sample: 2 for linear16, 1 for mulaw and alaw."""
        return SAMPLE_BYTES[self.encoding]

    @property
    def bytes_per_second(self) -> int:
        """Bytes of audio per second (speak sockets send one channel)."""
        return self.sample_rate * self.sample_bytes
