"""The translations say what strings.json says, with the same keys and placeholders.

Home Assistant fills `{placeholder}`s by name: a translation that drops one loses
information, one that renames or adds one shows a raw `{name}` or fails to
format. Code spans (URL schemes, example addresses) and link targets are not
words and stay as they are.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations
import pytest

from custom_components.deepgram.const import DOMAIN

COMPONENT = Path(__file__).parent.parent / "custom_components" / "deepgram"
TRANSLATIONS = COMPONENT / "translations"
LANGUAGES = ("de", "es", "fr", "nl")

PLACEHOLDER = re.compile(r"\{(\w+)\}")
CODE_SPAN = re.compile(r"`[^`]*`")
LINK_TARGET = re.compile(r"\]\(([^)]*)\)")


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _flatten(tree: Any, prefix: str = "") -> dict[str, str]:
    """Every string of a translation tree by its dotted key."""
    assert isinstance(tree, dict), f"{prefix or 'top level'} is not an object"
    flat: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            flat.update(_flatten(value, path))
        else:
            assert isinstance(value, str), f"{path} is not a string"
            flat[path] = value
    return flat


STRINGS = _flatten(_load(COMPONENT / "strings.json"))


def test_en_json_is_strings_json() -> None:
    """translations/en.json is exactly strings.json, as hassfest requires."""
    assert _load(TRANSLATIONS / "en.json") == _load(COMPONENT / "strings.json")


def test_every_language_is_shipped() -> None:
    """The four languages are there, and no translation file is unchecked."""
    shipped = {path.stem for path in TRANSLATIONS.glob("*.json")}
    assert shipped == {"en", *LANGUAGES}


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_keys_as_strings_json(language: str) -> None:
    """Every key of strings.json is translated, and no other key is there."""
    translated = _flatten(_load(TRANSLATIONS / f"{language}.json"))
    assert sorted(set(STRINGS) - set(translated)) == [], "missing"
    assert sorted(set(translated) - set(STRINGS)) == [], "not in strings.json"


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_placeholders_code_and_links(language: str) -> None:
    """Each string keeps its placeholders, code spans and link targets."""
    translated = _flatten(_load(TRANSLATIONS / f"{language}.json"))
    wrong: dict[str, str] = {}
    for key, english in STRINGS.items():
        text = translated.get(key)
        if text is None:
            continue  # reported by test_same_keys_as_strings_json
        if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(english)):
            wrong[key] = "placeholders differ"
        elif sorted(CODE_SPAN.findall(text)) != sorted(CODE_SPAN.findall(english)):
            wrong[key] = "code spans differ"
        elif LINK_TARGET.findall(text) != LINK_TARGET.findall(english):
            wrong[key] = "link targets differ"
        elif "[%key:" in text or not text.strip():
            wrong[key] = "not final text"
    assert wrong == {}


@pytest.mark.parametrize("language", LANGUAGES)
async def test_home_assistant_serves_the_translation(
    hass: HomeAssistant, language: str
) -> None:
    """Home Assistant finds each file and shows its text, not the English one."""
    translated = _flatten(_load(TRANSLATIONS / f"{language}.json"))
    for category, key in (
        ("config", "config.step.user.title"),
        ("exceptions", "exceptions.no_profile.message"),
    ):
        served = await async_get_translations(hass, language, category, {DOMAIN})
        assert served[f"component.{DOMAIN}.{key}"] == translated[key]
        assert translated[key] != STRINGS[key]
