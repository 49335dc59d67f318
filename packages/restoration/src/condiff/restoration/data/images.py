"""Reading images from disk and the photographs that ship inside scikit-image and scikit-learn."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from condiff.core.errors import DataValidationError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")

# Real RGB photographs bundled with the packages (no download). Held-out images are never trained on.
TRAIN_IMAGES = ("astronaut", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "motorcycle", "china")
HELDOUT_IMAGES = ("chelsea", "flower")


def load_builtin_image(name: str) -> Tensor:
    """One bundled photograph as ``(3, H, W)`` float32 in ``[0, 1]``."""
    from skimage import data as skdata

    if name == "china" or name == "flower":
        from sklearn.datasets import load_sample_image

        arr = load_sample_image(f"{name}.jpg")
    elif name == "motorcycle":
        arr = skdata.stereo_motorcycle()[0]
    elif name in TRAIN_IMAGES + HELDOUT_IMAGES:
        arr = getattr(skdata, name)()
    else:
        raise ValueError(f"unknown built-in image {name!r}; expected one of {TRAIN_IMAGES + HELDOUT_IMAGES}")
    return torch.from_numpy(np.array(arr[..., :3], dtype=np.float32)).permute(2, 0, 1) / 255.0


def read_image(path: str | os.PathLike[str], channels: int = 3) -> Tensor:
    """Read an image file as ``(channels, H, W)`` float32 in ``[0, 1]``; errors name the file.

    A grayscale file where ``channels=3`` is asked for (or the reverse) is an error, not a
    silent conversion: a model trained on RGB must not be fed grayscale by accident.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            arr = np.asarray(im)
    except FileNotFoundError as e:
        raise DataValidationError(f"{path}: image file not found") from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DataValidationError(f"{path}: unreadable or corrupt image ({e})") from e
    if arr.ndim == 2:
        arr = arr[..., None]
    if mode == "RGBA":
        arr = arr[..., :3]
    if arr.shape[-1] != channels:
        kind = "grayscale" if arr.shape[-1] == 1 else f"{arr.shape[-1]}-channel"
        raise DataValidationError(f"{path}: {kind} image, but the model expects {channels} channels")
    scale = 65535.0 if arr.dtype == np.uint16 else 255.0
    out = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32) / scale).permute(2, 0, 1)
    if not bool(torch.isfinite(out).all()):
        raise DataValidationError(f"{path}: image contains NaN or inf")
    return out


def write_image(x: Tensor, path: str | os.PathLike[str]) -> Path:
    """Write ``(C, H, W)`` in ``[0, 1]`` as an 8-bit PNG (atomically)."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = (x.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr).save(tmp, format="PNG")
    os.replace(tmp, path)
    return path
