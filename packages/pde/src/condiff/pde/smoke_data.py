"""2-D smoke trajectories: random scenes, and xarray datasets on disk (NetCDF-4 via h5netcdf, or zarr).

On disk (one dataset): ``density(sample, t, y, x)`` [1], ``velocity(sample, t, component, y, x)`` [m s-1]
(cell-centred), ``force(sample, t_forcing, component, y, x)`` [m s-2] (acting on ``[t_k, t_{k+1})``, so
``t_forcing = t[:-1]``), ``outflow(sample, t_forcing, opening)`` [m2] (smoke mass, density times area, leaving
through each exit and the inlet during each interval); coordinates ``t, t_forcing, y, x, component, opening``
with ``units``; the scene (:class:`~condiff.pde.smoke.SmokeBox`) and the seed as global attributes.
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
from condiff.pde.smoke import SmokeBox, simulate_smoke
from condiff.pde.xarray_io import load_dataset, save_dataset

UNITS = {"t": "s", "x": "m", "y": "m", "density": "1", "velocity": "m s-1", "force": "m s-2", "outflow": "m2"}
VARIABLES = {
    "density": ("sample", "t", "y", "x"),
    "velocity": ("sample", "t", "component", "y", "x"),
    "force": ("sample", "t_forcing", "component", "y", "x"),
    "outflow": ("sample", "t_forcing", "opening"),
}


def cell_centres(n: int, dtype: torch.dtype = torch.float64) -> Tensor:
    """``(i + 1/2) / n``, ``i = 0..n-1``: the cell centres of the unit box along one axis."""
    return (torch.arange(n, dtype=dtype) + 0.5) / n


def random_release(samples: int, n: int, *, generator: torch.Generator) -> Tensor:
    """Smoke released near the bottom: ``rho0 = exp(-|x - c|^2 / (2 s^2))`` with ``c_x ~ U(0.15, 0.85)``,
    ``c_y ~ U(0.1, 0.2)``, ``s ~ U(0.04, 0.08)``: ``(B, n, n)`` float64."""
    c = torch.rand(samples, 4, generator=generator, dtype=torch.float64)
    cx, cy, s = 0.15 + 0.7 * c[:, 0], 0.1 + 0.1 * c[:, 1], 0.04 + 0.04 * c[:, 2]
    z = cell_centres(n)
    dx = z.view(1, 1, n) - cx.view(-1, 1, 1)
    dy = z.view(1, n, 1) - cy.view(-1, 1, 1)
    return torch.exp(-(dx.square() + dy.square()) / (2 * s.view(-1, 1, 1).square()))


def random_force(
    samples: int, nt: int, n: int, *, generator: torch.Generator, amplitude: float = 2.0, bumps: int = 3
) -> Tensor:
    """Smooth random force fields ``(B, nt, 2, n, n)`` float64: ``bumps`` Gaussian bumps per sample (centres in
    ``[0.1, 0.9]^2``, widths ``U(0.1, 0.25)``), each with a force vector that moves linearly in time from one
    ``N(0, amplitude^2 I)`` draw to another over the ``nt`` intervals."""
    g = generator
    centres = 0.1 + 0.8 * torch.rand(samples, bumps, 2, generator=g, dtype=torch.float64)
    widths = 0.1 + 0.15 * torch.rand(samples, bumps, generator=g, dtype=torch.float64)
    start = amplitude * torch.randn(samples, bumps, 2, generator=g, dtype=torch.float64)
    end = amplitude * torch.randn(samples, bumps, 2, generator=g, dtype=torch.float64)
    z = cell_centres(n)
    dx = z.view(1, 1, 1, n) - centres[..., 0, None, None]
    dy = z.view(1, 1, n, 1) - centres[..., 1, None, None]
    shape = torch.exp(-(dx.square() + dy.square()) / (2 * widths[..., None, None].square()))  # (B, bumps, n, n)
    s = (torch.arange(nt, dtype=torch.float64) + 0.5) / nt
    vectors = start[:, None] + s.view(1, -1, 1, 1) * (end - start)[:, None]  # (B, nt, bumps, 2)
    return torch.einsum("btkc,bkyx->btcyx", vectors, shape)


@dataclass
class SmokeTrajectories:
    """Solved 2-D smoke trajectories on the scene ``box``.

    Attributes:
        density: ``(B, T, n, n)``; velocity: ``(B, T, 2, n, n)``; force: ``(B, T - 1, 2, n, n)``;
        outflow: ``(B, T - 1, K + 1)`` (exits, then the inlet); t: ``(T,)``.
        box: the scene; attrs: further generating parameters (``seed``, ...).
    """

    density: Tensor
    velocity: Tensor
    force: Tensor
    outflow: Tensor
    t: Tensor
    box: SmokeBox
    attrs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate(self, "smoke trajectories")

    @property
    def released(self) -> Tensor:
        """``(B,)`` initial smoke mass ``sum(rho0) h^2``."""
        return self.density[:, 0].sum((-1, -2)) * self.box.h**2


def validate(traj: SmokeTrajectories, source: str) -> None:
    """Shapes against the scene, increasing time, finite values; :class:`DataValidationError` naming ``source``."""
    b, n, nt, k = traj.density.shape[0], traj.box.n, traj.box.nt, len(traj.box.exits) + 1
    expected = {
        "density": (b, nt + 1, n, n), "velocity": (b, nt + 1, 2, n, n), "force": (b, nt, 2, n, n),
        "outflow": (b, nt, k), "t": (nt + 1,),
    }  # fmt: skip
    for name, shape in expected.items():
        value = getattr(traj, name)
        if tuple(value.shape) != shape:
            raise DataValidationError(f"{source}: {name} must have shape {shape}, got {tuple(value.shape)}")
        if not bool(torch.isfinite(value).all()):
            bad = tuple(int(i) for i in torch.nonzero(~torch.isfinite(value))[0])
            raise DataValidationError(f"{source}: variable {name!r} has a NaN or infinite value at index {bad}")
    if not bool((traj.t.diff() > 0).all()):
        raise DataValidationError(f"{source}: coordinate t is not strictly increasing")


def smoke_trajectories(samples: int, box: SmokeBox, *, seed: int, force_amplitude: float = 2.0) -> SmokeTrajectories:
    """Random releases (:func:`random_release`) driven by random forces (:func:`random_force`), solved by
    :func:`condiff.pde.smoke.simulate_smoke`; deterministic in ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    rho0 = random_release(samples, box.n, generator=gen)
    force = random_force(samples, box.nt, box.n, generator=gen, amplitude=force_amplitude)
    run = simulate_smoke(rho0, force, box)
    t = torch.linspace(0, box.t_final, box.nt + 1, dtype=torch.float64)
    attrs = {"seed": seed, "force_amplitude": force_amplitude}
    return SmokeTrajectories(run.density, run.velocity, force, run.outflow, t, box, attrs)


