"""DRAKES benchmark on the built-in DNA task: reward against naturalness for the pretrained model, CFG,
classifier (value) guidance, SMC, TDS, best-of-N and DRAKES, all on the same pretrained denoiser.

The task (``condiff.molecules.drakes.dna``): JASPAR motifs planted in Markov DNA; the fine-tuning / guidance
oracle is a CNN regressor fit on noisy labels, the evaluation oracle is the true motif scan. Columns: median
and mean true activity, active-motif accuracy (fraction of sequences with a hit of an active-set motif, the
stand-in for the paper's accessibility accuracy), 3-mer correlation and motif-hit-rate correlation with
held-out data, ELBO under the pretrained model (naturalness; the data's own value is given), denoiser calls
per sequence (value and guidance calls included) and wall time per sequence. The table replaces the generated block of
``docs/molecules.md``::

    python benchmarks/drakes.py            # ~15 min on 2 CPU cores
    python benchmarks/drakes.py --quick    # smoke run, prints only
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import replace_block

from condiff.core.discrete import (
    LogLinearSchedule,
    MaskedDiffusion,
    cfg_logits_fn,
    classifier_guided_logits_fn,
    discrete_smc,
    sample,
)
from condiff.core.discrete.module import MaskedDiffusionModule
from condiff.molecules.drakes import DrakesModule, IterationDataset
from condiff.molecules.drakes.dna.synthetic import RegulatoryDNA
from condiff.molecules.drakes.metrics import (
    kmer_correlation,
    log_likelihood,
    motif_count_correlation,
)
from condiff.molecules.drakes.networks import CNNRegressor, DilatedCNNDenoiser
from condiff.molecules.drakes.oracle import RegressorModule
from condiff.molecules.drakes.value import denoised_value

DOC = Path(__file__).resolve().parents[1] / "docs" / "molecules.md"
START, END = "<!-- drakes-benchmark:start -->", "<!-- drakes-benchmark:end -->"
TRAINER = {"logger": False, "enable_checkpointing": False, "enable_progress_bar": False,
           "enable_model_summary": False, "accelerator": "cpu"}  # fmt: skip


class CallCounter:
    """Counts the sequences the wrapped denoisers are evaluated on (one counter for every network of a method)."""

    def __init__(self) -> None:
        self.rows = 0

    def wrap(self, fn: Callable[[Tensor, Tensor], Tensor]) -> Callable[[Tensor, Tensor], Tensor]:
        def counted(z: Tensor, t: Tensor) -> Tensor:
            self.rows += z.shape[0]
            return fn(z, t)

        return counted


class RewardKLRecorder(L.Callback):
    """Records DRAKES' logged KL and evaluation-oracle reward after every optimizer step."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, float, float]] = []

    def on_train_batch_end(self, trainer: L.Trainer, module: L.LightningModule, *args: Any) -> None:
        m = trainer.callback_metrics
        self.rows.append((trainer.global_step, float(m["train/kl"]), float(m["train/eval_reward"])))


def build(cfg: dict[str, Any]) -> dict[str, Any]:
    gen = RegulatoryDNA.default()
    length = cfg["length"]
    train, labels, activity = gen.labelled(cfg["train"], length, seed=0, label_noise=1.0)
    test, _, _ = gen.labelled(cfg["test"], length, seed=1, label_noise=1.0)
    torch.manual_seed(0)
    diffusion = MaskedDiffusion(4, LogLinearSchedule())
    t0 = time.perf_counter()
    net = DilatedCNNDenoiser(4, channels=cfg["channels"], kernel=5, dilations=(1, 2, 4, 8), repeats=cfg["repeats"],
                             num_classes=2)  # fmt: skip
    module = MaskedDiffusionModule(net, diffusion, lr=2e-3, ema_decay=0.99, label_dropout=0.2)
    high = (labels > labels.quantile(0.8)).long()  # CFG's class: the top 20 % by (noisy) label
    loader = DataLoader(TensorDataset(train, high), batch_size=64, shuffle=True)
    L.Trainer(max_steps=cfg["pretrain_steps"], **TRAINER).fit(module, loader)
    regressor = CNNRegressor(4, channels=32)
    L.Trainer(max_steps=cfg["regressor_steps"], **TRAINER).fit(
        RegressorModule(regressor, lr=2e-3), DataLoader(TensorDataset(train, labels), batch_size=64, shuffle=True)
    )
    pretrain_s = time.perf_counter() - t0
    denoiser = module.ema_network.eval()
    regressor = regressor.eval().requires_grad_(False)
    return {"gen": gen, "diffusion": diffusion, "denoiser": denoiser, "regressor": regressor, "test": test,
            "pretrain_s": pretrain_s, "data_activity": float(activity.median())}  # fmt: skip


