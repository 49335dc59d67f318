"""Denoisers: the callables every solver evaluates, ``(x, t) -> (x0_hat, eps_hat)``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from condiff.core.parameterization import to_x0_eps
from condiff.core.processes.base import GaussianProcess


class Denoiser(Protocol):
    """``(x: (B, ...), t: (B,)) -> (x0_hat, eps_hat)``, both shaped like ``x``."""

    def __call__(self, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor]: ...


class ModelDenoiser:
    """Wrap a network of a given parameterization as a :class:`Denoiser`.

    Conditioning keyword arguments (``cond``) go to the network untouched. With
    ``guidance = w != 1`` the network runs on the conditional and the unconditional
    (``cond_drop`` all true) batch in one call and the outputs combine as
    ``out_u + w (out_c - out_u)`` (classifier-free guidance, Ho & Salimans 2022;
    ``w = 1`` is the plain conditional model). The combination is done on the raw
    output, which is equivalent for every parameterization because the conversions
    to ``(x0_hat, eps_hat)`` are affine in it at fixed ``(x, t)``.
    """

    def __init__(
        self,
        network: nn.Module,
        process: GaussianProcess,
        parameterization: str,
        y: Tensor | None = None,
        cond: Mapping[str, Any] | None = None,
        guidance: float = 1.0,
    ) -> None:
        self.network = network
        self.process = process
        self.parameterization = parameterization
        self.y = y
        self.cond = dict(cond or {})
        self.guidance = float(guidance)

    def __call__(self, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        t_net = t.to(x.dtype).expand(x.shape[0]) if t.ndim == 0 else t.to(x.dtype)
        if self.guidance == 1.0:
            out = self.network(x, t_net, **self.cond)
        else:
            b = x.shape[0]
            cond2 = {k: torch.cat([v, v]) if isinstance(v, Tensor) else v for k, v in self.cond.items()}
            drop = torch.cat([torch.zeros(b, dtype=torch.bool), torch.ones(b, dtype=torch.bool)]).to(x.device)
            out2 = self.network(torch.cat([x, x]), torch.cat([t_net, t_net]), **cond2, cond_drop=drop)
            out = _map(lambda o: o[b:] + self.guidance * (o[:b] - o[b:]), out2)
        return to_x0_eps(self.parameterization, _map(lambda o: o.to(x.dtype), out), x, t, self.process, self.y)


def _map(fn: Callable[[Tensor], Tensor], out: Tensor | tuple[Tensor, ...]) -> Any:
    """Apply ``fn`` to a network output or to each head of a multi-head (tuple) output."""
    return tuple(fn(o) for o in out) if isinstance(out, tuple) else fn(out)
