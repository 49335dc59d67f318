"""Parallel-beam CT in torch, batched: the Radon transform of the core (same geometry as scikit-image's
``radon(circle=True)``) and filtered back-projection with the ramp filter, both as sparse CSR matrix products
built once per ``(size, angles)``, so a degradation costs ~0.3 ms per 32 x 32 slice instead of ~3 ms through
scikit-image's per-angle image warps.

FBP (Kak & Slaney, ch. 3):

    f(x) = pi / (2 K) * sum_k (h * p_k)(x cos(theta_k) + y sin(theta_k))

with ``K`` angles over ``[0, 180)`` and ``h`` the band-limited ramp filter at unit detector spacing,
``h(0) = 1/4``, ``h(n) = -1 / (pi n)^2`` for odd ``n``, 0 for even ``n``, applied by FFT on the detector axis
zero-padded to ``max(64, 2^ceil(log2(2 N)))`` (scikit-image's ``iradon(filter_name="ramp")``). The
back-projection is the exact adjoint of the core's bilinear ray sums.
"""

from __future__ import annotations

import math
import warnings
from functools import cache

import torch
from torch import Tensor

from condiff.core.inverse import Radon


def ramp_filter(padded: int) -> Tensor:
    """The ramp filter's frequency response ``2 Re FFT(h)`` on ``padded`` detector bins (module docstring)."""
    n = torch.arange(padded, dtype=torch.float64)
    n = torch.minimum(n, padded - n)  # circular distance from bin 0
    h = torch.where(n % 2 == 1, -1.0 / (math.pi * n.clamp_min(1)) ** 2, torch.zeros_like(n))
    h[0] = 0.25
    return 2 * torch.fft.fft(h).real


class ParallelBeamCT:
    """Radon transform and FBP of ``(..., N, N)`` images at ``angles`` (degrees); sinograms ``(..., K, N)``.

    Args:
        size: image side ``N`` (the image should vanish outside the inscribed circle).
        angles: ``(K,)`` projection angles in degrees.
    """

    def __init__(self, size: int, angles: Tensor) -> None:
        op = Radon(size, angles)
        self.size, self.views = size, len(op.angles)
        with warnings.catch_warnings():  # torch calls its (long stable) CSR support "beta"
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta", category=UserWarning)
            self.forward_matrix = op.matrix.to_sparse_csr()  # (K N, N^2)
            self.backward_matrix = op.matrix_t.to_sparse_csr()  # (N^2, K N)
        self.padded = max(64, 2 ** math.ceil(math.log2(2 * size)))
        self.filter = ramp_filter(self.padded)

    def radon(self, x: Tensor) -> Tensor:
        """Line integrals ``p = R x``, ``(..., N, N) -> (..., K, N)``."""
        n, lead = self.size, x.shape[:-2]
        flat = x.to(torch.float64).reshape(-1, n * n).T
        return (self.forward_matrix @ flat).T.reshape(*lead, self.views, n)

    def fbp(self, p: Tensor) -> Tensor:
        """Filtered back-projection ``(..., K, N) -> (..., N, N)`` (module docstring)."""
        n, lead = self.size, p.shape[:-2]
        padded = torch.nn.functional.pad(p.to(torch.float64), (0, self.padded - n))
        q = torch.fft.ifft(torch.fft.fft(padded, dim=-1) * self.filter, dim=-1).real[..., :n]
        back = (self.backward_matrix @ q.reshape(-1, self.views * n).T).T.reshape(*lead, n, n)
        return back * (math.pi / (2 * self.views))


@cache
def parallel_beam(size: int, views: int) -> ParallelBeamCT:
    """The :class:`ParallelBeamCT` of ``views`` equally spaced angles in ``[0, 180)``, built once per process."""
    return ParallelBeamCT(size, torch.linspace(0.0, 180.0, views + 1, dtype=torch.float64)[:-1])
