"""The built-in DNA task end to end: JASPAR motifs from the pyjaspar wheel, a dilated-CNN masked diffusion
model pretrained on motif-planted Markov DNA, a CNN fine-tuning oracle fit on noisy labels, DRAKES against
that oracle, scored by the true motif scan (the evaluation oracle)."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from condiff.core.discrete import LogLinearSchedule, MaskedDiffusion, sample
from condiff.core.discrete.module import MaskedDiffusionModule
from condiff.core.errors import DataValidationError
from condiff.molecules.drakes import DrakesModule, IterationDataset
from condiff.molecules.drakes.dna.motifs import jaspar_motif, scan_scores
from condiff.molecules.drakes.dna.synthetic import RegulatoryDNA
from condiff.molecules.drakes.metrics import kmer_correlation, kmer_frequencies, log_likelihood
from condiff.molecules.drakes.networks import CNNRegressor, DilatedCNNDenoiser
from condiff.molecules.drakes.oracle import RegressorModule
from condiff.molecules.drakes.sequences import decode, read_csv, read_fasta
from tests.molecules.drakes.common import TRAINER

LENGTH = 40


def test_jaspar_motif_scan_finds_a_planted_site() -> None:
    m = jaspar_motif("HNF1A")
    assert m.matrix_id.startswith("MA0046")  # the human HNF1A matrix of JASPAR 2024
    consensus = torch.tensor(m.probs.argmax(1))
    background = torch.zeros(1, 30, dtype=torch.long)  # poly-A
    planted = background.clone()
    planted[0, 5 : 5 + m.width] = consensus
    rc = background.clone()
    rc[0, 10 : 10 + m.width] = 3 - consensus.flip(0)  # reverse-complement site
    x = torch.nn.functional.one_hot(torch.cat([background, planted, rc]), 4).float()
    s = scan_scores(x, m)
    assert s[1] == pytest.approx(m.max_score(), rel=1e-5)
    assert s[2] == pytest.approx(m.max_score(), rel=1e-5)
    assert s[0] < 0.3 * m.max_score()


def test_fasta_and_csv_loaders_name_bad_characters(tmp_path: Path) -> None:
    fa = tmp_path / "enh.fa"
    fa.write_text(">s1 1.5\nACGT\nAC\n>s2 -0.5\nacgtga\n")
    got = read_fasta(fa)
    assert got.tokens.tolist() == [[0, 1, 2, 3, 0, 1], [0, 1, 2, 3, 2, 0]]
    assert got.labels is not None
    assert got.labels.tolist() == [1.5, -0.5]
    assert decode(got.tokens, "ACGT") == ["ACGTAC", "ACGTGA"]  # upper case, the reading's inverse
    fa.write_text(">s1\nACGT\n>s2\nACNT\n")
    with pytest.raises(DataValidationError, match=r"enh\.fa, record starting at line 3: character 'N' at position 3"):
        read_fasta(fa)
    csv = tmp_path / "enh.csv"
    csv.write_text("sequence,hepg2\nACGT,0.1\nACGU,0.2\n")
    with pytest.raises(DataValidationError, match=r"enh\.csv, line 3: character 'U'"):
        read_csv(csv, label_column="hepg2")
    csv.write_text("sequence,hepg2\nACGT,0.1\nAC,0.2\n")
    with pytest.raises(DataValidationError, match="different lengths"):
        read_csv(csv, label_column="hepg2")
    with pytest.raises(DataValidationError, match="no column 'activity'"):
        read_csv(csv, label_column="activity")


def test_kmer_frequencies_are_exact() -> None:
    f = kmer_frequencies(torch.tensor([[0, 1, 2, 3]]), 4, k=3)
    assert f[0 * 16 + 1 * 4 + 2] == 0.5  # ACG
    assert f[1 * 16 + 2 * 4 + 3] == 0.5  # CGT


@pytest.fixture(scope="module")
def task():
    gen = RegulatoryDNA.default()
    train, labels, _ = gen.labelled(4000, LENGTH, seed=0, label_noise=1.0)
    test, _, test_activity = gen.labelled(500, LENGTH, seed=1, label_noise=1.0)
    torch.manual_seed(0)
    diffusion = MaskedDiffusion(4, LogLinearSchedule())
    denoiser = DilatedCNNDenoiser(4, channels=32, kernel=5, dilations=(1, 2, 4, 8), repeats=1)
    pre = MaskedDiffusionModule(denoiser, diffusion, lr=2e-3, ema_decay=0.99)
    L.Trainer(max_steps=300, **TRAINER).fit(pre, DataLoader(TensorDataset(train), batch_size=64, shuffle=True))
    regressor = CNNRegressor(4, channels=32)
    L.Trainer(max_steps=200, **TRAINER).fit(
        RegressorModule(regressor, lr=2e-3), DataLoader(TensorDataset(train, labels), batch_size=64, shuffle=True)
    )
    return gen, diffusion, pre.ema_network.eval(), regressor.eval().requires_grad_(False), test, test_activity


def test_drakes_raises_the_true_activity_and_beats_best_of_n(task) -> None:
    """Measured (pretraining 300 steps; alpha 0.2, 45 DRAKES steps of 32 trajectories, tau 0.3): median activity
    0.000 -> 0.246 (best-of-8 by the fine-tuning oracle: 0.045, at 8x the sampling cost), 3-mer correlation with
    held-out data 0.91 -> 0.82. (With 400 pretraining steps: 0.51 vs best-of-8 0.10, 3-mer 0.94 -> 0.83.)"""
    gen, diffusion, pretrained, regressor, test, test_activity = task
    oracle = gen.oracle()
    with torch.no_grad():
        assert np.corrcoef(regressor(test).numpy(), test_activity.numpy())[0, 1] > 0.7  # measured 0.87
    module = DrakesModule(pretrained, diffusion, regressor, length=LENGTH, batch_size=32, steps=20, alpha=0.2,
                          temperature=0.3, truncate=10, lr=1e-3, use_checkpoint=False,
                          evaluation_oracle=oracle)  # fmt: skip
    L.Trainer(max_steps=45, **TRAINER).fit(module, DataLoader(IterationDataset(45), batch_size=None))
    g = torch.Generator().manual_seed(5)
    n = 128
    with torch.no_grad():
        s_pre = sample(diffusion, pretrained, (n, LENGTH), steps=40, generator=g).tokens
        s_ft = sample(diffusion, module.finetuned.eval(), (n, LENGTH), steps=40, generator=g).tokens
        many = sample(diffusion, pretrained, (8 * n, LENGTH), steps=40, generator=g).tokens.view(n, 8, LENGTH)
        best = many[torch.arange(n), regressor(many.view(-1, LENGTH)).view(n, 8).argmax(1)]
        r_pre, r_ft, r_best = (float(oracle(s).median()) for s in (s_pre, s_ft, best))
    c_pre, c_ft = kmer_correlation(s_pre, test, 4), kmer_correlation(s_ft, test, 4)
    ll_ft = float(log_likelihood(diffusion, pretrained, s_ft).mean())
    print(f"median activity: pretrained {r_pre:.3f}, DRAKES {r_ft:.3f}, best-of-8 {r_best:.3f}; "
          f"3-mer corr {c_pre:.3f} -> {c_ft:.3f}; log-likelihood of DRAKES samples {ll_ft:.1f}")  # fmt: skip
    assert r_ft > r_pre + 0.15
    assert r_ft > r_best + 0.1
    assert c_ft > 0.75
