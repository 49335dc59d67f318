"""condiff-train -> condiff-sample -> condiff-evaluate on GeoTDM forecasting, in-process (the functions the console
scripts call, on Hydra-composed train/sample/evaluate configs; subprocesses would add ~10 s of imports each).

A tiny model is trained for 3 steps: the samples are not good, so the checks are exact bookkeeping (shapes, given
frames equal to the condition, per-system errors equal to ``min_ade_fde`` recomputed from the file, the evaluator's
means equal to the CSV's) rather than quality.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from safetensors.torch import load_file

from condiff.core.cli.evaluate import evaluate
from condiff.core.cli.sample import generate_from_export
from condiff.core.config_path import core_config_dir
from condiff.core.errors import DataValidationError
from condiff.core.training.run import train
from condiff.molecules.geotdm import TrajectoryEvaluator, min_ade_fde

TINY = [
    "logger=none", "resume=false", "trainer.enable_progress_bar=false", "threads=1",
    "task.network.hidden=8", "task.network.num_layers=1", "task.network.prior_layers=1", "task.network.heads=2",
    "task.network.time_dim=8", "task.datamodule.num_frames=8", "task.network.num_given=4",
    "task.datamodule.train_size=16", "task.datamodule.val_size=4", "task.datamodule.test_size=5",
    "task.datamodule.batch_size=8", "+task.datamodule.chunk_size=8", "trainer.max_steps=3",
    "trainer.check_val_every_n_epoch=1000", "module.num_val_samples=2", "module.num_eval_samples=2",
    "sampler.steps=2", "sampler.method=ddim", "task.sample_writer.samples_per_system=3",
]  # fmt: skip


def _compose(name: str, overrides: list[str]):
    with initialize_config_dir(config_dir=str(core_config_dir()), version_base="1.3"):
        return compose(name, overrides=overrides)


def test_train_sample_evaluate_forecasting(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    run = tmp_path / "run"
    result = train(_compose("train", [f"paths.output_dir={run}", "experiment=molecules/geotdm_nbody_forecast", *TINY]))
    assert {"val/minADE_2", "val/minFDE_2"} <= set(result["metrics"])  # the final validation with the evaluator
    out = tmp_path / "generated"
    generate_from_export(
        _compose(
            "sample",
            [
                f"export_dir={run / 'export'}",
                f"out_dir={out}",
                "num_samples=5",
                "batch_size=2",
                "sampler=dpm_solver_pp",
                "sampler.steps=3",
                "threads=1",
            ],
        )
    )
    tensors = load_file(str(out / "samples.safetensors"))
    samples, target, batch, given = (tensors[k] for k in ("samples", "cond.target", "cond.batch", "cond.given"))
    assert samples.shape == (3, 25, 8, 3)  # K = 3 samples of 5 systems of 5 particles, 8 frames
    assert given.tolist() == [True] * 4 + [False] * 4
    assert batch.tolist() == torch.arange(5).repeat_interleave(5).tolist()  # three sampling batches, joined
    assert tensors["cond.edge_index"].shape == (2, 5 * 20)
    assert int(tensors["cond.edge_index"].max()) == 24
    torch.testing.assert_close(samples[:, :, given], target[None, :, given].expand(3, -1, -1, -1))
    assert (samples[0] - samples[1])[:, ~given].abs().min() > 0  # K different samples
    ade, fde = min_ade_fde(samples, target, batch, ~given)
    with open(out / "per_system.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["nodes"]) for r in rows] == [5] * 5
    torch.testing.assert_close(torch.tensor([float(r["minADE_3"]) for r in rows]), ade, atol=1e-6, rtol=0)
    torch.testing.assert_close(torch.tensor([float(r["minFDE_3"]) for r in rows]), fde, atol=1e-6, rtol=0)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["nfe"] == 3
    assert summary["sampler"]["method"] == "dpm-solver++"
    metrics = evaluate(_compose("evaluate", [f"samples={out / 'samples.safetensors'}", "logger=none"]))
    assert metrics["minADE_3"] == pytest.approx(float(ade.mean()), abs=1e-6)
    assert metrics["minFDE_3"] == pytest.approx(summary["minFDE_3"], abs=1e-6)
    assert metrics["nfe"] == 3
    assert json.loads((out / "metrics.json").read_text())["metrics"]["minADE_3"] == metrics["minADE_3"]


def test_evaluator_scores_unconditional_samples_and_names_bad_input() -> None:
    g = torch.Generator().manual_seed(0)
    batch = torch.arange(16).repeat_interleave(3)
    t = torch.linspace(0, 1, 6)[None, :, None]
    real = torch.randn(48, 1, 3, generator=g) + t * torch.randn(48, 1, 3, generator=g)  # straight lines
    cond = {"target": real, "batch": batch, "given": torch.zeros(6, dtype=torch.bool)}
    ev = TrajectoryEvaluator(score_steps=20)
    same = ev(real[None], cond)
    noise = ev(torch.randn(1, 48, 6, 3, generator=g), cond)
    print(f"uncond scores: identical {same}, noise {noise}")
    assert same["marginal"] == 0.0
    assert noise["marginal"] > 0.05
    assert noise["prediction"] > 3 * same["prediction"]  # a forecaster trained on noise is worse on real lines
    with pytest.raises(DataValidationError, match=r"missing conditions \['given'\]"):
        ev(real[None], {"target": real, "batch": batch})
    with pytest.raises(DataValidationError, match=r"'samples' must be \(K, M, T, 3\)"):
        ev(real, cond)


def test_writer_of_an_unconditional_model_writes_centred_samples_and_the_marginal_score(tmp_path: Path) -> None:
    from condiff.core.processes import DiscreteVPProcess
    from condiff.molecules.geotdm import GeoTDMModel, NBodyDataModule, PriorShiftedProcess, TrajectorySampleWriter

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = GeoTDMModel("uncond", 6, 0, hidden=8, num_layers=1, heads=2, time_dim=8).eval()
    dm = NBodyDataModule(num_frames=6, train_size=4, val_size=4, test_size=3, chunk_size=4)
    process = PriorShiftedProcess(DiscreteVPProcess(betas=torch.linspace(1e-4, 0.02, 1000)))
    out = TrajectorySampleWriter(samples_per_system=2)(
        network=model, process=process, parameterization="eps", datamodule=dm,
        options={"method": "ddim", "steps": 2, "schedule": "uniform", "guidance": 1.0}, num_samples=10,
        batch_size=2, generator=torch.Generator().manual_seed(0), out_dir=tmp_path, export_dir=tmp_path / "export",
    )  # fmt: skip
    tensors = load_file(str(tmp_path / "samples.safetensors"))
    assert tensors["samples"].shape == (2, 15, 6, 3)  # only the 3 test systems exist: 3 of the 10 asked
    assert not bool(tensors["cond.given"].any())
    assert "cond.prior_mean" not in tensors
    com = tensors["samples"].reshape(2, 3, 5 * 6, 3).mean(dim=2)
    torch.testing.assert_close(com, torch.zeros_like(com), atol=1e-5, rtol=0)  # zero centre of mass per system
    assert not (tmp_path / "per_system.csv").exists()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["systems"] == 3
    assert summary["marginal"] > 0
    assert out["nfe"] == 2
