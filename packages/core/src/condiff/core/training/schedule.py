"""Learning-rate schedules as picklable callables for ``torch.optim.lr_scheduler.LambdaLR``."""

from __future__ import annotations

import math


class WarmupCosine:
    """Linear warm-up over ``warmup_steps`` then cosine decay to ``min_ratio`` at ``total_steps``.

    ``factor(k) = k / warmup`` for ``k < warmup``, then
    ``min_ratio + (1 - min_ratio) (1 + cos(pi p)) / 2`` with ``p = (k - warmup)/(total - warmup)``
    clipped to ``[0, 1]`` (Loshchilov & Hutter 2017). Holds only floats, so its
    state round-trips through ``LambdaLR.state_dict`` and ``weights_only`` loading.
    """

    def __init__(self, warmup_steps: int, total_steps: int, min_ratio: float = 0.0) -> None:
        if warmup_steps < 0 or total_steps < 1 or not 0.0 <= min_ratio <= 1.0:
            raise ValueError(
                f"WarmupCosine: need warmup_steps >= 0, total_steps >= 1, 0 <= min_ratio <= 1; "
                f"got {warmup_steps}, {total_steps}, {min_ratio}"
            )
        self.warmup_steps = int(warmup_steps)
        self.total_steps = int(total_steps)
        self.min_ratio = float(min_ratio)

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        span = max(1, self.total_steps - self.warmup_steps)
        p = min(1.0, (step - self.warmup_steps) / span)
        return self.min_ratio + (1.0 - self.min_ratio) * 0.5 * (1.0 + math.cos(math.pi * p))
