"""The torch DWT against PyWavelets: coefficients, exact reconstruction, gradients, packing, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import pywt
import torch

from condiff.pde.wavelets import dwtn, filter_bank, idwtn, max_level, pack, unpack, wavedecn, waverecn

WAVELETS = ["db1", "db2", "db3", "db4", "sym4", "coif1", "bior2.2", "bior3.5"]
MODES = ["periodization", "zero"]
SHAPES = [(16,), (13,), (8, 12), (9, 8), (6, 8, 7)]


def _pywt_wavedecn(x: np.ndarray, name: str, level: int, mode: str, nd: int) -> list:
    with warnings.catch_warnings():  # pywt warns when a level is deep for a short filter; our shapes are small
        warnings.simplefilter("ignore", UserWarning)
        return pywt.wavedecn(x, name, mode=mode, level=level, axes=tuple(range(x.ndim - nd, x.ndim)))


@pytest.mark.parametrize("name", WAVELETS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", SHAPES)
def test_wavedecn_matches_pywavelets_and_reconstructs_exactly(name: str, mode: str, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, *shape))
    nd = len(shape)
    ref = _pywt_wavedecn(x, name, 2, mode, nd)
    coeffs = wavedecn(torch.from_numpy(x), name, 2, mode, nd)
    np.testing.assert_allclose(coeffs.approx.numpy(), ref[0], atol=1e-12)
    for ours, theirs in zip(coeffs.details, ref[1:], strict=True):
        assert set(ours) == set(theirs)
        for key in theirs:
            np.testing.assert_allclose(ours[key].numpy(), theirs[key], atol=1e-12)
    # pywt stores some filters (sym, coif) to ~1e-12, which bounds the reconstruction of both libraries
    np.testing.assert_allclose(waverecn(coeffs).numpy(), x, atol=1e-10)


@pytest.mark.parametrize("mode", MODES)
def test_single_level_matches_pywt_dwt_in_float32(mode: str) -> None:
    x = np.random.default_rng(1).normal(size=(4, 21)).astype(np.float32)
    bands = dwtn(torch.from_numpy(x), "db3", mode)
    ca, cd = pywt.dwt(x, "db3", mode=mode, axis=-1)
    np.testing.assert_allclose(bands["a"].numpy(), ca, atol=1e-5)
    np.testing.assert_allclose(bands["d"].numpy(), cd, atol=1e-5)
    back = idwtn(bands, "db3", mode)[..., :21]
    np.testing.assert_allclose(back.numpy(), pywt.idwt(ca, cd, "db3", mode=mode)[..., :21], atol=1e-5)
    np.testing.assert_allclose(back.numpy(), x, atol=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_transforms_are_differentiable(mode: str) -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, 4, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    # fast mode compares random vector-Jacobian products with finite differences: the full Jacobian of
    # these small compositions costs minutes of thread hand-offs on a loaded 2-core machine
    assert torch.autograd.gradcheck(lambda v: dwtn(v, "bior2.2", mode, ndim=2)["ad"], (x,), fast_mode=True)
    assert torch.autograd.gradcheck(lambda v: waverecn(wavedecn(v, "db2", 2, mode, ndim=2)), (x,), fast_mode=True)
    bands = {
        k: torch.randn(1, 2, 2, dtype=torch.float64, generator=gen, requires_grad=True)
        for k in ("aa", "ad", "da", "dd")
    }
    assert torch.autograd.gradcheck(
        lambda *b: idwtn(dict(zip(bands, b, strict=True)), "db2", mode, ndim=2), tuple(bands.values()), fast_mode=True
    )


def test_orthogonal_periodized_transform_preserves_energy() -> None:
    x = torch.randn(3, 1, 32, dtype=torch.float64)
    packed = pack(wavedecn(x, "db4", 3, "periodization"))
    torch.testing.assert_close(packed.square().sum(), x.square().sum())


@pytest.mark.parametrize(("nd", "shape", "level"), [(1, (32,), 3), (2, (16, 8), 2), (3, (8, 8, 4), 1)])
def test_pack_is_a_permutation_and_unpacks_exactly(nd: int, shape: tuple[int, ...], level: int) -> None:
    x = torch.randn(2, 3, *shape, dtype=torch.float64)
    coeffs = wavedecn(x, "db2", level, "periodization", nd)
    packed = pack(coeffs)
    assert packed.shape == (2, 3 * 2 ** (nd * level), *(n // 2**level for n in shape))
    flat = torch.cat([coeffs.approx.flatten()] + [b.flatten() for lvl in coeffs.details for b in lvl.values()])
    torch.testing.assert_close(packed.flatten().sort().values, flat.sort().values)
    back = unpack(packed, 3, level, "db2", "periodization", nd)
    assert back.shapes == unpack(packed, 3, level, "db2", "periodization", nd, signal_shape=shape).shapes
    torch.testing.assert_close(waverecn(back), x)
    torch.testing.assert_close(pack(back), packed)


def test_max_level_matches_pywavelets() -> None:
    for name in ("db1", "db4", "bior3.5"):
        for n in (1, 7, 16, 100, 1024):
            assert max_level(n, name) == pywt.dwt_max_level(n, pywt.Wavelet(name).dec_len)


def test_bad_inputs_get_clear_errors() -> None:
    x = torch.randn(2, 1, 16)
    with pytest.raises(ValueError, match="unknown discrete wavelet 'db99'"):
        filter_bank("db99")
    with pytest.raises(ValueError, match="unknown wavelet mode 'symmetric'"):
        dwtn(x, "db2", "symmetric")
    with pytest.raises(ValueError, match="ndim must be 1, 2 or 3"):
        dwtn(x, "db2", ndim=4)
    with pytest.raises(ValueError, match="fewer than the 3 transformed axes"):
        dwtn(torch.randn(4, 4), "db2", ndim=3)
    with pytest.raises(ValueError, match="floating-point"):
        dwtn(torch.ones(2, 8, dtype=torch.long), "db2")
    with pytest.raises(ValueError, match="level must be a positive integer"):
        wavedecn(x, "db2", 0)
    with pytest.raises(ValueError, match="too deep"):
        wavedecn(x, "db2", 6)
    with pytest.raises(ValueError, match="needs sizes divisible"):
        pack(wavedecn(torch.randn(1, 1, 12), "db2", 3))
    with pytest.raises(ValueError, match="expected 2 \\* 2\\*\\*\\(1\\*2\\) = 8"):
        unpack(torch.randn(1, 6, 4), 2, 2, "db2")
    with pytest.raises(ValueError, match="subband keys"):
        idwtn({"a": torch.randn(1, 4)}, "db2")
    with pytest.raises(ValueError, match="one shape"):
        idwtn({"a": torch.randn(1, 4), "d": torch.randn(1, 5)}, "db2")


@pytest.mark.parametrize("name", ["db3", "bior2.2"])
def test_single_level_zero_mode_packs_any_length(name: str) -> None:
    x = torch.randn(2, 1, 13, 10, dtype=torch.float64)
    coeffs = wavedecn(x, name, 1, "zero", ndim=2)
    packed = pack(coeffs)
    length = len(pywt.Wavelet(name).dec_lo)
    assert packed.shape == (2, 4, (13 + length - 1) // 2, (10 + length - 1) // 2)
    back = unpack(packed, 1, 1, name, "zero", ndim=2, signal_shape=(13, 10))
    torch.testing.assert_close(waverecn(back), x)
    with pytest.raises(ValueError, match="decomposes to"):
        unpack(packed, 1, 1, name, "zero", ndim=2, signal_shape=(20, 10))
