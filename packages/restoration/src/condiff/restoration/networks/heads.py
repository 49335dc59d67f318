"""Two-head networks for RDDM's residual + noise parameterization (``param=residual_eps``)."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn


class SharedEncoderTwoHeads(nn.Module):
    """One backbone with ``2 C`` output channels split into ``(residual, noise)`` (RDDM's shared-encoder variant).

    Args:
        backbone: a network ``(x, t, **cond) -> (B, 2 C, H, W)``.
    """

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone

    def forward(self, x: Tensor, t: Tensor, **cond: Any) -> tuple[Tensor, Tensor]:
        out = self.backbone(x, t, **cond)
        if out.shape[1] != 2 * x.shape[1]:
            raise ValueError(
                f"SharedEncoderTwoHeads: backbone must output {2 * x.shape[1]} channels, got {out.shape[1]}"
            )
        res, eps = out.chunk(2, dim=1)
        return res, eps


class TwoNetworks(nn.Module):
    """Separate networks for the residual and the noise (RDDM's two-network variant)."""

    def __init__(self, residual: nn.Module, noise: nn.Module) -> None:
        super().__init__()
        self.residual = residual
        self.noise = noise

    def forward(self, x: Tensor, t: Tensor, **cond: Any) -> tuple[Tensor, Tensor]:
        return self.residual(x, t, **cond), self.noise(x, t, **cond)
