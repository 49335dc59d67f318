"""Medical benchmark: PSNR/SSIM against NFE, condiff's fast solvers vs MONAI's own schedulers on one network, and
accelerated MRI by a conditional model vs an unconditional prior with RED-Diff, DPS and data consistency.

1. Solvers: MRI denoising (Rician sigma 0.08, MNI152 slices) trained with DDPM's discrete schedule
   (``sde=vp_discrete``, 1000 linear betas 1e-4..0.02, data prediction; noise prediction gave 7.4 dB against
   20.2 dB for the noisy input after 400 steps) so that MONAI's ``DDPMScheduler`` and
   ``DDIMScheduler`` (same betas) sample the *same* network as the core's DDIM, DPM-Solver++ and UniPC.
2. k-space at 4x and 8x (fastMRI equispaced masks drawn by MONAI): zero-filling; the conditional model
   (``medical/mri_kspace_<a>x``); one unconditional prior (``medical/mri_prior``) with data consistency,
   RED-Diff and DPS over the masked-Fourier operator, on the same held-out slices and masks.

The tables replace the generated section of ``docs/medical.md``::

    python benchmarks/medical.py            # ~25 min on 2 idle CPU cores
    python benchmarks/medical.py --quick    # smoke run, prints only
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import replace_block

from condiff.core.config_path import core_config_dir
from condiff.core.sampling import ModelDenoiser, sample
from condiff.core.training.run import train
from condiff.medical.inverse import kspace_operator, reconstruct
from condiff.medical.metrics import reconstruction_metrics

DOC = Path(__file__).resolve().parents[1] / "docs" / "medical.md"
BEGIN, END = "<!-- benchmark:medical:begin -->", "<!-- benchmark:medical:end -->"
HEADER = ["| method | NFE | PSNR | SSIM | NMSE | ms / image |", "|---|---|---|---|---|---|"]


def train_model(experiment: str, out: Path, args: argparse.Namespace, *overrides: str) -> dict[str, Any]:
    """Train ``experiment`` afresh (a run folder would otherwise resume a checkpoint) at the benchmark's size."""
    shutil.rmtree(out, ignore_errors=True)
    opts = [
        f"experiment={experiment}", f"paths.output_dir={out}", f"seed={args.seed}", "logger=none", "export=false",
        "trainer.enable_progress_bar=false", f"task.datamodule.size={args.size}", "task.datamodule.batch_size=8",
        f"+task.datamodule.train_length={args.steps * 8}", f"+task.datamodule.val_items={args.val_items}",
        f"module.num_val_samples={args.val_items}", "module.lr=2e-3", "module.warmup_steps=50",
        "module.ema_decay=0.995", "trainer.check_val_every_n_epoch=100000", f"trainer.max_steps={args.steps}",
        f"task.network.channels=[{args.width},{2 * args.width}]", *overrides,
    ]  # fmt: skip
    with initialize_config_dir(config_dir=str(core_config_dir()), version_base="1.3"):
        cfg = compose("train", overrides=opts)
    result = train(cfg)
    result["cfg"] = cfg
    return result


def held_out(result: dict[str, Any], n: int) -> tuple[Any, dict[str, Any]]:
    dm = instantiate(result["cfg"].task.datamodule)
    return dm, next(dm.sampling_batches(n, n))


def unit(x: Tensor) -> Tensor:
    return (x.float().clamp(-1, 1) + 1) / 2


@torch.no_grad()
def monai_sample(
    network: nn.Module, scheduler: str, steps: int, cond: Tensor, seed: int, prediction: str = "sample"
) -> Tensor:
    """Sample with MONAI's ``DDPMScheduler`` / ``DDIMScheduler`` (eta 0) on the network trained with the core's
    ``DiscreteVPProcess``: MONAI's timestep ``k`` is the process time ``(k + 1) / 1000``; ``prediction`` is
    MONAI's name of what the network predicts (``sample`` = condiff's ``x0``, ``epsilon`` = ``eps``)."""
    from monai.networks.schedulers import DDIMScheduler, DDPMScheduler

    cls = DDIMScheduler if scheduler == "ddim" else DDPMScheduler
    sched = cls(num_train_timesteps=1000, schedule="linear_beta", clip_sample=False, prediction_type=prediction)
    sched.set_timesteps(steps)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(cond.shape, generator=g)
    for k in sched.timesteps:
        t = torch.full((x.shape[0],), (int(k) + 1) / 1000.0)
        out = network(x, t, cond_image=cond)
        x, _ = sched.step(out, int(k), x, generator=g) if scheduler == "ddpm" else sched.step(out, int(k), x)
    return x


