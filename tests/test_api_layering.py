"""The protocol layer (`custom_components/deepgram/api/`) stands alone.

It imports nothing from Home Assistant, nor from the integration above it,
so it can be tested, reused and read on its own.
"""

from __future__ import annotations

import ast
from pathlib import Path
import subprocess
import sys

API = Path(__file__).parents[1] / "custom_components" / "deepgram" / "api"


def _imported(path: Path) -> set[str]:
    """Every module `path` imports (relative imports as written: `.x`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


def test_no_module_imports_home_assistant_or_the_integration() -> None:
    modules = sorted(API.glob("*.py"))
    assert len(modules) > 10
    for module in modules:
        for name in _imported(module):
            assert not name.startswith("homeassistant"), (module.name, name)
            assert not name.startswith("custom_components"), (module.name, name)
            assert not name.startswith(".."), (module.name, name)


def test_imports_with_home_assistant_absent() -> None:
    """Imported in a fresh interpreter where `homeassistant` cannot load."""
    code = (
        "import sys; sys.modules['homeassistant'] = None\n"
        "import importlib.util, pathlib\n"
        f"api = pathlib.Path({str(API)!r})\n"
        "spec = importlib.util.spec_from_file_location(\n"
        "    'deepgram_api', api / '__init__.py',\n"
        "    submodule_search_locations=[str(api)])\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "sys.modules['deepgram_api'] = module\n"
        "spec.loader.exec_module(module)\n"
        "print(len(module.__all__))\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 30
