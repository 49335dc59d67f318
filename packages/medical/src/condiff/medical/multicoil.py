"""Multi-coil MRI: fastMRI's raw multi-coil k-space, the root-sum-of-squares image, synthetic coil sensitivities
and the SENSE forward operator for the prior route (:func:`condiff.medical.inverse.reconstruct`).

Coil ``c`` sees the image through its sensitivity ``S_c``; its k-space is ``y_c = m * F(S_c x)``. The
root-sum-of-squares image of fully sampled data is ``rss = sqrt(sum_c |F^-1 y_c|^2) = |x| sqrt(sum_c |S_c|^2)``,
``|x|`` for maps normalised to ``sum_c |S_c|^2 = 1`` (as ESPIRiT's are inside the object).
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch
from torch import Tensor

from condiff.core.errors import DataValidationError
from condiff.core.inverse import LinearOperator


def coil_images(kspace: Tensor) -> Tensor:
    """``(..., C, H, W)`` complex *centred* k-space (fastMRI's convention: DC in the middle) -> coil images, by
    MONAI's centred inverse FFT (orthonormal)."""
    from monai.data.fft_utils import ifftn_centered

    out = ifftn_centered(torch.view_as_real(kspace.to(torch.complex64)), spatial_dims=2, is_complex=True)
    return torch.view_as_complex(torch.as_tensor(out).contiguous())


def root_sum_of_squares(kspace: Tensor) -> Tensor:
    """``(..., C, H, W)`` centred k-space -> the magnitude image ``sqrt(sum_c |F^-1 y_c|^2)`` ``(..., H, W)``
    (MONAI's ``root_sum_of_squares`` over the coil axis), fastMRI's ``reconstruction_rss`` before cropping."""
    from monai.apps.reconstruction.mri_utils import root_sum_of_squares as rss

    return torch.as_tensor(rss(coil_images(kspace).abs(), spatial_dim=-3))


def uncentred_kspace(kspace: Tensor) -> Tensor:
    """fastMRI's centred k-space ``(..., C, H, W)`` -> the uncentred orthonormal k-space ``F(S_c x)`` of the same
    coil images that :class:`SenseOperator` and the core's ``MaskedFourier`` measure. A centred column mask
    ``m_centred`` becomes ``torch.fft.ifftshift(m_centred)``."""
    return torch.fft.fft2(coil_images(kspace).to(torch.complex128), norm="ortho")


def load_fastmri_kspace(path: str | os.PathLike[str]) -> Tensor:
    """The raw k-space of a fastMRI ``.h5`` file as a complex tensor ``(slices, coils, H, W)`` (single-coil files,
    ``(slices, H, W)``, get one coil), read by MONAI's FastMRIReader and checked: complex, 3-D or 4-D, finite."""
    from monai.apps.reconstruction.fastmri_reader import FastMRIReader

    try:
        data = FastMRIReader().read(str(path))
    except Exception as e:  # OSError for a corrupt file, ImportError without h5py
        raise DataValidationError(f"{path}: not a readable fastMRI HDF5 file ({type(e).__name__}: {e})") from e
    if "kspace" not in data:
        raise DataValidationError(f"{path}: no kspace dataset (keys: {sorted(data)})")
    k = np.asarray(data["kspace"])
    if not np.iscomplexobj(k):
        raise DataValidationError(f"{path}:kspace: expected complex values, got {k.dtype}")
    if k.ndim not in (3, 4):
        raise DataValidationError(f"{path}:kspace: expected (slices, coils, H, W) or (slices, H, W), got {k.shape}")
    bad = ~np.isfinite(k)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataValidationError(f"{path}:kspace: {int(bad.sum())} NaN or infinite value(s) (first at {first})")
    t = torch.from_numpy(k.astype(np.complex64))
    return t[:, None] if t.ndim == 3 else t


def synthetic_coil_maps(coils: int, size: int, width: float = 0.6, phase: float = math.pi / 2) -> Tensor:
    """``(coils, size, size)`` complex sensitivities of ``coils`` receive coils on a circle around the field of
    view: Gaussian magnitudes ``exp(-|r - r_c|^2 / (2 width^2))`` (``r`` in ``[-1, 1]^2``, ``r_c`` at radius 1.2)
    times a linear phase ramp of ``phase`` radians across the image, normalised to ``sum_c |S_c|^2 = 1``."""
    if coils < 1:
        raise ValueError(f"synthetic_coil_maps: coils must be >= 1, got {coils}")
    r = torch.linspace(-1.0, 1.0, size, dtype=torch.float64)
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    maps = []
    for c in range(coils):
        a = 2 * math.pi * c / coils
        cx, cy = 1.2 * math.cos(a), 1.2 * math.sin(a)
        mag = torch.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * width**2))
        maps.append(mag * torch.exp(1j * phase * (math.cos(a) * xx + math.sin(a) * yy)))
    s = torch.stack(maps)
    return s / s.abs().square().sum(0).sqrt()


class SenseOperator(LinearOperator):
    """SENSE (Pruessmann et al. 1999): ``A x = m * F(S_c x)`` for every coil ``c``, images ``x: (B, 1, H, W)``
    (real, or complex with ``complex_input``) -> k-space ``(B, C, H, W)`` (orthonormal, uncentred FFT, as the
    core's :class:`~condiff.core.inverse.MaskedFourier`).

    Adjoint: ``A^H y = sum_c conj(S_c) F^-1(m * y_c)`` (its real part for real images). The pseudo-inverse is the
    core's CGLS with up to 200 iterations: the SENSE normal equations are worse conditioned than one coil's
    (6 synthetic coils, 40 % of 16 columns: relative measurement residual 1.6e-3 after 50 iterations, 5e-10
    after 200).

    Args:
        maps: ``(C, H, W)`` or ``(B, C, H, W)`` complex coil sensitivities.
        mask: 0/1 sampling mask broadcastable to ``(B, C, H, W)``: ``(W,)`` columns, ``(H, W)`` or per sample.
        complex_input: images are complex (otherwise real, and the adjoint returns the real part).
    """

    def __init__(self, maps: Tensor, mask: Tensor, complex_input: bool = False) -> None:
        if maps.ndim not in (3, 4) or not maps.is_complex():
            raise ValueError(f"SenseOperator: maps must be complex (C, H, W) or (B, C, H, W), got {tuple(maps.shape)}")
        self.maps = maps.to(torch.complex128)
        self.mask = mask.to(torch.float64)
        self.complex_input = complex_input

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != 1 or x.shape[-2:] != self.maps.shape[-2:]:
            raise ValueError(f"SenseOperator: x must be (B, 1, {self.maps.shape[-2]}, {self.maps.shape[-1]}), "
                             f"got {tuple(x.shape)}")  # fmt: skip
        coil = x.to(torch.complex128) * self.maps.to(x.device)
        return torch.fft.fft2(coil, norm="ortho") * self.mask.to(x.device)

    def pinv(self, y: Tensor, iters: int = 200, tol: float = 1e-10) -> Tensor:
        return super().pinv(y, iters, tol)

    def adjoint(self, y: Tensor) -> Tensor:
        coil = torch.fft.ifft2(y.to(torch.complex128) * self.mask.to(y.device), norm="ortho")
        x = (self.maps.conj().to(y.device) * coil).sum(-3, keepdim=True)
        return x if self.complex_input else x.real