def _box_attrs(box: SmokeBox) -> dict[str, Any]:
    return {
        "n": box.n, "exits": np.asarray(box.exits, dtype=np.float64).ravel(), "target": box.target,
        "buoyancy": box.buoyancy, "t_final": box.t_final, "nt": box.nt, "substeps": box.substeps,
        "inlet": np.asarray(box.inlet if box.inlet is not None else (), dtype=np.float64),
    }  # fmt: skip


def _box_from_attrs(attrs: dict[str, Any], source: str) -> SmokeBox:
    missing = [k for k in ("n", "exits", "target", "buoyancy", "t_final", "nt", "substeps", "inlet") if k not in attrs]
    if missing:
        raise DataValidationError(f"{source}: missing global attribute(s) {missing} describing the scene")
    exits = np.asarray(attrs["exits"], dtype=np.float64).reshape(-1, 2)
    inlet = np.asarray(attrs["inlet"], dtype=np.float64).ravel()
    try:
        return SmokeBox(
            n=int(attrs["n"]), exits=tuple((float(a), float(b)) for a, b in exits), target=int(attrs["target"]),
            buoyancy=float(attrs["buoyancy"]), t_final=float(attrs["t_final"]), nt=int(attrs["nt"]),
            substeps=int(attrs["substeps"]), inlet=(float(inlet[0]), float(inlet[1])) if inlet.size == 2 else None,
        )  # fmt: skip
    except ValueError as e:
        raise DataValidationError(f"{source}: invalid scene attributes ({e})") from e


