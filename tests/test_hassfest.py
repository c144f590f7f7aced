"""What hassfest and HACS check, without Home Assistant's repository.

The rules follow Home Assistant's `script/hassfest` (manifest, translations,
services) as of 2026.11 and HACS's checks (hacs.json keys, brand images).
Translations (`translations/*.json`) must have exactly the keys of
`strings.json`, the same placeholders in every string, and follow the same
rules; `en.json` must equal `strings.json`.
"""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import re
import string
from typing import Any

from homeassistant.util.yaml import load_yaml_dict
from PIL import Image
import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPONENT = ROOT / "custom_components" / "deepgram"
MANIFEST = json.loads((COMPONENT / "manifest.json").read_text(encoding="utf-8"))
STRINGS = json.loads((COMPONENT / "strings.json").read_text(encoding="utf-8"))
TRANSLATIONS = sorted((COMPONENT / "translations").glob("*.json"))

# hassfest's manifest schema (custom integrations), 2026.11.
MANIFEST_KEYS = {
    "domain", "name", "after_dependencies", "bluetooth", "categories",
    "codeowners", "config_flow", "connectivity", "dependencies", "dhcp",
    "disabled", "documentation", "homekit", "import_executor", "integration_type",
    "iot_class", "iot_standards", "issue_tracker", "loggers", "lorawan", "mqtt",
    "preview_features", "quality_scale", "requirements", "single_config_entry",
    "ssdp", "supported_by", "usb", "version", "zeroconf",
}  # fmt: skip
REQUIRED_KEYS = {"domain", "name", "codeowners", "documentation", "requirements"}
CUSTOM_REQUIRED_KEYS = {"version", "issue_tracker"}
IOT_CLASSES = {
    "assumed_state", "calculated", "cloud_polling", "cloud_push",
    "local_polling", "local_push",
}  # fmt: skip
INTEGRATION_TYPES = {
    "device", "entity", "hardware", "helper", "hub", "service", "system", "virtual",
}  # fmt: skip
CONNECTIVITY = {
    "bluetooth", "cloud", "dali", "dect", "enocean", "esphome", "homekit", "host",
    "infrared", "insteon", "knx", "lorawan", "matter", "modbus", "mqtt", "network",
    "onewire", "rf", "serial", "x10", "zigbee", "zwave",
}  # fmt: skip
CATEGORY = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")

# The hacs.json keys HACS (and 2026.11's built-in Marketplace) read.
HACS_KEYS = {
    "content_in_root", "filename", "hacs", "hide_default_branch",
    "homeassistant", "name", "persistent_directory", "zip_release",
}  # fmt: skip

# hassfest's translation rules (script/hassfest/translations.py).
RE_TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
RE_COMBINED_REFERENCE = re.compile(r"(.+\[%)|(%\].+)")
RE_PLACEHOLDER_IN_SINGLE_QUOTES = re.compile(r"'{\w+}'")
RE_HTML = re.compile(r"<[a-z/!][^>]*>", re.IGNORECASE)
RE_URL = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)


