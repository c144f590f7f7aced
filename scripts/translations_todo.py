"""What each translation still lacks compared with strings.json.

For every translations/<language>.json (except en.json, which is a copy of
strings.json), prints the keys missing from it with their English text, the
keys it has that strings.json no longer has, and the keys whose `{placeholders}`
differ from the English ones. Exits 1 if there is anything to do.

    .venv/bin/python scripts/translations_todo.py [LANGUAGE ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import re
import sys
from typing import Any

COMPONENT = Path(__file__).resolve().parent.parent / "custom_components" / "deepgram"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Every string of a translation tree by its dotted key."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            flat.update(flatten(value, path))
        else:
            flat[path] = str(value)
    return flat


def load(path: Path) -> dict[str, str]:
    return flatten(json.loads(path.read_text(encoding="utf-8")))


def todo(english: dict[str, str], translated: dict[str, str]) -> list[str]:
    """Lines describing what a translation lacks; empty when it is complete."""
    lines = [
        f"  missing      {key}: {text}"
        for key, text in english.items()
        if key not in translated
    ]
    lines += [f"  obsolete     {key}" for key in translated if key not in english]
    for key, text in english.items():
        if key not in translated:
            continue
        want = set(PLACEHOLDER.findall(text))
        have = set(PLACEHOLDER.findall(translated[key]))
        if want != have:
            lines.append(
                f"  placeholders {key}: expected {sorted(want)}, has {sorted(have)}"
            )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("languages", nargs="*", help="default: every translation")
    args = parser.parse_args()
    english = load(COMPONENT / "strings.json")
    paths = sorted((COMPONENT / "translations").glob("*.json"))
    if args.languages:
        paths = [COMPONENT / "translations" / f"{lang}.json" for lang in args.languages]
    anything = False
    for path in paths:
        if path.stem == "en":
            continue
        translated = load(path) if path.exists() else {}
        lines = todo(english, translated)
        anything = anything or bool(lines)
        print(f"{path.stem}: {'nothing to do' if not lines else f'{len(lines)} to do'}")
        for line in lines:
            print(line)
    return 1 if anything else 0


if __name__ == "__main__":
    sys.exit(main())
