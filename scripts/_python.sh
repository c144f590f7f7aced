# Sourced by scripts/setup and scripts/test: picks the interpreter.
# $PYTHON wins, else python3.14 on PATH; it must be Python >= 3.14.2.
pick_python() {
  local cand="${PYTHON:-}"
  if [[ -z "$cand" ]]; then
    cand=$(command -v python3.14 || true)
  fi
  if [[ -z "$cand" ]]; then
    echo "error: no Python found. Set \$PYTHON to a Python >= 3.14.2 or put python3.14 on PATH." >&2
    return 1
  fi
  if ! "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 14, 2) else 1)' 2>/dev/null; then
    echo "error: $cand is not Python >= 3.14.2 (Home Assistant 2026.10 needs it)." >&2
    echo "Set \$PYTHON to a suitable interpreter or put python3.14 on PATH." >&2
    return 1
  fi
  echo "$cand"
}
