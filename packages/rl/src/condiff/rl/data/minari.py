"""Read a Minari data set from a local folder (``<dataset>/data/main_data.hdf5``), never downloaded.

Minari stores one HDF5 group per episode, ``episode_<id>`` with ``observations`` (``T + 1`` rows, or a
group of arrays for dict observations such as PointMaze's), ``actions``, ``rewards``, ``terminations``
and ``truncations`` (``T`` rows each).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import h5py
import numpy as np

from condiff.core.errors import DataValidationError
from condiff.rl.data.dataset import OfflineDataset


def minari_data_file(path: str | os.PathLike[str]) -> Path:
    """The HDF5 file of a Minari data set given its folder, its ``data`` folder or the file itself."""
    path = Path(path)
    for candidate in (path, path / "main_data.hdf5", path / "data" / "main_data.hdf5"):
        if candidate.is_file():
            return candidate
    raise DataValidationError(f"{path}: no Minari data file (expected {path / 'data' / 'main_data.hdf5'})")


def load_minari(path: str | os.PathLike[str]) -> OfflineDataset:
    """Flatten a local Minari data set into D4RL's layout; dict observations give ``observation``/``desired_goal``."""
    file = minari_data_file(path)
    try:
        f = h5py.File(file, "r")
    except OSError as e:
        raise DataValidationError(f"{file}: not a readable HDF5 file ({e})") from e
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("obs", "act", "rew", "term", "trunc", "goal")}
    with f:
        names = sorted((k for k in f if re.fullmatch(r"episode_\d+", k)), key=lambda k: int(k.split("_")[1]))
        if not names:
            raise DataValidationError(f"{file}: no 'episode_<id>' groups (found {sorted(f.keys())[:10]})")
        for name in names:
            _read_episode(f[name], f"{file}:{name}", parts)
    goals = np.concatenate(parts["goal"]) if parts["goal"] and len(parts["goal"]) == len(names) else None
    try:
        return OfflineDataset(
            observations=np.concatenate(parts["obs"]).astype(np.float32),
            actions=np.concatenate(parts["act"]).astype(np.float32),
            rewards=np.concatenate(parts["rew"]).astype(np.float32),
            terminals=np.concatenate(parts["term"]).astype(bool),
            timeouts=np.concatenate(parts["trunc"]).astype(bool),
            goals=goals,
        )
    except DataValidationError as e:
        raise DataValidationError(f"{file}: {e}") from e


def _array(group: h5py.Group, key: str, where: str) -> np.ndarray:
    if key not in group or not isinstance(group[key], h5py.Dataset):
        raise DataValidationError(f"{where}: missing array '{key}' (found {sorted(group.keys())})")
    return np.asarray(group[key][()])


def _read_episode(ep: h5py.Group, where: str, parts: dict[str, list[np.ndarray]]) -> None:
    actions = _array(ep, "actions", where)
    t = len(actions)
    obs_node = ep.get("observations")
    if isinstance(obs_node, h5py.Group):
        obs = _array(obs_node, "observation", f"{where}/observations")
        if "desired_goal" in obs_node:
            parts["goal"].append(_array(obs_node, "desired_goal", f"{where}/observations")[:t])
    else:
        obs = _array(ep, "observations", where)
    if len(obs) != t + 1:
        raise DataValidationError(f"{where}: {len(obs)} observations for {t} actions, expected {t + 1}")
    rewards = _array(ep, "rewards", where).reshape(-1)
    term = _array(ep, "terminations", where).astype(bool).reshape(-1)
    trunc = _array(ep, "truncations", where).astype(bool).reshape(-1)
    for key, arr in (("rewards", rewards), ("terminations", term), ("truncations", trunc)):
        if len(arr) != t:
            raise DataValidationError(f"{where}: '{key}' has {len(arr)} rows, 'actions' has {t}")
    trunc = trunc.copy()
    trunc[-1] = trunc[-1] or not term[-1]  # every episode ends where its group ends
    parts["obs"].append(obs[:t].reshape(t, -1))
    parts["act"].append(actions.reshape(t, -1))
    parts["rew"].append(rewards)
    parts["term"].append(term)
    parts["trunc"].append(trunc)
