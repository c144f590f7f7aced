"""Deepgram's text-to-speech voices: both model lists read as one, and a fallback.

A voice is named by the model string a speak socket takes: `aura-2-<voice>-<lang>`
and `aura-<voice>-en` on `/v1/speak`, `flux-<voice>-<lang>` (Flux TTS) on
`/v2/speak`. Deepgram lists them in the `tts` list of `GET /v1/models` (Aura,
Aura-2) and of `GET /v2/models` (Flux TTS), entries with that string as
`canonical_name`, a short `name` and a `metadata` object (`accent`, `tags`...).
Every field of an entry is optional in Deepgram's API reference, so an entry
this module cannot use (no model string, a family no socket serves) is left
out, not an error; a list that is not a list is one (`DeepgramProtocolError`
from the REST client), as for the speech-to-text models.

Both lists are read, because the voices are never hard-coded only; when one
cannot be read, the built-in voices of its families stand in for it
(`BUILTIN_VOICES`), and `voices_or_fallback` never fails at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import logging
import re
from typing import TYPE_CHECKING, Any, Final

from .errors import (
    DeepgramAuthError,
    DeepgramError,
    DeepgramForbiddenError,
    DeepgramOptionsError,
)
from .speak_options import SPEAK_PATHS, SpeakFamily, speak_family

if TYPE_CHECKING:
    from .rest import DeepgramRestClient

_LOGGER = logging.getLogger(__name__)

FAMILIES: Final[tuple[SpeakFamily, ...]] = ("flux", "aura-2", "aura")
"""Every family, in the order voices are listed: Deepgram's recommendation first."""
V1_FAMILIES: Final[frozenset[SpeakFamily]] = frozenset({"aura-2", "aura"})
"""The families `/v1/models` lists (and `/v1/speak` serves)."""
V2_FAMILIES: Final[frozenset[SpeakFamily]] = frozenset({"flux"})
"""The families `/v2/models` lists (and `/v2/speak` serves)."""

MAX_TEXT: Final = 100
"""Characters of a listed name, accent or tag kept at most; longer is left out."""
MAX_LANGUAGES: Final = 50
MAX_TAGS: Final = 20
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
"""A model string kept as listed: no space around it, at most 100 characters."""
_GENDERS: Final = ("feminine", "masculine")


@dataclass(frozen=True, slots=True)
class Voice:
    """One text-to-speech voice.

    `name` is the model string a speak socket takes (`aura-2-thalia-en`),
    `display_name` the voice's own name (`Thalia`). `builtin` is True for a
    voice of `BUILTIN_VOICES` standing in for a list Deepgram did not give.
    """

    name: str
    display_name: str
    family: SpeakFamily
    languages: tuple[str, ...]
    accent: str | None = None
    gender: str | None = None
    tags: tuple[str, ...] = ()
    builtin: bool = False

    @property
    def language(self) -> str:
        """The voice's main language (the first listed)."""
        return self.languages[0]

    @property
    def speak_path(self) -> str:
        """The socket serving the voice: `/v2/speak` for Flux, else `/v1/speak`."""
        return SPEAK_PATHS[self.family]


def family_of(model: str) -> SpeakFamily | None:
    """The family of a voice's model string; None if it names no voice.

    The speak options' rule (`speak_family`), so that every voice listed is
    one a speak socket accepts.
    """
    parts = _model_parts(model)
    return parts[0] if parts else None


def _model_parts(model: str) -> tuple[SpeakFamily, str, str] | None:
    """`(family, voice, language)` of a voice's model string, if it names one."""
    if not _MODEL.match(model):
        return None
    try:
        family = speak_family(model)
    except DeepgramOptionsError:
        return None
    voice, _, language = model[len(family) + 1 :].partition("-")
    return family, voice, language


def parse_voices(data: dict[str, Any]) -> list[Voice]:
    """The usable voices of a `GET /v1/models` or `/v2/models` answer.

    Raises `TypeError` when `tts` is not a list (the REST client makes that
    a `DeepgramProtocolError`); leaves out entries it cannot use.
    """
    entries = data.get("tts")
    if not isinstance(entries, list):
        raise TypeError("tts is not a list")
    return [voice for entry in entries if (voice := _voice(entry)) is not None]


def merge_voices(
    v1: list[Voice] | BaseException, v2: list[Voice] | BaseException
) -> list[Voice]:
    """One list of the voices `/v1/models` and `/v2/models` gave, or their errors.

    A list that failed, or named no voice of its families, is stood in for by
    the built-in voices of those families (one log line when it failed). An
    auth error of either list, or errors of both, are raised: the caller
    decides (`voices_or_fallback` falls back). Anything but a `DeepgramError`
    (a cancellation, a bug) is raised as it is.
    """
    answers = ((v1, "/v1/models", V1_FAMILIES), (v2, "/v2/models", V2_FAMILIES))
    errors: list[DeepgramError] = []
    for answer, _, _ in answers:
        if isinstance(answer, DeepgramError):
            errors.append(answer)
        elif isinstance(answer, BaseException):
            raise answer
    for error in errors:
        if isinstance(error, DeepgramAuthError | DeepgramForbiddenError):
            raise error
    if len(errors) == len(answers):
        raise errors[0]
    voices: list[Voice] = []
    for answer, path, families in answers:
        listed: list[Voice] = []
        if isinstance(answer, BaseException):
            _LOGGER.info(
                "Using built-in %s voices; Deepgram's %s could not be read: %s",
                "/".join(sorted(families)),
                path,
                answer,
            )
        else:
            listed = answer
        voices.extend(listed)
        if not any(voice.family in families for voice in listed):
            voices.extend(v for v in BUILTIN_VOICES if v.family in families)
    return sorted_voices(voices)


