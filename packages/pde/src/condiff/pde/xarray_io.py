"""Reading and writing xarray datasets as NetCDF-4 files (h5netcdf) or zarr stores, chosen by the path's suffix,
with errors that name the path."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from condiff.core.errors import DataValidationError

NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf")


def engine_for(path: Path) -> str:
    """``h5netcdf`` for a NetCDF suffix, ``zarr`` for ``.zarr``; anything else names the path."""
    if path.suffix in NETCDF_SUFFIXES:
        return "h5netcdf"
    if path.suffix == ".zarr":
        return "zarr"
    raise DataValidationError(f"{path}: unknown format; expected a NetCDF (.nc) file or a zarr (.zarr) store")


def load_dataset(path: str | Path) -> xr.Dataset:
    """The whole dataset at ``path`` in memory (the file is closed again); a missing or unreadable file is a
    :class:`DataValidationError` naming it."""
    path = Path(path)
    engine = engine_for(path)
    if not path.exists():
        raise DataValidationError(f"{path}: no such file")
    try:
        opened = (
            xr.open_dataset(path, engine="zarr", consolidated=False)
            if engine == "zarr"
            else xr.open_dataset(path, engine=engine)
        )
        with opened as ds:
            return ds.load()
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataValidationError(f"{path}: not a readable {engine} dataset ({type(e).__name__}: {e})") from e


def save_dataset(ds: xr.Dataset, path: str | Path) -> Path:
    """Write ``ds`` to ``path`` (NetCDF-4 via h5netcdf, or a zarr store, replacing one that exists)."""
    path = Path(path)
    engine = engine_for(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if engine == "zarr":
        ds.to_zarr(path, mode="w", consolidated=False)
    else:
        ds.to_netcdf(path, engine="h5netcdf")
    return path
