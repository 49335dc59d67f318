"""Config groups sde=, param=, loss= select the core's processes, parameterizations and losses in training."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from condiff.core.config_path import core_config_dir
from condiff.core.processes import GaussianProcess
from condiff.core.training.run import build_module, train

CONFIGS = core_config_dir()
assert CONFIGS is not None
SDES = sorted(p.stem for p in (CONFIGS / "sde").glob("*.yaml"))
LOSSES = sorted(p.stem for p in (CONFIGS / "loss").glob("*.yaml"))


def _compose(tmp: Path, *overrides: str):
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        return compose("train", overrides=["experiment=quickstart", f"paths.output_dir={tmp}", *overrides])


@pytest.mark.parametrize("sde", SDES)
def test_every_sde_config_builds_a_valid_process(sde: str, tmp_path: Path) -> None:
    process = instantiate(_compose(tmp_path, f"sde={sde}").sde)
    assert isinstance(process, GaussianProcess)
    t = torch.linspace(process.t_min + 1e-3, process.T - 1e-3, 17, dtype=torch.float64)
    lam = process.log_snr(t)
    assert bool(torch.isfinite(lam).all())
    assert bool((lam[1:] < lam[:-1]).all())


@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_config_is_minimal_at_the_exact_prediction(loss: str, tmp_path: Path) -> None:
    from condiff.core.parameterization import from_x0_eps
    from condiff.core.processes import MeanRevertingProcess

    loss_fn = instantiate(_compose(tmp_path, f"loss={loss}").loss)
    process = MeanRevertingProcess()
    g = torch.Generator().manual_seed(0)
    x0, eps, y = (torch.randn(16, 1, 4, 4, generator=g, dtype=torch.float64) for _ in range(3))
    t = torch.rand(16, generator=g, dtype=torch.float64) * 0.9 + 0.05
    kind = "residual_eps" if loss == "rddm" else "eps"
    exact = from_x0_eps(kind, x0, eps, t=t, process=process, y=y)
    wrong = tuple(o + 1.0 for o in exact) if isinstance(exact, tuple) else exact + 1.0
    at_exact = loss_fn(process, kind, exact, x0, eps, t, y).mean().item()
    off = loss_fn(process, kind, wrong, x0, eps, t, y).mean().item()
    # Zero for the regression losses; IR-SDE's ML loss keeps the O(dt^2) residual of its one Euler step.
    assert at_exact < 0.1 * off, (at_exact, off)


@pytest.mark.parametrize(
    ("sde", "param", "loss"),
    [
        ("vp_cosine", "x0", "mse"),
        ("vp_discrete", "v", "mse"),
        ("subvp", "eps", "dsm"),
        ("ve", "x0", "edm"),
        ("cond_ot", "flow", "mse"),
        ("interpolant", "eps", "min_snr"),
        ("vp_linear", "score", "dsm"),
    ],
)
def test_training_steps_reduce_the_loss_for_each_combination(sde: str, param: str, loss: str, tmp_path: Path) -> None:
    cfg = _compose(tmp_path, f"sde={sde}", f"param={param}", f"loss={loss}")
    module = build_module(cfg)
    opt = torch.optim.Adam(module.network.parameters(), lr=1e-3)
    from condiff.core.tasks.digits import load_digits_splits

    data = load_digits_splits()["train"]
    g = torch.Generator().manual_seed(0)

    def batch_loss(i: int, train: bool) -> torch.Tensor:
        idx = torch.randint(0, len(data.labels), (256,), generator=torch.Generator().manual_seed(i))
        batch = {"x0": data.images[idx], "cond": {"labels": data.labels[idx]}}
        module.train(train)
        return module._loss(batch, generator=g if not train else None)

    torch.manual_seed(0)
    with torch.no_grad():
        before = torch.stack([batch_loss(1000 + i, False) for i in range(8)]).mean()
    for i in range(150):
        loss_value = batch_loss(i, True)
        assert torch.isfinite(loss_value)
        opt.zero_grad()
        loss_value.backward()
        opt.step()
    with torch.no_grad():
        after = torch.stack([batch_loss(1000 + i, False) for i in range(8)]).mean()
    assert after < 0.7 * before, (before.item(), after.item())


def test_x0_parameterization_with_cosine_schedule_learns_digits(tmp_path: Path, cache_dir: Path) -> None:
    cfg = _compose(
        tmp_path,
        "sde=vp_cosine",
        "param=x0",
        "loss=min_snr",
        "logger=none",
        "trainer.max_steps=900",
        "trainer.enable_progress_bar=false",
        "trainer.check_val_every_n_epoch=100",
        "export=false",
        f"paths.cache_dir={cache_dir}",
        "module.num_val_samples=300",
    )
    metrics = train(cfg)["metrics"]
    assert metrics["val/accuracy"] >= 0.7, metrics  # chance 0.1; the full quickstart reaches ~0.99
