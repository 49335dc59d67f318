"""Medical image metrics, through MONAI where it has them.

Reconstruction and denoising (images in ``[0, 1]``, ``(B, C, *spatial)``): PSNR and SSIM (MONAI's
``PSNRMetric`` / ``SSIMMetric``: Gaussian window 11, sigma 1.5, K = 0.01, 0.03) and NMSE (fastMRI's
``||x - x_ref||^2 / ||x_ref||^2``). Segmentation (binary masks ``(B, 1, *spatial)``): Dice and the 95th-percentile
Hausdorff distance (MONAI). Ensemble uncertainty: the expected calibration error of the per-pixel foreground
probability (MONAI's ``CalibrationErrorMetric``) and the correlation of the ensemble's standard deviation with
the error of its mean.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import torch
from torch import Tensor


def _check(pred: Tensor, target: Tensor, name: str) -> tuple[Tensor, Tensor]:
    if pred.shape != target.shape or pred.ndim < 4:
        raise ValueError(
            f"{name}: prediction {tuple(pred.shape)} and target {tuple(target.shape)} must match (B, C, ...)"
        )
    return pred.detach().double(), target.detach().double()


def _tensor(x: object) -> Tensor:
    """A MONAI metric's result (typed as tensor or sequence; a tensor for these inputs)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"expected a tensor from the MONAI metric, got {type(x).__name__}")
    return x


def psnr(pred: Tensor, target: Tensor, data_range: float = 1.0) -> Tensor:
    """Per-image PSNR in dB, ``20 log10(range) - 10 log10(MSE)``, of ``pred`` clipped to ``[0, range]``; ``(B,)``."""
    from monai.metrics import PSNRMetric

    pred, target = _check(pred, target, "psnr")
    return _tensor(PSNRMetric(max_val=data_range, reduction="none")(pred.clamp(0, data_range), target)).reshape(-1)


def ssim(pred: Tensor, target: Tensor, data_range: float = 1.0, win_size: int = 11) -> Tensor:
    """Per-image SSIM (Wang et al. 2004) of ``pred`` clipped to ``[0, range]``; ``(B,)``. The window shrinks to
    the largest odd size that fits images smaller than ``win_size``."""
    from monai.metrics import SSIMMetric

    pred, target = _check(pred, target, "ssim")
    smallest = min(pred.shape[2:])
    win = min(win_size, smallest if smallest % 2 else smallest - 1)
    metric = SSIMMetric(spatial_dims=pred.ndim - 2, data_range=data_range, win_size=win, reduction="none")
    return _tensor(metric(pred.clamp(0, data_range), target)).reshape(pred.shape[0], -1).mean(dim=1)


def nmse(pred: Tensor, target: Tensor) -> Tensor:
    """Per-image normalised MSE, ``||pred - target||^2 / ||target||^2`` (fastMRI); ``(B,)``."""
    pred, target = _check(pred, target, "nmse")
    err = (pred - target).flatten(1).square().sum(1)
    return err / target.flatten(1).square().sum(1).clamp_min(1e-12)


def dice(pred: Tensor, target: Tensor) -> Tensor:
    """Per-image Dice ``2 |P n G| / (|P| + |G|)`` of binary masks; 1 when both are empty; ``(B,)``."""
    from monai.metrics import compute_dice

    pred, target = _check(pred, target, "dice")
    return compute_dice(pred > 0.5, target > 0.5, include_background=True, ignore_empty=False).reshape(-1)


def hd95(pred: Tensor, target: Tensor, spacing: float | Sequence[float] | None = None) -> Tensor:
    """Per-image 95th-percentile symmetric Hausdorff distance (in ``spacing`` units, pixels by default); NaN where
    either mask is empty (the distance is undefined); ``(B,)``."""
    from monai.metrics import compute_hausdorff_distance

    pred, target = _check(pred, target, "hd95")
    p, g = pred > 0.5, target > 0.5
    out = torch.full((pred.shape[0],), math.nan, dtype=torch.float64)
    both = p.flatten(1).any(1) & g.flatten(1).any(1)
    if bool(both.any()):
        with warnings.catch_warnings():
            # MONAI 1.6 calls its own deprecated get_mask_edges(always_return_as_numpy=...) inside this function.
            warnings.filterwarnings("ignore", message=".*always_return_as_numpy.*", category=FutureWarning)
            d = compute_hausdorff_distance(p[both], g[both], include_background=True, percentile=95, spacing=spacing)
        out[both] = d.reshape(-1).double()
    return out


def expected_calibration_error(prob: Tensor, target: Tensor, num_bins: int = 10) -> Tensor:
    """Per-image expected calibration error of foreground probabilities (Guo et al. 2017),
    ``sum_b |B_b| / n * |mean(prob in B_b) - mean(target in B_b)|`` over ``num_bins`` equal bins; ``(B,)``."""
    from monai.metrics import CalibrationErrorMetric

    prob, target = _check(prob, target, "expected_calibration_error")
    metric = CalibrationErrorMetric(num_bins=num_bins, include_background=True, metric_reduction="none")
    return _tensor(metric(prob.clamp(0, 1), (target > 0.5).double())).reshape(prob.shape[0], -1).mean(dim=1)


def uncertainty_error_correlation(std: Tensor, mean: Tensor, target: Tensor) -> float:
    """Pearson correlation, over all pixels, of the ensemble standard deviation with ``|mean - target|``:
    positive when the model is uncertain where it errs."""
    std, mean = _check(std, mean, "uncertainty_error_correlation")
    err = (mean - target.double()).abs().flatten()
    s = std.flatten()
    s, err = s - s.mean(), err - err.mean()
    denom = (s.norm() * err.norm()).item()
    return float((s @ err).item() / denom) if denom > 0 else 0.0


def reconstruction_metrics(pred: Tensor, target: Tensor) -> dict[str, float]:
    """Mean PSNR, SSIM and NMSE over a batch of ``[0, 1]`` images."""
    return {
        "psnr": psnr(pred, target).mean().item(),
        "ssim": ssim(pred, target).mean().item(),
        "nmse": nmse(pred, target).mean().item(),
    }


def segmentation_metrics(pred: Tensor, target: Tensor) -> dict[str, float]:
    """Mean Dice and HD95 (over images where both masks are non-empty) of binary masks."""
    h = hd95(pred, target)
    return {
        "dice": dice(pred, target).mean().item(),
        "hd95": h[~h.isnan()].mean().item() if bool((~h.isnan()).any()) else math.nan,
    }
