"""MD17 trajectories (sGDML ``.npz``: ``R`` positions in Angstrom, ``z`` atomic numbers) as GeoTDM systems.

As GeoTDM's MD17 loader: keep every ``every``-th frame, split the trajectory in time 60/20/20 into
train/val/test, and cut windows of ``span`` frames spread evenly over each part (at most ``max_windows`` per
split). Node features are the one-hot element (H, C, N, O), the graph is fully connected and the edge feature
marks bonds (distance below ``cutoff`` Angstrom in the first frame of the trajectory).

Without a file, :func:`simulate_molecule` is the built-in source: Langevin dynamics of an elastic-network model of
ethanol (its nine atoms and equilibrium geometry), a toy stand-in for an MD17 trajectory, not quantum MD.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from condiff.core.errors import ConfigError, DataValidationError
from condiff.molecules.geotdm.network._pyg import Data
from condiff.molecules.geotdm.network.graph import fully_connected_edges

ELEMENTS = (1, 6, 7, 8)  # H, C, N, O: every MD17 molecule
RATIOS = (0.6, 0.2, 0.2)


def read_md17(path: str | Path, with_hydrogen: bool = True) -> tuple[Tensor, Tensor]:
    """``positions: (F, N, 3)`` float32 and ``z: (N,)`` int64 of an MD17 ``.npz`` (hydrogens dropped if asked).

    Raises:
        DataValidationError: naming the file, for a missing or unreadable file, a missing key, a wrong shape, an
            element outside H/C/N/O, or NaN/inf positions.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: no such MD17 file")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in ("R", "z") if k not in data.files]
            if missing:
                raise DataValidationError(f"{path}: missing keys {missing} (found {sorted(data.files)})")
            r, z = np.asarray(data["R"]), np.asarray(data["z"])
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        if isinstance(e, DataValidationError):
            raise
        raise DataValidationError(f"{path}: not a readable .npz archive ({e})") from e
    if r.ndim != 3 or r.shape[-1] != 3 or z.shape != (r.shape[1],):
        raise DataValidationError(f"{path}: 'R' must be (frames, atoms, 3) and 'z' (atoms,), got {r.shape}, {z.shape}")
    bad = sorted(set(z.tolist()) - set(ELEMENTS))
    if bad:
        raise DataValidationError(f"{path}: atomic numbers {bad} outside H, C, N, O")
    if not np.isfinite(r).all():
        first = tuple(int(i) for i in np.argwhere(~np.isfinite(r))[0])
        raise DataValidationError(f"{path}: 'R' holds NaN/inf (first at {first})")
    keep = np.ones_like(z, dtype=bool) if with_hydrogen else z > 1
    return torch.from_numpy(r[:, keep].astype(np.float32)), torch.from_numpy(z[keep].astype(np.int64))


