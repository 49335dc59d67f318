"""Replacement conditioning: known entries overwritten at the right noise level (Song et al. 2021, App. I.2).

With a 0/1 ``mask`` of known entries and their clean values ``known``, the denoiser sees

    x_in = mask * (a(t) known + b(t) y + s(t) z) + (1 - mask) * x

(``z`` one standard normal draw per sample, fixed for the whole trajectory, so the known entries
follow a single forward path; ``noise="fresh"`` redraws it at every call as in the original
inpainting sampler), and its data estimate is overwritten on the known entries:
``x0 = mask * known + (1 - mask) * x0_hat``. The noise estimate is recomputed from the solver's
own state, ``eps = (x - a x0 - b y) / s``, so every solver, ODE or SDE, pulls the known entries
onto ``known`` and ends there at ``t_min``.
"""

from __future__ import annotations

from torch import Tensor

from condiff.core.guidance.common import coefficients, eps_from_x0
from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser
from condiff.core.sampling.noise import Generators, randn


class ReplacementConditioning:
    """Overwrite the ``mask`` entries with noised ``known`` values at every denoiser call (module docstring).

    Args:
        denoiser: the unconditional denoiser.
        process: its path.
        mask: 0/1 tensor broadcastable to the state, 1 on known entries.
        known: clean values ``(B, ...)`` (read where ``mask`` is 1).
        y: the process condition, if any.
        noise: ``"fixed"`` (one draw per trajectory) or ``"fresh"`` (a new draw at every call).
        generator: RNG of the replacement noise.
    """

    def __init__(
        self,
        denoiser: Denoiser,
        process: GaussianProcess,
        mask: Tensor,
        known: Tensor,
        y: Tensor | None = None,
        noise: str = "fixed",
        generator: Generators = None,
    ) -> None:
        if noise not in ("fixed", "fresh"):
            raise ValueError(f"ReplacementConditioning: noise must be 'fixed' or 'fresh', got {noise!r}")
        if not bool(((mask == 0) | (mask == 1)).all()):
            raise ValueError("ReplacementConditioning: mask entries must be 0 or 1")
        self.denoiser, self.process, self.mask, self.known, self.y = denoiser, process, mask, known, y
        self.noise, self.generator = noise, generator
        self._z: Tensor | None = None

    def _draw(self, x: Tensor) -> Tensor:
        if self.noise == "fresh" or self._z is None or self._z.shape != x.shape:
            self._z = randn(x.shape, self.generator, device=x.device, dtype=x.dtype)
        return self._z

    def noised_known(self, x: Tensor, t: Tensor) -> Tensor:
        """``a(t) known + b(t) y + s(t) z``: the known entries at the noise level of ``t``."""
        a, b, s = coefficients(self.process, t, x)
        out = a * self.known.to(x.dtype) + s * self._draw(x)
        return out if self.y is None else out + b * self.y

    def __call__(self, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        m = self.mask.to(x.dtype)
        x_in = m * self.noised_known(x, t) + (1 - m) * x
        x0, _ = self.denoiser(x_in, t)
        x0 = m * self.known.to(x.dtype) + (1 - m) * x0.to(x.dtype)
        return x0, eps_from_x0(self.process, x, t, x0, self.y)

    def reset(self) -> None:
        """Forget the fixed noise draw (start a new trajectory)."""
        self._z = None


def replace_known(x: Tensor, mask: Tensor, known: Tensor) -> Tensor:
    """``mask * known + (1 - mask) * x``: the final overwrite of a sample's known entries."""
    m = mask.to(x.dtype)
    return m * known.to(x.dtype) + (1 - m) * x
