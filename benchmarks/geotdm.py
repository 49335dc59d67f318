"""GeoTDM forecasting against NFE (DDPM ancestral vs the core fast solvers), unconditional generation scored by
the paper's marginal / classification / prediction scores, and training-step time of the broadcast temporal
attention against the materialised ``[nodes, heads, T, T]`` formulation.

    python benchmarks/geotdm.py                   # full run (~40 min on 2 busy cores), tables into docs/molecules.md
    python benchmarks/geotdm.py --part uncond     # only the unconditional part (~8 min), its table into the doc
    python benchmarks/geotdm.py --quick           # ~1 min smoke version, printed only

One small GeoTDM model is trained on the built-in charged N-body systems (10 given frames, 10 generated) and
sampled with K = 5 samples per held-out system by each solver at several NFE (3 seeds, mean ± std of minADE_5
and minFDE_5). The step-time part times forward + backward of the same network with its temporal layers
computed by broadcasting (condiff's) and by materialising the per-pair messages as the reference code does.
The unconditional part trains a small model on 20-frame trajectories and scores its samples for held-out systems
(their charges and couplings) against the held-out trajectories, next to held-out real data from another split
(the best a generator can score) and the diffusion prior ``P eps`` (pure noise, the worst).
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import replace_block

from condiff.core.processes import DiscreteVPProcess
from condiff.molecules.geotdm import (
    GeoTDMModel,
    NBodyDataModule,
    PriorShiftedProcess,
    TrajectoryDiffusionModule,
    TrajectoryProjection,
    classification_score,
    kinematic_baseline,
    marginal_score,
    min_ade_fde,
    prediction_score,
)
from condiff.molecules.geotdm.network import EquivariantTemporalAttention, GeoTDMNetwork, dense_to_graph
from condiff.molecules.geotdm.systems import Systems

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "molecules.md"
START, END = "<!-- geotdm-benchmark:start -->", "<!-- geotdm-benchmark:end -->"
UNCOND_START, UNCOND_END = "<!-- geotdm-uncond-benchmark:start -->", "<!-- geotdm-uncond-benchmark:end -->"
FRAMES, GIVEN, K = 20, 10, 5

# (name, method, options, NFE per step)
SAMPLERS: list[tuple[str, str, dict[str, Any], int]] = [
    ("DDPM ancestral", "posterior", {"schedule": "uniform"}, 1),
    ("DDIM (eta = 0)", "ddim", {"schedule": "uniform"}, 1),
    ("DPM-Solver++ (2M)", "dpm-solver++", {"schedule": "logsnr", "order": 2}, 1),
    ("UniPC (bh2)", "unipc", {"schedule": "logsnr"}, 1),
]


def train_model(steps: int, train_size: int) -> tuple[TrajectoryDiffusionModule, NBodyDataModule, float]:
    """The forecasting model of the tests, trained for ``steps`` steps; returns it, its data and the wall time."""
    dm = NBodyDataModule(num_frames=FRAMES, train_size=train_size, val_size=8, test_size=64, batch_size=32)
    torch.manual_seed(0)
    model = GeoTDMModel(
        "forecast", FRAMES, GIVEN, hidden=32, num_layers=2, heads=2, time_dim=16, prior_layers=1, sigma_data=0.02
    )
    module = diffusion_module(model, prior_loss_weight=1.0)
    return module, dm, fit(module, dm, steps)


def diffusion_module(model: GeoTDMModel, **options: float) -> TrajectoryDiffusionModule:
    """The benchmark's training settings: 1000 linear betas, eps prediction, lr 5e-3 with warm-up, EMA 0.99."""
    return TrajectoryDiffusionModule(
        model,
        PriorShiftedProcess(DiscreteVPProcess(betas=torch.linspace(1e-4, 0.02, 1000))),
        "eps",
        lr=5e-3,
        warmup_steps=20,
        min_lr_ratio=0.1,
        ema_decay=0.99,
        **options,
    )


def fit(module: TrajectoryDiffusionModule, dm: NBodyDataModule, steps: int) -> float:
    """Train ``module`` for ``steps`` steps without validation; the wall time in seconds."""
    trainer = L.Trainer(
        max_steps=steps,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        limit_val_batches=0,
        enable_model_summary=False,
        gradient_clip_val=1.0,
    )
    t = time.perf_counter()
    trainer.fit(module, datamodule=dm)
    return time.perf_counter() - t


