"""PDE trajectories as xarray datasets on disk (NetCDF-4 through h5netcdf), with coordinates and units.

On disk: variable ``u(sample, t, x)``, optional ``f(sample, t_forcing, x)`` (the forcing acting on
``[t_k, t_{k+1})``, so ``t_forcing = t[:-1]``), coordinates ``t`` and ``x``, a ``units`` attribute on every
variable and coordinate (CF convention), and the generating parameters as global attributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch import Tensor

from condiff.core.errors import DataValidationError
from condiff.pde.physics import advection_forced, burgers, periodic_grid, random_forcing, random_gaussian_bumps

DEFAULT_UNITS = {"t": "s", "x": "m", "u": "m s-1", "f": "m s-2"}


@dataclass
class Trajectories:
    """A batch of 1-D space-time trajectories.

    Attributes:
        u: ``(B, T, N)`` states at times ``t``.
        t: ``(T,)`` increasing times.
        x: ``(N,)`` grid points.
        forcing: ``(B, T - 1, N)``, ``forcing[:, k]`` acting on ``[t_k, t_{k+1})``, or None.
        units: units of ``t``, ``x``, ``u``, ``f``.
        attrs: generating parameters (``pde``, ``nu``, ``seed``, ...), numbers or strings.
    """

    u: Tensor
    t: Tensor
    x: Tensor
    forcing: Tensor | None = None
    units: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_UNITS))
    attrs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate(self, "trajectories")


def validate(traj: Trajectories, source: str) -> None:
    """Check shapes, monotone time and finiteness; raise :class:`DataValidationError` naming ``source``."""
    if traj.u.dim() != 3:
        raise DataValidationError(f"{source}: u must be (sample, t, x), got shape {tuple(traj.u.shape)}")
    _, nt, nx = traj.u.shape
    if tuple(traj.t.shape) != (nt,) or tuple(traj.x.shape) != (nx,):
        raise DataValidationError(
            f"{source}: coordinates t {tuple(traj.t.shape)} and x {tuple(traj.x.shape)}"
            f" do not match u {tuple(traj.u.shape)}"
        )
    if nt > 1 and not bool((traj.t.diff() > 0).all()):
        raise DataValidationError(f"{source}: coordinate t is not strictly increasing")
    if traj.forcing is not None and tuple(traj.forcing.shape) != (traj.u.shape[0], nt - 1, nx):
        raise DataValidationError(
            f"{source}: forcing f must be (sample, t - 1, x) = {(traj.u.shape[0], nt - 1, nx)},"
            f" got {tuple(traj.forcing.shape)}"
        )
    for name, value in (("u", traj.u), ("f", traj.forcing), ("t", traj.t), ("x", traj.x)):
        if value is not None and not bool(torch.isfinite(value).all()):
            bad = tuple(int(i) for i in torch.nonzero(~torch.isfinite(value))[0])
            raise DataValidationError(f"{source}: variable {name!r} has a NaN or infinite value at index {bad}")


def to_xarray(traj: Trajectories) -> xr.Dataset:
    """The trajectories as an :class:`xarray.Dataset` with coordinates ``t``, ``x`` and ``units`` attributes."""
    coords = {
        "t": ("t", traj.t.numpy(force=True), {"units": traj.units["t"], "long_name": "time"}),
        "x": ("x", traj.x.numpy(force=True), {"units": traj.units["x"], "long_name": "position (periodic)"}),
    }
    data_vars: dict[str, Any] = {"u": (("sample", "t", "x"), traj.u.numpy(force=True), {"units": traj.units["u"]})}
    if traj.forcing is not None:
        coords["t_forcing"] = (
            "t_forcing",
            traj.t[:-1].numpy(force=True),
            {"units": traj.units["t"], "long_name": "start of the interval on which the forcing acts"},
        )
        data_vars["f"] = (("sample", "t_forcing", "x"), traj.forcing.numpy(force=True), {"units": traj.units["f"]})
    return xr.Dataset(data_vars, coords=coords, attrs=dict(traj.attrs))


def from_xarray(ds: xr.Dataset, source: str = "dataset") -> Trajectories:
    """Read :class:`Trajectories` from a dataset written by :func:`to_xarray`; errors name ``source``."""
    for name in ("u", "t", "x"):
        if name not in ds.variables:
            raise DataValidationError(f"{source}: missing variable {name!r} (found {sorted(map(str, ds.variables))})")
    if ds["u"].dims != ("sample", "t", "x"):
        raise DataValidationError(f"{source}: u must have dimensions ('sample', 't', 'x'), got {ds['u'].dims}")
    units = {}
    for name in ("t", "x", "u", *(("f",) if "f" in ds.variables else ())):
        if "units" not in ds[name].attrs:
            raise DataValidationError(f"{source}: variable {name!r} has no 'units' attribute")
        units[name] = str(ds[name].attrs["units"])
    units.setdefault("f", DEFAULT_UNITS["f"])
    forcing = None
    if "f" in ds.variables:
        if ds["f"].dims != ("sample", "t_forcing", "x"):
            raise DataValidationError(
                f"{source}: f must have dimensions ('sample', 't_forcing', 'x'), got {ds['f'].dims}"
            )
        forcing = torch.tensor(np.asarray(ds["f"].values), dtype=torch.float64)
    attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in ds.attrs.items()}
    fields: dict[str, Any] = {
        name: torch.tensor(np.asarray(ds[name].values), dtype=torch.float64) for name in ("u", "t", "x")
    }
    traj = Trajectories.__new__(Trajectories)  # validate once, naming the file rather than "trajectories"
    traj.__dict__.update(fields, forcing=forcing, units=units, attrs=attrs)
    validate(traj, source)
    return traj


def save_trajectories(traj: Trajectories, path: str | Path) -> Path:
    """Write NetCDF-4 (h5netcdf engine) at ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    to_xarray(traj).to_netcdf(path, engine="h5netcdf")
    return path


