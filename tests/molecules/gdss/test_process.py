"""The masked system of SDEs keeps states on symmetric graphs of the node set; the packed form for fast solvers."""

from __future__ import annotations

import pytest
import torch

from condiff.core.processes import VEProcess, VPProcess
from condiff.molecules.gdss.process import graph_process, masked_process, pack, packed_process, same_process, unpack


def test_masked_prior_is_symmetric_and_zero_on_padding() -> None:
    flags = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    proc = masked_process(graph_process(VPProcess(beta_min=0.1, beta_max=1.0), VEProcess(0.2, 1.0)), flags)
    x, adj = proc.prior_sample([(1, 4, 3), (1, 4, 4)], generator=torch.Generator().manual_seed(0))
    assert torch.all(x[0, 3] == 0)
    assert torch.equal(adj, adj.transpose(-1, -2))
    assert torch.all(adj[0, 3] == 0)
    assert torch.all(adj.diagonal(dim1=-2, dim2=-1) == 0)


def test_graph_process_takes_hydra_nodes_and_checks_types() -> None:
    p = graph_process(
        {"_target_": "condiff.core.processes.VEProcess", "sigma_min": 0.1, "sigma_max": 1.0},
        VPProcess(beta_min=0.1, beta_max=1.0),
    )
    assert isinstance(p.processes[0], VEProcess)
    with pytest.raises(ValueError, match="x must be a GaussianProcess"):
        graph_process(3.0, VPProcess())  # type: ignore[arg-type]


def test_packed_projection_and_process() -> None:
    flags = torch.tensor([[1.0, 1.0, 0.0]])
    same = graph_process(VPProcess(beta_min=0.1, beta_max=1.0), VPProcess(beta_min=0.1, beta_max=1.0))
    p = packed_process(same, flags, num_features=2)
    z = p.project(torch.randn(1, 3, 5))
    x, adj = unpack(z, 2)
    assert torch.all(x[0, 2] == 0)
    assert torch.equal(adj, adj.transpose(-1, -2))
    assert torch.equal(pack(x, adj), z)
    assert same_process(VPProcess(beta_min=0.1, beta_max=1.0), VPProcess(beta_min=0.1, beta_max=1.0))
    different = graph_process(VPProcess(beta_min=0.1, beta_max=1.0), VPProcess(beta_min=0.2, beta_max=0.8))
    with pytest.raises(ValueError, match="X and A use different SDEs"):
        packed_process(different, flags, 2)
