"""Paired speech folders (VoiceBank-DEMAND / WSJ0-CHiME3 layout), their validator, and the data set.

Layout (sgmse's): ``<root>/<split>/clean/*.wav`` + ``<root>/<split>/noisy/*.wav`` for enhancement,
or ``anechoic/`` + ``reverb/`` for dereverberation, with ``split`` in ``train``, ``valid``, ``test``
and the same file names on both sides.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torch import Tensor
from torch.utils.data import Dataset

from condiff.core.errors import DataValidationError
from condiff.speech.audio import AUDIO_SUFFIXES, read_audio
from condiff.speech.frontend import SpectrogramFrontEnd, normalize_by_noisy

PAIR_NAMES = (("clean", "noisy"), ("anechoic", "reverb"))


def detect_pair_names(split_dir: str | os.PathLike[str]) -> tuple[str, str]:
    """``("clean", "noisy")`` or ``("anechoic", "reverb")``, whichever pair of sub-folders ``split_dir`` holds."""
    d = Path(split_dir)
    for target, degraded in PAIR_NAMES:
        if (d / target).is_dir() and (d / degraded).is_dir():
            return target, degraded
    raise DataValidationError(
        f"{d}: expected sub-folders clean/ + noisy/ or anechoic/ + reverb/, found "
        f"{sorted(p.name for p in d.iterdir() if p.is_dir()) if d.is_dir() else 'no such folder'}"
    )


def _audio_files(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(folder.iterdir()) if p.suffix.lower() in AUDIO_SUFFIXES}


def _file_problems(path: Path, sample_rate: int, silence_db: float, clip_fraction: float) -> tuple[list[str], int]:
    """Problems of one file (rate, channels, silence, clipping) and its length in samples (-1 if unreadable)."""
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        return [f"{path}: not a readable audio file ({e})"], -1
    problems = []
    if rate != sample_rate:
        problems.append(f"{path}: sample rate {rate} Hz, expected {sample_rate} Hz")
    if data.shape[1] != 1:
        problems.append(f"{path}: {data.shape[1]} channels, expected mono")
    if not np.isfinite(data).all():
        problems.append(f"{path}: contains NaN or infinite samples")
        return problems, len(data)
    peak = float(np.abs(data).max()) if data.size else 0.0
    if peak < 10 ** (silence_db / 20):
        problems.append(f"{path}: silent (peak {20 * np.log10(max(peak, 1e-12)):.1f} dBFS < {silence_db} dBFS)")
    clipped = float(np.mean(np.abs(data) >= 0.999)) if data.size else 0.0
    if clipped > clip_fraction:
        problems.append(f"{path}: clipped ({100 * clipped:.2f} % of samples at full scale)")
    return problems, len(data)


def validate_speech_pairs(
    split_dir: str | os.PathLike[str],
    sample_rate: int = 16000,
    silence_db: float = -60.0,
    clip_fraction: float = 1e-3,
) -> list[tuple[Path, Path]]:
    """Return the ``(target, degraded)`` pairs of ``split_dir``, or raise listing every problem by file name.

    Problems: a missing sub-folder, a file without partner, unreadable files, a sample rate other
    than ``sample_rate``, more than one channel, NaN/inf, silence (peak below ``silence_db`` dBFS),
    clipping (more than ``clip_fraction`` of samples at ``|x| >= 0.999``), and partners of different length.
    """
    d = Path(split_dir)
    target_name, degraded_name = detect_pair_names(d)
    targets, degraded = _audio_files(d / target_name), _audio_files(d / degraded_name)
    problems = [f"{targets[n]}: no partner in {d / degraded_name}" for n in sorted(set(targets) - set(degraded))]
    problems += [f"{degraded[n]}: no partner in {d / target_name}" for n in sorted(set(degraded) - set(targets))]
    pairs = [(targets[n], degraded[n]) for n in sorted(set(targets) & set(degraded))]
    for tgt, deg in pairs:
        p_t, n_t = _file_problems(tgt, sample_rate, silence_db, clip_fraction)
        p_d, n_d = _file_problems(deg, sample_rate, silence_db, clip_fraction)
        problems += p_t + p_d
        if n_t >= 0 and n_d >= 0 and n_t != n_d:
            problems.append(f"{deg}: {n_d} samples, its partner {tgt} has {n_t}")
    if problems:
        raise DataValidationError(
            f"{d}: {len(problems)} problem(s) in the paired speech data:\n  " + "\n  ".join(problems)
        )
    if not pairs:
        raise DataValidationError(
            f"{d}: no audio pairs ({', '.join(AUDIO_SUFFIXES)}) in {target_name}/ and {degraded_name}/"
        )
    return pairs


def crop_or_pad(wavs: tuple[Tensor, ...], length: int, start: int | None) -> tuple[Tensor, ...]:
    """Cut ``length`` samples from ``start`` (``None``: the centre) or zero-pad both sides to ``length``."""
    n = wavs[0].shape[-1]
    if n >= length:
        s = (n - length) // 2 if start is None else start
        return tuple(w[..., s : s + length] for w in wavs)
    pad = length - n
    return tuple(torch.nn.functional.pad(w, (pad // 2, pad - pad // 2)) for w in wavs)


class PairedSpeechDataset(Dataset[tuple[Tensor, Tensor]]):
    """``(clean, noisy)`` compressed spectrograms ``(2, F, T)`` of a paired split folder.

    Each pair is normalised by the noisy signal's peak (SGMSE's ``normalize="noisy"``), cut to
    ``num_frames`` frames (a random segment when ``random_crop``, else the centre; short files are
    zero-padded) or, with ``num_frames=None``, kept whole with frames padded to the front end's multiple.

    Args:
        split_dir: folder with ``clean/`` + ``noisy/`` (or ``anechoic/`` + ``reverb/``).
        front_end: the STFT front end (its ``sample_rate`` is what files must have).
        num_frames: frames per item (``None``: whole files).
        random_crop: draw the segment at random (training).
        seed: seed of the random segments (item ``i`` of epoch ``e`` is a pure function of both).
        validate: run :func:`validate_speech_pairs` first.
    """

    def __init__(
        self,
        split_dir: str | os.PathLike[str],
        front_end: SpectrogramFrontEnd,
        num_frames: int | None = 256,
        random_crop: bool = False,
        seed: int = 0,
        validate: bool = True,
    ) -> None:
        self.split_dir = Path(split_dir)
        if validate:
            self.pairs = validate_speech_pairs(split_dir, front_end.sample_rate)
        else:
            t, n = detect_pair_names(split_dir)
            a, b = _audio_files(self.split_dir / t), _audio_files(self.split_dir / n)
            self.pairs = [(a[k], b[k]) for k in sorted(set(a) & set(b))]
        self.front_end, self.num_frames, self.random_crop, self.seed, self.epoch = (
            front_end,
            num_frames,
            random_crop,
            seed,
            0,
        )

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.pairs)

    def waveforms(self, i: int) -> tuple[Tensor, Tensor]:
        """The ``(clean, noisy)`` waveforms of pair ``i`` as stored (checked for equal length)."""
        tgt_path, deg_path = self.pairs[i]
        clean, _ = read_audio(tgt_path)
        noisy, _ = read_audio(deg_path)
        if clean.shape != noisy.shape:
            raise DataValidationError(f"{deg_path}: {len(noisy)} samples, its partner {tgt_path} has {len(clean)}")
        return clean, noisy

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        clean, noisy = self.waveforms(i)
        fe = self.front_end
        if self.num_frames is not None:
            length = fe.segment_length(self.num_frames)
            start = None
            if self.random_crop and len(clean) > length:
                g = torch.Generator().manual_seed(hash((self.seed, self.epoch, i)) & (2**62 - 1))
                start = int(torch.randint(0, len(clean) - length + 1, (1,), generator=g))
            clean, noisy = crop_or_pad((clean, noisy), length, start)
        noisy, clean, _ = normalize_by_noisy(noisy, clean)
        return fe.analyze(clean[None])[0], fe.analyze(noisy[None])[0]
