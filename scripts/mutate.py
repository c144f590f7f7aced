"""Mutation testing of the integration with mutmut (see scripts/mutate).

`run`: runs mutmut on the given modules, with each module's mutants tested by
the right tests: mutmut runs only the tests that call the mutated function,
and a protocol-layer mutant (`custom_components/deepgram/api/`) only by the
protocol layer's own tests (`tests/test_api_*.py`), which must pin that layer
without Home Assistant.

`report`: the summary per module: killed (a timeout counts as killed: the
tests noticed; so does a mutant `mypy --strict` rejects, as CI would),
other (survived, or not tested), equivalent (listed with the reason in
docs/mutation-equivalents.toml; an entry whose change no longer matches its
mutant is reported as stale), and the score, killed / (all - equivalent).
"""

from __future__ import annotations

from collections import Counter, defaultdict
import os
from pathlib import Path
import sys
import tomllib

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "docs" / "mutation-equivalents.toml"
PACKAGE = "custom_components.deepgram"
# What `scripts/mutate` checks when given no module: the socket base, the
# listen base and both listen sessions on it (/v1 live, /v2 Flux), the
# transcript, the per-run transcribers, the end-of-turn policy and the audio
# helpers.
DEFAULT_MODULES = (
    "api.socket",
    "api.stream",
    "api.live",
    "api.flux",
    "api.transcript",
    "transcriber",
    "flux_transcriber",
    "end_of_speech",
    "audio",
)
# Tests that may kill a mutant, by the mutated module's prefix (first match).
TEST_SELECTION: tuple[tuple[str, tuple[str, ...]], ...] = (
    (f"{PACKAGE}.api.", ("tests/test_api_",)),
)


def _selection(function: str) -> tuple[str, ...] | None:
    for prefix, tests in TEST_SELECTION:
        if function.startswith(prefix):
            return tests
    return None


def _patch_test_selection() -> None:
    """Narrow mutmut's tests per mutated function (in memory, never saved)."""
    import mutmut.__main__ as mutmut_main
    from mutmut.state import state

    original = mutmut_main.collect_or_load_stats

    def collect_or_load_stats(*args: object, **kwargs: object) -> None:
        original(*args, **kwargs)  # type: ignore[arg-type]
        narrowed: defaultdict[str, set[str]] = defaultdict(set)
        for function, tests in state().tests_by_mangled_function_name.items():
            allowed = _selection(function)
            narrowed[function] = (
                set(tests)
                if allowed is None
                else {test for test in tests if test.startswith(allowed)}
            )
        state().tests_by_mangled_function_name = narrowed

    mutmut_main.collect_or_load_stats = collect_or_load_stats


def _globs(modules: list[str]) -> list[str]:
    names = []
    for module in modules or DEFAULT_MODULES:
        if "__mutmut_" in module:  # one mutant, by name: re-test it
            names.append(module)
            continue
        name = module.removesuffix(".py").replace("/", ".")
        name = name.removeprefix("custom_components.deepgram.")
        names.append(f"{PACKAGE}.{name}.*" if name != "all" else f"{PACKAGE}.*")
    return names


def run(args: list[str]) -> None:
    """`run [--max-children N] [MODULE ...]`: mutmut on the modules."""
    # 5 workers on 2 cores: the tests mostly wait on real time (docs/mutation.md).
    jobs = os.environ.get("MUTATE_JOBS", "5")
    if args[:1] == ["--max-children"]:
        jobs, args = args[1], args[2:]
    # The type check runs `mypy` from this Python's environment.
    os.environ["PATH"] = os.pathsep.join(
        (str(Path(sys.executable).parent), os.environ["PATH"])
    )
    _patch_test_selection()
    import mutmut.__main__ as mutmut_main

    sys.argv = ["mutmut", "run", "--max-children", jobs, *_globs(args)]
    mutmut_main.cli()


def _load_equivalents() -> dict[str, tuple[str, str]]:
    data = tomllib.loads(EQUIVALENTS.read_text(encoding="utf-8"))
    return {
        entry["mutant"]: (entry["change"], entry["reason"])
        for entry in data.get("equivalent", [])
    }


def report(args: list[str]) -> int:
    """`report [MODULE ...]`: the summary; exit 1 below `--fail-under`."""
    fail_under = 0.0
    if args[:1] == ["--fail-under"]:
        fail_under, args = float(args[1]), args[2:]
    from fnmatch import fnmatch

    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code
    from mutmut.utils.file_utils import walk_mutatable_files

    globs = _globs(args)
    equivalents = _load_equivalents()
    counts: dict[str, Counter[str]] = {}
    survivors: list[str] = []
    typed = 0
    stale: list[str] = []
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for name, code in sorted(data.exit_code_by_key.items()):
            if not any(fnmatch(name, glob) for glob in globs):
                continue
            status = status_by_exit_code[code]
            if status == "caught by type check":
                typed += 1
            if status in ("timeout", "caught by type check"):
                status = "killed"
            if status == "survived" and name in equivalents:
                change = equivalents[name][0]
                if change in get_diff_for_mutant(name, path=path):
                    status = "equivalent"
                else:
                    stale.append(name)
            module = str(path).removesuffix(".py").replace("/", ".")
            counts.setdefault(module, Counter())[status] += 1
            if status not in ("killed", "equivalent"):
                survivors.append(f"{status}: {name}")
    total: Counter[str] = Counter()
    print(
        f"{'module':42} {'mutants':>7} {'killed':>6} {'other':>5} {'equiv.':>6} score"
    )
    for module, count in sorted(counts.items()):
        total += count
        _line(module, count)
    _line("total", total)
    print(f"(killed includes {typed} mutants that mypy --strict rejects)")
    for line in survivors:
        print(line)
    for name in stale:
        print(f"stale entry in {EQUIVALENTS.name} (the mutant changed): {name}")
    return 1 if _score(total) < fail_under or stale else 0


def _score(count: Counter[str]) -> float:
    checked = count.total() - count["equivalent"]
    return 100.0 * count["killed"] / checked if checked else 100.0


def _line(module: str, count: Counter[str]) -> None:
    print(
        f"{module:42} {count.total():7} {count['killed']:6} "
        f"{count.total() - count['killed'] - count['equivalent']:5} "
        f"{count['equivalent']:6} {_score(count):5.1f} %"
    )


def main() -> int:
    """Dispatch `run` or `report`."""
    command, *args = sys.argv[1:] or ["report"]
    if command == "run":
        run(args)
        return 0
    if command == "report":
        return report(args)
    print(f"unknown command {command}; use run or report", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
