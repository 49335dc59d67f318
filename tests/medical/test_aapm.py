"""AAPM Low Dose CT Grand Challenge layout: quarter-/full-dose DICOM series paired by slice position, Hounsfield
units windowed with the window recorded, clear errors naming the file, and the task config training on it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pydicom
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from condiff.core.config_path import core_config_dir
from condiff.core.errors import DataValidationError
from condiff.medical.data import IntensityWindow
from condiff.medical.data.aapm import aapm_pairs, pair_patient
from condiff.medical.data.builtin import phantom_slices
from condiff.medical.io import load_nifti
from condiff.medical.metrics import psnr
from tests.medical.helpers import train_tiny, write_dicom_series

SOFT = IntensityWindow.ct("soft_tissue")  # [-160, 240] HU


def _patient(root: Path, name: str, seed: int, slices: int = 3, quarter_slices: int | None = None,
             full_spacing: float = 0.7) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Write ``root/name/{quarter,full}_3mm`` as CT-like series ``(32, 32, slices)`` in HU (full: a phantom in the
    soft-tissue window, quarter: plus Gaussian noise of 30 HU), returning (quarter, full) in HU."""
    img = phantom_slices(32, "train", 8).images[seed : seed + slices, 0].permute(1, 2, 0).numpy()
    full = np.round(SOFT.low + img * (SOFT.high - SOFT.low))
    noise = np.random.default_rng(seed).normal(0, 30, (32, 32, quarter_slices or slices))
    quarter = np.round(np.concatenate([full, full[..., :1]], -1)[..., : quarter_slices or slices] + noise)
    # Different rescale slopes and file orders: only HU and positions may be relied on.
    write_dicom_series(root / name / "quarter_3mm", quarter, (0.7, 0.7, 3.0), (-20.0, 10.0, 100.0), slope=2.0,
                       intercept=-1024.0, shuffle=True)  # fmt: skip
    write_dicom_series(root / name / "full_3mm" / "series1", full, (full_spacing, 0.7, 3.0), (-20.0, 10.0, 100.0),
                       intercept=-1024.0)  # fmt: skip
    return quarter, full


def _rewrite(folder: Path, **changes: object) -> None:
    """Set (or, with ``None``, delete) attributes in every DICOM file under ``folder``."""
    for path in folder.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        for key, value in changes.items():
            if value is None:
                delattr(ds, key)
            else:
                setattr(ds, key, value)
        ds.save_as(path)


def test_slices_are_paired_by_position_in_hounsfield_units(tmp_path: Path) -> None:
    q1, f1 = _patient(tmp_path / "train", "L067", 0)
    q2, f2 = _patient(tmp_path / "train", "L096", 3, slices=2)
    pairs = aapm_pairs(tmp_path / "train", 32)
    assert pairs.window == SOFT  # the normalisation, recorded
    assert pairs.inputs.shape == pairs.targets.shape == (5, 1, 32, 32)
    # (X, Y, Z) -> slices (Z, 1, X, Y) in position order, although the quarter-dose files are written in reverse;
    # quarter-dose pixels were stored at half the value (slope 2): the HU come back, to the rounding of 1 HU.
    for got, hu in ((pairs.targets, np.concatenate([f1, f2], -1)), (pairs.inputs, np.concatenate([q1, q2], -1))):
        expected = torch.from_numpy(SOFT.normalize(hu)).permute(2, 0, 1)[:, None]
        torch.testing.assert_close(got, expected, atol=1.01 / 400, rtol=0)
    q_names = [q.name for q, _ in pairs.sources]
    assert q_names[:3] == ["slice002.dcm", "slice001.dcm", "slice000.dcm"]  # reversed files, sorted positions
    assert [f.name for _, f in pairs.sources][:3] == ["slice000.dcm", "slice001.dcm", "slice002.dcm"]
    # Without ImagePositionPatient the slices pair by SliceLocation (here: reversed, so the order flips).
    for dose in ("quarter_3mm", "full_3mm"):
        for path in (tmp_path / "train" / "L096" / dose).rglob("*.dcm"):
            ds = pydicom.dcmread(path)
            ds.SliceLocation = -float(ds.ImagePositionPatient[2])
            del ds.ImagePositionPatient
            ds.save_as(path)
    by_location = pair_patient(tmp_path / "train" / "L096")
    assert [(q.position["SliceLocation"], f.position["SliceLocation"]) for q, f in by_location] == [
        (-103.0, -103.0), (-100.0, -100.0)]  # fmt: skip


