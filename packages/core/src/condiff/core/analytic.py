"""Exact denoisers for Gaussian and Gaussian-mixture data: the ground truth of solver and loss tests.

Data ``x0 ~ sum_k w_k N(mu_k, Sigma_k)`` in ``R^D`` (full, possibly singular covariances).
The condition ``y`` enters only through the path: ``x_t = a x0 + b y + s eps``, so

    p(x_t | y) = sum_k w_k N(a mu_k + b y, a^2 Sigma_k + s^2 I)

and every posterior quantity is closed form. With ``Sigma_k = U_k diag(l_k) U_k^T`` the
marginal covariance is ``U_k diag(a^2 l_k + s^2) U_k^T``, so one eigendecomposition per
component serves every time.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from condiff.core.parameterization import Output, check_parameterization, from_x0_eps
from condiff.core.processes.base import GaussianProcess, check_condition, expand_like


class GaussianMixture:
    """A Gaussian mixture in ``R^D`` with exact posterior mean, noise and score under any process.

    Args:
        means: ``(K, D)`` component means.
        covs: ``(K, D, D)`` symmetric positive semi-definite covariances.
        weights: ``(K,)`` positive mixture weights (normalised here); uniform if ``None``.
    """

    def __init__(self, means: Tensor, covs: Tensor, weights: Tensor | None = None) -> None:
        means = torch.as_tensor(means, dtype=torch.float64)
        covs = torch.as_tensor(covs, dtype=torch.float64)
        if means.ndim != 2:
            raise ValueError(f"GaussianMixture: means must be (K, D), got shape {tuple(means.shape)}")
        k, d = means.shape
        if covs.shape != (k, d, d):
            raise ValueError(f"GaussianMixture: covs must be (K, D, D) = {(k, d, d)}, got {tuple(covs.shape)}")
        if not torch.allclose(covs, covs.transpose(-1, -2), atol=1e-10):
            raise ValueError("GaussianMixture: covs must be symmetric")
        evals, evecs = torch.linalg.eigh(covs)
        if bool((evals < -1e-10 * evals.abs().amax().clamp_min(1.0)).any()):
            raise ValueError("GaussianMixture: covs must be positive semi-definite")
        w = torch.full((k,), 1.0 / k, dtype=torch.float64) if weights is None else torch.as_tensor(weights).double()
        if w.shape != (k,) or bool((w <= 0).any()):
            raise ValueError(f"GaussianMixture: weights must be (K,) = ({k},) and positive")
        self.means, self.covs, self.weights = means, covs, w / w.sum()
        self.evals, self.evecs = evals.clamp_min(0.0), evecs

    @classmethod
    def gaussian(cls, mean: Tensor, cov: Tensor) -> GaussianMixture:
        """A single Gaussian ``N(mean, cov)``; ``mean: (D,)``, ``cov: (D, D)``."""
        return cls(torch.as_tensor(mean)[None], torch.as_tensor(cov)[None])

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def mean(self) -> Tensor:
        """Mean of the data distribution, ``(D,)``."""
        return self.weights @ self.means

    def cov(self) -> Tensor:
        """Covariance of the data distribution, ``(D, D)`` (law of total covariance)."""
        m = self.mean()
        dm = self.means - m
        return torch.einsum("k,kij->ij", self.weights, self.covs) + torch.einsum("k,ki,kj->ij", self.weights, dm, dm)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` samples ``(n, D)`` in float64."""
        comp = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        z = torch.randn(n, self.dim, dtype=torch.float64, generator=generator)
        scale = self.evecs[comp] * self.evals[comp].sqrt()[:, None, :]
        return self.means[comp] + torch.einsum("nij,nj->ni", scale, z)

    def marginal_moments(self, process: GaussianProcess, t: Tensor | float, y: Tensor | None = None) -> tuple:
        """Mean ``(D,)`` and covariance ``(D, D)`` of ``x_t`` given ``y`` at a scalar ``t`` (``y: (D,)``)."""
        c = process.coefficients64(torch.as_tensor(t, dtype=torch.float64))
        mean = c.a * self.mean() + (0.0 if y is None else c.b * torch.as_tensor(y, dtype=torch.float64))
        return mean, c.a**2 * self.cov() + c.s**2 * torch.eye(self.dim, dtype=torch.float64)

    def _check(self, x: Tensor, y: Tensor | None) -> None:
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"GaussianMixture: x must be (B, {self.dim}), got shape {tuple(x.shape)}")
        check_condition(y, x)

    def log_density(self, x: Tensor, t: Tensor | float, process: GaussianProcess, y: Tensor | None = None) -> Tensor:
        """``log p_t(x | y)``: ``(B,)`` in float64 for ``x: (B, D)`` at ``t: (B,)`` or ``()``.

        ``p_t = sum_k w_k N(a mu_k + b y, a^2 C_k + s^2 I)``.
        """
        self._check(x, y)
        x = x.to(torch.float64)
        c = process.coefficients64(torch.as_tensor(t, dtype=torch.float64, device=x.device))
        a, b, s = (expand_like(v, x) for v in (c.a, c.b, c.s))
        r = x if y is None else x - b * y.to(torch.float64)
        means, evecs, evals = (v.to(x.device) for v in (self.means, self.evecs, self.evals))
        z = torch.einsum("kij,bki->bkj", evecs, r[:, None, :] - a[..., None] * means[None])
        var = a[..., None] ** 2 * evals[None] + s[..., None] ** 2
        logp = -0.5 * (z.square() / var + var.log()).sum(-1) - 0.5 * self.dim * math.log(2 * math.pi)
        return torch.logsumexp(logp + self.weights.to(x.device).log(), dim=-1)

    def posterior(
        self, x: Tensor, t: Tensor | float, process: GaussianProcess, y: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Exact ``(x0_hat, eps_hat, score)`` of ``x_t = x: (B, D)`` at ``t: (B,)`` or ``()``.

        ``x0_hat = E[x0 | x_t, y]``, ``eps_hat = E[eps | x_t, y] = (x - a x0_hat - b y)/s`` and
        ``score = grad log p_t(x | y) = -eps_hat / s``, all ``(B, D)`` in ``x``'s dtype.
        Differentiable in ``x`` and ``t``.
        """
        self._check(x, y)
        dtype = x.dtype
        x = x.to(torch.float64)
        t = torch.as_tensor(t, dtype=torch.float64, device=x.device)
        c = process.coefficients64(t)
        a, b, s = (expand_like(v, x) for v in (c.a, c.b, c.s))  # (B, 1) or ()
        r = x if y is None else x - b * y.to(torch.float64)
        means, evecs, evals = (v.to(x.device) for v in (self.means, self.evecs, self.evals))
        # per component k, in its eigenbasis: z = U_k^T (r - a mu_k), variance a^2 l + s^2
        z = torch.einsum("kij,bki->bkj", evecs, r[:, None, :] - a[..., None] * means[None])
        var = a[..., None] ** 2 * evals[None] + s[..., None] ** 2  # (B, K, D)
        logp = -0.5 * (z.square() / var + var.log()).sum(-1) - 0.5 * self.dim * math.log(2 * math.pi)
        resp = torch.softmax(logp + self.weights.to(x.device).log(), dim=-1)  # (B, K)
        # x0_k = mu_k + U_k diag(a l / var) z ; score_k = -U_k diag(1 / var) z
        x0_k = means[None] + torch.einsum("kij,bkj->bki", evecs, a[..., None] * evals[None] / var * z)
        score_k = -torch.einsum("kij,bkj->bki", evecs, z / var)
        x0_hat = (resp[..., None] * x0_k).sum(1)
        score = (resp[..., None] * score_k).sum(1)
        return x0_hat.to(dtype), (-s * score).to(dtype), score.to(dtype)


class AnalyticDenoiser:
    """The exact denoiser of :class:`GaussianMixture` data as a network stand-in.

    ``denoiser(x, t, y=None)`` returns the output of parameterization ``output``
    (``"eps"``, ``"x0"``, ``"score"``, or any other of ``PARAMETERIZATIONS``);
    :meth:`x0_eps` is the ``(x, t) -> (x0_hat, eps_hat)`` form the solvers call.

    Args:
        data: the data distribution.
        process: the path.
        output: parameterization of :meth:`__call__`'s result.
        y: default condition ``(B, D)`` or ``(D,)`` when a call passes none.
    """

    def __init__(
        self, data: GaussianMixture, process: GaussianProcess, output: str = "eps", y: Tensor | None = None
    ) -> None:
        self.data, self.process, self.output, self.y = data, process, check_parameterization(output), y

    def x0_eps(self, x: Tensor, t: Tensor, y: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Exact ``(x0_hat, eps_hat)``."""
        x0_hat, eps_hat, _ = self.data.posterior(x, t, self.process, self.y if y is None else y)
        return x0_hat, eps_hat

    def __call__(self, x: Tensor, t: Tensor, y: Tensor | None = None) -> Output:
        y = self.y if y is None else y
        x0_hat, eps_hat, score = self.data.posterior(x, t, self.process, y)
        if self.output == "score":
            return score
        return from_x0_eps(self.output, x0_hat, eps_hat, t=t, process=self.process, y=y)


def gaussian_pf_ode_solution(
    x: Tensor,
    t_start: Tensor | float,
    t_end: Tensor | float,
    mean: Tensor,
    cov: Tensor,
    process: GaussianProcess,
    y: Tensor | None = None,
) -> Tensor:
    """Exact probability-flow ODE map from ``t_start`` to ``t_end`` for data ``N(mean, cov)``.

    Wang & Vastola (2023, "Diffusion models generate images like painters", eq. 7) solve
    the VP case in the eigenbasis of ``cov``; for a general path the same holds: along
    eigenvector ``u_i`` (eigenvalue ``l_i``) the marginal is ``N(m_i(t), v_i(t))`` with
    ``m(t) = a mean + b y`` and ``v_i = a^2 l_i + s^2``, the PF-ODE velocity is
    ``m' + v_i'/(2 v_i) (z - m_i)``, hence ``(z - m_i)/sqrt(v_i)`` is conserved:

        x(t_end) = m(t_end) + U diag(sqrt(v(t_end) / v(t_start))) U^T (x - m(t_start)).

    Args:
        x: ``(B, D)`` states at ``t_start``.
        t_start: scalar or ``(B,)``.
        t_end: scalar or ``(B,)``.
        mean: ``(D,)``.
        cov: ``(D, D)`` positive semi-definite.
        process: the path.
        y: condition broadcastable to ``x``, or ``None``.
    """
    check_condition(y, x)
    dtype = x.dtype
    x = x.to(torch.float64)
    mean, cov = torch.as_tensor(mean, dtype=torch.float64), torch.as_tensor(cov, dtype=torch.float64)
    if mean.shape != (x.shape[1],) or cov.shape != (x.shape[1], x.shape[1]):
        raise ValueError(f"gaussian_pf_ode_solution: mean must be (D,), cov (D, D) with D = {x.shape[1]}")
    evals, evecs = torch.linalg.eigh(cov)
    evals = evals.clamp_min(0.0)

    def moments(t: Tensor | float) -> tuple[Tensor, Tensor]:
        c = process.coefficients64(torch.as_tensor(t, dtype=torch.float64))
        a, b, s = (expand_like(v, x) for v in (c.a, c.b, c.s))
        m = a * mean + (0.0 if y is None else b * y.to(torch.float64))
        return m, a**2 * evals + s**2

    m0, v0 = moments(t_start)
    m1, v1 = moments(t_end)
    z = (x - m0) @ evecs
    return (m1 + (z * (v1 / v0).sqrt()) @ evecs.T).to(dtype)
