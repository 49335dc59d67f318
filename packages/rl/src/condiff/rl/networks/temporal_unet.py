"""Temporal 1-D UNet over the planning horizon (Janner et al. 2022, Diffuser; Ajay et al. 2023, Decision Diffuser)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from condiff.core.networks.embeddings import TimeEmbedding


class _ResBlock1d(nn.Module):
    """Two ``Conv1d -> GroupNorm -> Mish`` layers; the embedding is added between them (Diffuser's block)."""

    def __init__(self, cin: int, cout: int, emb_dim: int, kernel: int = 5) -> None:
        super().__init__()
        groups = min(8, cout)
        self.conv1 = nn.Sequential(
            nn.Conv1d(cin, cout, kernel, padding=kernel // 2), nn.GroupNorm(groups, cout), nn.Mish()
        )
        self.conv2 = nn.Sequential(
            nn.Conv1d(cout, cout, kernel, padding=kernel // 2), nn.GroupNorm(groups, cout), nn.Mish()
        )
        self.emb = nn.Sequential(nn.Mish(), nn.Linear(emb_dim, cout))
        self.skip = nn.Conv1d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        h = self.conv1(x) + self.emb(emb)[:, :, None]
        return self.conv2(h) + self.skip(x)


class TemporalUNet(nn.Module):
    """Denoiser ``f(x_t, t, returns, goal, start, cond_drop)`` of a state trajectory ``x: (B, D, H)``.

    The return ``(B, 1)`` is embedded by an MLP and zeroed where ``cond_drop`` is true, so one network
    gives the conditional and unconditional outputs of classifier-free guidance (Decision Diffuser,
    Eq. 6). The goal ``(B, 2)`` of goal-reaching tasks is never dropped: it defines the task.

    The current state ``start (B, D)``, the plan's first state, is given clean, as ``D + 1`` extra input
    channels (the state at step 0, zero elsewhere, and a mask marking step 0), and is never dropped.
    Diffuser and Decision Diffuser show the network the clean current state in training and sampling
    alike (``apply_conditioning`` on ``x_t``); a network that only ever sees it noised (replacement in
    ``x0_hat`` alone) cannot tie a plan sampled from pure noise to it: at high noise the noised state
    carries almost no information, and the plans it drew started ~1.4 units (30 steps of motion) away
    from the current state (docs/rl.md).

    Args:
        state_dim: ``D``, channels of the trajectory.
        base_channels: channels of the first stage.
        channel_mults: channel multiplier per stage; each stage but the last halves the horizon.
        goal_dim: 2 for PointMaze goals, 0 for none.
        start_conditioned: take the clean current state ``start`` as input channels (required then).
    """

    def __init__(
        self,
        state_dim: int,
        base_channels: int = 32,
        channel_mults: tuple[int, ...] | list[int] = (1, 2, 4),
        goal_dim: int = 0,
        start_conditioned: bool = True,
    ) -> None:
        super().__init__()
        emb = 4 * base_channels
        self.state_dim, self.goal_dim, self.start_conditioned = state_dim, goal_dim, start_conditioned
        self.time = TimeEmbedding(emb)
        self.returns = nn.Sequential(nn.Linear(1, emb), nn.Mish(), nn.Linear(emb, emb))
        self.goal = nn.Sequential(nn.Linear(goal_dim, emb), nn.Mish(), nn.Linear(emb, emb)) if goal_dim else None
        chans = [base_channels * m for m in channel_mults]
        cin = 2 * state_dim + 1 if start_conditioned else state_dim
        self.inp = nn.Conv1d(cin, chans[0], 5, padding=2)
        self.down = nn.ModuleList()
        c = chans[0]
        for i, co in enumerate(chans):
            last = i == len(chans) - 1
            self.down.append(
                nn.ModuleList([_ResBlock1d(c, co, emb), nn.Conv1d(co, co, 3, 2, 1) if not last else nn.Identity()])
            )
            c = co
        self.mid = _ResBlock1d(c, c, emb)
        self.up = nn.ModuleList()
        for i, co in reversed(list(enumerate(chans))):
            first = i == 0
            self.up.append(
                nn.ModuleList(
                    [_ResBlock1d(c + co, co, emb), nn.ConvTranspose1d(co, co, 4, 2, 1) if not first else nn.Identity()]
                )
            )
            c = co
        self.out = nn.Conv1d(c, state_dim, 1)
        self.downsamples = len(chans) - 1

    def forward(
        self,
        x: Tensor,
        t: Tensor,
        returns: Tensor | None = None,
        goal: Tensor | None = None,
        start: Tensor | None = None,
        cond_drop: Tensor | None = None,
    ) -> Tensor:
        if x.ndim != 3 or x.shape[1] != self.state_dim:
            raise ValueError(f"TemporalUNet: x must be (B, {self.state_dim}, H), got {tuple(x.shape)}")
        if x.shape[-1] % (2**self.downsamples):
            raise ValueError(f"TemporalUNet: horizon {x.shape[-1]} is not a multiple of {2**self.downsamples}")
        b = x.shape[0]
        emb = self.time(t.expand(b) if t.ndim == 0 else t)
        if returns is not None:
            r = self.returns(returns.reshape(b, 1).to(x.dtype))
            if cond_drop is not None:
                r = r * (~cond_drop.bool()).to(r.dtype)[:, None]
            emb = emb + r
        if self.goal is not None:
            if goal is None:
                raise ValueError("TemporalUNet: this network is goal-conditioned; pass goal (B, 2)")
            emb = emb + self.goal(goal.reshape(b, self.goal_dim).to(x.dtype))
        h = self.inp(self._with_start(x, start))
        skips = []
        for stage in self.down:
            block, down = stage[0], stage[1]  # type: ignore[index]
            h = block(h, emb)
            skips.append(h)
            h = down(h)
        h = self.mid(h, emb)
        for stage in self.up:
            block, up = stage[0], stage[1]  # type: ignore[index]
            h = block(torch.cat([h, skips.pop()], dim=1), emb)
            h = up(h)
        return self.out(h)

    def _with_start(self, x: Tensor, start: Tensor | None) -> Tensor:
        """``x`` with the clean current state and its mask as extra channels (``start_conditioned``)."""
        if not self.start_conditioned:
            return x
        b, d, h = x.shape
        if start is None:
            raise ValueError(f"TemporalUNet: this network is conditioned on the current state; pass start (B, {d})")
        extra = x.new_zeros(b, d + 1, h)
        extra[:, :d, 0] = start.reshape(b, d).to(x.dtype)
        extra[:, d, 0] = 1.0
        return torch.cat([x, extra], dim=1)
