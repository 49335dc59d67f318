"""DRAKES on the 20-letter alphabet: a tiny masked diffusion model of built-in protein-like sequences,
fine-tuned against a CNN regressor of the stability proxy (noisy labels), scored by the proxy itself."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from condiff.core.discrete import LogLinearSchedule, MaskedDiffusion, sample
from condiff.core.discrete.module import MaskedDiffusionModule
from condiff.molecules.drakes import DrakesModule, IterationDataset
from condiff.molecules.drakes.metrics import kmer_correlation
from condiff.molecules.drakes.networks import CNNRegressor, DilatedCNNDenoiser
from condiff.molecules.drakes.oracle import RegressorModule
from condiff.molecules.drakes.protein.stability import StabilityProxy, protein_like_sequences
from tests.molecules.drakes.common import TRAINER

LENGTH = 24


def test_stability_proxy_rewards_helix_formers_and_an_amphipathic_face() -> None:
    proxy = StabilityProxy()
    ids = {a: i for i, a in enumerate("ACDEFGHIKLMNPQRSTVWY")}
    poly = {a: torch.full((1, 14), ids[a]) for a in "AGP"}
    assert proxy(poly["A"]) > proxy(poly["G"]) > proxy(poly["P"])  # Pace-Scholtz order
    # heptad-like L/K pattern with period ~3.6: a hydrophobic face raises the moment over the same residues shuffled
    face = torch.tensor([[ids[c] for c in "LKKLLKKLKKLLKK"]])
    shuffled = face[:, torch.randperm(14, generator=torch.Generator().manual_seed(0))]
    assert proxy(face) > proxy(shuffled)
    x = torch.nn.functional.one_hot(face, 20).float().requires_grad_(True)
    proxy(x).sum().backward()
    assert x.grad is not None


def test_drakes_raises_the_stability_proxy() -> None:
    """Measured (alpha 0.02, 40 steps of 32 trajectories): median proxy -0.380 -> -0.148 (the data: -0.31),
    amino-acid composition correlation with held-out sequences 0.985 -> 0.832."""
    proxy = StabilityProxy()
    train = protein_like_sequences(3000, LENGTH, seed=0)
    labels = proxy(train) + 0.05 * torch.randn(3000, generator=torch.Generator().manual_seed(1))
    test = protein_like_sequences(500, LENGTH, seed=2)
    torch.manual_seed(0)
    diffusion = MaskedDiffusion(20, LogLinearSchedule())
    pre = MaskedDiffusionModule(DilatedCNNDenoiser(20, channels=32, dilations=(1, 2, 4), repeats=1), diffusion,
                                lr=2e-3, ema_decay=0.99)  # fmt: skip
    L.Trainer(max_steps=250, **TRAINER).fit(pre, DataLoader(TensorDataset(train), batch_size=64, shuffle=True))
    regressor = CNNRegressor(20, channels=32, kernel=7)
    L.Trainer(max_steps=200, **TRAINER).fit(
        RegressorModule(regressor, lr=2e-3), DataLoader(TensorDataset(train, labels), batch_size=64, shuffle=True)
    )
    regressor.eval().requires_grad_(False)
    pretrained = pre.ema_network.eval()
    module = DrakesModule(pretrained, diffusion, regressor, length=LENGTH, batch_size=32, steps=12, alpha=0.02,
                          temperature=0.3, lr=1e-3, use_checkpoint=False, evaluation_oracle=proxy)  # fmt: skip
    L.Trainer(max_steps=40, **TRAINER).fit(module, DataLoader(IterationDataset(40), batch_size=None))
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        s_pre = sample(diffusion, pretrained, (256, LENGTH), steps=24, generator=g).tokens
        s_ft = sample(diffusion, module.finetuned.eval(), (256, LENGTH), steps=24, generator=g).tokens
        r_pre, r_ft = float(proxy(s_pre).median()), float(proxy(s_ft).median())
    c_pre, c_ft = kmer_correlation(s_pre, test, 20, k=1), kmer_correlation(s_ft, test, 20, k=1)
    msg = f"median proxy {r_pre:.3f} -> {r_ft:.3f}; composition corr {c_pre:.3f} -> {c_ft:.3f}"
    print(msg)
    assert r_ft > r_pre + 0.1, msg
    assert c_ft > 0.6, msg
