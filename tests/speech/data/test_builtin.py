"""The built-in data: deterministic, held-out voices for test, SNR in range, aligned dereverberation targets."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from condiff.speech.data.builtin import builtin_speech_root
from condiff.speech.data.paired import validate_speech_pairs
from condiff.speech.data.reverb import reverberate, room_impulse_responses
from condiff.speech.data.synth import HELDOUT_VOICES, TRAIN_VOICES, SynthesisError, espeak_binary

SIZES = {"train": 6, "valid": 1, "test": 3}


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.wav")):
        h.update(p.read_bytes())
    return h.hexdigest()


def _meta(root: Path, split: str) -> list[dict[str, str]]:
    with open(root / split / "metadata.csv") as fh:
        return list(csv.DictReader(fh))


def test_noise_data_is_deterministic_valid_and_holds_out_voices(tmp_path: Path) -> None:
    a = builtin_speech_root(tmp_path / "a", "noise", SIZES, seed=3)
    b = builtin_speech_root(tmp_path / "b", "noise", SIZES, seed=3)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(builtin_speech_root(tmp_path / "c", "noise", SIZES, seed=4))
    for split in ("train", "valid", "test"):
        assert len(validate_speech_pairs(a / split)) == SIZES[split]
    assert {r["voice"] for r in _meta(a, "test")} <= set(HELDOUT_VOICES)
    assert {r["voice"] for r in _meta(a, "train") + _meta(a, "valid")} <= set(TRAIN_VOICES)
    assert not set(HELDOUT_VOICES) & set(TRAIN_VOICES)
    for row in _meta(a, "train"):
        clean, _ = sf.read(str(a / "train" / "clean" / row["file"]))
        noisy, _ = sf.read(str(a / "train" / "noisy" / row["file"]))
        snr = 10 * np.log10(np.sum(clean**2) / np.sum((noisy - clean) ** 2))
        assert 0.0 <= float(row["snr_db"]) <= 20.0
        assert snr == pytest.approx(float(row["snr_db"]), abs=0.3)  # 16-bit quantisation only
    assert {r["noise"] for r in _meta(a, "train")} == {"white", "pink", "brown", "babble", "hum", "speech_shaped"}


def test_reverb_target_is_the_time_aligned_direct_path(tmp_path: Path) -> None:
    room = room_impulse_responses(np.random.default_rng(0))
    first_arrival = int(np.argmax(np.abs(room.full) > 0.5 * np.abs(room.full).max()))
    assert abs(first_arrival - int(np.argmax(np.abs(room.direct)))) <= 2  # the same time origin
    clean = torch.from_numpy(np.random.default_rng(1).standard_normal(8000)).float()
    reverb, target = reverberate(clean, room)
    assert reverb.shape == target.shape == clean.shape
    lags = range(-50, 51)
    xc = [float(torch.dot(target[50:-50], torch.roll(clean, k)[50:-50])) for k in lags]
    assert list(lags)[int(np.argmax(xc))] == 0  # the direct-path target is aligned with the dry speech
    assert (reverb - target).pow(2).sum() > 0.1 * target.pow(2).sum()  # the reverberation is substantial
    assert 0.4 <= room.rt60 <= 1.0
    root = builtin_speech_root(tmp_path, "reverb", {"train": 1, "valid": 1, "test": 1}, seed=0)
    assert len(validate_speech_pairs(root / "train")) == 1


def test_missing_espeak_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SynthesisError, match="apt-get install -y espeak-ng"):
        espeak_binary()
