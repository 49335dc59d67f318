"""Classifier-free guidance (Ho & Salimans 2022) with a guidance-scale schedule and rescaling, as a denoiser.

    x0_w = x0_u + w(t) (x0_c - x0_u),    eps_w = eps_u + w(t) (eps_c - eps_u)

``w = 0`` is the unconditional model, ``w = 1`` the conditional one. The guided score
``(1 - w) grad log p_t(x) + w grad log p_t(x | c)`` is that of ``p_t(x)^(1-w) p_t(x | c)^w``
(Ho & Salimans 2022, eq. 6). Both pairs are affine in the network output at fixed ``(x, t)``,
so mixing ``(x0, eps)`` equals mixing the raw outputs of any parameterization.

Rescaling (Lin et al. 2024, "Common diffusion noise schedules and sample steps are flawed",
eq. 15-16) pulls the per-sample standard deviation of ``x0_w`` back to that of ``x0_c``:
``x0_r = x0_w std(x0_c) / std(x0_w)``, ``x0 = phi x0_r + (1 - phi) x0_w``; ``eps`` is then
recomputed from the state so the pair stays consistent for every solver.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from condiff.core.guidance.common import eps_from_x0
from condiff.core.guidance.schedules import Schedule, weight_at
from condiff.core.parameterization import to_x0_eps
from condiff.core.processes.base import GaussianProcess, expand_like
from condiff.core.sampling.denoiser import Denoiser, ModelDenoiser

Pair = tuple[Tensor, Tensor]
JointDenoiser = Callable[[Tensor, Tensor], tuple[Pair, Pair]]


def model_joint(model: ModelDenoiser) -> JointDenoiser:
    """Conditional and unconditional ``(x0, eps)`` of a :class:`ModelDenoiser` in one batched network call.

    The unconditional half runs with ``cond_drop`` all true (the null condition used in training).
    """

    def joint(x: Tensor, t: Tensor) -> tuple[Pair, Pair]:
        b = x.shape[0]
        t_net = t.to(x.dtype).expand(b) if t.ndim == 0 else t.to(x.dtype)
        cond2 = {k: torch.cat([v, v]) if isinstance(v, Tensor) else v for k, v in model.cond.items()}
        drop = torch.cat([torch.zeros(b, dtype=torch.bool), torch.ones(b, dtype=torch.bool)]).to(x.device)
        out = model.network(torch.cat([x, x]), torch.cat([t_net, t_net]), **cond2, cond_drop=drop)
        if isinstance(out, tuple):
            raise ValueError("CFGDenoiser: multi-head (tuple) network outputs are not supported")
        out = out.to(x.dtype)
        tt = torch.cat([t, t]) if t.ndim == 1 else t
        y2 = model.y
        if y2 is not None and y2.ndim == x.ndim and y2.shape[0] == b:
            y2 = torch.cat([y2, y2])
        x0, eps = to_x0_eps(model.parameterization, out, torch.cat([x, x]), tt, model.process, y2)
        return (x0[:b], eps[:b]), (x0[b:], eps[b:])

    return joint


class CFGDenoiser:
    """Classifier-free guidance with scale ``w(t)`` and optional rescaling ``phi`` (module docstring).

    Args:
        conditional: the conditional denoiser, or a :class:`ModelDenoiser` trained with condition
            dropout (then both halves come from one batched call and ``unconditional`` must be ``None``).
        unconditional: the unconditional denoiser.
        process: the path (for the schedule's normalised time and the rescaling).
        scale: guidance scale ``w``, a number or a schedule of :mod:`condiff.core.guidance.schedules`.
        rescale: ``phi`` in ``[0, 1]``; 0 switches rescaling off.
        y: the process condition (``b(t) y`` term), needed by ``rescale`` when the path has one.
    """

    def __init__(
        self,
        conditional: Denoiser | ModelDenoiser,
        unconditional: Denoiser | None,
        process: GaussianProcess,
        scale: Schedule = 1.0,
        rescale: float = 0.0,
        y: Tensor | None = None,
    ) -> None:
        if not 0.0 <= rescale <= 1.0:
            raise ValueError(f"CFGDenoiser: rescale must lie in [0, 1], got {rescale}")
        if unconditional is None:
            if not isinstance(conditional, ModelDenoiser):
                raise ValueError("CFGDenoiser: give an unconditional denoiser, or a ModelDenoiser as conditional")
            self.joint = model_joint(conditional)
        else:
            cond_fn, uncond_fn = conditional, unconditional
            self.joint = lambda x, t: (cond_fn(x, t), uncond_fn(x, t))
        self.process, self.scale, self.rescale, self.y = process, scale, float(rescale), y

    def __call__(self, x: Tensor, t: Tensor) -> Pair:
        (x0_c, eps_c), (x0_u, eps_u) = self.joint(x, t)
        w = expand_like(weight_at(self.scale, t, self.process), x)
        x0 = torch.lerp(x0_u, x0_c.to(x0_u.dtype), w.to(x0_u.dtype))  # exact at w = 0 and w = 1
        eps = torch.lerp(eps_u, eps_c.to(eps_u.dtype), w.to(eps_u.dtype))
        if self.rescale == 0.0:
            return x0, eps
        dims = tuple(range(1, x.ndim))
        ratio = x0_c.std(dim=dims, keepdim=True) / x0.std(dim=dims, keepdim=True).clamp_min(1e-12)
        x0 = self.rescale * x0 * ratio + (1.0 - self.rescale) * x0
        return x0, eps_from_x0(self.process, x, t, x0, self.y)