def sorted_voices(voices: Iterable[Voice]) -> list[Voice]:
    """The voices once each (by model string, first kept): family, language, name."""
    unique: dict[str, Voice] = {}
    for voice in voices:
        unique.setdefault(voice.name.lower(), voice)
    return sorted(
        unique.values(),
        key=lambda v: (FAMILIES.index(v.family), v.language, v.display_name, v.name),
    )


async def voices_or_fallback(rest: DeepgramRestClient) -> list[Voice]:
    """Deepgram's voices, or the built-in ones when they cannot be read.

    Never raises a `DeepgramError` (an auth error included: a caller that
    must tell the user about the key calls `rest.list_voices()` itself);
    logs one line, from the error's scrubbed text, when it falls back.
    """
    try:
        return await rest.list_voices()
    except DeepgramError as err:
        _LOGGER.info("Using built-in voices; Deepgram's could not be read: %s", err)
        return list(BUILTIN_VOICES)


def _voice(entry: Any) -> Voice | None:
    """The voice a `tts` entry describes; None when it is not usable."""
    if not isinstance(entry, dict):
        return None
    model = entry.get("canonical_name")
    if not isinstance(model, str):
        return None
    parts = _model_parts(model)
    if parts is None:
        return None
    family, voice_name, language = parts
    metadata = entry.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    languages = _texts(entry.get("languages"), MAX_LANGUAGES)
    tags = _texts(metadata.get("tags"), MAX_TAGS)
    return Voice(
        name=model,
        display_name=_text(metadata.get("display_name"))
        or _text(entry.get("name"), capitalize=True)
        or voice_name.capitalize(),
        family=family,
        languages=languages or (language,),
        accent=_text(metadata.get("accent")),
        gender=next((tag for tag in tags if tag in _GENDERS), None),
        tags=tags,
    )


def _text(value: Any, *, capitalize: bool = False) -> str | None:
    """A short printable string, stripped; None for anything else."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > MAX_TEXT or not text.isprintable():
        return None
    return text[0].upper() + text[1:] if capitalize else text


def _texts(value: Any, limit: int) -> tuple[str, ...]:
    """The usable strings of a list, once each, at most `limit` of them."""
    if not isinstance(value, list):
        return ()
    kept: list[str] = []
    for item in value:
        text = _text(item)
        if text is not None and text not in kept:
            kept.append(text)
            if len(kept) == limit:
                break
    return tuple(kept)


type _Listing = tuple[str, str, str, str]  # voice, language, gender, accent


def _builtin(family: SpeakFamily, listings: Iterable[_Listing]) -> list[Voice]:
    return [
        Voice(
            name=f"{family}-{voice}-{lang}",
            display_name=voice.capitalize(),
            family=family,
            languages=(lang,),
            accent=accent,
            gender=gender,
            tags=(gender,),
            builtin=True,
        )
        for voice, lang, gender, accent in listings
    ]


_F, _M = "feminine", "masculine"

# Flux TTS: Deepgram's featured voices of its launch catalog (English).
_BUILTIN_FLUX: Final[tuple[_Listing, ...]] = (
    ("haley", "en", _F, "American"),
    ("heather", "en", _F, "American"),
    ("alexis", "en", _F, "American"),
    ("cole", "en", _M, "American"),
    ("bruce", "en", _M, "American"),
    ("priya", "en", _F, "Indian"),
    ("jack", "en", _M, "British"),
    ("rufus", "en", _M, "British"),
)
# Aura-2 in each of its seven languages (Aura-1 was retired in 2026).
_BUILTIN_AURA2: Final[tuple[_Listing, ...]] = (
    ("thalia", "en", _F, "American"),
    ("andromeda", "en", _F, "American"),
    ("helena", "en", _F, "American"),
    ("apollo", "en", _M, "American"),
    ("orion", "en", _M, "American"),
    ("zeus", "en", _M, "American"),
    ("draco", "en", _M, "British"),
    ("celeste", "es", _F, "Colombian"),
    ("estrella", "es", _F, "Mexican"),
    ("diana", "es", _F, "Peninsular"),
    ("nestor", "es", _M, "Peninsular"),
    ("alvaro", "es", _M, "Peninsular"),
    ("julius", "de", _M, "German"),
    ("aurelia", "de", _F, "German"),
    ("elara", "de", _F, "German"),
    ("beatrix", "nl", _F, "Dutch"),
    ("daphne", "nl", _F, "Dutch"),
    ("cornelia", "nl", _F, "Dutch"),
    ("agathe", "fr", _F, "French"),
    ("cinzia", "it", _F, "Italian"),
    ("demetra", "it", _F, "Italian"),
    ("cesare", "it", _M, "Italian"),
    ("dionisio", "it", _M, "Italian"),
    ("ama", "ja", _F, "Japanese"),
    ("ebisu", "ja", _M, "Japanese"),
)

BUILTIN_VOICES: Final[tuple[Voice, ...]] = tuple(
    sorted_voices(
        [*_builtin("flux", _BUILTIN_FLUX), *_builtin("aura-2", _BUILTIN_AURA2)]
    )
)
"""Voices used when Deepgram's lists cannot be read: real voices (late 2026).

Names from Deepgram's "Voices and Languages" and "Flux TTS Voices &
Languages" pages and its published voice lists; accents and genders as
Deepgram lists them where it does, the voice's language otherwise.
"""
