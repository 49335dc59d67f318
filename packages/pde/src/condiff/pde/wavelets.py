"""Differentiable N-D discrete wavelet transform (separable, multilevel) matching PyWavelets.

One level along one axis, with analysis filters ``h`` (low) and ``g`` (high) of even length ``L``
(Mallat 1989; PyWavelets' ``dwt``):

    cA[i] = sum_k h[k] x[2i + 1 - k],    cD[i] = sum_k g[k] x[2i + 1 - k]

where ``x`` is zero outside ``[0, N)`` (mode ``"zero"``, output length ``floor((N + L - 1) / 2)``), or
(mode ``"periodization"``, output length ``N / 2``) PyWavelets' shifted periodic form
``cA[i] = sum_k h[k] x[(2i + L/2 - k) mod N]``, an odd ``N`` first extended by repeating its last sample.
The inverse is the transposed (upsample-and-filter) operation with the synthesis filters.
An N-D level applies the 1-D level along each of the last ``ndim`` axes; subbands are keyed like
``pywt.dwtn`` (``"ad"``: approximation along the first axis, detail along the second).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor

MODES = ("zero", "periodization")


@dataclass(frozen=True)
class FilterBank:
    """Analysis (``dec_*``) and synthesis (``rec_*``) filters of a wavelet, as PyWavelets stores them."""

    name: str
    dec_lo: tuple[float, ...]
    dec_hi: tuple[float, ...]
    rec_lo: tuple[float, ...]
    rec_hi: tuple[float, ...]

    @property
    def length(self) -> int:
        return len(self.dec_lo)


@lru_cache(maxsize=64)
def filter_bank(name: str) -> FilterBank:
    """The filter bank of PyWavelets' discrete wavelet ``name`` (``"db2"``, ``"sym4"``, ``"bior2.2"``, ...)."""
    import pywt

    if not isinstance(name, str) or name not in pywt.wavelist(kind="discrete"):
        raise ValueError(f"unknown discrete wavelet {name!r}; expected one of pywt.wavelist(kind='discrete')")
    w = pywt.Wavelet(name)
    return FilterBank(name, tuple(w.dec_lo), tuple(w.dec_hi), tuple(w.rec_lo), tuple(w.rec_hi))


def _bank(wavelet: str | FilterBank) -> FilterBank:
    return wavelet if isinstance(wavelet, FilterBank) else filter_bank(wavelet)


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown wavelet mode {mode!r}; expected one of {MODES}")


def _check_input(x: Tensor, ndim: int) -> None:
    if ndim not in (1, 2, 3):
        raise ValueError(f"ndim must be 1, 2 or 3, got {ndim}")
    if x.dim() < ndim:
        raise ValueError(f"input has {x.dim()} dimensions, fewer than the {ndim} transformed axes")
    if not x.is_floating_point():
        raise ValueError(f"input must be a floating-point tensor, got {x.dtype}")
    if any(n == 0 for n in x.shape[-ndim:]):
        raise ValueError(f"transformed axes must be non-empty, got shape {tuple(x.shape)}")


def dwt_length(n: int, filter_length: int, mode: str) -> int:
    """Number of coefficients of one level on ``n`` samples (``pywt.dwt_coeff_len``)."""
    _check_mode(mode)
    return (n + 1) // 2 if mode == "periodization" else (n + filter_length - 1) // 2


def _filters(values: tuple[float, ...], like: Tensor) -> Tensor:
    return torch.tensor(values, dtype=like.dtype, device=like.device)


def _periodic_index(n: int, left: int, right: int, device: torch.device) -> Tensor:
    return torch.arange(-left, n + right, device=device) % n


