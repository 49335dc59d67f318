"""Linear operators: adjoint identity, pseudo-inverse against the dense one, Radon against scikit-image."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.transform import radon as sk_radon

from condiff.core.inverse import (
    Blur,
    Downsample,
    LinearOperator,
    Mask,
    MaskedFourier,
    MatrixOperator,
    Radon,
    gaussian_kernel,
    inner,
)

G = torch.Generator().manual_seed(0)
N = 8


def _operators() -> dict[str, tuple[LinearOperator, tuple[int, ...], torch.dtype]]:
    mask = (torch.rand(1, 1, N, N, generator=G) > 0.5).double()
    kmask = (torch.rand(N, N, generator=G) > 0.6).double()
    return {
        "matrix": (MatrixOperator(torch.randn(5, 7, generator=G, dtype=torch.float64)), (3, 7), torch.float64),
        "mask": (Mask(mask), (2, 3, N, N), torch.float64),
        "blur": (Blur(gaussian_kernel(5, 1.0), rcond=1e-10), (2, 3, N, N), torch.float64),
        "downsample": (Downsample(4), (2, 3, N, N), torch.float64),
        "fourier_real": (MaskedFourier(kmask), (2, 1, N, N), torch.float64),
        "fourier_complex": (MaskedFourier(kmask, complex_input=True), (2, 1, N, N), torch.complex128),
        "radon": (Radon(N, torch.linspace(0, 180, 7)[:-1]), (2, 1, N, N), torch.float64),
    }


OPS = _operators()


@pytest.mark.parametrize("name", sorted(OPS))
def test_adjoint_identity(name: str) -> None:
    op, shape, dtype = OPS[name]
    x = torch.randn(shape, generator=G, dtype=dtype)
    ax = op(x)
    y = torch.randn(ax.shape, generator=G, dtype=ax.dtype)
    torch.testing.assert_close(inner(ax, y), inner(x, op.adjoint(y)), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", sorted(n for n in OPS if not OPS[n][2].is_complex))
def test_autograd_gradient_is_the_adjoint(name: str) -> None:
    op, shape, dtype = OPS[name]
    x = torch.randn(shape, generator=G, dtype=dtype, requires_grad=True)
    y = torch.randn(op(x).shape, generator=G, dtype=op(x).dtype)
    (grad,) = torch.autograd.grad(inner(op(x), y).sum(), x)
    torch.testing.assert_close(grad, op.adjoint(y), rtol=1e-10, atol=1e-10)


def _dense(op: LinearOperator, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """The operator's matrix on one sample (columns = images of basis vectors), real view of complex outputs."""
    d = int(np.prod(shape[1:]))
    basis = torch.eye(d, dtype=dtype).reshape(d, *shape[1:])
    cols = op(basis).reshape(d, -1)
    if cols.is_complex():
        cols = torch.cat([cols.real, cols.imag], 1)
    return cols.T


@pytest.mark.parametrize("name", ["matrix", "mask", "blur", "downsample", "fourier_real", "radon"])
def test_pinv_matches_the_dense_pseudo_inverse(name: str) -> None:
    op, shape, dtype = OPS[name]
    shape = (1, *shape[1:])
    y = op(torch.randn(shape, generator=G, dtype=dtype)) + 0.1 * _noise_like(op(torch.zeros(shape, dtype=dtype)))
    dense = _dense(op, shape, dtype)
    yv = torch.cat([y.real.reshape(-1), y.imag.reshape(-1)]) if y.is_complex() else y.reshape(-1)
    want = torch.linalg.pinv(dense) @ yv
    got = op.pinv(y, iters=500).reshape(-1)
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)


def _noise_like(y: torch.Tensor) -> torch.Tensor:
    if y.is_complex():
        return torch.complex(torch.randn(y.shape, generator=G, dtype=torch.float64),
                             torch.randn(y.shape, generator=G, dtype=torch.float64))  # fmt: skip
    return torch.randn(y.shape, generator=G, dtype=y.dtype)


def test_complex_fourier_pinv_is_the_adjoint_and_recovers_observed_kspace() -> None:
    op, shape, dtype = OPS["fourier_complex"]
    x = torch.randn(shape, generator=G, dtype=dtype)
    torch.testing.assert_close(op(op.pinv(op(x))), op(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("size", [16, 33])
def test_radon_matches_scikit_image(size: int) -> None:
    yy, xx = np.mgrid[:size, :size]
    c = size // 2
    img = np.exp(-((yy - 0.4 * size) ** 2 + (xx - 0.6 * size) ** 2) / 10.0) + (np.abs(yy - c) + np.abs(xx - c) < 3)
    img[(yy - c) ** 2 + (xx - c) ** 2 > (c - 1) ** 2] = 0.0
    theta = np.linspace(0.0, 180.0, 13, endpoint=False)
    ref = sk_radon(img, theta=theta, circle=True)  # (N, n_angles)
    ours = Radon(size, torch.tensor(theta))(torch.tensor(img)[None, None])[0, 0].numpy().T
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-10 * np.abs(ref).max())


def test_bad_inputs_name_the_problem() -> None:
    with pytest.raises(ValueError, match="not divisible"):
        Downsample(3)(torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="Radon: x must be"):
        Radon(8, torch.tensor([0.0, 90.0]))(torch.zeros(1, 1, 8, 9))
    with pytest.raises(ValueError, match="0 or 1"):
        Mask(torch.full((4,), 0.5))
    with pytest.raises(ValueError, match="complex_input"):
        MaskedFourier(torch.ones(4, 4))(torch.zeros(1, 4, 4, dtype=torch.complex64))
    with pytest.raises(ValueError, match="MatrixOperator"):
        MatrixOperator(torch.zeros(2, 3))(torch.zeros(4, 2))
