"""Empirical model statistics (EMS) of DPM-Solver-v3 (Zheng et al. 2023, Sec. 3.2): compute, cache, reload.

For a denoiser on the path ``x_t = a x0 + b y + s eps`` with ``r = x - b y`` and ``lambda = log(a/s)``:

    l_lambda = E[diag(s grad_x eps_theta)]                                         (eq. 9)
    f_theta  = (s eps_theta - l r) / a = (1 - l) r / a - x0_theta                  (eq. 6)
    s_lambda, b_lambda = argmin E |f' - s f - b|^2  (per element; f' = df/dlambda along the PF-ODE)  (eq. 10)

so ``s = Cov(f, f') / Var(f)`` and ``b = E f' - s E f``. Expectations are over forward-process samples
``x_lambda = a x0 + b y + s eps`` of the given data (the same ``x0, eps`` at every ``lambda``, so the
statistics are smooth in ``lambda``); ``diag(grad eps)`` by Rademacher probes ``v * (J v)``; ``f'`` by one
forward-mode JVP of the denoiser along the model's own PF-ODE direction ``(dx/dlambda, dt/dlambda)``;
``l'`` by finite differences over the ``lambda`` grid.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import Tensor

from condiff.core.checkpoint import atomic_write_bytes
from condiff.core.errors import CheckpointError
from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser

FORMAT = "condiff-ems-1"
_KEYS = ("lam", "l", "s", "b")


class ModelStatistics:
    """EMS ``l, s, b`` at increasing log-SNR knots ``lam``, linear in ``lambda`` between knots.

    Args:
        lam: ``(N+1,)`` strictly increasing log-SNR knots (``lam[0]`` near ``T``).
        l: ``(N+1, *F)`` statistics; ``F`` broadcasts to a sample's shape (``()`` for one value per knot).
        s: ``(N+1, *F)``.
        b: ``(N+1, *F)``.
    """

    def __init__(self, lam: Tensor, l: Tensor, s: Tensor, b: Tensor) -> None:
        lam = torch.as_tensor(lam, dtype=torch.float64).flatten()
        vals = [torch.as_tensor(v, dtype=torch.float64) for v in (l, s, b)]
        if lam.numel() < 2 or not bool((lam[1:] > lam[:-1]).all()) or not bool(torch.isfinite(lam).all()):
            raise ValueError("ModelStatistics: lam must be a finite, strictly increasing (N+1,) grid with N >= 1")
        for name, v in zip(("l", "s", "b"), vals, strict=True):
            if v.ndim < 1 or v.shape[0] != lam.numel() or v.shape != vals[0].shape:
                raise ValueError(
                    f"ModelStatistics: {name} must have shape (N+1, *F) = ({lam.numel()}, ...) like l, "
                    f"got {tuple(v.shape)}"
                )
            if not bool(torch.isfinite(v).all()):
                raise ValueError(f"ModelStatistics: {name} has NaN or inf values")
        self.lam = lam
        self.values = dict(zip(("l", "s", "b"), vals, strict=True))
        # exact integrals of the piecewise-linear statistics at the knots (trapezoid = exact here)
        dl = torch.diff(lam).reshape(-1, *[1] * (vals[0].ndim - 1))
        self._cum = {
            k: torch.cat([torch.zeros_like(v[:1]), torch.cumsum(0.5 * dl * (v[1:] + v[:-1]), 0)])
            for k, v in self.values.items()
        }

    @property
    def l(self) -> Tensor:  # noqa: E743
        return self.values["l"]

    @property
    def s(self) -> Tensor:
        return self.values["s"]

    @property
    def b(self) -> Tensor:
        return self.values["b"]

    @property
    def feature_shape(self) -> tuple[int, ...]:
        return tuple(self.values["l"].shape[1:])

    @classmethod
    def constant(
        cls, lam: Tensor, l: float = 1.0, s: float = 0.0, b: float = 0.0, shape: tuple[int, ...] = ()
    ) -> ModelStatistics:
        """Constant statistics; ``l=1, s=b=0`` is DPM-Solver++ (data prediction), ``l=0, s=-1, b=0`` DPM-Solver."""
        lam = torch.as_tensor(lam, dtype=torch.float64).flatten()
        full = (lam.numel(), *shape)
        return cls(lam, *(torch.full(full, float(v), dtype=torch.float64) for v in (l, s, b)))

    def check_shape(self, sample_shape: tuple[int, ...] | torch.Size) -> None:
        """Raise ``ValueError`` unless the statistics broadcast against one sample of ``sample_shape``."""
        try:
            ok = torch.broadcast_shapes(self.feature_shape, tuple(sample_shape)) == tuple(sample_shape)
        except RuntimeError:
            ok = False
        if not ok:
            raise ValueError(
                f"statistics of shape {self.feature_shape} do not broadcast to samples {tuple(sample_shape)}"
            )

    def _locate(self, nodes: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        nodes = nodes.to(torch.float64).clamp(float(self.lam[0]), float(self.lam[-1]))
        idx = (torch.searchsorted(self.lam, nodes.contiguous(), right=True) - 1).clamp(0, self.lam.numel() - 2)
        width = self.lam[idx + 1] - self.lam[idx]
        return idx, nodes - self.lam[idx], width

    def interp(self, key: str, nodes: Tensor) -> Tensor:
        """Statistic ``key`` at log-SNRs ``nodes: (Q,)``, ``(Q, *F)`` (linear between knots)."""
        v = self.values[key]
        idx, u, width = self._locate(nodes)
        frac = (u / width).reshape(-1, *[1] * (v.ndim - 1))
        return v[idx] + frac * (v[idx + 1] - v[idx])

    def cumulative(self, key: str, nodes: Tensor) -> Tensor:
        """``int_{lam[0]}^{node}`` of statistic ``key`` at ``nodes: (Q,)``, exact, ``(Q, *F)``."""
        v = self.values[key]
        idx, u, width = self._locate(nodes)
        shape = (-1, *[1] * (v.ndim - 1))
        u, width = u.reshape(shape), width.reshape(shape)
        return self._cum[key][idx] + v[idx] * u + (v[idx + 1] - v[idx]) * u * u / (2.0 * width)

    def to_tensors(self) -> dict[str, Tensor]:
        return {"lam": self.lam, **self.values}

    def save(self, path: str | os.PathLike[str], metadata: dict[str, str] | None = None) -> Path:
        """Write the statistics to ``path`` as safetensors (float64, atomic)."""
        meta = {"format": FORMAT, **(metadata or {})}
        data = st_save({k: v.contiguous().cpu() for k, v in self.to_tensors().items()}, metadata=meta)
        return atomic_write_bytes(data, path)

    def __repr__(self) -> str:
        lo, hi = float(self.lam[0]), float(self.lam[-1])
        return f"ModelStatistics(knots={self.lam.numel()}, lambda=[{lo:.3g}, {hi:.3g}], shape={self.feature_shape})"


StatisticsLike = ModelStatistics | str | os.PathLike[str]


def load_statistics(path: StatisticsLike) -> ModelStatistics:
    """Read statistics written by :meth:`ModelStatistics.save` (safetensors: no code runs on load)."""
    if isinstance(path, ModelStatistics):
        return path
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"{p}: DPM-Solver-v3 statistics file not found (compute it with compute_statistics)")
    raw = p.read_bytes()
    try:
        tensors = st_load(raw)
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{p}: truncated or corrupt statistics file ({e})") from e
    missing = [k for k in _KEYS if k not in tensors]
    if missing:
        raise CheckpointError(f"{p}: not a DPM-Solver-v3 statistics file; missing {missing}, found {sorted(tensors)}")
    try:
        return ModelStatistics(*(tensors[k] for k in _KEYS))
    except ValueError as e:
        raise CheckpointError(f"{p}: invalid statistics: {e}") from e


def _jvp(
    fn: Callable[..., tuple[Tensor, Tensor]], primals: tuple[Tensor, ...], tangents: tuple[Tensor, ...], mode: str
) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    """``(fn(*primals), d fn . tangents)`` by forward-mode AD or, for networks without it, central differences."""
    if mode == "forward":
        with warnings.catch_warnings():
            # torch 2.14 scripts its forward-AD decompositions with the deprecated torch.jit.script on first use
            warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=FutureWarning)
            out, tan = torch.func.jvp(fn, primals, tangents)[:2]
        return out, tan
    if mode != "central":
        raise ValueError(f"compute_statistics: jvp must be 'forward' or 'central', got {mode!r}")
    # step relative to the primal's scale: O(delta^2) truncation, well above rounding in float32
    delta = (torch.finfo(primals[0].dtype).eps ** (1.0 / 3.0)) * max(1.0, float(primals[0].abs().max()))
    plus = fn(*(p + delta * t for p, t in zip(primals, tangents, strict=True)))
    minus = fn(*(p - delta * t for p, t in zip(primals, tangents, strict=True)))
    tan = (plus[0] - minus[0]) / (2 * delta), (plus[1] - minus[1]) / (2 * delta)
    return fn(*primals), tan


@torch.no_grad()
def compute_statistics(
    denoiser: Denoiser,
    process: GaussianProcess,
    x0: Tensor,
    y: Tensor | None = None,
    *,
    steps: int = 200,
    t_start: float | None = None,
    t_end: float | None = None,
    probes: int = 1,
    batch_size: int | None = None,
    generator: torch.Generator | None = None,
    jvp: str = "forward",
    path: str | os.PathLike[str] | None = None,
) -> ModelStatistics:
    """Estimate the EMS ``l, s, b`` of ``denoiser`` on ``steps + 1`` log-SNR-uniform knots and save them to ``path``.

    Args:
        denoiser: ``(x, t) -> (x0_hat, eps_hat)``, differentiable (forward-mode AD) in ``x`` and ``t``.
        process: the path the denoiser was trained on.
        x0: ``(K, *F)`` data samples (a few hundred suffice, paper Sec. 3.2).
        y: conditions broadcastable to ``x0``, or ``None``.
        steps: number of log-SNR intervals between ``lambda(t_start)`` and ``lambda(t_end)``.
        t_start: largest time covered (default ``T``); ``t_end``: smallest (default ``t_min``).
        probes: Rademacher probes per sample for ``diag(grad_x eps)``.
        batch_size: samples per denoiser call (default all ``K``).
        generator: RNG for the forward noise and the probes.
        jvp: ``"forward"`` (forward-mode AD, exact) or ``"central"`` (central differences, for networks whose
            kernels lack forward-mode AD; two extra evaluations per derivative).
        path: if given, the statistics are written there (:meth:`ModelStatistics.save`).

    Returns:
        :class:`ModelStatistics` of shape ``(steps + 1, *F)``.
    """
    if steps < 1 or probes < 1:
        raise ValueError(f"compute_statistics: need steps >= 1 and probes >= 1, got {steps}, {probes}")
    if x0.ndim < 1 or x0.shape[0] < 2:
        raise ValueError(f"compute_statistics: x0 must be (K, ...) with K >= 2 samples, got {tuple(x0.shape)}")
    t0 = float(process.T if t_start is None else t_start)
    t1 = float(process.t_min if t_end is None else t_end)
    ends = process.log_snr(process.check_time(torch.tensor([t0, t1], dtype=torch.float64)))
    lam = torch.linspace(float(ends[0]), float(ends[1]), steps + 1, dtype=torch.float64)
    times = process.t_from_log_snr(lam)
    times[0], times[-1] = t0, t1
    k = x0.shape[0]
    bs = k if batch_size is None else int(batch_size)
    eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype).to(x0.device)
    probe = [(torch.randint(0, 2, x0.shape, generator=generator).to(x0) * 2 - 1).to(x0.device) for _ in range(probes)]
    yb = None if y is None else torch.broadcast_to(y.to(x0), x0.shape)

    def state(i: int, sl: slice) -> tuple[Tensor, Tensor, Tensor | None]:
        c = process.coefficients64(times[i])
        xi = float(c.a) * x0[sl] + float(c.s) * eps[sl]
        yi = None if yb is None else yb[sl]
        if yi is not None:
            xi = xi + float(c.b) * yi
        return xi, times[i].to(x0.dtype).expand(xi.shape[0]), yi

    # pass 1: l = E[diag(s grad_x eps)] (eq. 9)
    l_knots = []
    for i in range(steps + 1):
        sd_i = float(process.coefficients64(times[i]).s)
        acc = torch.zeros(x0.shape[1:], dtype=torch.float64, device=x0.device)
        for lo in range(0, k, bs):
            sl = slice(lo, min(lo + bs, k))
            xi, ti, _ = state(i, sl)
            for v in probe:
                _, (_, jv) = _jvp(lambda z, ti=ti: denoiser(z, ti), (xi,), (v[sl],), jvp)
                acc += (v[sl] * jv).to(torch.float64).sum(0)
        l_knots.append(sd_i * acc / (k * probes))
    l_all = torch.stack(l_knots)
    (dl_all,) = torch.gradient(l_all, spacing=(lam.to(l_all.device),), dim=0, edge_order=2)

    # pass 2: f and f' = df/dlambda along the model's PF-ODE, then least squares (eq. 10)
    s_knots: list[Tensor] = []
    b_knots: list[Tensor] = []
    for i in range(steps + 1):
        c = process.coefficients64(times[i])
        a, b = float(c.a), float(c.b)
        dt = 1.0 / float(c.da / c.a - c.ds / c.s)  # dt/dlambda
        l_i, dl_i = l_all[i].to(x0), dl_all[i].to(x0)
        sums = [torch.zeros(x0.shape[1:], dtype=torch.float64, device=x0.device) for _ in range(4)]
        for lo in range(0, k, bs):
            sl = slice(lo, min(lo + bs, k))
            xi, ti, yi = state(i, sl)
            x0_hat, eps_hat = denoiser(xi, ti)
            dx = (float(c.da) * x0_hat + float(c.ds) * eps_hat) * dt
            if yi is not None:
                dx = dx + float(c.db) * dt * yi
            t_scalar = times[i].to(x0.dtype)
            (x0_hat, _), (dx0, _) = _jvp(
                lambda z, tt: denoiser(z, tt.expand(z.shape[0])),
                (xi, t_scalar),
                (dx, torch.tensor(dt, dtype=x0.dtype, device=x0.device)),
                jvp,
            )
            r = xi if yi is None else xi - b * yi
            dr = dx if yi is None else dx - float(c.db) * dt * yi
            da = float(c.da) * dt  # da/dlambda
            f = (1.0 - l_i) * r / a - x0_hat
            df = -dl_i * r / a + (1.0 - l_i) * (dr - da / a * r) / a - dx0
            f64, df64 = f.to(torch.float64), df.to(torch.float64)
            for acc, val in zip(sums, (f64, df64, f64 * f64, f64 * df64), strict=True):
                acc += val.sum(0)
        mf, mdf, mff, mfdf = (v / k for v in sums)
        var = (mff - mf * mf).clamp_min(0.0)
        cov = mfdf - mf * mdf
        degenerate = var <= 1e-12 * mff.clamp_min(1e-300)
        s_i = torch.where(degenerate, torch.zeros_like(var), cov / torch.where(degenerate, torch.ones_like(var), var))
        s_knots.append(s_i)
        b_knots.append(mdf - s_i * mf)
    stats = ModelStatistics(lam, l_all.cpu(), torch.stack(s_knots).cpu(), torch.stack(b_knots).cpu())
    if path is not None:
        stats.save(path, metadata={"process": repr(process), "samples": str(k), "probes": str(probes)})
    return stats
