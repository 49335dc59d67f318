"""Residual diffusion of RDDM (Liu et al. 2024, "Residual Denoising Diffusion Models") in continuous time."""

from __future__ import annotations

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess, PathCoefficients

RDDM_SCHEDULES = ("increased", "decreased", "average")


def _cumulative(schedule: str, u: Tensor) -> tuple[Tensor, Tensor]:
    """Continuous limit of RDDM's normalised ``cumsum`` of a schedule and its derivative on ``u in [0, 1]``.

    RDDM's ``gen_coefficients`` uses weights proportional to ``n`` (increased), ``N + 1 - n``
    (decreased) or ``1`` (average), normalised to sum to one; their cumulative sums tend
    to ``u^2``, ``2u - u^2`` and ``u``.
    """
    if schedule == "increased":
        return u * u, 2 * u
    if schedule == "decreased":
        return u * (2 - u), 2 - 2 * u
    return u, torch.ones_like(u)


class ResidualProcess(GaussianProcess):
    """RDDM path ``x_t = x0 + alphabar_res(t) (y - x0) + betabar(t) eps`` (Liu et al., eq. 6).

    So ``a = 1 - alphabar_res``, ``b = alphabar_res``, ``s = betabar`` with
    ``alphabar_res(t) = F_alpha(t/T)`` and ``betabar(t)^2 = sum_scale F_beta(t/T)``, ``F`` the
    continuous cumulative schedules of :func:`_cumulative`. ``y`` is the degraded image
    (``I_in``); at ``T``: ``x_T = y + sqrt(sum_scale) eps``.

    Args:
        alpha_schedule: residual schedule, one of ``"increased"``, ``"decreased"``, ``"average"``.
        beta_schedule: noise-variance schedule, same choices.
        sum_scale: ``betabar(T)^2`` (RDDM uses 1 for generation, 0.01 for restoration), > 0.
        t_min: smallest time evaluated (``s(0) = 0``).
        T: terminal time.
    """

    def __init__(
        self,
        alpha_schedule: str = "decreased",
        beta_schedule: str = "increased",
        sum_scale: float = 1.0,
        t_min: float = 1e-3,
        T: float = 1.0,
    ) -> None:
        for name, value in (("alpha_schedule", alpha_schedule), ("beta_schedule", beta_schedule)):
            if value not in RDDM_SCHEDULES:
                raise ValueError(f"ResidualProcess: {name} must be one of {RDDM_SCHEDULES}, got {value!r}")
        if not sum_scale > 0:
            raise ValueError(f"ResidualProcess: sum_scale must be > 0, got {sum_scale}")
        if not 0 < t_min < T:
            raise ValueError(f"ResidualProcess: need 0 < t_min < T, got t_min={t_min}, T={T}")
        self.alpha_schedule, self.beta_schedule = alpha_schedule, beta_schedule
        self.sum_scale, self.t_min, self.T = float(sum_scale), float(t_min), float(T)

    def coefficients(self, t: Tensor) -> PathCoefficients:
        u = torch.as_tensor(t) / self.T
        fa, dfa = _cumulative(self.alpha_schedule, u)
        fb, dfb = _cumulative(self.beta_schedule, u)
        s = torch.sqrt(self.sum_scale * fb)
        da = dfa / self.T
        return PathCoefficients(a=1.0 - fa, b=fa, s=s, da=-da, db=da, ds=self.sum_scale * dfb / self.T / (2 * s))

    def __repr__(self) -> str:
        return (
            f"ResidualProcess(alpha_schedule={self.alpha_schedule!r}, beta_schedule={self.beta_schedule!r}, "
            f"sum_scale={self.sum_scale}, t_min={self.t_min}, T={self.T})"
        )
