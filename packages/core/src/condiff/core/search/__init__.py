"""Inference-time search: reward-guided particle methods, path conversion, boundary-condition search, DMCMC.

* :func:`best_of_n`, :func:`beam_search`, :func:`smc`, :func:`rollover_budget_forcing` (equal-NFE
  comparisons; RBF never exceeds its budget);
* :class:`ConvertedDenoiser`: a flow/interpolant model on a VP path (SDE sampling for ODE models);
* :func:`search_boundary`: the best shared starting noise of an ODE sampler on a reference set;
* :func:`denoising_mcmc`: Langevin-Gibbs over ``(x, t)`` with an ODE/SDE finish; its ``t``-step from a
  trained :class:`NoiseLevelClassifier` (Lightning: :class:`NoiseLevelModule`).
"""

from condiff.core.search.boundary import BoundarySearch, search_boundary
from condiff.core.search.conversion import ConvertedDenoiser
from condiff.core.search.mcmc import MCMCResult, denoising_mcmc
from condiff.core.search.noise_level import (
    NoiseLevelClassifier,
    NoiseLevelModule,
    analytic_level_posterior,
    noise_level_loss,
)
from condiff.core.search.particles import SearchResult, beam_search, best_of_n, rollover_budget_forcing, smc
from condiff.core.search.transition import ancestral_step

__all__ = [
    "BoundarySearch",
    "ConvertedDenoiser",
    "MCMCResult",
    "NoiseLevelClassifier",
    "NoiseLevelModule",
    "SearchResult",
    "analytic_level_posterior",
    "ancestral_step",
    "beam_search",
    "best_of_n",
    "denoising_mcmc",
    "noise_level_loss",
    "rollover_budget_forcing",
    "search_boundary",
    "smc",
]
