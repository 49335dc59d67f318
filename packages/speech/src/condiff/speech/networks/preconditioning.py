"""EDM preconditioning (the core's) for a spectrogram network conditioned on the noisy spectrogram."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from condiff.core.preconditioning import EDMPreconditioner
from condiff.core.processes.base import GaussianProcess
from condiff.speech.networks.ncsnpp import NCSNpp


class SpeechEDMPreconditioner(EDMPreconditioner):
    """:class:`~condiff.core.preconditioning.EDMPreconditioner` whose ``y`` is the noisy spectrogram ``cond_spec``.

    In SGMSE+ the condition the process drifts toward is the noisy spectrogram that the network also
    sees, so ``D(x, t) = c_skip xs + c_out F(c_in xs, c_noise, cond_spec)`` with ``xs = (x - b y)/a``,
    ``y = cond_spec`` (Karras et al. 2022, Table 1, on the general path; see docs/core.md). Outputs ``x0``.
    The inner network is an :class:`NCSNpp` built from ``network_kwargs``, so a task's ``network`` node
    keeps its NCSN++ keys when an experiment switches the preconditioning on.

    Args:
        process: the path (``xs = (x - b y)/a``, ``sigma = s/a``).
        sigma_data: standard deviation of the clean data.
        noise_input: ``t`` (NCSN++ embeds ``log t``) or ``edm`` (``log(sigma)/4``; with ``time_input="linear"``).
        network_kwargs: :class:`NCSNpp` arguments.
    """

    def __init__(
        self, process: GaussianProcess, sigma_data: float = 0.5, noise_input: str = "t", **network_kwargs: Any
    ) -> None:
        super().__init__(NCSNpp(**network_kwargs), process, sigma_data=sigma_data, noise_input=noise_input)

    def forward(self, x: Tensor, t: Tensor, y: Tensor | None = None, **cond: Any) -> Tensor:
        """``x, cond_spec: (B, 2, F, T)``, ``t: (B,)`` -> ``x0_hat: (B, 2, F, T)``."""
        return super().forward(x, t, y=cond.get("cond_spec") if y is None else y, **cond)
