"""Built-in regulatory-like DNA: an order-1 Markov background with planted JASPAR motifs, and its activity.

Each sequence is drawn from a fixed background Markov chain (transition matrix from ``seed``, GC content
about 0.42 as in human DNA); then ``k ~ U{0..max_active}`` active-set motif instances and
``j ~ U{0..max_off_target}`` off-target instances, each a draw of the motif's position probabilities on a
random strand, are written at random positions (later plants may overwrite earlier ones).

Activity (the evaluation oracle, :class:`MotifScanOracle`): the best log-odds scan score ``s_k`` of each
motif on both strands, ``activity = sum_active softplus(s_k - c_k) - 0.5 sum_off softplus(s_k - c_k)`` with
``c_k = 0.6 * max score``. Training labels are ``activity + N(0, label_noise^2)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from condiff.molecules.drakes.dna.motifs import ACTIVE, OFF_TARGET, Motif, jaspar_motifs, scan_scores


def background_chain(seed: int = 0, gc: float = 0.42) -> np.ndarray:
    """A ``(4, 4)`` row-stochastic transition matrix: GC-weighted rows perturbed by Dirichlet(20) noise."""
    rng = np.random.default_rng(seed)
    base = np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
    rows = np.stack([rng.dirichlet(20 * base * 4) for _ in range(4)])
    return rows / rows.sum(1, keepdims=True)


class MotifScanOracle:
    """The true activity of one-hot ``(B, L, 4)`` sequences (module docstring); differentiable, evaluation only."""

    def __init__(self, active: Sequence[Motif], off_target: Sequence[Motif], threshold: float = 0.6) -> None:
        self.active, self.off_target, self.threshold = list(active), list(off_target), float(threshold)

    def _term(self, x: Tensor, motifs: Sequence[Motif]) -> Tensor:
        total = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for m in motifs:
            total = total + torch.nn.functional.softplus(scan_scores(x, m) - self.threshold * m.max_score())
        return total

    def __call__(self, x: Tensor) -> Tensor:
        if not x.is_floating_point():
            x = torch.nn.functional.one_hot(x, 4).float()
        return self._term(x, self.active) - 0.5 * self._term(x, self.off_target)

    def hits(self, tokens: Tensor) -> Tensor:
        """``(B, K)`` 0/1: does each motif (active, then off-target) score above its threshold."""
        x = torch.nn.functional.one_hot(tokens, 4).float()
        cols = [scan_scores(x, m) > self.threshold * m.max_score() for m in [*self.active, *self.off_target]]
        return torch.stack(cols, -1).float()


@dataclass
class RegulatoryDNA:
    """Generator of the built-in DNA set (module docstring)."""

    active: list[Motif]
    off_target: list[Motif]
    transition: np.ndarray
    max_active: int = 3
    max_off_target: int = 2

    @classmethod
    def default(cls, seed: int = 0) -> RegulatoryDNA:
        return cls(jaspar_motifs(ACTIVE), jaspar_motifs(OFF_TARGET), background_chain(seed))

    def oracle(self) -> MotifScanOracle:
        return MotifScanOracle(self.active, self.off_target)

    def sample(self, n: int, length: int, seed: int) -> Tensor:
        """``(n, length)`` token ids (A C G T = 0 1 2 3)."""
        widest = max(m.width for m in [*self.active, *self.off_target])
        if length < widest:
            raise ValueError(f"RegulatoryDNA.sample: length {length} is shorter than the widest motif ({widest})")
        rng = np.random.default_rng(seed)
        x = np.empty((n, length), dtype=np.int64)
        x[:, 0] = rng.choice(4, size=n, p=self.transition.mean(0) / self.transition.mean(0).sum())
        cum = self.transition.cumsum(1)
        for i in range(1, length):
            u = rng.random(n)
            x[:, i] = (u[:, None] > cum[x[:, i - 1]]).sum(1).clip(0, 3)
        for row in range(n):
            plants = [self.active[k] for k in rng.integers(0, len(self.active), rng.integers(0, self.max_active + 1))]
            plants += [
                self.off_target[k]
                for k in rng.integers(0, len(self.off_target), rng.integers(0, self.max_off_target + 1))
            ]
            for m in plants:
                site = np.array([rng.choice(4, p=p) for p in m.probs])
                if rng.random() < 0.5:
                    site = 3 - site[::-1]  # reverse complement
                start = int(rng.integers(0, length - m.width + 1))
                x[row, start : start + m.width] = site
        return torch.from_numpy(x)

    def labelled(self, n: int, length: int, seed: int, label_noise: float = 0.3) -> tuple[Tensor, Tensor, Tensor]:
        """``(tokens, noisy labels, true activity)``."""
        tokens = self.sample(n, length, seed)
        with torch.no_grad():
            activity = self.oracle()(tokens).float()
        gen = torch.Generator().manual_seed(seed + 1)
        return tokens, activity + label_noise * torch.randn(n, generator=gen), activity