def leaves(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every (dotted key, text) of a translation tree."""
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            yield from leaves(value, path)
        else:
            yield path, value


def keys(tree: dict[str, Any]) -> Iterator[str]:
    """Every key of a translation tree."""
    for key, value in tree.items():
        yield key
        if isinstance(value, dict):
            yield from keys(value)


def placeholders(text: str) -> set[str]:
    """The `{name}` placeholders of a text."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def string_problems(text: object) -> list[str]:
    """What hassfest's translation value validator refuses in `text`."""
    problems = []
    if not isinstance(text, str):
        return [f"not a string: {text!r}"]
    if RE_HTML.search(text):
        problems.append("HTML")
    if RE_PLACEHOLDER_IN_SINGLE_QUOTES.search(text):
        problems.append("placeholder in single quotes")
    try:
        fields = placeholders(text)
    except ValueError as err:
        problems.append(f"bad placeholder syntax ({err})")
    else:
        problems.extend(
            f"placeholder {name!r} is not an identifier"
            for name in fields
            if not name.isidentifier()
        )
    if RE_COMBINED_REFERENCE.search(text):
        problems.append("combined translation reference")
    if text != text.strip():
        problems.append("leading or trailing spaces")
    if RE_URL.search(text):
        problems.append("URL (use a description placeholder)")
    return problems


# -- manifest ---------------------------------------------------------------


def test_manifest_schema() -> None:
    """Known keys, the required ones, and valid values."""
    assert set(MANIFEST) <= MANIFEST_KEYS, set(MANIFEST) - MANIFEST_KEYS
    assert set(MANIFEST) >= REQUIRED_KEYS | CUSTOM_REQUIRED_KEYS
    assert MANIFEST["domain"] == COMPONENT.name
    assert MANIFEST["iot_class"] in IOT_CLASSES
    assert MANIFEST["integration_type"] in INTEGRATION_TYPES
    assert isinstance(MANIFEST["config_flow"], bool)
    for url_key in ("documentation", "issue_tracker"):
        assert MANIFEST[url_key].startswith("https://"), url_key
    assert re.fullmatch(r"\d+\.\d+\.\d+", MANIFEST["version"])
    assert all(
        re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==\S+", r) for r in MANIFEST["requirements"]
    )
    assert all(c.startswith("@") for c in MANIFEST["codeowners"])
    for list_key in ("dependencies", "after_dependencies", "loggers"):
        value = MANIFEST.get(list_key, [])
        assert isinstance(value, list)
        assert all(isinstance(v, str) for v in value)
    assert MANIFEST["categories"], "a primary category"
    assert all(CATEGORY.fullmatch(c) for c in MANIFEST["categories"])
    assert set(MANIFEST["connectivity"]) <= CONNECTIVITY


def test_manifest_key_order() -> None:
    """domain, name, then the rest in alphabetical order (hassfest sorts so)."""
    order = list(MANIFEST)
    assert order[:2] == ["domain", "name"]
    assert order[2:] == sorted(order[2:])


# -- hacs.json ---------------------------------------------------------------


def test_hacs_json() -> None:
    """Only keys HACS reads; a name; a minimum Home Assistant version."""
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert set(hacs) <= HACS_KEYS, set(hacs) - HACS_KEYS
    assert hacs["name"] == MANIFEST["name"]
    assert re.fullmatch(r"20\d\d\.\d{1,2}\.\d+", hacs["homeassistant"])
    assert not hacs.get("content_in_root", False)  # custom_components/<domain>/


# -- strings and translations ----------------------------------------------


def test_english_is_strings_json() -> None:
    """Custom integrations read translations/en.json; strings.json is its source."""
    english = (COMPONENT / "translations" / "en.json").read_text(encoding="utf-8")
    assert english == (COMPONENT / "strings.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", TRANSLATIONS, ids=lambda p: p.name)
def test_translation_rules(path: Path) -> None:
    """Every text passes hassfest's rules; every key is a valid translation key."""
    tree = json.loads(path.read_text(encoding="utf-8"))
    problems = {
        key: found for key, text in leaves(tree) if (found := string_problems(text))
    }
    assert not problems
    bad_keys = sorted({k for k in keys(tree) if not RE_TRANSLATION_KEY.match(k)})
    assert not bad_keys


@pytest.mark.parametrize("path", TRANSLATIONS, ids=lambda p: p.name)
def test_translation_matches_strings(path: Path) -> None:
    """The same keys as strings.json, with the same placeholders in each text."""
    tree = json.loads(path.read_text(encoding="utf-8"))
    source = dict(leaves(STRINGS))
    translated = dict(leaves(tree))
    assert set(translated) == set(source), {
        "missing": sorted(set(source) - set(translated)),
        "extra": sorted(set(translated) - set(source)),
    }
    different = {
        key: (sorted(placeholders(source[key])), sorted(placeholders(text)))
        for key, text in translated.items()
        if placeholders(text) != placeholders(source[key])
    }
    assert not different


def flows() -> Iterator[tuple[str, dict[str, Any]]]:
    """The config flow and every subentry flow of strings.json."""
    yield "config", STRINGS["config"]
    for name, flow in STRINGS.get("config_subentries", {}).items():
        yield f"config_subentries.{name}", flow


@pytest.mark.parametrize(("name", "flow"), list(flows()), ids=lambda v: str(v)[:30])
def test_flow_strings(name: str, flow: dict[str, Any]) -> None:
    """Steps have only known parts; data descriptions describe existing fields."""
    step_parts = {
        "title", "description", "data", "data_description", "menu_options",
        "menu_option_descriptions", "submit", "sections",
    }  # fmt: skip
    for step_id, step in flow["step"].items():
        assert set(step) <= step_parts, (step_id, set(step) - step_parts)
        assert set(step.get("data_description", {})) <= set(step.get("data", {}))
        for section in step.get("sections", {}).values():
            assert set(section) <= {"name", "description", "data", "data_description"}
    flow_parts = {
        "flow_title", "step", "error", "abort", "progress", "create_entry",
        "initiate_flow", "entry_type",
    }  # fmt: skip
    assert set(flow) <= flow_parts, set(flow) - flow_parts
    if name.startswith("config_subentries."):
        assert "entry_type" in flow
        assert "user" in flow["initiate_flow"]


@pytest.mark.parametrize(("name", "flow"), list(flows()), ids=lambda v: str(v)[:30])
def test_form_errors_are_plain_text(name: str, flow: dict[str, Any]) -> None:
    """The frontend shows form errors as plain text: markdown would show raw."""
    markdown = re.compile(r"`|\*\*|\]\(")
    raw = {
        key: text
        for key, text in flow.get("error", {}).items()
        if markdown.search(text)
    }
    assert not raw


def test_issues_and_exceptions() -> None:
    """Issues have a title and a description or a fix flow; exceptions a message."""
    for issue in STRINGS.get("issues", {}).values():
        assert "title" in issue
        assert ("description" in issue) != ("fix_flow" in issue)
    for exception in STRINGS.get("exceptions", {}).values():
        assert set(exception) == {"message"}


def test_services_have_texts() -> None:
    """Every service and field of services.yaml has a name and a description."""
    path = COMPONENT / "services.yaml"
    services = load_yaml_dict(path) if path.exists() else {}
    texts = STRINGS.get("services", {})
    assert set(texts) == set(services or {})
    for service, spec in (services or {}).items():
        assert {"name", "description"} <= set(texts[service])
        for field in (spec or {}).get("fields", {}):
            assert {"name", "description"} <= set(texts[service]["fields"][field])


def test_rules_catch_what_hassfest_refuses() -> None:
    """The rule checker itself: each rule fires on its example."""
    assert string_problems("Fine {name}.") == []
    assert string_problems("See https://example.com for more") != []
    assert string_problems("Keys are '{key}'") != []
    assert string_problems(" padded") != []
    assert string_problems("<b>bold</b>") != []
    assert string_problems("{bad-name}") != []
    assert string_problems("[%key:common::x%] and more") != []


# -- brand images --------------------------------------------------------------

BRAND = COMPONENT / "brand"


@pytest.mark.parametrize(
    ("name", "size"), [("icon.png", (256, 256)), ("icon@2x.png", (512, 512))]
)
def test_brand_icons(name: str, size: tuple[int, int]) -> None:
    """Square PNG icons of the sizes Home Assistant's brands use."""
    with Image.open(BRAND / name) as image:
        assert image.format == "PNG"
        assert image.size == size


def test_brand_logos() -> None:
    """Logos: shortest side 128-256 px, @2x twice the size, dark variants alike."""
    for prefix in ("", "dark_"):
        path = BRAND / f"{prefix}logo.png"
        if not path.exists():
            assert prefix, "logo.png is required"
            continue
        with (
            Image.open(path) as logo,
            Image.open(BRAND / f"{prefix}logo@2x.png") as big,
        ):
            assert logo.format == big.format == "PNG"
            assert 128 <= min(logo.size) <= 256
            assert big.size == (logo.width * 2, logo.height * 2)
    for dark in BRAND.glob("dark_*.png"):
        assert (BRAND / dark.name.removeprefix("dark_")).exists(), dark.name
