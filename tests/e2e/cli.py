"""Run condiff's console scripts in a subprocess, as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def script(name: str) -> str:
    """Path of console script ``name`` in the running interpreter's environment."""
    found = Path(sys.executable).with_name(name)
    if found.exists():
        return str(found)
    which = shutil.which(name)
    if which is None:
        raise FileNotFoundError(f"console script {name} not installed next to {sys.executable}")
    return which


def run_cli(
    name: str, *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``name args...`` in ``cwd`` with 2 threads and offline wandb; return the finished process."""
    full_env = {**os.environ, "OMP_NUM_THREADS": "2", "WANDB_MODE": "offline", "WANDB_SILENT": "true", **(env or {})}
    proc = subprocess.run([script(name), *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{name} {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
        )
    return proc