def test_bad_aapm_data_gets_errors_that_name_the_file(tmp_path: Path) -> None:
    _patient(tmp_path / "missing", "L067", 0, slices=2, quarter_slices=3)
    with pytest.raises(DataValidationError, match=r"quarter_3mm/slice000\.dcm: no full-dose slice at "
                                                  r"ImagePositionPatient 106 in .*L067/full_3mm"):  # fmt: skip
        aapm_pairs(tmp_path / "missing", 16)
    _patient(tmp_path / "geometry", "L067", 0, slices=2, full_spacing=0.8)
    partner = r"quarter_3mm/slice001\.dcm: PixelSpacing \[0\.7, 0\.7\] differs from its full-dose partner .*"
    with pytest.raises(DataValidationError, match=partner + r"full_3mm/series1/slice000\.dcm \(\[0\.7, 0\.8\]\)"):
        aapm_pairs(tmp_path / "geometry", 16)
    _patient(tmp_path / "corrupt", "L067", 0, slices=2)
    (tmp_path / "corrupt" / "L067" / "full_3mm" / "series1" / "L067_FD_3_1.CT.0003.0009.IMA").write_bytes(b"\0" * 300)
    with pytest.raises(DataValidationError, match=r"L067_FD_3_1\.CT\.0003\.0009\.IMA: not a readable DICOM image"):
        aapm_pairs(tmp_path / "corrupt", 16)
    _patient(tmp_path / "nofull", "L067", 0, slices=2)
    for path in (tmp_path / "nofull" / "L067" / "full_3mm").rglob("*.dcm"):
        path.unlink()
    with pytest.raises(DataValidationError, match=r"full_3mm: no DICOM file"):
        aapm_pairs(tmp_path / "nofull", 16)
    (tmp_path / "flat" / "L100" / "quarter_1mm").mkdir(parents=True)
    with pytest.raises(DataValidationError, match=r"flat: no patient folder with quarter_3mm/ and full_3mm/"):
        aapm_pairs(tmp_path / "flat", 16)
    with pytest.raises(DataValidationError, match=r"L100: no full_1mm/ folder \(found: \['quarter_1mm'\]\)"):
        aapm_pairs(tmp_path / "flat", 16, thickness="1mm")
    _patient(tmp_path / "nopos", "L067", 0, slices=2)
    first = tmp_path / "nopos" / "L067" / "quarter_3mm" / "slice000.dcm"
    ds = pydicom.dcmread(first)
    del ds.ImagePositionPatient, ds.InstanceNumber
    ds.save_as(first)
    with pytest.raises(DataValidationError, match=r"slice000\.dcm: no slice position that every file of .*L067 has "
                                                  r"\(ImagePositionPatient, SliceLocation, InstanceNumber; this file "
                                                  r"has none\)"):  # fmt: skip
        aapm_pairs(tmp_path / "nopos", 16)
    _patient(tmp_path / "twice", "L067", 0, slices=2)
    _rewrite(tmp_path / "twice" / "L067" / "full_3mm", ImagePositionPatient=[-20.0, 10.0, 100.0])
    with pytest.raises(DataValidationError, match=r"full_3mm/series1/slice00[01]\.dcm: same ImagePositionPatient "
                                                  r"\(100\) as .*slice00[01]\.dcm"):  # fmt: skip
        aapm_pairs(tmp_path / "twice", 16)


def test_aapm_task_config_trains_on_the_pairs(tmp_path: Path) -> None:
    _patient(tmp_path / "train", "L067", 0, slices=4)
    q, f = _patient(tmp_path / "test", "L310", 4, slices=2)
    dirs = [f"task.datamodule.train_dir={tmp_path / 'train'}", f"task.datamodule.val_dir={tmp_path / 'test'}"]
    with initialize_config_dir(config_dir=str(core_config_dir()), version_base="1.3"):
        cfg = compose("train", overrides=["experiment=medical/ct_lowdose", "task=medical/ct_lowdose_aapm",
                                          "task.datamodule.size=32", *dirs])  # fmt: skip
    dm = instantiate(cfg.task.datamodule, train_length=4, batch_size=4)
    batch = next(iter(dm.train_dataloader()))
    assert batch["x0"].shape == batch["y"].shape == (4, 1, 32, 32)
    assert dm.intensity_window == SOFT
    result = train_tiny(tmp_path / "run", "ct_lowdose", 2, "task=medical/ct_lowdose_aapm", *dirs, "sampler.steps=2")
    # The validation baseline is the held-out quarter-dose image itself: its PSNR against the full dose.
    unit = [torch.from_numpy(SOFT.normalize(v)).permute(2, 0, 1)[:, None] for v in (q, f)]
    expected = float(psnr(unit[0], unit[1]).mean())
    assert math.isclose(result["metrics"]["val/input_psnr"], expected, abs_tol=0.05), (result["metrics"], expected)
    assert np.isfinite(result["metrics"]["val/psnr"])
    # condiff-sample's folder processor with the task's CT window: a quarter-dose series in, HU out, window saved.
    module = result["module"]
    out = instantiate(result["cfg"].task.folder_restorer, batch_size=2, multiple=2)(
        module.ema_network, module.process, module.parameterization, tmp_path / "test" / "L310" / "quarter_3mm",
        tmp_path / "out", sampler={"method": "ddim", "steps": 2},
    )  # fmt: skip
    assert out["restored"] == 1
    assert json.loads((tmp_path / "out" / "quarter_3mm.json").read_text())["window"] == {"low": -160.0, "high": 240.0}
    restored = load_nifti(tmp_path / "out" / "quarter_3mm.nii.gz").data
    assert restored.shape == (32, 32, 2)
    assert SOFT.low <= float(restored.min()) <= float(restored.max()) <= SOFT.high
