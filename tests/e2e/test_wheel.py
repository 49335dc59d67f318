"""A built wheel of condiff-core, installed in a fresh virtual environment, trains from another folder."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest


@pytest.mark.slow
def test_wheel_carries_configs_and_runs_quickstart_from_anywhere(
    tmp_path: Path, repo_root: Path, cache_dir: Path
) -> None:
    dist = tmp_path / "dist"
    packages = sorted(p for p in (repo_root / "packages").iterdir() if (p / "pyproject.toml").is_file())
    for package in packages:  # every package: each one's entry points must resolve from its wheel
        subprocess.run(
            [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(package)],
            check=True,
            capture_output=True,
            text=True,
        )
    (wheel,) = dist.glob("condiff_core-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "condiff/core/configs/train.yaml" in names
    assert "condiff/core/configs/experiment/quickstart.yaml" in names
    assert "condiff/core/configs/task/core/digits.yaml" in names
    assert "hydra_plugins/condiff_searchpath/condiff_searchpath.py" in names
    assert "condiff/__init__.py" not in names
    assert "condiff/core/configs/task/restoration/rddm_denoise.yaml" not in names  # each wheel its own slice
    wheels = sorted(dist.glob("*.whl"))
    assert len(wheels) == len(packages)
    if (repo_root / "packages" / "restoration").is_dir():
        (rest,) = dist.glob("condiff_restoration-*.whl")
        assert "condiff/restoration/configs/task/restoration/rddm_denoise.yaml" in zipfile.ZipFile(rest).namelist()

    # A fresh environment; its third-party dependencies come from this one (read-only, via a .pth
    # line, which does not run this environment's editable-install hooks), condiff from the wheel.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    site = Path(
        subprocess.check_output(
            [env_dir / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(env_dir / "bin" / "python"),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            *map(str, wheels),
        ],
        check=True,
        capture_output=True,
        text=True,
    )

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "CONDIFF_CACHE_DIR": str(cache_dir), "OMP_NUM_THREADS": "2", "WANDB_MODE": "offline"}
    where = subprocess.run(
        [
            env_dir / "bin" / "python",
            "-c",
            "import condiff.core.config_path as c; print(c.__file__); print(c.all_config_dirs())",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(site) in where, where
    assert str(repo_root / "configs") not in where, where
    proc = subprocess.run(
        [
            env_dir / "bin" / "condiff-train",
            "experiment=quickstart",
            "trainer.max_steps=20",
            "logger=csv",
            "trainer.enable_progress_bar=false",
            "trainer.check_val_every_n_epoch=1",
            "module.num_val_samples=20",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    run = elsewhere / "outputs" / "digits" / "quickstart"
    assert (run / "export" / "model.safetensors").is_file()
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert "val/accuracy" in (run / "csv" / "metrics.csv").read_text()
