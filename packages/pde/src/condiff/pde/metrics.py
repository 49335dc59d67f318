"""Simulation and control metrics of WDNO on 1-D trajectories."""

from __future__ import annotations

from torch import Tensor


def relative_l2(pred: Tensor, target: Tensor, first_frame: int = 1) -> Tensor:
    """Per-sample relative L2 error ``||pred - target|| / ||target||`` over frames ``first_frame..`` : ``(B,)``.

    Frame 0 (the given initial state) is left out by default, as in the paper's simulation error.
    """
    if pred.shape != target.shape or pred.dim() != 3:
        raise ValueError(
            f"pred and target must be equal (B, T, N) shapes, got {tuple(pred.shape)}, {tuple(target.shape)}"
        )
    diff = (pred - target)[:, first_frame:].flatten(1).double()
    return diff.norm(dim=1) / target[:, first_frame:].flatten(1).double().norm(dim=1).clamp_min(1e-30)


def mse(pred: Tensor, target: Tensor, first_frame: int = 1) -> Tensor:
    """Per-sample mean squared error over frames ``first_frame..``: ``(B,)``."""
    if pred.shape != target.shape or pred.dim() != 3:
        raise ValueError(
            f"pred and target must be equal (B, T, N) shapes, got {tuple(pred.shape)}, {tuple(target.shape)}"
        )
    return (pred - target)[:, first_frame:].flatten(1).double().square().mean(dim=1)


def pooled_relative_l2(pred: Tensor, target: Tensor, first_frame: int = 1) -> Tensor:
    """Relative L2 error over the whole set, ``||pred - target|| / ||target||`` with all samples together.

    Unlike the mean of :func:`relative_l2`, it is not dominated by samples of small norm (nearly quiescent
    trajectories): it is the root of the set's MSE over the root of its mean square.
    """
    if pred.shape != target.shape or pred.dim() != 3:
        raise ValueError(
            f"pred and target must be equal (B, T, N) shapes, got {tuple(pred.shape)}, {tuple(target.shape)}"
        )
    diff = (pred - target)[:, first_frame:].double()
    return diff.norm() / target[:, first_frame:].double().norm().clamp_min(1e-30)
