"""Reverberation with room impulse responses simulated by pyroomacoustics (image source method)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


@dataclass(frozen=True)
class RoomResponse:
    """The full RIR of a source/microphone pair in a room, its direct-path RIR, and the room's RT60."""

    full: np.ndarray
    direct: np.ndarray
    rt60: float


def room_impulse_responses(rng: np.random.Generator, sample_rate: int = 16000) -> RoomResponse:
    """A random shoebox room as in SGMSE's WSJ0-Reverb recipe.

    Sides 3-9 m x 3-7 m x 2.5-3.5 m, RT60 uniform in 0.4-1.0 s (wall absorption and image order from
    Sabine's formula, ``pyroomacoustics.inverse_sabine``), source and microphone at random positions at
    least 1 m apart. ``direct`` is the same room's image-source order-0 response, so both RIRs share
    one time origin.
    """
    import pyroomacoustics as pra

    dims = np.array([rng.uniform(3, 9), rng.uniform(3, 7), rng.uniform(2.5, 3.5)])
    rt60 = float(rng.uniform(0.4, 1.0))
    absorption, max_order = pra.inverse_sabine(rt60, dims)
    while True:
        src = rng.uniform([0.5, 0.5, 1.0], dims - 0.5)
        mic = rng.uniform([0.5, 0.5, 1.0], dims - 0.5)
        if np.linalg.norm(src - mic) >= 1.0:
            break
    rirs = []
    for order in (max_order, 0):
        room = pra.ShoeBox(dims, fs=sample_rate, materials=pra.Material(absorption), max_order=order)
        room.add_source(src)
        room.add_microphone(mic)
        room.compute_rir()
        rirs.append(np.asarray(room.rir[0][0], dtype=np.float64))
    return RoomResponse(full=rirs[0], direct=rirs[1], rt60=rt60)


def reverberate(clean: Tensor, room: RoomResponse) -> tuple[Tensor, Tensor]:
    """``(reverberant, target)`` of ``clean``'s length: ``clean`` convolved with the full and the direct-path
    RIR, both advanced by the direct path's delay so that the target is time-aligned with ``clean``."""
    from scipy.signal import fftconvolve

    delay = int(np.argmax(np.abs(room.direct)))
    x = clean.double().numpy()
    n = len(x)
    rev = fftconvolve(x, room.full)[delay : delay + n]
    tgt = fftconvolve(x, room.direct)[delay : delay + n]
    return torch.from_numpy(rev).float(), torch.from_numpy(tgt).float()