def timed(n: int, fn: Callable[..., Any], *args: Any, grad: bool = False, **kwargs: Any) -> tuple[Tensor, float]:
    """``fn(*args, **kwargs)`` (a tensor or :class:`Samples`) and its wall time in ms per image of ``n``; gradients
    only with ``grad`` (RED-Diff and DPS differentiate)."""
    start = time.perf_counter()
    with torch.set_grad_enabled(grad):
        out = fn(*args, **kwargs)
    return getattr(out, "x", out).detach(), 1e3 * (time.perf_counter() - start) / n


def row(name: str, nfe: int, pred: Tensor, ref: Tensor, ms: float) -> str:
    m = reconstruction_metrics(pred, ref)
    return f"| {name} | {nfe} | {m['psnr']:.2f} | {m['ssim']:.4f} | {m['nmse']:.4f} | {ms:.1f} |"


def solver_table(args: argparse.Namespace, log: Callable[[str], None]) -> list[str]:
    result = train_model("medical/mri_denoise", args.work_dir / "denoise_vp", args, "sde=vp_discrete", "~sde.sigma_inf")
    log(f"denoise (vp_discrete, x0): trained {args.steps} steps")
    net, process = result["module"].ema_network.eval(), result["module"].process
    _, batch = held_out(result, args.val_items)
    ref, cond, n = unit(batch["reference"]), batch["cond"]["cond_image"], args.val_items
    lines = [
        "### Solvers on one network: condiff vs MONAI schedulers",
        "",
        f"MRI denoising, Rician sigma 0.08, {n} held-out {args.size}x{args.size} MNI152 slices; one network "
        f"trained {args.steps} steps on DDPM's discrete schedule (data prediction: MONAI's `sample`).",
        "",
        *HEADER,
        row("noisy input", 0, unit(cond), ref, 0.0),
    ]
    den = ModelDenoiser(net, process, "x0", cond={"cond_image": cond})
    core: list[tuple[str, str, dict[str, Any]]] = [
        ("condiff DDIM", "ddim", {"schedule": "uniform"}),
        ("condiff DPM-Solver++(2M)", "dpm-solver++", {}),
        ("condiff UniPC (bh2)", "unipc", {}),
    ]
    for nfe in args.nfes:
        for name, method, opts in core:
            x, ms = timed(n, sample, den, process, shape=tuple(cond.shape), steps=nfe, method=method,
                          generator=torch.Generator().manual_seed(0), **opts)  # fmt: skip
            lines.append(row(name, nfe, unit(x), ref, ms))
        x, ms = timed(n, monai_sample, net, "ddim", nfe, cond, 0)
        lines.append(row("MONAI DDIMScheduler", nfe, unit(x), ref, ms))
        log(f"  NFE {nfe}: {lines[-1]}")
    for steps in args.ddpm_steps:
        x, ms = timed(n, monai_sample, net, "ddpm", steps, cond, 0)
        lines.append(row("MONAI DDPMScheduler", steps, unit(x), ref, ms))
        log(f"  DDPM {steps}: {lines[-1]}")
    return [*lines, ""]


