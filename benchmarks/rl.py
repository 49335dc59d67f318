"""Trajectory Diffuser vs the full-diffusion (Decision-Diffuser-style) planner on the same trained networks.

    python benchmarks/rl.py                       # PointMaze U-maze, ~15 min on a CPU core, writes docs/rl.md's table
    python benchmarks/rl.py --env hopper --max-steps 1000 --out /tmp/hopper.md
    python benchmarks/rl.py --quick --out /tmp/rl.md   # ~2 min smoke run

One diffusion model, one proposal transformer, one inverse dynamics and one critic are trained on the
built-in data (or a D4RL / Minari file: --source d4rl --path FILE). Both planners then run the same
seeded episodes: D4RL-normalised score (maze2d / locomotion reference returns), success rate (mazes)
and milliseconds per action, timed with one environment (batch 1, replanning every step).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import replace_block

from condiff.core.processes import VPProcess
from condiff.core.training.module import DiffusionModule
from condiff.rl.data.datamodule import TrajectoryDataModule
from condiff.rl.envs.make import env_spec
from condiff.rl.envs.maze import MazeGeometry
from condiff.rl.evaluation import PlannerPolicy, rollout
from condiff.rl.evaluation.evaluator import build_planner, plan_feasibility
from condiff.rl.networks import CausalStateTransformer, InverseDynamics, PlanCritic, TemporalUNet
from condiff.rl.planning import Planner
from condiff.rl.training import PlannerModels, train_planner_models

START, END = "<!-- rl-benchmark:start -->", "<!-- rl-benchmark:end -->"


@dataclass
class Trained:
    dm: TrajectoryDataModule
    network: torch.nn.Module
    process: VPProcess
    parameterization: str
    models: PlannerModels
    seconds: float


def train_networks(args: argparse.Namespace) -> Trained:
    """Train the diffusion model (DiffusionModule) and the three helpers once."""
    start = time.perf_counter()
    L.seed_everything(args.seed, verbose=False)
    dm = TrajectoryDataModule(
        args.env, source=args.source, path=args.path, num_steps=args.data_steps, horizon=args.horizon,
        stride=args.stride, batch_size=args.batch_size, seed=args.seed, cache_dir=args.cache_dir,
    )  # fmt: skip
    dm.prepare()
    d, a = dm.state_dim, dm.action_dim
    goal = 2 if env_spec(args.env).goal_conditioned else 0
    process = VPProcess(schedule="cosine")
    module = DiffusionModule(
        TemporalUNet(d, args.channels, (1, 2, 4), goal_dim=goal), process, args.param, lr=1e-3, warmup_steps=100,
        ema_decay=0.995, cond_drop_prob=0.25, sample_every_n_epochs=0,
    )  # fmt: skip
    trainer = L.Trainer(
        max_steps=args.diffusion_steps, accelerator="cpu", logger=False, enable_checkpointing=False,
        enable_progress_bar=False, limit_val_batches=2, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(module, datamodule=dm)
    models = PlannerModels(
        CausalStateTransformer(d, args.horizon, goal, d_model=2 * args.channels, num_layers=2, num_heads=4),
        InverseDynamics(d, a, hidden=4 * args.channels),
        PlanCritic(d, args.horizon, goal, hidden=4 * args.channels),
    )
    train_planner_models(models, dm, steps=args.helper_steps, batch_size=256, seed=args.seed)
    return Trained(dm, module.ema_network.eval(), process, args.param, models, time.perf_counter() - start)


def evaluate_mode(tr: Trained, mode: str, args: argparse.Namespace) -> dict[str, float]:
    """Score over seeded episodes (batched) and ms per action with one environment."""
    planner = build_planner(
        tr.dm, tr.network, tr.process, tr.parameterization, tr.models, {"mode": mode, "full_steps": args.full_steps}
    )
    res = rollout(args.env, PlannerPolicy(planner, args.seed), args.episodes, args.eval_seed, args.max_steps)
    timing = rollout(args.env, PlannerPolicy(planner, args.seed), 1, args.eval_seed + 1, args.timing_steps)
    return {**res.summary(), "ms_per_action": timing.ms_per_step, **plan_quality(tr, planner, args)}


def plan_quality(tr: Trained, planner: Planner, args: argparse.Namespace) -> dict[str, float]:
    """NFE per plan and, for mazes, the chosen plans' quality from held-out windows' first states and goals:
    the fraction of planned positions in free cells and the length of the first planned step (world units;
    the data moves ~0.04 per step, and the first step is what inverse dynamics turns into the action)."""
    w = tr.dm.val_windows or tr.dm.train_windows
    idx = np.linspace(0, len(w.states) - 1, min(args.probe_plans, len(w.states))).round().astype(np.int64)
    plan = planner.plan(w.states[idx, 0], None if w.goals is None else w.goals[idx], torch.Generator().manual_seed(0))
    out = {"nfe": float(plan.nfe), "plan_free": float("nan"), "first_step": float("nan")}
    maze = env_spec(args.env).maze
    if maze:
        out["plan_free"] = plan_feasibility(MazeGeometry(maze), plan.states[..., :2])
        out["first_step"] = float(np.linalg.norm(plan.states[:, 1, :2] - plan.states[:, 0, :2], axis=1).mean())
    return out


def markdown(args: argparse.Namespace, tr: Trained, rows: dict[str, dict[str, float]]) -> str:
    spec = env_spec(args.env)
    td, dd = rows["trajectory_diffuser"], rows["decision_diffuser"]
    lines = [
        f"Environment `{args.env}` ({spec.gym_id}), data `{args.source}` ({args.data_steps} steps), "
        f"horizon {args.horizon}, {args.param} prediction, "
        f"{args.episodes} episodes of {args.max_steps or spec.max_episode_steps} steps (seed {args.eval_seed}); "
        f"networks trained once in {tr.seconds:.0f} s ({args.diffusion_steps} diffusion + 3 x {args.helper_steps} "
        f"helper steps), {torch.get_num_threads()} CPU thread(s). Normalised score = 100 (R - {spec.ref_min}) / "
        f"({spec.ref_max} - {spec.ref_min}).",
        "",
        "| planner | NFE per plan | score (± s.e.) | success rate | return | ms per action (1 env) "
        "| plans in free cells | first planned step |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['nfe']:.0f} | {r['score_mean']:.1f} ± {r['score_sem']:.1f} | {r['success_rate']:.2f} | "
            f"{r['return_mean']:.1f} | {r['ms_per_action']:.1f} | {_num(r['plan_free'], 2)} | "
            f"{_num(r['first_step'], 3)} |"
        )
    lines += ["", f"Speed-up of Trajectory Diffuser: **{dd['ms_per_action'] / td['ms_per_action']:.1f}x** per action."]
    return "\n".join(lines)


def _num(v: float, digits: int) -> str:
    return "-" if np.isnan(v) else f"{v:.{digits}f}"


def write_table(out: Path, text: str) -> None:
    """Replace the block between the benchmark markers of ``out`` (or append it, creating ``out``)."""
    replace_block(out, START, END, text, append=True)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="pointmaze_umaze")
    p.add_argument("--source", default="builtin", choices=["builtin", "d4rl", "minari"])
    p.add_argument("--path", default=None)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=None, help="markdown file (default: docs/rl.md's table)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "condiff")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-seed", type=int, default=777)
    p.add_argument("--data-steps", type=int, default=100_000)
    p.add_argument("--horizon", type=int, default=32)
    p.add_argument("--stride", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--param", default="x0", help="what the diffusion network predicts (x0, v, eps)")
    p.add_argument("--diffusion-steps", type=int, default=3000)
    p.add_argument("--helper-steps", type=int, default=1000)
    p.add_argument("--full-steps", type=int, default=50)
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--max-steps", type=int, default=100)
    p.add_argument("--timing-steps", type=int, default=20)
    p.add_argument("--probe-plans", type=int, default=64, help="held-out windows whose plans are inspected")
    if p.parse_known_args(argv)[0].quick:  # smaller defaults; explicit options still win
        p.set_defaults(data_steps=50_000, diffusion_steps=1000, helper_steps=500, episodes=8, timing_steps=10)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    args = parse(argv)
    torch.set_num_threads(args.threads)
    tr = train_networks(args)
    rows = {mode: evaluate_mode(tr, mode, args) for mode in ("trajectory_diffuser", "decision_diffuser")}
    text = markdown(args, tr, rows)
    print(text)
    out = args.out or Path(__file__).resolve().parents[1] / "docs" / "rl.md"
    write_table(out, text)
    print(f"written to {out}")
    return rows


if __name__ == "__main__":
    main()
