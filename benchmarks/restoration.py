"""Restoration benchmark: PSNR/SSIM (RGB and Y) against NFE for IR-SDE's samplers and RDDM.

For each built-in task (denoise, derain) it trains three small models on the built-in photographs
through the normal training entry point, then restores the same held-out tiles with every sampler:

- IR-SDE, data prediction (``param=x0``, MSE): Euler-Maruyama, the analytic posterior sampler and the
  MR Sampler (ODE orders 1-3, SDE orders 1-2, data and noise form of the update);
- IR-SDE, noise prediction with the paper's maximum-likelihood loss (``param=eps``, ``loss=irsde_ml``):
  the same samplers, the MR Sampler converting the network's noise to data;
- RDDM (residual + noise heads): the deterministic sampler (DDIM on the residual path).

The headline is the smallest NFE at which an MR Sampler configuration is within 0.1 dB (RGB PSNR) of
100-step Euler-Maruyama on the same model. The table replaces the generated section of
``docs/restoration.md``::

    python benchmarks/restoration.py            # ~15 min on 2 idle CPU cores
    python benchmarks/restoration.py --quick    # smoke run, prints only
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import replace_block

from condiff.core.config_path import core_config_dir
from condiff.core.sampling import ModelDenoiser, sample
from condiff.core.training.run import train
from condiff.restoration.metrics import restoration_metrics

DOC = Path(__file__).resolve().parents[1] / "docs" / "restoration.md"
BEGIN, END = "<!-- benchmark:restoration:begin -->", "<!-- benchmark:restoration:end -->"
NFES = (5, 10, 20, 50, 100)


@dataclass(frozen=True)
class Model:
    """One trained model: its label, experiment and the overrides that differ from the experiment."""

    label: str
    experiment: str
    overrides: tuple[str, ...]


def models(task: str, width: int) -> list[Model]:
    unet = (f"task.network.base_channels={width}", "task.network.channel_mults=[1,2]")
    two = (f"task.network.backbone.base_channels={width}", "task.network.backbone.channel_mults=[1,2]")
    return [
        Model("IR-SDE x0", f"restoration/irsde_{task}", ("param=x0", "loss=mse", *unet)),
        Model("IR-SDE eps (ML loss)", f"restoration/irsde_{task}", unet),
        Model("RDDM res+eps", f"restoration/rddm_{task}", two),
    ]


def samplers(label: str, nfes: tuple[int, ...]) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, method, options) rows for one model."""
    if label.startswith("RDDM"):
        return [(f"RDDM deterministic ({n})", "ddim", {"steps": n, "schedule": "uniform"}) for n in nfes]
    rows: list[tuple[str, str, dict[str, Any]]] = []
    rows += [(f"Euler-Maruyama ({n})", "euler-maruyama", {"steps": n, "schedule": "uniform"}) for n in nfes]
    rows += [(f"posterior ({n})", "posterior", {"steps": n, "schedule": "uniform"}) for n in nfes]
    for solver, orders in (("ode", (1, 2, 3)), ("sde", (1, 2))):
        for param in ("data", "noise"):
            for order in orders:
                for n in nfes:
                    if n > 20:
                        continue
                    opts = {"steps": n, "schedule": "logsnr", "order": order, "solver": solver, "param": param}
                    rows.append((f"MRS-{solver}-{param}-{order} ({n})", "mrs", opts))
    return rows


