"""MD17 trajectories (sGDML ``.npz``: ``R`` positions in Angstrom, ``z`` atomic numbers) as GeoTDM systems.

As GeoTDM's MD17 loader: keep every ``every``-th frame, split the trajectory in time 60/20/20 into
train/val/test, and cut windows of ``span`` frames spread evenly over each part (at most ``max_windows`` per
split). Node features are the one-hot element (H, C, N, O), the graph is fully connected and the edge feature
marks bonds (distance below ``cutoff`` Angstrom in the first frame of the trajectory).
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


def md17_systems(
    path: str | Path,
    split: str,
    span: int = 30,
    every: int = 10,
    max_windows: int = 5000,
    with_hydrogen: bool = True,
    cutoff: float = 1.6,
) -> list[Data]:
    """The ``split`` windows of an MD17 file as graphs (``x0: (N, span, 3)``, ``h``, ``edge_index``, ``edge_attr``)."""
    positions, z = read_md17(path, with_hydrogen)
    windows = md17_windows(positions, span, every, split, max_windows)
    node_attr, edge_index, edge_attr = md17_graph(z, positions[0], cutoff)
    return [Data(x0=w, h=node_attr, edge_index=edge_index, edge_attr=edge_attr, num_nodes=z.shape[0]) for w in windows]
