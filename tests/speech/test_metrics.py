"""Speech metrics against exact answers."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch

from condiff.speech.metrics import si_sdr, si_sir_sar, speech_metrics, summarize, write_metrics_csv


def _signals() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    s = torch.randn(16000, generator=g, dtype=torch.float64)
    n = torch.randn(16000, generator=g, dtype=torch.float64)
    s, n = s - s.mean(), n - n.mean()
    return s, n - (n @ s) / (s @ s) * s  # zero mean, n orthogonal to s


def test_si_sdr_exact_values() -> None:
    s, n = _signals()
    n = n * (s.norm() / n.norm()) * 10 ** (-10 / 20)  # 10 dB below s
    assert si_sdr(s + n, s).item() == pytest.approx(10.0, abs=1e-3)
    assert si_sdr(3.0 * (s + n), s).item() == pytest.approx(10.0, abs=1e-3)  # scale invariant


def test_si_sir_sar_split_interference_and_artifacts() -> None:
    s, n = _signals()
    g = torch.Generator().manual_seed(1)
    art = torch.randn(16000, generator=g, dtype=torch.float64) * 0.01
    sir, sar = si_sir_sar(s + 0.1 * n, s, s + n)
    expected_sir = 10 * math.log10((s @ s).item() / (0.01 * (n @ n).item()))
    assert sir.item() == pytest.approx(expected_sir, abs=1e-3)
    assert sar.item() > 100  # no artifacts
    _, sar2 = si_sir_sar(s + art, s, s + n)
    assert 20 < sar2.item() < 60


def test_pesq_and_estoi_of_the_reference_are_maximal() -> None:
    t = torch.arange(32000) / 16000
    speechlike = torch.sin(2 * math.pi * 220 * t) * (1 + torch.sin(2 * math.pi * 3 * t)) * 0.3
    noise = torch.randn(32000, generator=torch.Generator().manual_seed(0)) * 0.1
    perfect = speech_metrics(speechlike, speechlike, speechlike + noise)
    noisy = speech_metrics(speechlike + noise, speechlike, speechlike + noise)
    assert perfect["pesq"] > 4.4
    assert perfect["estoi"] > 0.99
    assert noisy["pesq"] < perfect["pesq"]
    assert noisy["estoi"] < perfect["estoi"]
    with pytest.raises(ValueError, match="of one length"):
        speech_metrics(speechlike[:100], speechlike, speechlike)


def test_csv_has_rows_mean_and_std(tmp_path: Path) -> None:
    rows = [{"pesq": 1.0, "si_sdr": 2.0}, {"pesq": 3.0, "si_sdr": float("nan")}]
    path = write_metrics_csv(tmp_path / "m.csv", ["a.wav", "b.wav"], rows)
    with open(path) as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["file", "pesq", "si_sdr"]
    assert [r[0] for r in table[1:]] == ["a.wav", "b.wav", "mean", "std"]
    assert float(table[3][1]) == 2.0
    assert float(table[4][1]) == 1.0
    assert summarize(rows)["si_sdr"] == 2.0  # NaN left out


def test_folder_pair_evaluation(tmp_path: Path) -> None:
    import soundfile as sf

    from condiff.core.errors import DataValidationError
    from condiff.speech.evaluate_folders import evaluate_folders, main

    t = torch.arange(16000) / 16000
    clean = (0.3 * torch.sin(2 * math.pi * 200 * t) * (1 + torch.sin(2 * math.pi * 2 * t))).numpy()
    noise = 0.05 * torch.randn(16000, generator=torch.Generator().manual_seed(0)).numpy()
    for sub, data in (("clean", clean), ("noisy", clean + noise), ("enh", clean + 0.2 * noise)):
        (tmp_path / sub).mkdir()
        sf.write(str(tmp_path / sub / "u1.wav"), data, 16000)
    better = evaluate_folders(tmp_path / "clean", tmp_path / "enh", tmp_path / "noisy", tmp_path / "m.csv")
    worse = evaluate_folders(tmp_path / "clean", tmp_path / "noisy")
    assert better["si_sdr"] == pytest.approx(worse["si_sdr"] + 20 * math.log10(5), abs=0.1)
    assert better["estoi"] > worse["estoi"]
    assert "si_sir" in better
    assert "si_sir" not in worse
    main(["--clean", str(tmp_path / "clean"), "--enhanced", str(tmp_path / "enh")])
    assert (tmp_path / "enh" / "metrics.csv").is_file()
    sf.write(str(tmp_path / "enh" / "u2.wav"), clean, 16000)
    with pytest.raises(DataValidationError, match=r"no partner for .*u2\.wav"):
        evaluate_folders(tmp_path / "clean", tmp_path / "enh")


def test_estoi_of_a_silent_reference_is_nan_not_a_warning() -> None:
    import numpy as np

    from condiff.speech.metrics import estoi

    ref = np.zeros(8000)
    ref[:300] = 0.5 * np.sin(np.arange(300))
    assert math.isnan(estoi(ref + 0.01, ref))