def train_uncond_model(steps: int, train_size: int, n: int) -> tuple[TrajectoryDiffusionModule, NBodyDataModule, float]:
    """A small unconditional model on 20-frame trajectories (zero centre of mass); ``n`` val and test systems."""
    dm = NBodyDataModule(num_frames=FRAMES, train_size=train_size, val_size=n, test_size=n, batch_size=32)
    torch.manual_seed(0)
    # sigma_data = 1: the std of the centred positions (0.99 on the training systems)
    model = GeoTDMModel("uncond", FRAMES, 0, hidden=32, num_layers=2, heads=2, time_dim=16, sigma_data=1.0)
    module = diffusion_module(model)
    return module, dm, fit(module, dm, steps)


# (name, method, steps, options) of the unconditional samplers
UNCOND_SAMPLERS: list[tuple[str, str, int, dict[str, Any]]] = [
    ("GeoTDM, DDIM (eta = 0)", "ddim", 50, {"schedule": "uniform"}),
    ("GeoTDM, DDPM ancestral", "posterior", 1000, {"schedule": "uniform"}),
]


def centred(systems: Systems) -> Systems:
    """``systems`` with each system's centre of mass over its nodes and frames removed (what uncond samples have)."""
    return systems.with_x(TrajectoryProjection(systems.batch, None, center=True)(systems.x))


