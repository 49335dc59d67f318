"""Segmentation as conditional generation, trained briefly: the ensemble beats Otsu thresholding on held-out
slices, its probabilities are better calibrated than one sample's, its std map points at its errors, and
``condiff-sample``'s folder processor writes masks and uncertainty maps with the input's geometry."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from condiff.core.errors import DataValidationError
from condiff.medical.data.builtin import mni_slices
from condiff.medical.inference import VolumeProcessor
from condiff.medical.io import load_nifti, save_nifti
from condiff.medical.metrics import dice, expected_calibration_error, hd95, uncertainty_error_correlation
from condiff.medical.segmentation import ensemble_segment, otsu_segment
from tests.medical.helpers import train_tiny


@pytest.fixture(scope="module")
def segmenter(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # The tests measure the ensemble themselves: no validation sampling at the end of training.
    return train_tiny(tmp_path_factory.mktemp("segmentation"), "segmentation", 100, "~task.evaluator")


@pytest.fixture(scope="module")
def ensemble(segmenter: dict[str, Any]) -> tuple[Any, torch.Tensor, torch.Tensor]:
    held = mni_slices(32, "heldout")
    assert held.labels is not None
    keep = held.labels.flatten(1).any(1)  # slices with white matter
    images, labels = held.images[keep], held.labels[keep]
    module = segmenter["module"]
    ens = ensemble_segment(module.ema_network.eval(), module.process, module.parameterization, images, members=8,
                           generator=torch.Generator().manual_seed(0), steps=10, method="ddim")  # fmt: skip
    return ens, images, labels


@pytest.mark.slow
def test_ensemble_beats_otsu_thresholding(ensemble: tuple[Any, torch.Tensor, torch.Tensor]) -> None:
    ens, images, labels = ensemble
    ours, otsu = dice(ens.mask, labels).mean(), dice(otsu_segment(images), labels).mean()
    # Observed after 100 steps: ensemble Dice 0.75 vs Otsu 0.46, HD95 2.5 vs 5.6 pixels on these held-out slices.
    assert ours > otsu + 0.15, (ours, otsu)
    h_ours, h_otsu = hd95(ens.mask, labels), hd95(otsu_segment(images), labels)
    assert np.nanmean(h_ours.numpy()) < np.nanmean(h_otsu.numpy())


@pytest.mark.slow
def test_ensemble_uncertainty_is_calibrated_and_points_at_errors(
    ensemble: tuple[Any, torch.Tensor, torch.Tensor],
) -> None:
    """Observed: ECE 0.023 (ensemble of 8) vs 0.056 (one sample), corr(std, |error|) 0.72."""
    ens, _, labels = ensemble
    single = (ens.samples[0] > 0.5).float()  # one sample, as 0/1 probabilities
    ece_ensemble = expected_calibration_error(ens.probability, labels).mean()
    ece_single = expected_calibration_error(single, labels).mean()
    assert ece_ensemble < ece_single, (ece_ensemble, ece_single)
    corr = uncertainty_error_correlation(ens.std, ens.probability, labels)
    assert corr > 0.2, corr


@pytest.mark.slow
def test_folder_segmentation_writes_masks_and_uncertainty_with_the_input_geometry(
    tmp_path: Path, segmenter: dict[str, Any]
) -> None:
    held = mni_slices(32, "heldout")
    assert held.labels is not None
    vol = (held.images[12:16, 0].permute(1, 2, 0) * 800).numpy()
    mask = held.labels[12:16, 0].permute(1, 2, 0).numpy()
    affine = np.diag([0.9, 0.9, 5.0, 1.0])
    affine[:3, 3] = [-10, 20, 30]
    save_nifti(vol, affine, tmp_path / "in" / "s1.nii.gz")
    save_nifti(mask, affine, tmp_path / "gt" / "s1.nii.gz", np.uint8)
    module = segmenter["module"]
    proc = VolumeProcessor(output="mask", members=2, multiple=2)
    g = torch.Generator().manual_seed(0)
    result = proc(module.ema_network, module.process, module.parameterization, tmp_path / "in", tmp_path / "out",
                  tmp_path / "gt", sampler={"method": "ddim", "steps": 5}, generator=g)  # fmt: skip
    out, std = load_nifti(tmp_path / "out" / "s1.nii.gz"), load_nifti(tmp_path / "out" / "s1_std.nii.gz")
    for v in (out, std):
        assert v.data.shape == vol.shape
        np.testing.assert_allclose(v.affine, affine, atol=1e-6)
    assert set(np.unique(out.data)) <= {0.0, 1.0}
    with open(tmp_path / "out" / "metrics.csv") as fh:
        rows = {r["volume"]: r for r in csv.DictReader(fh)}
    assert float(rows["s1"]["dice"]) == pytest.approx(result["metrics"]["dice"], abs=1e-4)
    assert result["metrics"]["dice"] > 0.5
    save_nifti(np.zeros_like(mask), affine, tmp_path / "gt" / "s1.nii.gz", np.uint8)
    with pytest.raises(DataValidationError, match=r"s1\.nii\.gz: empty mask"):
        proc(module.ema_network, module.process, module.parameterization, tmp_path / "in", tmp_path / "out2",
             tmp_path / "gt", sampler={"method": "ddim", "steps": 2})  # fmt: skip
