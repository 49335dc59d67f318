"""Accelerated MRI on held-out MNI152 slices: the conditional model beats zero-filling, and the unconditional
prior with data consistency keeps the measured k-space while filling in the rest."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from condiff.core.sampling import ModelDenoiser, sample
from condiff.medical.data import KspaceUndersampling, SparseViewCT
from condiff.medical.data.builtin import disk_mask, mni_slices
from condiff.medical.inverse import kspace_operator, radon_operator, reconstruct, sense_operator
from condiff.medical.metrics import nmse, psnr
from condiff.medical.multicoil import synthetic_coil_maps
from tests.medical.helpers import train_tiny


@pytest.fixture(scope="module")
def conditional(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return train_tiny(tmp_path_factory.mktemp("kspace4x"), "mri_kspace_4x", 200)


@pytest.fixture(scope="module")
def prior(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return train_tiny(tmp_path_factory.mktemp("prior"), "mri_prior", 200)


def _measure(acceleration: int, mask: str, n: int = 8) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Held-out slices, their masks, measured k-space and zero-filled magnitudes."""
    x = mni_slices(32, "heldout").images[torch.linspace(0, 29, n).round().long()]
    deg = KspaceUndersampling(acceleration, mask)
    g = torch.Generator().manual_seed(1)
    pairs = [deg.measure(xi, g) for xi in x]
    kspace = torch.stack([k for k, _ in pairs])
    masks = torch.stack([m for _, m in pairs])[:, None, None, :]
    zero_filled = torch.fft.ifft2(kspace, norm="ortho").abs().float()
    return x, masks, kspace, zero_filled


@pytest.mark.slow
def test_conditional_model_beats_zero_filling_at_4x(conditional: dict[str, Any]) -> None:
    m = conditional["metrics"]
    # 16 held-out slices, 4x equispaced; zero-filled ~17.9 dB. Observed after 200 steps: ~19.8 dB, NMSE 0.059 vs 0.084.
    assert m["val/psnr"] > m["val/input_psnr"] + 1.0, m
    assert m["val/nmse"] < 0.85 * m["val/input_nmse"], m


def _reconstruct(prior: dict[str, Any], masks: torch.Tensor, kspace: torch.Tensor, shape: tuple[int, ...],
                 method: str, steps: int = 20, **options: Any) -> tuple[torch.Tensor, Any]:  # fmt: skip
    module = prior["module"]
    op = kspace_operator(masks)
    u = reconstruct(module.ema_network, module.process, module.parameterization, op, kspace, shape, method=method,
                    steps=steps, generator=torch.Generator().manual_seed(0), **options)  # fmt: skip
    return u, op


@pytest.mark.slow
def test_prior_with_data_consistency_keeps_the_measured_kspace_and_beats_zero_filling(prior: dict[str, Any]) -> None:
    """4x random mask, 8 held-out slices: ||A u - y|| / ||y|| < 1e-3 (observed 1.8e-8), and the filled-in
    frequencies are better than zeros: > 2 dB over zero-filling (observed 21.8 vs 17.7 dB)."""
    x, masks, kspace, zero_filled = _measure(4, "random")
    u, op = _reconstruct(prior, masks, kspace, tuple(x.shape), "dc")
    rel = (op(u.double()) - kspace).abs().norm() / kspace.abs().norm()
    assert rel < 1e-3, rel
    base, ours = psnr(zero_filled, x).mean(), psnr(u, x).mean()
    assert ours > base + 2.0, (ours, base)
    assert nmse(u, x).mean() < nmse(zero_filled, x).mean()


@pytest.mark.slow
def test_red_diff_with_the_prior_beats_zero_filling(prior: dict[str, Any]) -> None:
    """4x equispaced: RED-Diff (20 steps, sigma 0.1) > zero-filled + 1 dB (observed 21.1 vs 18.4 dB)."""
    x, masks, kspace, zero_filled = _measure(4, "equispaced")
    u, _ = _reconstruct(prior, masks, kspace, tuple(x.shape), "red-diff", sigma=0.1)
    base, ours = psnr(zero_filled, x).mean(), psnr(u, x).mean()
    assert ours > base + 1.0, (ours, base)


