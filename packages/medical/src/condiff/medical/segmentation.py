"""Segmentation as conditional generation: an ensemble of sampled masks gives a prediction and an uncertainty map
(Wolleb et al. 2022, "Diffusion models for implicit image segmentation ensembles"); Otsu thresholding as the
classical baseline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling import ModelDenoiser, sample


@dataclass
class EnsembleSegmentation:
    """``probability``: mean of the ensemble's soft masks ``(B, 1, ...)`` in ``[0, 1]``; ``std``: their standard
    deviation (the uncertainty map); ``mask``: ``probability > 0.5``; ``samples``: ``(N, B, 1, ...)``; ``nfe``."""

    probability: Tensor
    std: Tensor
    mask: Tensor
    samples: Tensor
    nfe: int


@torch.no_grad()
def ensemble_segment(
    network: nn.Module,
    process: GaussianProcess,
    parameterization: str,
    images: Tensor,
    members: int = 8,
    generator: torch.Generator | None = None,
    **sampler: Any,
) -> EnsembleSegmentation:
    """Sample ``members`` masks per image (``images: (B, 1, ...)`` in ``[0, 1]``) in one batch of ``members * B``.

    Each sample ``x`` in ``[-1, 1]`` becomes the soft mask ``(clip(x, -1, 1) + 1) / 2``; the ensemble mean is the
    foreground probability ``p`` and the standard deviation the uncertainty map.
    """
    if members < 1:
        raise ValueError(f"ensemble_segment: members must be >= 1, got {members}")
    cond = (images * 2 - 1).repeat(members, *([1] * (images.ndim - 1)))
    den = ModelDenoiser(network, process, parameterization, cond={"cond_image": cond})
    res = sample(den, process, shape=tuple(cond.shape), generator=generator, **sampler)
    soft = ((res.x.clamp(-1, 1) + 1) / 2).reshape(members, *images.shape)
    prob = soft.mean(0)
    std = soft.std(0) if members > 1 else torch.zeros_like(prob)
    return EnsembleSegmentation(prob, std, (prob > 0.5).float(), soft, res.nfe)


def otsu_segment(images: Tensor, background: float = 0.05) -> Tensor:
    """Otsu's threshold (Otsu 1979: the one maximising the between-class variance) per image, computed over the
    pixels above ``background`` (the field of view without air); ``(B, 1, ...)`` in ``[0, 1]`` -> binary masks."""
    from skimage.filters import threshold_otsu

    out = torch.zeros_like(images)
    for i, img in enumerate(images.detach().cpu().numpy()):
        fg = img[img > background]
        if fg.size < 2 or np.ptp(fg) == 0:
            continue
        out[i] = torch.from_numpy((img > threshold_otsu(fg)).astype(np.float32))
    return out
