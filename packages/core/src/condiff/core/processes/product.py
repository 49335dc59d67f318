"""Tuple states with one process per component (GDSS) and projected processes (zero centre of mass).

A :class:`ProductProcess` diffuses a tuple ``(x^1, ..., x^K)`` with one
:class:`GaussianProcess` per component and one shared time ``t``: component ``i`` obeys
``x^i_t = a_i(t) x^i_0 + b_i(t) y^i + s_i(t) eps^i`` with independent noises, as GDSS
(Jo et al. 2022, eq. 3) runs one SDE for node features and one for the adjacency.
Every method takes and returns tuples in component order; ``y`` is ``None`` or a tuple
whose entries may be ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess, PathCoefficients

State = tuple[Tensor, ...]


class ZeroCenterOfMass:
    """Projection ``x -> x - mean(x, dim)``: removes the centre of mass over the node axis ``dim``.

    For E(3)-equivariant coordinates ``x: (B, N, 3)`` use ``dim=-2`` (EDM of Hoogeboom et
    al. 2022, Sec. 3.2): noise and states then live in the zero-CoM subspace, where the
    Gaussian is translation invariant. ``mask: (B, N)`` (optional, 1 = real node) averages
    over real nodes only and zeroes padded ones.
    """

    def __init__(self, dim: int = -2) -> None:
        self.dim = int(dim)

    def __call__(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        if mask is None:
            return x - x.mean(dim=self.dim, keepdim=True)
        m = mask.to(x.dtype)
        while m.ndim < x.ndim:
            m = m.unsqueeze(-1)
        mean = (x * m).sum(dim=self.dim, keepdim=True) / m.sum(dim=self.dim, keepdim=True).clamp_min(1.0)
        return (x - mean) * m

    def __repr__(self) -> str:
        return f"ZeroCenterOfMass(dim={self.dim})"


class ProjectedProcess(GaussianProcess):
    """``process`` with a linear projection applied to its noise and states (:meth:`project`).

    The projection must be an orthogonal projector (such as :class:`ZeroCenterOfMass`):
    the path then stays Gaussian inside its range and every conversion is unchanged.
    Data ``x0`` and condition ``y`` should be projected by the caller as well.

    Args:
        process: the underlying process.
        projection: ``(x) -> x`` orthogonal projector.
    """

    def __init__(self, process: GaussianProcess, projection: Callable[[Tensor], Tensor]) -> None:
        self.process = process
        self.projection = projection
        self.t_min, self.T = process.t_min, process.T

    def coefficients(self, t: Tensor) -> PathCoefficients:
        return self.process.coefficients(t)

    def log_snr(self, t: Tensor) -> Tensor:
        return self.process.log_snr(t)

    def t_from_log_snr(self, lam: Tensor, iters: int = 100) -> Tensor:
        return self.process.t_from_log_snr(lam, iters)

    def project(self, x: Tensor) -> Tensor:
        return self.projection(x)

    def __repr__(self) -> str:
        return f"ProjectedProcess({self.process!r}, {self.projection!r})"


def _ys(y: Sequence[Tensor | None] | None, k: int) -> tuple[Tensor | None, ...]:
    if y is None:
        return (None,) * k
    if len(y) != k:
        raise ValueError(f"ProductProcess: y must have {k} components (or be None), got {len(y)}")
    return tuple(y)


class ProductProcess:
    """One process per component of a tuple state, sharing the time ``t``.

    Args:
        processes: one :class:`GaussianProcess` per component; the time range is the
            intersection of theirs.
    """

    def __init__(self, processes: Sequence[GaussianProcess]) -> None:
        self.processes = tuple(processes)
        if not self.processes:
            raise ValueError("ProductProcess: processes must be a non-empty sequence")
        self.t_min = max(p.t_min for p in self.processes)
        self.T = min(p.T for p in self.processes)
        if not self.t_min < self.T:
            raise ValueError(
                f"ProductProcess: the components' time ranges do not overlap: t_min={self.t_min}, T={self.T}"
            )

    def __len__(self) -> int:
        return len(self.processes)

    def _check(self, name: str, xs: Sequence[object]) -> None:
        if len(xs) != len(self.processes):
            raise ValueError(f"ProductProcess: {name} must have {len(self.processes)} components, got {len(xs)}")

    def check_time(self, t: Tensor | float) -> Tensor:
        """Return ``t`` as a tensor, raising ``ValueError`` outside the shared ``[t_min, T]``."""
        for p in self.processes:
            t = p.check_time(t)
        t = torch.as_tensor(t)
        if bool(((t < self.t_min - 1e-6) | (t > self.T + 1e-6)).any()):
            raise ValueError(f"ProductProcess: time t must lie in [t_min={self.t_min}, T={self.T}]")
        return t

    def project(self, xs: Sequence[Tensor]) -> State:
        """Apply each component's projection."""
        self._check("x", xs)
        return tuple(p.project(x) for p, x in zip(self.processes, xs, strict=True))

    def marginal_sample(
        self,
        x0: Sequence[Tensor],
        t: Tensor,
        y: Sequence[Tensor | None] | None = None,
        noise: Sequence[Tensor] | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[State, State]:
        """Draw each component from its marginal at the shared ``t``; returns ``(x_t, eps)`` tuples."""
        self._check("x0", x0)
        t = self.check_time(t)
        noises: Sequence[Tensor | None] = (None,) * len(x0) if noise is None else noise
        if noise is not None:
            self._check("noise", noise)
        pairs = [
            p.marginal_sample(x, t, yy, noise=n, generator=generator)
            for p, x, yy, n in zip(self.processes, x0, _ys(y, len(x0)), noises, strict=True)
        ]
        return tuple(q[0] for q in pairs), tuple(q[1] for q in pairs)

    def prior_sample(
        self,
        shapes: Sequence[tuple[int, ...]],
        y: Sequence[Tensor | None] | None = None,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> State:
        """Sample every component's prior at the shared ``T``."""
        self._check("shapes", shapes)
        out = []
        for p, shape, yy in zip(self.processes, shapes, _ys(y, len(shapes)), strict=True):
            c = p.coefficients64(torch.tensor(self.T, dtype=torch.float64))
            eps = p.project(torch.randn(shape, generator=generator, device=device, dtype=dtype))
            x = float(c.s) * eps
            out.append(x if yy is None else x + float(c.b) * yy)
        return tuple(out)

    def forward_drift(self, xs: Sequence[Tensor], t: Tensor, y: Sequence[Tensor | None] | None = None) -> State:
        """Per-component forward drift."""
        self._check("x", xs)
        return tuple(p.forward_drift(x, t, yy) for p, x, yy in zip(self.processes, xs, _ys(y, len(xs)), strict=True))

    def diffusion_sq(self, t: Tensor) -> State:
        """Per-component ``g_i(t)^2``."""
        return tuple(p.diffusion_sq(t) for p in self.processes)

    def reverse_drift(
        self,
        xs: Sequence[Tensor],
        t: Tensor,
        eps_hat: Sequence[Tensor],
        y: Sequence[Tensor | None] | None = None,
        diffusion_scale: float = 1.0,
    ) -> State:
        """Per-component reverse-SDE drift (see :meth:`GaussianProcess.reverse_drift`)."""
        self._check("x", xs)
        self._check("eps_hat", eps_hat)
        return tuple(
            p.reverse_drift(x, t, e, yy, diffusion_scale)
            for p, x, e, yy in zip(self.processes, xs, eps_hat, _ys(y, len(xs)), strict=True)
        )

    def __repr__(self) -> str:
        return f"ProductProcess({list(self.processes)!r})"
