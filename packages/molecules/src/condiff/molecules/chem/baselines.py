"""A random baseline for molecule generators: graphs with the data's statistics whose atoms respect valence counts.

Each graph keeps a generated graph's size; atom types are drawn from the training atom frequencies,
every atom pair is bonded with the training edge density, bond orders are drawn from the training
bond-order frequencies, and a bond is only placed while both atoms have fewer neighbours than their
neutral valence. Orders are not checked, so the result is a fair "statistics only" generator.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from condiff.molecules.chem.convert import NEUTRAL_VALENCE


def random_valence_graphs(
    x_train: Tensor, adj_train: Tensor, flags: Tensor, atoms: Sequence[str], generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """``(X, A)`` of random molecules of the sizes ``flags: (B, N)`` with the statistics of ``x_train, adj_train``."""
    real = x_train.sum(-1) > 0
    atom_freq = x_train[real].sum(0)
    orders = adj_train[adj_train > 0].round().long()
    order_freq = torch.bincount(orders, minlength=4)[1:].float()
    n = real.sum(1).float()
    density = float((adj_train > 0).sum() / 2 / (n * (n - 1) / 2).clamp(min=1).sum())
    b, size = flags.shape
    x = torch.zeros(b, size, len(atoms))
    adj = torch.zeros(b, size, size)
    valence = torch.tensor([NEUTRAL_VALENCE[a] for a in atoms])
    for g in range(b):
        m = int(flags[g].sum())
        types = torch.multinomial(atom_freq, m, replacement=True, generator=generator)
        x[g, torch.arange(m), types] = 1.0
        degree = torch.zeros(m, dtype=torch.long)
        for i in range(m):
            for j in range(i + 1, m):
                if float(torch.rand((), generator=generator)) >= density:
                    continue
                if degree[i] >= valence[types[i]] or degree[j] >= valence[types[j]]:
                    continue
                order = 1 + int(torch.multinomial(order_freq, 1, generator=generator))
                adj[g, i, j] = adj[g, j, i] = float(order)
                degree[i] += 1
                degree[j] += 1
    return x, adj
