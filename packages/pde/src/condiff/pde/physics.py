"""Periodic 1-D PDE solvers that generate WDNO's training data: exact (forced) advection and forced viscous Burgers.

Domain ``x in [0, L)`` periodic with grid ``x_j = j L / N``; frames ``t_k = k dt_frame``, ``k = 0..nt``. All
functions are vectorised over a batch and deterministic (random fields take an explicit ``torch.Generator``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def periodic_grid(n: int, length: float = 1.0, dtype: torch.dtype = torch.float64) -> Tensor:
    """Grid points ``x_j = j L / N``, ``j = 0..N-1``: ``(N,)``."""
    if n < 2:
        raise ValueError(f"grid size must be at least 2, got {n}")
    return torch.arange(n, dtype=dtype) * (length / n)


def _wavenumbers(n: int, length: float, like: Tensor) -> Tensor:
    """Angular wavenumbers ``2 pi k / L`` of ``torch.fft.rfft`` on ``n`` points: ``(n // 2 + 1,)``."""
    return 2 * math.pi / length * torch.arange(n // 2 + 1, dtype=like.dtype, device=like.device)


def _check_field(u0: Tensor, name: str = "u0") -> None:
    if u0.dim() != 2 or not u0.is_floating_point():
        raise ValueError(f"{name} must be a floating-point (B, N) tensor, got {tuple(u0.shape)} {u0.dtype}")
    if not torch.isfinite(u0).all():
        raise ValueError(f"{name} contains NaN or infinite values")


def _circulant(multiplier: Tensor, n: int) -> Tensor:
    """The real ``(N, N)`` matrix ``M`` with ``u @ M = irfft(multiplier * rfft(u))``."""
    eye = torch.eye(n, dtype=multiplier.real.dtype, device=multiplier.device)
    return torch.fft.irfft(multiplier * torch.fft.rfft(eye, dim=-1), n=n, dim=-1)


def advection_exact(u0: Tensor, velocity: Tensor | float, times: Tensor, length: float = 1.0) -> Tensor:
    """Exact solution of ``u_t + c u_x = 0``: ``u(x, t) = u0(x - c t)``, shifting the trigonometric interpolant.

    Exact (to rounding) at every grid point when ``u0`` is band-limited to the grid (the Nyquist mode is zero).

    Args:
        u0: ``(B, N)`` initial state on :func:`periodic_grid`.
        velocity: ``c``, a float or ``(B,)``.
        times: ``(T,)`` output times.

    Returns:
        ``(B, T, N)``.
    """
    _check_field(u0)
    c = torch.as_tensor(velocity, dtype=u0.dtype, device=u0.device).reshape(-1, 1, 1)
    if c.shape[0] not in (1, u0.shape[0]):
        raise ValueError(f"velocity must be a scalar or (B,) with B={u0.shape[0]}, got {c.shape[0]} values")
    k = _wavenumbers(u0.shape[-1], length, u0)
    shift = torch.exp(-1j * k * c * times.to(u0).reshape(1, -1, 1))  # (B, T, K)
    return torch.fft.irfft(torch.fft.rfft(u0, dim=-1).unsqueeze(1) * shift, n=u0.shape[-1], dim=-1)


def burgers(
    u0: Tensor,
    *,
    nu: float = 0.01,
    nt: int = 10,
    t_final: float = 1.0,
    forcing: Tensor | None = None,
    length: float = 1.0,
    max_dt: float = 2.5e-3,
) -> Tensor:
    """Viscous Burgers ``u_t + (u^2/2)_x = nu u_xx + f(x, t)``, periodic, pseudo-spectral with IFRK4.

    Fourier in space with the 2/3 de-aliasing rule; in time the integrating-factor fourth-order Runge-Kutta
    method (Kassam & Trefethen 2005, Sec. 2), which integrates the viscous term exactly. Spectral accuracy in
    space, fourth order in time. The forcing is piecewise constant: ``forcing[:, k]`` acts on ``[t_k, t_{k+1})``.

    Args:
        u0: ``(B, N)`` initial state on :func:`periodic_grid`.
        nu: viscosity, > 0.
        nt: number of frame intervals; frames are ``t_k = k t_final / nt``.
        forcing: ``(B, nt, N)`` or None.
        max_dt: largest internal step; each frame interval takes ``ceil(dt_frame / max_dt)`` equal steps.

    Returns:
        ``(B, nt + 1, N)``: the state at every frame, ``u0`` first.
    """
    _check_field(u0)
    b, n = u0.shape
    if nu <= 0 or nt < 1 or t_final <= 0 or max_dt <= 0:
        raise ValueError(f"need nu > 0, nt >= 1, t_final > 0, max_dt > 0; got {nu}, {nt}, {t_final}, {max_dt}")
    if forcing is not None:
        if forcing.shape != (b, nt, n):
            raise ValueError(f"forcing must have shape (B, nt, N) = {(b, nt, n)}, got {tuple(forcing.shape)}")
        if not torch.isfinite(forcing).all():
            raise ValueError("forcing contains NaN or infinite values")
    k = _wavenumbers(n, length, u0)
    dealias = (torch.arange(k.numel(), device=u0.device) < n / 3).to(u0.dtype)  # keep |k| < N/3 (2/3 rule)
    dt_frame = t_final / nt
    steps = max(1, math.ceil(dt_frame / max_dt - 1e-9))
    dt = dt_frame / steps
    # Every Fourier multiplier is a circulant matrix on the grid: stepping with small dense matmuls is exact
    # to rounding and avoids per-call FFT overhead, which dominates at these grid sizes.
    e_half = _circulant(torch.exp(-nu * k.square() * dt / 2), n)
    e_full = _circulant(torch.exp(-nu * k.square() * dt), n)
    flux = _circulant(-0.5j * k * dealias, n)  # u^2 -> -(u^2 / 2)_x, de-aliased

    u = u0
    frames = [u0]
    for step in range(nt):
        f = 0.0 if forcing is None else forcing[:, step]
        for _ in range(steps):
            a = (u * u) @ flux + f
            b_ = ((u + dt / 2 * a) @ e_half) ** 2 @ flux + f
            c = (u @ e_half + dt / 2 * b_) ** 2 @ flux + f
            d = (u @ e_full + dt * c @ e_half) ** 2 @ flux + f
            u = (u + dt / 6 * a) @ e_full + dt / 3 * (b_ + c) @ e_half + dt / 6 * d
        frames.append(u)
    out = torch.stack(frames, dim=1)
    if not torch.isfinite(out).all():
        raise FloatingPointError(f"Burgers solver diverged (nu={nu}, dt={dt}); lower max_dt")
    return out


def advection_forced(
    u0: Tensor,
    *,
    velocity: float = 1.0,
    nt: int = 10,
    t_final: float = 1.0,
    forcing: Tensor | None = None,
    length: float = 1.0,
) -> Tensor:
    """Exact solution of forced linear advection ``u_t + c u_x = f`` (periodic), ``f`` constant per frame interval.

    Per Fourier mode ``k`` and interval ``dt``:
    ``u_k(t + dt) = e^{-i k c dt} u_k(t) + (1 - e^{-i k c dt}) / (i k c) f_k`` (``dt f_0`` for ``k = 0``):
    the solution transported along the characteristics ``x - c t`` plus the forcing integrated along them.
    Without forcing it is :func:`advection_exact`.

    Args:
        u0: ``(B, N)``.
        velocity: ``c``.
        forcing: ``(B, nt, N)`` or None.

    Returns:
        ``(B, nt + 1, N)``.
    """
    _check_field(u0)
    if nt < 1 or t_final <= 0:
        raise ValueError(f"need nt >= 1 and t_final > 0; got {nt}, {t_final}")
    rate = 1j * velocity * _wavenumbers(u0.shape[1], length, u0)
    return _linear_modes(u0, rate, nt, t_final, forcing)


def heat_forced(
    u0: Tensor,
    *,
    nu: float = 0.01,
    nt: int = 10,
    t_final: float = 1.0,
    forcing: Tensor | None = None,
    length: float = 1.0,
) -> Tensor:
    """Exact solution of the linear part of Burgers, ``u_t = nu u_xx + f`` (periodic, no advection).

    Per Fourier mode and frame interval of length ``dt`` with constant forcing ``f_k``:
    ``u_k(t + dt) = e^{-nu k^2 dt} u_k(t) + (1 - e^{-nu k^2 dt}) / (nu k^2) f_k`` (``dt f_0`` for ``k = 0``).
    Exact to rounding; the "linear" baseline of the WDNO tests (what is left of Burgers without its
    nonlinear transport).

    Args:
        u0: ``(B, N)``.
        forcing: ``(B, nt, N)`` piecewise constant per frame interval, or None.

    Returns:
        ``(B, nt + 1, N)``.
    """
    _check_field(u0)
    if nu <= 0 or nt < 1 or t_final <= 0:
        raise ValueError(f"need nu > 0, nt >= 1, t_final > 0; got {nu}, {nt}, {t_final}")
    rate = nu * _wavenumbers(u0.shape[1], length, u0).square()
    return _linear_modes(u0, rate, nt, t_final, forcing)


def _linear_modes(u0: Tensor, rate: Tensor, nt: int, t_final: float, forcing: Tensor | None) -> Tensor:
    """Exact frames of ``u_k' = -rate_k u_k + f_k`` per Fourier mode, ``f`` constant per frame interval:
    ``u_k(t + dt) = e^{-rate dt} u_k(t) + (1 - e^{-rate dt}) / rate f_k`` (``dt f_k`` where ``rate = 0``)."""
    b, n = u0.shape
    if forcing is not None and forcing.shape != (b, nt, n):
        raise ValueError(f"forcing must have shape (B, nt, N) = {(b, nt, n)}, got {tuple(forcing.shape)}")
    dt = t_final / nt
    decay = torch.exp(-rate * dt)
    safe = torch.where(rate == 0, torch.ones_like(rate), rate)
    gain = torch.where(rate == 0, torch.full_like(rate, dt), -torch.expm1(-safe * dt) / safe)
    uh = torch.fft.rfft(u0, dim=-1)
    frames = [u0]
    for step in range(nt):
        uh = decay * uh
        if forcing is not None:
            uh = uh + gain * torch.fft.rfft(forcing[:, step], dim=-1)
        frames.append(torch.fft.irfft(uh, n=n, dim=-1))
    return torch.stack(frames, dim=1)


def cole_hopf_solution(x: Tensor, t: Tensor, nu: float, amplitude: float = 0.5, length: float = 1.0) -> Tensor:
    """Closed-form Burgers solution from ``phi = 1 + a e^{-nu kappa^2 t} cos(kappa x)``, ``kappa = 2 pi / L``.

    Cole-Hopf: ``u = -2 nu phi_x / phi = 2 nu kappa a e^{-nu kappa^2 t} sin(kappa x) / phi`` solves
    ``u_t + u u_x = nu u_xx`` because ``phi`` solves the heat equation; ``|a| < 1`` keeps ``phi > 0``.

    Returns:
        ``(T, N)`` for ``x: (N,)`` and ``t: (T,)``.
    """
    if not abs(amplitude) < 1:
        raise ValueError(f"amplitude must satisfy |a| < 1 so that phi > 0, got {amplitude}")
    kappa = 2 * math.pi / length
    decay = amplitude * torch.exp(-nu * kappa**2 * t).unsqueeze(-1)
    return 2 * nu * kappa * decay * torch.sin(kappa * x) / (1 + decay * torch.cos(kappa * x))


def random_fourier_field(
    batch: int, n: int, modes: int = 4, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
) -> Tensor:
    """Band-limited random initial states ``sum_{m=1}^{modes} (a_m cos 2 pi m x + b_m sin 2 pi m x) / m``: ``(B, N)``.

    ``a_m, b_m ~ N(0, 1)``; band-limited below the Nyquist mode, so :func:`advection_exact` is exact on them.
    """
    if not 1 <= modes < n // 2:
        raise ValueError(f"modes must be in [1, N/2) = [1, {n // 2}), got {modes}")
    coef = torch.randn(batch, 2, modes, generator=generator, dtype=dtype)
    m = torch.arange(1, modes + 1, dtype=dtype)
    phase = 2 * math.pi * m.unsqueeze(-1) * periodic_grid(n, 1.0, dtype)  # (modes, N)
    field = (coef[:, 0, :, None] * torch.cos(phase) + coef[:, 1, :, None] * torch.sin(phase)) / m[:, None]
    return field.sum(dim=1)


def random_gaussian_bumps(
    batch: int,
    n: int,
    bumps: int = 2,
    *,
    generator: torch.Generator,
    amplitude: float = 1.0,
    width: tuple[float, float] = (0.05, 0.15),
    dtype: torch.dtype = torch.float64,
) -> Tensor:
    """Sums of ``bumps`` periodised Gaussians ``A exp(-d(x, c)^2 / (2 w^2))`` with ``A ~ U(-amplitude, amplitude)``,
    ``c ~ U[0, 1)``, ``w ~ U(width)`` and ``d`` the periodic distance on ``[0, 1)``: ``(B, N)``.

    The initial states and forcing components of the Burgers benchmark of WDNO/DiffPhyCon are Gaussian bumps;
    this is that family on a periodic domain.
    """
    x = periodic_grid(n, 1.0, dtype)
    amp = (torch.rand(batch, bumps, 1, generator=generator, dtype=dtype) * 2 - 1) * amplitude
    centre = torch.rand(batch, bumps, 1, generator=generator, dtype=dtype)
    w = width[0] + (width[1] - width[0]) * torch.rand(batch, bumps, 1, generator=generator, dtype=dtype)
    d = torch.remainder(x - centre + 0.5, 1.0) - 0.5
    return (amp * torch.exp(-d.square() / (2 * w.square()))).sum(dim=1)


def random_forcing(
    batch: int,
    nt: int,
    n: int,
    *,
    generator: torch.Generator,
    amplitude: float = 1.0,
    dtype: torch.dtype = torch.float64,
) -> Tensor:
    """A random space-time forcing ``(B, nt, N)``: a Gaussian bump in ``x`` times a random smooth gain in ``t``.

    ``f(x, t_k) = g(x) (s_0 + s_1 sin(2 pi t_k) + s_2 cos(2 pi t_k))`` with ``g`` from
    :func:`random_gaussian_bumps` and ``s ~ N(0, 1/3)``.
    """
    if nt < 1:
        raise ValueError(f"nt must be at least 1, got {nt}")
    shape = random_gaussian_bumps(batch, n, 1, generator=generator, amplitude=amplitude, dtype=dtype)
    s = torch.randn(batch, 3, 1, generator=generator, dtype=dtype) / math.sqrt(3)
    t = torch.arange(nt, dtype=dtype) / nt
    gain = s[:, 0] + s[:, 1] * torch.sin(2 * math.pi * t) + s[:, 2] * torch.cos(2 * math.pi * t)  # (B, nt)
    return gain.unsqueeze(-1) * shape.unsqueeze(1)
