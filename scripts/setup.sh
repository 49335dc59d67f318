#!/usr/bin/env bash
# Create (once) and activate-able virtual environment for condiff, outside the clone.
#   source <(bash scripts/setup.sh --print-env)   or just: bash scripts/setup.sh
# The heavy part (torch and friends) is cached in $CONDIFF_VENV, keyed by a hash of
# constraints.txt and every package's pyproject.toml; re-running is a no-op apart from
# re-pointing the editable installs at this clone (a few seconds).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

python_bin="${CONDIFF_PYTHON:-}"
if [ -z "$python_bin" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      python_bin="$(command -v "$cand")"; break
    fi
  done
fi
[ -n "$python_bin" ] || { echo "error: condiff needs Python 3.11 (set CONDIFF_PYTHON)" >&2; exit 1; }

key="$(cat constraints.txt pyproject.toml packages/*/pyproject.toml | sha256sum | cut -c1-12)"
venv="${CONDIFF_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/condiff/venv-$key}"
stamp="$venv/.condiff-deps-$key"

if [ ! -f "$stamp" ]; then
  echo "[setup] creating $venv (first run: installs torch and friends, a few minutes)" >&2
  rm -rf "$venv"
  "$python_bin" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade "pip>=25.1"
  members=()
  for p in packages/*/; do members+=("-e" "$p"); done
  "$venv/bin/python" -m pip install -q -c constraints.txt "${members[@]}"
  "$venv/bin/python" -m pip install -q -c constraints.txt --group dev
  touch "$stamp"
else
  # Same dependencies: only point the editable installs at this clone.
  for p in packages/*/; do
    "$venv/bin/python" -m pip install -q --no-deps --no-build-isolation -e "$p"
  done
fi
echo "$venv"
