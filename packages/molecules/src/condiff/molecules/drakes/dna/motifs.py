"""Transcription-factor motifs from the JASPAR database shipped inside the ``pyjaspar`` wheel (SQLite, offline).

A motif's counts become a position probability matrix ``P (w, 4)`` (order A C G T, pseudocount per cell) and
log-odds ``log2(P / 0.25)`` against a uniform background; scanning a one-hot sequence with the log-odds is a
1-D convolution, on both strands (the reverse complement of the motif is the flipped matrix with A<->T, C<->G).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

from condiff.core.errors import ConfigError

ALPHABET = "ACGT"
# The paper's HepG2 enhancer task rewards liver activity: these liver factors are the "active" set here.
ACTIVE = ("HNF1A", "HNF4A", "CEBPA", "FOXA2")
OFF_TARGET = ("GATA1", "SPI1", "REST")


@dataclass(frozen=True)
class Motif:
    """``name``, JASPAR ``matrix_id`` and position probabilities ``probs (w, 4)`` (A C G T)."""

    name: str
    matrix_id: str
    probs: np.ndarray

    @property
    def width(self) -> int:
        return int(self.probs.shape[0])

    def log_odds(self) -> np.ndarray:
        """``log2(P / 0.25)``, ``(w, 4)``."""
        return np.log2(self.probs / 0.25)

    def max_score(self) -> float:
        return float(self.log_odds().max(1).sum())


@lru_cache(maxsize=4)
def _database(release: str):
    from pyjaspar import jaspardb

    return jaspardb(release=release)


def jaspar_motif(name: str, release: str = "JASPAR2024", species: str = "9606", pseudocount: float = 0.5) -> Motif:
    """The motif ``name`` (a human one, ``species`` 9606, when JASPAR has several) from pyjaspar's SQLite file."""
    found = _database(release).fetch_motifs_by_name(name)
    if not found:
        raise ConfigError(f"motif {name!r} is not in {release} (pyjaspar)")
    pick = next((m for m in found if species in (m.species or [])), found[0])
    counts = np.array([[float(pick.counts[base][i]) for base in ALPHABET] for i in range(pick.length)])
    probs = (counts + pseudocount) / (counts + pseudocount).sum(1, keepdims=True)
    return Motif(name=name, matrix_id=str(pick.matrix_id), probs=probs)


def jaspar_motifs(names: Sequence[str], release: str = "JASPAR2024") -> list[Motif]:
    return [jaspar_motif(n, release) for n in names]


def scan_scores(x: Tensor, motif: Motif) -> Tensor:
    """Best log-odds score of ``motif`` on either strand of one-hot sequences ``x (B, L, 4)``: ``(B,)``.

    Differentiable in ``x`` (max over positions); needs ``L >= motif.width``.
    """
    if x.shape[1] < motif.width:
        raise ValueError(f"scan_scores: sequences of length {x.shape[1]} are shorter than {motif.name} ({motif.width})")
    w = torch.as_tensor(motif.log_odds(), dtype=x.dtype, device=x.device)  # (w, 4)
    forward = w.T[None]  # (1, 4, w) conv filter
    reverse = w.flip(0)[:, [3, 2, 1, 0]].T[None]  # reverse complement
    filters = torch.cat([forward, reverse], 0)  # (2, 4, w)
    scores = torch.nn.functional.conv1d(x.transpose(1, 2), filters)  # (B, 2, L - w + 1)
    return scores.flatten(1).max(-1).values
