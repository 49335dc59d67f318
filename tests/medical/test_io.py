"""NIfTI and DICOM I/O keep geometry and values; bad files give errors naming the file and the problem."""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from condiff.core.errors import DataValidationError
from condiff.medical.data.intensity import IntensityWindow
from condiff.medical.io import list_volumes, load_dicom_series, load_nifti, load_volume, save_nifti, validate_mask
from tests.medical.helpers import write_dicom_series

AFFINE = np.array([[0.0, -0.9, 0.1, 12.0], [0.9, 0.0, 0.0, -30.5], [0.0, 0.05, 2.5, 7.0], [0, 0, 0, 1]])


def test_nifti_round_trip_keeps_affine_shape_and_values(tmp_path: Path) -> None:
    data = np.random.default_rng(0).random((7, 5, 3)).astype(np.float32)
    path = save_nifti(data, AFFINE, tmp_path / "v.nii.gz")
    vol = load_nifti(path)
    np.testing.assert_array_equal(vol.data, data)
    np.testing.assert_allclose(vol.affine, AFFINE)
    np.testing.assert_allclose(vol.spacing, np.sqrt((AFFINE[:3, :3] ** 2).sum(0)), rtol=1e-6)
    assert nib.load(str(path)).header.get_sform(coded=True)[1] == 1  # scanner-anatomical, as written


def test_dicom_series_is_ordered_rescaled_and_placed(tmp_path: Path) -> None:
    vol = np.random.default_rng(1).integers(0, 500, (6, 4, 5)).astype(np.float32) * 2 - 100
    write_dicom_series(tmp_path / "s", vol, spacing=(0.8, 0.7, 3.0), origin=(-10.0, 20.0, 5.0), slope=2.0,
                       intercept=-100.0, shuffle=True)  # fmt: skip
    loaded = load_dicom_series(tmp_path / "s")
    np.testing.assert_array_equal(loaded.data, vol)  # slices sorted by position, not by file name
    expected = np.array([[-0.8, 0, 0, 10.0], [0, -0.7, 0, -20.0], [0, 0, 3.0, 5.0], [0, 0, 0, 1]])  # LPS -> RAS
    np.testing.assert_allclose(loaded.affine, expected)
    assert loaded.spacing == pytest.approx((0.8, 0.7, 3.0))
    assert list_volumes(tmp_path) == [tmp_path / "s"]
    assert load_volume(tmp_path / "s").data.shape == (6, 4, 5)


def test_corrupt_and_invalid_files_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "truncated.nii.gz"
    good = gzip.compress(nib.Nifti1Image(np.zeros((4, 4, 4), np.float32), np.eye(4)).to_bytes())
    bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataValidationError, match=r"truncated\.nii\.gz: not a readable NIfTI"):
        load_nifti(bad)
    (tmp_path / "text.nii").write_text("not an image")
    with pytest.raises(DataValidationError, match=r"text\.nii: not a readable NIfTI"):
        load_nifti(tmp_path / "text.nii")
    save_nifti(np.zeros((3, 3, 3, 2), np.float32), np.eye(4), tmp_path / "four_d.nii.gz")
    with pytest.raises(
        DataValidationError, match=r"four_d\.nii\.gz: expected a 2-D or 3-D image, got shape \(3, 3, 3, 2\)"
    ):
        load_nifti(tmp_path / "four_d.nii.gz")
    nan = np.ones((4, 4, 2), np.float32)
    nan[1, 2, 1] = np.nan
    save_nifti(nan, np.eye(4), tmp_path / "nan.nii.gz")
    with pytest.raises(
        DataValidationError, match=r"nan\.nii\.gz: 1 NaN or infinite voxel\(s\) \(first at index \(1, 2, 1\)\)"
    ):
        load_nifti(tmp_path / "nan.nii.gz")
    (tmp_path / "series").mkdir()
    (tmp_path / "series" / "broken.dcm").write_bytes(b"\x00" * 200)
    with pytest.raises(DataValidationError, match=r"broken\.dcm: not a readable DICOM image"):
        load_volume(tmp_path / "series")
    with pytest.raises(DataValidationError, match="empty mask"):
        validate_mask(np.zeros((4, 4)), "labels/a.nii.gz")
    with pytest.raises(DataValidationError, match=r"labels/b\.nii\.gz: a mask must hold only 0 and 1"):
        validate_mask(np.array([[0, 1], [2, 0]]), "labels/b.nii.gz")
    with pytest.raises(DataValidationError, match="no NIfTI file"):
        list_volumes(_empty(tmp_path))


def _empty(tmp_path: Path) -> Path:
    (tmp_path / "empty").mkdir(exist_ok=True)
    (tmp_path / "empty" / "notes.txt").write_text("x")
    return tmp_path / "empty"


def test_intensity_window_is_recorded_and_inverts() -> None:
    data = np.linspace(-1000, 3000, 1001).astype(np.float32)
    w = IntensityWindow.from_percentiles(data, 1, 99)
    u = w.normalize(data)
    assert u.min() == 0
    assert u.max() == 1
    inside = (data >= w.low) & (data <= w.high)
    np.testing.assert_allclose(w.denormalize(u)[inside], data[inside], rtol=1e-5, atol=1e-2)
    assert IntensityWindow.ct("soft_tissue") == IntensityWindow(-160.0, 240.0)
    with pytest.raises(DataValidationError, match=r"scan\.nii: constant intensities"):
        IntensityWindow.from_percentiles(np.ones(10), source="scan.nii")
