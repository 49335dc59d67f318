"""Trajectories as 2-D (time x space) multi-channel images: what WDNO generates and what it is conditioned on.

A trajectory with ``nt`` frame intervals has states ``u: (B, nt + 1, N)`` and forcing ``f: (B, nt, N)``
(``f[:, k]`` acting on ``[t_k, t_{k+1})``). As one image the forcing gets a zero last row so both fields have
``T = nt + 1`` rows (the reference implementation pads it the same way):

    fields = [u, pad(f)]: (B, 2, T, N)

The conditions are images on the same grid: the initial state broadcast along time (and, for control, the
target final state likewise; for super-resolution, the coarser trajectory interpolated to the grid), so every
coefficient of a wavelet-packed condition sees the field it depends on.
"""

from __future__ import annotations

import torch
from torch import Tensor

STATE, FORCING = 0, 1


def trajectory_fields(u: Tensor, forcing: Tensor) -> Tensor:
    """``u: (B, T, N)``, ``forcing: (B, T - 1, N)`` -> ``(B, 2, T, N)`` with a zero last forcing row."""
    if u.dim() != 3 or forcing.shape != (u.shape[0], u.shape[1] - 1, u.shape[2]):
        raise ValueError(f"need u (B, T, N) and forcing (B, T - 1, N); got {tuple(u.shape)} and {tuple(forcing.shape)}")
    padded = torch.cat([forcing, torch.zeros_like(forcing[:, :1])], dim=1)
    return torch.stack([u, padded], dim=1)


def split_fields(fields: Tensor) -> tuple[Tensor, Tensor]:
    """Inverse of :func:`trajectory_fields`: ``(B, 2, T, N)`` -> ``u: (B, T, N)``, ``forcing: (B, T - 1, N)``."""
    if fields.dim() != 4 or fields.shape[1] != 2:
        raise ValueError(f"fields must be (B, 2, T, N), got {tuple(fields.shape)}")
    return fields[:, STATE], fields[:, FORCING, :-1]


def condition_fields(u0: Tensor, frames: int, u_final: Tensor | None = None, coarse: Tensor | None = None) -> Tensor:
    """Known fields as images: ``u0: (B, N)`` (and ``u_final: (B, N)``) repeated over ``frames`` rows, and a
    coarse trajectory already on the grid, ``coarse: (B, T, N)`` (the super-resolution condition).

    Returns:
        ``(B, C, T, N)`` with channels ``u0`` [, ``u_final``] [, ``coarse``].
    """
    if u0.dim() != 2:
        raise ValueError(f"u0 must be (B, N), got {tuple(u0.shape)}")
    parts = [u0]
    if u_final is not None:
        if u_final.shape != u0.shape:
            raise ValueError(f"u_final {tuple(u_final.shape)} must match u0 {tuple(u0.shape)}")
        parts.append(u_final)
    images = [torch.stack(parts, dim=1).unsqueeze(2).expand(-1, -1, frames, -1)]
    if coarse is not None:
        if coarse.shape != (u0.shape[0], frames, u0.shape[1]):
            raise ValueError(
                f"coarse must be (B, T, N) = {(u0.shape[0], frames, u0.shape[1])}, got {tuple(coarse.shape)}"
            )
        images.append(coarse.to(u0).unsqueeze(1))
    return torch.cat(images, dim=1).contiguous()


def fourier_upsample(u: Tensor, factor: int = 2) -> Tensor:
    """Periodic band-limited interpolation along the last axis: ``(..., N) -> (..., factor N)``.

    The trigonometric interpolant of the ``N`` samples (its spectrum zero-padded, the Nyquist mode split
    evenly between ``+-N/2``), evaluated on the finer grid; exact for fields band-limited below ``N/2``.
    """
    if factor < 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    n = u.shape[-1]
    spec = torch.fft.rfft(u, dim=-1)
    if n % 2 == 0:
        spec = torch.cat([spec[..., :-1], spec[..., -1:] / 2], dim=-1)
    out = torch.zeros(*spec.shape[:-1], factor * n // 2 + 1, dtype=spec.dtype, device=spec.device)
    out[..., : spec.shape[-1]] = spec
    return torch.fft.irfft(out, n=factor * n, dim=-1) * factor
