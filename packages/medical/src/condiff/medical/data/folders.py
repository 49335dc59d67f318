"""Slices of your own volumes for training and validation: NIfTI files, DICOM series, fastMRI HDF5 files.

A data folder holds the volumes (directly, or under ``images/``) and, for segmentation, ``labels/`` with a
mask of the same name and shape per volume. Each volume is windowed to ``[0, 1]`` (its own percentiles for
MRI, a named CT window in Hounsfield units for CT), cut into axial slices (the last axis; fastMRI files store
slices first) and resampled to ``size x size`` by area averaging.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from condiff.core.errors import DataValidationError
from condiff.medical.data.builtin import SliceSet
from condiff.medical.data.intensity import IntensityWindow
from condiff.medical.io import list_volumes, load_volume, validate_mask, validate_volume, volume_stem

# fastMRI stores the fully sampled magnitude reconstruction under one of these keys (multi-coil, single-coil).
FASTMRI_KEYS = ("reconstruction_rss", "reconstruction_esc")


def load_fastmri(path: str | os.PathLike[str]) -> np.ndarray:
    """The magnitude reconstruction ``(slices, H, W)`` of a fastMRI ``.h5`` file, read by MONAI's FastMRIReader."""
    from monai.apps.reconstruction.fastmri_reader import FastMRIReader

    try:
        data = FastMRIReader().read(str(path))
    except Exception as e:  # OSError for a corrupt file, ImportError without h5py
        raise DataValidationError(f"{path}: not a readable fastMRI HDF5 file ({type(e).__name__}: {e})") from e
    key = next((k for k in FASTMRI_KEYS if k in data), None)
    if key is None:
        raise DataValidationError(f"{path}: no {' or '.join(FASTMRI_KEYS)} dataset (keys: {sorted(data)})")
    return validate_volume(np.asarray(data[key]), f"{path}:{key}", ndim=(3,))


def _sources(folder: Path) -> list[Path]:
    root = folder / "images" if (folder / "images").is_dir() else folder
    h5 = sorted(p for p in root.iterdir() if p.suffix.lower() == ".h5") if root.is_dir() else []
    if h5:
        return h5
    return list_volumes(root)


def _slices(arr: np.ndarray, size: int) -> torch.Tensor:
    """``(X, Y, Z)`` -> ``(Z, 1, size, size)`` by area averaging."""
    t = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))[:, None].float()
    return F.interpolate(t, size=(size, size), mode="area")


def folder_slices(
    folder: str | os.PathLike[str],
    size: int,
    window: str | None = None,
    labels: bool = False,
    percentiles: tuple[float, float] = (0.5, 99.5),
) -> SliceSet:
    """All axial slices of the volumes in ``folder`` as a :class:`SliceSet` (module docstring).

    Args:
        folder: the data folder.
        size: slice side after resampling.
        window: a CT window name of :data:`~condiff.medical.data.intensity.CT_WINDOWS`, or ``None`` for each
            volume's own ``percentiles`` (MRI).
        labels: read ``labels/<name>`` masks (segmentation).
    """
    folder = Path(folder)
    images, masks = [], []
    for src in _sources(folder):
        # fastMRI stores (slices, H, W); NIfTI and DICOM (X, Y, slices).
        fastmri = src.suffix.lower() == ".h5"
        data = load_fastmri(src).transpose(1, 2, 0) if fastmri else load_volume(src, ndim=(3,)).data
        win = IntensityWindow.ct(window) if window else IntensityWindow.from_percentiles(data, *percentiles, str(src))
        images.append(_slices(win.normalize(data), size))
        if labels:
            stem = volume_stem(src)
            found = [p for p in list_volumes(folder / "labels") if volume_stem(p) == stem]
            if not found:
                raise DataValidationError(f"{src}: no mask named {stem} in {folder / 'labels'}")
            mask = validate_mask(load_volume(found[0], ndim=(3,)).data, str(found[0]))
            if mask.shape != data.shape:
                raise DataValidationError(f"{found[0]}: mask shape {mask.shape} differs from {src} ({data.shape})")
            masks.append((_slices(mask.astype(np.float32), size) > 0.5).float())
    return SliceSet(torch.cat(images), torch.cat(masks) if labels else None)
