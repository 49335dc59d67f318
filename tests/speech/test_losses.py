"""The Schrödinger-bridge data-prediction loss with its time-domain L1 term."""

from __future__ import annotations

import pytest
import torch

from condiff.core.processes import SBVEProcess
from condiff.speech.frontend import make_front_end
from condiff.speech.losses import SpectralDataPredictionLoss


def test_loss_matches_its_formula_and_vanishes_at_the_target() -> None:
    fe = make_front_end(None)
    g = torch.Generator().manual_seed(0)
    x0 = fe.analyze(torch.randn(2, fe.segment_length(64), generator=g) * 0.1)
    y = x0 + 0.05 * torch.randn(x0.shape, generator=g)
    eps = torch.randn(x0.shape, generator=g)
    t = torch.tensor([0.3, 0.7])
    p = SBVEProcess()
    loss = SpectralDataPredictionLoss(fe, l1_weight=0.5)
    assert torch.allclose(loss(p, "x0", x0, x0, eps, t, y), torch.zeros(2), atol=1e-7)
    out = x0 + 0.1 * torch.randn(x0.shape, generator=g)
    length = fe.segment_length(64)
    spectral = 0.5 * ((out - x0) ** 2).sum(1).mean((1, 2))
    l1 = 0.5 * (fe.synthesize(out, length) - fe.synthesize(x0, length)).abs().mean(-1)
    assert torch.allclose(loss(p, "x0", out, x0, eps, t, y), spectral + 0.5 * l1, rtol=1e-5)
    assert torch.allclose(SpectralDataPredictionLoss(fe, 0.0)(p, "x0", out, x0, eps, t, y), spectral, rtol=1e-5)
    with pytest.raises(ValueError, match="l1_weight"):
        SpectralDataPredictionLoss(fe, -1.0)
