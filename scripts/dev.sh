#!/usr/bin/env bash
# One entry point for a fresh Linux machine with Python 3.11:
#   scripts/dev.sh app [ARGS]   create/reuse .venv, install what is missing, start the app
#   scripts/dev.sh test [ARGS]  the same set-up, then the whole test suite
#   scripts/dev.sh test --fast  the same, without the tests that start processes or train (marker "process")
# Idempotent: the install step runs again only when pyproject.toml has changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.mandible-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
  echo "$want" > "$stamp"
fi
cmd=${1:-app}; shift || true
case "$cmd" in
  app)  .venv/bin/python scripts/check_qt_libs.py  # names a missing system package instead of Qt's "xcb" error
        exec .venv/bin/python main.py "$@" ;;
  test) args=(); marker=()
        for arg in "$@"; do
          if [ "$arg" = "--fast" ]; then marker=(-m "not process"); else args+=("$arg"); fi
        done
        exec .venv/bin/python -m pytest ${marker[@]+"${marker[@]}"} ${args[@]+"${args[@]}"} ;;
  *)    echo "usage: scripts/dev.sh app [ARGS] | test [--fast] [ARGS]" >&2; exit 2 ;;
esac
