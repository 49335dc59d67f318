"""Network wrappers: EDM preconditioning and a conservative (energy-gradient) score."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from condiff.core.processes.base import GaussianProcess, check_condition, expand_like


def edm_coefficients(sigma: Tensor, sigma_data: float) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """EDM's ``c_skip, c_out, c_in, c_noise`` at noise level ``sigma`` (Karras et al. 2022, Table 1).

    ``c_skip = sd^2/(sigma^2 + sd^2)``, ``c_out = sigma sd / sqrt(sigma^2 + sd^2)``,
    ``c_in = 1 / sqrt(sigma^2 + sd^2)``, ``c_noise = log(sigma) / 4``; they make the network's
    input and its effective target unit-variance for data of standard deviation ``sd``.
    """
    total = sigma.square() + sigma_data**2
    return sigma_data**2 / total, sigma * sigma_data / total.sqrt(), 1.0 / total.sqrt(), 0.25 * torch.log(sigma)


class EDMPreconditioner(nn.Module):
    """``D(x, t) = c_skip xs + c_out F(c_in xs, c_noise)``: EDM preconditioning for any process.

    For ``x = a x0 + b y + s eps`` the scaled state ``xs = (x - b y)/a = x0 + sigma eps``
    with ``sigma = s/a = e^{-lambda}`` is exactly EDM's ``x0 + sigma n`` (Karras et al. 2022,
    eq. 7, with their ``s(t)`` = our ``a``), so the wrapper works for VP, VE, OUVE, IR-SDE,
    RDDM and bridges alike. It returns ``x0_hat`` (parameterization ``"x0"``).

    Args:
        network: ``F(x, c_noise, **cond) -> (B, ...)`` shaped like ``x``.
        process: the path.
        sigma_data: standard deviation of the data.
        noise_input: ``"edm"`` feeds ``c_noise = log(sigma)/4``; ``"t"`` feeds ``t`` unchanged
            (for backbones whose time embedding expects ``t in [t_min, T]``).
        pass_y: also give ``y=y`` to the network (for backbones that take the condition).
    """

    def __init__(
        self,
        network: nn.Module,
        process: GaussianProcess,
        sigma_data: float = 0.5,
        noise_input: str = "edm",
        pass_y: bool = False,
    ) -> None:
        super().__init__()
        if not sigma_data > 0:
            raise ValueError(f"EDMPreconditioner: sigma_data must be > 0, got {sigma_data}")
        if noise_input not in ("edm", "t"):
            raise ValueError(f"EDMPreconditioner: noise_input must be 'edm' or 't', got {noise_input!r}")
        self.network, self.process = network, process
        self.sigma_data, self.noise_input, self.pass_y = float(sigma_data), noise_input, pass_y

    def forward(self, x: Tensor, t: Tensor, y: Tensor | None = None, **cond: Any) -> Tensor:
        """``x: (B, ...)``, ``t: (B,)`` -> ``x0_hat: (B, ...)``."""
        check_condition(y, x)
        c = self.process.coefficients64(t)
        a, b = expand_like(c.a, x), expand_like(c.b, x)
        xs = (x - b * y) / a if y is not None else x / a
        c_skip, c_out, c_in, c_noise = edm_coefficients(c.s / c.a, self.sigma_data)
        noise = c_noise if self.noise_input == "edm" else torch.as_tensor(t)
        noise = noise.to(x.dtype).expand(x.shape[0]) if noise.ndim == 0 else noise.to(x.dtype)
        if self.pass_y:
            cond["y"] = y
        out = self.network(expand_like(c_in, x) * xs, noise, **cond)
        return expand_like(c_skip, x) * xs + expand_like(c_out, x) * out.to(x.dtype)


class ConservativeScore(nn.Module):
    """Score as the gradient of a learned energy, ``score(x, t) = -grad_x E(x, t)``.

    Horvat & Pfister ("On gauge freedom, conservativity and intrinsic dimensionality
    estimation in diffusion models", 2024) show conservativity is neither necessary nor
    sufficient for exact sampling, but is what makes the score's Jacobian (a Hessian,
    hence symmetric) usable for local manifold information such as intrinsic dimension.
    The output is of parameterization ``"score"``.

    Args:
        energy: ``E(x, t, **cond) -> (B,)`` (or ``(B, 1)``), one scalar per sample.
        create_graph: keep the graph of the gradient so the loss can be backpropagated to
            ``energy``'s parameters; ``None`` (default) does so whenever autograd is enabled
            at call time (training), and not under ``torch.no_grad()`` (sampling).
    """

    def __init__(self, energy: nn.Module, create_graph: bool | None = None) -> None:
        super().__init__()
        self.energy, self.create_graph = energy, create_graph

    def forward(self, x: Tensor, t: Tensor, **cond: Any) -> Tensor:
        """``x: (B, ...)``, ``t: (B,)`` -> score ``(B, ...)``."""
        create = torch.is_grad_enabled() if self.create_graph is None else self.create_graph
        with torch.enable_grad():
            xg = x if (x.requires_grad and create) else x.detach().requires_grad_(True)
            e = self.energy(xg, t, **cond)
            if e.shape not in ((x.shape[0],), (x.shape[0], 1)):
                raise ValueError(f"ConservativeScore: energy must return (B,) or (B, 1), got {tuple(e.shape)}")
            (grad,) = torch.autograd.grad(e.sum(), xg, create_graph=create)
        return -grad
