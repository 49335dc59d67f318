"""Validation media: audio files and a spectrogram image per validation."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import soundfile as sf
import torch

from condiff.speech.frontend import make_front_end
from condiff.speech.media import SpeechMediaCallback, spectrogram_image


def test_media_are_written(tmp_path: Path) -> None:
    fe = make_front_end({"n_fft": 254})
    wav = 0.3 * torch.randn(2, fe.segment_length(32), generator=torch.Generator().manual_seed(0))
    spec = fe.analyze(wav)
    trainer = L.Trainer(default_root_dir=tmp_path, logger=False, enable_progress_bar=False, enable_model_summary=False)
    out = SpeechMediaCallback(fe, num_files=2).log_media(trainer, spec, spec, spec)
    assert sorted(p.name for p in out.glob("*.wav")) == [
        f"{i:02d}_{k}.wav" for i in range(2) for k in ("clean", "enhanced", "noisy")
    ]
    data, rate = sf.read(str(out / "00_clean.wav"))
    assert rate == 16000
    assert len(data) == fe.segment_length(spec.shape[-1])  # frames padded to 64 by analyze
    assert (out / "spectrograms.png").is_file()
    img = spectrogram_image(spec, fe)
    assert img.dtype.name == "uint8"
    assert img.shape[1] >= 32
