"""ETH-UCY pedestrian files (one ``frame pedestrian x y`` row per line, whitespace separated) as GeoTDM systems.

A window is ``past + future`` consecutive annotated frames (GeoTDM: 8 + 12); the pedestrians seen in all of
them form one system, with their planar positions lifted to 3D as ``(x, y, 0)`` (the network is equivariant
to rotations about the vertical axis and to translations of the plane, as for the 3D data).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from condiff.core.errors import DataValidationError
from condiff.molecules.geotdm.network._pyg import Data
from condiff.molecules.geotdm.network.graph import fully_connected_edges


def read_eth_ucy(path: str | Path) -> np.ndarray:
    """Rows ``(frame, pedestrian, x, y)`` of one ETH-UCY text file as a float64 array ``(R, 4)``.

    Raises:
        DataValidationError: naming the file and line, for a missing file, a row without exactly four numbers,
            or NaN/inf.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: no such ETH-UCY file")
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            values = [float(f) for f in fields]
        except ValueError:
            raise DataValidationError(
                f"{path}:{number}: expected 'frame pedestrian x y' numbers, got {line!r}"
            ) from None
        if len(values) != 4:
            raise DataValidationError(f"{path}:{number}: expected 4 columns (frame pedestrian x y), got {len(values)}")
        if not np.isfinite(values).all():
            raise DataValidationError(f"{path}:{number}: NaN or inf in {line!r}")
        rows.append(values)
    if not rows:
        raise DataValidationError(f"{path}: no rows")
    return np.asarray(rows, dtype=np.float64)


def eth_ucy_windows(rows: np.ndarray, past: int = 8, future: int = 12, min_agents: int = 1) -> list[Tensor]:
    """Systems ``(N, past + future, 3)`` (z = 0) of every window of consecutive frames, in frame order."""
    span = past + future
    frames = np.unique(rows[:, 0])
    peds = np.unique(rows[:, 1])
    grid = np.full((frames.size, peds.size, 2), np.nan)
    fi = np.searchsorted(frames, rows[:, 0])
    pi = np.searchsorted(peds, rows[:, 1])
    grid[fi, pi] = rows[:, 2:4]
    out = []
    for start in range(frames.size - span + 1):
        window = grid[start : start + span]  # (span, P, 2)
        present = ~np.isnan(window).any(axis=(0, 2))
        if present.sum() < min_agents:
            continue
        xy = torch.from_numpy(window[:, present].transpose(1, 0, 2).astype(np.float32))  # (N, span, 2)
        out.append(torch.cat([xy, torch.zeros(*xy.shape[:2], 1)], dim=-1))
    return out


def eth_ucy_systems(paths: list[str] | list[Path], past: int = 8, future: int = 12, min_agents: int = 1) -> list[Data]:
    """Every window of every file as a graph (``x0: (N, T, 3)``, fully connected, no node or edge features)."""
    systems = []
    for path in paths:
        for x in eth_ucy_windows(read_eth_ucy(path), past, future, min_agents):
            edge_index = fully_connected_edges(torch.zeros(x.shape[0], dtype=torch.long))
            systems.append(Data(x0=x, edge_index=edge_index, num_nodes=x.shape[0]))
    return systems
