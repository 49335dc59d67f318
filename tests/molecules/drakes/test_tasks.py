"""The DRAKES stages as Hydra tasks: pretrain -> oracle -> fine-tune through ``condiff-train``'s ``task.module``
route, exports, exact resume of fine-tuning, ``condiff-sample`` (FASTA) and ``condiff-evaluate`` (metrics)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import torch
from hydra import compose, initialize_config_dir
from safetensors.torch import load_file

from condiff.core.cli.evaluate import evaluate
from condiff.core.cli.sample import generate_from_export
from condiff.core.config_path import core_config_dir
from condiff.core.errors import CheckpointError, ConfigError
from condiff.core.training.run import train
from condiff.molecules.drakes.data import IterationDataModule, SequenceDataModule
from condiff.molecules.drakes.module import CURVE_FILE
from condiff.molecules.drakes.sequences import DNA, read_fasta

LENGTH = 24
RUN = ["logger=none", "trainer.enable_progress_bar=false", "threads=1", "trainer.log_every_n_steps=1"]
DATA = [f"task.datamodule.length={LENGTH}", "task.datamodule.num_train=64", "task.datamodule.num_val=16",
        "task.datamodule.batch_size=16"]  # fmt: skip
NET = ["task.network.channels=8", "task.network.dilations=[1,2]", "task.network.repeats=1"]
FINETUNE = [*NET, f"task.module.length={LENGTH}", f"task.reference_data.length={LENGTH}",
            "task.reference_data.num_val=16", "task.module.batch_size=4", "task.module.steps=4",
            "task.module.truncate=2", "task.module.temperature=0.3", "task.datamodule.epoch_length=1"]  # fmt: skip


def _compose(name: str, *overrides: str) -> Any:
    with initialize_config_dir(config_dir=str(core_config_dir()), version_base="1.3"):
        return compose(name, overrides=list(overrides))


def _train(out: Path, experiment: str, steps: int, *overrides: str) -> dict[str, Any]:
    cfg = _compose("train", f"paths.output_dir={out}", f"experiment=molecules/{experiment}", *RUN,
                   f"trainer.max_steps={steps}", *overrides)  # fmt: skip
    return train(cfg)


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("drakes_tasks")
    pre = _train(root / "pre", "drakes_dna_pretrain", 3, *DATA, *NET)["export_dir"]
    oracle = _train(root / "oracle", "drakes_dna_oracle", 3, *DATA, "task.network.channels=8")["export_dir"]
    return {"root": root, "pretrained": pre, "oracle": oracle}


def _finetune(out: Path, stages: dict[str, Path], steps: int) -> dict[str, Any]:
    exports = [f"task.module.pretrained_export={stages['pretrained']}", f"task.module.oracle_export={stages['oracle']}"]
    return _train(out, "drakes_dna_finetune", steps, *FINETUNE, *exports)


@pytest.mark.filterwarnings("ignore:Checkpoint directory .* exists and is not empty")  # the resumed run's own folder
def test_finetune_resumes_exactly_after_a_stop(stages: dict[str, Path], caplog: pytest.LogCaptureFixture) -> None:
    """Two steps, stop, one more from last.ckpt == three steps straight (per-step trajectory seeds, frozen
    pretrained copy rebuilt from its export)."""
    once = _finetune(stages["root"] / "ft_once", stages, 3)
    first = _finetune(stages["root"] / "ft_split", stages, 2)
    two = load_file(str(first["export_dir"] / "model.safetensors"))
    with caplog.at_level(logging.INFO, logger="condiff.core.training.run"):
        split = _finetune(stages["root"] / "ft_split", stages, 3)
    assert "resuming from" in caplog.text
    a = load_file(str(once["export_dir"] / "model.safetensors"))
    b = load_file(str(split["export_dir"] / "model.safetensors"))
    pre = load_file(str(stages["pretrained"] / "model.safetensors"))
    assert a.keys() == b.keys() == pre.keys() == two.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], two[k]) for k in a), "the resumed run did not take its third step"
    assert any(not torch.equal(a[k], pre[k]) for k in a), "fine-tuning did not change the weights"
    assert {"train/eval_reward", "train/kl"} <= set(once["metrics"])
    # the reward-against-KL curve survives the stop: one row per batch, equal to the uninterrupted run's
    curve = (stages["root"] / "ft_once" / CURVE_FILE).read_text()
    assert curve == (stages["root"] / "ft_split" / CURVE_FILE).read_text()
    assert len(curve.splitlines()) == 4


def test_sample_writes_fasta_and_evaluate_scores_it(stages: dict[str, Path]) -> None:
    ft = _finetune(stages["root"] / "ft_sample", stages, 1)
    out = stages["root"] / "generated"
    res = generate_from_export(_compose("sample", f"export_dir={ft['export_dir']}", f"out_dir={out}",
                                        "num_samples=10", "batch_size=4", "sampler.steps=6", "threads=1"))  # fmt: skip
    assert res["samples"].shape == (10, LENGTH)
    assert res["nfe"] <= 6
    fasta = read_fasta(out / "samples.fasta", DNA)
    assert torch.equal(fasta.tokens, res["samples"])
    metrics = evaluate(_compose("evaluate", f"samples={out / 'samples.safetensors'}", "logger=none", "threads=1"))
    for key in ("eval_reward_median", "eval_reward_mean", "kmer3_corr", "motif_corr", "motif_hit_rate", "elbo"):
        assert metrics.get(key) == metrics.get(key) is not None, key  # present and not NaN
    assert metrics["elbo"] < 0  # an ELBO in nats of discrete sequences
    assert json.loads((out / "metrics.json").read_text())["metrics"]["kmer3_corr"] == metrics["kmer3_corr"]


def test_sampling_with_a_class_label_uses_classifier_free_guidance(stages: dict[str, Path]) -> None:
    out = stages["root"] / "guided"
    base = ["export_dir=" + str(stages["pretrained"]), f"out_dir={out}", "num_samples=4", "batch_size=4",
            "sampler.steps=4", "threads=1"]  # fmt: skip
    res = generate_from_export(_compose("sample", *base, "+sampler.label=1", "sampler.guidance=2.0"))
    assert res["nfe"] <= 4
    assert res["samples"].shape == (4, LENGTH)
    assert json.loads(load_meta(out / "samples.safetensors")["sampler"])["label"] == 1
    # same seed without the label: the unconditional model draws other sequences (the class embedding and the
    # guided mixture change the logits)
    plain = generate_from_export(_compose("sample", *base))
    assert not torch.equal(plain["samples"], res["samples"])
    with pytest.raises(ConfigError, match=r"sampler\.guidance"):
        generate_from_export(_compose("sample", *base, "sampler.guidance=2.0"))


def load_meta(path: Path) -> dict[str, str]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return f.metadata()


def test_finetune_refuses_an_export_of_another_architecture(stages: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises((ConfigError, CheckpointError), match="export"):
        _train(tmp_path, "drakes_dna_finetune", 1, *FINETUNE, "task.network.channels=16",
               f"task.module.pretrained_export={stages['pretrained']}",
               f"task.module.oracle_export={stages['oracle']}")  # fmt: skip


def test_datamodule_bad_values_name_their_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"task\.datamodule\.source"):
        SequenceDataModule(source="rna")
    with pytest.raises(ConfigError, match=r"task\.datamodule\.path"):
        SequenceDataModule(source="csv")
    with pytest.raises(ConfigError, match=r"task\.datamodule\.epoch_length"):
        IterationDataModule(epoch_length=0)
    unlabelled = tmp_path / "seqs.fasta"
    unlabelled.write_text(">a\nACGTACGT\n>b\nACGTTTGA\n>c\nGGGTACGA\n")
    with pytest.raises(Exception, match=r"seqs\.fasta"):
        SequenceDataModule(source="fasta", path=str(unlabelled), emit="labels").setup()


def test_csv_source_splits_deterministically(tmp_path: Path) -> None:
    path = tmp_path / "enhancers.csv"
    rows = ["sequence,hepg2"] + [f"{'ACGT'[i % 4] * 4}{'ACGT'[(i // 4) % 4] * 4},{i / 10}" for i in range(20)]
    path.write_text("\n".join(rows) + "\n")
    dms = [SequenceDataModule(source="csv", path=str(path), label_column="hepg2", emit="labels", val_fraction=0.25,
                              batch_size=4) for _ in range(2)]  # fmt: skip
    (tr_a, va_a), (tr_b, va_b) = dms[0].sets(), dms[1].sets()
    assert va_a.tokens.shape == (5, 8)
    assert tr_a.tokens.shape == (15, 8)
    assert torch.equal(va_a.tokens, va_b.tokens)
    assert torch.equal(tr_a.tokens, tr_b.tokens)
    tokens, labels = next(iter(dms[0].train_dataloader()))
    assert tokens.shape == (4, 8)
    assert labels.dtype == torch.float32
