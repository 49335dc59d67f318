"""SGMSE+'s prior on the core's OUVE process."""

from __future__ import annotations

import torch
from torch import Tensor

from condiff.core.processes.ouve import OUVEProcess


class SGMSEOUVEProcess(OUVEProcess):
    """:class:`~condiff.core.processes.OUVEProcess` whose reverse process starts at ``N(y, s(T)^2 I)``.

    The marginal mean at ``T`` is ``e^{-gamma T} x0 + (1 - e^{-gamma T}) y``, unknown at inference
    because ``x0`` is; SGMSE+ (Richter et al. 2023, Sec. 3.2, "x_T ~ N_C(y, sigma(T)^2 I)") replaces
    it by ``y``, which differs from it by ``e^{-gamma T} (x0 - y)``: a fraction 0.22 of the noise
    for ``gamma = 1.5``. The core's generic prior keeps ``b(T) y``, i.e. drops the whole
    ``e^{-gamma T} x0``. Everything else (path, SDE, solvers) is the core's.
    """

    def prior_sample(
        self,
        shape: tuple[int, ...],
        y: Tensor | None = None,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
        noise: Tensor | None = None,
    ) -> Tensor:
        """``y + s(T) eps`` (``s(T) eps`` when ``y`` is ``None``)."""
        x = super().prior_sample(shape, None, generator, device, dtype, noise)
        return x if y is None else x + y

    def __repr__(self) -> str:
        return "SGMSE" + super().__repr__()