def methods(task: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Callable[[int, torch.Generator], Tensor]]:
    d, net, reg = task["diffusion"], task["denoiser"], task["regressor"]
    length, steps = cfg["length"], cfg["steps"]
    counter = CallCounter()
    task["counter"] = counter
    uncond = counter.wrap(lambda z, t: net(z, t))

    def plain(n: int, g: torch.Generator) -> Tensor:
        return sample(d, uncond, (n, length), steps=steps, generator=g).tokens

    def cfg_sampler(n: int, g: torch.Generator) -> Tensor:
        cond = counter.wrap(lambda z, t: net(z, t, label=torch.ones(z.shape[0], dtype=torch.long)))
        fn = cfg_logits_fn(d, cond, uncond, cfg["cfg_scale"])
        return sample(d, fn, (n, length), steps=steps, generator=g, cache=False).tokens

    value = denoised_value(d, uncond, reg, alpha=cfg["alpha"])

    def guided(n: int, g: torch.Generator) -> Tensor:
        fn = classifier_guided_logits_fn(d, uncond, value, cfg["guidance_scale"])
        return sample(d, fn, (n, length), steps=steps, generator=g, cache=False).tokens

    def smc(n: int, g: torch.Generator) -> Tensor:
        return discrete_smc(d, uncond, value, (n, length), particles=cfg["particles"], steps=steps, generator=g).tokens

    def tds(n: int, g: torch.Generator) -> Tensor:
        return discrete_smc(d, uncond, value, (n, length), particles=cfg["particles"] // 2, steps=steps,
                            proposal="guided", generator=g).tokens  # fmt: skip

    def best_of_n(n: int, g: torch.Generator) -> Tensor:
        k = cfg["best_of"]
        many = sample(d, uncond, (n * k, length), steps=steps, generator=g).tokens.view(n, k, length)
        with torch.no_grad():
            return many[torch.arange(n), reg(many.view(-1, length)).view(n, k).argmax(1)]

    drakes = DrakesModule(net, d, reg, length=length, batch_size=32, steps=cfg["ft_sampling_steps"],
                          alpha=cfg["drakes_alpha"], temperature=0.3, truncate=10, lr=1e-3, use_checkpoint=False,
                          evaluation_oracle=task["gen"].oracle())  # fmt: skip
    t0 = time.perf_counter()
    recorder = RewardKLRecorder()
    L.Trainer(max_steps=cfg["ft_steps"], callbacks=[recorder], **TRAINER).fit(
        drakes, DataLoader(IterationDataset(cfg["ft_steps"]), batch_size=None)
    )
    task["finetune_s"] = time.perf_counter() - t0
    task["trajectory"] = recorder.rows
    ft_net = drakes.finetuned.eval()

    def finetuned(n: int, g: torch.Generator) -> Tensor:
        return sample(d, counter.wrap(ft_net), (n, length), steps=steps, generator=g).tokens

    return {
        "pretrained": plain,
        f"CFG (w = {cfg['cfg_scale']}, top-20 % class)": cfg_sampler,
        f"value guidance (Taylor, gamma = {cfg['guidance_scale']})": guided,
        f"SMC (K = {cfg['particles']})": smc,
        f"TDS (K = {cfg['particles'] // 2})": tds,
        f"best-of-{cfg['best_of']} (regressor)": best_of_n,
        f"DRAKES (alpha = {cfg['drakes_alpha']}, {cfg['ft_steps']} steps)": finetuned,
    }


