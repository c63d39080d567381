#!/usr/bin/env bash
# Creates .venv in the checkout and installs the pinned dependencies (once; again when the
# pins change). Used by both README commands. The package runs on Python 3.11 to 3.13: the
# newest of python3.13, python3.12, python3.11 and python3 that runs and is in that range is
# used, unless PYTHON names one.
set -euo pipefail
cd "$(dirname "$0")/.."

supported() {
  # A name on PATH can be a shim that fails (pyenv lists versions it does not activate).
  "$1" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)' \
    >/dev/null 2>&1
}

if [ ! -x .venv/bin/python ]; then
  if [ -n "${PYTHON:-}" ] && ! supported "$PYTHON"; then
    echo "PYTHON=$PYTHON is not a Python 3.11, 3.12 or 3.13 that runs here." >&2
    exit 1
  fi
  candidates=("${PYTHON:-}" python3.13 python3.12 python3.11 python3)
  chosen=""
  for candidate in "${candidates[@]}"; do
    if [ -n "$candidate" ] && supported "$candidate"; then
      chosen="$candidate"
      break
    fi
  done
  if [ -z "$chosen" ]; then
    echo "No Python 3.11, 3.12 or 3.13 found (tried ${PYTHON:+$PYTHON, }python3.13," \
      "python3.12, python3.11, python3). Install one of them, or set PYTHON to its path." >&2
    exit 1
  fi
  echo "== creating .venv with $("$chosen" -c 'import sys; print(sys.executable, sys.version.split()[0])')" >&2
  "$chosen" -m venv .venv
fi
stamp=.venv/.installed
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
  echo "$want" > "$stamp"
fi
