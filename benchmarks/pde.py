"""WDNO benchmark on forced Burgers: simulation error against NFE, wavelet vs pixel domain, resolution, control.

Trains small models through the normal entry point (``experiment=pde/wdno_burgers_sim`` / ``_control``) on
trajectories solved on a 64-point grid and subsampled, then on the same held-out trajectories reports:

1. relative L2 (pooled over the set, frames 1..T-1) of the simulated ``u`` against NFE for DDPM ancestral
   sampling (``posterior``), DDIM, DPM-Solver++ (2M) and UniPC, WDNO (wavelet) and the same UNet in pixel space;
2. the error at the training grid (N = 32) and at a finer grid (N = 64, never trained on), for single-resolution
   training (N = 32, also WDNO at twice the width: about the pixel UNet's FLOPs) and one base model trained on
   N = 32 and 16;
3. the super-resolution stage (``experiment=pde/wdno_burgers_super``, trained on the grid pairs 64 <- 32 and
   32 <- 16) refining the base model's N = 32 trajectories to N = 64 and, zero-shot, 128;
4. the control objective ``J`` (real solver run with the generated forcing) against zero forcing, for guided
   sampling of the simulation model ``p(u, f | u0)`` and of the control model ``p(u, f | u0, u_T)``.

A second section does the same for forced linear advection (``experiment=pde/wdno_advection_sim`` / ``_control``,
the exact solver judging the controls): simulation error against the persistence and unforced-advection
baselines, and control. A third trains ``experiment=pde/wdno_smoke_sim`` (wavelet and pixel) on a small 2-D smoke
box and reports the simulation error and, by the real solver, the target-exit fraction and leakage of guided
controls against zero force and the data's random forces.

Each section replaces its generated block of ``docs/pde.md``::

    python benchmarks/pde.py                          # both sections, ~30 min on 2 contended CPU cores
    python benchmarks/pde.py --sections advection     # only the advection section, ~6 min
    python benchmarks/pde.py --sections smoke         # only the 2-D smoke section, ~15 min
    python benchmarks/pde.py --quick                  # smoke run, prints only
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
from omegaconf import DictConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import replace_block

from condiff.core.config_path import core_config_dir
from condiff.core.guidance import schedules
from condiff.core.training.run import train
from condiff.pde.control import ControlObjective, control, evaluate_forcing
from condiff.pde.data import Trajectories
from condiff.pde.datamodule import BurgersDataModule
from condiff.pde.fields import fourier_upsample
from condiff.pde.metrics import pooled_relative_l2, relative_l2
from condiff.pde.physics import advection_forced, heat_forced
from condiff.pde.simulate import simulate
from condiff.pde.smoke_control import control_smoke, evaluate_control, simulate_smoke_wdno

DOC = Path(__file__).resolve().parents[1] / "docs" / "pde.md"
BEGIN, END = "<!-- benchmark:pde:begin -->", "<!-- benchmark:pde:end -->"
ADVECTION_BEGIN, ADVECTION_END = "<!-- benchmark:pde-advection:begin -->", "<!-- benchmark:pde-advection:end -->"
SMOKE_BEGIN, SMOKE_END = "<!-- benchmark:pde-smoke:begin -->", "<!-- benchmark:pde-smoke:end -->"
SECTIONS = ("burgers", "advection", "smoke")
SMOKE_N, SMOKE_NT = 32, 7
FINE, NT = 64, 15
SOLVERS: list[tuple[str, str, dict[str, Any], tuple[int, ...]]] = [
    ("DDPM ancestral", "posterior", {"schedule": "uniform"}, (10, 20, 50, 100)),
    ("DDIM", "ddim", {"schedule": "uniform"}, (10, 20, 50)),
    ("DPM-Solver++ (2M)", "dpm-solver++", {"order": 2}, (10, 20)),
    ("UniPC (bh2)", "unipc", {}, (10, 20)),
]


def models(width: int) -> dict[str, tuple[str, ...]]:
    """Label -> overrides of the experiment (all on the 64-point data, trained at the subsampled grids)."""
    pixel = ("task.datamodule.domain=pixel", "task.network.in_channels=2", "task.network.cond_channels=1")
    net = (f"task.network.base_channels={width}", "task.network.channel_mults=[1,2]", "task.network.num_res_blocks=1")
    # The wavelet UNet works on a grid 4x smaller than the pixel one; twice the width gives it about the
    # pixel model's convolution FLOPs.
    wide = (f"task.network.base_channels={2 * width}", *net[1:])
    return {
        "WDNO": ("experiment=pde/wdno_burgers_sim", "task.datamodule.train_subsample=[2]", *net),
        "pixel": ("experiment=pde/wdno_burgers_sim", "task.datamodule.train_subsample=[2]", *net, *pixel),
        "WDNO 2x width": ("experiment=pde/wdno_burgers_sim", "task.datamodule.train_subsample=[2]", *wide),
        "WDNO multi-res": ("experiment=pde/wdno_burgers_sim", "task.datamodule.train_subsample=[2,4]", *net),
        "WDNO control": ("experiment=pde/wdno_burgers_control", "task.datamodule.train_subsample=[2]", *net),
        "WDNO super": ("experiment=pde/wdno_burgers_super", "task.datamodule.train_subsample=[1,2]", *net),
    }


def advection_models(width: int) -> dict[str, tuple[str, ...]]:
    """Label -> overrides of the advection experiments (same sizes as the Burgers models)."""
    net = (f"task.network.base_channels={width}", "task.network.channel_mults=[1,2]", "task.network.num_res_blocks=1")
    return {
        "advection WDNO": ("experiment=pde/wdno_advection_sim", "task.datamodule.train_subsample=[2]", *net),
        "advection control": ("experiment=pde/wdno_advection_control", "task.datamodule.train_subsample=[2]", *net),
    }


def smoke_models(width: int) -> dict[str, tuple[str, ...]]:
    """Label -> overrides of the 2-D smoke experiment on a small box (``SMOKE_N`` cells, ``SMOKE_NT`` intervals)."""
    channels = 5 * (SMOKE_NT + 1) - 2
    common = (
        "experiment=pde/wdno_smoke_sim", f"task.datamodule.n={SMOKE_N}", f"task.datamodule.nt={SMOKE_NT}",
        "task.datamodule.substeps=8", "task.datamodule.block=64", f"task.network.base_channels={width}",
        "task.network.channel_mults=[1,2]", "task.network.num_res_blocks=1",
    )  # fmt: skip
    return {
        "smoke WDNO": (*common, f"task.network.in_channels={4 * channels}"),
        "smoke pixel": (
            *common, "task.datamodule.domain=pixel", f"task.network.in_channels={channels}",
            "task.network.cond_channels=1",
        ),
    }  # fmt: skip


def compose_model(overrides: tuple[str, ...], out: Path, args: argparse.Namespace) -> DictConfig:
    """The training config of one model: the experiment, the benchmark's sizes, then ``overrides``."""
    common = [
        f"paths.output_dir={out}", "logger=none", "trainer.enable_progress_bar=false", "export=false",
        f"threads={args.threads}", f"seed={args.seed}", f"task.datamodule.n={FINE}", f"task.datamodule.nt={NT}",
        f"task.datamodule.train_samples={args.train_samples}", f"task.datamodule.test_samples={args.test_samples}",
        "task.datamodule.batch_size=32", "module.lr=2e-3", "module.warmup_steps=50", "module.ema_decay=0.995",
        f"trainer.max_steps={args.steps}", "trainer.check_val_every_n_epoch=100000", "trainer.num_sanity_val_steps=0",
    ]  # fmt: skip
    with initialize_config_dir(config_dir=str(core_config_dir()), version_base="1.3"):
        return compose("train", overrides=[*common, *overrides])


