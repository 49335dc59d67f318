"""DICOM series (one file per slice) through pydicom: slices ordered along their normal, rescaled, with the
voxel-to-RAS affine that NIfTI writers use (DICOM's LPS patient axes with x and y negated)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from condiff.core.errors import DataValidationError
from condiff.medical.io.validate import validate_volume
from condiff.medical.io.volume import DICOM_SUFFIXES, Volume


def read_dicom(path: Path) -> Any:
    """``pydicom.dcmread(path)`` with its pixel data decoded, else :class:`DataValidationError` naming the file."""
    import pydicom

    try:
        ds = pydicom.dcmread(str(path))
        _ = ds.pixel_array
    except Exception as e:  # InvalidDicomError, truncated pixel data, missing transfer syntax...
        raise DataValidationError(f"{path}: not a readable DICOM image ({type(e).__name__}: {e})") from e
    return ds


def dicom_floats(ds: Any, key: str, path: Path, default: list[float]) -> list[float]:
    """A numeric (multi-)value of ``ds`` as floats, ``default`` when the attribute is absent."""
    value = getattr(ds, key, None)
    if value is None:
        return default
    try:
        return [float(v) for v in np.atleast_1d(np.asarray(value, dtype=np.float64))]
    except (TypeError, ValueError) as e:
        raise DataValidationError(f"{path}: DICOM attribute {key} = {value!r} is not numeric") from e


def load_dicom_series(path: str | os.PathLike[str], ndim: tuple[int, ...] = (2, 3)) -> Volume:
    """Read a DICOM series folder (or one file) into a :class:`Volume` ``(columns, rows, slices)``.

    Slices are sorted by the projection of ImagePositionPatient on the slice normal
    ``n = r x c`` (r, c: the row and column direction cosines of ImageOrientationPatient). Voxels are
    ``pixel * RescaleSlope + RescaleIntercept`` (Hounsfield units for CT). The affine maps
    ``(i, j, k) -> diag(-1, -1, 1) (P_0 + i dc r + j dr c + k s)`` with ``dr, dc`` PixelSpacing, ``P_0`` the first
    slice's position and ``s`` the step between slice positions (SliceThickness along ``n`` for one slice).
    """
    p = Path(path)
    files = sorted(f for f in p.iterdir() if f.suffix.lower() in DICOM_SUFFIXES) if p.is_dir() else [p]
    if not files:
        raise DataValidationError(f"{p}: no DICOM file (.dcm) in the folder")
    slices = [(f, read_dicom(f)) for f in files]
    f0, ds0 = slices[0]
    iop = dicom_floats(ds0, "ImageOrientationPatient", f0, [1, 0, 0, 0, 1, 0])
    r, c = np.array(iop[:3]), np.array(iop[3:])
    normal = np.cross(r, c)
    positions = {f: np.array(dicom_floats(ds, "ImagePositionPatient", f, [0, 0, 0])) for f, ds in slices}
    slices.sort(key=lambda fd: float(positions[fd[0]] @ normal))
    shape = None
    planes = []
    for f, ds in slices:
        arr = np.asarray(ds.pixel_array, dtype=np.float64)
        if arr.ndim != 2:
            raise DataValidationError(f"{f}: expected one 2-D slice per file, got pixel data of shape {arr.shape}")
        if shape is not None and arr.shape != shape:
            raise DataValidationError(f"{f}: slice size {arr.shape} differs from the series' {shape} ({f0})")
        shape = arr.shape
        slope = float(getattr(ds, "RescaleSlope", 1.0))
        intercept = float(getattr(ds, "RescaleIntercept", 0.0))
        planes.append((arr * slope + intercept).T)  # (rows, cols) -> (cols, rows): NIfTI's i runs along a row
    data = np.stack(planes, axis=-1)
    if data.shape[-1] == 1 and 2 in ndim and 3 not in ndim:
        data = data[..., 0]
    dr, dc = dicom_floats(ds0, "PixelSpacing", f0, [1.0, 1.0])[:2]
    first, last = positions[slices[0][0]], positions[slices[-1][0]]
    if len(slices) > 1:
        step = (last - first) / (len(slices) - 1)
        if not np.linalg.norm(step) > 0:
            raise DataValidationError(
                f"{p}: all {len(slices)} slices share ImagePositionPatient {first.tolist()}; cannot order the series"
            )
    else:
        step = normal * dicom_floats(ds0, "SliceThickness", f0, [1.0])[0]
    lps = np.eye(4)
    lps[:3, 0], lps[:3, 1], lps[:3, 2], lps[:3, 3] = r * dc, c * dr, step, first
    affine = np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps
    vol = validate_volume(data.astype(np.float32), str(p), ndim)
    spacing = (dc, dr, float(np.linalg.norm(step)))[: vol.ndim]
    return Volume(data=vol, affine=affine, spacing=spacing, source=str(p))
