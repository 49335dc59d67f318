"""The paired-folder validator names every bad file; the data set yields aligned spectrogram segments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from condiff.core.errors import DataValidationError
from condiff.speech.data.paired import PairedSpeechDataset, detect_pair_names, validate_speech_pairs
from condiff.speech.frontend import make_front_end


def _tone(n: int = 8000, amp: float = 0.3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (amp * np.sin(np.arange(n) * 0.05) + 0.01 * rng.standard_normal(n)).astype(np.float32)


def _write(path: Path, data: np.ndarray, rate: int = 16000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, rate)


def _good_pair(root: Path, name: str, target: str = "clean", degraded: str = "noisy") -> None:
    _write(root / target / name, _tone())
    _write(root / degraded / name, _tone(seed=1))


def test_validator_reports_each_bad_case_by_file_name(tmp_path: Path) -> None:
    root = tmp_path / "train"
    _good_pair(root, "ok.wav")
    _write(root / "clean" / "lonely.wav", _tone())  # no partner
    _write(root / "noisy" / "orphan.wav", _tone())  # no partner
    _write(root / "clean" / "short.wav", _tone(8000))
    _write(root / "noisy" / "short.wav", _tone(7000))  # length mismatch
    _write(root / "clean" / "rate.wav", _tone())
    _write(root / "noisy" / "rate.wav", _tone(), rate=8000)  # wrong sample rate
    _write(root / "clean" / "stereo.wav", _tone())
    _write(root / "noisy" / "stereo.wav", np.stack([_tone(), _tone()], 1))  # not mono
    _write(root / "clean" / "silent.wav", np.zeros(8000, np.float32))  # silent
    _write(root / "noisy" / "silent.wav", _tone())
    _write(root / "clean" / "clipped.wav", _tone())
    _write(root / "noisy" / "clipped.wav", np.clip(_tone(amp=3.0), -1, 1))  # clipped
    (root / "noisy" / "corrupt.wav").write_bytes(b"RIFF not really a wav")
    _write(root / "clean" / "corrupt.wav", _tone())
    with pytest.raises(DataValidationError) as info:
        validate_speech_pairs(root, sample_rate=16000)
    msg = str(info.value)
    expected = {
        "clean/lonely.wav": "no partner",
        "noisy/orphan.wav": "no partner",
        "noisy/short.wav": "7000 samples",
        "noisy/rate.wav": "sample rate 8000 Hz",
        "noisy/stereo.wav": "2 channels",
        "clean/silent.wav": "silent",
        "noisy/clipped.wav": "clipped",
        "noisy/corrupt.wav": "not a readable audio file",
    }
    lines = msg.splitlines()
    for name, problem in expected.items():
        assert any(name in line and problem in line for line in lines), (name, problem, msg)
    assert not any("ok.wav" in line for line in lines)
    assert f"{len(lines) - 1} problem(s)" in lines[0]


def test_clean_folder_passes_and_reverb_names_are_detected(tmp_path: Path) -> None:
    _good_pair(tmp_path / "a", "x.wav")
    assert [p.name for p, _ in validate_speech_pairs(tmp_path / "a")] == ["x.wav"]
    _good_pair(tmp_path / "b", "x.wav", "anechoic", "reverb")
    assert detect_pair_names(tmp_path / "b") == ("anechoic", "reverb")
    with pytest.raises(DataValidationError, match="clean/ \\+ noisy/"):
        detect_pair_names(tmp_path / "missing")


def test_dataset_segments_are_normalised_and_aligned(tmp_path: Path) -> None:
    fe = make_front_end(None)
    clean = _tone(20000)
    noise = 0.1 * np.random.default_rng(2).standard_normal(20000).astype(np.float32)
    _write(tmp_path / "clean" / "a.wav", clean)
    _write(tmp_path / "noisy" / "a.wav", clean + noise)
    _write(tmp_path / "clean" / "b.wav", clean[:3000])  # shorter than a segment: zero-padded
    _write(tmp_path / "noisy" / "b.wav", (clean + noise)[:3000])
    data = PairedSpeechDataset(tmp_path, fe, num_frames=64, random_crop=True, seed=0)
    for i in range(2):
        x0, y = data[i]
        assert x0.shape == y.shape == (2, 256, 64)
        noisy_wav = fe.synthesize(y[None], fe.segment_length(64))
        assert noisy_wav.abs().max().item() == pytest.approx(1.0, abs=1e-4)  # normalised by the noisy peak
    x0, y = data[0]
    x0_again, _ = data[0]
    assert torch.equal(x0, x0_again)  # deterministic from (seed, epoch, index)
    whole = PairedSpeechDataset(tmp_path, fe, num_frames=None)
    assert whole[0][0].shape[-1] % 64 == 0
