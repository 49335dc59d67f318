"""Hydra entry points: condiff-train, condiff-sample, condiff-evaluate."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

# ${condiff.parent:path} -> the folder that holds path (used to put outputs beside an input file).
if not OmegaConf.has_resolver("condiff.parent"):
    OmegaConf.register_new_resolver("condiff.parent", lambda p: str(Path(str(p)).resolve().parent))

# ${condiff.evaluate_dir:samples,generated_dir} -> where condiff-evaluate writes: beside the samples file, or the
# generated folder itself (whichever is given; with neither, the current folder and a clear error later).
if not OmegaConf.has_resolver("condiff.evaluate_dir"):
    OmegaConf.register_new_resolver(
        "condiff.evaluate_dir",
        lambda samples, folder: str(Path(str(samples)).resolve().parent) if samples else str(folder or "."),
    )
