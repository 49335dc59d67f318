"""Scores of unconditional trajectory generation (GeoTDM Sec. 5.1, after LS4, Zhou et al. 2023).

``marginal_score``: for every coordinate axis, the mean absolute difference between the density histogram of the
real values (``bins`` bins over their range) and the density of the generated values in the same bins,
averaged over axes (lower is better; 0 for identical sets). ``classification_score``: the held-out binary
cross-entropy of a small equivariant classifier trained to tell real from generated systems (higher is
better; ``ln 2`` when indistinguishable). ``prediction_score``: the held-out MSE on real trajectories of a
small equivariant forecaster (first ``given`` frames -> the rest) trained on generated ones (lower is better).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from condiff.molecules.geotdm.network import GeoTDMNetwork
from condiff.molecules.geotdm.systems import Systems


def marginal_score(real: Tensor, fake: Tensor, bins: int = 50) -> float:
    """Histogram distance of ``real: (M, T, 3)`` and ``fake: (M', T, 3)`` per axis, averaged (see module doc)."""
    scores = []
    for d in range(real.shape[-1]):
        r, f = real[..., d].reshape(-1).double(), fake[..., d].reshape(-1).double()
        lo, hi = float(r.min()), float(r.max())
        width = (hi - lo) / bins if hi > lo else 1.0
        density_r, density_f = (_density(v, lo, hi, width, bins) for v in (r, f))
        scores.append(float((density_r - density_f).abs().mean()))
    return sum(scores) / len(scores)


def _density(v: Tensor, lo: float, hi: float, width: float, bins: int) -> Tensor:
    """Histogram density of ``v`` on ``bins`` bins of ``width`` over ``[lo, hi]`` (``hi`` in the last bin; values
    outside the range count in the total but in no bin)."""
    index = torch.floor((v - lo) / width).long()
    index = torch.where((index >= bins) & (v <= hi), bins - 1, index)
    ok = (index >= 0) & (index < bins)
    counts = torch.bincount(index[ok], minlength=bins).to(torch.float64)
    return counts / (width * v.numel())


class _Probe(nn.Module):
    """A one-layer EGTN with a linear head: a logit per system or a coordinate update per node and frame."""

    def __init__(self, node_dim: int, hidden: int) -> None:
        super().__init__()
        self.net = GeoTDMNetwork(node_dim=node_dim, hidden=hidden, num_layers=1, heads=2, time_dim=8)
        self.head = nn.Linear(hidden, 1)

    def forward(self, sys: Systems, cond_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        t = sys.x.new_zeros(sys.num_systems)
        dx, h = self.net(sys.x, t, sys.batch, node_attr=sys.node_attr, cond_mask=cond_mask)
        b = sys.num_systems
        pooled = h.new_zeros(b, h.shape[-1]).index_add_(0, sys.batch, h.mean(dim=1))
        pooled = pooled / torch.bincount(sys.batch, minlength=b).to(h.dtype)[:, None]
        return self.head(pooled).squeeze(-1), dx


def _split(n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    perm = torch.randperm(n, generator=generator)
    cut = int(0.8 * n)
    return perm[:cut], perm[cut:]


def _select(sys: Systems, systems: Tensor) -> Systems:
    """The systems ``systems`` (indices) of a batch of equal-size systems, re-indexed from 0."""
    n = int(torch.bincount(sys.batch)[0])
    nodes = (systems[:, None] * n + torch.arange(n)[None]).reshape(-1)
    attr = None if sys.node_attr is None else sys.node_attr[nodes]
    return Systems(sys.x[nodes], torch.arange(systems.numel()).repeat_interleave(n), attr)


def classification_score(real: Systems, fake: Systems, steps: int = 200, hidden: int = 16, seed: int = 0) -> float:
    """Held-out BCE of a real-vs-generated classifier (systems of equal size; 80/20 split of each set)."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    node_dim = 0 if real.node_attr is None else real.node_attr.shape[-1]
    probe = _Probe(node_dim, hidden)
    opt = torch.optim.Adam(probe.parameters(), lr=5e-3)
    parts = [_split(s.num_systems, g) for s in (real, fake)]

    def batch(which: int, size: int | None) -> tuple[Systems, Tensor]:
        xs, labels = [], []
        for label, (s, (train, test)) in enumerate(zip((real, fake), parts, strict=True)):
            idx = train if which == 0 else test
            if size is not None:
                idx = idx[torch.randint(idx.numel(), (size,), generator=g)]
            xs.append(_select(s, idx))
            labels.append(torch.full((idx.numel(),), float(label)))
        joined = _join(xs)
        return joined, torch.cat(labels)

    for _ in range(steps):
        sys, y = batch(0, 32)
        loss = F.binary_cross_entropy_with_logits(probe(sys)[0], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        sys, y = batch(1, None)
        return float(F.binary_cross_entropy_with_logits(probe(sys)[0], y))


def prediction_score(
    real: Systems, fake: Systems, given: int, steps: int = 200, hidden: int = 16, seed: int = 0
) -> float:
    """MSE on real systems of a forecaster of frames ``given:`` from frames ``:given`` trained on generated ones."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    node_dim = 0 if real.node_attr is None else real.node_attr.shape[-1]
    probe = _Probe(node_dim, hidden)
    opt = torch.optim.Adam(probe.parameters(), lr=5e-3)
    frames = real.x.shape[1]
    mask = torch.arange(frames) < given

    def predict(sys: Systems) -> Tensor:
        inp = torch.where(mask[None, :, None], sys.x, sys.x[:, given - 1 : given])  # future frames: the last given
        _, dx = probe(sys.with_x(inp), cond_mask=mask)
        return (inp + dx)[:, given:]

    for _ in range(steps):
        sys = _select(fake, torch.randint(fake.num_systems, (32,), generator=g))
        loss = F.mse_loss(predict(sys), sys.x[:, given:])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float(F.mse_loss(predict(real), real.x[:, given:]))


def _join(parts: list[Systems]) -> Systems:
    offsets = [0]
    for p in parts[:-1]:
        offsets.append(offsets[-1] + p.num_systems)
    attrs = [p.node_attr for p in parts]
    return Systems(
        torch.cat([p.x for p in parts]),
        torch.cat([p.batch + o for p, o in zip(parts, offsets, strict=True)]),
        None if any(a is None for a in attrs) else torch.cat(attrs),  # type: ignore[arg-type]
    )


LN2 = math.log(2.0)
