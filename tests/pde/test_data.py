"""NetCDF round trip of PDE trajectories, and the loader's errors on bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from condiff.core.errors import DataValidationError
from condiff.pde.data import Trajectories, burgers_trajectories, load_trajectories, save_trajectories, to_xarray
from condiff.pde.physics import burgers


@pytest.fixture(scope="module")
def small() -> Trajectories:
    return burgers_trajectories(3, n=16, nt=4, seed=5, t_final=0.4)


def test_netcdf_round_trip_keeps_values_coordinates_and_units(tmp_path: Path, small: Trajectories) -> None:
    path = save_trajectories(small, tmp_path / "sub" / "burgers.nc")
    back = load_trajectories(path)
    for name in ("u", "t", "x", "forcing"):
        torch.testing.assert_close(getattr(back, name), getattr(small, name), atol=0, rtol=0)
    assert back.units == {"t": "s", "x": "m", "u": "m s-1", "f": "m s-2"}
    assert back.attrs == {"pde": "burgers", "nu": 0.01, "seed": 5, "domain_length": 1.0, "boundary": "periodic"}
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds["u"].dims == ("sample", "t", "x")
        np.testing.assert_allclose(ds["t_forcing"].values, small.t[:-1].numpy())


def test_generated_data_is_deterministic_and_solves_burgers(small: Trajectories) -> None:
    again = burgers_trajectories(3, n=16, nt=4, seed=5, t_final=0.4)
    torch.testing.assert_close(again.u, small.u, atol=0, rtol=0)
    assert small.forcing is not None
    resolved = burgers(small.u[:, 0], nu=0.01, nt=4, t_final=0.4, forcing=small.forcing)
    torch.testing.assert_close(resolved, small.u, atol=0, rtol=0)
    assert not torch.equal(burgers_trajectories(3, n=16, nt=4, seed=6, t_final=0.4).u, small.u)


def test_trajectories_without_forcing_round_trip(tmp_path: Path) -> None:
    traj = Trajectories(
        torch.randn(2, 3, 8, dtype=torch.float64), torch.arange(3.0).double(), torch.arange(8.0).double()
    )
    back = load_trajectories(save_trajectories(traj, tmp_path / "a.nc"))
    assert back.forcing is None
    torch.testing.assert_close(back.u, traj.u, atol=0, rtol=0)


def test_corrupt_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.nc"
    bad.write_bytes(b"\x89HDF\r\n\x1a\nnot really hdf5")
    with pytest.raises(DataValidationError, match=r"corrupt\.nc: not a readable NetCDF"):
        load_trajectories(bad)
    with pytest.raises(DataValidationError, match=r"missing\.nc: no such file"):
        load_trajectories(tmp_path / "missing.nc")


def test_missing_variable_and_units_are_named(tmp_path: Path, small: Trajectories) -> None:
    path = tmp_path / "no_u.nc"
    to_xarray(small).drop_vars("u").to_netcdf(path, engine="h5netcdf")
    with pytest.raises(DataValidationError, match=r"no_u\.nc: missing variable 'u'"):
        load_trajectories(path)
    ds = to_xarray(small)
    del ds["x"].attrs["units"]
    ds.to_netcdf(tmp_path / "no_units.nc", engine="h5netcdf")
    with pytest.raises(DataValidationError, match=r"no_units\.nc: variable 'x' has no 'units'"):
        load_trajectories(tmp_path / "no_units.nc")
    ds = to_xarray(small).transpose("t", "sample", "x", "t_forcing")
    ds.to_netcdf(tmp_path / "dims.nc", engine="h5netcdf")
    with pytest.raises(DataValidationError, match=r"dims\.nc: u must have dimensions"):
        load_trajectories(tmp_path / "dims.nc")


def test_nan_is_named_with_its_index(tmp_path: Path, small: Trajectories) -> None:
    ds = to_xarray(small)
    ds["u"][1, 2, 3] = np.nan
    ds.to_netcdf(tmp_path / "nan.nc", engine="h5netcdf")
    with pytest.raises(
        DataValidationError, match=r"nan\.nc: variable 'u' has a NaN or infinite value at index \(1, 2, 3\)"
    ):
        load_trajectories(tmp_path / "nan.nc")


def test_inconsistent_arrays_are_rejected() -> None:
    t, x = torch.arange(3.0), torch.arange(8.0)
    with pytest.raises(DataValidationError, match="do not match u"):
        Trajectories(torch.zeros(2, 4, 8), t, x)
    with pytest.raises(DataValidationError, match="forcing f must be"):
        Trajectories(torch.zeros(2, 3, 8), t, x, forcing=torch.zeros(2, 3, 8))
    with pytest.raises(DataValidationError, match="not strictly increasing"):
        Trajectories(torch.zeros(2, 3, 8), torch.tensor([0.0, 2.0, 1.0]), x)
