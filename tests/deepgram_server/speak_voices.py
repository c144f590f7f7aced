"""The fake server's text-to-speech voices (``/v1/speak``, ``/v2/speak``, models).

Deepgram names a voice by the model string a client puts in ``?model=``:
``aura-2-<voice>-<lang>`` and ``aura-<voice>-en`` on ``/v1/speak``,
``flux-<voice>-<lang>`` (Flux TTS) on ``/v2/speak``. ``GET /v1/models`` lists
them in its ``tts`` list with that string as ``canonical_name``, a short
``name`` (``"thalia"``), ``architecture``, ``languages``, ``version``,
``uuid`` and a ``metadata`` object (``accent``, ``age``, ``color``,
``image``, ``sample``, ``tags``, ``use_cases``): the shape of
``ListModelsV1ResponseTtsModels`` in Deepgram's API reference (late 2026).

Voice names: Aura-2 and Aura-1 names from Deepgram's "Voices and Languages"
page and published model lists (OpenRouter's ``deepgram/aura-2`` voice enum);
Flux TTS names, accents and ages from Deepgram's "Flux TTS Voices &
Languages" page (launch catalog: English only, ``flux-{voice}-en``). Versions,
colours and uuids are made up (uuids are stable: derived from the name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
import uuid

type SpeakFamily = Literal["aura", "aura-2", "flux"]

V1_SPEAK_PATH = "/v1/speak"
V2_SPEAK_PATH = "/v2/speak"

_VERSIONS: dict[SpeakFamily, str] = {
    "aura": "2024-11-19.0",
    "aura-2": "2025-04-07.0",
    "flux": "2026-08-12.0",
}
_UUID_NAMESPACE = uuid.UUID("6f0b8d52-1c2e-4a7b-9a51-0d6c3e2f9b10")


@dataclass(frozen=True, slots=True)
class Voice:
    """One text-to-speech voice as Deepgram lists it.

    ``canonical_name`` is the socket's ``model`` string; ``name`` the short
    voice name Deepgram lists beside it.
    """

    canonical_name: str
    name: str
    family: SpeakFamily
    languages: tuple[str, ...]
    accent: str
    gender: Literal["feminine", "masculine"]
    age: str = "Adult"
    tags: tuple[str, ...] = ()
    use_cases: tuple[str, ...] = ()

    @property
    def architecture(self) -> str:
        """``architecture`` as listed: the family."""
        return self.family

    @property
    def version(self) -> str:
        """The model version (also the speak sockets' ``model_version``)."""
        return _VERSIONS[self.family]

    @property
    def uuid(self) -> str:
        """A stable made-up uuid (the speak sockets' ``model_uuid``)."""
        return str(uuid.uuid5(_UUID_NAMESPACE, self.canonical_name))

    @property
    def display_name(self) -> str:
        """The voice's name as a person reads it (``"Thalia"``)."""
        return self.name.capitalize()

    @property
    def speak_path(self) -> str:
        """The socket serving this voice: ``/v2/speak`` for Flux, else ``/v1/speak``."""
        return V2_SPEAK_PATH if self.family == "flux" else V1_SPEAK_PATH

    def metadata(self) -> dict[str, Any]:
        """The ``metadata`` object of a ``GET /v1/models`` ``tts`` entry."""
        stem = "Aura-2" if self.family == "aura-2" else self.family.capitalize()
        return {
            "accent": self.accent,
            "age": self.age,
            "color": "#C58DFF" if self.gender == "masculine" else "#FF8DC5",
            "image": f"https://static.deepgram.com/examples/avatars/{self.name}.jpg",
            "sample": f"https://static.deepgram.com/examples/{stem}-{self.name}.wav",
            "tags": [self.gender, *self.tags],
            "use_cases": list(self.use_cases),
        }

    def as_json(self) -> dict[str, Any]:
        """The entry as ``GET /v1/models`` lists it in ``tts``."""
        return {
            "name": self.name,
            "canonical_name": self.canonical_name,
            "architecture": self.architecture,
            "languages": list(self.languages),
            "version": self.version,
            "uuid": self.uuid,
            "metadata": self.metadata(),
        }


def _aura2(
    voice: str,
    lang: str,
    accent: str,
    gender: Literal["feminine", "masculine"],
    *tags: str,
    region: str | None = None,
) -> Voice:
    languages = (lang, f"{lang}-{region}") if region else (lang,)
    return Voice(
        f"aura-2-{voice}-{lang}",
        voice,
        "aura-2",
        languages,
        accent,
        gender,
        tags=tags,
        use_cases=("Customer service", "IVR"),
    )


def _aura1(
    voice: str, region: str, accent: str, gender: Literal["feminine", "masculine"]
) -> Voice:
    return Voice(
        f"aura-{voice}-en", voice, "aura", ("en", f"en-{region}"), accent, gender
    )


def _flux(
    voice: str,
    accent: str,
    gender: Literal["feminine", "masculine"],
    age: str,
    *tags: str,
) -> Voice:
    region = {"American": "US", "British": "GB", "Indian": "IN"}.get(accent, "US")
    return Voice(
        f"flux-{voice}-en",
        voice,
        "flux",
        ("en", f"en-{region}"),
        accent,
        gender,
        age=age,
        tags=tags,
        use_cases=("Voice agents", "Customer service"),
    )


def default_voices() -> list[Voice]:
    """A fresh copy of the default voice catalogue (tests may edit it)."""
    return [
        # Aura-2, English.
        _aura2(
            "thalia", "en", "American", "feminine", "clear", "confident", region="US"
        ),
        _aura2("andromeda", "en", "American", "feminine", "casual", region="US"),
        _aura2("helena", "en", "American", "feminine", "caring", region="US"),
        _aura2("apollo", "en", "American", "masculine", "confident", region="US"),
        _aura2("arcas", "en", "American", "masculine", "natural", region="US"),
        _aura2("orion", "en", "American", "masculine", "calm", region="US"),
        _aura2("zeus", "en", "American", "masculine", "deep", region="US"),
        _aura2("draco", "en", "British", "masculine", "warm", region="GB"),
        _aura2("pandora", "en", "British", "feminine", "smooth", region="GB"),
        _aura2("hyperion", "en", "Australian", "masculine", "caring", region="AU"),
        _aura2("theia", "en", "Australian", "feminine", "expressive", region="AU"),
        # Aura-2, Spanish.
        _aura2("celeste", "es", "Colombian", "feminine", "clear", region="CO"),
        _aura2("estrella", "es", "Mexican", "feminine", "natural", region="MX"),
        _aura2("nestor", "es", "Peninsular", "masculine", "calm", region="ES"),
        _aura2("alvaro", "es", "Peninsular", "masculine", "smooth", region="ES"),
        _aura2("diana", "es", "Peninsular", "feminine", "professional", region="ES"),
        _aura2(
            "aquila", "es", "Latin American", "masculine", "expressive", region="419"
        ),
        # Aura-2, German, Dutch, French, Italian, Japanese.
        _aura2("julius", "de", "German", "masculine", "casual"),
        _aura2("aurelia", "de", "German", "feminine", "professional"),
        _aura2("elara", "de", "German", "feminine", "calm"),
        _aura2("beatrix", "nl", "Dutch", "feminine", "cheerful"),
        _aura2("daphne", "nl", "Dutch", "feminine", "clear"),
        _aura2("cornelia", "nl", "Dutch", "feminine", "approachable"),
        _aura2("agathe", "fr", "French", "feminine", "charming"),
        _aura2("cesare", "it", "Italian", "masculine", "natural"),
        _aura2("cinzia", "it", "Italian", "feminine", "approachable"),
        _aura2("demetra", "it", "Italian", "feminine", "calm"),
        _aura2("dionisio", "it", "Italian", "masculine", "confident"),
        _aura2("ama", "ja", "Japanese", "feminine", "casual"),
        _aura2("ebisu", "ja", "Japanese", "masculine", "calm"),
        # Aura (first generation, English only).
        _aura1("asteria", "US", "American", "feminine"),
        _aura1("luna", "US", "American", "feminine"),
        _aura1("orion", "US", "American", "masculine"),
        _aura1("angus", "IE", "Irish", "masculine"),
        _aura1("helios", "GB", "British", "masculine"),
        # Flux TTS (launch catalog: English).
        _flux("haley", "American", "feminine", "18-24", "clear", "confident"),
        _flux("heather", "American", "feminine", "18-24", "engaging", "energetic"),
        _flux("cole", "American", "masculine", "18-24", "friendly", "clear"),
        _flux("alexis", "American", "feminine", "18-24", "intelligent", "fast"),
        _flux("priya", "Indian", "feminine", "25-34", "empathetic", "calm"),
        _flux("jack", "British", "masculine", "25-34", "thoughtful", "friendly"),
        _flux("bruce", "American", "masculine", "25-34", "kind", "natural"),
        _flux("rufus", "British", "masculine", "25-34", "friendly", "confident"),
    ]


DEFAULT_VOICES: tuple[Voice, ...] = tuple(default_voices())


def speak_voice(model: str, voices: Sequence[Voice] | None = None) -> Voice | None:
    """The voice a speak socket's ``model`` names (case-insensitive), if any.

    ``voices`` is the server's catalogue (``FakeDeepgram.voices``); the
    default catalogue when None.
    """
    wanted = model.lower()
    for voice in DEFAULT_VOICES if voices is None else voices:
        if voice.canonical_name.lower() == wanted:
            return voice
    return None


def is_v2_voice(voice: Voice) -> bool:
    """Whether ``/v2/speak`` serves this voice (Flux TTS); ``/v1/speak`` else."""
    return voice.family == "flux"


def voices_on(path: str, voices: Sequence[Voice] | None = None) -> list[Voice]:
    """The voices the speak socket at ``path`` (``/v1/speak``, ``/v2/speak``) serves."""
    return [
        v
        for v in (DEFAULT_VOICES if voices is None else voices)
        if v.speak_path == path
    ]
