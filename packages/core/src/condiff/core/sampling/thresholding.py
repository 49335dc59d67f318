"""Clipping and dynamic thresholding of ``x0_hat`` that keep ``eps_hat`` consistent with the clipped value.

A solver step uses ``x0_hat`` and ``eps_hat`` together; clipping ``x0_hat`` alone leaves a pair
that no longer satisfies ``x = a x0_hat + b y + s eps_hat``, and the step then drifts away from
the path (a DDIM step that clipped ``x0`` but kept the raw noise estimate diverged on a trained
model here). After clipping we therefore recompute ``eps_hat = (x - a x0_hat - b y) / s``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess, check_condition, expand_like
from condiff.core.sampling.denoiser import Denoiser


def clip(x0: Tensor, lo: float, hi: float) -> Tensor:
    """Static clipping of ``x0_hat`` to ``[lo, hi]`` (DDPM, Ho et al. 2020)."""
    if not lo < hi:
        raise ValueError(f"clip_x0: need lo < hi, got ({lo}, {hi})")
    return x0.clamp(lo, hi)


def dynamic_threshold(x0: Tensor, quantile: float, max_value: float | None = None) -> Tensor:
    """Dynamic thresholding of Imagen (Saharia et al. 2022, Sec. 2.3).

    Per sample, ``c = max(1, quantile_p(|x0_hat|))`` (capped at ``max_value``); ``x0_hat`` is
    clipped to ``[-c, c]`` and divided by ``c``. ``x0: (B, ...)``.
    """
    if not 0.0 < quantile <= 1.0:
        raise ValueError(f"dynamic_threshold: quantile must lie in (0, 1], got {quantile}")
    flat = x0.reshape(x0.shape[0], -1)
    work = flat if flat.dtype in (torch.float32, torch.float64) else flat.float()  # no half quantile on CPU
    c = torch.quantile(work.abs(), quantile, dim=1).clamp_min(1.0)
    if max_value is not None:
        c = c.clamp_max(max(1.0, float(max_value)))
    c = c[:, None]
    return (torch.maximum(torch.minimum(work, c), -c) / c).to(x0.dtype).reshape(x0.shape)


def consistent_eps(process: GaussianProcess, x: Tensor, t: Tensor, x0: Tensor, y: Tensor | None) -> Tensor:
    """``eps = (x - a x0 - b y) / s``: the noise that pairs with ``x0`` at ``(x, t)``; requires ``s(t) > 0``."""
    check_condition(y, x)
    c = process.coefficients64(t)
    r = x - expand_like(c.a, x) * x0
    if y is not None:
        r = r - expand_like(c.b, x) * y
    return r / expand_like(c.s, x)


class ThresholdedDenoiser:
    """Wrap a denoiser so that its ``x0_hat`` is clipped and its ``eps_hat`` recomputed to match.

    Args:
        denoiser: ``(x, t) -> (x0_hat, eps_hat)``.
        process: the path, for the recomputation of ``eps_hat``.
        y: the condition of the path (``b(t) y``), or ``None``.
        clip_x0: static range ``(lo, hi)``, or ``None``.
        dynamic_threshold: Imagen's quantile ``p`` (e.g. ``0.995``), or ``None``.
        dynamic_threshold_max: cap on Imagen's per-sample threshold ``c``.
    """

    def __init__(
        self,
        denoiser: Denoiser,
        process: GaussianProcess,
        y: Tensor | None = None,
        clip_x0: tuple[float, float] | None = None,
        dynamic_threshold: float | None = None,
        dynamic_threshold_max: float | None = None,
    ) -> None:
        self.denoiser, self.process, self.y = denoiser, process, y
        self.clip_x0 = None if clip_x0 is None else (float(clip_x0[0]), float(clip_x0[1]))
        self.quantile = dynamic_threshold
        self.max_value = dynamic_threshold_max

    @property
    def active(self) -> bool:
        return self.clip_x0 is not None or self.quantile is not None

    def __call__(self, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        x0, eps = self.denoiser(x, t)
        if not self.active:
            return x0, eps
        if self.quantile is not None:
            x0 = dynamic_threshold(x0, self.quantile, self.max_value)
        if self.clip_x0 is not None:
            x0 = clip(x0, *self.clip_x0)
        y = None if self.y is None else self.y.to(x.dtype)
        return x0, consistent_eps(self.process, x, t, x0.to(x.dtype), y).to(eps.dtype)
