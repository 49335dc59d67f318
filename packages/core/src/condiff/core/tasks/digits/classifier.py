"""The reference classifier of the digits task: accuracy on samples and features for the Fréchet distance."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from condiff.core.errors import CheckpointError
from condiff.core.tasks.digits.data import load_digits_splits

CLASSIFIER_VERSION = 1


class DigitsClassifier(nn.Module):
    """MLP ``(B, 1, 8, 8) -> logits (B, 10)`` whose 64-d penultimate layer gives the features."""

    def __init__(self, width: int = 256, feature_dim: int = 64) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Flatten(), nn.Linear(64, width), nn.ReLU(), nn.Dropout(0.2), nn.Linear(width, feature_dim), nn.ReLU()
        )
        self.head = nn.Linear(feature_dim, 10)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


def train_classifier(seed: int = 0, steps: int = 600) -> DigitsClassifier:
    """Train :class:`DigitsClassifier` on the real training split (deterministic, a few seconds on a CPU).

    Training adds Gaussian pixel noise (std 0.1) so that small generator
    artefacts do not flip its decisions.
    """
    splits = load_digits_splits(seed)
    x, y = splits["train"].images, splits["train"].labels
    # Callers may be inside Lightning's validation (inference mode, no grad): training needs both off.
    with torch.inference_mode(False), torch.enable_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = DigitsClassifier()
        opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
        for _ in range(steps):
            idx = torch.randint(0, len(y), (256,))
            xb = x[idx] + 0.1 * torch.randn_like(x[idx])
            loss = nn.functional.cross_entropy(model(xb), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model.eval()


def load_or_train_classifier(cache_dir: str | os.PathLike[str] | None = None, seed: int = 0) -> DigitsClassifier:
    """Load the cached classifier from ``cache_dir`` or train it once and cache it (safetensors)."""
    if cache_dir is None:
        return train_classifier(seed)
    path = Path(cache_dir) / f"digits_classifier_v{CLASSIFIER_VERSION}_seed{seed}.safetensors"
    if path.exists():
        model = DigitsClassifier()
        try:
            model.load_state_dict(load_file(str(path)))
        except Exception as e:  # a truncated or foreign file: say which
            raise CheckpointError(
                f"{path}: not a valid digits-classifier weights file ({e}); delete it to retrain"
            ) from e
        return model.eval()
    model = train_classifier(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp))
    os.replace(tmp, path)
    return model
