"""Head wrappers for RDDM's objectives: one backbone split into heads, or one network per head.

RDDM (Liu et al. 2024) trains for one of several objectives, each a parameterization of the core:

| objective (RDDM code) | ``param=`` | network |
|---|---|---|
| ``pred_res_noise`` | ``residual_eps`` | :class:`SplitHeads` (2 heads) or :class:`TwoNetworks` |
| ``pred_x0_noise`` | ``x0_eps`` | :class:`SplitHeads` (2 heads) or :class:`TwoNetworks` |
| ``pred_res`` | ``residual`` | :class:`SplitHeads` (1 head) or any backbone |
| ``pred_x0`` | ``x0`` | :class:`SplitHeads` (1 head) or any backbone |
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from condiff.core.processes import ResidualProcess


class SplitHeads(nn.Module):
    """One backbone whose ``heads * C`` output channels are split into ``heads`` outputs (RDDM's shared encoder).

    Args:
        backbone: a network ``(x, t, **cond) -> (B, heads * C, H, W)``.
        heads: 1 returns the backbone's tensor; 2 returns a tuple ``(first, eps)``.
    """

    def __init__(self, backbone: nn.Module, heads: int = 2) -> None:
        super().__init__()
        if heads not in (1, 2):
            raise ValueError(f"SplitHeads: heads must be 1 or 2, got {heads}")
        self.backbone = backbone
        self.heads = heads

    def forward(self, x: Tensor, t: Tensor, **cond: Any) -> Tensor | tuple[Tensor, ...]:
        out = self.backbone(x, t, **cond)
        if out.shape[1] != self.heads * x.shape[1]:
            raise ValueError(
                f"{type(self).__name__}: backbone must output {self.heads * x.shape[1]} channels, got {out.shape[1]}"
            )
        return out if self.heads == 1 else tuple(out.chunk(self.heads, dim=1))


class SharedEncoderTwoHeads(SplitHeads):
    """:class:`SplitHeads` with two heads: ``(residual or x0, noise)`` from one backbone."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__(backbone, heads=2)


class TwoNetworks(nn.Module):
    """Separate networks for the residual (or x0) and the noise (RDDM's two-network variant).

    With ``time_input="coefficients"`` the first network sees the residual level
    ``alphabar_res(t)`` and the noise network the noise level ``betabar(t)^2 / sum_scale``, both in
    ``[0, 1]``, instead of ``t`` (the two time inputs of the RDDM code). The state
    ``x = x0 + alphabar_res (y - x0) + betabar eps`` depends on the path only through these two
    levels, so the networks can then be sampled along another pair of schedules than they were
    trained on: RDDM's *partially path-independent* generation (Liu et al. 2024, Sec. 4.2),
    "partially" because the networks only saw the levels of the training path.
    :meth:`follow` points the networks at the sampling path.

    Args:
        residual: network for the first head.
        noise: network for the noise head.
        time_input: ``"t"`` or ``"coefficients"``.
        path: the training :class:`~condiff.core.processes.ResidualProcess`; required for ``"coefficients"``.
    """

    path_free_keys = ("alpha_schedule", "beta_schedule")

    def __init__(
        self, residual: nn.Module, noise: nn.Module, time_input: str = "t", path: ResidualProcess | None = None
    ) -> None:
        super().__init__()
        if time_input not in ("t", "coefficients"):
            raise ValueError(f"TwoNetworks: time_input must be 't' or 'coefficients', got {time_input!r}")
        if time_input == "coefficients" and not isinstance(path, ResidualProcess):
            raise ValueError("TwoNetworks: time_input='coefficients' needs path= the ResidualProcess (path: ${sde})")
        self.residual = residual
        self.noise = noise
        self.time_input = time_input
        self.path = path

    @property
    def path_independent(self) -> bool:
        return self.time_input == "coefficients"

    def follow(self, process: ResidualProcess) -> None:
        """Sample along ``process`` (other schedules, same ``sum_scale`` and ``T``)."""
        if not self.path_independent or self.path is None:
            raise ValueError("TwoNetworks: only networks with time_input='coefficients' can follow another path")
        if not isinstance(process, ResidualProcess):
            raise ValueError(f"TwoNetworks: can only follow a ResidualProcess, got {type(process).__name__}")
        if process.sum_scale != self.path.sum_scale or process.T != self.path.T:
            raise ValueError(
                f"TwoNetworks: a sampling path must keep sum_scale={self.path.sum_scale} and T={self.path.T}; "
                f"got sum_scale={process.sum_scale}, T={process.T}"
            )
        self.path = process

    def forward(self, x: Tensor, t: Tensor, **cond: Any) -> tuple[Tensor, Tensor]:
        if self.time_input == "t" or self.path is None:
            return self.residual(x, t, **cond), self.noise(x, t, **cond)
        c = self.path.coefficients(t.to(torch.float64))
        t_res = c.b.to(x.dtype)
        t_noise = (c.s.square() / self.path.sum_scale).to(x.dtype)
        return self.residual(x, t_res, **cond), self.noise(x, t_noise, **cond)