def train_model(overrides: tuple[str, ...], out: Path, args: argparse.Namespace) -> dict[str, Any]:
    result = train(compose_model(overrides, out, args))
    result["module"].ema_network.eval()
    result["datamodule"] = result["trainer"].datamodule
    return result


def subsample(test: Trajectories, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    assert test.forcing is not None
    return test.u[..., ::k], test.forcing[..., ::k]


def sim_error(
    result: dict[str, Any], k: int, method: str, steps: int, opts: dict[str, Any]
) -> tuple[float, float, int]:
    """(pooled relative L2, mean per-sample relative L2, NFE) on the held-out set at grid ``FINE / k``."""
    module, dm = result["module"], result["datamodule"]
    u, f = subsample(dm.test, k)
    out = simulate(
        module.ema_network, module.process, module.parameterization, dm.codec, dm.cond_codec, u[:, 0], f,
        steps=steps, method=method, generator=torch.Generator().manual_seed(0), **opts,
    )  # fmt: skip
    pred = out.u.double()
    return pooled_relative_l2(pred, u).item(), relative_l2(pred, u).mean().item(), out.nfe


def baselines(test: Trajectories, k: int, nu: float) -> dict[str, float]:
    u, f = subsample(test, k)
    lin = heat_forced(u[:, 0], nu=nu, nt=NT, t_final=1.0, forcing=f)
    return {
        "persistence": pooled_relative_l2(u[:, :1].expand_as(u), u).item(),
        "linear (heat + forcing)": pooled_relative_l2(lin, u).item(),
    }


def solver_table(results: dict[str, dict[str, Any]], quick: bool, log: Callable[[str], None]) -> list[str]:
    lines = [
        "| solver | NFE | WDNO rel. L2 (pooled / per-sample mean) | pixel rel. L2 (pooled / mean) |",
        "|---|---:|---:|---:|",
    ]
    for name, method, opts, nfes in SOLVERS:
        for steps in nfes[:2] if quick else nfes:
            w = sim_error(results["WDNO"], 2, method, steps, opts)
            p = sim_error(results["pixel"], 2, method, steps, opts)
            lines.append(f"| {name} | {w[2]} | {w[0]:.3f} / {w[1]:.3f} | {p[0]:.3f} / {p[1]:.3f} |")
            log(f"  {name} {steps}: WDNO {w[0]:.3f}, pixel {p[0]:.3f}")
    return lines


def resolution_table(results: dict[str, dict[str, Any]], nu: float) -> list[str]:
    test = results["WDNO"]["datamodule"].test
    lines = [
        "| model (trained on) | N = 32 (trained) | N = 64 (finer, zero-shot) |",
        "|---|---:|---:|",
    ]
    for label, trained in (("WDNO", "32"), ("WDNO 2x width", "32"), ("WDNO multi-res", "32 and 16"), ("pixel", "32")):
        errs = [sim_error(results[label], k, "ddim", 20, {"schedule": "uniform"})[0] for k in (2, 1)]
        lines.append(f"| {label} ({trained}) | {errs[0]:.3f} | {errs[1]:.3f} |")
    coarse, fine = baselines(test, 2, nu), baselines(test, 1, nu)
    lines += [f"| {name} | {coarse[name]:.3f} | {fine[name]:.3f} |" for name in coarse]
    return lines


def superres_table(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> list[str]:
    """Base model at N = 32, then to N = 64 and 128: interpolation, the base model at the finer grid, the
    super-resolution stage (trained on 64 <- 32 and 32 <- 16; 128 <- 64 is zero-shot)."""
    base, sup = results["WDNO"], results["WDNO super"]
    dm = base["datamodule"]
    test64 = dm.test
    dm128 = BurgersDataModule(n=2 * FINE, nt=NT, test_samples=args.test_samples, nu=dm.nu, seed=args.seed)
    test128 = dm128.test  # the same initial states and forcings (seeded per block), solved on 128 points
    sampler: dict[str, Any] = {"steps": 20, "method": "ddim", "schedule": "uniform"}

    def run(result: dict[str, Any], test: Trajectories, k: int, coarse: torch.Tensor | None = None) -> torch.Tensor:
        module, mdm = result["module"], result["datamodule"]
        u, f = subsample(test, k)
        return simulate(
            module.ema_network, module.process, module.parameterization, mdm.codec, mdm.cond_codec, u[:, 0], f,
            coarse=coarse, generator=torch.Generator().manual_seed(0), **sampler,
        ).u.double()  # fmt: skip

    def err(pred: torch.Tensor, test: Trajectories) -> float:
        return pooled_relative_l2(pred, test.u).item()

    u32 = run(base, test64, 2)
    super64 = run(sup, test64, 1, coarse=u32.float())
    super128 = run(sup, test128, 1, coarse=super64.float())
    oracle64 = run(sup, test64, 1, coarse=test64.u[..., ::2].float())
    oracle128 = run(sup, test128, 1, coarse=test64.u.float())
    rows = [
        (
            "base at 32, Fourier-interpolated",
            err(fourier_upsample(u32), test64),
            err(fourier_upsample(u32, 4), test128),
        ),
        ("base at the finer grid (zero-shot)", err(run(base, test64, 1), test64), err(run(base, test128, 1), test128)),
        ("base at 32 + super-resolution stage", err(super64, test64), err(super128, test128)),
        ("true coarser trajectory + super-resolution (oracle)", err(oracle64, test64), err(oracle128, test128)),
        ("64-point solution interpolated (solver resolution)", float("nan"), err(fourier_upsample(test64.u), test128)),
    ]
    lines = ["| N = 32 -> finer grids | N = 64 | N = 128 |", "|---|---:|---:|"]
    lines += [f"| {name} | {a:.3f} | {b:.3f} |" if a == a else f"| {name} | | {b:.3f} |" for name, a, b in rows]
    return lines


def control_table(
    results: dict[str, dict[str, Any]],
    weights: tuple[float, ...],
    nu: float,
    labels: tuple[str, str] = ("WDNO", "WDNO control"),
) -> list[str]:
    """``J`` of guided samples of the simulation and the control model (``labels``), judged by the data's solver."""
    dm = results[labels[0]]["datamodule"]
    solver = dm.solve if dm.pde != "burgers" else None
    u, _ = subsample(dm.test, 2)
    u0, target = u[:, 0], u[:, -1]
    objective = ControlObjective(target, alpha=0.01)
    _, zero, _, _ = evaluate_forcing(u0, torch.zeros(u.shape[0], NT, u.shape[-1]), objective, nu=nu, solver=solver)
    lines = [
        f"Zero forcing: J = {zero.mean().item():.4f}. Targets: the held-out trajectories' final states (reachable).",
        "",
        "| model | guidance w (cosine schedule) | J (solver) | J / J(zero) | target error | cost |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, on_target in ((labels[0], False), (labels[1], True)):
        module, mdm = results[label]["module"], results[label]["datamodule"]
        for w in weights:
            r = control(
                module.ema_network, module.process, module.parameterization, mdm.codec, mdm.cond_codec, u0, objective,
                frames=NT + 1, weight=schedules.cosine(w), condition_on_target=on_target, nu=nu, solver=solver,
                steps=20, generator=torch.Generator().manual_seed(0),
            )  # fmt: skip
            j = r.objective.mean().item()
            model = "p(u, f \\| u0)" if not on_target else "p(u, f \\| u0, u_T)"
            lines.append(
                f"| {model} | {w:g} | {j:.4f} | {j / zero.mean().item():.2f} | {r.target_error.mean().item():.4f} |"
                f" {r.cost.mean().item():.4f} |"
            )
    return lines


def advection_sim_table(results: dict[str, dict[str, Any]]) -> list[str]:
    """Pooled / per-sample relative L2 at N = 32 of the advection model and two exact baselines."""
    dm = results["advection WDNO"]["datamodule"]
    u, f = subsample(dm.test, 2)
    unforced = advection_forced(u[:, 0], velocity=dm.velocity, nt=NT, t_final=dm.t_final, forcing=torch.zeros_like(f))
    lines = ["| model | rel. L2 pooled | per-sample mean |", "|---|---:|---:|"]
    for name, method in (("WDNO, DDIM 20", "ddim"), ("WDNO, DDPM ancestral 20", "posterior")):
        pooled, mean, _ = sim_error(results["advection WDNO"], 2, method, 20, {"schedule": "uniform"})
        lines.append(f"| {name} | {pooled:.3f} | {mean:.3f} |")
    for name, pred in (("persistence u(t) = u0", u[:, :1].expand_as(u)), ("unforced advection (exact)", unforced)):
        lines.append(
            f"| {name} | {pooled_relative_l2(pred, u).item():.3f} | {relative_l2(pred, u).mean().item():.3f} |"
        )
    return lines


def smoke_sim_table(results: dict[str, dict[str, Any]]) -> list[str]:
    """Pooled relative L2 of density and velocity over frames 1..T-1 (DDIM 20), and the persistence baseline."""
    test = results["smoke WDNO"]["datamodule"].test

    def err(pred: torch.Tensor, ref: torch.Tensor) -> float:
        return pooled_relative_l2(pred.flatten(2).double(), ref.flatten(2).double()).item()

    lines = ["| model | density rel. L2 | velocity rel. L2 |", "|---|---:|---:|"]
    for label in ("smoke WDNO", "smoke pixel"):
        module, dm = results[label]["module"], results[label]["datamodule"]
        sim = simulate_smoke_wdno(
            module.ema_network, module.process, module.parameterization, dm.codec, dm.cond_codec,
            test.density[:, 0], test.force, steps=20, generator=torch.Generator().manual_seed(0),
        )  # fmt: skip
        lines.append(f"| {label} | {err(sim.density, test.density):.3f} | {err(sim.velocity, test.velocity):.3f} |")
    still = test.density[:, :1].expand_as(test.density)
    lines.append(f"| persistence (smoke stays, fluid at rest) | {err(still, test.density):.3f} | 1.000 |")
    return lines


def smoke_control_table(results: dict[str, dict[str, Any]], weights: tuple[float, ...]) -> list[str]:
    """Target-exit fraction and leakage (real solver) of guided controls, zero force and the data's forces."""
    dm = results["smoke WDNO"]["datamodule"]
    test, box = dm.test, dm.box
    rho0 = test.density[:, 0]

    def row(name: str, outcome: Any) -> str:
        f, leak, cost = (
            outcome.target_fraction.mean().item(),
            outcome.leakage.mean().item(),
            outcome.cost.mean().item(),
        )
        return f"| {name} | {f:.3f} | {leak:.3f} | {1 - f:.3f} | {cost:.2f} |"

    lines = [
        "| force | target fraction F | leakage (other exits + inlet) | 1 - F | cost int int abs(f)^2 |",
        "|---|---:|---:|---:|---:|",
        row("zero", evaluate_control(rho0, torch.zeros_like(test.force), box)),
        row("the data's random forces", evaluate_control(rho0, test.force, box)),
    ]
    for label in ("smoke WDNO", "smoke pixel"):
        module, mdm = results[label]["module"], results[label]["datamodule"]
        for w in weights:
            ctrl = control_smoke(
                module.ema_network, module.process, module.parameterization, mdm.codec, mdm.cond_codec, rho0, box,
                weight=w, steps=20, generator=torch.Generator().manual_seed(0),
            )  # fmt: skip
            lines.append(row(f"{label.removeprefix('smoke ')}, guidance w = {w:g}", ctrl.outcome))
    module, mdm = results["smoke WDNO"]["module"], results["smoke WDNO"]["datamodule"]
    for w in weights[-2:]:  # the surrogate with a leakage term, lambda = 1
        ctrl = control_smoke(
            module.ema_network, module.process, module.parameterization, mdm.codec, mdm.cond_codec, rho0, box,
            leakage_weight=1.0, weight=w, steps=20, generator=torch.Generator().manual_seed(0),
        )  # fmt: skip
        lines.append(row(f"WDNO, guidance w = {w:g}, leakage term lambda = 1", ctrl.outcome))
    return lines


def write_section(text: str, doc: Path = DOC, begin: str = BEGIN, end: str = END) -> None:
    """Replace the generated block of ``doc`` (between the markers) with ``text``."""
    replace_block(doc, begin, end, text)


def train_all(
    models_: dict[str, tuple[str, ...]], args: argparse.Namespace, log: Callable[[str], None]
) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for label, overrides in models_.items():
        work = args.work_dir / "".join(c if c.isalnum() else "_" for c in label)
        shutil.rmtree(work, ignore_errors=True)  # train afresh: the run would otherwise resume a checkpoint there
        t0 = time.perf_counter()
        results[label] = train_model(overrides, work, args)
        log(f"{label}: trained {args.steps} steps in {time.perf_counter() - t0:.0f} s")
    return results


def setup_line(cmd: str, args: argparse.Namespace, physics: str) -> str:
    return (
        f"Generated by `{cmd}` (torch {torch.__version__}, {platform.machine()}, {args.threads} thread(s)): "
        f"UNet width {args.width} (levels x1, x2, one ResBlock each), v-prediction on the cosine VP path, "
        f"{args.steps} steps of batch 32, lr 2e-3, EMA 0.995; {args.train_samples} training and "
        f"{args.test_samples} held-out trajectories solved on N = {FINE} x {NT + 1} frames ({physics}) and "
        f"subsampled to N = 32 for training; one seed. Relative L2 over frames 1..{NT}."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 40 steps, few rows, no doc update")
    parser.add_argument("--steps", type=int, default=None, help="training steps per model (default 1500, quick 40)")
    parser.add_argument("--width", type=int, default=16, help="UNet base channels")
    parser.add_argument("--train-samples", type=int, default=2048)
    parser.add_argument("--test-samples", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--work-dir", type=Path, default=Path.home() / ".cache/condiff/benchmarks/pde")
    parser.add_argument("--no-doc", action="store_true", help="print the tables only")
    parser.add_argument("--smoke-samples", type=int, default=1024, help="training trajectories of the smoke section")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="what to run")
    args = parser.parse_args(argv)
    args.steps = args.steps or (40 if args.quick else 1500)
    if args.quick:
        args.train_samples, args.test_samples = min(args.train_samples, 64), min(args.test_samples, 8)
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    cmd = " ".join(["python benchmarks/pde.py", *(argv if argv is not None else sys.argv[1:])])
    if "burgers" in args.sections:
        burgers_section(args, cmd, start, log)
    if "advection" in args.sections:
        advection_section(args, cmd, start, log)
    if "smoke" in args.sections:
        smoke_section(args, cmd, log)


def burgers_section(args: argparse.Namespace, cmd: str, start: float, log: Callable[[str], None]) -> None:
    results = train_all(models(args.width), args, log)
    nu = results["WDNO"]["datamodule"].nu
    lines = [
        "## Benchmark: forced Burgers, simulation and control",
        "",
        setup_line(cmd, args, f"t in [0, 1], nu = {nu}"),
        "",
        "### Simulation error against NFE (N = 32)",
        "",
        *solver_table(results, args.quick, log),
        "",
        "### Resolution: trained on N = 32 (and 16), evaluated at N = 32 and 64 (DDIM, 20 steps, pooled rel. L2)",
        "",
        *resolution_table(results, nu),
        "",
        "### Super-resolution stage: from N = 32 to 64 (trained pair) and 128 (zero-shot), DDIM 20, pooled rel. L2",
        "",
        *superres_table(results, args),
        "",
        "### Control (N = 32): J = int |u(T) - u_d|^2 dx + 0.01 int int |f|^2 dx dt, 20 DDIM steps",
        "",
        *control_table(results, (0.0, 20.0) if args.quick else (0.0, 10.0, 20.0, 40.0), nu),
        "",
        f"Total runtime: {(time.perf_counter() - start) / 60:.1f} min.",
        "",
    ]
    publish("\n".join(lines), args, BEGIN, END, log)


def advection_section(args: argparse.Namespace, cmd: str, start: float, log: Callable[[str], None]) -> None:
    t0 = time.perf_counter()
    results = train_all(advection_models(args.width), args, log)
    dm = results["advection WDNO"]["datamodule"]
    lines = [
        "## Benchmark: forced linear advection, simulation and control",
        "",
        setup_line(cmd, args, f"u_t + c u_x = f, c = {dm.velocity}, t in [0, 1], exact solver"),
        "",
        "### Simulation (N = 32)",
        "",
        *advection_sim_table(results),
        "",
        "### Control (N = 32): J = int |u(T) - u_d|^2 dx + 0.01 int int |f|^2 dx dt, 20 DDIM steps",
        "",
        *control_table(
            results,
            (0.0, 20.0) if args.quick else (0.0, 10.0, 20.0, 40.0),
            0.0,
            ("advection WDNO", "advection control"),
        ),
        "",
        f"Section runtime: {(time.perf_counter() - t0) / 60:.1f} min.",
        "",
    ]
    publish("\n".join(lines), args, ADVECTION_BEGIN, ADVECTION_END, log)


def smoke_section(args: argparse.Namespace, cmd: str, log: Callable[[str], None]) -> None:
    t0 = time.perf_counter()
    smoke_args = argparse.Namespace(**{**vars(args), "train_samples": args.smoke_samples, "test_samples": 32})
    if args.quick:
        smoke_args.train_samples, smoke_args.test_samples = 64, 4
    results = train_all(smoke_models(2 * args.width), smoke_args, log)
    box = results["smoke WDNO"]["datamodule"].box
    lines = [
        "## Benchmark: 2-D smoke, simulation and control",
        "",
        f"Generated by `{cmd}` (torch {torch.__version__}, {platform.machine()}, {args.threads} thread(s)): "
        f"UNet width {2 * args.width} (levels x1, x2, one ResBlock each), v-prediction on the cosine VP path, "
        f"{args.steps} steps of batch 32, lr 2e-3, EMA 0.995; {smoke_args.train_samples} training and "
        f"{smoke_args.test_samples} held-out trajectories in a {box.n} x {box.n} box, {box.nt + 1} frames over "
        f"t in [0, {box.t_final}] ({box.substeps} solver steps per frame), buoyancy {box.buoyancy}, damping "
        f"{box.damping}, exits {list(box.exits)} (target {box.target}), open bottom; one seed.",
        "",
        "### Simulation (DDIM 20, pooled relative L2 over frames 1..T-1)",
        "",
        *smoke_sim_table(results),
        "",
        "### Control: the generated force run through the solver (DDIM 20, guidance by the surrogate of 1 - F)",
        "",
        *smoke_control_table(results, (0.0, 30.0) if args.quick else (0.0, 10.0, 30.0, 100.0)),
        "",
        f"Section runtime: {(time.perf_counter() - t0) / 60:.1f} min.",
        "",
    ]
    publish("\n".join(lines), args, SMOKE_BEGIN, SMOKE_END, log)


def publish(text: str, args: argparse.Namespace, begin: str, end: str, log: Callable[[str], None]) -> None:
    print(text)
    if not (args.quick or args.no_doc):
        write_section(text, DOC, begin, end)
        log(f"wrote {DOC}")


if __name__ == "__main__":
    main()
