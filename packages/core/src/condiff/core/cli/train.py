"""``condiff-train``: train a diffusion model from a composed Hydra config."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from condiff.core.cli.errors import run_reporting_errors


@hydra.main(version_base="1.3", config_path=None, config_name="train")
def _main(cfg: DictConfig) -> float | None:
    from condiff.core.training.run import train

    result = run_reporting_errors(train, cfg)
    return result["metrics"].get("val/loss") if isinstance(result, dict) else None


def main() -> None:
    _main()


if __name__ == "__main__":
    main()
