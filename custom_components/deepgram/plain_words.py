"""Plain words of a language: names made only of one of them are skipped.

A general speech model already knows "light" or "kitchen"; key terms are
worth their budget for multi-word names, proper nouns and odd spellings.
The words come from Home Assistant's own intent sentences for the language
(the `home_assistant_intents` package the conversation agent uses: device
kinds, states, colours, commands), plus common English room and device words.
"""

from __future__ import annotations

from collections.abc import Iterator
import re
from typing import Any

from .const import LOGGER

_WORD = re.compile(r"[^\W\d_]+")
_SECTIONS = ("skip_words", "intents", "lists", "expansion_rules")

_COMMON_ENGLISH = """
    attic backyard balcony basement bath bathroom bed bedroom cellar closet den
    dining downstairs driveway entrance entry floor front garage garden guest
    hall hallway home house kitchen landing laundry living lounge nursery
    office pantry patio playroom porch room shed stairs study toilet upstairs
    utility yard ground first second third top back side main master kids
    lamp lamps light lights ceiling spot spots strip bulb tv television fan
    heater radiator thermostat plug socket switch outlet blind blinds curtain
    curtains shade shades shutter door doors window windows lock gate camera
    sensor speaker printer computer router fridge freezer oven dishwasher
    washer dryer kettle vacuum coffee machine pump pool boiler
"""
COMMON_ENGLISH = frozenset(_COMMON_ENGLISH.split())


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def words_of(data: dict[str, Any]) -> frozenset[str]:
    """The words (casefolded) of an intents file's sentences and lists."""
    return frozenset(
        word.casefold()
        for section in _SECTIONS
        for text in _strings(data.get(section, {}))
        for word in _WORD.findall(text)
    )


def load_plain_words(language: str) -> frozenset[str]:
    """The plain words of `language` (blocking: reads a file).

    Tries the tag as given, then its base language; English words are always
    included. Never raises: without the intents data only they are used.
    """
    words: frozenset[str] = frozenset()
    try:
        from home_assistant_intents import get_intents  # noqa: PLC0415

        base = language.split("-", maxsplit=1)[0]
        for tag in dict.fromkeys((language, base)):
            if data := get_intents(tag):
                words = words_of(data)
                break
    except (ImportError, OSError, ValueError) as err:
        LOGGER.debug("Home Assistant's intent words could not be read: %s", err)
    return words | COMMON_ENGLISH


def is_plain(term: str, plain_words: frozenset[str]) -> bool:
    """Whether the term is one plain word (or nothing but a plain word)."""
    words = term.split()
    return len(words) == 1 and words[0].casefold() in plain_words
