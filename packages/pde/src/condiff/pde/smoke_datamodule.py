"""2-D smoke trajectories as the core's training batches (WDNO's state and condition).

A batch is ``{"x0": codec.encode(fields), "cond": {"cond_image": cond_codec.encode(rho0)}}`` with ``fields``
the frames of density, velocity and force as channels (:mod:`condiff.pde.smoke_fields`) and ``codec`` the
one-level 2-D wavelet transform over ``(y, x)`` with packed subbands and per-channel scales
(:class:`condiff.pde.codec.WaveletCodec`; :class:`~condiff.pde.codec.PixelCodec` for the pixel ablation).
The force is part of the generated state: simulation imposes it by replacement, control generates it
(:mod:`condiff.pde.smoke_control`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from condiff.core.errors import DataValidationError
from condiff.pde.datamodule import _one_thread, make_codec
from condiff.pde.smoke import DEFAULT_EXITS, SmokeBox, SmokeRun, simulate_smoke
from condiff.pde.smoke_data import SmokeTrajectories, load_smoke, save_smoke, smoke_trajectories
from condiff.pde.smoke_fields import smoke_field_channels, smoke_fields

FORMATS = ("nc", "zarr")


class SmokeBlocks:
    """``samples`` trajectories solved on first use in blocks of ``block`` (block ``j`` from seed
    ``seed * 1000003 + j``), or all of them read from a file."""

    def __init__(self, samples: int, block: int, box: SmokeBox, seed: int, force_amplitude: float) -> None:
        if samples < 1 or block < 1:
            raise ValueError(f"need samples >= 1 and block >= 1, got {samples}, {block}")
        self.samples, self.block, self.box, self.seed, self.amplitude = samples, block, box, seed, force_amplitude
        self._cache: dict[int, SmokeTrajectories] = {}

    def __len__(self) -> int:
        return self.samples

    def block_of(self, j: int) -> SmokeTrajectories:
        if j not in self._cache:
            size = min(self.block, self.samples - j * self.block)
            with _one_thread():
                self._cache[j] = smoke_trajectories(
                    size, self.box, seed=self.seed * 1_000_003 + j, force_amplitude=self.amplitude
                )
        return self._cache[j]

    def item(self, i: int) -> tuple[Tensor, Tensor, Tensor]:
        """``(density (T, n, n), velocity (T, 2, n, n), force (T - 1, 2, n, n))`` of trajectory ``i``."""
        if not 0 <= i < self.samples:
            raise IndexError(f"trajectory {i} outside [0, {self.samples})")
        traj, k = self.block_of(i // self.block), i % self.block
        return traj.density[k], traj.velocity[k], traj.force[k]

    def all(self) -> SmokeTrajectories:
        blocks = [self.block_of(j) for j in range(-(-self.samples // self.block))]
        cat = {
            name: torch.cat([getattr(b, name) for b in blocks]) for name in ("density", "velocity", "force", "outflow")
        }
        attrs = {**blocks[0].attrs, "seed": self.seed * 1_000_003, "block": self.block}
        return SmokeTrajectories(**cat, t=blocks[0].t, box=self.box, attrs=attrs)


class _FileSource:
    def __init__(self, traj: SmokeTrajectories) -> None:
        self.traj = traj

    def __len__(self) -> int:
        return self.traj.density.shape[0]

    def item(self, i: int) -> tuple[Tensor, Tensor, Tensor]:
        return self.traj.density[i], self.traj.velocity[i], self.traj.force[i]

    def all(self) -> SmokeTrajectories:
        return self.traj


class _Items(Dataset):
    def __init__(self, source: SmokeBlocks | _FileSource) -> None:
        self.source = source

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        density, velocity, force = self.source.item(i)
        fields = smoke_fields(density[None], velocity[None], force[None])[0]
        return fields.float(), density[None, 0].float()


class SmokeDataModule(L.LightningDataModule):
    """2-D smoke in a box (:mod:`condiff.pde.smoke`) for WDNO: random releases, random forces.

    Args:
        n: cells per side.
        nt: frame intervals (``T = nt + 1`` frames).
        t_final, buoyancy, damping, substeps, exits, target, inlet: the scene, :class:`~condiff.pde.smoke.SmokeBox`
            (``exits`` None: three openings of width 1/8; ``inlet`` None: a closed bottom).
        force_amplitude: amplitude of the random forces of the data.
        train_samples, test_samples: trajectories (held-out ones from seed ``seed + 1``).
        domain: ``"wavelet"`` (WDNO) or ``"pixel"``; wavelet, level: the 2-D DWT over ``(y, x)``.
        batch_size: training batch size.
        data_dir: folder of ``train.<format>`` / ``test.<format>``, read when present, else written; None keeps
            the data in memory, solved block by block as batches need them.
        data_format: ``"nc"`` (NetCDF-4) or ``"zarr"``.
        block: trajectories solved together.
        seed: seed of the data and of the batch order.
        num_workers: DataLoader workers.
    """

    def __init__(
        self,
        n: int = 32,
        nt: int = 15,
        t_final: float = 1.5,
        buoyancy: float = 16.0,
        damping: float = 2.0,
        substeps: int = 4,
        exits: list[list[float]] | None = None,
        target: int = 1,
        inlet: list[float] | tuple[float, float] | None = (0.0, 1.0),
        force_amplitude: float = 2.0,
        train_samples: int = 1024,
        test_samples: int = 64,
        domain: str = "wavelet",
        wavelet: str = "bior2.4",
        level: int = 1,
        batch_size: int = 32,
        data_dir: str | None = None,
        data_format: str = "nc",
        block: int = 64,
        seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if n % 2**level:
            raise ValueError(f"n = {n} must be divisible by 2**level = {2**level}")
        if data_format not in FORMATS:
            raise ValueError(f"data_format must be one of {FORMATS}, got {data_format!r}")
        self.box = SmokeBox(
            n=n, exits=DEFAULT_EXITS if exits is None else tuple((float(a), float(b)) for a, b in exits),
            target=target, buoyancy=buoyancy, t_final=t_final, nt=nt, substeps=substeps,
            inlet=None if inlet is None else (float(inlet[0]), float(inlet[1])), damping=damping,
        )  # fmt: skip
        self.frames = nt + 1
        self.force_amplitude, self.train_samples, self.test_samples = force_amplitude, train_samples, test_samples
        self.batch_size, self.data_dir, self.data_format = batch_size, data_dir, data_format
        self.block, self.seed, self.num_workers = block, seed, num_workers
        self.codec = make_codec(domain, smoke_field_channels(self.frames), wavelet, level)
        self.cond_codec = make_codec(domain, 1, wavelet, level)
        self._train: SmokeBlocks | _FileSource | None = None
        self._test: SmokeBlocks | _FileSource | None = None

    def _source(self, name: str, samples: int, seed: int) -> SmokeBlocks | _FileSource:
        blocks = SmokeBlocks(samples, self.block, self.box, seed, self.force_amplitude)
        if self.data_dir is None:
            return blocks
        path = Path(self.data_dir) / f"{name}.{self.data_format}"
        if not path.exists():
            save_smoke(blocks.all(), path)
        traj = load_smoke(path)
        if traj.density.shape[0] != samples or traj.box != self.box or traj.attrs.get("seed") != seed * 1_000_003:
            raise DataValidationError(
                f"{path}: holds {traj.density.shape[0]} trajectories of {traj.box} from seed {traj.attrs.get('seed')},"
                f" expected {samples} of {self.box} from seed {seed * 1_000_003}; delete it or choose another data_dir"
            )
        return _FileSource(traj)

    def setup(self, stage: str | None = None) -> None:
        if self._train is not None:
            return
        self._train = self._source("train", self.train_samples, self.seed)
        self._test = self._source("test", self.test_samples, self.seed + 1)
        items = _Items(self._train)
        first = [items[i] for i in range(min(self.block, len(items)))]
        self.codec.fit(torch.stack([a for a, _ in first]))
        self.cond_codec.fit(torch.stack([b for _, b in first]))

    @property
    def test(self) -> SmokeTrajectories:
        """The held-out trajectories."""
        self.setup()
        assert self._test is not None
        return self._test.all()

    def solve(self, rho0: Tensor, force: Tensor) -> SmokeRun:
        """The data's solver: ``rho0 (B, n, n)``, ``force (B, nt, 2, n, n)`` (float64)."""
        return simulate_smoke(rho0.double(), force.double(), self.box)

    def batch(self, fields: Tensor, rho0: Tensor) -> dict[str, Any]:
        """The core's batch from field images ``(B, 5T - 2, n, n)`` and initial densities ``(B, 1, n, n)``."""
        return {"x0": self.codec.encode(fields), "cond": {"cond_image": self.cond_codec.encode(rho0)}}

    def _collate(self, items: list[tuple[Tensor, Tensor]]) -> dict[str, Any]:
        return self.batch(torch.stack([a for a, _ in items]), torch.stack([b for _, b in items]))

    def train_dataloader(self) -> DataLoader:
        self.setup()
        assert self._train is not None
        if len(self._train) < self.batch_size:
            raise ValueError(
                f"need at least batch_size={self.batch_size} training trajectories, got {len(self._train)}"
            )
        gen = torch.Generator().manual_seed(self.seed)
        return DataLoader(
            _Items(self._train), batch_size=self.batch_size, shuffle=True, drop_last=True, generator=gen,
            collate_fn=self._collate, num_workers=self.num_workers,
        )  # fmt: skip

    def val_dataloader(self) -> DataLoader:
        self.setup()
        assert self._test is not None
        return DataLoader(
            _Items(self._test), batch_size=self.batch_size, collate_fn=self._collate, num_workers=self.num_workers
        )
