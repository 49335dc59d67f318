"""Deterministic degradations of ``[0, 1]`` images ``(C, H, W)`` (or volumes ``(C, D, H, W)``), each a pure
function of the image and an explicit ``torch.Generator``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from condiff.core.errors import DataValidationError
from condiff.medical.data.builtin import disk_mask

# fastMRI's centre fractions for its 4x and 8x knee and brain challenges.
FASTMRI_CENTER_FRACTIONS = {4: 0.08, 8: 0.04}
MASK_KINDS = ("equispaced", "random")


class Degradation(Protocol):
    """``(image: (C, ...) in [0, 1], generator) -> degraded image`` of the same shape."""

    def __call__(self, x: Tensor, g: torch.Generator) -> Tensor: ...


def _seed(g: torch.Generator) -> int:
    return int(torch.randint(0, 2**31 - 1, (1,), generator=g))


@dataclass
class RicianNoise:
    """MRI magnitude noise: ``y = sqrt((x + sigma n1)^2 + (sigma n2)^2)``, ``n1, n2 ~ N(0, 1)`` (Gudbjartsson &
    Patz 1995: the magnitude of a complex image with Gaussian noise in both channels)."""

    sigma: float = 0.05

    def __call__(self, x: Tensor, g: torch.Generator) -> Tensor:
        n = torch.randn((2, *x.shape), generator=g, dtype=x.dtype)
        return torch.sqrt((x + self.sigma * n[0]) ** 2 + (self.sigma * n[1]) ** 2)


def _check_circle(x: Tensor, name: str) -> None:
    outside = x[..., ~disk_mask(x.shape[-1])]
    if x.shape[-1] != x.shape[-2] or bool((outside.abs() > 1e-6).any()):
        raise DataValidationError(
            f"{name}: CT needs square images that vanish outside the inscribed circle, got shape {tuple(x.shape)}"
        )


def _fbp(sinogram: np.ndarray, theta: np.ndarray, size: int) -> np.ndarray:
    from skimage.transform import iradon

    return iradon(sinogram, theta=theta, filter_name="ramp", circle=True, output_size=size)


def _radon(image: np.ndarray, theta: np.ndarray) -> np.ndarray:
    from skimage.transform import radon

    return radon(image, theta=theta, circle=True)


@dataclass
class LowDoseCT:
    """Low-dose CT: line integrals ``p = mu R x`` over ``views`` angles in ``[0, 180)``, photon counts
    ``N ~ Poisson(I0 exp(-p))``, the log-transformed noisy sinogram ``p~ = -log(max(N, 1) / I0)`` and filtered
    back-projection (ramp filter) divided by ``mu``.

    Args:
        photons: incident photons per detector bin ``I0`` (lower is a lower dose).
        mu: attenuation per pixel of intensity 1 (scales the line integrals, hence the photon starvation).
        views: projection angles.
    """

    photons: float = 2.0e4
    mu: float = 0.1
    views: int = 48

    def __call__(self, x: Tensor, g: torch.Generator) -> Tensor:
        _check_circle(x, "LowDoseCT")
        rng = np.random.default_rng(_seed(g))
        theta = np.linspace(0.0, 180.0, self.views, endpoint=False)
        out = []
        for ch in x.double().numpy():
            p = self.mu * _radon(ch, theta)
            counts = rng.poisson(self.photons * np.exp(-p))
            p_noisy = -np.log(np.maximum(counts, 1) / self.photons)
            out.append(_fbp(p_noisy, theta, ch.shape[-1]) / self.mu)
        return torch.from_numpy(np.stack(out)).to(x.dtype) * disk_mask(x.shape[-1])


@dataclass
class SparseViewCT:
    """Sparse-view CT: filtered back-projection from ``views`` equally spaced angles in ``[0, 180)`` (streaks)."""

    views: int = 8

    def angles(self) -> Tensor:
        return torch.linspace(0.0, 180.0, self.views + 1, dtype=torch.float64)[:-1]

    def __call__(self, x: Tensor, g: torch.Generator) -> Tensor:
        _check_circle(x, "SparseViewCT")
        theta = self.angles().numpy()
        out = [_fbp(_radon(ch, theta), theta, ch.shape[-1]) for ch in x.double().numpy()]
        return torch.from_numpy(np.stack(out)).to(x.dtype) * disk_mask(x.shape[-1])


@dataclass
class KspaceUndersampling:
    """Accelerated MRI: the image's 2-D k-space (orthonormal FFT) sampled on a fastMRI-style column mask
    (MONAI's :class:`~monai.apps.reconstruction.transforms.array.EquispacedKspaceMask` or ``RandomKspaceMask``:
    the central ``center_fraction`` columns plus equispaced or random others, ``1 / acceleration`` in all),
    and the zero-filled reconstruction ``|IFFT(m * FFT(x))|``.

    Args:
        acceleration: 4 or 8 (or any factor > 1).
        mask: ``equispaced`` or ``random``.
        center_fraction: fully sampled central fraction (default fastMRI's: 0.08 at 4x, 0.04 at 8x).
        side_information: also return the complex zero-filled image and the mask, which a conditional model
            needs to undo the aliasing (the magnitude alone drops the phase and does not say which columns are
            missing); the first ``C`` channels stay the zero-filled magnitude.
    """

    acceleration: float = 4
    mask: str = "equispaced"
    center_fraction: float | None = None
    side_information: bool = False

    def __post_init__(self) -> None:
        if self.mask not in MASK_KINDS:
            raise ValueError(f"KspaceUndersampling: mask must be one of {MASK_KINDS}, got {self.mask!r}")
        if not self.acceleration > 1:
            raise ValueError(f"KspaceUndersampling: acceleration must be > 1, got {self.acceleration}")
        if self.center_fraction is None:
            self.center_fraction = FASTMRI_CENTER_FRACTIONS.get(int(self.acceleration), 0.32 / self.acceleration)

    def sample_mask(self, width: int, g: torch.Generator) -> Tensor:
        """A ``(width,)`` 0/1 column mask in *uncentred* FFT order (DC at index 0), drawn through MONAI."""
        from monai.apps.reconstruction.transforms.array import EquispacedKspaceMask, RandomKspaceMask

        cls = EquispacedKspaceMask if self.mask == "equispaced" else RandomKspaceMask
        assert self.center_fraction is not None
        transform = cls([self.center_fraction], [self.acceleration], spatial_dims=2, is_complex=True)
        transform.set_random_state(seed=_seed(g))
        transform(torch.zeros(1, 1, width, 2))  # MONAI draws its mask while masking a k-space
        centred = torch.as_tensor(transform.mask).reshape(width)
        return torch.fft.ifftshift(centred).float()

    def measure(self, x: Tensor, g: torch.Generator) -> tuple[Tensor, Tensor]:
        """``(kspace, mask)``: ``m * FFT2(x)`` (complex, orthonormal, uncentred) and the ``(W,)`` column mask."""
        mask = self.sample_mask(x.shape[-1], g)
        return torch.fft.fft2(x.to(torch.float64), norm="ortho") * mask, mask

    def __call__(self, x: Tensor, g: torch.Generator) -> Tensor:
        """The zero-filled magnitude ``(C, H, W)``; with ``side_information``, followed by its real and imaginary
        parts and the mask as an image (``(4 C, H, W)``)."""
        kspace, mask = self.measure(x, g)
        zf = torch.fft.ifft2(kspace, norm="ortho")
        if not self.side_information:
            return zf.abs().to(x.dtype)
        return torch.cat([zf.abs(), zf.real, zf.imag, mask.expand_as(zf.real)]).to(x.dtype)


DEGRADATIONS = {"rician": RicianNoise, "lowdose_ct": LowDoseCT, "sparse_view_ct": SparseViewCT,
                "kspace": KspaceUndersampling}  # fmt: skip


def make_degradation(name: str, **params: float | str) -> Degradation:
    """A degradation by name (``rician``, ``lowdose_ct``, ``sparse_view_ct``, ``kspace``) with its parameters."""
    if name not in DEGRADATIONS:
        raise ValueError(f"unknown degradation {name!r}; expected one of {sorted(DEGRADATIONS)}")
    return DEGRADATIONS[name](**params)
