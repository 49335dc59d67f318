"""Deterministic degradations of ``[0, 1]`` images ``(C, H, W)`` (or volumes ``(C, D, H, W)``), each a pure
function of the image and an explicit ``torch.Generator``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor

from condiff.core.errors import DataValidationError
from condiff.medical.data.builtin import disk_mask
from condiff.medical.data.ct import parallel_beam

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


@dataclass
class LowDoseCT:
    """Low-dose CT: line integrals ``p = mu R x`` over ``views`` angles in ``[0, 180)``, photon counts
    ``N ~ Poisson(I0 exp(-p))``, the log-transformed noisy sinogram ``p~ = -log(max(N, 1) / I0)`` and filtered
    back-projection (ramp filter) divided by ``mu``. Radon transform and FBP are batched torch matrix products
    (:mod:`condiff.medical.data.ct`, scikit-image's geometry).

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
        ct = parallel_beam(x.shape[-1], self.views)
        p = self.mu * ct.radon(x)
        counts = torch.poisson(self.photons * torch.exp(-p), generator=g)
        p_noisy = -torch.log(counts.clamp_min(1) / self.photons)
        return (ct.fbp(p_noisy) / self.mu * disk_mask(x.shape[-1])).to(x.dtype)


@dataclass
class SparseViewCT:
    """Sparse-view CT: filtered back-projection from ``views`` equally spaced angles in ``[0, 180)`` (streaks)."""

    views: int = 8

    def angles(self) -> Tensor:
        return torch.linspace(0.0, 180.0, self.views + 1, dtype=torch.float64)[:-1]

    def __call__(self, x: Tensor, g: torch.Generator) -> Tensor:
        _check_circle(x, "SparseViewCT")
        ct = parallel_beam(x.shape[-1], self.views)
        return (ct.fbp(ct.radon(x)) * disk_mask(x.shape[-1])).to(x.dtype)


@dataclass
class KspaceUndersampling:
    """Accelerated MRI: the image's k-space (orthonormal FFT) sampled on a fastMRI-style mask and the zero-filled
    reconstruction ``|IFFT(m * FFT(x))|``.

    Slices ``(C, H, W)``: a column mask from MONAI's
    :class:`~monai.apps.reconstruction.transforms.array.EquispacedKspaceMask` or ``RandomKspaceMask`` (the central
    ``center_fraction`` columns plus equispaced or random others, ``1 / acceleration`` in all). Volumes
    ``(C, D, H, W)``: 3-D Cartesian sampling, the readout axis ``D`` fully sampled and the phase-encoding plane
    ``(H, W)`` undersampled by the separable mask ``m(ky, kz) = m_H(ky) m_W(kz)``, two MONAI masks of
    acceleration ``sqrt(acceleration)`` each (4x: 2 x 2), each with its own fully sampled centre.

    Args:
        acceleration: 4 or 8 (or any factor > 1).
        mask: ``equispaced`` or ``random``.
        center_fraction: fully sampled central fraction of the columns of a slice (default fastMRI's: 0.08 at 4x,
            0.04 at 8x, else ``0.32 / acceleration``).
        plane_center_fraction: the same per axis of a volume's phase-encoding plane (default that of
            ``sqrt(acceleration)``: 0.16 at 4x).
        side_information: also return the complex zero-filled image and the mask, which a conditional model
            needs to undo the aliasing (the magnitude alone drops the phase and does not say which columns are
            missing); the first ``C`` channels stay the zero-filled magnitude.
    """

    acceleration: float = 4
    mask: str = "equispaced"
    center_fraction: float | None = None
    side_information: bool = False
    plane_center_fraction: float | None = None

    def __post_init__(self) -> None:
        if self.mask not in MASK_KINDS:
            raise ValueError(f"KspaceUndersampling: mask must be one of {MASK_KINDS}, got {self.mask!r}")
        if not self.acceleration > 1:
            raise ValueError(f"KspaceUndersampling: acceleration must be > 1, got {self.acceleration}")
        if self.center_fraction is None:
            self.center_fraction = self.default_center_fraction(self.acceleration)
        if self.plane_center_fraction is None:
            self.plane_center_fraction = self.default_center_fraction(self.acceleration**0.5)

    @staticmethod
    def default_center_fraction(acceleration: float) -> float:
        """fastMRI's centre fraction at 4x and 8x, ``0.32 / acceleration`` otherwise."""
        known = {float(k): v for k, v in FASTMRI_CENTER_FRACTIONS.items()}
        return known.get(float(acceleration), 0.32 / acceleration)

    def sample_mask(
        self, width: int, g: torch.Generator, acceleration: float | None = None, center_fraction: float | None = None
    ) -> Tensor:
        """A ``(width,)`` 0/1 column mask in *uncentred* FFT order (DC at index 0), drawn through MONAI (by default
        at this degradation's acceleration and centre fraction)."""
        from monai.apps.reconstruction.transforms.array import EquispacedKspaceMask, RandomKspaceMask

        accel = self.acceleration if acceleration is None else acceleration
        frac = self.center_fraction if center_fraction is None else center_fraction
        assert frac is not None
        cls = EquispacedKspaceMask if self.mask == "equispaced" else RandomKspaceMask
        transform = cls([frac], [accel], spatial_dims=2, is_complex=True)
        transform.set_random_state(seed=_seed(g))
        transform(torch.zeros(1, 1, width, 2))  # MONAI draws its mask while masking a k-space
        centred = torch.as_tensor(transform.mask).reshape(width)
        return torch.fft.ifftshift(centred).float()

    def sample_plane_mask(self, height: int, width: int, g: torch.Generator) -> Tensor:
        """A ``(height, width)`` phase-encoding-plane mask ``m_H(ky) m_W(kz)`` (uncentred), each factor a MONAI
        mask at ``sqrt(acceleration)``."""
        per_axis, frac = self.acceleration**0.5, self.plane_center_fraction
        return self.sample_mask(height, g, per_axis, frac)[:, None] * self.sample_mask(width, g, per_axis, frac)

    def measure(self, x: Tensor, g: torch.Generator) -> tuple[Tensor, Tensor]:
        """``(kspace, mask)``: ``m * FFT(x)`` (complex, orthonormal, uncentred) over the 2 (slices) or 3 (volumes)
        spatial axes, and the mask: ``(W,)`` columns, or ``(H, W)`` for a volume ``(C, D, H, W)``."""
        if x.ndim == 4:
            mask = self.sample_plane_mask(x.shape[-2], x.shape[-1], g)
            return torch.fft.fftn(x.to(torch.float64), dim=(-3, -2, -1), norm="ortho") * mask, mask
        if x.ndim != 3:
            raise ValueError(f"KspaceUndersampling: expected (C, H, W) or (C, D, H, W), got shape {tuple(x.shape)}")
        mask = self.sample_mask(x.shape[-1], g)
        return torch.fft.fft2(x.to(torch.float64), norm="ortho") * mask, mask

    def __call__(self, x: Tensor, g: torch.Generator) -> Tensor:
        """The zero-filled magnitude ``(C, *spatial)``; with ``side_information``, followed by its real and
        imaginary parts and the mask as an image (``(4 C, *spatial)``)."""
        kspace, mask = self.measure(x, g)
        zf = torch.fft.ifftn(kspace, dim=tuple(range(1, x.ndim)), norm="ortho")
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