def train_model(model: Model, out: Path, steps: int, crop: int, val_items: int, seed: int) -> dict[str, Any]:
    overrides = [
        f"experiment={model.experiment}", f"paths.output_dir={out}", f"seed={seed}", "logger=none",
        "export=false", "trainer.enable_progress_bar=false", f"task.datamodule.crop={crop}",
        "task.datamodule.batch_size=8", f"+task.datamodule.train_length={steps * 8}",
        f"+task.datamodule.val_items={val_items}", f"module.num_val_samples={val_items}", "module.lr=1e-3",
        "module.warmup_steps=50", "module.ema_decay=0.995", "trainer.check_val_every_n_epoch=1000",
        f"trainer.max_steps={steps}", *model.overrides,
    ]  # fmt: skip
    with initialize_config_dir(config_dir=str(core_config_dir()), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    result = train(cfg)
    result["cfg"] = cfg
    return result


def evaluate(result: dict[str, Any], method: str, opts: dict[str, Any], batch: dict[str, Any]) -> dict[str, float]:
    module = result["module"]
    den = ModelDenoiser(
        module.ema_network.eval(), module.process, module.parameterization, y=batch["y"], cond=batch["cond"]
    )
    start = time.perf_counter()
    with torch.no_grad():
        res = sample(
            den,
            module.process,
            y=batch["y"],
            shape=batch["shape"],
            method=method,
            generator=torch.Generator().manual_seed(0),
            **opts,
        )
    elapsed = time.perf_counter() - start
    m = restoration_metrics((res.x.clamp(-1, 1) + 1) / 2, (batch["reference"] + 1) / 2)
    return {**m, "nfe": float(res.nfe), "ms_per_image": 1e3 * elapsed / batch["shape"][0]}


def fmt_row(name: str, m: dict[str, float]) -> str:
    return (
        f"| {name} | {int(m['nfe'])} | {m['psnr_rgb']:.2f} | {m['psnr_y']:.2f} | {m['ssim_rgb']:.4f} | "
        f"{m['ssim_y']:.4f} | {m['ms_per_image']:.1f} |"
    )


HEADER = ["| sampler | NFE | PSNR RGB | PSNR Y | SSIM RGB | SSIM Y | ms / image |", "|---|---|---|---|---|---|---|"]


def headline(rows: list[tuple[str, dict[str, float]]]) -> str:
    """Smallest NFE at which some MR Sampler row is within 0.1 dB of 100-step Euler-Maruyama."""
    em = [m for name, m in rows if name.startswith("Euler-Maruyama") and int(m["nfe"]) == max(NFES)]
    if not em:
        return "Euler-Maruyama at 100 steps not run."
    ref = em[0]["psnr_rgb"]
    mrs = [(int(m["nfe"]), name, m["psnr_rgb"]) for name, m in rows if name.startswith("MRS")]
    ok = sorted(row for row in mrs if row[2] >= ref - 0.1)
    if not ok:
        _, name, value = max(mrs, key=lambda row: row[2])
        return f"no MR Sampler row reaches EM-100 ({ref:.2f} dB) - 0.1 dB; best {name} {value:.2f} dB."
    nfe, name, value = ok[0]
    return (
        f"**{name}: {value:.2f} dB at {nfe} NFE vs Euler-Maruyama 100 steps {ref:.2f} dB "
        f"({100 / nfe:.0f}x fewer NFE).**"
    )


def run_task(task: str, args: argparse.Namespace, log: Callable[[str], None]) -> list[str]:
    nfes = (5, 10, 100) if args.quick else NFES
    lines = [f"### {task}", ""]
    for model in models(task, args.width):
        t0 = time.perf_counter()
        work = args.work_dir / task / "".join(c if c.isalnum() else "_" for c in model.label)
        shutil.rmtree(work, ignore_errors=True)  # train afresh: the run would otherwise resume a checkpoint there
        result = train_model(model, work, args.steps, args.crop, args.val_items, args.seed)
        log(f"{task} / {model.label}: trained {args.steps} steps in {time.perf_counter() - t0:.0f} s")
        batch = next(instantiate(result["cfg"].task.datamodule).sampling_batches(args.val_items, args.val_items))
        base = restoration_metrics((batch["y"] + 1) / 2, (batch["reference"] + 1) / 2)
        rows: list[tuple[str, dict[str, float]]] = []
        for name, method, opts in samplers(model.label, nfes):
            if args.quick and name.startswith("MRS") and not ("-2 " in name or "ode-data-3" in name):
                continue
            rows.append((name, evaluate(result, method, opts, batch)))
            log(f"  {name}: {rows[-1][1]['psnr_rgb']:.2f} dB")
        lines += [
            f"**{model.label}** ({args.steps} training steps). Degraded input: PSNR {base['psnr_rgb']:.2f} / "
            f"{base['psnr_y']:.2f} dB (RGB / Y), SSIM {base['ssim_rgb']:.4f} / {base['ssim_y']:.4f}.",
            "",
        ]
        lines += [*HEADER, *(fmt_row(n, m) for n, m in rows), ""]
        if not model.label.startswith("RDDM"):
            lines += [f"Headline: {headline(rows)}", ""]
    return lines


def write_section(text: str, doc: Path = DOC) -> None:
    """Replace the generated block of ``doc`` (between the markers) with ``text``."""
    replace_block(doc, BEGIN, END, text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 60 steps, few samplers, no doc update")
    parser.add_argument("--tasks", default="denoise,derain")
    parser.add_argument("--steps", type=int, default=None, help="training steps per model (default 800, quick 60)")
    parser.add_argument("--width", type=int, default=16, help="UNet base channels (paper: 64)")
    parser.add_argument("--crop", type=int, default=32)
    parser.add_argument("--val-items", type=int, default=32, help="held-out tiles restored per sampler")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work-dir", type=Path, default=Path.home() / ".cache/condiff/benchmarks/restoration")
    parser.add_argument("--no-doc", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    args.steps = args.steps or (60 if args.quick else 800)
    if args.quick:
        args.val_items = min(args.val_items, 8)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    cmd = " ".join(["python benchmarks/restoration.py", *(argv if argv is not None else sys.argv[1:])])
    lines = [
        "## Benchmark: PSNR/SSIM against NFE",
        "",
        f"Generated by `{cmd}` (torch {torch.__version__}, {platform.machine()}, {args.threads} threads): "
        f"UNet width {args.width}, {args.crop}x{args.crop} crops, batch 8, {args.steps} steps per model, "
        f"{args.val_items} held-out tiles (`chelsea`, `flower`), one seed. Wall time per image is for a batch of "
        f"{args.val_items} on the CPU. MRS rows: `MRS-<ode|sde>-<data|noise>-<order>`, logSNR grid.",
        "",
    ]
    for task in args.tasks.split(","):
        lines += run_task(task.strip(), args, log)
        if not (args.quick or args.no_doc):  # keep each finished task even if a later one is interrupted
            write_section("\n".join(lines))
    lines += [f"Total runtime: {(time.perf_counter() - start) / 60:.1f} min.", ""]
    text = "\n".join(lines)
    print(text)
    if not (args.quick or args.no_doc):
        write_section(text)
        log(f"wrote {DOC}")


if __name__ == "__main__":
    main()