def load_trajectories(path: str | Path) -> Trajectories:
    """Read a NetCDF file written by :func:`save_trajectories`.

    Raises:
        DataValidationError: naming ``path``: missing or unreadable file, a missing variable, coordinate or
            ``units`` attribute, wrong dimensions, or a NaN/infinite value (with its index).
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: no such file")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            ds.load()
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataValidationError(f"{path}: not a readable NetCDF-4/HDF5 file ({type(e).__name__}: {e})") from e
    return from_xarray(ds, str(path))


def burgers_trajectories(
    samples: int,
    n: int = 128,
    nt: int = 10,
    *,
    seed: int,
    nu: float = 0.01,
    t_final: float = 1.0,
    forcing_amplitude: float = 1.0,
) -> Trajectories:
    """Forced viscous Burgers trajectories from Gaussian-bump initial states and forcings, deterministic in ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    u0 = random_gaussian_bumps(samples, n, generator=gen)
    f = random_forcing(samples, nt, n, generator=gen, amplitude=forcing_amplitude)
    u = burgers(u0, nu=nu, nt=nt, t_final=t_final, forcing=f)
    t = torch.linspace(0, t_final, nt + 1, dtype=torch.float64)
    attrs = {"pde": "burgers", "nu": nu, "seed": seed, "domain_length": 1.0, "boundary": "periodic"}
    return Trajectories(u, t, periodic_grid(n), f, attrs=attrs)


def advection_trajectories(
    samples: int,
    n: int = 128,
    nt: int = 10,
    *,
    seed: int,
    velocity: float = 1.0,
    t_final: float = 1.0,
    forcing_amplitude: float = 1.0,
) -> Trajectories:
    """Forced advection ``u_t + c u_x = f`` (exact) from the initial states and forcings of
    :func:`burgers_trajectories` with the same ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    u0 = random_gaussian_bumps(samples, n, generator=gen)
    f = random_forcing(samples, nt, n, generator=gen, amplitude=forcing_amplitude)
    u = advection_forced(u0, velocity=velocity, nt=nt, t_final=t_final, forcing=f)
    t = torch.linspace(0, t_final, nt + 1, dtype=torch.float64)
    attrs = {"pde": "advection", "velocity": velocity, "seed": seed, "domain_length": 1.0, "boundary": "periodic"}
    return Trajectories(u, t, periodic_grid(n), f, attrs=attrs)
