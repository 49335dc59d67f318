"""Built-in data and degradations: disjoint held-out slices, determinism, the physics of each degradation."""

from __future__ import annotations

import math

import pytest
import torch

from condiff.core.errors import DataValidationError
from condiff.core.inverse import MaskedFourier
from condiff.medical.data import KspaceUndersampling, LowDoseCT, MedicalDataModule, RicianNoise, SparseViewCT
from condiff.medical.data.builtin import (
    MNI_AXIAL,
    disk_mask,
    heldout_axial_slices,
    mni_patches_3d,
    mni_slices,
    phantom_slices,
    shepp_logan,
)
from condiff.medical.data.ct import parallel_beam


def _g(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_held_out_slices_are_disjoint_from_training_with_a_gap() -> None:
    train, held = heldout_axial_slices(*MNI_AXIAL)
    assert held
    assert train
    assert min(abs(a - b) for a in train for b in held) >= 3  # 2 unused slices on each side of a held-out block
    assert held[0] > MNI_AXIAL[0]
    assert held[-1] < MNI_AXIAL[1]
    s = mni_slices(32, "heldout")
    assert s.images.shape == (len(held), 1, 32, 32)
    assert s.labels is not None
    assert float(s.images.min()) >= 0
    assert float(s.images.max()) <= 1
    assert set(s.labels.unique().tolist()) == {0.0, 1.0}


def test_phantoms_vanish_outside_the_circle_and_shepp_logan_is_held_out() -> None:
    train, held = phantom_slices(32, "train", 8), phantom_slices(32, "heldout", 4)
    for x in (train.images, held.images):
        assert float(x[..., ~disk_mask(32)].abs().max()) == 0.0
    torch.testing.assert_close(held.images[0], shepp_logan(32))
    assert not any(torch.equal(held.images[0], t) for t in train.images)


def test_degradations_are_deterministic_given_the_generator() -> None:
    x = mni_slices(32, "heldout").images[5]
    for deg in (RicianNoise(0.1), KspaceUndersampling(8, "random"), LowDoseCT(1000.0)):
        xin = x * disk_mask(32) if isinstance(deg, LowDoseCT) else x
        torch.testing.assert_close(deg(xin, _g(3)), deg(xin, _g(3)))
        assert not torch.equal(deg(xin, _g(3)), deg(xin, _g(4)))


def test_rician_noise_has_the_rayleigh_mean_on_zero_signal() -> None:
    y = RicianNoise(0.1)(torch.zeros(1, 256, 256), _g())
    assert float(y.mean()) == pytest.approx(0.1 * math.sqrt(math.pi / 2), rel=0.02)  # Rayleigh: sigma sqrt(pi/2)


@pytest.mark.parametrize(("acceleration", "mask"), [(4, "equispaced"), (8, "equispaced"), (4, "random"), (8, "random")])
def test_kspace_masks_follow_fastmri_and_the_zero_filled_image_is_monai_s(acceleration: int, mask: str) -> None:
    from monai.apps.reconstruction.transforms.array import EquispacedKspaceMask, RandomKspaceMask
    from monai.data.fft_utils import fftn_centered

    deg = KspaceUndersampling(acceleration, mask)
    x = mni_slices(32, "heldout").images[10]
    masks = torch.stack([deg.sample_mask(64, _g(i)) for i in range(200)])
    low = round(64 * (0.08 if acceleration == 4 else 0.04))
    pad = (64 - low + 1) // 2
    assert bool(torch.fft.fftshift(masks, dim=-1)[:, pad : pad + low].all())  # the low frequencies, always
    assert bool(masks[:, 0].all())  # DC among them
    assert float(masks.mean()) == pytest.approx(1 / acceleration, rel=0.15)
    # The zero-filled image equals MONAI's own (centred FFT, its mask transform) for the same seed.
    cls = EquispacedKspaceMask if mask == "equispaced" else RandomKspaceMask
    g = _g(7)
    ours = deg(x, g)
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=_g(7)))
    monai = cls([deg.center_fraction], [acceleration], spatial_dims=2, is_complex=True)
    monai.set_random_state(seed=seed)
    ksp = fftn_centered(torch.stack([x, torch.zeros_like(x)], -1), spatial_dims=2, is_complex=True)
    _, zero_filled = monai(ksp)
    torch.testing.assert_close(ours[0], zero_filled.float().reshape(32, 32), atol=1e-5, rtol=1e-5)
    # ... and the core operator's adjoint applied to the measurement.
    kspace, m = deg.measure(x, _g(7))
    op = MaskedFourier(m, complex_input=True)
    torch.testing.assert_close(op.adjoint(kspace).abs().float(), ours, atol=1e-5, rtol=1e-5)


