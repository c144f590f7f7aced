"""Validation of ``/v1/speak`` and ``/v2/speak`` query strings (handshake 400s).

``/v1/speak`` (Aura, Aura-2): ``model`` (default ``aura-asteria-en``, the
spec's), ``encoding`` linear16/mulaw/alaw, ``sample_rate`` 8000, 16000,
24000, 32000, 48000 for linear16 and 8000 or 16000 for G.711 (default 24000,
8000 for G.711), ``speed`` 0.7-1.5; other parameters are ignored, but
``expressivity`` (Flux only) is refused. ``/v2/speak`` (Flux TTS): ``model``
required and a Flux voice (an Aura voice is refused with
``V1_MODEL_ON_V2_SPEAK_ENDPOINT``), linear16 also at 44100 Hz, ``speed``
0.5-1.5 in steps of 0.05, ``expressivity`` an integer -2 to 2, and any
parameter it does not know is refused. Both: ``mip_opt_out`` true/false,
``tag`` at most 128 characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import math

from multidict import MultiMapping

from .options import QueryError, _invalid
from .speak_voices import V2_SPEAK_PATH, Voice, is_v2_voice, speak_voice

_G711_RATES = (8000, 16000)
V1_SAMPLE_RATES = {
    "linear16": (8000, 16000, 24000, 32000, 48000),
    "mulaw": _G711_RATES,
    "alaw": _G711_RATES,
}
V2_SAMPLE_RATES = {
    "linear16": (8000, 16000, 24000, 32000, 44100, 48000),
    "mulaw": _G711_RATES,
    "alaw": _G711_RATES,
}
V1_SPEED_RANGE = (0.7, 1.5)
V2_SPEED_RANGE = (0.5, 1.5)
V2_SPEED_STEP = 0.05
EXPRESSIVITY_RANGE = (-2, 2)
MAX_TAG_LENGTH = 128
V1_DEFAULT_MODEL = "aura-asteria-en"
V2_PARAMETERS = frozenset(
    {"model", "encoding", "sample_rate", "speed", "expressivity", "mip_opt_out", "tag"}
)


@dataclass(frozen=True, slots=True)
class SpeakOptions:
    """What a speak socket synthesises with (fixed for its life)."""

    voice: Voice
    encoding: str
    sample_rate: int
    speed: float
    expressivity: int | None


def _wrong_endpoint(model: str) -> QueryError:
    message = (
        f"The model {model} is a /v1/speak (Aura) model; "
        "use /v1/speak or a flux-<voice>-<language> model"
    )
    return QueryError(
        "model",
        message,
        {"err_code": "V1_MODEL_ON_V2_SPEAK_ENDPOINT", "err_msg": message},
    )


def _voice(query: MultiMapping[str], voices: Sequence[Voice], v2: bool) -> Voice:
    name = query.get("model")
    if name is None:
        if v2:
            raise _invalid("model", "a Flux TTS model is required on /v2/speak")
        name = V1_DEFAULT_MODEL
    voice = speak_voice(name, voices)
    if voice is None:
        raise _invalid("model", f"unknown model {name[:60]!r}")
    if v2 and not is_v2_voice(voice):
        raise _wrong_endpoint(name)
    if not v2 and is_v2_voice(voice):
        raise _invalid("model", f"{name} is a Flux TTS model; use /v2/speak")
    return voice


def _sample_rate(query: MultiMapping[str], encoding: str, v2: bool) -> int:
    allowed = (V2_SAMPLE_RATES if v2 else V1_SAMPLE_RATES)[encoding]
    raw = query.get("sample_rate")
    if raw is None:
        return 24000 if encoding == "linear16" else 8000
    try:
        rate = int(raw)
    except ValueError:
        raise _invalid("sample_rate", f"expected an integer, got {raw!r}") from None
    if rate not in allowed:
        listed = ", ".join(str(r) for r in allowed)
        raise _invalid(
            "sample_rate", f"{rate} is not valid for {encoding} (valid: {listed})"
        )
    return rate


def _speed(query: MultiMapping[str], v2: bool) -> float:
    raw = query.get("speed")
    if raw is None:
        return 1.0
    try:
        speed = float(raw)
    except ValueError:
        raise _invalid("speed", f"expected a number, got {raw!r}") from None
    low, high = V2_SPEED_RANGE if v2 else V1_SPEED_RANGE
    if not math.isfinite(speed) or not low <= speed <= high:
        raise _invalid("speed", f"must be between {low:g} and {high:g}, got {raw}")
    steps = speed / V2_SPEED_STEP
    if v2 and not math.isclose(steps, round(steps), abs_tol=1e-6):
        raise _invalid("speed", f"must be a multiple of {V2_SPEED_STEP:g}, got {raw}")
    return speed


def _expressivity(query: MultiMapping[str], v2: bool) -> int | None:
    raw = query.get("expressivity")
    if raw is None:
        return None
    if not v2:
        raise _invalid("expressivity", "only Flux TTS (/v2/speak) takes expressivity")
    low, high = EXPRESSIVITY_RANGE
    try:
        value = int(raw)
    except ValueError:
        raise _invalid("expressivity", f"expected an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise _invalid("expressivity", f"must be between {low} and {high}, got {raw}")
    return value


def parse_speak_query(
    query: MultiMapping[str], voices: Sequence[Voice], path: str
) -> SpeakOptions:
    """Validate a speak query like Deepgram; raise :class:`QueryError`."""
    v2 = path == V2_SPEAK_PATH
    if v2:
        for key in query:
            if key not in V2_PARAMETERS:
                raise _invalid(key, "unknown parameter on /v2/speak")
    voice = _voice(query, voices, v2)
    encoding = query.get("encoding", "linear16")
    if encoding not in V1_SAMPLE_RATES:
        raise _invalid(
            "encoding",
            f"{encoding!r} is not a streaming encoding (linear16, mulaw, alaw)",
        )
    sample_rate = _sample_rate(query, encoding, v2)
    speed = _speed(query, v2)
    expressivity = _expressivity(query, v2)
    mip = query.get("mip_opt_out")
    if mip is not None and mip.lower() not in {"true", "false"}:
        raise _invalid("mip_opt_out", f"expected true or false, got {mip!r}")
    tag = query.get("tag")
    if tag is not None and len(tag) > MAX_TAG_LENGTH:
        raise _invalid("tag", f"at most {MAX_TAG_LENGTH} characters")
    return SpeakOptions(voice, encoding, sample_rate, speed, expressivity)
