"""Offline data: the flat D4RL layout, built-in generators, D4RL / Minari loaders, windows, data module."""

from condiff.rl.data.d4rl import load_d4rl_hdf5, write_d4rl_hdf5
from condiff.rl.data.datamodule import TrajectoryDataModule
from condiff.rl.data.dataset import OfflineDataset
from condiff.rl.data.minari import load_minari
from condiff.rl.data.sources import load_offline_data

__all__ = [
    "OfflineDataset",
    "TrajectoryDataModule",
    "load_d4rl_hdf5",
    "load_minari",
    "load_offline_data",
    "write_d4rl_hdf5",
]
