"""The core :class:`DiffusionModule` trained on GDSS's tuple state ``(X, A)`` with node masks.

A batch is ``{"x0": X (B, N, F), "adj": A (B, N, N), "flags": (B, N)}``: ``x0`` holds the node
features so that the core's logging and step seeding work unchanged; the adjacency rides beside it.
Everything else (optimiser, EMA, exact resume, checkpoints) is the core module's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import torch
from torch import Tensor

from condiff.core.losses import uniform_time
from condiff.core.processes import ProductProcess
from condiff.core.training.module import DiffusionModule
from condiff.molecules.gdss.loss import GraphScoreMatchingLoss
from condiff.molecules.gdss.sampling import GraphSamples, sample_graphs
from condiff.molecules.graphs.tensors import mask_nodes, symmetric_noise


def check_graph_batch(batch: Mapping[str, Any]) -> tuple[Tensor, Tensor, Tensor]:
    """``(X, A, flags)`` of a graph batch, with a clear error on a missing key or a wrong shape."""
    missing = [k for k in ("x0", "adj", "flags") if k not in batch]
    if missing:
        raise ValueError(f"graph batch: missing keys {missing} (need x0 = node features, adj, flags)")
    x, adj, flags = batch["x0"], batch["adj"], batch["flags"]
    b, n = flags.shape
    if x.ndim != 3 or x.shape[:2] != (b, n) or adj.shape != (b, n, n):
        raise ValueError(
            f"graph batch: need x0 (B, N, F), adj (B, N, N), flags (B, N); got {tuple(x.shape)}, "
            f"{tuple(adj.shape)}, {tuple(flags.shape)}"
        )
    return x, adj, flags


class GraphDiffusionModule(DiffusionModule):
    """:class:`DiffusionModule` for GDSS: two SDEs, symmetric masked adjacency noise, node masks.

    Takes the core module's arguments; ``process`` must be the ``(X, A)`` :class:`ProductProcess`
    and ``loss`` a :class:`GraphScoreMatchingLoss` (the default).
    """

    def __init__(
        self, network: torch.nn.Module, process: Any, parameterization: str = "eps", loss: Any = None, **kwargs: Any
    ) -> None:
        if not isinstance(process, ProductProcess) or len(process) != 2:
            raise ValueError(f"GraphDiffusionModule: process must be a 2-component ProductProcess, got {process!r}")
        super().__init__(network, process, parameterization, loss or GraphScoreMatchingLoss(), **kwargs)  # type: ignore[arg-type]

    def _loss(self, batch: Mapping[str, Any], generator: torch.Generator | None = None) -> Tensor:
        x, adj, flags = check_graph_batch(batch)
        process: ProductProcess = self.process  # type: ignore[assignment]
        t = uniform_time(x.shape[0], process, x.device, generator)  # type: ignore[arg-type]
        zx = mask_nodes(torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype), flags)
        za = symmetric_noise(adj.shape, flags, generator, dtype=adj.dtype)
        (xt, at), eps = process.marginal_sample((x, adj), t, noise=(zx, za))
        out = self.network((xt, at), t.to(x.dtype), flags=flags)
        loss_fn: Any = self.loss_fn  # a GraphScoreMatchingLoss (tuple outputs), not the core's tensor loss
        return loss_fn(process, self.parameterization, out, (x, adj), eps, t, flags).mean()

    @torch.no_grad()
    def sample_graphs(
        self, flags: Tensor, num_features: int, use_ema: bool = True, seed: int | None = None, **options: Any
    ) -> GraphSamples:
        """Draw graphs of the sizes ``flags: (B, N)`` with the module's sampler settings (overridable)."""
        net = self.ema_network if use_ema else self.network
        was = net.training
        net.eval()
        opts = {**self.sampler_options, **options}
        opts.pop("guidance", None)
        g = torch.Generator(device=flags.device).manual_seed(self.seed if seed is None else seed)
        try:
            return sample_graphs(
                net,
                cast(ProductProcess, self.process),
                flags,
                num_features,
                parameterization=self.parameterization,
                generator=g,
                **opts,
            )
        finally:
            net.train(was)

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking or self.sample_every_n_epochs <= 0 or self.evaluator is None:
            return
        if (self.current_epoch + 1) % self.sample_every_n_epochs and not self._is_last_epoch():
            return
        dm = getattr(self.trainer, "datamodule", None)
        if dm is None or not hasattr(dm, "sample_flags"):
            return
        flags = dm.sample_flags(self.num_val_samples, seed=self.seed).to(self.device)
        res = self.sample_graphs(flags, dm.num_features)
        evaluator: Any = self.evaluator  # graph evaluators take GraphSamples
        metrics = evaluator(res, {})
        self.log_dict({f"val/{k}": float(v) for k, v in metrics.items()}, sync_dist=True)
