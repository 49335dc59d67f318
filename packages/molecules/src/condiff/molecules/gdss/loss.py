"""GDSS's denoising score-matching objectives for the node and the adjacency SDE (Jo et al. 2022, eq. 7).

With ``score_theta = -out / s(t)`` (parameterization ``eps``) GDSS's per-graph loss
``0.5 * sum ||score_theta * s(t) + z||^2`` over the masked entries is ``0.5 * sum ||out - z||^2``; the two
components' losses are added (GDSS trains the two networks on them separately: their parameters
are disjoint, so the gradients are the same).
"""

from __future__ import annotations

from torch import Tensor

from condiff.core.parameterization import from_x0_eps
from condiff.core.processes import ProductProcess
from condiff.molecules.graphs.tensors import mask_adjacency, mask_nodes


class GraphScoreMatchingLoss:
    """Per-graph loss ``w_X L_X + w_A L_A`` of the tuple output ``(out_X, out_A)``.

    Args:
        reduce_mean: average over entries instead of GDSS's default ``0.5 * sum`` (``reduce_mean: False``).
        weight_x, weight_adj: weights of the two components.
    """

    def __init__(self, reduce_mean: bool = False, weight_x: float = 1.0, weight_adj: float = 1.0) -> None:
        self.reduce_mean = bool(reduce_mean)
        self.weight_x = float(weight_x)
        self.weight_adj = float(weight_adj)

    def components(
        self,
        process: ProductProcess,
        parameterization: str,
        output: tuple[Tensor, Tensor],
        x0: tuple[Tensor, Tensor],
        eps: tuple[Tensor, Tensor],
        t: Tensor,
        flags: Tensor,
    ) -> tuple[Tensor, Tensor]:
        """``(L_X, L_A)``, each ``(B,)``."""
        losses = []
        masks = (mask_nodes, mask_adjacency)
        for p, out, x, e, m in zip(process.processes, output, x0, eps, masks, strict=True):
            target = from_x0_eps(parameterization, x, e, t, p)
            assert isinstance(target, Tensor)
            sq = m((out - target).square(), flags).flatten(1)
            losses.append(sq.mean(1) if self.reduce_mean else 0.5 * sq.sum(1))
        return losses[0], losses[1]

    def __call__(
        self,
        process: ProductProcess,
        parameterization: str,
        output: tuple[Tensor, Tensor],
        x0: tuple[Tensor, Tensor],
        eps: tuple[Tensor, Tensor],
        t: Tensor,
        flags: Tensor,
    ) -> Tensor:
        lx, la = self.components(process, parameterization, output, x0, eps, t, flags)
        return self.weight_x * lx + self.weight_adj * la
