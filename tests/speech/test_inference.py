"""Enhancing files of any length and rate: chunks, cross-fades, resampling, metrics CSV, errors."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from condiff.core.errors import DataValidationError
from condiff.core.processes import SBVEProcess
from condiff.speech.inference import SpeechEnhancer, chunk_starts, crossfade_window


class PassThrough(nn.Module):
    """A known-answer x0 model: the clean estimate is the noisy input, so an exact pipeline returns its input."""

    def __init__(self) -> None:
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(()))  # gives the enhancer a device to read

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond_spec: torch.Tensor) -> torch.Tensor:
        return cond_spec


ODE = {"method": "ddim", "steps": 3, "schedule": "uniform"}
FE = {"n_fft": 254, "hop_length": 128}


def test_chunks_cover_the_signal_and_crossfade_weights_are_positive() -> None:
    assert chunk_starts(100, 200, 10) == [0]
    starts = chunk_starts(1000, 300, 50)
    assert starts[0] == 0
    assert starts[-1] == 700
    assert all(b - a <= 250 for a, b in itertools.pairwise(starts))
    w = crossfade_window(300, 50)
    assert w.min() > 0
    assert w.max() == 1.0


@pytest.mark.parametrize(("seconds", "rate"), [(0.3, 16000), (3.1, 16000), (2.2, 8000)])
def test_pass_through_model_returns_the_input(seconds: float, rate: int) -> None:
    enhancer = SpeechEnhancer(FE, chunk_frames=64, overlap_frames=16, batch_size=3)
    wav = 0.3 * torch.randn(int(seconds * rate), generator=torch.Generator().manual_seed(0))
    out = enhancer.enhance(wav, rate, PassThrough(), SBVEProcess(), "x0", ODE)
    assert out.shape == wav.shape
    if rate == 16000:  # no resampling: exact up to float error
        assert (out - wav).abs().max().item() < 1e-4
    else:  # 8 kHz -> 16 kHz -> 8 kHz keeps the band below 4 kHz
        assert torch.corrcoef(torch.stack([out, wav]))[0, 1].item() > 0.95


def test_folder_enhancement_writes_files_and_metrics(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(24000) / 16000
    clean = (0.3 * np.sin(2 * np.pi * 200 * t) * (1 + np.sin(2 * np.pi * 2 * t))).astype(np.float32)
    for name in ("a", "b"):
        (tmp_path / "clean").mkdir(exist_ok=True)
        (tmp_path / "noisy").mkdir(exist_ok=True)
        sf.write(str(tmp_path / "clean" / f"{name}.wav"), clean, 16000)
        sf.write(
            str(tmp_path / "noisy" / f"{name}.wav"), clean + 0.05 * rng.standard_normal(24000).astype(np.float32), 16000
        )
    enhancer = SpeechEnhancer(FE, chunk_frames=64, overlap_frames=16)
    result = enhancer(PassThrough(), SBVEProcess(), "x0", tmp_path / "noisy", tmp_path / "out", tmp_path / "clean", ODE)
    assert result["restored"] == 2
    assert sorted(p.name for p in (tmp_path / "out").glob("*.wav")) == ["a.wav", "b.wav"]
    with open(tmp_path / "out" / "metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["file"] for r in rows] == ["a.wav", "b.wav", "mean", "std"]
    assert set(rows[0]) == {"file", "pesq", "estoi", "si_sdr", "si_sir", "si_sar"}
    (tmp_path / "partial").mkdir()
    sf.write(str(tmp_path / "partial" / "a.wav"), clean, 16000)
    with pytest.raises(DataValidationError, match=r"no clean file for .*b\.wav"):
        enhancer(PassThrough(), SBVEProcess(), "x0", tmp_path / "noisy", tmp_path / "o2", tmp_path / "partial", ODE)
    with pytest.raises(DataValidationError, match="input folder not found"):
        enhancer(PassThrough(), SBVEProcess(), "x0", tmp_path / "nope", tmp_path / "o3", None, ODE)
