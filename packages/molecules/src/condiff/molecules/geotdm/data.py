"""N-body trajectories as torch-geometric graphs, and the Lightning data module over the built-in splits.

Each system is one ``Data`` with ``x0: (N, T, 3)`` positions, ``h: (N, 1)`` charges (masses for gravity),
fully connected ``edge_index`` and ``edge_attr: (E, 1)`` couplings (``q_i q_j``, spring adjacency or
``m_i m_j``), as GeoTDM's N-body loader builds them; a loader batch is the disjoint union of its systems.

Built-in data are simulated on first use in chunks of ``chunk_size`` systems, each chunk from its own seed
(``data_seed``, split, chunk), so a split is the same whatever order it is read in and a loader that touches a
few systems simulates only their chunks. ``path`` reads the ``<split>.npz`` files of
:func:`~condiff.molecules.geotdm.nbody.write_nbody_splits` instead.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import Dataset

from condiff.core.errors import ConfigError, DataValidationError
from condiff.molecules.geotdm.nbody import SPLITS, NBodyConfig, NBodyTrajectories, load_nbody_npz, simulate_systems
from condiff.molecules.geotdm.network._pyg import Batch, Data, DataLoader
from condiff.molecules.geotdm.network.graph import fully_connected_edges
from condiff.molecules.geotdm.systems import Systems, systems_from_batch


def system_graph(positions: Tensor, charges: Tensor, couplings: Tensor) -> Data:
    """One system as a graph: ``positions: (N, T, 3)``, ``charges: (N,)``, ``couplings: (N, N)``."""
    n = positions.shape[0]
    edge_index = fully_connected_edges(torch.zeros(n, dtype=torch.long))
    edge_attr = couplings[edge_index[0], edge_index[1]][:, None]
    return Data(x0=positions, h=charges[:, None], edge_index=edge_index, edge_attr=edge_attr, num_nodes=n)


class NBodySplit(Dataset[Data]):
    """One split of N-body systems: simulated chunk by chunk on first access, or held in memory."""

    def __init__(
        self,
        size: int,
        config: NBodyConfig,
        seed: int,
        chunk_size: int = 100,
        trajectories: NBodyTrajectories | None = None,
    ) -> None:
        if size < 1:
            raise ConfigError(f"NBodySplit: size must be >= 1, got {size}")
        self.size, self.config, self.seed, self.chunk_size = size, config, seed, chunk_size
        self._chunks: dict[int, NBodyTrajectories] = {}
        self._memory = trajectories

    def __len__(self) -> int:
        return self.size

    def _chunk(self, c: int) -> NBodyTrajectories:
        if c not in self._chunks:
            n = min(self.chunk_size, self.size - c * self.chunk_size)
            self._chunks[c] = simulate_systems(n, self.config, seed=self.seed * 100_003 + c)
        return self._chunks[c]

    def __getitem__(self, i: int) -> Data:
        if not 0 <= i < self.size:
            raise IndexError(f"NBodySplit: index {i} out of range for {self.size} systems")
        if self._memory is not None:
            traj, j = self._memory, i
        else:
            traj, j = self._chunk(i // self.chunk_size), i % self.chunk_size
        return system_graph(traj.positions[j].float(), traj.charges[j].float(), traj.couplings[j].float())


class NBodyDataModule(L.LightningDataModule):
    """Train/val/test N-body systems (GeoTDM: 5 charged particles, spans of 30 frames every 100 steps of 1e-3).

    Args:
        interaction: ``charged``, ``springs`` or ``gravity``.
        num_particles, num_frames, sample_every, dt, vel_norm: the simulation (:class:`NBodyConfig`).
        train_size, val_size, test_size: systems per split (GeoTDM: 3000, 256, 2000).
        batch_size: systems per training batch.
        seed: shuffling seed; data_seed: simulation seed.
        path: folder with ``train.npz``, ``val.npz``, ``test.npz``; their first ``num_frames`` frames are used.
        chunk_size: systems simulated together.
    """

    def __init__(
        self,
        interaction: str = "charged",
        num_particles: int = 5,
        num_frames: int = 30,
        sample_every: int = 100,
        dt: float = 0.001,
        vel_norm: float = 0.5,
        train_size: int = 3000,
        val_size: int = 256,
        test_size: int = 2000,
        batch_size: int = 128,
        seed: int = 0,
        data_seed: int = 0,
        path: str | None = None,
        chunk_size: int = 100,
    ) -> None:
        super().__init__()
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"config key 'task.datamodule.batch_size' has a bad value {batch_size!r}: expected >= 1")
        self.config = NBodyConfig(
            interaction=interaction,  # type: ignore[arg-type]
            num_particles=num_particles,
            num_frames=num_frames,
            sample_every=sample_every,
            dt=dt,
            vel_norm=vel_norm,
        )
        self.batch_size, self.seed, self.num_frames = batch_size, int(seed), int(num_frames)
        sizes = {"train": train_size, "val": val_size, "test": test_size}
        self.splits: dict[str, NBodySplit] = {}
        for index, split in enumerate(SPLITS):
            traj = self._load(Path(path) / f"{split}.npz") if path is not None else None
            size = traj.positions.shape[0] if traj is not None else sizes[split]
            self.splits[split] = NBodySplit(size, self.config, data_seed * len(SPLITS) + index, chunk_size, traj)

    def _load(self, file: Path) -> NBodyTrajectories:
        traj = load_nbody_npz(file)
        frames = traj.positions.shape[2]
        if frames < self.num_frames:
            raise DataValidationError(f"{file}: {frames} frames, fewer than num_frames={self.num_frames}")
        return NBodyTrajectories(
            traj.positions[:, :, : self.num_frames],
            traj.velocities[:, :, : self.num_frames],
            traj.charges,
            traj.couplings,
        )

    def train_dataloader(self) -> DataLoader:
        g = torch.Generator().manual_seed(self.seed)
        return DataLoader(self.splits["train"], batch_size=self.batch_size, shuffle=True, generator=g)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.splits["val"], batch_size=self.batch_size, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(self.splits["test"], batch_size=self.batch_size, shuffle=False)

    def eval_systems(self, n: int, split: str = "val") -> Systems:
        """The first ``n`` systems of ``split`` as one batch (the systems validation samples are scored on)."""
        data = self.splits[split]
        return systems_from_batch(Batch.from_data_list([data[i] for i in range(min(n, len(data)))]))


class TrajectoryDataModule(L.LightningDataModule):
    """Loaders over lists of system graphs per split (the base of the MD17 and ETH-UCY data modules)."""

    def __init__(self, splits: dict[str, list[Data]], batch_size: int = 128, seed: int = 0) -> None:
        super().__init__()
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"config key 'task.datamodule.batch_size' has a bad value {batch_size!r}: expected >= 1")
        for split in SPLITS:
            if not splits.get(split):
                raise DataValidationError(f"{type(self).__name__}: the {split} split holds no system")
        self.splits, self.batch_size, self.seed = splits, batch_size, int(seed)

    def train_dataloader(self) -> DataLoader:
        g = torch.Generator().manual_seed(self.seed)
        return DataLoader(self.splits["train"], batch_size=self.batch_size, shuffle=True, generator=g)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.splits["val"], batch_size=self.batch_size, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(self.splits["test"], batch_size=self.batch_size, shuffle=False)

    def eval_systems(self, n: int, split: str = "val") -> Systems:
        """The first ``n`` systems of ``split`` as one batch."""
        return systems_from_batch(Batch.from_data_list(self.splits[split][:n]))


class MD17DataModule(TrajectoryDataModule):
    """GeoTDM's MD17 setting: one molecule's ``.npz``, every 10th frame, windows of 30 (see :mod:`.md17`).

    Args:
        path: the sGDML ``md17_<molecule>.npz`` file; ``None``: the built-in simulated molecule
            (:func:`~condiff.molecules.geotdm.md17.simulate_molecule`).
        span, every, with_hydrogen, cutoff: see :func:`~condiff.molecules.geotdm.md17.md17_systems`.
        train_windows, eval_windows: windows of the train split and of val/test (GeoTDM: 5000, 1000).
    """

    def __init__(
        self,
        path: str | None = None,
        span: int = 30,
        every: int = 10,
        with_hydrogen: bool = True,
        cutoff: float = 1.6,
        train_windows: int = 5000,
        eval_windows: int = 1000,
        batch_size: int = 128,
        seed: int = 0,
    ) -> None:
        from condiff.molecules.geotdm.md17 import md17_source, split_systems

        positions, z = md17_source(path, with_hydrogen)  # read (or simulated) once for the three splits
        splits = {
            split: split_systems(positions, z, split, span, every, n, cutoff)
            for split, n in (("train", train_windows), ("val", eval_windows), ("test", eval_windows))
        }
        super().__init__(splits, batch_size, seed)


class ETHUCYDataModule(TrajectoryDataModule):
    """ETH-UCY scenes: windows of ``past + future`` frames from the train and test files (see :mod:`.ethucy`).

    Validation uses the test files (the usual leave-one-scene-out protocol has no separate validation scene).
    Without files (both ``None``) the built-in crowd: ``builtin_scenes`` simulated training scenes and a quarter as
    many test scenes of 5 pedestrians (:func:`~condiff.molecules.geotdm.ethucy.simulate_crowd`).
    """

    def __init__(
        self,
        train_paths: list[str] | None = None,
        test_paths: list[str] | None = None,
        past: int = 8,
        future: int = 12,
        min_agents: int = 1,
        batch_size: int = 32,
        seed: int = 0,
        builtin_scenes: int = 40,
    ) -> None:
        from condiff.molecules.geotdm.ethucy import crowd_systems, eth_ucy_systems

        if (train_paths is None) != (test_paths is None):
            raise ConfigError(
                "config keys 'task.datamodule.train_paths' and 'test_paths': give both (real scenes) or neither "
                "(the built-in simulated crowd)"
            )
        if train_paths is None or test_paths is None:
            train = crowd_systems(builtin_scenes, 0, past, future)
            test = crowd_systems(max(1, builtin_scenes // 4), 1, past, future)
        else:
            train = eth_ucy_systems(list(train_paths), past, future, min_agents)
            test = eth_ucy_systems(list(test_paths), past, future, min_agents)
        super().__init__({"train": train, "val": test, "test": test}, batch_size, seed)
