"""Which frames of a trajectory are given (conditioning) and which are generated: GeoTDM's temporal masks."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from condiff.core.errors import ConfigError

Mode = Literal["uncond", "forecast", "interp"]
MODES = ("uncond", "forecast", "interp")


def frame_mask(mode: str, num_frames: int, num_given: int = 0, num_given_end: int = 0) -> Tensor:
    """``(T,)`` bool, True on the given frames (Han et al. 2024, Sec. 4.2, the temporal conditioning mask).

    ``uncond``: no frame given. ``forecast``: the first ``num_given`` frames given, the rest generated.
    ``interp``: the first ``num_given`` and the last ``num_given_end`` frames given, the middle generated.

    Example:
        >>> frame_mask("interp", 6, 2, 1).int().tolist()
        [1, 1, 0, 0, 0, 1]
    """
    if mode not in MODES:
        raise ConfigError(f"frame_mask: mode must be one of {MODES}, got {mode!r}")
    if num_frames < 1:
        raise ConfigError(f"frame_mask: num_frames must be >= 1, got {num_frames}")
    mask = torch.zeros(num_frames, dtype=torch.bool)
    if mode == "uncond":
        if num_given or num_given_end:
            raise ConfigError(f"frame_mask: uncond gives no frames, got num_given={num_given}, end={num_given_end}")
        return mask
    if num_given < 1:
        raise ConfigError(f"frame_mask: {mode} needs num_given >= 1, got {num_given}")
    if mode == "forecast" and num_given_end:
        raise ConfigError(f"frame_mask: forecast gives no end frames, got num_given_end={num_given_end}")
    if mode == "interp" and num_given_end < 1:
        raise ConfigError(f"frame_mask: interp needs num_given_end >= 1, got {num_given_end}")
    if num_given + num_given_end >= num_frames:
        raise ConfigError(
            f"frame_mask: {num_given} + {num_given_end} given frames leave none of {num_frames} to generate"
        )
    mask[:num_given] = True
    if num_given_end:
        mask[num_frames - num_given_end :] = True
    return mask


def nearest_given(mask: Tensor) -> Tensor:
    """``(T_f, T_c)`` one-hot: for every generated frame, the given frame nearest in time (ties: the earlier).

    The base weights of the learned prior and the "last frame" ablation prior (for forecasting: the last
    given frame; for interpolation: the nearer end).
    """
    given = torch.nonzero(mask).flatten()
    target = torch.nonzero(~mask).flatten()
    if given.numel() == 0:
        raise ValueError("nearest_given: the mask gives no frame")
    dist = (target[:, None] - given[None, :]).abs()
    return torch.nn.functional.one_hot(dist.argmin(dim=1), given.numel()).to(torch.get_default_dtype())


def frame_gaps(mask: Tensor) -> Tensor:
    """``(T,)`` float: frames from every frame to the nearest given one (1 everywhere when none is given).

    Example:
        >>> frame_gaps(frame_mask("interp", 6, 2, 1)).tolist()
        [0.0, 0.0, 1.0, 2.0, 1.0, 0.0]
    """
    if not bool(mask.any()):
        return torch.ones(mask.shape, dtype=torch.get_default_dtype())
    frames = torch.arange(mask.numel())
    given = torch.nonzero(mask).flatten()
    return (frames[:, None] - given[None, :]).abs().min(dim=1).values.to(torch.get_default_dtype())