def kspace_table(args: argparse.Namespace, prior: dict[str, Any], log: Callable[[str], None]) -> list[str]:
    lines = ["### Accelerated MRI: conditional model vs unconditional prior", ""]
    pm = prior["module"]
    for acc in args.accelerations:
        cond_run = train_model(f"medical/mri_kspace_{acc}x", args.work_dir / f"kspace{acc}", args)
        log(f"kspace {acc}x: trained {args.steps} steps")
        module = cond_run["module"]
        dm, batch = held_out(cond_run, args.val_items)
        ref, n = unit(batch["reference"]), args.val_items
        val = dm.val_set
        pairs = [val.degradation.measure(val.slices.images[i], val.generator(i)) for i in range(n)]
        kspace = torch.stack([k for k, _ in pairs])
        op = kspace_operator(torch.stack([m for _, m in pairs])[:, None, None, :])
        lines += [f"**{acc}x** (equispaced, {n} held-out slices; models trained {args.steps} steps)", "", *HEADER,
                  row("zero-filled", 0, unit(batch["y"]), ref, 0.0)]  # fmt: skip
        den = ModelDenoiser(module.ema_network.eval(), module.process, module.parameterization, y=batch["y"],
                            cond=batch["cond"])  # fmt: skip
        for nfe in args.kspace_nfes:
            x, ms = timed(n, sample, den, module.process, y=batch["y"], shape=batch["shape"], steps=nfe, method="ddim",
                          generator=torch.Generator().manual_seed(0))  # fmt: skip
            lines.append(row("conditional (IR-SDE, DDIM)", nfe, unit(x), ref, ms))
            for name, method, opts in (("prior + data consistency", "dc", {}),
                                       ("prior + RED-Diff", "red-diff", {"sigma": 0.1}),
                                       ("prior + DPS", "dps", {"sigma": 0.05})):  # fmt: skip
                u, ms = timed(n, reconstruct, pm.ema_network, pm.process, pm.parameterization, op, kspace,
                              tuple(ref.shape), method=method, steps=nfe, grad=True,
                              generator=torch.Generator().manual_seed(0), **opts)  # fmt: skip
                lines.append(row(name, nfe, u.clamp(0, 1), ref, ms))
            log(f"  {acc}x NFE {nfe} done")
        lines.append("")
    return lines


def write_section(text: str, doc: Path = DOC) -> None:
    """Replace the generated block of ``doc`` (between the markers) with ``text``."""
    replace_block(doc, BEGIN, END, text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 30 steps, few NFEs, no doc update")
    parser.add_argument("--steps", type=int, default=None, help="training steps per model (default 1500, quick 30)")
    parser.add_argument("--width", type=int, default=16, help="channels of the first UNet level")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--val-items", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work-dir", type=Path, default=Path.home() / ".cache/condiff/benchmarks/medical")
    parser.add_argument("--no-doc", action="store_true", help="print the tables only")
    args = parser.parse_args(argv)
    args.steps = args.steps or (30 if args.quick else 1500)
    args.nfes = (5,) if args.quick else (5, 10, 20, 50)
    args.ddpm_steps = (10,) if args.quick else (50, 1000)
    args.kspace_nfes = (5,) if args.quick else (10, 20, 50)
    args.accelerations = (4,) if args.quick else (4, 8)
    if args.quick:
        args.val_items = min(args.val_items, 4)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    cmd = " ".join(["python benchmarks/medical.py", *(argv if argv is not None else sys.argv[1:])])
    lines = [
        "## Benchmark",
        "",
        f"Generated by `{cmd}` (torch {torch.__version__}, {platform.machine()}, {args.threads} threads): "
        f"MONAI DiffusionModelUNet channels [{args.width}, {2 * args.width}], batch 8, one seed. Times are per "
        f"image for a batch of {args.val_items} on the CPU.",
        "",
    ]
    lines += solver_table(args, log)
    prior = train_model("medical/mri_prior", args.work_dir / "prior", args)
    log(f"prior: trained {args.steps} steps")
    lines += kspace_table(args, prior, log)
    lines += [f"Total runtime: {(time.perf_counter() - start) / 60:.1f} min.", ""]
    text = "\n".join(lines)
    print(text)
    if not (args.quick or args.no_doc):
        write_section(text)
        log(f"wrote {DOC}")


if __name__ == "__main__":
    main()
