"""Sampling GDSS graphs with the core solvers: PC / Euler-Maruyama / S4 on the tuple state, fast ODE solvers packed.

The reverse system of SDEs (Jo et al. 2022, eq. 5) is integrated by :func:`condiff.core.sampling.sample`
on the masked process of :func:`~condiff.molecules.gdss.process.masked_process`: Euler-Maruyama,
predictor-corrector (reverse-diffusion or Euler-Maruyama predictor, Langevin corrector with ``snr`` and
``scale_eps``) and GDSS's S4 solver take the tuple ``(X, A)`` directly. The exponential-integrator
ODE solvers (DPM-Solver(++), UniPC, DEIS, DDIM, ...) need one log-SNR: they run on the packed state
``[X | A]`` when both components follow the same SDE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import torch
from torch import Tensor, nn

from condiff.core.parameterization import to_x0_eps
from condiff.core.processes import GaussianProcess, ProductProcess
from condiff.core.sampling import sample
from condiff.core.sampling.noise import Generators
from condiff.molecules.gdss.process import masked_process, pack, packed_process, unpack
from condiff.molecules.graphs.tensors import mask_adjacency, mask_nodes, symmetrize_upper

TUPLE_METHODS = ("euler-maruyama", "pc", "s4")


class GraphDenoiser:
    """Core denoiser of the tuple state: ``((X, A), t) -> ((X0_hat, A0_hat), (eps_X, eps_A))``."""

    def __init__(self, network: nn.Module, process: ProductProcess, parameterization: str, flags: Tensor) -> None:
        self.network, self.process, self.parameterization, self.flags = network, process, parameterization, flags

    def __call__(self, state: tuple[Tensor, ...], t: Tensor) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...]]:
        x, adj = state
        t_net = t.to(x.dtype).expand(x.shape[0]) if t.ndim == 0 else t.to(x.dtype)
        outs = self.network((x, adj), t_net, flags=self.flags)
        pairs = [
            to_x0_eps(self.parameterization, o.to(s.dtype), s, t, p)
            for o, s, p in zip(outs, (x, adj), self.process.processes, strict=True)
        ]
        return (pairs[0][0], pairs[1][0]), (pairs[0][1], pairs[1][1])


class PackedDenoiser:
    """Core denoiser of the packed state ``[X | A]`` (both components on one process ``process``)."""

    def __init__(
        self, network: nn.Module, process: GaussianProcess, parameterization: str, flags: Tensor, num_features: int
    ) -> None:
        self.network, self.process, self.parameterization = network, process, parameterization
        self.flags, self.num_features = flags, num_features

    def __call__(self, packed: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        x, adj = unpack(packed, self.num_features)
        t_net = t.to(x.dtype).expand(x.shape[0]) if t.ndim == 0 else t.to(x.dtype)
        out_x, out_a = self.network((x, adj), t_net, flags=self.flags)
        out = pack(out_x.to(x.dtype), out_a.to(x.dtype))
        return to_x0_eps(self.parameterization, out, packed, t, self.process)


@dataclass
class GraphSamples:
    """Continuous final states ``x: (B, N, F)``, ``adj: (B, N, N)`` (masked, symmetric), flags and the NFE."""

    x: Tensor
    adj: Tensor
    flags: Tensor
    nfe: int


def sample_graphs(
    network: nn.Module,
    process: ProductProcess,
    flags: Tensor,
    num_features: int,
    *,
    steps: int,
    method: str = "s4",
    parameterization: str = "eps",
    schedule: str = "uniform",
    generator: Generators = None,
    t_end: float | None = None,
    **options: Any,
) -> GraphSamples:
    """Draw one graph per row of ``flags: (B, N)`` (1 = real node) from the reverse system of SDEs.

    Args:
        network: ``((X, A), t, flags=...) -> (out_X, out_A)``, e.g. :class:`~condiff.molecules.gdss.GDSSNetwork`.
        process: the ``(X, A)`` :class:`ProductProcess` the network was trained on.
        flags: node flags of the graphs to draw (their sizes).
        num_features: node-feature width ``F``.
        steps: solver steps; method, schedule, options: as for :func:`condiff.core.sampling.sample`
            (``snr``, ``scale_eps``, ``corrector``, ``predictor``, ``denoise_final``, ``order``, ...).
        t_end: last time (default: the process's ``t_min``).
    """
    if flags.ndim != 2:
        raise ValueError(f"sample_graphs: flags must be (B, N), got shape {tuple(flags.shape)}")
    flags = flags.float()
    b, n = flags.shape
    if method in TUPLE_METHODS:
        proc = masked_process(process, flags)
        x_T = proc.prior_sample([(b, n, num_features), (b, n, n)], generator=_first(generator), device=flags.device)
        den = GraphDenoiser(network, proc, parameterization, flags)
        res = sample(
            cast(Any, den),
            cast(Any, proc),  # a ProductProcess: the tuple-state methods take it
            x_T=x_T,
            steps=steps,
            method=method,
            schedule=schedule,
            t_end=t_end,
            generator=generator,
            **options,
        )
        x, adj = res.x
    else:
        pproc = packed_process(process, flags, num_features)
        pden = PackedDenoiser(network, pproc, parameterization, flags, num_features)
        res = sample(
            cast(Any, pden),
            pproc,
            shape=(b, n, num_features + n),
            steps=steps,
            method=method,
            schedule=schedule,
            t_end=t_end,
            generator=generator,
            device=flags.device,
            **options,
        )
        x, adj = unpack(res.x, num_features)
    # The solvers keep the state in the masked subspace; the last projection removes rounding only.
    adj = mask_adjacency(symmetrize_upper(adj), flags)
    return GraphSamples(x=mask_nodes(x, flags), adj=adj, flags=flags, nfe=res.nfe)


def _first(generator: Generators) -> torch.Generator | None:
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    raise ValueError("sample_graphs: pass one torch.Generator (per-sample generators are not supported for graphs)")
