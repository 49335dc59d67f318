"""Tiled restoration of a user's folder: exact tiling/blending, written files, metrics CSV, CLI."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig
from PIL import Image

from condiff.core.cli.sample import generate_from_export
from condiff.core.config_path import core_config_dir
from condiff.core.errors import ConfigError, DataValidationError
from condiff.core.export import exported_process_constants
from condiff.core.processes import MeanRevertingProcess
from condiff.restoration.data.images import read_image
from condiff.restoration.inference import FolderRestorer, blend_window, tile_origins
from tests.e2e.cli import run_cli

torch.set_num_threads(2)


class _ReturnsCondition(torch.nn.Module):
    """An x0-predicting 'network' that returns its condition: the restoration must reproduce the input."""

    def forward(self, x, t, cond_image=None, **_):
        return cond_image


def _write(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def test_tiles_cover_the_image_and_weights_never_vanish() -> None:
    assert tile_origins(100, 32, 8) == [0, 24, 48, 68]
    assert tile_origins(20, 32, 8) == [0]
    w = blend_window(32, 8)
    assert w.min() > 0
    assert w.max() == 1


def test_tiled_restoration_is_exact_for_an_identity_model(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    _write(tmp_path / "in" / "a.png", (rng.random((45, 70, 3)) * 255).astype(np.uint8))  # not a tile multiple
    _write(tmp_path / "in" / "b.png", (rng.random((20, 17, 3)) * 255).astype(np.uint8))  # smaller than a tile
    _write(tmp_path / "gt" / "a.png", (rng.random((45, 70, 3)) * 255).astype(np.uint8))
    _write(tmp_path / "gt" / "b.png", (rng.random((20, 17, 3)) * 255).astype(np.uint8))
    restorer = FolderRestorer(tile=32, overlap=8, batch_size=3)
    net, process = _ReturnsCondition(), MeanRevertingProcess()
    out = restorer(net, process, "x0", tmp_path / "in", tmp_path / "out", tmp_path / "gt",
                   sampler={"method": "ddim", "steps": 4})  # fmt: skip
    assert out["restored"] == 2
    for name in ("a", "b"):
        restored = read_image(tmp_path / "out" / f"{name}.png")
        original = read_image(tmp_path / "in" / f"{name}.png")
        assert restored.shape == original.shape
        # DDIM with x0_hat = y and the process drifting to y lands on y, tile by tile, blended exactly.
        assert (restored - original).abs().max().item() <= 1.5 / 255
    with open(tmp_path / "out" / "metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["image"] for r in rows] == ["a.png", "b.png", "mean"]
    assert {"psnr_rgb", "psnr_y", "ssim_rgb", "ssim_y", "mae"} <= set(rows[0])
    with pytest.raises(DataValidationError, match="ground truth folder not found"):
        restorer(_ReturnsCondition(), MeanRevertingProcess(), "x0", tmp_path / "in", tmp_path / "o2", tmp_path / "nope")
    (tmp_path / "gt" / "b.png").unlink()
    with pytest.raises(DataValidationError, match=r"no ground truth for .*b\.png"):
        restorer(_ReturnsCondition(), MeanRevertingProcess(), "x0", tmp_path / "in", tmp_path / "o3", tmp_path / "gt")


@pytest.fixture(scope="module")
def rddm_export(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[Path, dict[str, str]]:
    """An RDDM export after two training steps through ``condiff-train`` (weights barely matter here)."""
    tmp = tmp_path_factory.mktemp("rddm_export")
    env = {"CONDIFF_LOG_DIR": str(tmp / "outputs"), "CONDIFF_CACHE_DIR": str(cache_dir)}
    run_cli("condiff-train", "experiment=restoration/rddm_denoise", "trainer.max_steps=2", "logger=none",
            "trainer.enable_progress_bar=false", "task.datamodule.crop=32", "+task.datamodule.train_length=16",
            "+task.datamodule.val_items=2", "module.num_val_samples=2", "task.network.backbone.base_channels=8",
            "task.network.backbone.channel_mults=[1,2]", cwd=tmp, env=env)  # fmt: skip
    return tmp / "outputs" / "rddm_denoise" / "rddm_denoise" / "export", env


def test_condiff_sample_restores_a_folder(tmp_path: Path, rddm_export: tuple[Path, dict[str, str]]) -> None:
    export, env = rddm_export
    rng = np.random.default_rng(1)
    _write(tmp_path / "mine" / "photo.png", (rng.random((40, 56, 3)) * 255).astype(np.uint8))
    _write(tmp_path / "mine_gt" / "photo.png", (rng.random((40, 56, 3)) * 255).astype(np.uint8))
    proc = run_cli("condiff-sample", f"export_dir={export}", f"input_dir={tmp_path / 'mine'}",
                   f"gt_dir={tmp_path / 'mine_gt'}", f"out_dir={tmp_path / 'restored'}", "sampler=ddim",
                   "sampler.steps=3", "sampler.schedule=uniform", cwd=tmp_path, env=env)  # fmt: skip
    assert "restored:        1 images" in proc.stdout
    assert read_image(tmp_path / "restored" / "photo.png").shape == (3, 40, 56)
    assert (tmp_path / "restored" / "metrics.csv").is_file()


def _sample_cfg(export: Path, out: Path, *overrides: str) -> DictConfig:
    with initialize_config_dir(config_dir=str(core_config_dir()), version_base="1.3"):
        return compose("sample", overrides=[f"export_dir={export}", f"out_dir={out}", "num_samples=2",
                                            "batch_size=2", "sampler=ddim", "sampler.steps=2", *overrides])  # fmt: skip


def test_a_sampling_config_cannot_disagree_with_the_trained_process(
    tmp_path: Path, rddm_export: tuple[Path, dict[str, str]]
) -> None:
    """The export stores the process constants; every disagreeing override is an error naming the key."""
    export, _ = rddm_export
    stored = exported_process_constants(export)
    assert stored is not None
    assert stored["class"] == "ResidualProcess"
    assert stored["sum_scale"] == 1.0
    generate_from_export(_sample_cfg(export, tmp_path / "ok", "+sde.sum_scale=1.0"))  # agreeing: fine
    cases = [
        ("+sde.sum_scale=0.5", r"'sde'.*sde\.sum_scale=0\.5 \(trained: 1\.0\)"),
        ("+sde.alpha_schedule=average", r"sde\.alpha_schedule='average' \(trained: 'decreased'\)"),
        ("+sampler.sum_scale=0.5", r"'sampler\.sum_scale' = 0\.5 disagrees"),
        ("+sampling_path.alpha_schedule=average", "conditioned on t"),
    ]
    for override, match in cases:
        with pytest.raises(ConfigError, match=match):
            generate_from_export(_sample_cfg(export, tmp_path / "bad", override))
    # An edited config.yaml no longer matches the constants stored with the weights.
    copy = tmp_path / "edited"
    shutil.copytree(export, copy)
    cfg_file = copy / "config.yaml"
    cfg_file.write_text(cfg_file.read_text().replace("sum_scale: 1.0", "sum_scale: 0.25"))
    with pytest.raises(ConfigError, match=r"model\.safetensors"):
        generate_from_export(_sample_cfg(copy, tmp_path / "bad2"))