def uncond_scores(real: Systems, fake: Systems, score_steps: int) -> dict[str, float]:
    """GeoTDM's three scores of ``fake`` against ``real`` (the prediction score forecasts the second half)."""
    return {
        "marginal": marginal_score(real.x, fake.x),
        "classification": classification_score(real, fake, steps=score_steps),
        "prediction": prediction_score(real, fake, given=FRAMES // 2, steps=score_steps),
    }


def run_uncond(
    module: TrajectoryDiffusionModule,
    dm: NBodyDataModule,
    n: int,
    score_steps: int = 200,
    samplers: list[tuple[str, str, int, dict[str, Any]]] = UNCOND_SAMPLERS,
) -> list[dict[str, Any]]:
    """Scores of held-out real data, the diffusion prior and the model's samples against ``n`` test systems.

    Every generated set uses the test systems' charges and couplings (one sample each); the real reference is the
    validation split (other systems of the same distribution).
    """
    real = centred(dm.eval_systems(n, split="test"))
    rows: list[dict[str, Any]] = []
    other = centred(dm.eval_systems(n, split="val"))
    rows.append({"source": "held-out real data (val split)", "nfe": 0, **uncond_scores(real, other, score_steps)})
    print(rows[-1], flush=True)
    eps = torch.randn(real.x.shape, generator=torch.Generator().manual_seed(1))
    noise = real.with_x(TrajectoryProjection(real.batch, None, center=True)(eps))
    rows.append({"source": "diffusion prior P eps (noise)", "nfe": 0, **uncond_scores(real, noise, score_steps)})
    print(rows[-1], flush=True)
    for name, method, steps, opts in samplers:
        t = time.perf_counter()
        res = module.sample_trajectories(real, num_samples=1, seed=2, method=method, steps=steps, **opts)
        wall = time.perf_counter() - t
        fake = real.with_x(res.x[0])
        rows.append({"source": name, "nfe": res.nfe, "sample_s": wall, **uncond_scores(real, fake, score_steps)})
        print(rows[-1], flush=True)
    return rows


def run_samplers(
    module: TrajectoryDiffusionModule,
    dm: NBodyDataModule,
    nfes: list[int],
    seeds: int,
    n: int,
    samplers: list[tuple[str, str, dict[str, Any], int]] = SAMPLERS,
) -> list[dict[str, Any]]:
    """minADE_K / minFDE_K of every sampler at every NFE, plus the deterministic references."""
    systems = dm.eval_systems(n, split="test")
    net: GeoTDMModel = module.ema_network  # type: ignore[assignment]
    gen = net.generated
    cv = kinematic_baseline(systems.x, net.given)
    rows: list[dict[str, Any]] = []
    ade, fde = min_ade_fde(cv[None], systems.x, systems.batch, gen)
    rows.append(
        {
            "sampler": "constant velocity",
            "nfe": 0,
            "ade": (float(ade.mean()), 0.0),
            "fde": (float(fde.mean()), 0.0),
            "ms": 0.0,
        }
    )
    for name, method, opts, per_step in samplers:
        for nfe in nfes:
            ades, fdes, wall = [], [], []
            mu = None
            for seed in range(seeds):
                t = time.perf_counter()
                res = module.sample_trajectories(
                    systems, num_samples=K, seed=seed, method=method, steps=max(1, nfe // per_step), **opts
                )
                wall.append((time.perf_counter() - t) / n)
                a, f = min_ade_fde(res.x, systems.x, systems.batch, gen)
                ades.append(float(a.mean()))
                fdes.append(float(f.mean()))
                mu = res.mu
            if mu is not None and not any(r["sampler"] == "learned prior mean" for r in rows):
                a, f = min_ade_fde(mu[None], systems.x, systems.batch, gen)
                rows.append(
                    {
                        "sampler": "learned prior mean",
                        "nfe": 0,
                        "ade": (float(a.mean()), 0.0),
                        "fde": (float(f.mean()), 0.0),
                        "ms": 0.0,
                    }
                )
            rows.append(
                {
                    "sampler": name,
                    "nfe": res.nfe,
                    "ade": (float(np.mean(ades)), float(np.std(ades))),
                    "fde": (float(np.mean(fdes)), float(np.std(fdes))),
                    "ms": 1e3 * float(np.mean(wall)),
                }
            )
            print(rows[-1], flush=True)
    return rows


class MaterialisedTemporalAttention(nn.Module):
    """The temporal layer of :class:`EquivariantTemporalAttention` computed as the reference code does.

    Builds the attention weights ``(M, heads, T, T)`` and the pair messages ``alpha_ts (x_s - x_t)`` as an
    ``(M, heads, T, T, 3)`` tensor before summing over ``s``; shares the parameters of ``layer`` and returns
    the same values (checked by ``tests/benchmarks/test_geotdm.py``).
    """

    def __init__(self, layer: EquivariantTemporalAttention) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, h: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        layer = self.layer
        m, t, _ = h.shape
        q, k, v = layer.qkv(layer.norm(h)).reshape(m, t, 3, layer.heads, layer.head_dim).permute(2, 0, 3, 1, 4)
        alpha = torch.softmax(q @ k.transpose(-1, -2) * layer.head_dim**-0.5, dim=-1)  # (M, heads, T, T)
        h_mix = (alpha @ v).transpose(1, 2).reshape(m, t, -1)
        pair = x[:, None, None, :, :] - x[:, None, :, None, :]  # (M, 1, T, T, 3): x_s - x_t
        msg = (alpha[..., None] * pair).sum(dim=3)  # (M, heads, T, 3)
        gamma = layer.gate(h)  # (M, T, heads)
        x = x + (gamma[..., None] * msg.permute(0, 2, 1, 3)).sum(dim=2)
        return h + layer.out(h_mix), x


def materialise(net: GeoTDMNetwork) -> GeoTDMNetwork:
    """``net`` with every temporal layer wrapped in :class:`MaterialisedTemporalAttention` (same parameters)."""
    net.temporal = nn.ModuleList(MaterialisedTemporalAttention(layer) for layer in net.temporal)  # type: ignore[misc]
    return net


def step_time(
    systems: int, frames: int, hidden: int, layers: int, materialised: bool, repeats: int, particles: int = 5
) -> float:
    """Seconds per forward + backward of a GeoTDM network on ``systems`` systems (median of ``repeats``)."""
    torch.manual_seed(0)
    net = GeoTDMNetwork(
        node_dim=1,
        edge_dim=0,
        hidden=hidden,
        num_layers=layers,
        heads=4 if hidden >= 64 else 2,
        time_dim=32 if hidden >= 64 else 16,
    )
    if materialised:
        net = materialise(net)
    x, batch = dense_to_graph(torch.randn(systems, particles, frames, 3))
    attr, t = torch.ones(x.shape[0], 1), torch.rand(systems)
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        dx, _ = net(x, t, batch, node_attr=attr)
        dx.square().mean().backward()
        times.append(time.perf_counter() - start)
    return float(np.median(times[1:]))


def run_step_times(sizes: list[tuple[int, int, int, int]], repeats: int) -> list[dict[str, Any]]:
    rows = []
    for systems, frames, hidden, layers in sizes:
        b = step_time(systems, frames, hidden, layers, False, repeats)
        m = step_time(systems, frames, hidden, layers, True, repeats)
        rows.append(
            {
                "systems": systems,
                "frames": frames,
                "hidden": hidden,
                "layers": layers,
                "broadcast_s": b,
                "materialised_s": m,
            }
        )
        print(rows[-1], flush=True)
    return rows


def _pm(v: tuple[float, float]) -> str:
    return f"{v[0]:.3f} ± {v[1]:.3f}"


def markdown(rows: list[dict[str, Any]], steps: list[dict[str, Any]], info: dict[str, Any]) -> str:
    lines = [
        f"Measured by `python benchmarks/geotdm.py` ({info['date']}, {info['machine']}, 1 torch thread). "
        f"Forecasting model: EGTN 2 layers / width 32, learned prior (1 layer), {info['steps']} steps of 32 "
        f"systems ({info['train_s']:.0f} s) on {info['train_size']} charged 5-particle systems; {info['n']} "
        f"held-out systems, 10 given frames, 10 generated, K = {K}, {info['seeds']} seeds (mean ± std).",
        "",
        f"| sampler | NFE | minADE_{K} | minFDE_{K} | ms / system |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['sampler']} | {r['nfe']} | {_pm(r['ade'])} | {_pm(r['fde'])} | {r['ms']:.1f} |")
    lines += [
        "",
        "Training step (forward + backward, 5-particle systems, fully connected) of the temporal network, "
        "broadcast attention (condiff) vs the materialised `[nodes, heads, T, T]` pair messages (reference):",
        "",
        "| systems | frames | width | layers | broadcast (s) | materialised (s) | speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in steps:
        lines.append(
            f"| {r['systems']} | {r['frames']} | {r['hidden']} | {r['layers']} | {r['broadcast_s']:.3f} | "
            f"{r['materialised_s']:.3f} | {r['materialised_s'] / r['broadcast_s']:.2f}x |"
        )
    return "\n".join(lines)


def uncond_markdown(rows: list[dict[str, Any]], info: dict[str, Any]) -> str:
    lines = [
        f"Measured by `python benchmarks/geotdm.py --part uncond` ({info['date']}, {info['machine']}, 1 torch "
        f"thread). Unconditional model: EGTN 2 layers / width 32, `sigma_data` 1, {info['steps']} steps of 32 "
        f"systems ({info['train_s']:.0f} s) on {info['train_size']} charged 5-particle systems of 20 frames; "
        f"scored against {info['n']} held-out test systems (centred), one sample per system with its charges. "
        f"Marginal: histogram distance per axis (lower is better); classification: held-out BCE of a real-vs-"
        f"generated classifier ({info['score_steps']} steps; higher is better, ln 2 = {LN2:.3f} is "
        f"indistinguishable); prediction: MSE on the real test systems of a forecaster of frames 11-20 from "
        f"1-10 trained on the row's set ({info['score_steps']} steps; lower is better).",
        "",
        "| samples | NFE | marginal | classification | prediction |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['source']} | {r['nfe']} | {r['marginal']:.4f} | {r['classification']:.3f} | {r['prediction']:.4f} |"
        )
    return "\n".join(lines)


def write_doc(table: str, doc: Path = DOC, start: str = START, end: str = END) -> None:
    replace_block(doc, start, end, table)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny smoke run, printed only")
    p.add_argument("--part", choices=("all", "forecast", "uncond"), default="all", help="which tables to measure")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    quick = args.quick
    machine = f"{platform.machine()} {platform.processor() or ''}".strip()
    if args.part in ("all", "uncond"):
        u_steps, u_train, u_n, u_score = (40, 64, 16, 20) if quick else (3000, 2000, 256, 200)
        module, dm, train_s = train_uncond_model(u_steps, u_train, u_n)
        u_rows = run_uncond(module, dm, u_n, u_score, UNCOND_SAMPLERS[:1] if quick else UNCOND_SAMPLERS)
        u_info = {"date": time.strftime("%Y-%m-%d"), "machine": machine, "steps": u_steps, "train_s": train_s,
                  "train_size": u_train, "n": u_n, "score_steps": u_score}  # fmt: skip
        u_table = uncond_markdown(u_rows, u_info)
        print(u_table)
        if not quick:
            write_doc(u_table, start=UNCOND_START, end=UNCOND_END)
    if args.part == "uncond":
        return
    steps, train_size = (40, 64) if quick else (2000, 2000)
    nfes = [5, 10] if quick else [10, 20, 50, 100]
    seeds, n = (1, 8) if quick else (3, 64)
    module, dm, train_s = train_model(steps, train_size)
    rows = run_samplers(module, dm, nfes, seeds, n)
    if not quick:  # DDPM's own setting: ancestral over the 1000 training steps
        rows += run_samplers(module, dm, [1000], 1, n, samplers=SAMPLERS[:1])[2:]
    sizes = [(8, 10, 16, 1)] if quick else [(32, 20, 32, 2), (128, 30, 128, 6)]
    step_rows = run_step_times(sizes, repeats=1 if quick else 3)
    info = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine,
        "steps": steps,
        "train_s": train_s,
        "train_size": train_size,
        "n": n,
        "seeds": seeds,
    }
    table = markdown(rows, step_rows, info)
    print(table)
    if not quick:
        write_doc(table)


LN2 = math.log(2.0)


if __name__ == "__main__":
    main()
