"""GeoTDM's forward process: a VP path shifted to the prior mean, projected per system and per given frame.

With the prior mean ``mu`` (a function of the given frames), GeoTDM diffuses ``x0 - mu`` with a VP path and
adds ``mu`` back (Han et al. 2024, Sec. 4.2, eq. 9): ``x_t = mu + alpha_t (x0 - mu) + sigma_t eps``, i.e. the
core path ``x_t = a x0 + b y + s eps`` with ``y = mu``, ``a = alpha``, ``b = 1 - alpha``, ``s = sigma``.
:class:`PriorShiftedProcess` turns any ``b = 0`` process into that path, so every core solver integrates the
``y`` term exactly and the prior at ``T`` is ``N(mu, sigma_T^2)``.

:class:`TrajectoryProjection` is the orthogonal projector that noise and states live in: zero on the given
frames (so a state whose given frames equal ``mu`` there keeps them exactly, in every solver) and, for
unconditional generation, zero centre of mass of each system over its nodes and generated frames (the
translation-invariant subspace of dimension ``(N T - 1) 3``, GeoTDM's ``project_to_subspace``). With
``planar`` it also zeroes the last axis: planar data (ETH-UCY pedestrians, lifted to ``z = 0``) then get planar
noise, states and samples, ``P x = m * (x - c) * (1, 1, 0)``, and the diffusion is the 2D one embedded in 3D.
"""

from __future__ import annotations

import torch
from torch import Tensor

from condiff.core.errors import ConfigError
from condiff.core.processes import GaussianProcess, PathCoefficients, ProjectedProcess


class PriorShiftedProcess(GaussianProcess):
    """``x_t = a(t) x0 + (1 - a(t)) y + s(t) eps`` from a process with ``b = 0`` (GeoTDM eq. 9 with ``y = mu``).

    Args:
        process: the underlying path ``a x0 + s eps`` (e.g. DDPM's discrete VP schedule).
    """

    def __init__(self, process: GaussianProcess) -> None:
        probe = process.coefficients64(torch.linspace(process.t_min, process.T, 9, dtype=torch.float64))
        if bool((probe.b != 0).any()):
            raise ConfigError(f"PriorShiftedProcess: the underlying process must have b = 0, got {process!r}")
        self.process = process
        self.t_min, self.T = process.t_min, process.T

    def coefficients(self, t: Tensor) -> PathCoefficients:
        c = self.process.coefficients(t)
        return PathCoefficients(a=c.a, b=1.0 - c.a, s=c.s, da=c.da, db=-c.da, ds=c.ds)

    def log_snr(self, t: Tensor) -> Tensor:
        return self.process.log_snr(t)

    def t_from_log_snr(self, lam: Tensor, iters: int = 100) -> Tensor:
        return self.process.t_from_log_snr(lam, iters)

    def __repr__(self) -> str:
        return f"PriorShiftedProcess({self.process!r})"


def prior_shifted_process(process: GaussianProcess) -> PriorShiftedProcess:
    """Hydra entry point: ``PriorShiftedProcess(process)``."""
    return PriorShiftedProcess(process)


def keeps_given_frames(process: GaussianProcess, points: int = 17) -> bool:
    """Whether ``a(t) + b(t) = 1`` on a grid: then a state equal to ``y`` on the given frames stays equal to it."""
    t = torch.linspace(process.t_min, process.T, points, dtype=torch.float64)
    c = process.coefficients64(t)
    return bool(torch.allclose(c.a + c.b, torch.ones_like(c.a), rtol=0, atol=1e-9))


class TrajectoryProjection:
    """Orthogonal projector on node trajectories ``x: (M, T, 3)`` of systems ``batch: (M,)``.

    ``P x = m * (x - c) * e`` with ``m`` the generated-frame indicator ``(T,)``, when ``center``, ``c`` the mean of
    ``x`` over the nodes of each system and its generated frames, and ``e = (1, 1, 0)`` when ``planar`` (else
    ``(1, 1, 1)``). The three factors are commuting orthogonal projectors, so ``P`` is symmetric and idempotent.

    Args:
        batch: ``(M,)`` sorted system index of every node.
        generated: ``(T,)`` bool, True on the frames being generated; ``None`` = all frames.
        center: remove each system's centre of mass (unconditional generation).
        planar: zero the last axis (states in the x-y plane).
    """

    def __init__(
        self, batch: Tensor, generated: Tensor | None = None, center: bool = False, planar: bool = False
    ) -> None:
        if batch.ndim != 1:
            raise ValueError(f"TrajectoryProjection: batch must be (M,), got {tuple(batch.shape)}")
        self.batch, self.generated, self.center, self.planar = batch, generated, bool(center), bool(planar)
        self.num_systems = int(batch.max()) + 1 if batch.numel() else 0
        self.nodes = torch.bincount(batch, minlength=self.num_systems)

    def __call__(self, x: Tensor) -> Tensor:
        if x.ndim != 3 or x.shape[0] != self.batch.shape[0]:
            raise ValueError(f"TrajectoryProjection: x must be ({self.batch.shape[0]}, T, 3), got {tuple(x.shape)}")
        frames = x.shape[1]
        if self.generated is None:
            m = x.new_ones(1, frames, 1)
        else:
            if self.generated.shape != (frames,):
                raise ValueError(f"TrajectoryProjection: mask of {tuple(self.generated.shape)} for {frames} frames")
            m = self.generated.to(device=x.device, dtype=x.dtype)[None, :, None]
        if self.planar:
            m = m * torch.tensor([1.0, 1.0, 0.0], device=x.device, dtype=x.dtype)
        x = x * m
        if not self.center:
            return x
        sums = x.new_zeros(self.num_systems, x.shape[-1]).index_add_(0, self.batch, x.sum(dim=1))
        counts = (self.nodes.to(device=x.device, dtype=x.dtype) * m[..., 0].sum()).clamp_min(1.0)
        return (x - (sums / counts[:, None])[self.batch][:, None, :]) * m

    def __repr__(self) -> str:
        return f"TrajectoryProjection(systems={self.num_systems}, center={self.center}, planar={self.planar})"


def trajectory_process(
    process: GaussianProcess,
    batch: Tensor,
    generated: Tensor | None = None,
    center: bool = False,
    planar: bool = False,
) -> ProjectedProcess:
    """``process`` projected by :class:`TrajectoryProjection` for one batch of systems."""
    return ProjectedProcess(process, TrajectoryProjection(batch, generated, center, planar))
