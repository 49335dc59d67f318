"""Built-in data shipped with installed packages (nothing downloaded): the MNI152 2009a brain template and its
tissue maps (nilearn's package data), the MRI slice of matplotlib's sample data, the Shepp-Logan phantom of
scikit-image, and random ellipse phantoms in the Shepp-Logan family.

Slices are resampled to ``size x size`` (area averaging) and split into training and held-out sets by
*disjoint axial slice ranges*: the axial axis is cut into blocks of ``block`` slices, every ``every``-th block
is held out, and ``gap`` slices on each side of a held-out block are used by neither set.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from condiff.core.errors import DataValidationError

MNI_FILES = {
    "t1": "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz",
    "gm": "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz",
    "wm": "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz",
}
# A square in-plane crop (x, y) holding the whole brain of the 1 mm template, and the axial range with brain.
MNI_CROP = ((6, 190), (26, 210))
MNI_AXIAL = (20, 150)


@dataclass
class SliceSet:
    """Images ``(N, 1, H, W)`` in ``[0, 1]`` and, where the source has them, binary labels of the same shape, or
    measured degraded images of the same shape (paired data such as AAPM's quarter-dose CT: no simulated
    degradation)."""

    images: Tensor
    labels: Tensor | None = None
    degraded: Tensor | None = None


def nilearn_data_file(name: str) -> Path:
    """Path of a file shipped in nilearn's ``datasets/data`` folder."""
    import nilearn

    path = Path(nilearn.__file__).parent / "datasets" / "data" / name
    if not path.is_file():
        raise DataValidationError(f"{path}: not found in the installed nilearn ({nilearn.__version__})")
    return path


@cache
def _mni_volume(kind: str) -> np.ndarray:
    from condiff.medical.io.nifti import load_nifti

    (x0, x1), (y0, y1) = MNI_CROP
    return load_nifti(nilearn_data_file(MNI_FILES[kind])).data[x0:x1, y0:y1] / 255.0


def _resize_slices(vol: np.ndarray, size: int) -> Tensor:
    """``(X, Y, Z)`` -> ``(Z, 1, size, size)`` by area averaging in-plane."""
    t = torch.from_numpy(np.ascontiguousarray(vol.transpose(2, 0, 1)))[:, None].float()
    return F.interpolate(t, size=(size, size), mode="area")


def heldout_axial_slices(
    first: int, last: int, block: int = 10, every: int = 4, gap: int = 2
) -> tuple[list[int], list[int]]:
    """Indices ``[first, last)`` split into (train, held-out) by disjoint blocks (module docstring)."""
    train: list[int] = []
    held: list[int] = []
    for z in range(first, last):
        b, r = divmod(z - first, block)
        if b % every == every // 2:
            held.append(z)
        elif not ((b + 1) % every == every // 2 and r >= block - gap) and not (
            (b - 1) % every == every // 2 and r < gap
        ):
            train.append(z)
    return train, held


@cache
def mni_slices(size: int = 32, split: str = "train") -> SliceSet:
    """Axial T1 slices of the MNI152 template with the white-matter mask (probability > 0.5) as labels."""
    if split not in ("train", "heldout"):
        raise ValueError(f"mni_slices: split must be 'train' or 'heldout', got {split!r}")
    train, held = heldout_axial_slices(*MNI_AXIAL)
    idx = train if split == "train" else held
    t1 = _resize_slices(_mni_volume("t1")[..., idx], size)
    wm = (_resize_slices(_mni_volume("wm")[..., idx], size) > 0.5).float()
    return SliceSet(t1.clamp(0, 1), wm)


