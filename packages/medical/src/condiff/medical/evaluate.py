"""Evaluators of the medical tasks (what the training module logs on held-out slices), with their baselines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor

from condiff.medical.metrics import reconstruction_metrics, segmentation_metrics
from condiff.medical.segmentation import otsu_segment


def _unit(x: Tensor) -> Tensor:
    return (x.float() + 1) / 2


class ReconstructionEvaluator:
    """PSNR, SSIM and NMSE of samples against ``reference``; ``input_*`` the same for the degraded input ``y``
    (the noisy image, the low-dose or sparse-view FBP, the zero-filled reconstruction): the baseline to beat.
    Everything arrives in ``[-1, 1]`` and is measured in ``[0, 1]``."""

    def __call__(self, samples: Tensor, cond: Mapping[str, Any]) -> dict[str, float]:
        if "reference" not in cond:
            raise ValueError("ReconstructionEvaluator needs the ground truth ('reference') of each sample")
        ref = _unit(cond["reference"])
        out = reconstruction_metrics(_unit(samples), ref)
        degraded = cond.get("y", cond.get("cond_image"))
        if degraded is not None:
            out.update({f"input_{k}": v for k, v in reconstruction_metrics(_unit(degraded), ref).items()})
        return out


class SegmentationEvaluator:
    """Dice and HD95 of sampled masks (``sample > 0``) against ``reference``; ``otsu_*`` those of Otsu thresholding
    of the image (``cond_image``), the classical baseline."""

    def __init__(self, background: float = 0.05) -> None:
        self.background = background

    def __call__(self, samples: Tensor, cond: Mapping[str, Any]) -> dict[str, float]:
        if "reference" not in cond or "cond_image" not in cond:
            raise ValueError("SegmentationEvaluator needs 'reference' (the masks) and 'cond_image' (the images)")
        ref = (cond["reference"] > 0).float()
        out = segmentation_metrics((samples > 0).float(), ref)
        otsu = otsu_segment(_unit(cond["cond_image"]), self.background)
        out.update({f"otsu_{k}": v for k, v in segmentation_metrics(otsu, ref).items()})
        return out
