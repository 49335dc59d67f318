"""WeatherBench latitude-weighted scores (Rasp et al. 2020) for fields on a regular latitude-longitude grid.

With ``phi_i`` the latitude of row ``i`` and ``w_i = cos(phi_i) / mean_i cos(phi_i)`` (mean 1 over the rows):

    RMSE = mean_forecasts sqrt( mean_{i,j} w_i (f_ij - t_ij)^2 )
    ACC  = mean_forecasts  sum_{i,j} w_i f'_ij t'_ij / sqrt( sum_{i,j} w_i f'^2_ij  sum_{i,j} w_i t'^2_ij )

where ``f' = f - c`` and ``t' = t - c`` are anomalies from a climatology ``c`` (e.g. the training period's mean).
Inputs are ``(..., H, W)``; the leading axes are kept (``reduce=False``) or averaged (the default).
"""

from __future__ import annotations

import torch
from torch import Tensor


def latitude_weights(latitude: Tensor) -> Tensor:
    """``w_i = cos(phi_i) / mean(cos(phi))`` for latitudes in degrees: ``(H,)``, mean 1."""
    if latitude.dim() != 1 or bool((latitude.abs() > 90).any()):
        raise ValueError(f"latitude must be (H,) degrees in [-90, 90], got shape {tuple(latitude.shape)}")
    w = torch.cos(torch.deg2rad(latitude.double()))
    return w / w.mean()


def _check(pred: Tensor, target: Tensor, latitude: Tensor) -> Tensor:
    if pred.shape != target.shape or pred.dim() < 2 or pred.shape[-2] != latitude.shape[0]:
        raise ValueError(
            f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must match, with H = {latitude.shape[0]}"
            " latitudes on the second-last axis"
        )
    return latitude_weights(latitude).to(pred.device).view(-1, 1)


def weighted_rmse(pred: Tensor, target: Tensor, latitude: Tensor, reduce: bool = True) -> Tensor:
    """Latitude-weighted RMSE: per field ``sqrt(mean w (f - t)^2)``, then averaged over the leading axes."""
    w = _check(pred, target, latitude)
    per_field = (w * (pred.double() - target.double()).square()).mean((-1, -2)).sqrt()
    return per_field.mean() if reduce else per_field


def weighted_acc(pred: Tensor, target: Tensor, climatology: Tensor, latitude: Tensor, reduce: bool = True) -> Tensor:
    """Latitude-weighted anomaly correlation coefficient against ``climatology`` (broadcastable to ``pred``)."""
    w = _check(pred, target, latitude)
    c = climatology.double().to(pred.device)
    fa, ta = pred.double() - c, target.double() - c
    num = (w * fa * ta).sum((-1, -2))
    den = ((w * fa.square()).sum((-1, -2)) * (w * ta.square()).sum((-1, -2))).sqrt().clamp_min(1e-30)
    per_field = num / den
    return per_field.mean() if reduce else per_field
