"""SDE and ODE samplers: Euler-Maruyama, predictor-corrector, EDM Euler/Heun with churn, S4, interpolant samplers.

Every method walks the decreasing float64 ``grid`` of the general path ``x_t = a x0 + b y + s eps``
with a denoiser ``(x, t) -> (x0_hat, eps_hat)``; the score is ``-eps_hat / s``. Euler-Maruyama,
predictor-corrector and S4 also run on tuple states (a :class:`ProductProcess`, GDSS), where the
denoiser returns tuples and every component follows its own process at the shared time.
All noise comes from :func:`~condiff.core.sampling.noise.randn`, so per-sample generators make a
sample independent of the batch it is drawn in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess
from condiff.core.processes.product import ProductProcess
from condiff.core.sampling.denoiser import Denoiser
from condiff.core.sampling.noise import Generators, randn
from condiff.core.sampling.types import Samples

Callback = Callable[[int, Any, Any], None] | None
Parts = tuple[tuple[GaussianProcess, ...], tuple[Tensor, ...], tuple[Tensor | None, ...]]


# -- helpers -------------------------------------------------------------------
def _abs(process: GaussianProcess, t: float) -> tuple[float, float, float]:
    """``a, b, s`` at the scalar time ``t`` as Python floats (float64).

    The time goes in as a float64 tensor: ``coefficients64`` of a Python float rounds it to float32 first.
    """
    c = process.coefficients64(torch.tensor(t, dtype=torch.float64))
    return float(c.a), float(c.b), float(c.s)


def _times(t: float, x: Tensor) -> Tensor:
    """The batch of times ``(B,)`` the denoiser is queried at (float64 where the device has it)."""
    dtype = torch.float32 if x.device.type == "mps" else torch.float64
    return torch.full((x.shape[0],), t, dtype=dtype, device=x.device)


def _plus_y(v: Tensor, coef: float, y: Tensor | None) -> Tensor:
    return v if y is None or coef == 0.0 else v + coef * y.to(v.dtype)


def _noise(process: GaussianProcess, x: Tensor, generator: Generators) -> Tensor:
    return process.project(randn(x.shape, generator, device=x.device, dtype=x.dtype))


def _split(process: GaussianProcess | ProductProcess, x: Any, y: Any) -> Parts:
    """Components of a (possibly tuple) state: one process, state and condition each."""
    if isinstance(process, ProductProcess):
        if not isinstance(x, Sequence) or len(x) != len(process):
            raise ValueError(f"a ProductProcess of {len(process)} components needs a tuple state of that length")
        ys = (None,) * len(process) if y is None else tuple(y)
        if len(ys) != len(process):
            raise ValueError(f"y must be None or have {len(process)} components, got {len(ys)}")
        return process.processes, tuple(x), ys
    if not isinstance(x, Tensor):
        raise ValueError(f"a tensor state is needed for {type(process).__name__}; use a ProductProcess for tuples")
    return (process,), (x,), (y,)


def _join(xs: Sequence[Tensor], is_tuple: bool) -> Any:
    return tuple(xs) if is_tuple else xs[0]


def _denoise(denoiser: Denoiser, xs: Sequence[Tensor], t: float, is_tuple: bool) -> tuple[tuple[Tensor, ...], ...]:
    """Call the denoiser on the joint state; returns ``(x0_hats, eps_hats)`` as per-component tuples."""
    x0_hat, eps_hat = denoiser(_join(xs, is_tuple), _times(t, xs[0]))
    x0s = tuple(x0_hat) if is_tuple else (x0_hat,)
    epss = tuple(eps_hat) if is_tuple else (eps_hat,)
    return tuple(v.to(x.dtype) for v, x in zip(x0s, xs, strict=True)), tuple(
        v.to(x.dtype) for v, x in zip(epss, xs, strict=True)
    )


def _langevin(
    process: GaussianProcess,
    x: Tensor,
    score: Tensor,
    snr: float,
    alpha: float,
    std: float,
    kind: str,
    scale_eps: float,
    generator: Generators,
) -> Tensor:
    """One Langevin corrector step ``x + e score + sqrt(2 e) z`` (score-SDE Alg. 5; SGMSE's ALD).

    ``kind="ald"``: ``e = 2 alpha (snr s(t))^2`` (annealed Langevin dynamics of SGMSE; per sample);
    ``kind="langevin"``: ``e = 2 alpha (snr ||z|| / ||score||)^2`` with both norms averaged over the
    batch as in score-SDE and GDSS, so a sample depends on its batch. In high dimension the two agree
    (``||z||^2 ~ d``, ``||score||^2 ~ d / s^2``); per-sample norms would explode in low dimension, where
    ``||score||`` of a sample near a mode is close to 0.
    """
    z = _noise(process, x, generator)
    if kind == "ald":
        step = 2.0 * alpha * (snr * std) ** 2
    else:
        g = score.reshape(x.shape[0], -1).norm(dim=-1).mean()
        n = z.reshape(x.shape[0], -1).norm(dim=-1).mean()
        step = float(2.0 * alpha * (snr * n / g.clamp_min(torch.finfo(x.dtype).tiny)) ** 2)
    return x + step * score + (2.0 * step) ** 0.5 * scale_eps * z


def _finish(
    denoiser: Denoiser, xs: tuple[Tensor, ...], t_end: float, is_tuple: bool, denoise_final: bool
) -> tuple[Any, int]:
    """Optionally replace the final state by ``x0_hat`` at ``t_end`` (one more network evaluation)."""
    if not denoise_final:
        return _join(xs, is_tuple), 0
    x0s, _ = _denoise(denoiser, xs, t_end, is_tuple)
    return _join(x0s, is_tuple), 1


# -- Euler-Maruyama ----------------------------------------------------------------
def euler_maruyama(
    denoiser: Denoiser,
    process: GaussianProcess | ProductProcess,
    x: Any,
    grid: Tensor,
    y: Any = None,
    *,
    diffusion_scale: float = 1.0,
    denoise_final: bool = False,
    generator: Generators = None,
    callback: Callback = None,
    return_trajectory: bool = False,
) -> Samples:
    """Euler-Maruyama for the reverse SDE with diffusion ``eta g`` (score-SDE eq. 6; Song et al. 2021).

    ``dx = [f - (1 + eta^2)/2 g^2 score] dt + eta g dW`` backward in time (``eta = diffusion_scale``):
    ``eta = 1`` is the reverse SDE of Anderson (1982), ``eta = 0`` the probability-flow ODE
    (first-order Euler in ``t``); every ``eta`` has the same marginals. With ``denoise_final`` the
    result is ``x0_hat`` at the last time (one more network evaluation). NFE = ``steps``
    (+1 with ``denoise_final``).
    """
    if diffusion_scale < 0:
        raise ValueError(f"euler-maruyama: diffusion_scale must be >= 0, got {diffusion_scale}")
    procs, xs, ys = _split(process, x, y)
    is_tuple = isinstance(process, ProductProcess)
    traj, nfe = [x] if return_trajectory else [], 0
    for i in range(len(grid) - 1):
        t, t_next = float(grid[i]), float(grid[i + 1])
        x0s, epss = _denoise(denoiser, xs, t, is_tuple)
        nfe += 1
        dt = t_next - t
        tt = torch.tensor(t, dtype=torch.float64)
        out = []
        for p, xk, yk, ek in zip(procs, xs, ys, epss, strict=True):
            xk = xk + p.reverse_drift(xk, tt, ek, yk, diffusion_scale).to(xk.dtype) * dt
            if diffusion_scale > 0:
                g2 = float(p.diffusion_sq(tt))
                xk = xk + diffusion_scale * math.sqrt(max(g2, 0.0) * -dt) * _noise(p, xk, generator)
            out.append(xk)
        xs = tuple(out)
        if callback is not None:
            callback(i, _join(xs, is_tuple), _join(x0s, is_tuple))
        if return_trajectory:
            traj.append(_join(xs, is_tuple))
    result, extra = _finish(denoiser, xs, float(grid[-1]), is_tuple, denoise_final)
    return Samples(x=result, nfe=nfe + extra, trajectory=traj)


# -- predictor-corrector -----------------------------------------------------------
def _reverse_diffusion(
    p: GaussianProcess, x: Tensor, t: float, t_next: float, eps: Tensor, y: Tensor | None, generator: Generators
) -> Tensor:
    """Reverse-diffusion predictor (score-SDE Sec. 4.2) from the exact forward transition ``t_next -> t``.

    With ``k = a(t)/a(t_next)`` the forward step is ``x_t = k x_{t_next} + (b_t - k b_{t_next}) y + G z``,
    ``G^2 = s_t^2 - k^2 s_{t_next}^2``; the predictor is ``x - f + G^2 score + G z`` with
    ``f = (k - 1) x + (b_t - k b_{t_next}) y`` (score-SDE's DDPM / SMLD discretisations for VP / VE).
    """
    a, b, s = _abs(p, t)
    a1, b1, s1 = _abs(p, t_next)
    k = a / a1
    g2 = max(s * s - k * k * s1 * s1, 0.0)
    out = _plus_y((2.0 - k) * x, -(b - k * b1), y) - (g2 / s) * eps
    return out + math.sqrt(g2) * _noise(p, x, generator)


def predictor_corrector(
    denoiser: Denoiser,
    process: GaussianProcess | ProductProcess,
    x: Any,
    grid: Tensor,
    y: Any = None,
    *,
    snr: float = 0.16,
    corrector_steps: int = 1,
    corrector: str = "ald",
    predictor: str = "reverse-diffusion",
    scale_eps: float = 1.0,
    denoise_final: bool = False,
    generator: Generators = None,
    callback: Callback = None,
    return_trajectory: bool = False,
) -> Samples:
    """Predictor-corrector sampling (score-SDE Alg. 2-3, Song et al. 2021; SGMSE's PC sampler).

    At each grid time: ``corrector_steps`` Langevin steps at ``t`` targeting ``p_t(x | y)``
    (``corrector="ald"``: SGMSE's annealed Langevin dynamics, per sample; ``"langevin"``: score-SDE's
    signal-to-noise step with batch-averaged norms, see :func:`_langevin`), then one predictor step to
    the next time (``"reverse-diffusion"`` or ``"euler-maruyama"``). Every corrector step costs one network evaluation:
    NFE = ``steps * (1 + corrector_steps)`` (+1 with ``denoise_final``).
    """
    if corrector not in ("langevin", "ald"):
        raise ValueError(f"pc: corrector must be 'langevin' or 'ald', got {corrector!r}")
    if predictor not in ("reverse-diffusion", "euler-maruyama"):
        raise ValueError(f"pc: predictor must be 'reverse-diffusion' or 'euler-maruyama', got {predictor!r}")
    if corrector_steps < 0 or snr < 0:
        raise ValueError(f"pc: need corrector_steps >= 0 and snr >= 0, got {corrector_steps}, {snr}")
    procs, xs, ys = _split(process, x, y)
    is_tuple = isinstance(process, ProductProcess)
    traj, nfe = [x] if return_trajectory else [], 0
    for i in range(len(grid) - 1):
        t, t_next = float(grid[i]), float(grid[i + 1])
        for _ in range(int(corrector_steps)):
            _, epss = _denoise(denoiser, xs, t, is_tuple)
            nfe += 1
            xs = tuple(
                _langevin(
                    p,
                    xk,
                    -ek / _abs(p, t)[2],
                    snr,
                    _alpha(p, t, t_next),
                    _abs(p, t)[2],
                    corrector,
                    scale_eps,
                    generator,
                )
                for p, xk, ek in zip(procs, xs, epss, strict=True)
            )
        x0s, epss = _denoise(denoiser, xs, t, is_tuple)
        nfe += 1
        if predictor == "reverse-diffusion":
            xs = tuple(
                _reverse_diffusion(p, xk, t, t_next, ek, yk, generator)
                for p, xk, ek, yk in zip(procs, xs, epss, ys, strict=True)
            )
        else:
            tt, dt = torch.tensor(t, dtype=torch.float64), t_next - t
            xs = tuple(
                xk
                + p.reverse_drift(xk, tt, ek, yk).to(xk.dtype) * dt
                + math.sqrt(max(float(p.diffusion_sq(tt)), 0.0) * -dt) * _noise(p, xk, generator)
                for p, xk, ek, yk in zip(procs, xs, epss, ys, strict=True)
            )
        if callback is not None:
            callback(i, _join(xs, is_tuple), _join(x0s, is_tuple))
        if return_trajectory:
            traj.append(_join(xs, is_tuple))
    result, extra = _finish(denoiser, xs, float(grid[-1]), is_tuple, denoise_final)
    return Samples(x=result, nfe=nfe + extra, trajectory=traj)


def _alpha(p: GaussianProcess, t: float, t_next: float) -> float:
    """score-SDE's corrector factor ``alpha_i = 1 - beta_i`` in general form ``(a(t)/a(t_next))^2`` (1 for VE)."""
    return (_abs(p, t)[0] / _abs(p, t_next)[0]) ** 2


# -- S4 (GDSS) ---------------------------------------------------------------------------
def _linear_backward(
    p: GaussianProcess, x: Tensor, t: float, t_next: float, y: Tensor | None, generator: Generators
) -> Tensor:
    """Exact solution of the linear part ``dx = f dt + g dW`` run backward from ``t`` to ``t_next < t``.

    Mean ``k x + (b' - k b) y`` with ``k = a'/a``, variance ``a'^2 (sigma^2 - sigma'^2)``, ``sigma = s/a``
    (``g^2 = a^2 d(sigma^2)/dt``; primes denote ``t_next``). Needs ``a(t) > 0``.
    """
    a, b, s = _abs(p, t)
    a1, b1, s1 = _abs(p, t_next)
    if a <= 0:
        raise ValueError(f"s4: the linear step needs a(t) > 0, got a({t}) = {a}")
    k = a1 / a
    var = max(k * k * s * s - s1 * s1, 0.0)
    return _plus_y(k * x, b1 - k * b, y) + math.sqrt(var) * _noise(p, x, generator)


def s4(
    denoiser: Denoiser,
    process: GaussianProcess | ProductProcess,
    x: Any,
    grid: Tensor,
    y: Any = None,
    *,
    snr: float = 0.1,
    scale_eps: float = 1.0,
    corrector: str = "ald",
    denoise_final: bool = False,
    generator: Generators = None,
    callback: Callback = None,
    return_trajectory: bool = False,
) -> Samples:
    """S4 solver of GDSS for systems of SDEs (Jo et al. 2022, Sec. 3.3 and Alg. 2; ``S4_solver``).

    One network evaluation per step gives every component's score at ``t``; it serves both a
    Langevin correction (step size from ``snr``, noise scaled by ``scale_eps``; ``corrector="langevin"``
    is GDSS's batch-averaged signal-to-noise step, the default ``"ald"`` the per-sample one) and a
    symmetric (Strang) splitting of the reverse SDE ``dx = [f - g^2 score] dt + g dW``: half a step of
    the linear part (solved exactly, :func:`_linear_backward`), a full step of ``-g(t)^2 score dt``,
    and the other half step of the linear part. NFE = ``steps`` (+1 with ``denoise_final``).
    """
    if corrector not in ("langevin", "ald"):
        raise ValueError(f"s4: corrector must be 'langevin' or 'ald', got {corrector!r}")
    procs, xs, ys = _split(process, x, y)
    is_tuple = isinstance(process, ProductProcess)
    traj, nfe = [x] if return_trajectory else [], 0
    for i in range(len(grid) - 1):
        t, t_next = float(grid[i]), float(grid[i + 1])
        t_mid = 0.5 * (t + t_next)
        x0s, epss = _denoise(denoiser, xs, t, is_tuple)
        nfe += 1
        tt = torch.tensor(t, dtype=torch.float64)
        out = []
        for p, xk, yk, ek in zip(procs, xs, ys, epss, strict=True):
            s = _abs(p, t)[2]
            score = -ek / s
            xk = _langevin(p, xk, score, snr, _alpha(p, t, t_next), s, corrector, scale_eps, generator)
            xk = _linear_backward(p, xk, t, t_mid, yk, generator)
            xk = xk + (float(p.diffusion_sq(tt)) * (t - t_next)) * score
            out.append(_linear_backward(p, xk, t_mid, t_next, yk, generator))
        xs = tuple(out)
        if callback is not None:
            callback(i, _join(xs, is_tuple), _join(x0s, is_tuple))
        if return_trajectory:
            traj.append(_join(xs, is_tuple))
    result, extra = _finish(denoiser, xs, float(grid[-1]), is_tuple, denoise_final)
    return Samples(x=result, nfe=nfe + extra, trajectory=traj)


# -- EDM Euler / Heun ------------------------------------------------------------------------
def _edm(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Tensor,
    grid: Tensor,
    y: Tensor | None,
    heun: bool,
    s_churn: float,
    s_tmin: float,
    s_tmax: float,
    s_noise: float,
    generator: Generators,
    callback: Callback,
    return_trajectory: bool,
) -> Samples:
    """EDM's Algorithm 2 (Karras et al. 2022) in ``xs = (x - b y)/a``, ``sigma = s/a`` for any process.

    ``xs`` follows the VE path ``x0 + sigma eps`` whose PF-ODE is ``d xs / d sigma = eps_hat``. Churn
    raises ``sigma_i`` to ``sigma_hat = (1 + gamma) sigma_i`` (``gamma = min(s_churn/N, sqrt 2 - 1)``
    for ``sigma_i`` in ``[s_tmin, s_tmax]``), clipped to ``sigma(T)``, by adding noise of variance
    ``sigma_hat^2 - sigma_i^2``; the network is queried at the time ``t_hat`` of ``sigma_hat``.
    Heun corrects every step but the last (and a first step from ``a = 0``, ``sigma = inf``).
    """
    if isinstance(process, ProductProcess) or not isinstance(x, Tensor):
        raise ValueError("euler/heun: tuple states are not supported; use euler-maruyama, pc or s4")
    if s_churn < 0 or s_noise < 0:
        raise ValueError(f"euler/heun: need s_churn >= 0 and s_noise >= 0, got {s_churn}, {s_noise}")
    n_steps = len(grid) - 1
    gamma_max = min(s_churn / n_steps, math.sqrt(2.0) - 1.0) if s_churn > 0 else 0.0
    traj, nfe = [x] if return_trajectory else [], 0
    a, b, s = _abs(process, float(grid[0]))
    xs = (_plus_y(x, -b, y) / a) if a > 0 else None
    for i in range(n_steps):
        t, t_next = float(grid[i]), float(grid[i + 1])
        a, b, s = _abs(process, t)
        sigma = s / a if a > 0 else math.inf
        t_hat = t
        if gamma_max > 0 and xs is not None and s_tmin <= sigma <= s_tmax:
            t_hat = _time_of_sigma(process, sigma * (1.0 + gamma_max), t)
            a_h, _, s_h = _abs(process, t_hat)
            var = max((s_h / a_h) ** 2 - sigma**2, 0.0)
            xs = xs + s_noise * math.sqrt(var) * _noise(process, xs, generator)
            a, b, s = _abs(process, t_hat)
            sigma = s / a
        x_hat = _plus_y(a * xs, b, y) if xs is not None else x
        x0_hat, d = (v.to(x.dtype) for v in denoiser(x_hat, _times(t_hat, x)))
        nfe += 1
        a1, b1, s1 = _abs(process, t_next)
        sigma_next = s1 / a1
        xs_next = xs + (sigma_next - sigma) * d if xs is not None else x0_hat + sigma_next * d
        if heun and i < n_steps - 1 and xs is not None and sigma_next > 0:
            _, d2 = denoiser(_plus_y(a1 * xs_next, b1, y), _times(t_next, x))
            nfe += 1
            xs_next = xs + (sigma_next - sigma) * 0.5 * (d + d2.to(x.dtype))
        xs = xs_next
        x = _plus_y(a1 * xs, b1, y)
        if callback is not None:
            callback(i, x, x0_hat)
        if return_trajectory:
            traj.append(x)
    return Samples(x=x, nfe=nfe, trajectory=traj)


def _time_of_sigma(process: GaussianProcess, sigma: float, t_lo: float) -> float:
    """The time whose ``s/a`` is ``sigma`` (``lambda = -log sigma``), clipped to ``[t_lo, T]``."""
    t = float(process.t_from_log_snr(torch.tensor(-math.log(sigma), dtype=torch.float64)))
    return min(max(t, t_lo), float(process.T))


def edm_euler(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Tensor,
    grid: Tensor,
    y: Tensor | None = None,
    *,
    s_churn: float = 0.0,
    s_tmin: float = 0.0,
    s_tmax: float = math.inf,
    s_noise: float = 1.0,
    generator: Generators = None,
    callback: Callback = None,
    return_trajectory: bool = False,
) -> Samples:
    """Probability-flow Euler in ``(x - b y)/a`` over ``sigma = s/a`` with EDM's churn; NFE = ``steps``.

    Without churn it is DDIM (``eta = 0``) written in EDM's variables.
    """
    return _edm(
        denoiser, process, x, grid, y, False, s_churn, s_tmin, s_tmax, s_noise, generator, callback, return_trajectory
    )


def edm_heun(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Tensor,
    grid: Tensor,
    y: Tensor | None = None,
    *,
    s_churn: float = 0.0,
    s_tmin: float = 0.0,
    s_tmax: float = math.inf,
    s_noise: float = 1.0,
    generator: Generators = None,
    callback: Callback = None,
    return_trajectory: bool = False,
) -> Samples:
    """EDM's stochastic Heun sampler (Karras et al. 2022, Alg. 2) for any process; NFE = ``2 steps - 1``."""
    return _edm(
        denoiser, process, x, grid, y, True, s_churn, s_tmin, s_tmax, s_noise, generator, callback, return_trajectory
    )


# -- stochastic interpolants -------------------------------------------------------------------
def _level(process: GaussianProcess, t: float, epsilon: float | Callable[[Tensor], Tensor] | None) -> float:
    tt = torch.tensor(t, dtype=torch.float64)
    if epsilon is None:
        level = getattr(process, "diffusion_level", None)
        if level is None:
            raise ValueError(f"interpolant-sde: {type(process).__name__} has no diffusion_level; pass epsilon=")
        return float(level(tt))
    return float(epsilon(tt)) if callable(epsilon) else float(epsilon)


def interpolant_ode(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Tensor,
    grid: Tensor,
    y: Tensor | None = None,
    *,
    order: int = 2,
    generator: Generators = None,
    callback: Callback = None,
    return_trajectory: bool = False,
) -> Samples:
    """Probability-flow ODE of a stochastic interpolant, ``dx/dt = a' x0_hat + b' y + s' eps_hat``.

    Albergo, Boffi & Vanden-Eijnden (2023), eq. 2.10 (velocity ``b = E[dI/dt | x]``) integrated in
    ``t`` by Euler (``order=1``, NFE = ``steps``) or Heun (``order=2``, no correction on the last
    step, NFE = ``2 steps - 1``).
    """
    if order not in (1, 2):
        raise ValueError(f"interpolant-ode: order must be 1 or 2, got {order}")
    traj, nfe = [x] if return_trajectory else [], 0
    n_steps = len(grid) - 1
    for i in range(n_steps):
        t, t_next = float(grid[i]), float(grid[i + 1])
        x0_hat, eps_hat = (v.to(x.dtype) for v in denoiser(x, _times(t, x)))
        nfe += 1
        v = process.ode_velocity(torch.tensor(t, dtype=torch.float64), x0_hat, eps_hat, y).to(x.dtype)
        x_next = x + (t_next - t) * v
        if order == 2 and i < n_steps - 1:
            x0_2, eps_2 = (w.to(x.dtype) for w in denoiser(x_next, _times(t_next, x)))
            nfe += 1
            v2 = process.ode_velocity(torch.tensor(t_next, dtype=torch.float64), x0_2, eps_2, y).to(x.dtype)
            x_next = x + (t_next - t) * 0.5 * (v + v2)
        x = x_next
        if callback is not None:
            callback(i, x, x0_hat)
        if return_trajectory:
            traj.append(x)
    return Samples(x=x, nfe=nfe, trajectory=traj)


def interpolant_sde(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Tensor,
    grid: Tensor,
    y: Tensor | None = None,
    *,
    epsilon: float | Callable[[Tensor], Tensor] | None = None,
    denoise_final: bool = False,
    generator: Generators = None,
    callback: Callback = None,
    return_trajectory: bool = False,
) -> Samples:
    """Euler-Maruyama for the interpolant SDE with a tunable diffusion level ``eps(t)``.

    Albergo, Boffi & Vanden-Eijnden (2023), eqs. 2.32-2.33 in condiff's time direction (data at
    ``t = 0``): ``dx = [v - eps(t) score] dt + sqrt(2 eps(t)) dW`` backward in time, with ``v`` the
    PF-ODE velocity and ``score = -eps_hat / s``. ``epsilon`` (a number or a callable of ``t``)
    overrides the process's ``diffusion_level``; 0 is the ODE. Every level has the same marginals,
    but ``eps / s^2`` must stay small against ``1 / dt`` near ``s = 0`` (Euler-Maruyama's stability).
    NFE = ``steps`` (+1 with ``denoise_final``).
    """
    traj, nfe = [x] if return_trajectory else [], 0
    for i in range(len(grid) - 1):
        t, t_next = float(grid[i]), float(grid[i + 1])
        x0_hat, eps_hat = (v.to(x.dtype) for v in denoiser(x, _times(t, x)))
        nfe += 1
        tt = torch.tensor(t, dtype=torch.float64)
        level = _level(process, t, epsilon)
        if level < 0:
            raise ValueError(f"interpolant-sde: the diffusion level must be >= 0, got {level} at t={t}")
        s = _abs(process, t)[2]
        drift = process.ode_velocity(tt, x0_hat, eps_hat, y).to(x.dtype) + (level / s) * eps_hat
        dt = t_next - t
        x = x + drift * dt
        if level > 0:
            x = x + math.sqrt(2.0 * level * -dt) * _noise(process, x, generator)
        if callback is not None:
            callback(i, x, x0_hat)
        if return_trajectory:
            traj.append(x)
    result, extra = _finish(denoiser, (x,), float(grid[-1]), False, denoise_final)
    return Samples(x=result, nfe=nfe + extra, trajectory=traj)


METHODS: dict[str, Callable[..., Samples]] = {
    "euler-maruyama": euler_maruyama,
    "pc": predictor_corrector,
    "euler": edm_euler,
    "heun": edm_heun,
    "s4": s4,
    "interpolant-ode": interpolant_ode,
    "interpolant-sde": interpolant_sde,
}
