"""Shared by the DRAKES tests."""

from __future__ import annotations

# Lightning trainer options: no logging, checkpoints or progress output.
TRAINER = {"logger": False, "enable_checkpointing": False, "enable_progress_bar": False,
           "enable_model_summary": False, "accelerator": "cpu"}  # fmt: skip
