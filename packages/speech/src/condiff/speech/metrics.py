"""Speech quality metrics: PESQ (wide band), ESTOI, SI-SDR / SI-SIR / SI-SAR; per-file tables with mean and std."""

from __future__ import annotations

import csv
import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

METRICS = ("pesq", "estoi", "si_sdr", "si_sir", "si_sar")


def si_sdr(estimate: Tensor, reference: Tensor, eps: float = 1e-10) -> Tensor:
    """Scale-invariant SDR in dB (Le Roux et al. 2019, eq. 2): ``10 log10(|a s|^2 / |a s - e|^2)``,
    ``a = <e, s>/|s|^2``; ``(..., L) -> (...)``."""
    s = reference - reference.mean(-1, keepdim=True)
    e = estimate - estimate.mean(-1, keepdim=True)
    alpha = (e * s).sum(-1, keepdim=True) / (s.pow(2).sum(-1, keepdim=True) + eps)
    target = alpha * s
    return 10 * torch.log10(target.pow(2).sum(-1) / ((target - e).pow(2).sum(-1) + eps) + eps)


def si_sir_sar(estimate: Tensor, reference: Tensor, mixture: Tensor, eps: float = 1e-10) -> tuple[Tensor, Tensor]:
    """SI-SIR and SI-SAR in dB (sgmse's ``energy_ratios``, after Le Roux et al. 2019).

    The estimate is projected on the span of the clean reference ``s`` and the noise ``n = mixture - s``:
    ``e = e_target + e_interf + e_artif`` with ``e_target = <e, s>/|s|^2 s``,
    ``e_interf = <e, n>/|n|^2 n``; SI-SIR ``= 10 log10(|e_target|^2/|e_interf|^2)`` and
    SI-SAR ``= 10 log10(|e_target + e_interf|^2/|e_artif|^2)``. ``(..., L) -> (...)``.
    """
    s, n = reference, mixture - reference

    def proj(v: Tensor, u: Tensor) -> Tensor:
        return (v * u).sum(-1, keepdim=True) / (u.pow(2).sum(-1, keepdim=True) + eps) * u

    e_target, e_interf = proj(estimate, s), proj(estimate, n)
    e_artif = estimate - e_target - e_interf
    sir = 10 * torch.log10(e_target.pow(2).sum(-1) / (e_interf.pow(2).sum(-1) + eps) + eps)
    sar = 10 * torch.log10((e_target + e_interf).pow(2).sum(-1) / (e_artif.pow(2).sum(-1) + eps) + eps)
    return sir, sar


def pesq_wb(estimate: np.ndarray, reference: np.ndarray, sample_rate: int = 16000) -> float:
    """Wide-band PESQ (ITU-T P.862.2) with the ``pesq`` package; NaN when PESQ finds no utterance."""
    from pesq import NoUtterancesError, pesq

    if sample_rate != 16000:
        from condiff.speech.audio import resample

        estimate = resample(torch.from_numpy(estimate), sample_rate, 16000).numpy()
        reference = resample(torch.from_numpy(reference), sample_rate, 16000).numpy()
    try:
        return float(pesq(16000, reference.astype(np.float64), estimate.astype(np.float64), "wb"))
    except NoUtterancesError:
        return math.nan


def estoi(estimate: np.ndarray, reference: np.ndarray, sample_rate: int = 16000) -> float:
    """Extended STOI (Jensen & Taal 2016) with ``pystoi``; NaN when the reference has too few speech frames
    (pystoi then warns and returns 1e-5, which would bias a mean)."""
    from pystoi import stoi

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(stoi(reference.astype(np.float64), estimate.astype(np.float64), sample_rate, extended=True))
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        return math.nan
    return value


def speech_metrics(
    estimate: Tensor, reference: Tensor, mixture: Tensor | None, sample_rate: int = 16000
) -> dict[str, float]:
    """:data:`METRICS` for one file, ``estimate, reference, mixture: (L,)``; without the mixture no SI-SIR/SI-SAR."""
    shapes = {tuple(v.shape) for v in (estimate, reference, mixture) if v is not None}
    if len(shapes) != 1 or estimate.ndim != 1:
        raise ValueError(f"speech_metrics: expected (L,) signals of one length, got shapes {sorted(shapes)}")
    e, r = estimate.detach().double().cpu(), reference.detach().double().cpu()
    out = {
        "pesq": pesq_wb(e.numpy(), r.numpy(), sample_rate),
        "estoi": estoi(e.numpy(), r.numpy(), sample_rate),
        "si_sdr": float(si_sdr(e, r)),
    }
    if mixture is not None:
        sir, sar = si_sir_sar(e, r, mixture.detach().double().cpu())
        out.update(si_sir=float(sir), si_sar=float(sar))
    return out


def summarize(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """``{metric: mean, metric_std: std}`` over files (NaN entries, e.g. PESQ of silence, left out)."""
    out: dict[str, float] = {}
    for k in rows[0] if rows else ():
        vals = np.array([r[k] for r in rows], dtype=np.float64)
        vals = vals[np.isfinite(vals)]
        out[k] = float(vals.mean()) if len(vals) else math.nan
        out[f"{k}_std"] = float(vals.std()) if len(vals) else math.nan
    return out


def write_metrics_csv(path: str | os.PathLike[str], names: Sequence[str], rows: Sequence[dict[str, float]]) -> Path:
    """Per-file rows, then ``mean`` and ``std`` rows, as CSV."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    summary = summarize(rows)
    keys = list(rows[0]) if rows else list(METRICS)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", *keys])
        for name, row in zip(names, rows, strict=True):
            writer.writerow([name, *(f"{row[k]:.4f}" for k in keys)])
        writer.writerow(["mean", *(f"{summary[k]:.4f}" for k in keys)])
        writer.writerow(["std", *(f"{summary[f'{k}_std']:.4f}" for k in keys)])
    return path
