"""NIfTI volumes through nibabel, with the affine kept so that outputs map back to scanner space."""

from __future__ import annotations

import os
from pathlib import Path

import nibabel as nib
import numpy as np

from condiff.core.errors import DataValidationError
from condiff.medical.io.validate import validate_volume
from condiff.medical.io.volume import Volume

NIFTI_SUFFIXES = (".nii", ".nii.gz")


def load_nifti(path: str | os.PathLike[str], ndim: tuple[int, ...] = (2, 3)) -> Volume:
    """Read a NIfTI file into a :class:`Volume` (float32 voxels, the file's affine and voxel spacing).

    Raises :class:`DataValidationError` naming the file when it cannot be read (truncated, not NIfTI)
    or its voxels fail :func:`validate_volume`.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found")
    try:
        img = nib.load(str(path))
        raw = np.asarray(img.dataobj)  # type: ignore[attr-defined]
    except Exception as e:  # nibabel raises ImageFileError, gzip/zlib errors, EOFError, ValueError...
        raise DataValidationError(f"{path}: not a readable NIfTI file ({type(e).__name__}: {e})") from e
    data = validate_volume(raw, str(path), ndim)
    affine = np.asarray(img.affine, dtype=np.float64)  # type: ignore[attr-defined]
    spacing = tuple(float(z) for z in img.header.get_zooms()[: data.ndim])  # type: ignore[attr-defined]
    return Volume(data=data, affine=affine, spacing=spacing, source=str(path))


def save_nifti(
    data: np.ndarray,
    affine: np.ndarray,
    path: str | os.PathLike[str],
    dtype: type[np.generic] | np.dtype = np.float32,
) -> Path:
    """Write ``data`` with ``affine`` (4x4) to ``path`` (``.nii`` or ``.nii.gz``); returns the path."""
    path = Path(path)
    if not path.name.endswith(NIFTI_SUFFIXES):
        raise ValueError(f"save_nifti: {path} must end with .nii or .nii.gz")
    affine = np.asarray(affine, dtype=np.float64)
    if affine.shape != (4, 4):
        raise ValueError(f"save_nifti: affine must be 4x4, got {affine.shape}")
    path.parent.mkdir(parents=True, exist_ok=True)
    img = nib.Nifti1Image(np.asarray(data).astype(dtype), affine)
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    nib.save(img, str(path))
    return path
