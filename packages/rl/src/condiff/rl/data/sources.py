"""Where offline data comes from: the built-in generators or a local D4RL / Minari file."""

from __future__ import annotations

import os
from pathlib import Path

from condiff.core.errors import ConfigError
from condiff.rl.data.d4rl import load_d4rl_hdf5
from condiff.rl.data.dataset import OfflineDataset
from condiff.rl.data.minari import load_minari
from condiff.rl.envs.make import env_spec

SOURCES = ("builtin", "d4rl", "minari")


def load_offline_data(
    env: str,
    source: str = "builtin",
    path: str | os.PathLike[str] | None = None,
    num_steps: int = 100_000,
    seed: int = 0,
    cache_dir: str | os.PathLike[str] = ".",
) -> OfflineDataset:
    """The offline data set of ``env``: generated and cached (``builtin``) or read from ``path``."""
    spec = env_spec(env)
    if source not in SOURCES:
        raise ConfigError(f"config key 'task.datamodule.source': {source!r} is not one of {SOURCES}")
    if source != "builtin":
        if path is None:
            raise ConfigError(f"config key 'task.datamodule.path': source={source!r} needs a local file or folder")
        return load_d4rl_hdf5(path) if source == "d4rl" else load_minari(path)
    if spec.goal_conditioned:
        from condiff.rl.data.maze2d import cached_maze2d

        return cached_maze2d(env, num_steps, seed, cache_dir)
    from condiff.rl.data.locomotion import cached_locomotion

    return cached_locomotion(env, num_steps, seed, Path(cache_dir))
