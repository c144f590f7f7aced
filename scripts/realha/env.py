"""One virtual environment per Home Assistant release, made with uv.

`ensure_env("2026.10.4")` installs `homeassistant==2026.10.4`, then the
requirements of the components `instance.CONFIGURATION` sets up (the
frontend version the release pins, the assist pipeline's, conversation's),
all constrained by the release's own `package_constraints.txt`, so the
result is what that release runs with. A finished environment is reused.
"""

from __future__ import annotations

import json
from pathlib import Path
import shutil
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[2]
ENVS = ROOT / ".realha"

# The components `instance.CONFIGURATION` names; their dependencies and
# after-dependencies are followed, so the frontend's (api, lovelace,
# onboarding, ...) come along. The last four are set up by Home Assistant's
# core integrations and log setup errors without their requirements.
COMPONENTS = (
    "assist_pipeline",
    "config",
    "conversation",
    "frontend",
    "logger",
    "stt",
    "template",
    "tts",
    "camera",
    "hassio",
    "infrared",
    "radio_frequency",
)
# Imported by camera without being in its manifest.
EXTRA_REQUIREMENTS = ("numpy",)


def _uv() -> str:
    """uv from this interpreter's environment (requirements_test.txt) or PATH."""
    beside = Path(sys.executable).parent / "uv"
    if beside.exists():
        return str(beside)
    found = shutil.which("uv")
    if found is None:
        raise SystemExit("uv not found: run scripts/setup first")
    return found


def _requirements(components_dir: Path, names: tuple[str, ...]) -> list[str]:
    """Requirements of `names` and of everything they depend on."""
    seen: set[str] = set()
    requirements: list[str] = []
    todo = list(names)
    while todo:
        name = todo.pop()
        path = components_dir / name / "manifest.json"
        if name in seen or not path.exists():
            continue
        seen.add(name)
        manifest = json.loads(path.read_text())
        requirements.extend(manifest.get("requirements", []))
        todo.extend(manifest.get("dependencies", []))
        todo.extend(manifest.get("after_dependencies", []))
    return sorted({*requirements, *EXTRA_REQUIREMENTS})


def _stamp(version: str) -> str:
    """What a finished environment records: redone when the lists change."""
    return f"{version} {' '.join(COMPONENTS)} {' '.join(EXTRA_REQUIREMENTS)}\n"


def ensure_env(version: str, *, quiet: bool = True) -> Path:
    """The Python of an environment with Home Assistant `version`; made if needed."""
    venv = ENVS / f"ha-{version}"
    python = venv / "bin" / "python"
    done = venv / ".complete"
    if done.exists() and done.read_text() == _stamp(version):
        return python
    uv = _uv()
    flags = ["--quiet"] if quiet else []
    print(f"Installing Home Assistant {version} into {venv} ...", flush=True)
    subprocess.run(
        [uv, "venv", *flags, "--allow-existing", "--python", sys.executable, venv],
        check=True,
    )
    install = [uv, "pip", "install", *flags, "--python", str(python)]
    subprocess.run([*install, f"homeassistant=={version}"], check=True)
    package = Path(
        subprocess.run(
            [
                python,
                "-c",
                "import homeassistant; print(homeassistant.__path__[0])",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    requirements = _requirements(package / "components", COMPONENTS)
    subprocess.run(
        [*install, "-c", str(package / "package_constraints.txt"), *requirements],
        check=True,
    )
    done.write_text(_stamp(version))
    return python


if __name__ == "__main__":
    for release in sys.argv[1:]:
        print(ensure_env(release, quiet=False))