@pytest.mark.slow
def test_dps_with_the_prior_beats_zero_filling_and_pulls_toward_the_measurement(prior: dict[str, Any]) -> None:
    """4x equispaced, DPS (PiGDM variance, 20 steps from 0.9 T): > zero-filled + 1 dB (observed 20.0 vs 18.4 dB),
    and its k-space residual is less than half that of an unguided sample from the same noise (observed 4.9 vs
    18.5)."""
    x, masks, kspace, zero_filled = _measure(4, "equispaced")
    u, op = _reconstruct(prior, masks, kspace, tuple(x.shape), "dps", sigma=0.05)
    assert psnr(u, x).mean() > psnr(zero_filled, x).mean() + 1.0
    module = prior["module"]
    with torch.no_grad():
        free = sample(ModelDenoiser(module.ema_network, module.process, module.parameterization), module.process,
                      shape=tuple(x.shape), steps=20, method="ddim", schedule="uniform",
                      generator=torch.Generator().manual_seed(0)).x  # fmt: skip
    guided = (op(u.double()) - kspace).abs().norm()
    unguided = (op(((free + 1) / 2).double()) - kspace).abs().norm()
    assert guided < 0.5 * unguided, (guided, unguided)


@pytest.mark.slow
def test_sparse_view_ct_with_the_prior_over_the_radon_operator(prior: dict[str, Any]) -> None:
    """8 views of held-out slices (inside the reconstruction circle): data consistency over the core's Radon
    operator matches the sinogram (relative residual < 1e-2) and beats filtered back-projection in PSNR."""
    x = mni_slices(32, "heldout").images[torch.linspace(0, 29, 4).round().long()] * disk_mask(32)
    views = SparseViewCT(8)
    op = radon_operator(32, views.angles())
    sino = op(x.double())
    module = prior["module"]
    u = reconstruct(module.ema_network, module.process, module.parameterization, op, sino, tuple(x.shape),
                    method="dc", steps=10, generator=torch.Generator().manual_seed(0))  # fmt: skip
    rel = (op(u.double()) - sino).norm() / sino.norm()
    assert rel < 1e-2, rel
    fbp = torch.stack([views(xi, torch.Generator()) for xi in x])
    print("sparse view", float(psnr(u * disk_mask(32), x).mean()), float(psnr(fbp, x).mean()), float(rel))
    assert psnr(u * disk_mask(32), x).mean() > psnr(fbp, x).mean()


@pytest.mark.slow
def test_prior_with_data_consistency_over_the_sense_operator_beats_multicoil_zero_filling(
    prior: dict[str, Any],
) -> None:
    """2 synthetic coils, 8x equispaced columns shared by the coils (fewer measurements than unknowns), 8 held-out
    slices: data consistency over the SENSE operator (10 steps) keeps every coil's measured k-space (relative
    residual < 1e-3, observed 2e-8), beats the root-sum-of-squares of the zero-filled coil images by > 2 dB and
    the prior-free minimum-norm CG-SENSE image by > 1 dB (observed 25.0 vs 11.6 and 21.2 dB). With 4 coils at 4x
    the system is determined and CG-SENSE alone is exact (73 dB): no test of a prior."""
    x, masks, _, _ = _measure(8, "equispaced")
    maps = synthetic_coil_maps(2, 32)
    op = sense_operator(maps, masks)
    kspace = op(x.double())
    zero_filled = torch.fft.ifft2(kspace, norm="ortho").abs().square().sum(1, keepdim=True).sqrt().float()
    module = prior["module"]
    u = reconstruct(module.ema_network, module.process, module.parameterization, op, kspace, tuple(x.shape),
                    method="dc", steps=10, generator=torch.Generator().manual_seed(0))  # fmt: skip
    rel = (op(u.double()) - kspace).abs().norm() / kspace.abs().norm()
    base, ours = psnr(zero_filled, x).mean(), psnr(u, x).mean()
    cg_sense = psnr(op.pinv(kspace).float(), x).mean()  # the minimum-norm least-squares image, no prior
    assert rel < 1e-3, rel
    assert ours > base + 2.0, (ours, base)
    assert ours > cg_sense + 1.0, (ours, cg_sense)