def _analysis_1d(x: Tensor, lo: Tensor, hi: Tensor, mode: str) -> tuple[Tensor, Tensor]:
    """One level along the last axis of ``x: (..., N)`` -> ``(cA, cD)``, each ``(..., M)``."""
    lead, n = x.shape[:-1], x.shape[-1]
    length = lo.numel()
    flat = x.reshape(-1, 1, n)
    if mode == "periodization":
        if n % 2:  # PyWavelets repeats the last sample to make the length even
            flat = torch.cat([flat, flat[..., -1:]], dim=-1)
            n += 1
        ext = flat[..., _periodic_index(n, length - 1, length - 1, x.device)]
        start, count = length // 2, n // 2  # PyWavelets' periodization is shifted by L/2 - 1
    else:
        ext = F.pad(flat, (length - 1, length - 1))
        start, count = 1, (n + length - 1) // 2
    kernel = torch.stack([lo.flip(0), hi.flip(0)]).unsqueeze(1)  # conv1d correlates: flip to convolve
    full = F.conv1d(ext, kernel)  # full[:, :, q] = sum_k h[k] x[q - k]
    out = full[..., start : start + 2 * count - 1 : 2].reshape(*lead, 2, count)
    return out[..., 0, :], out[..., 1, :]


def _synthesis_1d(ca: Tensor, cd: Tensor, lo: Tensor, hi: Tensor, mode: str) -> Tensor:
    """Inverse of one level along the last axis: ``(..., M)`` twice -> ``(..., 2M)`` or ``(..., 2M - L + 2)``."""
    lead, m = ca.shape[:-1], ca.shape[-1]
    length = lo.numel()
    coeffs = torch.stack([ca, cd], dim=-2).reshape(-1, 2, m)
    kernel = torch.stack([lo, hi]).unsqueeze(1)  # (2, 1, L): conv_transpose sums the two bands
    full = F.conv_transpose1d(coeffs, kernel, stride=2)  # full[2i + k] += cA[i] g[k]
    if mode == "periodization":
        n = 2 * m
        padded = F.pad(full, (0, (-full.shape[-1]) % n))
        folded = padded.reshape(padded.shape[0], -1, n).sum(dim=1)  # wrap the tail onto one period
        out = folded.roll(-(length // 2 - 1), dims=-1)
    else:
        out = full[..., 0, length - 2 : full.shape[-1] - (length - 2)]
    return out.reshape(*lead, out.shape[-1])


def _subband_keys(ndim: int) -> list[str]:
    return ["".join(k) for k in itertools.product("ad", repeat=ndim)]


def dwtn(x: Tensor, wavelet: str | FilterBank, mode: str = "periodization", ndim: int = 1) -> dict[str, Tensor]:
    """One level of the separable DWT over the last ``ndim`` axes (``pywt.dwtn`` with ``axes=(-ndim, ..., -1)``).

    Args:
        x: ``(..., N_1, ..., N_ndim)`` floating-point tensor; leading axes are batch/channels.
        wavelet: a PyWavelets discrete wavelet name or a :class:`FilterBank`.
        mode: ``"periodization"`` or ``"zero"``.
        ndim: number of transformed (trailing) axes, 1 to 3.

    Returns:
        The ``2**ndim`` subbands keyed ``"a"/"d"`` per axis, e.g. ``{"aa", "ad", "da", "dd"}`` in 2-D.

    Example:
        >>> bands = dwtn(torch.randn(2, 16, 16), "db2", ndim=2)
        >>> sorted(bands), tuple(bands["aa"].shape)
        (['aa', 'ad', 'da', 'dd'], (2, 8, 8))
    """
    _check_mode(mode)
    _check_input(x, ndim)
    bank = _bank(wavelet)
    lo, hi = _filters(bank.dec_lo, x), _filters(bank.dec_hi, x)
    bands = {"": x}
    for axis in range(x.dim() - ndim, x.dim()):
        nxt: dict[str, Tensor] = {}
        for key, band in bands.items():
            ca, cd = _analysis_1d(band.movedim(axis, -1), lo, hi, mode)
            nxt[key + "a"], nxt[key + "d"] = ca.movedim(-1, axis), cd.movedim(-1, axis)
        bands = nxt
    return bands


def idwtn(bands: dict[str, Tensor], wavelet: str | FilterBank, mode: str = "periodization", ndim: int = 1) -> Tensor:
    """Inverse of :func:`dwtn` (``pywt.idwtn``): all ``2**ndim`` subbands of one shape -> the signal."""
    _check_mode(mode)
    expected = set(_subband_keys(ndim))
    if set(bands) != expected:
        raise ValueError(f"subband keys {sorted(bands)} do not match the {ndim}-D keys {sorted(expected)}")
    shapes = {tuple(b.shape) for b in bands.values()}
    if len(shapes) != 1:
        raise ValueError(f"all subbands must have one shape, got {sorted(shapes)}")
    first = bands["a" * ndim]
    _check_input(first, ndim)
    bank = _bank(wavelet)
    lo, hi = _filters(bank.rec_lo, first), _filters(bank.rec_hi, first)
    current = dict(bands)
    for axis in range(first.dim() - 1, first.dim() - ndim - 1, -1):
        nxt: dict[str, Tensor] = {}
        for key in {k[:-1] for k in current}:
            ca, cd = current[key + "a"].movedim(axis, -1), current[key + "d"].movedim(axis, -1)
            nxt[key] = _synthesis_1d(ca, cd, lo, hi, mode).movedim(-1, axis)
        current = nxt
    return current[""]


@dataclass
class WaveletCoeffs:
    """A multilevel decomposition: ``approx`` at the coarsest level and ``details[j]`` coarsest first.

    Mirrors ``pywt.wavedecn``'s list ``[cA_n, details_n, ..., details_1]``; ``shapes[j]`` is the spatial shape
    of the signal that level ``j`` (coarsest first) was computed from, so reconstruction crops exactly.
    """

    approx: Tensor
    details: list[dict[str, Tensor]]
    shapes: list[tuple[int, ...]]
    wavelet: str
    mode: str
    ndim: int = 1

    @property
    def level(self) -> int:
        return len(self.details)


def max_level(size: int, wavelet: str | FilterBank) -> int:
    """Deepest useful level for ``size`` samples (``pywt.dwt_max_level``: ``floor(log2(N / (L - 1)))``)."""
    length = _bank(wavelet).length
    return 0 if size < length - 1 else int((size // (length - 1)).bit_length() - 1)


def wavedecn(x: Tensor, wavelet: str, level: int, mode: str = "periodization", ndim: int = 1) -> WaveletCoeffs:
    """Multilevel separable DWT over the last ``ndim`` axes (``pywt.wavedecn``): recurse on the approximation.

    Raises:
        ValueError: ``level`` below 1, or a level that leaves fewer than one coefficient on an axis.
    """
    _check_mode(mode)
    _check_input(x, ndim)
    bank = filter_bank(wavelet)
    if not isinstance(level, int) or level < 1:
        raise ValueError(f"level must be a positive integer, got {level!r}")
    sizes = list(x.shape[-ndim:])
    for j in range(level):
        if min(sizes) < 2:
            raise ValueError(f"level {level} too deep for shape {tuple(x.shape[-ndim:])}: level {j + 1} has {sizes}")
        sizes = [dwt_length(n, bank.length, mode) for n in sizes]
    approx, details, shapes = x, [], []
    for _ in range(level):
        shapes.append(tuple(approx.shape[-ndim:]))
        bands = dwtn(approx, bank, mode, ndim)
        approx = bands.pop("a" * ndim)
        details.append(bands)
    return WaveletCoeffs(approx, details[::-1], shapes[::-1], wavelet, mode, ndim)


def waverecn(coeffs: WaveletCoeffs) -> Tensor:
    """Inverse of :func:`wavedecn`: exact reconstruction (to rounding) for orthogonal and biorthogonal banks."""
    approx = coeffs.approx
    nd = coeffs.ndim
    for bands, shape in zip(coeffs.details, coeffs.shapes, strict=True):
        x = idwtn({"a" * nd: approx, **bands}, coeffs.wavelet, coeffs.mode, nd)
        for i, n in enumerate(shape):  # odd lengths carry one extra sample
            x = x.narrow(x.dim() - nd + i, 0, n)
        approx = x
    return approx


def _space_to_depth(x: Tensor, factor: int, ndim: int) -> Tensor:
    """``(B, C, n_1 * r, ..., n_d * r) -> (B, C * r**d, n_1, ..., n_d)``, block offsets after the channel."""
    b, c, *spatial = x.shape
    split = [s for n in spatial for s in (n // factor, factor)]
    y = x.reshape(b, c, *split)
    coarse = [2 + 2 * i for i in range(ndim)]
    fine = [3 + 2 * i for i in range(ndim)]
    y = y.permute(0, 1, *fine, *coarse)
    return y.reshape(b, c * factor**ndim, *(n // factor for n in spatial))


def _depth_to_space(x: Tensor, factor: int, ndim: int) -> Tensor:
    """Inverse of :func:`_space_to_depth`."""
    b, c, *spatial = x.shape
    channels = c // factor**ndim
    y = x.reshape(b, channels, *([factor] * ndim), *spatial)
    order = [p for i in range(ndim) for p in (2 + ndim + i, 2 + i)]
    y = y.permute(0, 1, *order)
    return y.reshape(b, channels, *(n * factor for n in spatial))


def pack(coeffs: WaveletCoeffs) -> Tensor:
    """All coefficients of ``x: (B, C, *spatial)`` as channels: ``(B, C 2**(dJ), *spatial / 2**J)``.

    Channel order: approximation, then each level's ``2**d - 1`` detail bands (``pywt`` key order) coarsest
    first; a band ``k`` levels finer than the coarsest is folded into ``2**(d*k)`` channels by space-to-depth,
    so the packing is a permutation of the coefficients (WDNO stacks subbands as channels, Hu et al. 2024).

    Raises:
        ValueError: if the bands of a level are not exactly twice the size of the level below it (use
            ``mode="periodization"`` with sizes divisible by ``2**J``, or a single level).
    """
    nd = coeffs.ndim
    if coeffs.approx.dim() != nd + 2:
        raise ValueError(
            f"pack expects coefficients of a (B, C, *spatial) tensor, got approx {tuple(coeffs.approx.shape)}"
        )
    base = tuple(coeffs.approx.shape[-nd:])
    parts = [coeffs.approx]
    for j, bands in enumerate(coeffs.details):
        factor = 2**j
        for key in _subband_keys(nd)[1:]:
            band = bands[key]
            expected = tuple(n * factor for n in base)
            if tuple(band.shape[-nd:]) != expected:
                raise ValueError(
                    f"cannot pack level {coeffs.level - j} band {key!r} of shape {tuple(band.shape[-nd:])}: expected"
                    f" {expected}; mode {coeffs.mode!r} needs sizes divisible by 2**level"
                )
            parts.append(_space_to_depth(band, factor, nd) if factor > 1 else band)
    return torch.cat(parts, dim=1)


def unpack(
    packed: Tensor,
    channels: int,
    level: int,
    wavelet: str,
    mode: str = "periodization",
    ndim: int = 1,
    signal_shape: tuple[int, ...] | None = None,
) -> WaveletCoeffs:
    """Inverse of :func:`pack` for a signal of ``channels`` channels decomposed to ``level`` levels.

    ``signal_shape`` (the transformed axes of the original signal) is needed to crop exactly where it is not
    ``2**level`` times the packed grid (mode ``"zero"``, odd sizes); by default it is assumed to be.
    """
    if packed.dim() != ndim + 2:
        raise ValueError(
            f"packed coefficients must be (B, C', *spatial) with {ndim} spatial axes, got {tuple(packed.shape)}"
        )
    expected = channels * 2 ** (ndim * level)
    if packed.shape[1] != expected:
        raise ValueError(
            f"packed tensor has {packed.shape[1]} channels, expected {channels} * 2**({ndim}*{level}) = {expected}"
        )
    base = tuple(packed.shape[-ndim:])
    approx, rest = packed[:, :channels], packed[:, channels:]
    details, shapes = [], []
    offset = 0
    for j in range(level):
        factor = 2**j
        width = channels * factor**ndim
        bands = {}
        for key in _subband_keys(ndim)[1:]:
            chunk = rest[:, offset : offset + width]
            offset += width
            bands[key] = _depth_to_space(chunk, factor, ndim) if factor > 1 else chunk
        details.append(bands)
        shapes.append(tuple(n * 2 * factor for n in base))
    if signal_shape is not None:
        if len(signal_shape) != ndim:
            raise ValueError(f"signal_shape {signal_shape} must have {ndim} entries")
        shapes, sizes = [], list(signal_shape)
        for _ in range(level):
            shapes.append(tuple(sizes))
            sizes = [dwt_length(n, filter_bank(wavelet).length, mode) for n in sizes]
        if tuple(sizes) != base:
            raise ValueError(f"signal_shape {signal_shape} decomposes to {tuple(sizes)}, not the packed grid {base}")
        shapes = shapes[::-1]
    return WaveletCoeffs(approx, details, shapes, wavelet, mode, ndim)