@cache
def mni_patches_3d(size: int = 16, scale: int = 4, split: str = "train") -> SliceSet:
    """``size^3`` patches of the T1 template downsampled by ``scale`` (3-D tasks), with the white-matter mask
    (the probability map downsampled the same way, > 0.5) as labels; training patches come from the inferior
    half of the brain, held-out ones from the superior half (disjoint axial ranges)."""

    def downsampled(kind: str) -> Tensor:
        vol = torch.from_numpy(_mni_volume(kind)[..., MNI_AXIAL[0] : MNI_AXIAL[1]].copy())[None, None].float()
        return F.avg_pool3d(vol, scale)[0, 0]  # (X, Y, Z)

    small, wm = downsampled("t1"), downsampled("wm") > 0.5
    x, y, z = small.shape
    half = z // 2
    zs = range(0, half - size + 1, max(1, size // 4)) if split == "train" else range(half, z - size + 1, size // 2)
    starts = [
        (i, j, k) for i in range(0, x - size + 1, size // 2) for j in range(0, y - size + 1, size // 2) for k in zs
    ]
    boxes = [(slice(i, i + size), slice(j, j + size), slice(k, k + size)) for i, j, k in starts]
    keep = [b for b in boxes if float((small[b] > 0.1).float().mean()) > 0.3]  # mostly brain
    if not keep:
        raise DataValidationError(f"mni_patches_3d: no {size}^3 patch at scale {scale} is mostly brain")
    images = torch.stack([small[b] for b in keep])[:, None].clamp(0, 1)
    return SliceSet(images, torch.stack([wm[b] for b in keep])[:, None].float())


def disk_mask(size: int) -> Tensor:
    """``(size, size)`` bool: pixels inside the circle that CT reconstruction covers (skimage's ``circle=True``)."""
    r = torch.arange(size, dtype=torch.float64) - size // 2
    return (r[:, None] ** 2 + r[None, :] ** 2) <= (size // 2 - 1) ** 2


def ellipse_phantom(size: int, rng: np.random.Generator, n_ellipses: int = 8) -> Tensor:
    """A random phantom of the Shepp-Logan family: a skull-like outer ellipse and ``n_ellipses`` inner ellipses of
    random centre, axes, angle and additive intensity, in ``[0, 1]``, zero outside the reconstruction circle."""
    coords = (torch.arange(size, dtype=torch.float64) - (size - 1) / 2) / (size / 2)
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")

    def ellipse(cx: float, cy: float, a: float, b: float, phi: float) -> Tensor:
        c, s = np.cos(phi), np.sin(phi)
        u, v = (xx - cx) * c + (yy - cy) * s, -(xx - cx) * s + (yy - cy) * c
        return ((u / a) ** 2 + (v / b) ** 2) <= 1

    a, b, phi = rng.uniform(0.6, 0.78), rng.uniform(0.7, 0.9), rng.uniform(-0.3, 0.3)
    img = 1.0 * ellipse(0, 0, a, b, phi) - 0.75 * ellipse(0, 0, a - 0.05, b - 0.06, phi)
    inside = ellipse(0, 0, a - 0.08, b - 0.1, phi)
    for _ in range(n_ellipses):
        e = ellipse(rng.uniform(-0.4, 0.4), rng.uniform(-0.5, 0.5), rng.uniform(0.05, 0.3), rng.uniform(0.05, 0.3),
                    rng.uniform(0, np.pi))  # fmt: skip
        img = img + rng.uniform(-0.15, 0.35) * (e & inside)
    img = img.clamp(0, 1) * disk_mask(size)
    return img.float()[None]


def shepp_logan(size: int) -> Tensor:
    """scikit-image's Shepp-Logan phantom (400 x 400) resampled to ``(1, size, size)``, zero outside the circle."""
    from skimage.data import shepp_logan_phantom

    img = torch.from_numpy(shepp_logan_phantom()).float()[None, None]
    return (F.interpolate(img, size=(size, size), mode="area")[0] * disk_mask(size)).clamp(0, 1)


@cache
def phantom_slices(size: int = 32, split: str = "train", count: int = 256) -> SliceSet:
    """Random ellipse phantoms; training seeds ``0..count-1``, held-out seeds from a disjoint range plus the
    Shepp-Logan phantom itself (never trained on)."""
    if split not in ("train", "heldout"):
        raise ValueError(f"phantom_slices: split must be 'train' or 'heldout', got {split!r}")
    offset = 0 if split == "train" else 10**6
    imgs = [ellipse_phantom(size, np.random.default_rng(offset + i)) for i in range(count)]
    if split == "heldout":
        imgs = [shepp_logan(size), *imgs]
    return SliceSet(torch.stack(imgs))


def matplotlib_mri_slice(size: int | None = None) -> Tensor:
    """The 256 x 256 MRI slice of matplotlib's sample data (``s1045.ima.gz``), ``(1, H, W)`` in ``[0, 1]``.

    Raises :class:`ModuleNotFoundError` when matplotlib is not installed (it is an optional source).
    """
    import gzip

    from matplotlib import cbook

    with cbook.get_sample_data("s1045.ima.gz") as fh:
        raw = fh.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    img = torch.from_numpy(np.frombuffer(raw, np.uint16).astype(np.float32).reshape(256, 256))
    img = img / img.max().clamp_min(1)
    if size is not None:
        img = F.interpolate(img[None, None], size=(size, size), mode="area")[0, 0]
    return img[None]


SOURCES = ("mni", "phantom", "mni3d")


def builtin_set(source: str, size: int, split: str) -> SliceSet:
    """The slices (or 3-D patches) of a built-in ``source`` for ``split``."""
    if source == "mni":
        return mni_slices(size, split)
    if source == "phantom":
        return phantom_slices(size, split, 256 if split == "train" else 31)
    if source == "mni3d":
        return mni_patches_3d(size, 4, split)
    raise ValueError(f"builtin data: unknown source {source!r}; expected one of {SOURCES}")
