"""Metrics of a folder of enhanced files against a folder of clean files (same names): per-file CSV, mean, std.

python -m condiff.speech.evaluate_folders --clean clean/ --enhanced enhanced/ [--noisy noisy/] [--out m.csv]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from torch import Tensor

from condiff.core.errors import DataValidationError
from condiff.speech.audio import AUDIO_SUFFIXES, read_audio
from condiff.speech.metrics import speech_metrics, summarize, write_metrics_csv


def evaluate_folders(
    clean_dir: str | os.PathLike[str],
    enhanced_dir: str | os.PathLike[str],
    noisy_dir: str | os.PathLike[str] | None = None,
    out_csv: str | os.PathLike[str] | None = None,
) -> dict[str, float]:
    """PESQ, ESTOI, SI-SDR (and SI-SIR/SI-SAR with the noisy folder) of every enhanced file; returns mean and std.

    Raises:
        DataValidationError: a missing folder or partner, or files of different length or rate (named).
    """
    enhanced = {p.stem: p for p in sorted(Path(enhanced_dir).glob("*")) if p.suffix.lower() in AUDIO_SUFFIXES}
    if not enhanced:
        raise DataValidationError(f"{enhanced_dir}: no audio files ({', '.join(AUDIO_SUFFIXES)})")
    rows, names = [], []
    for stem, path in enhanced.items():
        est, rate = read_audio(path)
        others: list[Tensor | None] = []
        for folder in (clean_dir, noisy_dir):
            if folder is None:
                others.append(None)
                continue
            match = [p for p in Path(folder).glob(f"{stem}.*") if p.suffix.lower() in AUDIO_SUFFIXES]
            if not match:
                raise DataValidationError(f"{folder}: no partner for {path}")
            wav, r = read_audio(match[0])
            if r != rate or wav.shape != est.shape:
                raise DataValidationError(
                    f"{match[0]}: {len(wav)} samples at {r} Hz, {path} has {len(est)} at {rate} Hz"
                )
            others.append(wav)
        assert others[0] is not None
        rows.append(speech_metrics(est, others[0], others[1], rate))
        names.append(path.name)
    if out_csv is not None:
        write_metrics_csv(out_csv, names, rows)
    return summarize(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clean", required=True, type=Path)
    parser.add_argument("--enhanced", required=True, type=Path)
    parser.add_argument("--noisy", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None, help="CSV (default: <enhanced>/metrics.csv)")
    args = parser.parse_args(argv)
    out = args.out or args.enhanced / "metrics.csv"
    summary = evaluate_folders(args.clean, args.enhanced, args.noisy, out)
    print(f"metrics:         {out}")
    for k, v in summary.items():
        if not k.endswith("_std"):
            print(f"{k:16s} {v:.4f} +- {summary[k + '_std']:.4f}")


if __name__ == "__main__":
    main()
