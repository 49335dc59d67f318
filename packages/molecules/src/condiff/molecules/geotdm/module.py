"""The core :class:`DiffusionModule` trained on GeoTDM trajectories (torch-geometric batches of systems).

A batch holds ``x0: (M, T, 3)`` node trajectories and ``batch: (M,)`` (plus ``h``, ``edge_index``,
``edge_attr``); one diffusion time is drawn per system. The loss is GeoTDM's (Han et al. 2024, eq. 10)
``|| eps - eps_theta(x_t, t) ||^2`` on the generated frames only, averaged per system, with
``x_t = mu + a (x0 - mu) + s P eps`` and ``mu`` the (learned) prior mean, so the prior learns through the loss.
Everything else (optimiser, EMA, exact resume, checkpoints) is the core module's.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from condiff.core.errors import ConfigError
from condiff.core.losses import RegressionLoss, uniform_time
from condiff.core.parameterization import regression_target
from condiff.core.processes import GaussianProcess
from condiff.core.training.module import DiffusionModule
from condiff.molecules.geotdm.metrics import min_ade_fde
from condiff.molecules.geotdm.model import GeoTDMModel
from condiff.molecules.geotdm.process import keeps_given_frames, trajectory_process
from condiff.molecules.geotdm.sampling import TrajectorySamples, sample_trajectories
from condiff.molecules.geotdm.systems import Systems, systems_from_batch


def masked_regression(out: Tensor, target: Tensor, generated: Tensor, batch: Tensor, norm: str = "l2") -> Tensor:
    """Mean over systems of the per-system mean ``|out - target|^p`` over its nodes and generated frames."""
    m = generated.to(device=out.device, dtype=out.dtype)[None, :, None]
    diff = (out - target.to(out.dtype)) * m
    per_node = (diff.abs() if norm == "l1" else diff.square()).sum(dim=(1, 2)) / (m.sum() * out.shape[-1])
    b = int(batch.max()) + 1
    sums = per_node.new_zeros(b).index_add_(0, batch, per_node)
    return (sums / torch.bincount(batch, minlength=b).to(out.dtype)).mean()


class TrajectoryDiffusionModule(DiffusionModule):
    """:class:`DiffusionModule` for GeoTDM: per-system times, projected noise, masked loss, minADE/minFDE.

    Takes the core module's arguments; ``network`` must be a :class:`GeoTDMModel` and ``loss`` a core
    :class:`RegressionLoss` (its norm is used on the generated frames). ``num_eval_samples`` is the ``K``
    of the validation minADE/minFDE (GeoTDM: 5) on ``num_val_samples`` validation systems.

    ``prior_loss_weight`` (not in the paper, 0 = GeoTDM) adds ``lambda |mu - x0|^2`` on the generated frames:
    the learned prior then also regresses the data directly instead of learning only through the network's
    input, which makes it useful within a few hundred steps.
    """

    def __init__(
        self,
        network: GeoTDMModel,
        process: GaussianProcess,
        parameterization: str = "eps",
        loss: Any = None,
        num_eval_samples: int = 5,
        prior_loss_weight: float = 0.0,
        **kwargs: Any,
    ) -> None:
        if not isinstance(network, GeoTDMModel):
            raise ConfigError(f"TrajectoryDiffusionModule: network must be a GeoTDMModel, got {type(network).__name__}")
        loss = loss if loss is not None else RegressionLoss()
        if not isinstance(loss, RegressionLoss):
            raise ConfigError(f"TrajectoryDiffusionModule: loss must be a core RegressionLoss, got {loss!r}")
        if network.conditional and not keeps_given_frames(process):
            raise ConfigError(
                "TrajectoryDiffusionModule: a conditional model needs a path with a + b = 1 "
                f"(sde: condiff.molecules.geotdm.PriorShiftedProcess), got {process!r}"
            )
        if network.sigma_data > 0 and parameterization != "eps":
            raise ConfigError(
                "TrajectoryDiffusionModule: the skip connection (sigma_data > 0) needs parameterization eps"
            )
        super().__init__(network, process, parameterization, loss, **kwargs)
        self.norm = loss.norm
        self.num_eval_samples = int(num_eval_samples)
        if prior_loss_weight < 0:
            raise ConfigError(f"TrajectoryDiffusionModule: prior_loss_weight must be >= 0, got {prior_loss_weight}")
        self.prior_loss_weight = float(prior_loss_weight)

    def _loss(self, batch: Any, generator: torch.Generator | None = None) -> Tensor:
        sys = systems_from_batch(batch)
        net: GeoTDMModel = self.network  # type: ignore[assignment]
        generated = net.generated.to(sys.x.device)
        net.check_planar(sys.x, "training batch")
        proc = trajectory_process(self.process, sys.batch, generated, center=not net.conditional, planar=net.planar)
        x0 = sys.x
        y = net.prior_mean(x0, sys.batch, **sys.graph)
        if y is None:
            x0 = proc.project(x0)  # unconditional: the data's centre of mass is not modelled
        t_sys = uniform_time(sys.num_systems, self.process, x0.device, generator)
        t = t_sys[sys.batch]
        noise = proc.project(torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype))
        x_t, eps = proc.marginal_sample(x0, t, y, noise=noise)
        c = proc.coefficients64(t)
        out = net.predict_eps(x_t, t_sys.to(x0.dtype), sys.batch, c.a, c.s, y, **sys.graph)
        target = regression_target(self.parameterization, x0, eps, process=proc, t=t, y=y)
        assert isinstance(target, Tensor)
        loss = masked_regression(out, target, generated, sys.batch, self.norm)
        if y is not None and self.prior_loss_weight > 0:
            loss = loss + self.prior_loss_weight * masked_regression(y, x0, generated, sys.batch, self.norm)
        return loss

    @torch.no_grad()
    def sample_trajectories(
        self, systems: Systems, num_samples: int = 1, use_ema: bool = True, seed: int | None = None, **options: Any
    ) -> TrajectorySamples:
        """``num_samples`` trajectories per system with the module's sampler settings (overridable)."""
        net = self.ema_network if use_ema else self.network
        was = net.training
        net.eval()
        opts = {**self.sampler_options, **options}
        opts.pop("guidance", None)
        g = torch.Generator(device=systems.x.device).manual_seed(self.seed if seed is None else seed)
        try:
            return sample_trajectories(
                net,  # type: ignore[arg-type]
                self.process,
                systems,
                num_samples=num_samples,
                parameterization=self.parameterization,
                generator=g,
                **opts,
            )
        finally:
            net.train(was)

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking or self.sample_every_n_epochs <= 0:
            return
        if (self.current_epoch + 1) % self.sample_every_n_epochs and not self._is_last_epoch():
            return
        dm = getattr(self.trainer, "datamodule", None)
        net: GeoTDMModel = self.network  # type: ignore[assignment]
        if dm is None or not hasattr(dm, "eval_systems") or not net.conditional:
            return
        systems = dm.eval_systems(self.num_val_samples).to(self.device)
        res = self.sample_trajectories(systems, num_samples=self.num_eval_samples)
        ade, fde = min_ade_fde(res.x, systems.x, systems.batch, net.generated.to(self.device))
        k = self.num_eval_samples
        self.log_dict({f"val/minADE_{k}": float(ade.mean()), f"val/minFDE_{k}": float(fde.mean())}, sync_dist=True)
