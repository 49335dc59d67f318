"""WDNO learns Burgers for real: a small UNet trained briefly through the experiment config simulates held-out
trajectories better than the persistence and linear baselines, and its guided samples control the real solver.

The same network diffusing in pixel space is trained alongside and the comparison is printed (run with -s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from hydra import compose, initialize_config_dir

from condiff.core.config_path import core_config_dir
from condiff.core.guidance import schedules
from condiff.core.training.run import train
from condiff.pde.control import ControlObjective, control, evaluate_forcing
from condiff.pde.datamodule import BurgersDataModule
from condiff.pde.metrics import pooled_relative_l2, relative_l2
from condiff.pde.model import WDNO
from condiff.pde.physics import heat_forced
from condiff.pde.simulate import simulate

N, NT = 32, 15
TINY = [
    "logger=none", "trainer.enable_progress_bar=false", "threads=1",
    f"task.datamodule.n={N}", f"task.datamodule.nt={NT}", "task.datamodule.train_samples=512",
    "task.datamodule.test_samples=32", "task.datamodule.train_subsample=[1]", "task.datamodule.batch_size=32",
    "task.network.base_channels=16", "task.network.channel_mults=[1,2]", "task.network.num_res_blocks=1",
    "module.lr=2e-3", "module.warmup_steps=30", "module.ema_decay=0.99", "trainer.max_steps=300",
    "trainer.check_val_every_n_epoch=1000", "trainer.num_sanity_val_steps=0",
]  # fmt: skip


def _train(tmp: Path, *overrides: str, experiment: str = "pde/wdno_burgers_sim") -> dict[str, Any]:
    with initialize_config_dir(config_dir=str(core_config_dir()), version_base="1.3"):
        cfg = compose("train", overrides=[f"paths.output_dir={tmp}", f"experiment={experiment}", *TINY, *overrides])
    result = train(cfg)
    result["module"].ema_network.eval()
    result["datamodule"] = result["trainer"].datamodule
    return result


@pytest.fixture(scope="module")
def wavelet(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _train(tmp_path_factory.mktemp("wdno"), "export=true")


@pytest.fixture(scope="module")
def pixel(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _train(
        tmp_path_factory.mktemp("pixel"),
        "export=false",
        "task.datamodule.domain=pixel", "task.network.in_channels=2", "task.network.cond_channels=1",
    )  # fmt: skip


def _simulate(result: dict[str, Any], steps: int = 20, method: str = "ddim") -> torch.Tensor:
    module, dm = result["module"], result["datamodule"]
    test = dm.test
    return simulate(
        module.ema_network, module.process, module.parameterization, dm.codec, dm.cond_codec,
        test.u[:, 0], test.forcing, steps=steps, method=method, generator=torch.Generator().manual_seed(0),
    ).u  # fmt: skip


def _errors(pred: torch.Tensor, dm: BurgersDataModule) -> tuple[float, float]:
    """(pooled relative L2, mean per-sample relative L2) on the held-out set, frames 1..T-1."""
    ref = dm.test.u
    return pooled_relative_l2(pred.double(), ref).item(), relative_l2(pred.double(), ref).mean().item()


def test_wdno_simulation_beats_persistence_and_linear_baselines(wavelet: dict[str, Any], pixel: dict[str, Any]) -> None:
    dm = wavelet["datamodule"]
    test = dm.test
    errors = {
        "WDNO (wavelet)": _errors(_simulate(wavelet), dm),
        "pixel-space diffusion": _errors(_simulate(pixel), dm),
        "persistence u(t) = u0": _errors(test.u[:, :1].expand_as(test.u), dm),
        "linear (heat + forcing, exact)": _errors(
            heat_forced(test.u[:, 0], nu=dm.nu, nt=dm.nt, t_final=dm.t_final, forcing=test.forcing), dm
        ),
    }
    print("\nrelative L2 on 32 held-out trajectories (pooled, mean per sample):")
    for name, (pooled, mean) in errors.items():
        print(f"  {name:32s} {pooled:.3f}  {mean:.3f}")
    wdno, pix = errors["WDNO (wavelet)"][0], errors["pixel-space diffusion"][0]
    persistence, linear = errors["persistence u(t) = u0"][0], errors["linear (heat + forcing, exact)"][0]
    assert persistence > 0.7  # the task is hard for both baselines
    assert linear > 0.5
    # WDNO / linear measured 0.71, 0.79, 0.64 and WDNO / persistence 0.54, 0.52, 0.46 with training seeds 0, 1, 2
    assert wdno < 0.9 * linear
    assert wdno < 0.7 * persistence
    assert pix < 0.7 * persistence  # the pixel model learns too; how it compares with WDNO is reported only


def test_control_by_guidance_beats_zero_forcing_in_the_real_solver(wavelet: dict[str, Any]) -> None:
    module, dm = wavelet["module"], wavelet["datamodule"]
    test = dm.test
    u0, target = test.u[:16, 0], test.u[:16, -1]  # targets reachable by some forcing
    objective = ControlObjective(target, alpha=0.01, t_final=dm.t_final)
    _, zero, _, _ = evaluate_forcing(u0, torch.zeros(16, NT, N, dtype=torch.float64), objective, nu=dm.nu)
    runs = {}
    for w in (0.0, 20.0):
        runs[w] = control(
            module.ema_network, module.process, module.parameterization, dm.codec, dm.cond_codec, u0, objective,
            frames=NT + 1, weight=schedules.cosine(w), nu=dm.nu, steps=20, generator=torch.Generator().manual_seed(0),
        ).objective.mean().item()  # fmt: skip
    print(f"\ncontrol objective J (solver): zero forcing {zero.mean().item():.4f}, unguided samples {runs[0.0]:.4f},"
          f" guided (w = 20, cosine) {runs[20.0]:.4f}")  # fmt: skip
    # J / J(zero forcing) measured 0.59, 0.51, 0.76 with training seeds 0, 1, 2 (w = 30: 0.51, 0.96, 0.63)
    assert runs[20.0] < 0.85 * zero.mean().item()
    assert runs[20.0] < runs[0.0]


def test_exported_model_simulates_like_the_trained_one(wavelet: dict[str, Any]) -> None:
    model = WDNO.from_export(wavelet["export_dir"])
    dm = wavelet["datamodule"]
    torch.testing.assert_close(model.datamodule.codec.scale, dm.codec.scale, atol=0, rtol=0)
    test = dm.test
    u0, f = test.u[:4, 0], test.forcing[:4]
    module = wavelet["module"]
    expected = simulate(module.ema_network, module.process, module.parameterization, dm.codec, dm.cond_codec, u0, f,
                        steps=5, method="ddim", generator=torch.Generator().manual_seed(1)).u  # fmt: skip
    got = model.simulate(u0, f, steps=5, method="ddim", generator=torch.Generator().manual_seed(1)).u
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)


def test_wdno_learns_forced_advection(tmp_path: Path) -> None:
    """The same recipe on u_t + u_x = f: held-out simulation well below persistence (one 300-step run measured
    0.54 vs 1.12 relative L2)."""
    result = _train(tmp_path, "export=false", experiment="pde/wdno_advection_sim")
    dm = result["datamodule"]
    test = dm.test
    wdno = _errors(_simulate(result), dm)[0]
    persistence = _errors(test.u[:, :1].expand_as(test.u), dm)[0]
    print(f"\nadvection relative L2: WDNO {wdno:.3f}, persistence {persistence:.3f}")
    assert persistence > 0.7
    assert wdno < 0.7 * persistence
