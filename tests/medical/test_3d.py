"""3-D k-space undersampling (readout fully sampled, phase-encoding plane masked) and the 3-D k-space and
segmentation configs, each running training steps and validation on small volumes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from condiff.medical.data import KspaceUndersampling, MedicalDataModule
from condiff.medical.data.builtin import mni_patches_3d
from tests.medical.helpers import train_tiny

TINY_3D = ["task.datamodule.size=16", "task.datamodule.batch_size=2", "task.network.channels=[8,16]",
           "task.datamodule.val_items=4", "module.num_val_samples=4", "sampler.steps=5"]  # fmt: skip


@pytest.mark.parametrize("mask", ["equispaced", "random"])
def test_3d_kspace_keeps_the_readout_and_undersamples_the_phase_encoding_plane(mask: str) -> None:
    x = mni_patches_3d(16, 4, "heldout").images[0]  # (1, D, H, W); D is the readout axis
    deg = KspaceUndersampling(4, mask)
    kspace, m = deg.measure(x, torch.Generator().manual_seed(0))
    assert m.shape == (16, 16)
    draws = torch.stack([deg.sample_plane_mask(16, 16, torch.Generator().manual_seed(i)) for i in range(100)])
    assert float(draws.mean()) == pytest.approx(0.25, rel=0.15)  # 1 / acceleration of the (ky, kz) plane
    assert bool(m[0, 0])  # DC
    # Separable: the outer product of two column masks, each with its fully sampled centre (0.16 x 16 -> 3 lines).
    rows, cols = m.any(1).float(), m.any(0).float()
    torch.testing.assert_close(m, rows[:, None] * cols[None, :])
    assert bool(torch.fft.fftshift(rows)[7:10].all())
    assert bool(torch.fft.fftshift(cols)[7:10].all())
    # Every readout line (all kx) of a sampled (ky, kz) is kept, every other line is zero.
    full = torch.fft.fftn(x.double(), dim=(-3, -2, -1), norm="ortho")
    torch.testing.assert_close(kspace[..., m.bool()], full[..., m.bool()])
    assert float(kspace[..., ~m.bool()].abs().max()) == 0.0
    zero_filled = deg(x, torch.Generator().manual_seed(0))
    torch.testing.assert_close(zero_filled, torch.fft.ifftn(kspace, dim=(-3, -2, -1), norm="ortho").abs().float())
    assert float((zero_filled - x).abs().mean()) > 0.01  # aliasing: the zero-filled volume is not the volume


def test_3d_kspace_config_trains_on_small_volumes(tmp_path: Path) -> None:
    result = train_tiny(tmp_path, "mri_kspace_3d", 3, *TINY_3D)
    m = result["metrics"]
    assert result["cfg"].task.network.spatial_dims == 3
    assert np.isfinite(m["val/psnr"])
    assert 10 < m["val/input_psnr"] < 35  # the zero-filled volumes against the held-out volumes


def test_3d_segmentation_config_trains_on_small_volumes(tmp_path: Path) -> None:
    dm = MedicalDataModule("segment", "mni3d", None, size=16, batch_size=2, train_length=2, val_items=2)
    batch = next(iter(dm.train_dataloader()))
    assert batch["x0"].shape == batch["cond"]["cond_image"].shape == (2, 1, 16, 16, 16)
    assert set(batch["x0"].unique().tolist()) == {-1.0, 1.0}  # white matter and the rest in every patch pair
    result = train_tiny(tmp_path, "segmentation_3d", 3, *TINY_3D)
    m = result["metrics"]
    assert 0 <= m["val/dice"] <= 1
    assert 0.3 < m["val/otsu_dice"] <= 1  # Otsu's baseline on the held-out volumes
