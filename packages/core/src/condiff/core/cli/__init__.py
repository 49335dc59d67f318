"""Hydra entry points: condiff-train, condiff-sample, condiff-evaluate."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

# ${condiff.parent:path} -> the folder that holds path (used to put outputs beside an input file).
if not OmegaConf.has_resolver("condiff.parent"):
    OmegaConf.register_new_resolver("condiff.parent", lambda p: str(Path(str(p)).resolve().parent))