def evaluate(task: dict[str, Any], fns: dict[str, Callable[[int, torch.Generator], Tensor]], n: int) -> list[dict]:
    gen, d, pre, test = task["gen"], task["diffusion"], task["denoiser"], task["test"]
    oracle = gen.oracle()
    rows = []
    for name, fn in fns.items():
        task["counter"].rows = 0
        t0 = time.perf_counter()
        with torch.no_grad() if "guidance" not in name and "TDS" not in name else torch.enable_grad():
            tokens = fn(n, torch.Generator().manual_seed(5))
        wall = (time.perf_counter() - t0) / n
        with torch.no_grad():
            activity = oracle(tokens)
        rows.append({
            "method": name, "median": float(activity.median()), "mean": float(activity.mean()),
            "kmer": kmer_correlation(tokens, test, 4),
            "motif": motif_count_correlation(oracle.hits(tokens), oracle.hits(test)),
            "active": float(oracle.hits(tokens)[:, : len(gen.active)].amax(1).mean()),
            "ll": float(log_likelihood(d, lambda z, t: pre(z, t), tokens).mean()),
            "nfe": task["counter"].rows / n, "ms": 1e3 * wall,
        })  # fmt: skip
        print(rows[-1], flush=True)
    return rows


def markdown(rows: list[dict], task: dict[str, Any], cfg: dict[str, Any]) -> str:
    data_ll = float(log_likelihood(task["diffusion"], lambda z, t: task["denoiser"](z, t), task["test"]).mean())
    lines = [
        f"Measured by `python benchmarks/drakes.py` ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{torch.get_num_threads()} torch thread(s)): built-in DNA of length {cfg['length']}, {cfg['train']} training "
        f"sequences; dilated-CNN denoiser ({cfg['channels']} channels) pretrained {cfg['pretrain_steps']} steps and "
        f"CNN regressor {cfg['regressor_steps']} steps in {task['pretrain_s']:.0f} s; DRAKES fine-tuned in "
        f"{task['finetune_s']:.0f} s; {cfg['n']} sequences per method, {cfg['steps']} sampling steps. Held-out "
        f"data: median activity {task['data_activity']:.3f}, ELBO {data_ll:.1f} nats.",
        "",
        "| method | median activity | mean activity | active-motif acc. | 3-mer corr | motif-hit corr | ELBO (nats) "
        "| denoiser calls / seq | ms / seq |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['method']} | {r['median']:.3f} | {r['mean']:.3f} | {r['active']:.2f} | {r['kmer']:.3f} | "
            f"{r['motif']:.3f} | {r['ll']:.1f} | {r['nfe']:.0f} | {r['ms']:.1f} |"
        )
    traj = task.get("trajectory", [])
    if traj:
        every = max(1, len(traj) // 5)
        picked = [*traj[every - 1 :: every]]
        lines += [
            "",
            "Reward against KL along DRAKES fine-tuning (batch of 32 trajectories per step; KL to the pretrained "
            "model summed over the trajectory, nats; reward = true activity of the batch's sequences):",
            "",
            "| step | KL | mean activity |",
            "|---|---|---|",
            *[f"| {s} | {kl:.2f} | {r:.3f} |" for s, kl, r in picked],
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny smoke run, printed only")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    cfg = {"length": 40, "train": 4000, "test": 500, "channels": 48, "repeats": 1, "pretrain_steps": 1200,
           "regressor_steps": 500, "steps": 40, "n": 256, "cfg_scale": 2.0, "alpha": 0.2, "guidance_scale": 1.0,
           "particles": 8, "best_of": 8, "ft_sampling_steps": 20, "ft_steps": 100, "drakes_alpha": 0.2}  # fmt: skip
    if args.quick:
        cfg.update(train=300, test=64, channels=16, repeats=1, pretrain_steps=20, regressor_steps=20, steps=8, n=16,
                   particles=4, best_of=2, ft_sampling_steps=4, ft_steps=2)  # fmt: skip
    task = build(cfg)
    rows = evaluate(task, methods(task, cfg), cfg["n"])
    table = markdown(rows, task, cfg)
    print(table)
    if not args.quick:
        replace_block(DOC, START, END, table)


if __name__ == "__main__":
    main()
