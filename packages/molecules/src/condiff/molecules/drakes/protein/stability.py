"""A sequence-level stability proxy for designed helices and a built-in protein-like sequence set.

Stability proxy (the evaluation oracle of the built-in protein task), per sequence of one-hot ``x (B, L, 20)``:

    S(x) = mean_l P_helix(x_l) + mu_H(x) / L

``P_helix`` is the helix propensity of each residue as ``-ddG`` (kcal/mol, alanine = 0) of Pace & Scholtz
(1998), so helix formers raise S, and ``mu_H`` the hydrophobic moment at 100 degrees per residue
(Eisenberg et al. 1982, consensus hydrophobicity): ``|sum_l h(x_l) exp(i 100deg l)|``, large for amphipathic
helices with a hydrophobic face. Both are sums of per-residue tables, so S is differentiable in ``x``. It is a
proxy, not a folding free energy: a user's ddG oracle plugs in through :class:`DdgOracle`.

Built-in sequences: residues drawn from the UniProt amino-acid composition with a helical heptad bias (with
probability ``heptad_bias`` positions ``a`` and ``d`` of ``abcdefg`` take a hydrophobic residue), so the data
hold a spread of S values for the model to learn and the fine-tuning to improve.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from condiff.molecules.drakes.sequences import PROTEIN

# Pace & Scholtz (1998) helix propensities, ddG relative to Ala in kcal/mol (Gly 1.0, Pro 3.16).
HELIX_DDG = {"A": 0.0, "L": 0.21, "R": 0.21, "M": 0.24, "K": 0.26, "Q": 0.39, "E": 0.40, "I": 0.41, "W": 0.49,
             "S": 0.50, "Y": 0.53, "F": 0.54, "H": 0.61, "V": 0.61, "N": 0.65, "T": 0.66, "C": 0.68, "D": 0.69,
             "G": 1.00, "P": 3.16}  # fmt: skip
# Eisenberg consensus hydrophobicity scale (normalised).
EISENBERG = {"A": 0.62, "R": -2.53, "N": -0.78, "D": -0.90, "C": 0.29, "Q": -0.85, "E": -0.74, "G": 0.48,
             "H": -0.40, "I": 1.38, "L": 1.06, "K": -1.50, "M": 0.64, "F": 1.19, "P": 0.12, "S": -0.18,
             "T": -0.05, "W": 0.81, "Y": 0.26, "V": 1.08}  # fmt: skip
# UniProtKB/Swiss-Prot amino-acid composition (percent; release statistics).
COMPOSITION = {"A": 8.25, "R": 5.53, "N": 4.06, "D": 5.45, "C": 1.37, "Q": 3.93, "E": 6.75, "G": 7.07, "H": 2.27,
               "I": 5.96, "L": 9.66, "K": 5.84, "M": 2.42, "F": 3.86, "P": 4.70, "S": 6.56, "T": 5.34, "W": 1.08,
               "Y": 2.92, "V": 6.87}  # fmt: skip
HYDROPHOBIC = "AILMFVW"


def _table(values: dict[str, float]) -> Tensor:
    return torch.tensor([values[a] for a in PROTEIN], dtype=torch.float32)


class DdgOracle(Protocol):
    """A user-supplied stability oracle: ``tokens (B, L) -> (B,)`` (e.g. predicted ddG of folding, sign chosen so
    that higher is more stable), used as DRAKES' evaluation oracle or, if differentiable on one-hot input, as
    its fine-tuning reward."""

    def __call__(self, x: Tensor) -> Tensor: ...


class StabilityProxy:
    """``S(x)`` of the module docstring on one-hot ``(B, L, 20)`` floats or token ids ``(B, L)``."""

    def __init__(self) -> None:
        self.propensity = -_table(HELIX_DDG)
        self.hydrophobicity = _table(EISENBERG)

    def __call__(self, x: Tensor) -> Tensor:
        if not x.is_floating_point():
            x = torch.nn.functional.one_hot(x, 20).float()
        x = x[..., :20]
        length = x.shape[1]
        helix = (x @ self.propensity.to(x)).mean(-1)
        h = x @ self.hydrophobicity.to(x)
        angle = torch.deg2rad(torch.tensor(100.0)) * torch.arange(length, device=x.device, dtype=x.dtype)
        moment = torch.sqrt((h * torch.cos(angle)).sum(-1) ** 2 + (h * torch.sin(angle)).sum(-1) ** 2 + 1e-12)
        return helix + moment / length


def protein_like_sequences(n: int, length: int, seed: int, heptad_bias: float = 0.5) -> Tensor:
    """``(n, length)`` token ids over :data:`PROTEIN` (module docstring)."""
    rng = np.random.default_rng(seed)
    comp = np.array([COMPOSITION[a] for a in PROTEIN])
    comp = comp / comp.sum()
    hyd = np.array([COMPOSITION[a] if a in HYDROPHOBIC else 0.0 for a in PROTEIN])
    hyd = hyd / hyd.sum()
    x = rng.choice(20, size=(n, length), p=comp)
    offset = rng.integers(0, 7, size=n)
    core = ((np.arange(length)[None, :] + offset[:, None]) % 7 == 0) | (
        (np.arange(length)[None, :] + offset[:, None]) % 7 == 3
    )
    biased = rng.random(n) < heptad_bias
    replace = core & biased[:, None]
    x[replace] = rng.choice(20, size=int(replace.sum()), p=hyd)
    return torch.from_numpy(x.astype(np.int64))