def md17_windows(positions: Tensor, span: int, every: int, split: str, max_windows: int) -> Tensor:
    """Windows ``(W, N, span, 3)`` of the ``split`` part (train/val/test: 60/20/20 % in time) of ``positions``."""
    if split not in ("train", "val", "test"):
        raise ConfigError(f"md17_windows: split must be train, val or test, got {split!r}")
    x = positions[::every]
    n = x.shape[0]
    bounds = np.cumsum((0.0, *RATIOS)) * n
    index = ("train", "val", "test").index(split)
    part = x[int(bounds[index]) : int(bounds[index + 1])]
    available = part.shape[0] - span + 1
    if available < 1:
        raise DataValidationError(
            f"md17_windows: the {split} part has {part.shape[0]} frames (every {every}), fewer than span={span}"
        )
    count = min(max_windows, available)
    starts = torch.arange(count) * (available // count)
    return torch.stack([part[s : s + span] for s in starts.tolist()]).permute(0, 2, 1, 3).contiguous()


def md17_graph(z: Tensor, first_frame: Tensor, cutoff: float = 1.6) -> tuple[Tensor, Tensor, Tensor]:
    """``(node_attr (N, 4) one-hot element, edge_index (2, E) fully connected, edge_attr (E, 1) bond flag)``."""
    node_attr = (z[:, None] == torch.tensor(ELEMENTS)[None]).float()
    edge_index = fully_connected_edges(torch.zeros(z.shape[0], dtype=torch.long))
    dist = (first_frame[edge_index[0]] - first_frame[edge_index[1]]).norm(dim=-1)
    return node_attr, edge_index, (dist < cutoff).float()[:, None]


def md17_source(path: str | Path | None, with_hydrogen: bool = True) -> tuple[Tensor, Tensor]:
    """``positions: (F, N, 3)`` and ``z: (N,)`` of an MD17 file, or of :func:`simulate_molecule` when ``path`` is
    ``None`` (hydrogens dropped if asked)."""
    if path is not None:
        return read_md17(path, with_hydrogen)
    positions, z = simulate_molecule()
    return (positions, z) if with_hydrogen else (positions[:, z > 1], z[z > 1])


def split_systems(
    positions: Tensor, z: Tensor, split: str, span: int = 30, every: int = 10, max_windows: int = 5000,
    cutoff: float = 1.6,
) -> list[Data]:  # fmt: skip
    """The ``split`` windows of a trajectory as graphs (``x0: (N, span, 3)``, ``h``, ``edge_index``, ``edge_attr``)."""
    windows = md17_windows(positions, span, every, split, max_windows)
    node_attr, edge_index, edge_attr = md17_graph(z, positions[0], cutoff)
    return [Data(x0=w, h=node_attr, edge_index=edge_index, edge_attr=edge_attr, num_nodes=z.shape[0]) for w in windows]


def md17_systems(
    path: str | Path | None,
    split: str,
    span: int = 30,
    every: int = 10,
    max_windows: int = 5000,
    with_hydrogen: bool = True,
    cutoff: float = 1.6,
) -> list[Data]:
    """The ``split`` windows of an MD17 file (``None``: the built-in molecule) as graphs (see :func:`split_systems`)."""
    positions, z = md17_source(path, with_hydrogen)
    return split_systems(positions, z, split, span, every, max_windows, cutoff)


# Ethanol (C, C, O, H x 6): approximate equilibrium geometry in Angstrom.
ETHANOL_Z = (6, 6, 8, 1, 1, 1, 1, 1, 1)
ETHANOL_XYZ = (
    (0.0, 0.0, 0.0), (1.52, 0.0, 0.0), (2.0, 1.35, 0.0), (2.96, 1.31, 0.0), (-0.36, 1.03, 0.0),
    (-0.36, -0.51, 0.89), (-0.36, -0.51, -0.89), (1.88, -0.51, 0.89), (1.88, -0.51, -0.89),
)  # fmt: skip
MASSES = {1: 1.0, 6: 12.0, 8: 16.0}


def simulate_molecule(
    frames: int = 6000, seed: int = 0, dt: float = 0.005, kT: float = 0.6, friction: float = 1.0
) -> tuple[Tensor, Tensor]:
    """``positions: (frames, 9, 3)`` float32 and ``z: (9,)`` of a Langevin trajectory of an ethanol network model.

    Harmonic springs ``U = sum k_ij (d_ij - d0_ij)^2 / 2`` on every pair closer than 2.6 A in the equilibrium
    geometry (``k = 300`` on bonds, ``d0 < 1.6 A``, ``60`` on the others), masses 1/12/16, integrated by BAOAB
    (Leimkuhler and Matthews 2013) with ``dt``, temperature ``kT`` and ``friction`` in model units.
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(ETHANOL_XYZ, dtype=np.float64)
    m = np.asarray([MASSES[z] for z in ETHANOL_Z])[:, None]
    i, j = np.triu_indices(len(ETHANOL_Z), k=1)
    d0 = np.linalg.norm(x[i] - x[j], axis=-1)
    keep = d0 < 2.6
    i, j, d0 = i[keep], j[keep], d0[keep]
    k = np.where(d0 < 1.6, 300.0, 60.0)

    def force(x: np.ndarray) -> np.ndarray:
        diff = x[i] - x[j]
        d = np.linalg.norm(diff, axis=-1)
        f = (-k * (d - d0) / d)[:, None] * diff
        out = np.zeros_like(x)
        np.add.at(out, i, f)
        np.add.at(out, j, -f)
        return out

    v = rng.normal(size=x.shape) * np.sqrt(kT / m)
    c1 = np.exp(-friction * dt)
    c2 = np.sqrt((1 - c1**2) * kT / m)
    f = force(x)
    out = np.empty((frames, *x.shape))
    for n in range(frames):
        out[n] = x
        v = v + 0.5 * dt * f / m
        x = x + 0.5 * dt * v
        v = c1 * v + c2 * rng.normal(size=x.shape)
        x = x + 0.5 * dt * v
        f = force(x)
        v = v + 0.5 * dt * f / m
    return torch.from_numpy(out.astype(np.float32)), torch.tensor(ETHANOL_Z, dtype=torch.int64)
