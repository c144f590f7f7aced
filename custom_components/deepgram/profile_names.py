"""Names of profiles: after their model and options (or voice), never twice.

Pure functions: a blank name becomes `Deepgram nova-2 (multilingual)` (a
voice profile's `Deepgram Thalia`), numbered (`Deepgram nova-3 2`) when
another profile of the entry has it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .const import (
    CONF_FILLER_WORDS,
    CONF_KEYTERMS,
    CONF_MODEL,
    CONF_MULTILINGUAL,
    CONF_PROFANITY_FILTER,
    CONF_SMART_FORMAT,
    DEFAULT_STT_NAME,
)

NAME_PREFIX = "Deepgram"

# What a generated profile name mentions, in this order, when it is set.
_NAMED_OPTIONS: tuple[tuple[str, str], ...] = (
    (CONF_MULTILINGUAL, "multilingual"),
    (CONF_KEYTERMS, "key terms"),
    (CONF_SMART_FORMAT, "smart format"),
    (CONF_PROFANITY_FILTER, "profanity filter"),
    (CONF_FILLER_WORDS, "filler words"),
)


def profile_name(profile: Mapping[str, Any]) -> str:
    """A name after the model and options: `Deepgram nova-2 (multilingual)`."""
    name = f"{NAME_PREFIX} {profile[CONF_MODEL]}"
    named = [label for key, label in _NAMED_OPTIONS if profile.get(key)]
    return f"{name} ({', '.join(named)})" if named else name


def voice_name(display_name: str) -> str:
    """A voice profile's name after its voice: `Deepgram Thalia`."""
    return f"{NAME_PREFIX} {display_name}"


def same_name(one: str, other: str) -> bool:
    """Whether two names are the same to a reader (case and blanks aside)."""
    return one.strip().casefold() == other.strip().casefold()


def numbered_name(name: str, taken: Iterable[str]) -> str:
    """`name`, or `name 2`, `name 3`... whichever no other profile has."""
    taken = list(taken)
    candidate, number = name, 1
    while any(same_name(candidate, other) for other in taken):
        number += 1
        candidate = f"{name} {number}"
    return candidate


def is_generated_name(title: str, profile: Mapping[str, Any]) -> bool:
    """Whether a title is the profile's generated name (numbered or not).

    `Deepgram nova-3` counts whatever the model: earlier versions gave every
    new profile that name.
    """
    return same_name(title, DEFAULT_STT_NAME) or is_numbered_name(
        title, profile_name(profile)
    )


def is_numbered_name(title: str, base: str) -> bool:
    """Whether a title is `base` or one `numbered_name` made of it (`base 2`)."""
    if same_name(title, base):
        return True
    rest = title.strip()[len(base) :]
    return title.strip().startswith(base) and rest[:1] == " " and rest[1:].isdigit()
