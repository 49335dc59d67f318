"""Metrics of generated sequences (DRAKES Table 1): reward under the evaluation oracle, k-mer and motif-count
correlation with the data, and log-likelihood under the pretrained model (naturalness)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from condiff.core.discrete import LogitsFn, MaskedDiffusion


def kmer_frequencies(tokens: Tensor, vocab_size: int, k: int = 3) -> np.ndarray:
    """Normalised counts of all ``V^k`` k-mers over the sequences ``(B, L)``: ``(V^k,)``."""
    codes = torch.zeros(tokens.shape[0], tokens.shape[1] - k + 1, dtype=torch.long)
    for i in range(k):
        codes = codes * vocab_size + tokens[:, i : tokens.shape[1] - k + 1 + i].cpu()
    counts = torch.bincount(codes.flatten(), minlength=vocab_size**k).double()
    return (counts / counts.sum()).numpy()


def kmer_correlation(generated: Tensor, reference: Tensor, vocab_size: int, k: int = 3) -> float:
    """Pearson correlation of the k-mer frequencies of generated and reference sequences (DRAKES: 3-mer corr)."""
    return float(
        np.corrcoef(kmer_frequencies(generated, vocab_size, k), kmer_frequencies(reference, vocab_size, k))[0, 1]
    )


def motif_count_correlation(generated_hits: Tensor, reference_hits: Tensor) -> float:
    """Pearson correlation of per-motif hit rates ``(K,)`` (from ``(B, K)`` hit indicators)."""
    g, r = generated_hits.float().mean(0).numpy(), reference_hits.float().mean(0).numpy()
    if np.std(g) == 0 or np.std(r) == 0:
        return 0.0
    return float(np.corrcoef(g, r)[0, 1])


@torch.no_grad()
def log_likelihood(
    diffusion: MaskedDiffusion, logits_fn: LogitsFn, tokens: Tensor, passes: int = 8, seed: int = 0
) -> Tensor:
    """Per-sequence ELBO ``-NELBO`` (nats, a lower bound on ``log p``) under ``logits_fn``: ``(B,)``, MC over passes."""
    gen = torch.Generator().manual_seed(seed)
    return -torch.stack([diffusion.loss(logits_fn, tokens, gen) for _ in range(passes)]).mean(0)
