"""Perceptual metrics from weights the user supplies: LPIPS (Zhang et al. 2018) and FID (Heusel et al. 2017).

Nothing here downloads: LPIPS takes a torchvision AlexNet / VGG16 state-dict file for its backbone
(the LPIPS linear layers ship inside the ``lpips`` wheel, or give ``linear_weights``), FID takes a
feature network saved with ``torch.export.save`` (e.g. an Inception-v3 pool3 export, ``.pt2``).
Needs the ``perceptual`` extra (``pip install condiff-restoration[perceptual]``: torchvision, lpips).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from condiff.core.errors import DataValidationError
from condiff.core.metrics.frechet import frechet_distance_features

_TORCHVISION = {"alex": "alexnet", "vgg": "vgg16"}


def _require(path: str | os.PathLike[str], what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise DataValidationError(f"{p}: {what} not found (LPIPS/FID weights are never downloaded: give a local file)")
    return p


def _load_state_dict(path: Path, what: str) -> dict[str, Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise DataValidationError(f"{path}: unreadable {what} ({e})") from e
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise DataValidationError(f"{path}: {what} must be a state dict of tensors")
    return state


class LPIPS(torch.nn.Module):
    """Learned perceptual distance ``d(x, y) = sum_l mean_hw || w_l * (phi_l(x) - phi_l(y)) ||^2`` (LPIPS eq. 1).

    ``phi_l`` are unit-normalised backbone features, ``w_l`` the learned linear weights.

    Args:
        backbone_weights: torchvision ``alexnet`` (``net="alex"``) or ``vgg16`` (``net="vgg"``) state-dict file.
        net: ``"alex"`` (the usual choice for restoration papers) or ``"vgg"``.
        linear_weights: LPIPS v0.1 linear-layer file; default: the one inside the ``lpips`` wheel.
    """

    def __init__(
        self,
        backbone_weights: str | os.PathLike[str],
        net: str = "alex",
        linear_weights: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__()
        if net not in _TORCHVISION:
            raise ValueError(f"LPIPS: net must be one of {sorted(_TORCHVISION)}, got {net!r}")
        path = _require(backbone_weights, f"torchvision {_TORCHVISION[net]} weights")
        state = _load_state_dict(path, f"torchvision {_TORCHVISION[net]} state dict")
        import lpips  # the perceptual extra

        linear = None if linear_weights is None else str(_require(linear_weights, "LPIPS linear weights"))
        with warnings.catch_warnings():  # lpips builds its backbone through torchvision's deprecated `pretrained=`
            warnings.simplefilter("ignore")
            self.model = lpips.LPIPS(net=net, pnet_rand=True, model_path=linear, verbose=False)
        features = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
        target = self.model.net.state_dict()
        # lpips keeps torchvision's `features.<i>` layers as `slice<k>.<i>`: map by the layer index.
        mapped = {k: features.get(k.split(".", 1)[1]) for k in target}
        missing = sorted(k for k, v in mapped.items() if v is None or v.shape != target[k].shape)
        if missing:
            raise DataValidationError(
                f"{path}: not a torchvision {_TORCHVISION[net]} state dict (missing or mis-shaped: {missing[:4]})"
            )
        self.model.net.load_state_dict({k: v for k, v in mapped.items() if v is not None})
        self.model.eval().requires_grad_(False)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """``(B,)`` distances between images ``x, y`` in ``[0, 1]``, shape ``(B, 3, H, W)``."""
        if x.shape != y.shape or x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"LPIPS expects two (B, 3, H, W) batches, got {tuple(x.shape)} and {tuple(y.shape)}")
        return self.model(x * 2 - 1, y * 2 - 1).flatten()


class FrechetDistance:
    """FID-style Fréchet distance between the feature distributions of two image sets (Heusel et al. 2017).

    Args:
        feature_extractor: a ``torch.export`` program file (``.pt2``) mapping ``(B, 3, H, W)`` images in
            ``[0, 1]`` to ``(B, D)`` features (for FID proper: Inception-v3 pool3 with its own resizing inside;
            export it with a dynamic batch dimension or use its exported batch size as ``batch_size``).
        batch_size: images per forward pass.
    """

    def __init__(self, feature_extractor: str | os.PathLike[str], batch_size: int = 64) -> None:
        path = _require(feature_extractor, "exported feature extractor")
        try:
            self.net: Any = torch.export.load(str(path)).module()
        except Exception as e:
            raise DataValidationError(f"{path}: not a torch.export program file ({e})") from e
        self.path, self.batch_size = path, batch_size

    @torch.no_grad()
    def features(self, images: Tensor) -> Tensor:
        outs = [self.net(images[i : i + self.batch_size]) for i in range(0, len(images), self.batch_size)]
        out = torch.cat(outs).flatten(1).double()
        if not bool(torch.isfinite(out).all()):
            raise DataValidationError(f"{self.path}: the feature extractor returned NaN or inf")
        return out

    def __call__(self, images: Tensor, reference: Tensor) -> float:
        """Fréchet distance between the features of ``images`` and ``reference`` (each ``(N, 3, H, W)``)."""
        return frechet_distance_features(self.features(images), self.features(reference))
