"""trainer=ddp_cpu: two gloo processes train and end with identical weights."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file


def test_two_process_ddp_ends_with_identical_weights(tmp_path: Path, cache_dir: Path) -> None:
    script = Path(__file__).with_name("ddp_train_script.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "offline"}
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path), str(cache_dir)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    r0, r1 = tmp_path / "rank0.safetensors", tmp_path / "rank1.safetensors"
    assert r0.is_file(), proc.stdout[-2000:]
    assert r1.is_file(), proc.stdout[-2000:]
    with safe_open(str(r0), "pt") as f:
        meta = f.metadata()
    assert meta["world_size"] == "2"
    assert meta["step"] == "12"
    w0, w1 = load_file(str(r0)), load_file(str(r1))
    assert w0.keys() == w1.keys()
    for k in w0:
        assert torch.equal(w0[k], w1[k]), f"{k} differs between ranks"
