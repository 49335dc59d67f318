"""Graph MMD metrics of GraphRNN / GDSS: degree, clustering, orbit and spectral statistics.

Each graph becomes a statistic (a histogram or a vector); the squared MMD between the generated and
the reference set is ``E k(x, x') + E k(y, y') - 2 E k(x, y)`` (You et al. 2018; GDSS ``evaluation/stats.py``)
with the kernels and bandwidths of those codes:

| statistic | per graph | kernel | sigma |
|---|---|---|---|
| degree | normalised degree histogram | Gaussian EMD | 1.0 |
| clustering | 100-bin histogram of local clustering on [0, 1], normalised | Gaussian EMD, distances / 100 | 0.1 |
| orbit | mean 4-node orbit counts per node (15) | Gaussian on Euclidean distance | 30.0 |
| spectral | 200-bin histogram of normalised-Laplacian eigenvalues on [-1e-5, 2], normalised | Gaussian EMD | 1.0 |

The Gaussian EMD kernel is ``exp(-W^2 / (2 sigma^2))`` with ``W`` the earth mover's distance between two
histograms on a line with ground distance ``|i - j| / scaling``; in 1-D ``W = sum_i |CDF_x(i) - CDF_y(i)| / scaling``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import networkx as nx
import numpy as np

from condiff.molecules.graphs.orbits import orbit_counts

Kernel = Callable[[np.ndarray, np.ndarray], float]


def _pad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = max(len(x), len(y))
    return np.pad(x.astype(np.float64), (0, n - len(x))), np.pad(y.astype(np.float64), (0, n - len(y)))


def gaussian_emd(x: np.ndarray, y: np.ndarray, sigma: float = 1.0, distance_scaling: float = 1.0) -> float:
    """``exp(-W(x, y)^2 / (2 sigma^2))`` for histograms of equal mass on the points ``i / distance_scaling``."""
    x, y = _pad(x, y)
    w = float(np.abs(np.cumsum(x) - np.cumsum(y)).sum()) / distance_scaling
    return float(np.exp(-w * w / (2 * sigma * sigma)))


def gaussian(x: np.ndarray, y: np.ndarray, sigma: float = 1.0) -> float:
    """``exp(-||x - y||^2 / (2 sigma^2))`` (vectors zero-padded to one length)."""
    x, y = _pad(x, y)
    d = float(np.linalg.norm(x - y))
    return float(np.exp(-d * d / (2 * sigma * sigma)))


def gaussian_tv(x: np.ndarray, y: np.ndarray, sigma: float = 1.0) -> float:
    """``exp(-TV(x, y)^2 / (2 sigma^2))`` with total variation ``TV = sum |x - y| / 2``."""
    x, y = _pad(x, y)
    d = float(np.abs(x - y).sum()) / 2.0
    return float(np.exp(-d * d / (2 * sigma * sigma)))


def mmd(samples1: Sequence[np.ndarray], samples2: Sequence[np.ndarray], kernel: Kernel, is_hist: bool = True) -> float:
    """Squared MMD ``E k(x, x') + E k(y, y') - 2 E k(x, y)`` (biased V-statistic, as GraphRNN's ``compute_mmd``)."""
    if not samples1 or not samples2:
        raise ValueError("mmd: both sample sets must be non-empty")
    if is_hist:
        samples1 = [s / max(float(np.sum(s)), 1e-12) for s in samples1]
        samples2 = [s / max(float(np.sum(s)), 1e-12) for s in samples2]

    def disc(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
        return sum(kernel(x, y) for x in a for y in b) / (len(a) * len(b))

    return disc(samples1, samples1) + disc(samples2, samples2) - 2 * disc(samples1, samples2)


def degree_histogram(g: nx.Graph) -> np.ndarray:
    return np.asarray(nx.degree_histogram(g), dtype=np.float64)


def clustering_histogram(g: nx.Graph, bins: int = 100) -> np.ndarray:
    values = list(nx.clustering(g).values())
    hist, _ = np.histogram(values, bins=bins, range=(0.0, 1.0), density=False)
    return hist.astype(np.float64)


def spectral_histogram(g: nx.Graph, bins: int = 200) -> np.ndarray:
    eigs = np.linalg.eigvalsh(nx.normalized_laplacian_matrix(g).toarray())
    hist, _ = np.histogram(eigs, bins=bins, range=(-1e-5, 2.0), density=False)
    return hist.astype(np.float64)


def orbit_vector(g: nx.Graph) -> np.ndarray:
    return orbit_counts(g).sum(axis=0) / max(g.number_of_nodes(), 1)


def _nonempty(graphs: Sequence[nx.Graph]) -> list[nx.Graph]:
    return [g for g in graphs if g.number_of_nodes() > 0]


def degree_mmd(ref: Sequence[nx.Graph], gen: Sequence[nx.Graph]) -> float:
    """Degree MMD (Gaussian EMD, sigma 1)."""
    return mmd(
        [degree_histogram(g) for g in _nonempty(ref)], [degree_histogram(g) for g in _nonempty(gen)], gaussian_emd
    )


def clustering_mmd(ref: Sequence[nx.Graph], gen: Sequence[nx.Graph], bins: int = 100) -> float:
    """Clustering-coefficient MMD (Gaussian EMD, sigma 0.1, distances scaled by the bin count)."""

    def k(x: np.ndarray, y: np.ndarray) -> float:
        return gaussian_emd(x, y, sigma=0.1, distance_scaling=bins)

    return mmd(
        [clustering_histogram(g, bins) for g in _nonempty(ref)],
        [clustering_histogram(g, bins) for g in _nonempty(gen)],
        k,
    )


def orbit_mmd(ref: Sequence[nx.Graph], gen: Sequence[nx.Graph]) -> float:
    """4-node orbit MMD (Gaussian kernel on mean orbit counts, sigma 30)."""

    def k(x: np.ndarray, y: np.ndarray) -> float:
        return gaussian(x, y, sigma=30.0)

    return mmd([orbit_vector(g) for g in _nonempty(ref)], [orbit_vector(g) for g in _nonempty(gen)], k, is_hist=False)


def spectral_mmd(ref: Sequence[nx.Graph], gen: Sequence[nx.Graph]) -> float:
    """Normalised-Laplacian spectrum MMD (Gaussian EMD, sigma 1)."""
    return mmd(
        [spectral_histogram(g) for g in _nonempty(ref)], [spectral_histogram(g) for g in _nonempty(gen)], gaussian_emd
    )


METRICS: dict[str, Callable[[Sequence[nx.Graph], Sequence[nx.Graph]], float]] = {
    "degree": degree_mmd,
    "clustering": clustering_mmd,
    "orbit": orbit_mmd,
    "spectral": spectral_mmd,
}


def graph_mmds(
    ref: Sequence[nx.Graph],
    gen: Sequence[nx.Graph],
    metrics: Sequence[str] = ("degree", "clustering", "orbit", "spectral"),
) -> dict[str, float]:
    """``{metric: squared MMD}`` between reference and generated graphs for the named statistics."""
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"graph_mmds: unknown metrics {unknown}; expected some of {sorted(METRICS)}")
    return {m: METRICS[m](ref, gen) for m in metrics}
