"""The one process abstraction: a conditional Gaussian path.

    x_t = a(t) * x0 + b(t) * y + s(t) * eps,    eps ~ N(0, I),  t in [t_min, T]

Everything a solver or a loss needs (forward SDE, reverse SDE at any diffusion
level, probability-flow ODE, prior, log-SNR) follows from ``a, b, s`` and their
time derivatives; a concrete process only supplies :meth:`coefficients`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class PathCoefficients:
    """``a, b, s`` of ``x_t = a x0 + b y + s eps`` and their time derivatives at ``t``."""

    a: Tensor
    b: Tensor
    s: Tensor
    da: Tensor
    db: Tensor
    ds: Tensor


def expand_like(c: Tensor, x: Tensor) -> Tensor:
    """Broadcast a per-sample coefficient ``c: (B,)`` or ``()`` against ``x: (B, ...)``."""
    if c.ndim == 0:
        return c.to(x.dtype)
    if c.ndim > x.ndim or (c.ndim == 1 and c.shape[0] not in (1, x.shape[0])):
        raise ValueError(f"time/coefficient of shape {tuple(c.shape)} does not match a batch of shape {tuple(x.shape)}")
    return c.to(x.dtype).reshape(c.shape + (1,) * (x.ndim - c.ndim))


def _as_time(t: Tensor | float) -> Tensor:
    # Python numbers become float64: a time is never rounded to float32 before a coefficient is computed.
    if not isinstance(t, Tensor):
        return torch.as_tensor(t, dtype=torch.float64)
    return t if torch.is_floating_point(t) else t.to(torch.float64)


def check_same_shape(name: str, value: Tensor, x: Tensor) -> None:
    """Raise ``ValueError`` unless ``value`` has exactly the shape of ``x``."""
    if value.shape != x.shape:
        raise ValueError(f"{name} must have the shape of x {tuple(x.shape)}, got {tuple(value.shape)}")


def check_condition(y: Tensor | None, x: Tensor) -> None:
    """Raise ``ValueError`` unless the condition ``y`` broadcasts to the shape of ``x``."""
    if y is None:
        return
    try:
        shape = torch.broadcast_shapes(y.shape, x.shape)
    except RuntimeError:
        shape = None
    if shape != x.shape:
        raise ValueError(f"condition y of shape {tuple(y.shape)} does not broadcast to x of shape {tuple(x.shape)}")


class GaussianProcess(ABC):
    """Base class of every continuous diffusion process in condiff.

    Subclasses implement :meth:`coefficients`; ``a(t) > 0`` is required wherever
    :meth:`forward_drift` or the noise-prediction conversions are used.

    Attributes:
        t_min: smallest time at which the process is evaluated.
        T: terminal time, where the prior :meth:`prior_sample` lives.
    """

    t_min: float = 0.0
    T: float = 1.0

    @abstractmethod
    def coefficients(self, t: Tensor) -> PathCoefficients:
        """Return ``a, b, s`` and their derivatives at times ``t: (B,)`` or ``()``."""

    def coefficients64(self, t: Tensor | float) -> PathCoefficients:
        """:meth:`coefficients` evaluated in float64 (float32 on devices without float64).

        The conversions and dynamics below use it: ``a, b, s`` of a schedule span many
        orders of magnitude near ``t_min`` and ``T``, where float32 loses the ratios.
        """
        t = _as_time(t)
        if t.device.type != "mps":
            t = t.to(torch.float64)
        return self.coefficients(t)

    # -- time -----------------------------------------------------------------
    def check_time(self, t: Tensor | float) -> Tensor:
        """Return ``t`` as a tensor, raising ``ValueError`` if outside ``[t_min, T]``."""
        t = torch.as_tensor(t)
        if not torch.is_floating_point(t):
            t = t.to(torch.get_default_dtype())
        tol = 1e-6 * max(1.0, abs(self.T))
        if bool(((t < self.t_min - tol) | (t > self.T + tol)).any()) or not bool(torch.isfinite(t).all()):
            raise ValueError(
                f"{type(self).__name__}: time t must lie in [t_min={self.t_min}, T={self.T}]; "
                f"got values in [{t.min().item()}, {t.max().item()}]"
            )
        return t

    def log_snr(self, t: Tensor) -> Tensor:
        """``lambda(t) = log(a(t) / s(t))``, decreasing in ``t`` for every diffusion."""
        c = self.coefficients(_as_time(t))
        return torch.log(c.a) - torch.log(c.s)

    def snr(self, t: Tensor) -> Tensor:
        """Signal-to-noise ratio ``a(t)^2 / s(t)^2`` (Kingma et al. 2021), in the dtype of ``t``."""
        t = _as_time(t)
        c = self.coefficients64(t)
        return (c.a.square() / c.s.square()).to(t.dtype)

    def t_from_log_snr(self, lam: Tensor, iters: int = 100) -> Tensor:
        """Numerical inverse of :meth:`log_snr` by bisection (exact to float64 precision).

        Subclasses with a closed-form inverse override this.
        """
        lam = torch.as_tensor(lam, dtype=torch.float64)
        lo = torch.full_like(lam, self.t_min)
        hi = torch.full_like(lam, self.T)
        for _ in range(iters):
            mid = 0.5 * (lo + hi)
            above = self.log_snr(mid) > lam  # lambda decreasing: root lies later
            lo = torch.where(above, mid, lo)
            hi = torch.where(above, hi, mid)
        return 0.5 * (lo + hi)

    # -- marginals --------------------------------------------------------------
    def project(self, x: Tensor) -> Tensor:
        """Projection applied to noise and states (identity; e.g. zero centre of mass)."""
        return x

    def noise_like(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Standard normal noise shaped like ``x``, projected by :meth:`project`."""
        eps = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return self.project(eps)

    def marginal_sample(
        self,
        x0: Tensor,
        t: Tensor,
        y: Tensor | None = None,
        noise: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Draw ``x_t ~ p(x_t | x0, y)``; returns ``(x_t, eps)``. ``x0: (B, ...)``, ``t: (B,)``."""
        check_condition(y, x0)
        c = self.coefficients64(self.check_time(t).to(x0.device))
        eps = self.noise_like(x0, generator) if noise is None else noise
        check_same_shape("noise", eps, x0)
        x_t = expand_like(c.a, x0) * x0 + expand_like(c.s, x0) * eps
        if y is not None:
            x_t = x_t + expand_like(c.b, x0) * y
        return x_t, eps

    def prior_sample(
        self,
        shape: tuple[int, ...],
        y: Tensor | None = None,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
        noise: Tensor | None = None,
    ) -> Tensor:
        """Sample the prior at ``T``: ``b(T) y + s(T) eps`` (the ``a(T) x0`` term is dropped).

        ``noise`` (standard normal, ``shape``) replaces the draw from ``generator``.
        """
        T = torch.tensor(self.T, dtype=torch.float64)
        c = self.coefficients(T)
        eps = torch.randn(shape, generator=generator, device=device, dtype=dtype) if noise is None else noise
        x = float(c.s) * self.project(eps)
        if y is not None:
            x = x + float(c.b) * y
        return x

    # -- conversions between predictions ---------------------------------------
    def x0_from_eps(self, x: Tensor, t: Tensor, eps: Tensor, y: Tensor | None = None) -> Tensor:
        """``x0 = (x - b y - s eps) / a``; ``x, eps: (B, ...)``, ``t: (B,)`` or ``()``."""
        check_same_shape("eps", eps, x)
        check_condition(y, x)
        c = self.coefficients64(t)
        r = x - expand_like(c.s, x) * eps
        if y is not None:
            r = r - expand_like(c.b, x) * y
        return r / expand_like(c.a, x)

    def eps_from_x0(self, x: Tensor, t: Tensor, x0: Tensor, y: Tensor | None = None) -> Tensor:
        """``eps = (x - a x0 - b y) / s``; ``x, x0: (B, ...)``, ``t: (B,)`` or ``()``."""
        check_same_shape("x0", x0, x)
        check_condition(y, x)
        c = self.coefficients64(t)
        r = x - expand_like(c.a, x) * x0
        if y is not None:
            r = r - expand_like(c.b, x) * y
        return r / expand_like(c.s, x)

    # -- dynamics ---------------------------------------------------------------
    def diffusion_sq(self, t: Tensor) -> Tensor:
        """Forward SDE ``g(t)^2 = 2 s (s' - (a'/a) s) = -2 s^2 lambda'(t)``, in the dtype of ``t``."""
        t = _as_time(t)
        c = self.coefficients64(t)
        return (2.0 * c.s * (c.ds - c.da / c.a * c.s)).to(t.dtype)

    def forward_drift(self, x: Tensor, t: Tensor, y: Tensor | None = None) -> Tensor:
        """Forward SDE drift ``f = (a'/a) x + (b' - (a'/a) b) y`` (the SDE whose marginals are the path)."""
        check_condition(y, x)
        c = self.coefficients64(t)
        k = c.da / c.a
        f = expand_like(k, x) * x
        if y is not None:
            f = f + expand_like(c.db - k * c.b, x) * y
        return f

    def ode_velocity(self, t: Tensor, x0_hat: Tensor, eps_hat: Tensor, y: Tensor | None = None) -> Tensor:
        """Probability-flow ODE velocity ``dx/dt = a' x0_hat + b' y + s' eps_hat``."""
        check_same_shape("eps_hat", eps_hat, x0_hat)
        c = self.coefficients64(t)
        v = expand_like(c.da, x0_hat) * x0_hat + expand_like(c.ds, x0_hat) * eps_hat
        if y is not None:
            v = v + expand_like(c.db, x0_hat) * y
        return v

    def reverse_drift(
        self,
        x: Tensor,
        t: Tensor,
        eps_hat: Tensor,
        y: Tensor | None = None,
        diffusion_scale: float = 1.0,
        level: Tensor | float | None = None,
    ) -> Tensor:
        """Drift of the reverse SDE run backward in time with diffusion ``diffusion_scale * g``.

        ``dx = [f - (1 + eta^2)/2 g^2 score] dt + eta g dW``, ``score = -eps_hat / s``;
        ``eta = 0`` is the probability-flow ODE and ``eta = 1`` the reverse SDE of
        Anderson (1982) / score-SDE eq. (6).

        With ``level = D(t)`` given instead (the stochastic-interpolant diffusion level
        ``eps(t)`` of Albergo et al. 2023, eq. 2.33), the drift is
        ``v_ode - D score`` and the matching noise is ``sqrt(2 D) dW``; ``D = eta^2 g^2 / 2``
        recovers the ``diffusion_scale`` form.
        """
        check_same_shape("eps_hat", eps_hat, x)
        c = self.coefficients64(t)
        score = -eps_hat / expand_like(c.s, x)
        g2 = 2.0 * c.s * (c.ds - c.da / c.a * c.s)
        if level is None:
            coef = 0.5 * (1.0 + diffusion_scale**2) * g2
        else:
            coef = 0.5 * g2 + torch.as_tensor(level, dtype=g2.dtype, device=g2.device)
        return self.forward_drift(x, t, y) - expand_like(coef, x) * score

    def __repr__(self) -> str:
        return f"{type(self).__name__}(t_min={self.t_min}, T={self.T})"