def test_low_dose_ct_noise_falls_with_the_dose_and_sparse_view_needs_the_circle() -> None:
    x = phantom_slices(32, "heldout", 4).images[1]
    clean_fbp = LowDoseCT(1e12)(x, _g())
    err = [float((LowDoseCT(p)(x, _g()) - clean_fbp).square().mean()) for p in (100.0, 1000.0, 10000.0)]
    assert err[0] > 3 * err[1] > 9 * err[2]  # Poisson noise: variance ~ 1 / dose
    assert float((SparseViewCT(8)(x, _g()) - x).square().mean()) > float(
        (SparseViewCT(64)(x, _g()) - x).square().mean()
    )
    with pytest.raises(DataValidationError, match="vanish outside the inscribed circle"):
        SparseViewCT(8)(torch.ones(1, 32, 32), _g())


def test_batched_radon_and_fbp_match_scikit_image() -> None:
    """The torch Radon transform is scikit-image's (to 1e-12); FBP differs only by the back-projection's
    interpolation: inside the circle, relative L2 difference observed 0.023 at 48 views, 0.039-0.048 at 8."""
    from skimage.transform import iradon, radon

    x = phantom_slices(32, "heldout", 4).images[1:4, 0].double()
    inside = disk_mask(32)
    for views, tol in ((48, 0.035), (8, 0.07)):
        ct = parallel_beam(32, views)
        theta = torch.linspace(0.0, 180.0, views + 1, dtype=torch.float64)[:-1].numpy()
        sino = torch.stack([torch.from_numpy(radon(xi.numpy(), theta, circle=True)).T for xi in x])
        torch.testing.assert_close(ct.radon(x), sino, atol=1e-12, rtol=0)
        ref = torch.stack([torch.from_numpy(iradon(s.T.numpy(), theta, output_size=32, filter_name="ramp",
                                                   circle=True)) for s in sino]) * inside  # fmt: skip
        ours = ct.fbp(sino) * inside
        assert float((ours - ref).norm() / ref.norm()) < tol, views
    # Batched: one call on a batch is the per-image calls stacked.
    torch.testing.assert_close(ct.fbp(ct.radon(x)), torch.stack([ct.fbp(ct.radon(xi)) for xi in x]))


BATCH_CASES = [
    ("restore", "mni", "rician"),
    ("segment", "mni", None),
    ("prior", "mni", None),
    ("restore", "phantom", "sparse_view_ct"),
    ("restore", "mni3d", "rician"),
]


@pytest.mark.parametrize(("task", "source", "degradation"), BATCH_CASES)
def test_datamodule_batches(task: str, source: str, degradation: str | None) -> None:
    size = 16 if source == "mni3d" else 32
    dm = MedicalDataModule(task, source, degradation, size=size, batch_size=4, train_length=8, val_items=3)
    batch = next(iter(dm.train_dataloader()))
    spatial = (size,) * (3 if source == "mni3d" else 2)
    assert batch["x0"].shape == (4, 1, *spatial)
    assert float(batch["x0"].min()) >= -1
    assert float(batch["x0"].max()) <= 1
    assert ("y" in batch) == (task == "restore")
    assert ("cond" in batch) == (task != "prior")
    held = list(dm.sampling_batches(3, 2))
    assert [b["reference"].shape[0] for b in held] == [2, 1]
    again = list(MedicalDataModule(task, source, degradation, size=size, val_items=3).sampling_batches(3, 3))
    torch.testing.assert_close(torch.cat([b["reference"] for b in held]), again[0]["reference"])
    if task == "segment":
        assert set(batch["x0"].unique().tolist()) <= {-1.0, 1.0}


def test_3d_patches_come_from_disjoint_axial_halves() -> None:
    train, held = mni_patches_3d(16, 4, "train"), mni_patches_3d(16, 4, "heldout")
    assert train.images.shape[1:] == (1, 16, 16, 16)
    assert len(held.images) > 0
