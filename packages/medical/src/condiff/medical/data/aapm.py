"""Paired low-dose CT from the AAPM Low Dose CT Grand Challenge (Mayo Clinic, 2016) on disk.

Layout: one folder per patient (``L067/``, ``L096/``, ...) holding a quarter-dose and a full-dose DICOM series
reconstructed from the same scan, ``quarter_3mm/`` and ``full_3mm/`` (or ``quarter_1mm/`` and ``full_1mm/``);
the files (``.IMA`` or ``.dcm``) may sit directly in those folders or in sub-folders::

    aapm/train/L067/quarter_3mm/L067_QD_3_1.CT.0004.0001.2015.12.22.IMA ...
    aapm/train/L067/full_3mm/L067_FD_3_1.CT.0003.0001.2015.12.22.IMA ...

Slices are paired by position along the slice normal ``z = ImagePositionPatient . (r x c)`` (``r, c``: the
direction cosines of ImageOrientationPatient), else by SliceLocation, else by InstanceNumber: the first key
that every file of both series has. Voxels are ``pixel * RescaleSlope + RescaleIntercept`` (Hounsfield units)
and windowed to ``[0, 1]`` by one CT window for the whole data set (recorded in :class:`PairedSlices`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from condiff.core.errors import DataValidationError
from condiff.medical.data.intensity import IntensityWindow
from condiff.medical.io.dicom import dicom_floats, read_dicom
from condiff.medical.io.validate import validate_volume
from condiff.medical.io.volume import DICOM_SUFFIXES

DOSES = ("quarter", "full")
# Slice keys in order of preference; pairing uses the first that every file of both series carries.
POSITION_KEYS = ("ImagePositionPatient", "SliceLocation", "InstanceNumber")


@dataclass
class CTSlice:
    """One DICOM slice: its file, position key, pixels in HU ``(rows, columns)`` and in-plane geometry."""

    path: Path
    position: dict[str, float]
    hu: np.ndarray
    spacing: tuple[float, float]
    orientation: tuple[float, ...]


@dataclass
class PairedSlices:
    """Quarter-dose ``inputs`` and full-dose ``targets`` ``(N, 1, size, size)`` in ``[0, 1]``, the ``window``
    that mapped Hounsfield units to ``[0, 1]`` (``u = clip((HU - low) / (high - low), 0, 1)``), and per slice the
    ``(quarter, full)`` files it came from."""

    inputs: Tensor
    targets: Tensor
    window: IntensityWindow
    sources: list[tuple[Path, Path]] = field(default_factory=list)


def _dicom_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in DICOM_SUFFIXES)


def _position(ds: Any, path: Path) -> dict[str, float]:
    """The slice keys of :data:`POSITION_KEYS` that ``ds`` has (the position projected on the slice normal)."""
    out: dict[str, float] = {}
    if getattr(ds, "ImagePositionPatient", None) is not None:
        iop = dicom_floats(ds, "ImageOrientationPatient", path, [1, 0, 0, 0, 1, 0])
        normal = np.cross(iop[:3], iop[3:])
        out["ImagePositionPatient"] = float(np.dot(dicom_floats(ds, "ImagePositionPatient", path, [0, 0, 0]), normal))
    for key in POSITION_KEYS[1:]:
        if getattr(ds, key, None) is not None:
            out[key] = dicom_floats(ds, key, path, [0.0])[0]
    return out


def read_ct_slice(path: Path) -> CTSlice:
    """One CT slice in Hounsfield units, ``pixel * RescaleSlope + RescaleIntercept``, checked for NaN/inf."""
    ds = read_dicom(path)
    pixels = np.asarray(ds.pixel_array, dtype=np.float64)
    if pixels.ndim != 2:
        raise DataValidationError(f"{path}: expected one 2-D slice per file, got pixel data of shape {pixels.shape}")
    slope = dicom_floats(ds, "RescaleSlope", path, [1.0])[0]
    intercept = dicom_floats(ds, "RescaleIntercept", path, [0.0])[0]
    hu = validate_volume(pixels * slope + intercept, str(path), ndim=(2,))
    dr, dc = dicom_floats(ds, "PixelSpacing", path, [1.0, 1.0])[:2]
    orientation = tuple(dicom_floats(ds, "ImageOrientationPatient", path, [1, 0, 0, 0, 1, 0]))
    return CTSlice(path, _position(ds, path), hu, (dr, dc), orientation)


def _series_key(quarter: list[CTSlice], full: list[CTSlice], patient: Path) -> str:
    for key in POSITION_KEYS:
        if all(key in s.position for s in (*quarter, *full)):
            return key
    both = (*quarter, *full)
    bad = next((s for s in both if not s.position), None) or next(s for s in both if POSITION_KEYS[0] not in s.position)
    keys, has = ", ".join(POSITION_KEYS), ", ".join(bad.position) or "none"
    raise DataValidationError(f"{bad.path}: no slice position that every file of {patient} has ({keys}; this file "
                              f"has {has}); cannot pair the series")  # fmt: skip


def _by_position(series: list[CTSlice], key: str, tol: float) -> dict[float, CTSlice]:
    out: dict[float, CTSlice] = {}
    previous: CTSlice | None = None
    for s in sorted(series, key=lambda s: s.position[key]):
        z = s.position[key]
        if previous is not None and z - previous.position[key] <= tol:  # sorted: a clash is with the last one
            raise DataValidationError(f"{s.path}: same {key} ({z:g}) as {previous.path}; a series has one slice there")
        out[z], previous = s, s
    return out


def _check_geometry(q: CTSlice, f: CTSlice, tol: float = 1e-4) -> None:
    if q.hu.shape != f.hu.shape:
        raise DataValidationError(f"{q.path}: slice size {q.hu.shape} differs from its full-dose partner {f.path} "
                                  f"({f.hu.shape})")  # fmt: skip
    if not np.allclose(q.spacing, f.spacing, atol=tol):
        raise DataValidationError(f"{q.path}: PixelSpacing {list(q.spacing)} differs from its full-dose partner "
                                  f"{f.path} ({list(f.spacing)})")  # fmt: skip
    if not np.allclose(q.orientation, f.orientation, atol=tol):
        raise DataValidationError(f"{q.path}: ImageOrientationPatient {list(q.orientation)} differs from its "
                                  f"full-dose partner {f.path} ({list(f.orientation)})")  # fmt: skip


def pair_patient(
    patient: str | os.PathLike[str], thickness: str = "3mm", tol: float = 1e-2
) -> list[tuple[CTSlice, CTSlice]]:
    """The ``(quarter, full)`` slice pairs of one patient folder, ordered along the slice normal.

    Every quarter-dose slice needs a full-dose slice within ``tol`` (mm for positions) and vice versa, with the
    same size, PixelSpacing and ImageOrientationPatient; otherwise :class:`DataValidationError` names the file.
    """
    patient = Path(patient)
    for dose in DOSES:
        if not (patient / f"{dose}_{thickness}").is_dir():
            found = sorted(p.name for p in patient.iterdir() if p.is_dir()) if patient.is_dir() else []
            raise DataValidationError(f"{patient}: no {dose}_{thickness}/ folder (found: {found or 'nothing'})")
    series: dict[str, list[CTSlice]] = {}
    for dose in DOSES:
        folder = patient / f"{dose}_{thickness}"
        files = _dicom_files(folder)
        if not files:
            raise DataValidationError(f"{folder}: no DICOM file ({', '.join(DICOM_SUFFIXES)})")
        series[dose] = [read_ct_slice(p) for p in files]
    key = _series_key(series["quarter"], series["full"], patient)
    quarter, full = (_by_position(series[d], key, tol) for d in DOSES)
    pairs = []
    for z, q in quarter.items():
        f = next((s for zf, s in full.items() if abs(zf - z) <= tol), None)
        if f is None:
            raise DataValidationError(f"{q.path}: no full-dose slice at {key} {z:g} in {patient / f'full_{thickness}'}")
        _check_geometry(q, f)
        pairs.append((q, f))
    paired = {id(f) for _, f in pairs}
    extra = [s for s in full.values() if id(s) not in paired]
    if extra:
        raise DataValidationError(f"{extra[0].path}: no quarter-dose slice at {key} {extra[0].position[key]:g} in "
                                  f"{patient / f'quarter_{thickness}'} ({len(extra)} unpaired)")  # fmt: skip
    return pairs


def patient_folders(root: str | os.PathLike[str], thickness: str = "3mm") -> list[Path]:
    """Patient folders under ``root`` (those holding ``quarter_<thickness>/`` or ``full_<thickness>/``); ``root``
    itself when it is one."""
    root = Path(root)
    if not root.is_dir():
        raise DataValidationError(f"{root}: AAPM data folder not found")

    def is_patient(p: Path) -> bool:
        return any((p / f"{d}_{thickness}").is_dir() for d in DOSES)

    found = [root] if is_patient(root) else [p for p in sorted(root.iterdir()) if p.is_dir() and is_patient(p)]
    if not found:
        raise DataValidationError(f"{root}: no patient folder with quarter_{thickness}/ and full_{thickness}/ "
                                  f"(AAPM layout: {root}/L067/quarter_{thickness}/*.IMA)")  # fmt: skip
    return found


def _resize(planes: list[np.ndarray], size: int) -> Tensor:
    t = torch.from_numpy(np.stack(planes)).float()[:, None]
    return t if t.shape[-2:] == (size, size) else F.interpolate(t, size=(size, size), mode="area")


def aapm_pairs(root: str | os.PathLike[str], size: int, window: str = "soft_tissue", thickness: str = "3mm",
               tol: float = 1e-2) -> PairedSlices:  # fmt: skip
    """All paired slices of the patients under ``root``, windowed by the CT window ``window`` (HU) and resampled
    to ``size x size`` by area averaging (module docstring). Slices are ``(X, Y)``: the transposed DICOM pixel
    array, the orientation of :func:`~condiff.medical.io.load_dicom_series` and of NIfTI volumes."""
    win = IntensityWindow.ct(window)
    quarter: list[Tensor] = []
    full: list[Tensor] = []
    sources: list[tuple[Path, Path]] = []
    for patient in patient_folders(root, thickness):
        pairs = pair_patient(patient, thickness, tol)
        # (rows, columns) -> (X, Y), as load_dicom_series and NIfTI; resampled per patient to bound the memory.
        quarter.append(_resize([win.normalize(q.hu.T) for q, _ in pairs], size))
        full.append(_resize([win.normalize(f.hu.T) for _, f in pairs], size))
        sources += [(q.path, f.path) for q, f in pairs]
    return PairedSlices(torch.cat(quarter), torch.cat(full), win, sources)
