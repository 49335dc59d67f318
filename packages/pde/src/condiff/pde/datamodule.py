"""Burgers trajectories as the core's training batches: WDNO's state and conditions, at one or more resolutions.

A batch is ``{"x0": state, "cond": {"cond_image": condition}}`` for
:class:`condiff.core.training.DiffusionModule` and :class:`condiff.core.networks.ConditionalUNet`:

* ``x0 = codec.encode([u, f])``: the packed wavelet coefficients (or pixels) of the whole trajectory, state and
  forcing as channels (:mod:`condiff.pde.codec`, :mod:`condiff.pde.fields`).
* ``cond_image = cond_codec.encode(u0 broadcast over time [, u_T likewise])``: the known initial state (and,
  for control, the target final state) as extra input channels of the network. This is how the reference
  implementation of WDNO conditions on ``u0``: the initial state is one row of the ``u`` image, which is not
  a set of wavelet coefficients, so it enters as clean input channels instead of being replaced.

The forcing is part of the generated state: simulation replaces its coefficients (known exactly, a channel
mask) at every sampling step (:mod:`condiff.pde.simulate`); control generates it (:mod:`condiff.pde.control`).

Multi-resolution batches: with ``train_subsample=[1, 2]`` every batch is drawn at one spatial grid ``N / k``
(``k`` cycling through the list), from trajectories solved at the finest grid and subsampled, so one
convolutional network sees several resolutions of the same physics. (The paper's multi-resolution training
trains its super-resolution model on several grids, conditioned on the coarser coefficients; that stage is not
implemented yet. Without a resolution input, a base model trained on two grids was worse on both in
``benchmarks/pde.py``.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

from condiff.core.errors import DataValidationError
from condiff.pde.codec import PixelCodec, WaveletCodec
from condiff.pde.data import (
    Trajectories,
    advection_trajectories,
    burgers_trajectories,
    load_trajectories,
    save_trajectories,
)
from condiff.pde.fields import condition_fields, fourier_upsample, trajectory_fields
from condiff.pde.physics import advection_forced, burgers

DOMAINS = ("wavelet", "pixel")
PDES = ("burgers", "advection")


def make_codec(domain: str, channels: int, wavelet: str = "bior2.4", level: int = 1) -> PixelCodec:
    """The codec of a diffusion domain: ``"wavelet"`` (WDNO) or ``"pixel"`` (the ablation)."""
    if domain == "wavelet":
        return WaveletCodec(channels, wavelet, level)
    if domain == "pixel":
        return PixelCodec(channels)
    raise ValueError(f"unknown domain {domain!r}; expected one of {DOMAINS}")


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run the solver on one thread: its small dense matmuls only lose time to threading (measured 10-100x
    slower with 2 contended threads)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class TrajectoryBlocks:
    """``samples`` trajectories made on first use in blocks of ``block``: block ``j`` is ``make(j, size)``.

    Deterministic in the block index alone, so a training run touches (and solves) only the blocks its
    batches need, and a file written from :meth:`all` holds exactly what the blocks hold.
    """

    def __init__(self, samples: int, block: int, make: Callable[[int, int], Trajectories]) -> None:
        if samples < 1 or block < 1:
            raise ValueError(f"need samples >= 1 and block >= 1, got {samples}, {block}")
        self.samples, self.block, self.make = samples, block, make
        self._cache: dict[int, Trajectories] = {}

    def __len__(self) -> int:
        return self.samples

    def block_of(self, j: int) -> Trajectories:
        if j not in self._cache:
            size = min(self.block, self.samples - j * self.block)
            with _one_thread():
                self._cache[j] = self.make(j, size)
        return self._cache[j]

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        """``(u: (T, N), forcing: (T - 1, N))`` of trajectory ``i``."""
        if not 0 <= i < self.samples:
            raise IndexError(f"trajectory {i} outside [0, {self.samples})")
        traj = self.block_of(i // self.block)
        assert traj.forcing is not None
        return traj.u[i % self.block], traj.forcing[i % self.block]

    def all(self) -> Trajectories:
        """Every trajectory as one :class:`Trajectories`."""
        blocks = [self.block_of(j) for j in range(-(-self.samples // self.block))]
        first = blocks[0]
        forcing = torch.cat([b.forcing for b in blocks if b.forcing is not None])
        attrs = {**first.attrs, "block": self.block}
        return Trajectories(torch.cat([b.u for b in blocks]), first.t, first.x, forcing, dict(first.units), attrs)


class _Items(Dataset):
    """``(index, subsample)`` -> field and condition images of one trajectory on the subsampled grid."""

    def __init__(self, source: TrajectoryBlocks | Trajectories, condition_on_final: bool, coarse: bool) -> None:
        self.source, self.condition_on_final, self.coarse = source, condition_on_final, coarse

    def __len__(self) -> int:
        return len(self.source) if isinstance(self.source, TrajectoryBlocks) else self.source.u.shape[0]

    def __getitem__(self, key: tuple[int, int]) -> tuple[Tensor, Tensor]:
        i, k = key
        if isinstance(self.source, TrajectoryBlocks):
            u, f = self.source[i]
        else:
            assert self.source.forcing is not None
            u, f = self.source.u[i], self.source.forcing[i]
        u, f = u[..., ::k], f[..., ::k]
        final = u[None, -1] if self.condition_on_final else None
        coarse = fourier_upsample(u[None, :, ::2]) if self.coarse else None
        cond = condition_fields(u[None, 0], u.shape[0], final, coarse)[0]
        return trajectory_fields(u[None], f[None])[0].float(), cond.float()


class MultiResolutionBatches(Sampler[list[tuple[int, int]]]):
    """Shuffled batches of ``(index, subsample)``; batch ``j`` of an epoch uses ``factors[j % len(factors)]``.

    The order is a pure function of ``(seed, epoch)`` (Lightning calls :meth:`set_epoch`), so a resumed run
    sees the batches an uninterrupted one does.
    """

    def __init__(self, n: int, batch_size: int, factors: list[int], seed: int = 0) -> None:
        if n < batch_size:
            raise ValueError(f"need at least batch_size={batch_size} training trajectories, got {n}")
        self.n, self.batch_size, self.factors, self.seed, self.epoch = n, batch_size, list(factors), seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(self.n, generator=g).tolist()
        for j in range(len(self)):
            k = self.factors[j % len(self.factors)]
            yield [(i, k) for i in order[j * self.batch_size : (j + 1) * self.batch_size]]

    def __len__(self) -> int:
        return self.n // self.batch_size


class BurgersDataModule(L.LightningDataModule):
    """Forced viscous Burgers (:func:`condiff.pde.data.burgers_trajectories`) or forced advection
    (:func:`condiff.pde.data.advection_trajectories`, ``pde="advection"``) trajectories for WDNO.

    Args:
        n: finest spatial grid (periodic ``[0, 1)``).
        nt: frame intervals; the image has ``T = nt + 1`` rows (``T`` divisible by ``2**level``).
        train_samples: training trajectories.
        test_samples: held-out trajectories (another seed).
        nu: viscosity (Burgers).
        t_final: final time.
        forcing_amplitude: amplitude of the random forcing.
        pde: ``"burgers"`` (forced viscous Burgers) or ``"advection"`` (forced linear advection, exact).
        velocity: advection speed ``c``.
        domain: ``"wavelet"`` (WDNO) or ``"pixel"``.
        wavelet: PyWavelets wavelet of the codec.
        level: DWT levels.
        condition_on_final: also condition on the final state (the control model: ``p(u, f | u0, u_T)``).
        super_resolution: also condition on the trajectory at half the resolution, interpolated to the grid
            (:func:`~condiff.pde.fields.fourier_upsample`): the super-resolution model ``p(u, f | u0, u_coarse)``
            of the paper, applied grid after grid by :func:`condiff.pde.simulate.refine`.
        train_subsample: spatial subsampling factors of the training batches (multi-resolution training).
        batch_size: training batch size.
        data_dir: folder of ``train.nc`` / ``test.nc``: read when present, else generated and written there;
            None solves the trajectories in memory, block by block as batches first need them.
        block: trajectories solved together (block ``j`` of the training set has seed ``seed * 1000003 + j``).
        scaling: ``"channel"`` or ``"field"``: how the state is normalised (:meth:`PixelCodec.fit`).
        seed: seed of the training data (``seed + 1`` for the held-out data) and of the batch order.
        num_workers: DataLoader workers.
    """

    def __init__(
        self,
        n: int = 128,
        nt: int = 15,
        train_samples: int = 1024,
        test_samples: int = 64,
        nu: float = 0.01,
        t_final: float = 1.0,
        forcing_amplitude: float = 1.0,
        pde: str = "burgers",
        velocity: float = 1.0,
        domain: str = "wavelet",
        wavelet: str = "bior2.4",
        level: int = 1,
        condition_on_final: bool = False,
        super_resolution: bool = False,
        train_subsample: list[int] | tuple[int, ...] = (1,),
        batch_size: int = 32,
        data_dir: str | None = None,
        block: int = 64,
        scaling: str = "channel",
        seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if pde not in PDES:
            raise ValueError(f"unknown pde {pde!r}; expected one of {PDES}")
        self.pde, self.velocity = pde, float(velocity)
        factors = [int(k) for k in train_subsample]
        grid = 2**level * (2 if super_resolution else 1)
        if not factors or any(k < 1 or n % (k * grid) for k in factors):
            raise ValueError(f"train_subsample {factors}: each factor k needs N / k = {n} / k divisible by {grid}")
        if (nt + 1) % 2**level:
            raise ValueError(f"T = nt + 1 = {nt + 1} must be divisible by 2**level = {2**level}")
        self.n, self.nt, self.train_samples, self.test_samples = n, nt, train_samples, test_samples
        self.nu, self.t_final, self.forcing_amplitude = nu, t_final, forcing_amplitude
        self.condition_on_final, self.train_subsample = condition_on_final, factors
        self.batch_size, self.data_dir, self.seed, self.num_workers = batch_size, data_dir, seed, num_workers
        self.codec = make_codec(domain, 2, wavelet, level)
        self.super_resolution = super_resolution
        self.cond_codec = make_codec(domain, 1 + int(condition_on_final) + int(super_resolution), wavelet, level)
        self.block, self.scaling = block, scaling
        self._train: TrajectoryBlocks | Trajectories | None = None
        self._test: TrajectoryBlocks | Trajectories | None = None

    # -- data --------------------------------------------------------------------
    def _make(self, seed: int) -> Callable[[int, int], Trajectories]:
        def make(block: int, size: int) -> Trajectories:
            seed_j, tf, amp = seed * 1_000_003 + block, self.t_final, self.forcing_amplitude
            if self.pde == "advection":
                return advection_trajectories(
                    size, self.n, self.nt, seed=seed_j, velocity=self.velocity, t_final=tf, forcing_amplitude=amp
                )
            return burgers_trajectories(
                size, self.n, self.nt, seed=seed_j, nu=self.nu, t_final=tf, forcing_amplitude=amp
            )

        return make

    def solve(self, u0: Tensor, forcing: Tensor) -> Tensor:
        """The data's solver on any grid: ``u0: (B, N)``, ``forcing: (B, nt, N)`` -> ``(B, nt + 1, N)`` (float64)."""
        u0, forcing = u0.double(), forcing.double()
        if self.pde == "advection":
            return advection_forced(u0, velocity=self.velocity, nt=self.nt, t_final=self.t_final, forcing=forcing)
        return burgers(u0, nu=self.nu, nt=self.nt, t_final=self.t_final, forcing=forcing)

    def _source(self, name: str, samples: int, seed: int) -> TrajectoryBlocks | Trajectories:
        blocks = TrajectoryBlocks(samples, self.block, self._make(seed))
        if self.data_dir is None:
            return blocks
        path = Path(self.data_dir) / f"{name}.nc"
        if not path.is_file():
            save_trajectories(blocks.all(), path)
        traj = load_trajectories(path)
        expected = (samples, self.nt + 1, self.n)
        if tuple(traj.u.shape) != expected or traj.attrs.get("seed") != seed * 1_000_003:
            raise DataValidationError(
                f"{path}: holds u {tuple(traj.u.shape)} from seed {traj.attrs.get('seed')}, expected {expected}"
                f" from seed {seed * 1_000_003}; delete it or choose another data_dir"
            )
        return traj

    def setup(self, stage: str | None = None) -> None:
        if self._train is not None:
            return
        self._train = self._source("train", self.train_samples, self.seed)
        self._test = self._source("test", self.test_samples, self.seed + 1)
        # The scales come from the first block (or the first `block` trajectories of a file) at the first
        # training resolution: the same numbers whether the data were generated in memory or read back.
        first = _Items(self._train, self.condition_on_final, self.super_resolution)
        items = [first[(i, self.train_subsample[0])] for i in range(min(self.block, len(first)))]
        self.codec.fit(torch.stack([a for a, _ in items]), per=self.scaling)
        self.cond_codec.fit(torch.stack([b for _, b in items]))

    @property
    def test(self) -> Trajectories:
        """The held-out trajectories (all of them, solved on first use)."""
        self.setup()
        assert self._test is not None
        return self._test.all() if isinstance(self._test, TrajectoryBlocks) else self._test

    def batch(self, fields: Tensor, cond: Tensor) -> dict[str, Any]:
        """The core's batch from field images ``(B, 2, T, N)`` and condition images ``(B, C, T, N)``."""
        return {"x0": self.codec.encode(fields), "cond": {"cond_image": self.cond_codec.encode(cond)}}

    def _collate(self, items: list[tuple[Tensor, Tensor]]) -> dict[str, Any]:
        return self.batch(torch.stack([a for a, _ in items]), torch.stack([b for _, b in items]))

    # -- loaders -----------------------------------------------------------------
    def train_dataloader(self) -> DataLoader:
        self.setup()
        assert self._train is not None
        items = _Items(self._train, self.condition_on_final, self.super_resolution)
        batches = MultiResolutionBatches(len(items), self.batch_size, self.train_subsample, self.seed)
        return DataLoader(items, batch_sampler=batches, collate_fn=self._collate, num_workers=self.num_workers)

    def val_dataloader(self) -> DataLoader:
        self.setup()
        assert self._test is not None
        items = _Items(self._test, self.condition_on_final, self.super_resolution)
        k = self.train_subsample[0]  # the held-out loss on the (first) training grid
        keys = [
            [(i, k) for i in range(s, min(s + self.batch_size, len(items)))]
            for s in range(0, len(items), self.batch_size)
        ]
        return DataLoader(items, batch_sampler=keys, collate_fn=self._collate, num_workers=self.num_workers)
