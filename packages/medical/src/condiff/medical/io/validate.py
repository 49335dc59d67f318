"""Checks of loaded arrays with errors that name the file and the problem."""

from __future__ import annotations

import numpy as np

from condiff.core.errors import DataValidationError


def validate_volume(data: np.ndarray, source: str, ndim: tuple[int, ...] = (2, 3)) -> np.ndarray:
    """Return ``data`` as float32 after checking it, else raise :class:`DataValidationError` naming ``source``.

    Problems: a dimensionality outside ``ndim`` (a trailing singleton axis, as some NIfTI writers add, is
    dropped first), an empty array, non-numeric values, NaN or infinite voxels (their count and first index).
    """
    arr = np.asarray(data)
    while arr.ndim > max(ndim) and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in ndim:
        raise DataValidationError(
            f"{source}: expected a {' or '.join(f'{d}-D' for d in ndim)} image, got shape {arr.shape} ({arr.ndim}-D)"
        )
    if arr.size == 0:
        raise DataValidationError(f"{source}: empty image (shape {arr.shape})")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise DataValidationError(f"{source}: voxels have non-numeric type {arr.dtype}")
    arr = arr.astype(np.float32)
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataValidationError(
            f"{source}: {int(bad.sum())} NaN or infinite voxel(s) (first at index {first}); fix or mask them"
        )
    return arr


def validate_mask(mask: np.ndarray, source: str) -> np.ndarray:
    """Return a binary mask (bool) after checking it has only 0/1 values and at least one foreground voxel."""
    arr = validate_volume(mask, source)
    values = np.unique(arr)
    if not np.isin(values, (0.0, 1.0)).all():
        raise DataValidationError(f"{source}: a mask must hold only 0 and 1, found values {values[:8].tolist()}")
    if not arr.any():
        raise DataValidationError(f"{source}: empty mask (no foreground voxel)")
    return arr.astype(bool)
