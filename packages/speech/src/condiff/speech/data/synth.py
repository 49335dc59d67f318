"""Offline speech synthesis with espeak-ng (Debian package ``espeak-ng``): varied voices, speeds and pitches."""

from __future__ import annotations

import io
import math
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import torch
from scipy.signal import resample_poly
from torch import Tensor

# espeak-ng voice variants (``espeak-ng --voices=variant``). The held-out voices are never trained on.
TRAIN_VOICES = (
    "m1", "m2", "m3", "m4", "m5", "m6", "f1", "f2", "f3", "f4",
    "adam", "david", "linda", "max", "paul", "steph", "klatt", "klatt2", "robert", "Andy",
)  # fmt: skip
HELDOUT_VOICES = ("m7", "f5", "benjamin", "Annie")
ACCENTS = ("en-us", "en-gb")

_WORD_TEXT = (
    "the a one two three four five six seven eight nine ten red green blue yellow black white house "
    "river mountain city garden window table chair water light sound voice music paper letter number "
    "morning evening night summer winter spring autumn quickly slowly never always often today tomorrow "
    "yesterday people friend mother father teacher doctor animal bird horse dog cat fish apple bread "
    "coffee tea market station bridge street road forest island ocean beach cloud rain snow wind storm "
    "sunshine open close begin finish carry follow answer remember listen speak write read learn build "
    "travel small large bright dark warm cold quiet loud happy careful simple strong gentle early late "
    "near far"
)
WORDS = tuple(_WORD_TEXT.split())


class SynthesisError(RuntimeError):
    """espeak-ng is missing or failed."""


def espeak_binary() -> str:
    """Path of ``espeak-ng``; a clear error when it is not installed."""
    path = shutil.which("espeak-ng")
    if path is None:
        raise SynthesisError(
            "espeak-ng not found on PATH: the built-in speech data is synthesized with it. "
            "Install it (Debian/Ubuntu: apt-get install -y espeak-ng) or train on a paired folder instead "
            "(task.datamodule.source=folder)."
        )
    return path


@dataclass(frozen=True)
class Utterance:
    """What to say and how: text, voice variant, accent, speed (words per minute), pitch (0-99)."""

    text: str
    voice: str
    accent: str = "en-us"
    speed: int = 160
    pitch: int = 50


def random_utterance(
    rng: np.random.Generator, voices: tuple[str, ...], min_words: int = 5, max_words: int = 10
) -> Utterance:
    """A random sentence from :data:`WORDS` spoken by a random voice at a random speed and pitch."""
    n = int(rng.integers(min_words, max_words + 1))
    return Utterance(
        text=" ".join(str(w) for w in rng.choice(WORDS, size=n)),
        voice=str(rng.choice(voices)),
        accent=str(rng.choice(ACCENTS)),
        speed=int(rng.integers(130, 200)),
        pitch=int(rng.integers(25, 75)),
    )


def synthesize(utt: Utterance, sample_rate: int = 16000) -> Tensor:
    """Speak ``utt`` with espeak-ng; returns ``(L,)`` float32 at ``sample_rate``, peak-normalised to 0.5."""
    cmd = [espeak_binary(), "-v", f"{utt.accent}+{utt.voice}", "-s", str(utt.speed), "-p", str(utt.pitch), "--stdout"]
    proc = subprocess.run([*cmd, utt.text], capture_output=True, timeout=60, check=False)
    if proc.returncode != 0 or not proc.stdout:
        raise SynthesisError(f"espeak-ng failed for {utt} ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
    data, rate = sf.read(io.BytesIO(proc.stdout), dtype="float64")
    # Polyphase FIR resampling (22.05 kHz -> 16 kHz is 320/441): several times faster than a sinc conv here.
    g = math.gcd(int(rate), sample_rate)
    wav = torch.from_numpy(resample_poly(data, sample_rate // g, int(rate) // g)).float()
    peak = wav.abs().max()
    if not peak > 0:
        raise SynthesisError(f"espeak-ng produced silence for {utt}")
    return wav * (0.5 / peak)
