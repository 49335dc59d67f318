"""A loaded volume (voxels, affine, spacing, source) and finding the volumes of a folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from condiff.core.errors import DataValidationError

DICOM_SUFFIXES = (".dcm", ".ima")


@dataclass
class Volume:
    """Voxels ``data: (X, Y[, Z])`` float32 in the NIfTI index convention, with the voxel-to-RAS ``affine``
    (4x4, millimetres), the voxel ``spacing`` and the ``source`` file or folder it came from."""

    data: np.ndarray
    affine: np.ndarray
    spacing: tuple[float, ...]
    source: str


def volume_stem(path: str | os.PathLike[str]) -> str:
    """File name without ``.nii``/``.nii.gz``/``.dcm`` (a DICOM series folder keeps its name)."""
    name = Path(path).name
    for suffix in (".nii.gz", ".nii", *DICOM_SUFFIXES):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _is_dicom_folder(path: Path) -> bool:
    return path.is_dir() and any(p.suffix.lower() in DICOM_SUFFIXES for p in path.iterdir())


def list_volumes(folder: str | os.PathLike[str]) -> list[Path]:
    """NIfTI files and DICOM series (sub-folders of ``.dcm`` files) in ``folder``, sorted by name.

    A folder that itself holds ``.dcm`` files is one series. Raises :class:`DataValidationError` naming
    the folder when it is missing or holds no volume.
    """
    src = Path(folder)
    if not src.is_dir():
        raise DataValidationError(f"{src}: input folder not found")
    if any(p.suffix.lower() in DICOM_SUFFIXES for p in src.iterdir()):
        return [src]
    found = [p for p in sorted(src.iterdir()) if p.name.lower().endswith((".nii", ".nii.gz")) or _is_dicom_folder(p)]
    if not found:
        raise DataValidationError(f"{src}: no NIfTI file (.nii, .nii.gz) or DICOM series folder (.dcm files)")
    return found


def load_volume(path: str | os.PathLike[str], ndim: tuple[int, ...] = (2, 3)) -> Volume:
    """A NIfTI file or a DICOM series folder (or one ``.dcm`` file) as a :class:`Volume`."""
    from condiff.medical.io.dicom import load_dicom_series
    from condiff.medical.io.nifti import load_nifti

    p = Path(path)
    if p.is_dir() or p.suffix.lower() in DICOM_SUFFIXES:
        return load_dicom_series(p, ndim)
    return load_nifti(p, ndim)
