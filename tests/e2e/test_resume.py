"""A training process killed with SIGKILL and resumed ends exactly where an uninterrupted run does."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import torch

from tests.e2e.cli import run_cli, script

STEPS = 9 * 40  # 40 epochs of the digits training split at batch size 128
ARGS = [
    "experiment=quickstart",
    f"trainer.max_steps={STEPS}",
    "logger=none",
    "trainer.enable_progress_bar=false",
    "threads=2",
    "export=false",
    "trainer.check_val_every_n_epoch=10",
    "module.num_val_samples=50",
]


def _load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def test_sigkill_then_resume_is_exact(tmp_path: Path, cache_dir: Path) -> None:
    env = {
        **os.environ,
        "CONDIFF_LOG_DIR": str(tmp_path / "outputs"),
        "CONDIFF_CACHE_DIR": str(cache_dir),
        "OMP_NUM_THREADS": "2",
    }
    run_cli("condiff-train", *ARGS, "run_name=straight", cwd=tmp_path, env=env)

    ckpt = tmp_path / "outputs" / "digits" / "killed" / "checkpoints" / "last.ckpt"
    proc = subprocess.Popen(
        [script("condiff-train"), *ARGS, "run_name=killed"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.kill()  # SIGKILL: no handler runs, the process dies wherever it is
    assert proc.wait() == -9, "the run finished before it could be killed"
    killed_at = _load(ckpt)["global_step"]
    assert 0 < killed_at < STEPS

    resumed = run_cli("condiff-train", *ARGS, "run_name=killed", cwd=tmp_path, env=env)
    assert "resuming from" in resumed.stdout + resumed.stderr

    a = _load(tmp_path / "outputs" / "digits" / "straight" / "checkpoints" / "last.ckpt")
    b = _load(ckpt)
    assert a["global_step"] == b["global_step"] == STEPS
    assert a["state_dict"].keys() == b["state_dict"].keys()
    assert any(k.startswith("ema_network.") for k in a["state_dict"])
    for k, v in a["state_dict"].items():
        assert torch.equal(v, b["state_dict"][k]), f"{k} differs after resume (killed at step {killed_at})"
    opt_a, opt_b = a["optimizer_states"][0]["state"], b["optimizer_states"][0]["state"]
    for i in opt_a:
        for name in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(opt_a[i][name], opt_b[i][name]), f"optimizer {name} of param {i} differs"
    assert a["lr_schedulers"] == b["lr_schedulers"]
