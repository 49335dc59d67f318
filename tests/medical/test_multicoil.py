"""Multi-coil MRI: fastMRI's raw multi-coil k-space read with its coil axis, the root-sum-of-squares image, and the
SENSE operator (adjoint identity, and the identity under full sampling with normalised coil maps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from condiff.core.errors import DataValidationError
from condiff.core.inverse import inner
from condiff.medical.data.builtin import mni_slices
from condiff.medical.multicoil import (
    SenseOperator,
    load_fastmri_kspace,
    root_sum_of_squares,
    synthetic_coil_maps,
    uncentred_kspace,
)


def _centred_kspace(x: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """fastMRI's centred k-space ``fftshift(fft2(ifftshift(S_c x)))``, ``x: (S, H, W)`` -> ``(S, C, H, W)``."""
    coil = x[:, None].to(torch.complex128) * maps
    shifted = torch.fft.ifftshift(coil, dim=(-2, -1))
    return torch.fft.fftshift(torch.fft.fft2(shifted, norm="ortho"), dim=(-2, -1))


def test_fastmri_multicoil_kspace_gives_the_root_sum_of_squares_image(tmp_path: Path) -> None:
    h5py = pytest.importorskip("h5py")  # the `fastmri` extra (installed in the workspace by condiff-rl)

    x = mni_slices(32, "heldout").images[5:7, 0].double()
    maps = synthetic_coil_maps(4, 32)
    torch.testing.assert_close(maps.abs().square().sum(0), torch.ones(32, 32, dtype=torch.float64))
    kspace = _centred_kspace(x, maps)
    with h5py.File(tmp_path / "file_brain_AXT1_1.h5", "w") as f:
        f["kspace"] = kspace.numpy().astype(np.complex64)
        f["reconstruction_rss"] = x.numpy().astype(np.float32)
    loaded = load_fastmri_kspace(tmp_path / "file_brain_AXT1_1.h5")
    assert loaded.shape == (2, 4, 32, 32)
    assert loaded.dtype == torch.complex64
    # sqrt(sum_c |S_c x|^2) = |x| for maps with sum_c |S_c|^2 = 1.
    torch.testing.assert_close(root_sum_of_squares(loaded).double(), x, atol=2e-6, rtol=0)
    # The uncentred k-space is what the SENSE operator measures of the same image.
    op = SenseOperator(maps, torch.ones(32))
    torch.testing.assert_close(uncentred_kspace(loaded), op(x[:, None]), atol=1e-5, rtol=0)
    with h5py.File(tmp_path / "singlecoil.h5", "w") as f:
        f["kspace"] = kspace[:, 0].numpy().astype(np.complex64)
    assert load_fastmri_kspace(tmp_path / "singlecoil.h5").shape == (2, 1, 32, 32)
    with h5py.File(tmp_path / "real.h5", "w") as f:
        f["kspace"] = np.ones((2, 4, 8, 8), np.float32)
    with pytest.raises(DataValidationError, match=r"real\.h5:kspace: expected complex values, got float32"):
        load_fastmri_kspace(tmp_path / "real.h5")
    with h5py.File(tmp_path / "norawdata.h5", "w") as f:
        f["reconstruction_rss"] = x.numpy().astype(np.float32)
    with pytest.raises(DataValidationError, match=r"norawdata\.h5: no kspace dataset"):
        load_fastmri_kspace(tmp_path / "norawdata.h5")


def test_sense_operator_adjoint_and_full_sampling() -> None:
    g = torch.Generator().manual_seed(0)
    maps = synthetic_coil_maps(6, 16)
    mask = (torch.rand(16, generator=g) < 0.4).double()
    op = SenseOperator(maps, mask)
    x = torch.randn(3, 1, 16, 16, generator=g, dtype=torch.float64)
    y = torch.randn(3, 6, 16, 16, generator=g, dtype=torch.complex128) * mask
    torch.testing.assert_close(inner(op(x), y), inner(x, op.adjoint(y)))  # <A x, y> = <x, A^H y>
    full = SenseOperator(maps, torch.ones(16))
    torch.testing.assert_close(full.adjoint(full(x)), x)  # A^H A = sum_c |S_c|^2 = I
    y = op(x)
    rel = (op(op.pinv(y)) - y).abs().norm() / y.abs().norm()
    assert rel < 1e-6, rel  # A A^+ y = y: CGLS, 200 iterations (observed 5e-10; 1.6e-3 after 50)
    with pytest.raises(ValueError, match="SenseOperator: x must be"):
        op(torch.zeros(1, 2, 16, 16))
