"""``task.evaluator`` of GeoTDM: scores of the samples file that :class:`TrajectorySampleWriter` writes.

The file holds ``samples: (K, M, T, 3)`` (``K`` samples of every node trajectory of ``B`` held-out systems) and,
as conditions, the ground truth ``cond.target: (M, T, 3)``, ``cond.batch: (M,)``, ``cond.given: (T,)`` and the
node attributes. Conditional models (some frame given) get ``minADE_K`` / ``minFDE_K`` averaged over systems
(:func:`~condiff.molecules.geotdm.metrics.min_ade_fde`); unconditional ones get GeoTDM's scores of the first
sample of every system against the held-out trajectories, both centred (:mod:`~condiff.molecules.geotdm.scores`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from condiff.core.errors import ConfigError, DataValidationError
from condiff.molecules.geotdm.metrics import min_ade_fde
from condiff.molecules.geotdm.process import TrajectoryProjection
from condiff.molecules.geotdm.scores import classification_score, marginal_score, prediction_score
from condiff.molecules.geotdm.systems import Systems

SCORES = ("marginal", "classification", "prediction")
REQUIRED = ("target", "batch", "given")


class TrajectoryEvaluator:
    """``evaluator(samples, cond) -> {metric: value}`` for GeoTDM samples files.

    Args:
        scores: unconditional scores to compute (``marginal``, ``classification``, ``prediction``); the last two
            train a small probe for ``score_steps`` steps each.
        score_steps: training steps of the classification and prediction probes.
    """

    def __init__(self, scores: list[str] | tuple[str, ...] = SCORES, score_steps: int = 200) -> None:
        bad = sorted(set(scores) - set(SCORES))
        if bad:
            raise ConfigError(f"config key 'task.evaluator.scores': unknown {bad} (choose from {list(SCORES)})")
        if score_steps < 1:
            raise ConfigError(f"config key 'task.evaluator.score_steps' must be >= 1, got {score_steps}")
        self.scores, self.score_steps = tuple(scores), int(score_steps)

    def __call__(self, samples: Tensor, cond: Mapping[str, Any]) -> dict[str, float]:
        missing = [k for k in REQUIRED if k not in cond]
        if missing:
            raise DataValidationError(f"GeoTDM samples: missing conditions {missing} (written by condiff-sample?)")
        target, batch, given = cond["target"], cond["batch"].long(), cond["given"].bool()
        if samples.ndim != 4 or samples.shape[1:] != target.shape:
            raise DataValidationError(
                f"GeoTDM samples: 'samples' must be (K, M, T, 3) matching 'cond.target' {tuple(target.shape)}, "
                f"got {tuple(samples.shape)}"
            )
        samples, target = samples.float(), target.float()
        k = samples.shape[0]
        if bool(given.any()):
            ade, fde = min_ade_fde(samples, target, batch, ~given)
            return {f"minADE_{k}": float(ade.mean()), f"minFDE_{k}": float(fde.mean())}
        attr = cond.get("node_attr")
        probes = [name for name in self.scores if name != "marginal"]
        if probes and node_counts(batch).unique().numel() > 1:
            raise DataValidationError(
                f"GeoTDM samples: the {probes} scores need systems of equal size; set task.evaluator.scores=[marginal]"
            )
        centre = TrajectoryProjection(batch, None, center=True)
        real = Systems(centre(target), batch, None if attr is None else attr.float())
        fake = real.with_x(centre(samples[0]))
        out: dict[str, float] = {}
        if "marginal" in self.scores:
            out["marginal"] = marginal_score(real.x, fake.x)
        if "classification" in self.scores:
            out["classification"] = classification_score(real, fake, steps=self.score_steps)
        if "prediction" in self.scores:
            out["prediction"] = prediction_score(real, fake, given=target.shape[1] // 2, steps=self.score_steps)
        return out


def per_system_errors(samples: Tensor, target: Tensor, batch: Tensor, given: Tensor) -> tuple[Tensor, Tensor]:
    """``minADE, minFDE: (B,)`` of every system (conditional samples ``(K, M, T, 3)``)."""
    if not bool(given.any()):
        raise ValueError("per_system_errors: no frame is given (unconditional samples have no minADE/minFDE)")
    return min_ade_fde(samples.float(), target.float(), batch.long(), ~given.bool())


def node_counts(batch: Tensor) -> Tensor:
    """Nodes of every system of ``batch: (M,)``."""
    return torch.bincount(batch.long(), minlength=int(batch.max()) + 1 if batch.numel() else 0)
