"""Every sampler runs on the masked tuple state (PC, S4, Euler-Maruyama) or the packed one (fast ODE solvers)."""

from __future__ import annotations

import pytest
import torch

from condiff.core.processes import VEProcess, VPProcess
from condiff.molecules.gdss.networks import gdss_network
from condiff.molecules.gdss.process import graph_process
from condiff.molecules.gdss.sampling import sample_graphs

TINY = {"hidden": 8, "attn_dim": 8, "num_layers": 2, "c_hid": 2, "c_final": 2}


@pytest.mark.parametrize(
    ("method", "options", "nfe"),
    [
        ("pc", {"predictor": "reverse-diffusion", "corrector": "langevin", "snr": 0.1, "scale_eps": 0.7}, 8),
        ("pc", {"predictor": "euler-maruyama", "corrector": "langevin", "snr": 0.05, "scale_eps": 0.7}, 8),
        ("s4", {"snr": 0.1, "scale_eps": 0.7, "corrector": "langevin", "denoise_final": True}, 5),
        ("euler-maruyama", {}, 4),
        ("dpm-solver++", {}, 4),
        ("unipc", {}, 4),
    ],
)
def test_samplers_return_masked_symmetric_graphs(method: str, options: dict, nfe: int) -> None:
    torch.manual_seed(0)
    net = gdss_network(3, {"depth": 1, "hidden": 8}, TINY).eval()
    proc = graph_process(
        VPProcess(beta_min=0.1, beta_max=1.0, t_min=1e-5), VPProcess(beta_min=0.1, beta_max=1.0, t_min=1e-5)
    )
    flags = torch.tensor([[1.0] * 5 + [0.0], [1.0] * 6])
    with torch.no_grad():
        res = sample_graphs(
            net, proc, flags, 3, steps=4, method=method, generator=torch.Generator().manual_seed(0), **options
        )
    assert res.nfe == nfe
    assert torch.isfinite(res.x).all()
    assert torch.isfinite(res.adj).all()
    assert torch.equal(res.adj, res.adj.transpose(-1, -2))
    assert torch.all(res.adj[0, 5] == 0)
    assert torch.all(res.x[0, 5] == 0)


def test_sampling_is_reproducible_and_mixed_processes_run_with_s4() -> None:
    torch.manual_seed(0)
    net = gdss_network(3, {"depth": 1, "hidden": 8}, TINY).eval()
    proc = graph_process(VPProcess(beta_min=0.1, beta_max=1.0, t_min=1e-5), VEProcess(0.2, 1.0, t_min=1e-5))
    flags = torch.ones(2, 4)
    with torch.no_grad():
        a = sample_graphs(net, proc, flags, 3, steps=3, method="s4", generator=torch.Generator().manual_seed(3))
        b = sample_graphs(net, proc, flags, 3, steps=3, method="s4", generator=torch.Generator().manual_seed(3))
        with pytest.raises(ValueError, match="different SDEs"):
            sample_graphs(net, proc, flags, 3, steps=3, method="unipc")
    assert torch.equal(a.adj, b.adj)
    assert torch.equal(a.x, b.x)
