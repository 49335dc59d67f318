"""The data-consistency projection lands on the measurements for every operator and leaves the null space alone."""

from __future__ import annotations

import pytest
import torch

from condiff.core.inverse import (
    DPS,
    Blur,
    DataConsistency,
    Downsample,
    Mask,
    MaskedFourier,
    Radon,
    gaussian_kernel,
    red_diff,
)
from condiff.core.processes import VPProcess

G = torch.Generator().manual_seed(0)
N = 8
OPERATORS = {
    "mask": Mask((torch.rand(1, 1, N, N, generator=G) > 0.5).double()),
    "downsample": Downsample(2),
    "blur": Blur(gaussian_kernel(3, 0.8), rcond=1e-8),
    "kspace": MaskedFourier((torch.rand(N, N, generator=G) > 0.5).double()),
    "radon": Radon(N, torch.tensor([0.0, 45.0, 90.0])),
}


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_projection_fits_measurements_and_is_idempotent(name: str) -> None:
    op = OPERATORS[name]
    x_true = torch.randn(2, 1, N, N, generator=G, dtype=torch.float64)
    y = op(x_true)
    dc = DataConsistency(lambda x, t: (x, x), VPProcess("linear"), op, y)
    guess = torch.randn(2, 1, N, N, generator=G, dtype=torch.float64)
    projected = dc.project(guess)
    torch.testing.assert_close(op(projected), y, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(dc.project(projected), projected, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="weight"):
        DataConsistency(lambda x, t: (x, x), VPProcess("linear"), op, y, weight=0.0)


def test_complex_kspace_measurements_flow_through_dps_and_red_diff() -> None:
    """Complex measurements are compared in their own dtype (no silent cast to real: warnings are errors)."""
    op, process = OPERATORS["kspace"], VPProcess("linear")
    x_true = torch.randn(2, 1, N, N, generator=G, dtype=torch.float64)
    y = op(x_true)

    def shrink(x: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c = process.coefficients64(t)
        x0 = 0.5 * x
        return x0, (x - c.a.reshape(-1, 1, 1, 1) * x0) / c.s.reshape(-1, 1, 1, 1)

    x0, eps = DPS(shrink, process, op, y, sigma=0.1)(x_true, torch.full((2,), 0.5, dtype=torch.float64))
    assert bool(torch.isfinite(x0).all())
    assert bool(torch.isfinite(eps).all())
    out = red_diff(shrink, process, op, y, steps=5, sigma=0.1, generator=torch.Generator().manual_seed(0))
    assert out.x.dtype == torch.float64
    assert bool(torch.isfinite(out.x).all())
