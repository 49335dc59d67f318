"""Restoration data: deterministic degradations, held-out photographs, paired folders with clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from condiff.core.errors import DataValidationError
from condiff.restoration.data import (
    PairedFolderDataset,
    RestorationDataModule,
    make_degradation,
    validate_paired_folder,
)
from condiff.restoration.data.images import HELDOUT_IMAGES, TRAIN_IMAGES, load_builtin_image, read_image
from condiff.restoration.metrics import psnr

torch.set_num_threads(1)
NAMES = ["denoise", "deblur", "sr2", "sr4", "jpeg", "inpaint", "derain", "lowlight"]


@pytest.mark.parametrize("name", NAMES)
def test_degradations_are_deterministic_same_size_and_degrade(name: str) -> None:
    x = load_builtin_image("astronaut")[:, :64, :64]
    deg = make_degradation(name)
    a = deg(x, torch.Generator().manual_seed(1))
    b = deg(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape
    assert torch.equal(a, b)
    quality = psnr(a.clamp(0, 1)[None], x[None]).item()
    assert 5 < quality < 40, quality  # visibly degraded, still an image
    with pytest.raises(ValueError, match="unknown degradation"):
        make_degradation("nope")


def test_gaussian_noise_has_the_stated_sigma() -> None:
    x = torch.full((3, 128, 128), 0.5)
    n = make_degradation("denoise", sigma=25 / 255)(x, torch.Generator().manual_seed(0)) - x
    assert n.std().item() == pytest.approx(25 / 255, rel=0.02)


def test_builtin_split_is_disjoint_and_loads_offline() -> None:
    assert not set(TRAIN_IMAGES) & set(HELDOUT_IMAGES)
    dm = RestorationDataModule("denoise", crop=32, batch_size=4, train_length=8, val_items=6)
    batch = next(iter(dm.train_dataloader()))
    assert batch["x0"].shape == (4, 3, 32, 32)
    assert batch["x0"].min() >= -1
    assert torch.equal(batch["y"], batch["cond"]["cond_image"])
    ref = list(dm.sampling_batches(6, 4))
    assert [r["reference"].shape[0] for r in ref] == [4, 2]
    again = list(dm.sampling_batches(6, 4))
    assert torch.equal(ref[0]["y"], again[0]["y"])  # held-out degradations are fixed


def _write(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def test_paired_folder_validator_names_every_problem(tmp_path: Path) -> None:
    rgb = (np.random.default_rng(0).random((16, 16, 3)) * 255).astype(np.uint8)
    _write(tmp_path / "lq" / "a.png", rgb)
    _write(tmp_path / "gt" / "a.png", rgb)
    _write(tmp_path / "lq" / "only_lq.png", rgb)
    _write(tmp_path / "gt" / "only_gt.png", rgb)
    _write(tmp_path / "lq" / "size.png", rgb)
    _write(tmp_path / "gt" / "size.png", rgb[:8])
    with pytest.raises(DataValidationError) as err:
        validate_paired_folder(tmp_path)
    msg = str(err.value)
    assert "only_lq.png: no ground truth" in msg
    assert "only_gt.png: no degraded input" in msg
    assert "size.png: size 16x16 differs" in msg
    for f in ("only_lq", "only_gt"):
        next(tmp_path.rglob(f"{f}.png")).unlink()
    (tmp_path / "gt" / "size.png").unlink()
    (tmp_path / "lq" / "size.png").unlink()
    lq, gt = PairedFolderDataset(tmp_path)[0]
    assert lq.shape == gt.shape == (3, 16, 16)


def test_unreadable_and_grayscale_images_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(DataValidationError, match=r"broken\.png: unreadable or corrupt image"):
        read_image(bad)
    gray = tmp_path / "gray.png"
    _write(gray, np.zeros((8, 8), dtype=np.uint8))
    with pytest.raises(DataValidationError, match=r"gray\.png: grayscale image, but the model expects 3 channels"):
        read_image(gray, channels=3)
    assert read_image(gray, channels=1).shape == (1, 8, 8)
