"""The built-in speech data: espeak-ng speech mixed with noise or reverberated, written as paired folders.

Deterministic from a seed: utterance ``i`` of split ``s`` uses ``numpy.random.default_rng([seed, s, i])``.
The ``test`` split is spoken by voices never used in ``train``/``valid`` (:data:`HELDOUT_VOICES`).
Files are written once under ``<cache_dir>/speech/<name>`` in the layout :mod:`.paired` reads.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import torch

from condiff.speech.audio import write_audio
from condiff.speech.data.noise import NOISE_TYPES, make_noise, mix_at_snr
from condiff.speech.data.reverb import reverberate, room_impulse_responses
from condiff.speech.data.synth import HELDOUT_VOICES, TRAIN_VOICES, random_utterance, synthesize

SPLITS = ("train", "valid", "test")
KINDS = ("noise", "reverb")
BABBLE_POOL = 5
# Simulating a reverberant room costs ~0.3 s; utterances of a split share a pool of this many rooms.
ROOM_POOL = 8


def builtin_speech_root(
    cache_dir: str | os.PathLike[str],
    kind: str = "noise",
    sizes: dict[str, int] | None = None,
    seed: int = 0,
    sample_rate: int = 16000,
    snr_range: tuple[float, float] = (0.0, 20.0),
    max_seconds: float = 4.0,
    noise_types: tuple[str, ...] | list[str] = NOISE_TYPES,
) -> Path:
    """Generate (once) and return the root folder of the built-in paired data set.

    Args:
        cache_dir: where generated data sets live.
        kind: ``noise`` (clean/ + noisy/: additive noise, SNR uniform in ``snr_range`` dB) or
            ``reverb`` (anechoic/ + reverb/: simulated rooms, direct-path target).
        sizes: utterances per split (default train 200, valid 16, test 16).
        seed: seed of everything random.
        sample_rate: rate of the written files.
        snr_range: SNR interval in dB (``noise``).
        max_seconds: utterances are cut to this length.
        noise_types: the noises used in turn (``noise``; default all of :data:`NOISE_TYPES`).
    """
    if kind not in KINDS:
        raise ValueError(f"builtin_speech_root: kind must be one of {KINDS}, got {kind!r}")
    bad = [n for n in noise_types if n not in NOISE_TYPES]
    if bad or not noise_types:
        raise ValueError(f"builtin_speech_root: noise_types must be a non-empty subset of {NOISE_TYPES}, got {bad}")
    merged = {"train": 200, "valid": 16, "test": 16, **(sizes or {})}
    counts = {s: int(merged[s]) for s in SPLITS}
    params = {
        "kind": kind, "sizes": counts, "seed": int(seed), "sample_rate": int(sample_rate),
        "snr_range": [float(v) for v in snr_range], "max_seconds": float(max_seconds), "version": 1,
        **({} if tuple(noise_types) == NOISE_TYPES else {"noise_types": list(noise_types)}),
    }  # fmt: skip
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    root = Path(cache_dir) / "speech" / f"{kind}-{digest}"
    if (root / "params.json").is_file():
        return root
    tmp = root.with_name(f".{root.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    for i, split in enumerate(SPLITS):
        _write_split(
            tmp / split, kind, counts[split], [int(seed), i], sample_rate, snr_range, max_seconds, tuple(noise_types)
        )
    (tmp / "params.json").write_text(json.dumps(params, indent=2))
    try:
        os.replace(tmp, root)
    except OSError:  # another process finished first: keep its copy
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _write_split(
    out: Path,
    kind: str,
    count: int,
    key: list[int],
    sample_rate: int,
    snr_range: tuple[float, float],
    max_seconds: float,
    noise_types: tuple[str, ...] = NOISE_TYPES,
) -> None:
    voices = HELDOUT_VOICES if key[-1] == SPLITS.index("test") else TRAIN_VOICES
    target_dir, degraded_dir = ("clean", "noisy") if kind == "noise" else ("anechoic", "reverb")
    pool_rng = np.random.default_rng([*key, 1_000_000])
    babble = (
        [synthesize(random_utterance(pool_rng, voices), sample_rate) for _ in range(BABBLE_POOL)]
        if kind == "noise"
        else []
    )
    rooms = (
        [room_impulse_responses(pool_rng, sample_rate) for _ in range(min(ROOM_POOL, count))]
        if kind == "reverb"
        else []
    )
    rows = []
    max_len = int(max_seconds * sample_rate)
    for i in range(count):
        rng = np.random.default_rng([*key, i])
        utt = random_utterance(rng, voices)
        clean = synthesize(utt, sample_rate)[:max_len]
        info: dict[str, object] = {"file": f"{i:05d}.wav", "voice": utt.voice, "accent": utt.accent,
                                   "speed": utt.speed, "pitch": utt.pitch, "text": utt.text}  # fmt: skip
        if kind == "noise":
            noise_type = noise_types[i % len(noise_types)]
            snr = float(rng.uniform(*snr_range))
            noise = make_noise(noise_type, rng, len(clean), sample_rate, babble)
            target, degraded = clean, mix_at_snr(clean, noise, snr)
            info.update(noise=noise_type, snr_db=round(snr, 3))
        else:
            room = rooms[int(rng.integers(len(rooms)))]
            degraded, target = reverberate(clean, room)
            info.update(rt60=round(room.rt60, 3))
        peak = float(torch.maximum(degraded.abs().max(), target.abs().max()))
        scale = 0.9 / peak if peak > 0.9 else 1.0  # one factor for both: the pair stays consistent
        write_audio(out / target_dir / info["file"], target * scale, sample_rate)  # type: ignore[operator]
        write_audio(out / degraded_dir / info["file"], degraded * scale, sample_rate)  # type: ignore[operator]
        rows.append(info)
    with open(out / "metadata.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["file"])
        writer.writeheader()
        writer.writerows(rows)
