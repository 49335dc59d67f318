"""MMD kernels against hand-computed values; exact orbit counts against known graphlets and networkx."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from condiff.molecules.graphs.mmd import gaussian, gaussian_emd, gaussian_tv, graph_mmds, mmd
from condiff.molecules.graphs.orbits import orbit_counts


def test_gaussian_emd_is_exact_for_shifted_deltas() -> None:
    # unit mass moved by one bin: W = 1 (scaling 1) or 1/100 (scaling 100)
    assert gaussian_emd(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(math.exp(-0.5))
    assert gaussian_emd(np.array([1.0]), np.array([0.0, 0.0, 1.0]), sigma=0.1, distance_scaling=100) == pytest.approx(
        math.exp(-(0.02**2) / (2 * 0.01))
    )


def test_gaussian_and_tv_kernels() -> None:
    assert gaussian(np.array([3.0]), np.array([0.0, 4.0]), sigma=5.0) == pytest.approx(math.exp(-25 / 50))
    assert gaussian_tv(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(math.exp(-0.5))


def test_mmd_of_a_set_with_itself_is_zero_and_positive_otherwise() -> None:
    a = [np.array([1.0, 2.0, 1.0]), np.array([0.0, 3.0])]
    b = [np.array([4.0, 0.0, 0.0, 1.0])]
    assert mmd(a, a, gaussian_emd) == pytest.approx(0.0, abs=1e-12)
    assert mmd(a, b, gaussian_emd) > 0.01


@pytest.mark.parametrize(
    ("graph", "orbit", "count"),
    [
        (nx.complete_graph(4), 14, 1),
        (nx.cycle_graph(4), 8, 1),
        (nx.star_graph(3), 7, 1),
        (nx.path_graph(4), 4, 1),
        (nx.Graph([(0, 1), (1, 2), (2, 0), (0, 3)]), 11, 1),  # paw: node 0 has degree 3
        (nx.Graph([(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)]), 13, 1),  # diamond: 0 and 2 have degree 3
    ],
)
def test_orbit_of_node_zero_in_each_graphlet(graph: nx.Graph, orbit: int, count: int) -> None:
    assert orbit_counts(graph)[0, orbit] == count


def test_orbit_counts_agree_with_networkx_on_a_random_graph() -> None:
    g = nx.gnp_random_graph(25, 0.25, seed=1)
    c = orbit_counts(g)
    assert c[:, 0].tolist() == [d for _, d in g.degree()]
    assert c[:, 3].tolist() == [nx.triangles(g)[v] for v in g.nodes()]
    # every 3-path centred at v: C(deg, 2) pairs of neighbours minus the closed ones (triangles)
    assert c[:, 2].tolist() == [math.comb(d, 2) - nx.triangles(g)[v] for v, d in g.degree()]
    # K4s: each counted once per member
    k4 = sum(1 for q in nx.enumerate_all_cliques(g) if len(q) == 4)
    assert c[:, 14].sum() == 4 * k4


def test_graph_mmds_are_small_within_a_distribution_and_large_across() -> None:
    same = graph_mmds([nx.cycle_graph(10)] * 4, [nx.cycle_graph(10)] * 4)
    assert all(v == pytest.approx(0.0, abs=1e-12) for v in same.values())
    diff = graph_mmds([nx.cycle_graph(10)] * 4, [nx.complete_graph(6)] * 4)
    assert all(v > 0.1 for v in diff.values())
    with pytest.raises(ValueError, match="unknown metrics"):
        graph_mmds([nx.cycle_graph(3)], [nx.cycle_graph(3)], ("betweenness",))
