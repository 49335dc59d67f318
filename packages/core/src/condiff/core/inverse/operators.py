"""Linear measurement operators ``y = A x`` with their adjoints and (where cheap) pseudo-inverses.

Every operator acts on a batch ``x: (B, ...)`` and satisfies the adjoint identity
``<A x, y> = <x, A^T y>`` for the real inner product ``<u, v> = sum Re(conj(u) v)`` (complex
measurements, as in k-space, use it too). :meth:`LinearOperator.pinv` is the Moore-Penrose
pseudo-inverse ``A^+ = A^T (A A^T)^+``; operators without a closed form fall back to CGLS
(conjugate gradients on the normal equations, started at zero: the minimum-norm least-squares
solution in exact arithmetic).
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod

import torch
import torch.nn.functional as F
from torch import Tensor


def inner(u: Tensor, v: Tensor) -> Tensor:
    """Per-sample real inner product ``sum Re(conj(u) v)`` over all but the batch dimension, ``(B,)``."""
    prod = (u.conj() * v).real if (u.is_complex() or v.is_complex()) else u * v
    return prod.reshape(prod.shape[0], -1).sum(-1)


class LinearOperator(ABC):
    """A linear map ``A`` between batches of tensors: :meth:`forward`, :meth:`adjoint`, :meth:`pinv`."""

    @abstractmethod
    def forward(self, x: Tensor) -> Tensor:
        """``A x`` for ``x: (B, ...)``; differentiable in ``x``."""

    @abstractmethod
    def adjoint(self, y: Tensor) -> Tensor:
        """``A^T y`` (the conjugate transpose for complex measurements)."""

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    def pinv(self, y: Tensor, iters: int = 50, tol: float = 1e-10) -> Tensor:
        """``A^+ y``: CGLS (Hestenes-Stiefel on ``A^T A x = A^T y`` from ``x = 0``), at most ``iters`` iterations.

        Stops when ``||A^T (y - A x)|| <= tol ||A^T y||`` for every sample.
        """
        s = self.adjoint(y)
        x = torch.zeros_like(s)
        r = y.clone()
        p = s.clone()
        gamma = inner(s, s)
        stop = tol**2 * gamma.clamp_min(1e-300)  # relative tolerance on the normal-equation residual norm
        for _ in range(iters):
            q = self.forward(p)
            alpha = gamma / inner(q, q).clamp_min(1e-300)
            x = x + _bcast(alpha, x) * p
            r = r - _bcast(alpha, r) * q
            s = self.adjoint(r)
            gamma_new = inner(s, s)
            if bool((gamma_new <= stop).all()):
                break
            p = s + _bcast(gamma_new / gamma.clamp_min(1e-300), p) * p
            gamma = gamma_new
        return x


def _bcast(c: Tensor, x: Tensor) -> Tensor:
    return c.reshape(c.shape + (1,) * (x.ndim - 1)).to(x.real.dtype if x.is_complex() else x.dtype)


def _real_dtype(x: Tensor) -> torch.dtype:
    return x.real.dtype if x.is_complex() else x.dtype


def _check_image(name: str, x: Tensor, min_dims: int = 3) -> None:
    if x.ndim < min_dims:
        raise ValueError(f"{name}: expected a batch of images (B, C, H, W), got shape {tuple(x.shape)}")


class MatrixOperator(LinearOperator):
    """A dense matrix ``A: (M, D)`` acting on flat vectors ``x: (B, D) -> (B, M)``."""

    def __init__(self, matrix: Tensor) -> None:
        if matrix.ndim != 2:
            raise ValueError(f"MatrixOperator: matrix must be (M, D), got shape {tuple(matrix.shape)}")
        self.matrix = matrix

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 2 or x.shape[1] != self.matrix.shape[1]:
            raise ValueError(f"MatrixOperator: x must be (B, {self.matrix.shape[1]}), got {tuple(x.shape)}")
        return x @ self.matrix.to(x).T

    def adjoint(self, y: Tensor) -> Tensor:
        return y @ self.matrix.to(y)

    def pinv(self, y: Tensor, iters: int = 50, tol: float = 1e-10) -> Tensor:
        return y @ torch.linalg.pinv(self.matrix.to(torch.float64)).T.to(y)


class Mask(LinearOperator):
    """Inpainting: ``A x = m * x`` with a 0/1 mask ``m`` broadcastable to ``x`` (unobserved entries read 0).

    ``A`` is an orthogonal projection, so ``A^T = A^+ = A``.
    """

    def __init__(self, mask: Tensor) -> None:
        if not bool(((mask == 0) | (mask == 1)).all()):
            raise ValueError("Mask: mask entries must be 0 or 1")
        self.mask = mask

    def forward(self, x: Tensor) -> Tensor:
        return x * self.mask.to(device=x.device, dtype=_real_dtype(x))

    def adjoint(self, y: Tensor) -> Tensor:
        return y * self.mask.to(device=y.device, dtype=_real_dtype(y))

    def pinv(self, y: Tensor, iters: int = 50, tol: float = 1e-10) -> Tensor:
        return self.adjoint(y)


class Downsample(LinearOperator):
    """Super-resolution: average pooling by ``factor`` over the last two axes, ``(B, C, H, W) -> (B, C, H/f, W/f)``.

    ``A A^T = I / f^2``, hence ``A^+ y = f^2 A^T y`` = nearest-neighbour upsampling.
    """

    def __init__(self, factor: int) -> None:
        if int(factor) < 1:
            raise ValueError(f"Downsample: factor must be a positive integer, got {factor}")
        self.factor = int(factor)

    def forward(self, x: Tensor) -> Tensor:
        _check_image("Downsample", x)
        h, w = x.shape[-2:]
        if h % self.factor or w % self.factor:
            raise ValueError(f"Downsample: image size {(h, w)} is not divisible by the factor {self.factor}")
        lead = x.shape[:-2]
        out = F.avg_pool2d(x.reshape(-1, 1, h, w), self.factor)
        return out.reshape(*lead, h // self.factor, w // self.factor)

    def adjoint(self, y: Tensor) -> Tensor:
        f = self.factor
        return y.repeat_interleave(f, -2).repeat_interleave(f, -1) / f**2

    def pinv(self, y: Tensor, iters: int = 50, tol: float = 1e-10) -> Tensor:
        return self.adjoint(y) * self.factor**2


def gaussian_kernel(size: int, sigma: float) -> Tensor:
    """A normalised ``(size, size)`` Gaussian blur kernel of standard deviation ``sigma`` pixels."""
    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-0.5 * (r / sigma) ** 2)
    k = g[:, None] * g[None, :]
    return k / k.sum()


class Blur(LinearOperator):
    """Deblurring: circular convolution of each channel with ``kernel: (k, k)`` (centred), computed by FFT.

    In the Fourier domain ``A = F^-1 diag(K) F``, so ``A^T`` multiplies by ``conj(K)`` and
    ``A^+`` by ``conj(K) / |K|^2`` where ``|K| > rcond max|K|`` and by 0 elsewhere (truncated SVD).
    """

    def __init__(self, kernel: Tensor, rcond: float = 1e-3) -> None:
        if kernel.ndim != 2:
            raise ValueError(f"Blur: kernel must be (k, k), got shape {tuple(kernel.shape)}")
        self.kernel = kernel.to(torch.float64)
        self.rcond = rcond

    def _spectrum(self, h: int, w: int, device: torch.device) -> Tensor:
        kh, kw = self.kernel.shape
        if kh > h or kw > w:
            raise ValueError(f"Blur: kernel {(kh, kw)} is larger than the image {(h, w)}")
        pad = torch.zeros(h, w, dtype=torch.float64, device=device)
        pad[:kh, :kw] = self.kernel.to(device)
        pad = torch.roll(pad, shifts=(-(kh // 2), -(kw // 2)), dims=(0, 1))  # kernel centre at the origin
        return torch.fft.rfft2(pad)

    def _apply(self, x: Tensor, spectrum: Tensor) -> Tensor:
        _check_image("Blur", x)
        h, w = x.shape[-2:]
        out = torch.fft.irfft2(torch.fft.rfft2(x.to(torch.float64)) * spectrum, s=(h, w))
        return out.to(x.dtype)

    def forward(self, x: Tensor) -> Tensor:
        return self._apply(x, self._spectrum(x.shape[-2], x.shape[-1], x.device))

    def adjoint(self, y: Tensor) -> Tensor:
        return self._apply(y, self._spectrum(y.shape[-2], y.shape[-1], y.device).conj())

    def pinv(self, y: Tensor, iters: int = 50, tol: float = 1e-10) -> Tensor:
        k = self._spectrum(y.shape[-2], y.shape[-1], y.device)
        mag2 = k.abs().square()
        keep = k.abs() > self.rcond * float(k.abs().max())
        return self._apply(y, torch.where(keep, k.conj() / mag2.clamp_min(1e-300), torch.zeros_like(k)))


class MaskedFourier(LinearOperator):
    """Undersampled k-space (MRI): ``A x = m * FFT2(x)`` with the orthonormal 2-D FFT over the last two axes.

    ``x`` real (``complex_input=False``, magnitude images) or complex; ``y`` complex. The adjoint is
    ``IFFT2(m * y)`` (its real part for real ``x``). For complex ``x``, ``A A^H = m`` is a projection,
    so ``A^+ = A^H``; for real ``x`` the pseudo-inverse is computed by CGLS.
    """

    def __init__(self, mask: Tensor, complex_input: bool = False) -> None:
        if not bool(((mask == 0) | (mask == 1)).all()):
            raise ValueError("MaskedFourier: mask entries must be 0 or 1")
        self.mask = mask
        self.complex_input = complex_input

    def forward(self, x: Tensor) -> Tensor:
        _check_image("MaskedFourier", x, 2)
        if x.is_complex() != self.complex_input:
            raise ValueError(f"MaskedFourier: complex_input={self.complex_input} but x has dtype {x.dtype}")
        return torch.fft.fft2(x, norm="ortho") * self.mask.to(x.device)

    def adjoint(self, y: Tensor) -> Tensor:
        out = torch.fft.ifft2(y * self.mask.to(y.device), norm="ortho")
        return out if self.complex_input else out.real

    def pinv(self, y: Tensor, iters: int = 50, tol: float = 1e-10) -> Tensor:
        return self.adjoint(y) if self.complex_input else super().pinv(y, iters, tol)


class Radon(LinearOperator):
    """Parallel-beam Radon transform (CT) of ``(B, C, N, N)`` images, ``-> (B, C, n_angles, N)``.

    Line integrals of the bilinearly interpolated image over rays at unit spacing, stored as a
    sparse ``(n_angles N, N^2)`` matrix, so the adjoint (back-projection) is its exact transpose.
    The geometry is that of ``skimage.transform.radon(image, theta, circle=True)`` (centre ``N // 2``):

        p(theta, u) = sum_v f(row = c - u sin(theta) + v cos(theta), col = c + u cos(theta) + v sin(theta))

    with ``u, v = -c, ..., N - 1 - c``; the image should vanish outside the inscribed circle.

    Args:
        size: image side ``N``.
        angles: projection angles in degrees, ``(n_angles,)``.
    """

    def __init__(self, size: int, angles: Tensor) -> None:
        self.size = int(size)
        self.angles = torch.as_tensor(angles, dtype=torch.float64).reshape(-1)
        self.matrix = _radon_matrix(self.size, self.angles)
        self.matrix_t = self.matrix.t().coalesce()
        self._cache: dict[tuple[bool, torch.device, torch.dtype], Tensor] = {}

    def _sparse(self, transpose: bool, like: Tensor) -> Tensor:
        """The (transposed) matrix on ``like``'s device and dtype, converted once to CSR and cached (a CSR product
        is ~40x faster than a COO ``sparse.mm`` on the CPU, and differentiable in the dense operand)."""
        key = (transpose, like.device, like.dtype)
        if key not in self._cache:
            m = self.matrix_t if transpose else self.matrix
            with warnings.catch_warnings():  # torch flags every CSR construction as beta
                warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
                self._cache[key] = m.to(device=like.device, dtype=like.dtype).to_sparse_csr()
        return self._cache[key]

    def _flat(self, x: Tensor, rows: int) -> tuple[Tensor, tuple[int, ...]]:
        lead = x.shape[:-2]
        return x.reshape(-1, rows).T, lead

    def forward(self, x: Tensor) -> Tensor:
        n = self.size
        if x.ndim < 3 or x.shape[-2:] != (n, n):
            raise ValueError(f"Radon: x must be (B, C, {n}, {n}), got shape {tuple(x.shape)}")
        flat, lead = self._flat(x, n * n)
        out = self._sparse(False, x) @ flat
        return out.T.reshape(*lead, len(self.angles), n)

    def adjoint(self, y: Tensor) -> Tensor:
        n, k = self.size, len(self.angles)
        if y.ndim < 3 or y.shape[-2:] != (k, n):
            raise ValueError(f"Radon: sinogram must be (B, C, {k}, {n}), got shape {tuple(y.shape)}")
        flat, lead = self._flat(y, k * n)
        out = self._sparse(True, y) @ flat
        return out.T.reshape(*lead, n, n)


def _radon_matrix(n: int, angles_deg: Tensor) -> Tensor:
    """Sparse ``(n_angles * n, n * n)`` matrix of bilinear ray sums (see :class:`Radon`)."""
    c = n // 2
    theta = angles_deg * math.pi / 180.0
    u = torch.arange(n, dtype=torch.float64) - c
    v = torch.arange(n, dtype=torch.float64) - c
    cos, sin = theta.cos()[:, None, None], theta.sin()[:, None, None]
    row = c - u[None, :, None] * sin + v[None, None, :] * cos  # (A, U, V)
    col = c + u[None, :, None] * cos + v[None, None, :] * sin
    ray = torch.arange(len(theta) * n).reshape(len(theta), n, 1).expand_as(row)
    r0, c0 = row.floor(), col.floor()
    fr, fc = row - r0, col - c0
    rows, cols, vals = [], [], []
    for dr, dc, wgt in ((0, 0, (1 - fr) * (1 - fc)), (0, 1, (1 - fr) * fc), (1, 0, fr * (1 - fc)), (1, 1, fr * fc)):
        rr, cc = r0 + dr, c0 + dc
        ok = (rr >= 0) & (rr < n) & (cc >= 0) & (cc < n) & (wgt > 0)
        rows.append(ray[ok])
        cols.append((rr[ok] * n + cc[ok]).long())
        vals.append(wgt[ok])
    idx = torch.stack([torch.cat(rows), torch.cat(cols)])
    return torch.sparse_coo_tensor(idx, torch.cat(vals), (len(theta) * n, n * n), check_invariants=True).coalesce()
