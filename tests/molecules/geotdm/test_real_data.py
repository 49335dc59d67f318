"""MD17 (.npz) and ETH-UCY (text) loaders on small files written here; bad files name the file and problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from condiff.core.errors import ConfigError, DataValidationError
from condiff.molecules.geotdm import ETHUCYDataModule, MD17DataModule, systems_from_batch
from condiff.molecules.geotdm.ethucy import eth_ucy_windows, read_eth_ucy
from condiff.molecules.geotdm.md17 import md17_windows, read_md17


def _md17(path: Path, frames: int = 200) -> np.ndarray:
    rng = np.random.default_rng(0)
    z = np.array([6, 6, 8, 1, 1])  # C C O H H
    base = np.array([[0, 0, 0], [1.5, 0, 0], [2.2, 1.0, 0], [-0.7, 0.7, 0], [1.9, -0.9, 0]], dtype=np.float64)
    r = base[None] + 0.05 * rng.normal(size=(frames, 5, 3))
    r[:, :, 0] += np.arange(frames)[:, None] * 1e-3  # frame index readable from the x drift
    np.savez(path, R=r, z=z, E=np.zeros(frames), F=np.zeros_like(r))
    return r


def test_md17_splits_windows_and_graph(tmp_path: Path) -> None:
    r = _md17(tmp_path / "md17_toy.npz")
    positions, z = read_md17(tmp_path / "md17_toy.npz")
    assert positions.shape == (200, 5, 3)
    assert z.tolist() == [6, 6, 8, 1, 1]
    heavy, zh = read_md17(tmp_path / "md17_toy.npz", with_hydrogen=False)
    assert heavy.shape == (200, 3, 3)
    assert zh.tolist() == [6, 6, 8]
    # every 2nd frame -> 100 frames: train 0..59, val 60..79, test 80..99; windows of 5
    test = md17_windows(positions, span=5, every=2, split="test", max_windows=100)
    assert test.shape == (16, 5, 5, 3)
    torch.testing.assert_close(test[0, :, 0], torch.from_numpy(r[160]).float())
    torch.testing.assert_close(test[-1, :, -1], torch.from_numpy(r[198]).float())
    train = md17_windows(positions, span=5, every=2, split="train", max_windows=8)
    assert train.shape[0] == 8  # spread evenly: starts 0, 7, 14, ...
    torch.testing.assert_close(train[1, :, 0], torch.from_numpy(r[14]).float())
    dm = MD17DataModule(str(tmp_path / "md17_toy.npz"), span=5, every=2, train_windows=8, eval_windows=4, batch_size=3)
    sys = systems_from_batch(next(iter(dm.train_dataloader())))
    assert sys.x.shape == (15, 5, 3)
    assert sys.node_attr is not None
    assert sys.edge_attr is not None
    assert sys.node_attr[:5].argmax(1).tolist() == [1, 1, 3, 0, 0]  # one-hot over H, C, N, O
    # bonds at frame 0 within 1.6 A: C0-C1 (1.5), C0-H3 (~1.0), C1-O2 (~1.22), C1-H4 (~0.98)
    assert int(sys.edge_attr[: 5 * 4].sum()) == 2 * 4


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"R": np.zeros((4, 2, 3))}, r"missing keys \['z'\]"),
        ({"R": np.zeros((4, 2)), "z": np.array([1, 6])}, "'R' must be"),
        ({"R": np.zeros((4, 2, 3)), "z": np.array([1, 16])}, r"atomic numbers \[16\]"),
        ({"R": np.full((4, 2, 3), np.nan), "z": np.array([1, 6])}, "'R' holds NaN/inf"),
    ],
)
def test_bad_md17_files_are_named(tmp_path: Path, arrays: dict, message: str) -> None:
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataValidationError, match=rf"bad\.npz: {message}"):
        read_md17(tmp_path / "bad.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(DataValidationError, match=r"junk\.npz: not a readable"):
        read_md17(tmp_path / "junk.npz")


def _eth(path: Path) -> None:
    lines = []
    for f in range(0, 60, 10):  # six annotated frames, every 10th frame id as in the ETH files
        lines.append(f"{f:.1f}\t1.0\t{f / 10:.2f}\t0.50")  # pedestrian 1 in every frame, walking along x
        if f >= 10:
            lines.append(f"{f:.1f}\t2.0\t3.00\t{f / 20:.2f}")  # pedestrian 2 from frame 10 on
    path.write_text("\n".join(lines) + "\n")


def test_eth_ucy_windows_keep_pedestrians_present_throughout(tmp_path: Path) -> None:
    _eth(tmp_path / "scene.txt")
    rows = read_eth_ucy(tmp_path / "scene.txt")
    assert rows.shape == (11, 4)
    windows = eth_ucy_windows(rows, past=2, future=2)
    assert [w.shape[0] for w in windows] == [1, 2, 2]  # the first window starts before pedestrian 2 appears
    torch.testing.assert_close(windows[0][0, :, 0], torch.tensor([0.0, 1.0, 2.0, 3.0]))
    torch.testing.assert_close(windows[1][1, :, 1], torch.tensor([0.5, 1.0, 1.5, 2.0]))
    assert windows[2][:, :, 2].abs().max() == 0  # planar data lifted with z = 0
    dm = ETHUCYDataModule(
        [str(tmp_path / "scene.txt")], [str(tmp_path / "scene.txt")], past=2, future=2, min_agents=2, batch_size=4
    )
    sys = systems_from_batch(next(iter(dm.val_dataloader())))
    assert sys.x.shape == (4, 4, 3)
    assert sys.batch.tolist() == [0, 0, 1, 1]
    assert sys.node_attr is None


def test_bad_eth_ucy_rows_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("0 1 0.5 0.5\n10 1 0.6\n")
    with pytest.raises(DataValidationError, match=r"bad\.txt:2: expected 4 columns"):
        read_eth_ucy(bad)
    bad.write_text("0 1 0.5 abc\n")
    with pytest.raises(DataValidationError, match=r"bad\.txt:1: expected 'frame pedestrian x y'"):
        read_eth_ucy(bad)
    bad.write_text("0 1 nan 0.5\n")
    with pytest.raises(DataValidationError, match=r"bad\.txt:1: NaN"):
        read_eth_ucy(bad)
    with pytest.raises(DataValidationError, match=r"missing\.txt: no such"):
        read_eth_ucy(tmp_path / "missing.txt")


@pytest.mark.parametrize("task", ["geotdm_md17_forecast", "geotdm_ethucy_forecast"])
def test_real_data_task_configs_train_on_small_files(task: str, tmp_path: Path) -> None:
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    from condiff.core.config_path import core_config_dir
    from condiff.core.training.run import build_module

    _md17(tmp_path / "md17_toy.npz", frames=800)
    _eth(tmp_path / "scene.txt")
    small = [
        "task.network.hidden=8",
        "task.network.num_layers=1",
        "task.network.prior_layers=1",
        "task.network.heads=2",
        "task.network.time_dim=8",
    ]
    data = {
        "geotdm_md17_forecast": [f"task.datamodule.path={tmp_path / 'md17_toy.npz'}", "task.datamodule.every=2"],
        "geotdm_ethucy_forecast": [
            f"task.datamodule.train_paths=[{tmp_path / 'scene.txt'}]",
            f"task.datamodule.test_paths=[{tmp_path / 'scene.txt'}]",
            "task.datamodule.past=2",
            "task.datamodule.future=2",
            "task.network.num_frames=4",
        ],
    }[task]
    with initialize_config_dir(config_dir=str(core_config_dir()), version_base="1.3"):
        cfg = compose(
            "train",
            overrides=[
                "paths.output_dir=/tmp/unused",
                f"experiment=molecules/{task}",
                *small,
                *data,
            ],
        )
    module = build_module(cfg)
    dm = instantiate(cfg.task.datamodule)
    loss = module._loss(next(iter(dm.train_dataloader())))
    assert torch.isfinite(loss)
    # the experiments' settings: the reference's 100 linear betas (guided-diffusion scaling), ETH-UCY planar
    betas = instantiate(cfg.sde.process.betas)
    assert betas.shape == (100,)
    assert float(betas[0]) == pytest.approx(1e-3)
    assert float(betas[-1]) == pytest.approx(0.2)
    assert module.network.planar == (task == "geotdm_ethucy_forecast")
    assert cfg.module.num_eval_samples == (20 if task == "geotdm_ethucy_forecast" else 5)


def test_built_in_sources_without_files() -> None:
    from condiff.molecules.geotdm.ethucy import simulate_crowd
    from condiff.molecules.geotdm.md17 import simulate_molecule

    positions, z = simulate_molecule(frames=2000)
    assert positions.shape == (2000, 9, 3)
    assert z.tolist() == [6, 6, 8, 1, 1, 1, 1, 1, 1]
    cc = (positions[:, 0] - positions[:, 1]).norm(dim=-1)
    print(f"built-in molecule: C-C {cc.mean():.3f} +- {cc.std():.3f} A")
    assert abs(float(cc.mean()) - 1.52) < 0.05  # bonds hold near their length
    assert 0.01 < float(cc.std()) < 0.1  # and fluctuate thermally
    rows = simulate_crowd(pedestrians=4, frames=30, seed=0)
    assert rows.shape == (4 * 30, 4)
    xy = torch.from_numpy(rows[:, 2:]).reshape(30, 4, 2)
    speed = (xy[1:] - xy[:-1]).norm(dim=-1) / 0.4
    print(f"built-in crowd: speed {speed.mean():.2f} m/s")
    assert 0.8 < float(speed.mean()) < 1.8  # walking speed
    dm = ETHUCYDataModule(builtin_scenes=4)
    assert len(dm.splits["train"]) == 4 * 41  # 60 frames per scene: 41 windows of 20
    assert len(dm.splits["test"]) == 41
    md = MD17DataModule(span=10, every=10, train_windows=8, eval_windows=4)
    sys = systems_from_batch(next(iter(md.train_dataloader())))
    assert sys.x.shape[1:] == (10, 3)
    with pytest.raises(ConfigError, match="give both"):
        ETHUCYDataModule(train_paths=["a.txt"])
