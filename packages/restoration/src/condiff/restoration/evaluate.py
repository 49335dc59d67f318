"""The restoration evaluator: metrics of restored images and, as the baseline, of the degraded inputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor

from condiff.restoration.metrics import restoration_metrics


class RestorationEvaluator:
    """PSNR/SSIM (RGB and Y) and MAE of samples against ``reference``; ``input_*`` the same for ``y``.

    Samples, references and inputs are in ``[-1, 1]`` (the training range) and mapped to ``[0, 1]``.

    Args:
        crop_border: pixels cropped from each border before measuring (4 for x4 SR by convention).
    """

    def __init__(self, crop_border: int = 0) -> None:
        self.crop_border = crop_border

    def __call__(self, samples: Tensor, cond: Mapping[str, Any]) -> dict[str, float]:
        if "reference" not in cond:
            raise ValueError("RestorationEvaluator needs the ground truth ('reference') of each sample")
        ref = (cond["reference"].float() + 1) / 2
        out = {k: v for k, v in restoration_metrics((samples.float() + 1) / 2, ref, self.crop_border).items()}
        if "y" in cond:
            base = restoration_metrics((cond["y"].float() + 1) / 2, ref, self.crop_border)
            out.update({f"input_{k}": v for k, v in base.items()})
        return out
