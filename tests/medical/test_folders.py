"""Training data from your own volumes: NIfTI, DICOM series and fastMRI HDF5 folders, with masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from condiff.core.errors import DataValidationError
from condiff.medical.data import IntensityWindow, MedicalDataModule
from condiff.medical.data.builtin import mni_slices
from condiff.medical.data.folders import folder_slices
from condiff.medical.io import save_nifti
from tests.medical.helpers import write_dicom_series


def _brain(split: str, n: int = 4, scale: float = 700.0) -> tuple[np.ndarray, np.ndarray]:
    s = mni_slices(32, split)
    assert s.labels is not None
    return (s.images[:n, 0].permute(1, 2, 0) * scale).numpy(), s.labels[:n, 0].permute(1, 2, 0).numpy()


def test_nifti_and_dicom_folders_with_masks_train_a_segmentation_datamodule(tmp_path: Path) -> None:
    img, mask = _brain("train")
    save_nifti(img, np.eye(4), tmp_path / "train" / "images" / "a.nii.gz")
    save_nifti(mask, np.eye(4), tmp_path / "train" / "labels" / "a.nii.gz", np.uint8)
    write_dicom_series(tmp_path / "train" / "images" / "b", img)
    save_nifti(mask, np.eye(4), tmp_path / "train" / "labels" / "b.nii.gz", np.uint8)
    vimg, vmask = _brain("heldout", 3)
    save_nifti(
        vimg,
        np.eye(4),
        tmp_path / "val" / "images" / "c.nii",
    )
    save_nifti(vmask, np.eye(4), tmp_path / "val" / "labels" / "c.nii.gz", np.uint8)
    dm = MedicalDataModule("segment", "folder", None, size=16, batch_size=4, train_length=8, val_items=3,
                           train_dir=str(tmp_path / "train"), val_dir=str(tmp_path / "val"))  # fmt: skip
    batch = next(iter(dm.train_dataloader()))
    assert batch["x0"].shape == (4, 1, 16, 16)
    assert batch["cond"]["cond_image"].shape == (4, 1, 16, 16)
    held = next(dm.sampling_batches(3, 3))
    assert held["reference"].shape == (3, 1, 16, 16)
    train = folder_slices(tmp_path / "train", 16, labels=True)
    assert train.images.shape == (8, 1, 16, 16)  # 4 slices from the NIfTI file, 4 from the DICOM series
    assert train.labels is not None
    torch.testing.assert_close(train.images[:4], train.images[4:], atol=2e-3, rtol=0)  # same volume, two formats
    save_nifti(mask[:, :, 2:], np.eye(4), tmp_path / "train" / "labels" / "a.nii.gz", np.uint8)
    with pytest.raises(DataValidationError, match=r"a\.nii\.gz: mask shape \(32, 32, 2\) differs"):
        folder_slices(tmp_path / "train", 16, labels=True)


def test_fastmri_files_give_windowed_slices(tmp_path: Path) -> None:
    h5py = pytest.importorskip("h5py")  # the `fastmri` extra (installed in the workspace by condiff-rl)

    img, _ = _brain("train", 3, scale=3e-4)  # fastMRI magnitudes are tiny numbers
    with h5py.File(tmp_path / "file1000.h5", "w") as f:
        f["reconstruction_rss"] = img.transpose(2, 0, 1).astype(np.float32)
        f["kspace"] = np.zeros((3, 32, 32), np.complex64)
        f.attrs["acquisition"] = "AXT1"
    s = folder_slices(tmp_path, 32)
    assert s.images.shape == (3, 1, 32, 32)
    assert float(s.images.max()) == 1.0
    expected = IntensityWindow.from_percentiles(img, 0.5, 99.5).normalize(img)  # per-volume window, same size
    torch.testing.assert_close(s.images[:, 0], torch.from_numpy(expected).permute(2, 0, 1))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "file2.h5").write_bytes(b"not hdf5")
    with pytest.raises(DataValidationError, match=r"file2\.h5: not a readable fastMRI HDF5 file"):
        folder_slices(tmp_path / "bad", 32)
