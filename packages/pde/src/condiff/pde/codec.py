"""Space-time fields <-> the diffusion state: packed wavelet coefficients (WDNO) or the pixels themselves.

WDNO (Hu et al., ICLR 2025) diffuses the wavelet coefficients of the *whole* trajectory: the fields
``(B, C, T, N)`` (``C`` = state and forcing, time x space as a 2-D image) go through a ``level``-level 2-D
DWT over ``(T, N)`` and all subbands are stacked as channels (:func:`condiff.pde.wavelets.pack`):

    state = pack(W fields) / scale,        fields = W^{-1} unpack(state * scale)

with ``scale`` one positive number per packed channel (the training set's standard deviation; the paper's
``RESCALER``), so every channel enters the diffusion at unit variance. With an orthogonal wavelet and
periodization, ``W`` is orthogonal. :class:`PixelCodec` is the same interface with ``W`` the identity: the
"diffusion in pixel space" ablation of the paper.
"""

from __future__ import annotations

import torch
from torch import Tensor

from condiff.pde.wavelets import filter_bank, pack, unpack, wavedecn, waverecn


def _check_fields(fields: Tensor, channels: int) -> None:
    if fields.dim() != 4 or fields.shape[1] != channels or not fields.is_floating_point():
        raise ValueError(
            f"fields must be a floating-point (B, {channels}, T, N) tensor, got {tuple(fields.shape)} {fields.dtype}"
        )


class PixelCodec:
    """Identity transform with per-channel scaling: ``state = fields / scale``.

    Args:
        channels: number of fields ``C`` (e.g. 2: state ``u`` and forcing ``f``).
        scale: ``(C,)`` positive scales, or None for ones (set them with :meth:`fit`).
    """

    def __init__(self, channels: int, scale: Tensor | None = None) -> None:
        self.channels = channels
        self.scale = torch.ones(self.state_channels) if scale is None else scale.detach().clone().float()
        if self.scale.shape != (self.state_channels,) or not bool((self.scale > 0).all()):
            raise ValueError(f"scale must be ({self.state_channels},) and positive, got {tuple(self.scale.shape)}")

    @property
    def state_channels(self) -> int:
        """Channels of the diffusion state."""
        return self.channels

    def transform(self, fields: Tensor) -> Tensor:
        """Unscaled state of ``fields: (B, C, T, N)``."""
        _check_fields(fields, self.channels)
        return fields

    def inverse(self, state: Tensor, shape: tuple[int, int]) -> Tensor:
        """Fields ``(B, C, T, N)`` of an unscaled state."""
        return state

    def encode(self, fields: Tensor) -> Tensor:
        """``(B, C, T, N)`` fields -> ``(B, C', T', N')`` scaled state."""
        state = self.transform(fields)
        return state / self.scale.to(state).view(1, -1, 1, 1)

    def decode(self, state: Tensor, shape: tuple[int, int]) -> Tensor:
        """Scaled state -> fields ``(B, C, T, N)`` on the ``shape = (T, N)`` grid; differentiable."""
        if state.dim() != 4 or state.shape[1] != self.state_channels:
            raise ValueError(f"state must be (B, {self.state_channels}, T', N'), got {tuple(state.shape)}")
        return self.inverse(state * self.scale.to(state).view(1, -1, 1, 1), shape)

    def fit(self, fields: Tensor, per: str = "channel", floor: float = 1e-3) -> PixelCodec:
        """Set ``scale`` from the standard deviations of the state of ``fields``.

        ``per="channel"``: each state channel its own (the paper's per-channel rescaling); ``per="field"``: one
        scale for all channels of a field, the root mean square of their deviations (the transform's own
        weighting of the subbands is kept: with an orthogonal wavelet the diffusion loss is then the pixel
        loss). A channel whose deviation is below ``floor`` times the largest one (e.g. the time-detail bands
        of a condition that is constant in time, zero up to rounding) keeps scale 1 rather than amplifying
        rounding.
        """
        if per not in ("channel", "field"):
            raise ValueError(f"per must be 'channel' or 'field', got {per!r}")
        std = self.transform(fields).transpose(0, 1).reshape(self.state_channels, -1).double().std(dim=1)
        if per == "field":
            for c in range(self.channels):
                owned = self.field_channels(c)
                std[owned] = std[owned].square().mean().sqrt()
        self.scale = torch.where(std > floor * std.max(), std, torch.ones_like(std)).float()
        return self

    def field_channels(self, field: int) -> list[int]:
        """State channels that carry field ``field`` (and nothing else): a 0/1 channel mask for replacement."""
        if not 0 <= field < self.channels:
            raise ValueError(f"field index {field} outside [0, {self.channels})")
        return [field]


class WaveletCodec(PixelCodec):
    """WDNO's transform: a ``level``-level periodized 2-D DWT over (time, space), all subbands packed as channels.

    Args:
        channels: number of fields ``C``.
        wavelet: a PyWavelets discrete wavelet (the paper's Burgers runs use ``bior2.4``; ``db1``..``sym*``
            work alike).
        level: decomposition levels; ``T`` and ``N`` must be divisible by ``2**level``.
        scale: ``(C 4**level,)`` positive scales or None (set them with :meth:`fit`).
    """

    def __init__(self, channels: int, wavelet: str = "bior2.4", level: int = 1, scale: Tensor | None = None) -> None:
        filter_bank(wavelet)  # validates the name
        if level < 1:
            raise ValueError(f"level must be >= 1, got {level}")
        self.wavelet, self.level = wavelet, level
        super().__init__(channels, scale)

    @property
    def state_channels(self) -> int:
        return self.channels * 4**self.level

    def transform(self, fields: Tensor) -> Tensor:
        _check_fields(fields, self.channels)
        t, n = fields.shape[-2:]
        if t % 2**self.level or n % 2**self.level:
            raise ValueError(f"grid (T, N) = {(t, n)} must be divisible by 2**level = {2**self.level}")
        return pack(wavedecn(fields, self.wavelet, self.level, "periodization", ndim=2))

    def inverse(self, state: Tensor, shape: tuple[int, int]) -> Tensor:
        coeffs = unpack(state, self.channels, self.level, self.wavelet, "periodization", ndim=2)
        out = waverecn(coeffs)
        if tuple(out.shape[-2:]) != tuple(shape):
            raise ValueError(f"state decodes to grid {tuple(out.shape[-2:])}, expected {tuple(shape)}")
        return out

    def field_channels(self, field: int) -> list[int]:
        # pack() keeps the fields apart: within each band block, field c owns a contiguous run of channels.
        # Probe with a field that is nonzero only in channel `field` (the transform is per channel).
        if not 0 <= field < self.channels:
            raise ValueError(f"field index {field} outside [0, {self.channels})")
        size = 2 ** (self.level + 1)
        gen = torch.Generator().manual_seed(0)
        mine = torch.zeros(1, self.channels, size, size, dtype=torch.float64)
        mine[:, field] = torch.randn(size, size, generator=gen, dtype=torch.float64)
        others = torch.randn(1, self.channels, size, size, generator=gen, dtype=torch.float64)
        others[:, field] = 0.0
        a, b = self.transform(mine)[0].abs().flatten(1).sum(1), self.transform(others)[0].abs().flatten(1).sum(1)
        return [c for c in range(self.state_channels) if a[c] > 0 and b[c] == 0]
