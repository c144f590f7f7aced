# Sourced by scripts/setup and scripts/test: picks the interpreter.
# $PYTHON wins, else python3.14 on PATH, else uv's managed Python 3.14
# (uv itself comes from PyPI, into .tools/uv, with any Python 3).
# It must be Python >= 3.14.2.
UV_VERSION=0.13.5

uv_python() {
  local uv
  uv=$(command -v uv || true)
  if [[ -z "$uv" ]]; then
    if [[ ! -x .tools/uv/bin/uv ]]; then
      local py3
      py3=$(command -v python3 || true)
      if [[ -z "$py3" ]]; then
        echo "error: no python3 to install uv with." >&2
        return 1
      fi
      echo "No Python 3.14 found: installing uv $UV_VERSION from PyPI into .tools/uv ..." >&2
      "$py3" -m venv .tools/uv >&2 && .tools/uv/bin/python -m pip install --quiet "uv==$UV_VERSION" >&2 || {
        echo "error: could not install uv (is python3-venv installed?)." >&2
        return 1
      }
    fi
    uv=.tools/uv/bin/uv
  fi
  echo "Installing uv's managed Python 3.14 ..." >&2
  "$uv" python install 3.14 >&2 || return 1
  "$uv" python find 3.14
}

pick_python() {
  local cand="${PYTHON:-}"
  if [[ -z "$cand" ]]; then
    cand=$(command -v python3.14 || true)
  fi
  if [[ -z "$cand" ]]; then
    cand=$(uv_python) || {
      echo "error: no Python found. Set \$PYTHON to a Python >= 3.14.2, put python3.14 on PATH," >&2
      echo "or let uv provide one (needs python3 and access to PyPI and uv's Python downloads)." >&2
      return 1
    }
  fi
  if ! "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 14, 2) else 1)' 2>/dev/null; then
    echo "error: $cand is not Python >= 3.14.2 (Home Assistant 2026.10 needs it)." >&2
    echo "Set \$PYTHON to a suitable interpreter or put python3.14 on PATH." >&2
    return 1
  fi
  echo "$cand"
}
