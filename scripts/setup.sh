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

# System packages: espeak-ng synthesizes condiff-speech's built-in data (Debian; needs root or sudo).
if ! command -v espeak-ng >/dev/null; then
  echo "[setup] installing espeak-ng (condiff-speech built-in data)" >&2
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq espeak-ng; } >&2 \
    || echo "[setup] warning: could not install espeak-ng; condiff-speech's built-in data will not generate" >&2
fi

# The key covers what decides the installed set: the pins, every package's pyproject.toml and the
# root's dev dependency group (not its pytest/ruff settings).
dev_group="$("$python_bin" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["dependency-groups"])')"
key="$( (cat constraints.txt packages/*/pyproject.toml; echo "$dev_group") | sha256sum | cut -c1-12)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/condiff"
venv="${CONDIFF_VENV:-$cache/venv-$key}"
stamp="$venv/.condiff-deps-$key"

if [ ! -f "$stamp" ]; then
  echo "[setup] creating $venv (first run: installs torch and friends, a few minutes)" >&2
  rm -rf "$venv"
  if [ -z "${CONDIFF_VENV:-}" ]; then
    # Environments of older dependency sets are 5-6 GB each: keep only the one being built.
    find "$cache" -maxdepth 1 -name 'venv-*' -type d ! -name "venv-$key" -exec rm -rf {} + 2>/dev/null || true
  fi
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
