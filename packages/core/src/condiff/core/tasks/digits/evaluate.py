"""Metrics of the digits task: conditional accuracy and the Fréchet distance on classifier features."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from condiff.core.metrics.frechet import frechet_distance_features
from condiff.core.tasks.digits.classifier import DigitsClassifier, load_or_train_classifier
from condiff.core.tasks.digits.data import load_digits_splits


class DigitsEvaluator:
    """Score generated digits against the labels they were asked for.

    ``accuracy``: fraction of samples the reference classifier assigns to the
    requested class (chance 0.1). ``frechet``: Fréchet distance between the
    classifier's 64-d features of the samples and of the held-out real ``test``
    split (lower is better; the test split against the train split gives the
    floor). Samples are clamped to the data range ``[-1, 1]`` first.
    """

    def __init__(
        self, cache_dir: str | os.PathLike[str] | None = None, seed: int = 0, reference_split: str = "test"
    ) -> None:
        self.cache_dir = cache_dir
        self.seed = seed
        self.reference_split = reference_split
        self._classifier: DigitsClassifier | None = None
        self._reference: Tensor | None = None

    @property
    def classifier(self) -> DigitsClassifier:
        if self._classifier is None:
            self._classifier = load_or_train_classifier(self.cache_dir, self.seed)
        return self._classifier

    @torch.no_grad()
    def reference_features(self) -> Tensor:
        if self._reference is None:
            images = load_digits_splits(self.seed)[self.reference_split].images
            self._reference = self.classifier.features(images)
        return self._reference

    @torch.no_grad()
    def __call__(self, samples: Tensor, cond: Mapping[str, Any]) -> dict[str, float]:
        """``samples: (N, 1, 8, 8)``, ``cond["labels"]: (N,)`` -> ``{"accuracy", "frechet"}``."""
        labels = cond["labels"]
        if samples.shape[1:] != (1, 8, 8) or labels.shape != (samples.shape[0],):
            raise ValueError(
                "DigitsEvaluator: expected samples (N, 1, 8, 8) and labels (N,), "
                f"got {tuple(samples.shape)} and {tuple(labels.shape)}"
            )
        if not bool(torch.isfinite(samples).all()):
            raise ValueError("DigitsEvaluator: samples contain NaN or inf")
        x = samples.detach().float().cpu().clamp(-1, 1)
        clf = self.classifier
        acc = (clf(x).argmax(-1) == labels.cpu()).float().mean().item()
        fd = frechet_distance_features(clf.features(x), self.reference_features())
        return {"accuracy": acc, "frechet": fd}