def to_xarray(traj: SmokeTrajectories) -> xr.Dataset:
    """The trajectories as an :class:`xarray.Dataset` (module docstring)."""
    box, z = traj.box, cell_centres(traj.box.n).numpy()
    names = [f"exit{k}" for k in range(len(box.exits))] + ["inlet"]
    coords = {
        "t": ("t", traj.t.numpy(force=True), {"units": UNITS["t"], "long_name": "time"}),
        "t_forcing": (
            "t_forcing", traj.t[:-1].numpy(force=True),
            {"units": UNITS["t"], "long_name": "start of the interval on which the force acts"},
        ),
        "y": ("y", z, {"units": UNITS["y"], "long_name": "height of the cell centre"}),
        "x": ("x", z, {"units": UNITS["x"], "long_name": "abscissa of the cell centre"}),
        "component": ("component", np.arange(2), {"long_name": "vector component: 0 = x, 1 = y"}),
        "opening": (
            "opening", np.arange(len(names)),
            {"long_name": f"openings: {', '.join(f'{i} = {m}' for i, m in enumerate(names))}"},
        ),
    }  # fmt: skip
    data = {
        name: (dims, getattr(traj, name).numpy(force=True), {"units": UNITS[name]}) for name, dims in VARIABLES.items()
    }
    return xr.Dataset(data, coords=coords, attrs={**_box_attrs(box), **traj.attrs})


def from_xarray(ds: xr.Dataset, source: str = "dataset") -> SmokeTrajectories:
    """Read :class:`SmokeTrajectories` from a dataset of :func:`to_xarray`; errors name ``source``."""
    for name, dims in {**VARIABLES, "t": ("t",)}.items():
        if name not in ds.variables:
            raise DataValidationError(f"{source}: missing variable {name!r} (found {sorted(map(str, ds.variables))})")
        if ds[name].dims != dims:
            raise DataValidationError(f"{source}: {name} must have dimensions {dims}, got {ds[name].dims}")
        if "units" not in ds[name].attrs:
            raise DataValidationError(f"{source}: variable {name!r} has no 'units' attribute")
    box = _box_from_attrs(dict(ds.attrs), source)
    values = {n: torch.tensor(np.asarray(ds[n].values), dtype=torch.float64) for n in (*VARIABLES, "t")}
    attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in ds.attrs.items() if k in ("seed",)}
    attrs.update({k: float(v) for k, v in ds.attrs.items() if k == "force_amplitude"})
    traj = SmokeTrajectories.__new__(SmokeTrajectories)  # validate once, naming the file
    traj.__dict__.update(values, box=box, attrs=attrs)
    validate(traj, source)
    return traj


def save_smoke(traj: SmokeTrajectories, path: str | Path) -> Path:
    """Write ``path`` (``.nc``: NetCDF-4 via h5netcdf; ``.zarr``: a zarr store); returns the path."""
    return save_dataset(to_xarray(traj), path)


def load_smoke(path: str | Path) -> SmokeTrajectories:
    """Read a file of :func:`save_smoke`; :class:`DataValidationError` naming ``path`` on a missing or
    unreadable file, a missing variable, dimension, unit or scene attribute, a wrong shape or a NaN."""
    ds = load_dataset(path)
    return from_xarray(ds, str(path))
