"""ERA5-style climate fields from NetCDF or zarr: dims ``(time, latitude, longitude)``, variables selected by name.

Accepted names (as in ERA5 / WeatherBench files): ``time`` or ``valid_time``; ``latitude`` or ``lat``;
``longitude`` or ``lon``. Every selected variable must have exactly these three dimensions (a singleton
``level``/``pressure_level`` dimension is squeezed away). :func:`open_climate` returns the fields as one
``(time, variable, latitude, longitude)`` array with the coordinates, after checking names, dimensions, strictly
increasing time and finiteness; every error is a :class:`DataValidationError` that names the file.

:func:`synthetic_climate` writes the package's built-in stand-in (travelling planetary waves on a seasonal
latitude profile, deterministic in a seed), used when no ERA5 file is given and by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import xarray as xr
from torch import Tensor

from condiff.core.errors import DataValidationError
from condiff.pde.xarray_io import load_dataset

DIM_NAMES = {"time": ("time", "valid_time"), "latitude": ("latitude", "lat"), "longitude": ("longitude", "lon")}
SINGLETON_DIMS = ("level", "pressure_level", "number", "expver")


@dataclass
class ClimateFields:
    """``data (time, variable, latitude, longitude)`` float64 with its coordinates and units.

    Attributes:
        data: the fields.
        time: ``(time,)`` numpy ``datetime64[ns]``.
        latitude, longitude: ``(H,)``, ``(W,)`` degrees.
        variables: names, in the order of ``data``'s second axis; units: one per variable.
        source: the file they came from (for messages).
    """

    data: Tensor
    time: np.ndarray
    latitude: Tensor
    longitude: Tensor
    variables: list[str]
    units: list[str]
    source: str = "climate fields"

    def years(self) -> np.ndarray:
        """``(time,)`` calendar year of every frame."""
        return self.time.astype("datetime64[Y]").astype(int) + 1970

    def select_years(self, years: list[int] | tuple[int, ...]) -> Tensor:
        """Indices of the frames in ``years``; a :class:`DataValidationError` naming the file if there are none."""
        idx = np.nonzero(np.isin(self.years(), np.asarray(list(years))))[0]
        if idx.size == 0:
            found = sorted(set(self.years().tolist()))
            raise DataValidationError(f"{self.source}: no frames in years {list(years)} (the file has {found})")
        return torch.as_tensor(idx)


def _canonical_dims(ds: xr.Dataset, source: str) -> xr.Dataset:
    renames = {}
    for canonical, names in DIM_NAMES.items():
        present = [name for name in names if name in ds.dims]
        if not present:
            raise DataValidationError(
                f"{source}: missing dimension {canonical!r} (accepted names {list(names)};"
                f" found {sorted(map(str, ds.dims))})"
            )
        if present[0] != canonical:
            renames[present[0]] = canonical
    return ds.rename(renames)


def from_dataset(ds: xr.Dataset, variables: list[str] | None = None, source: str = "dataset") -> ClimateFields:
    """:class:`ClimateFields` of ``variables`` (default: every data variable on the three dimensions)."""
    ds = _canonical_dims(ds, source)
    spatial = ("time", "latitude", "longitude")
    if variables is None:
        variables = [str(v) for v in ds.data_vars if set(spatial) <= set(ds[v].dims)]
        if not variables:
            raise DataValidationError(f"{source}: no variable with dimensions {spatial}")
    arrays, units = [], []
    for name in variables:
        if name not in ds.data_vars:
            raise DataValidationError(f"{source}: missing variable {name!r} (found {sorted(map(str, ds.data_vars))})")
        da = ds[name]
        for dim in SINGLETON_DIMS:
            if dim in da.dims and da.sizes[dim] == 1:
                da = da.squeeze(dim, drop=True)
        if set(da.dims) != set(spatial):
            raise DataValidationError(f"{source}: variable {name!r} has dimensions {da.dims}, expected {spatial}")
        values = np.asarray(da.transpose(*spatial).values, dtype=np.float64)
        if not np.isfinite(values).all():
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
            raise DataValidationError(
                f"{source}: variable {name!r} has a NaN or infinite value at (time, latitude, longitude) = {bad}"
            )
        arrays.append(values)
        units.append(str(da.attrs.get("units", "")))
    time = np.asarray(ds["time"].values)
    if not np.issubdtype(time.dtype, np.datetime64):
        raise DataValidationError(f"{source}: coordinate 'time' is not a datetime ({time.dtype})")
    if time.size > 1 and not (np.diff(time) > np.timedelta64(0)).all():
        raise DataValidationError(f"{source}: coordinate 'time' is not strictly increasing")
    data = torch.as_tensor(np.stack(arrays, axis=1))
    lat = torch.tensor(np.asarray(ds["latitude"].values, dtype=np.float64))
    lon = torch.tensor(np.asarray(ds["longitude"].values, dtype=np.float64))
    if bool((lat.abs() > 90).any()):
        raise DataValidationError(f"{source}: latitudes outside [-90, 90] degrees")
    return ClimateFields(data, time.astype("datetime64[ns]"), lat, lon, list(variables), units, source)


def open_climate(path: str | Path, variables: list[str] | None = None) -> ClimateFields:
    """Read ``variables`` from a NetCDF file (h5netcdf) or a zarr store; errors name ``path`` (module docstring)."""
    ds = load_dataset(path)
    return from_dataset(ds, variables, str(path))


def synthetic_climate(
    years: tuple[int, ...] = (2000, 2001, 2002, 2003),
    steps_per_year: int = 146,
    nlat: int = 32,
    nlon: int = 64,
    seed: int = 0,
) -> xr.Dataset:
    """An ERA5-like dataset (WeatherBench 5.625-degree grid by default; latitudes descending as in ERA5):

    ``t2m = 288 - 40 sin^2(phi) + 12 sin(phi) cos(2 pi d / 365) + sum_k a_k cos(phi) cos(m_k (lambda - c_k t) + p_k)
    + noise`` [K], and ``z500`` a geopotential-like field [m2 s-2] with the same waves shifted and scaled,
    ``phi`` latitude, ``lambda`` longitude, ``d`` day of year; wave amplitudes, wavenumbers, speeds and
    phases and a small noise are drawn from ``seed``.
    """
    rng = np.random.default_rng(seed)
    lat = 90 - (np.arange(nlat) + 0.5) * 180 / nlat
    lon = np.arange(nlon) * 360 / nlon
    start = np.datetime64(f"{years[0]}-01-01T00:00", "ns")
    step = np.timedelta64(int(365 * 24 * 3600 / steps_per_year), "s").astype("timedelta64[ns]")
    time = start + step * np.arange(len(years) * steps_per_year)
    days = (time - start) / np.timedelta64(1, "D")
    phi, lam = np.deg2rad(lat)[None, :, None], np.deg2rad(lon)[None, None, :]
    t = days[:, None, None]
    k = 4
    amp, m = rng.uniform(2, 6, k), rng.integers(1, 6, k)
    speed, phase = rng.uniform(-0.2, 0.2, k), rng.uniform(0, 2 * np.pi, k)
    waves = sum(amp[i] * np.cos(phi) * np.cos(m[i] * (lam - speed[i] * t) + phase[i]) for i in range(k))
    season = np.cos(2 * np.pi * t / 365.0)
    t2m = 288 - 40 * np.sin(phi) ** 2 + 12 * np.sin(phi) * season + waves
    z500 = 54000 + 3000 * np.cos(phi) ** 2 + 400 * np.sin(phi) * season + 150 * np.roll(waves, 2, axis=-1)
    t2m = t2m + 0.3 * rng.standard_normal(t2m.shape)
    z500 = z500 + 20 * rng.standard_normal(z500.shape)
    dims = ("time", "latitude", "longitude")
    return xr.Dataset(
        {
            "t2m": (dims, t2m.astype(np.float32), {"units": "K", "long_name": "2 metre temperature (synthetic)"}),
            "z500": (
                dims,
                z500.astype(np.float32),
                {"units": "m2 s-2", "long_name": "geopotential at 500 hPa (synthetic)"},
            ),
        },
        coords={
            "time": ("time", time),
            "latitude": ("latitude", lat, {"units": "degrees_north"}),
            "longitude": ("longitude", lon, {"units": "degrees_east"}),
        },
        attrs={"source": "condiff.pde.climate.synthetic_climate", "seed": seed},
    )
