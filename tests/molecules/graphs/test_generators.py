"""The generic graph sets are regenerated as GDSS does, deterministically from a seed."""

from __future__ import annotations

import networkx as nx
import pytest

from condiff.core.errors import ConfigError
from condiff.molecules.graphs.generators import community_small, ego_small, grid, make_graphs


def test_community_small_matches_gdss_sizes_and_structure() -> None:
    graphs = community_small(seed=3)
    assert len(graphs) == 100
    assert all(12 <= g.number_of_nodes() <= 20 and g.number_of_nodes() % 2 == 0 for g in graphs)
    assert all(nx.is_connected(g) for g in graphs)  # the forced bridge joins the two communities
    assert [nx.to_numpy_array(g).tolist() for g in graphs] == [
        nx.to_numpy_array(g).tolist() for g in community_small(seed=3)
    ]


def test_grid_sizes() -> None:
    graphs = grid(num_graphs=20, seed=0)
    assert all(100 <= g.number_of_nodes() <= 361 for g in graphs)
    assert all(max(d for _, d in g.degree()) == 4 for g in graphs)


def test_ego_small_are_radius_one_ego_nets() -> None:
    graphs = ego_small(seed=0)
    assert len(graphs) == 200
    assert all(4 <= g.number_of_nodes() <= 18 for g in graphs)
    # an ego net has a centre adjacent to every other node
    assert all(max(d for _, d in g.degree()) == g.number_of_nodes() - 1 for g in graphs)


def test_unknown_data_set_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown graph data set 'lobster'"):
        make_graphs("lobster")
