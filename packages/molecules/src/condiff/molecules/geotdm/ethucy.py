"""ETH-UCY pedestrian files (one ``frame pedestrian x y`` row per line, whitespace separated) as GeoTDM systems.

A window is ``past + future`` consecutive annotated frames (GeoTDM: 8 + 12); the pedestrians seen in all of
them form one system, with their planar positions lifted to 3D as ``(x, y, 0)`` (the network is equivariant
to rotations about the vertical axis and to translations of the plane, as for the 3D data).

Without files, :func:`simulate_crowd` is the built-in source: pedestrians of a social-force model (Helbing and
Molnar 1995) at ETH-UCY's 2.5 frames per second, in the same ``frame pedestrian x y`` rows.
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


def simulate_crowd(
    pedestrians: int = 5, frames: int = 60, seed: int = 0, dt: float = 0.4, substeps: int = 4
) -> np.ndarray:
    """Rows ``(frame, pedestrian, x, y)`` of one simulated scene (metres, a frame every ``dt`` seconds).

    Social force per pedestrian ``i``: ``dv_i/dt = (v0_i - v_i) / tau + sum_j A exp((2 r - d_ij) / B) n_ij + xi``
    with ``tau = 0.5 s``, ``A = 2 m/s^2``, ``B = 0.3 m``, body radius ``r = 0.3 m``, ``n_ij`` the unit vector from
    ``j`` to ``i`` and white noise ``xi`` (0.3 m/s^2); the desired velocity ``v0_i`` (speed ~ N(1.3, 0.2) m/s)
    turns by a random walk of its heading (0.15 rad per frame), so the future is uncertain given the past.
    Integrated with ``substeps`` semi-implicit Euler steps per frame.
    """
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-4.0, 4.0, size=(pedestrians, 2))
    heading = rng.uniform(0.0, 2 * np.pi, size=pedestrians)
    speed = np.clip(rng.normal(1.3, 0.2, size=pedestrians), 0.5, 2.0)
    vel = speed[:, None] * np.stack([np.cos(heading), np.sin(heading)], axis=1)
    h = dt / substeps
    rows = []
    for frame in range(frames):
        rows += [(frame, i, pos[i, 0], pos[i, 1]) for i in range(pedestrians)]
        heading = heading + rng.normal(0.0, 0.15, size=pedestrians)
        goal = speed[:, None] * np.stack([np.cos(heading), np.sin(heading)], axis=1)
        for _ in range(substeps):
            diff = pos[:, None, :] - pos[None, :, :]  # (P, P, 2): i - j
            dist = np.linalg.norm(diff, axis=-1) + np.eye(pedestrians)
            push = 2.0 * np.exp((0.6 - dist) / 0.3) * (1 - np.eye(pedestrians))
            force = (goal - vel) / 0.5 + (push[..., None] * diff / dist[..., None]).sum(axis=1)
            vel = vel + h * (force + rng.normal(0.0, 0.3, size=vel.shape))
            pos = pos + h * vel
    return np.asarray(rows, dtype=np.float64)


def crowd_systems(scenes: int, seed: int, past: int = 8, future: int = 12, pedestrians: int = 5) -> list[Data]:
    """Every window of ``scenes`` simulated scenes (seeds ``seed * 1000 + s``) as graphs, as :func:`eth_ucy_systems`."""
    systems = []
    for s in range(scenes):
        rows = simulate_crowd(pedestrians, frames=3 * (past + future), seed=seed * 1000 + s)
        for x in eth_ucy_windows(rows, past, future):
            edge_index = fully_connected_edges(torch.zeros(x.shape[0], dtype=torch.long))
            systems.append(Data(x0=x, edge_index=edge_index, num_nodes=x.shape[0]))
    return systems
