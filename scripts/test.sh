#!/usr/bin/env bash
# The whole test suite: lint, format check, type check, then pytest (README command 2).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
venv="$(bash scripts/setup.sh)"
export PATH="$venv/bin:$PATH"
echo "[test] ruff" >&2
ruff check .
ruff format --check .
echo "[test] mypy" >&2
mypy
echo "[test] pytest" >&2
exec python -m pytest "$@"
