"""Solver accuracy and overhead: every condiff method against diffusers' schedulers on exact Gaussian-mixture models.

    python benchmarks/solvers.py            # full run (< 15 min on 2 cores), writes docs/benchmarks/solvers.md
    python benchmarks/solvers.py --quick    # ~1 min smoke version, printed (and written with --out)

Every solver integrates the probability-flow ODE of the same analytic Gaussian mixture from the same
``x_T`` at ``t = T``; the error is the RMSE of the final samples against a DOP853 solution (rtol 1e-10)
of the same ODE, taken at the noise level where that solver stops (condiff: ``t_min``; diffusers: its
last sigma, 0 or ``sigma_min``). diffusers' schedulers query the same exact denoiser: a (possibly
fractional) diffusers timestep ``k`` is mapped to continuous time through the log-SNR of its
``alphas_cumprod`` table, ``lambda_k``, interpolated linearly in ``k``, then ``t = lambda^-1(lambda_k)``.

New condiff methods appear by themselves (every name in ``METHODS`` runs); a row of
``CONDIFF_CONFIGS`` gives a method non-default options or several variants.
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import math
import platform
import statistics as pystats
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.integrate import solve_ivp

from condiff.core.analytic import AnalyticDenoiser, GaussianMixture
from condiff.core.processes import DiscreteVPProcess, GaussianProcess, MeanRevertingProcess, VPProcess
from condiff.core.sampling import METHODS, sample
from condiff.core.sampling import grids as grids_module
from condiff.core.sampling.dpm_solver_v3 import ModelStatistics, compute_statistics, load_statistics

NFES = (5, 6, 8, 10, 15, 20, 50)
LAMBDA_CAP = 25.0  # sigma = e^-25: "sigma = 0" for the reference solution
N_TRAIN = 1000
STATS = "<empirical model statistics of the problem>"  # option placeholder, filled per problem


# -- condiff configurations: one row per variant; methods without a row run with their defaults --------------
@dataclass(frozen=True)
class Config:
    label: str
    method: str
    options: dict[str, Any] = field(default_factory=dict)


CONDIFF_CONFIGS: list[Config] = [
    Config("DDIM", "ddim"),
    Config("DPM-Solver++ 2M", "dpm-solver++", {"order": 2}),
    Config("DPM-Solver++ 3M", "dpm-solver++", {"order": 3}),
    Config("DPM-Solver++ 2S", "dpm-solver++", {"order": 2, "variant": "singlestep"}),
    Config("DPM-Solver 2M (noise)", "dpm-solver", {"order": 2}),
    Config("DPM-Solver 3M (noise)", "dpm-solver", {"order": 3}),
    Config("UniPC bh2 (order 2)", "unipc", {"order": 2, "variant": "bh2"}),
    Config("UniPC bh1 (order 3)", "unipc", {"order": 3, "variant": "bh1"}),
    Config("UniPC bh2 (order 3)", "unipc", {"order": 3, "variant": "bh2"}),
    Config("DEIS tAB2", "deis", {"order": 2}),
    Config("DEIS tAB3", "deis", {"order": 3}),
    Config("DEIS rhoAB3", "deis", {"order": 3, "variant": "rhoab"}),
    Config("DPM-Solver++ 2M + HB", "dpm-solver++-hb", {}),
    Config("DPM-Solver++ GHVB", "dpm-solver++-ghvb", {}),
    Config("EDM Euler", "euler"),
    Config("EDM Heun", "heun"),
    Config("MR Sampler ODE 2 (data)", "mrs", {"order": 2, "solver": "ode", "param": "data"}),
    Config("DPM-Solver-v3 (order 2)", "dpm-solver-v3", {"order": 2, "statistics": STATS}),
    Config("DPM-Solver-v3 (order 3)", "dpm-solver-v3", {"order": 3, "statistics": STATS}),
    Config(
        "DPM-Solver-v3 (order 2, no corrector)", "dpm-solver-v3", {"order": 2, "corrector": False, "statistics": STATS}
    ),
]
# Not comparable to a probability-flow reference (stochastic, adaptive NFE, or other processes only).
SKIP = {
    "euler-maruyama": "stochastic (MR table)",
    "pc": "stochastic",
    "sde-dpm-solver++": "stochastic",
    "interpolant-sde": "stochastic",
    "s4": "stochastic, tuple states",
    "dpm-solver-adaptive": "adaptive step size: NFE set by a tolerance",
}

# -- diffusers configurations ---------------------------------------------------------------------------------
DIFFUSERS_SCHEDULERS: list[tuple[str, str, dict[str, Any]]] = [
    ("DDIM", "DDIMScheduler", {}),
    ("DPM-Solver++ 2M", "DPMSolverMultistepScheduler", {"solver_order": 2}),
    ("DPM-Solver++ 3M", "DPMSolverMultistepScheduler", {"solver_order": 3}),
    ("UniPC bh2", "UniPCMultistepScheduler", {}),
    ("DEIS", "DEISMultistepScheduler", {}),
    ("Euler", "EulerDiscreteScheduler", {}),
    ("Heun", "HeunDiscreteScheduler", {}),
]
DIFFUSERS_GRIDS: dict[str, dict[str, Any]] = {
    "linspace": {"timestep_spacing": "linspace"},
    "leading": {"timestep_spacing": "leading"},
    "trailing": {"timestep_spacing": "trailing"},
    "karras": {"use_karras_sigmas": True},
    "lu-lambdas": {"use_lu_lambdas": True},
}
DIFFUSERS_ENDS: dict[str, dict[str, Any]] = {
    "": {},  # the scheduler's default end (sigma = 0 for most)
    "end sigma_min": {"final_sigmas_type": "sigma_min"},
    "alpha_1=False": {"set_alpha_to_one": False},  # DDIM's sigma_min end
}


# -- problems -------------------------------------------------------------------------------------------------
def mixture(dim: int, seed: int = 0) -> GaussianMixture:
    """Data-like mixture: 8 modes on a ring (d=2) or 6 anisotropic modes with eigenvalues in [1e-3, 0.3] (d=64)."""
    g = torch.Generator().manual_seed(seed)
    if dim == 2:
        ang = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
        means = 1.5 * torch.stack([ang.cos(), ang.sin()], 1)
        stds = torch.tensor([0.03, 0.1, 0.05, 0.2, 0.03, 0.1, 0.05, 0.2], dtype=torch.float64)
        rot = torch.stack([torch.stack([ang.cos(), -ang.sin()], -1), torch.stack([ang.sin(), ang.cos()], -1)], -2)
        scales = torch.stack([stds, 2.0 * stds], -1)
        covs = rot @ torch.diag_embed(scales**2) @ rot.transpose(-1, -2)
        weights = torch.tensor([1, 2, 1, 2, 1, 2, 1, 2], dtype=torch.float64)
        return GaussianMixture(means, covs, weights)
    k = 6
    means = 0.5 * torch.randn(k, dim, generator=g, dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(k, dim, dim, generator=g, dtype=torch.float64))
    evals = torch.exp(torch.empty(k, dim, dtype=torch.float64).uniform_(math.log(1e-3), math.log(0.3), generator=g))
    return GaussianMixture(means, q @ torch.diag_embed(evals) @ q.transpose(-1, -2))


@dataclass
class Problem:
    name: str
    process: GaussianProcess
    data: GaussianMixture
    x_T: torch.Tensor  # (B, D) float64, at t = T
    y: torch.Tensor | None
    lam_table: torch.Tensor  # (N_TRAIN,) log-SNR of diffusers' timesteps 0..N-1
    alphas_cumprod: torch.Tensor
    reference: Callable[[float], torch.Tensor]
    stats: ModelStatistics | None = None
    calls: list[int] = field(default_factory=list)

    @property
    def den(self) -> AnalyticDenoiser:
        return AnalyticDenoiser(self.data, self.process, y=self.y)

    def denoiser(self, x: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x0, eps = self.den.x0_eps(x, t)
        return x0.to(x.dtype), eps.to(x.dtype)

    def lam_end(self) -> float:
        return float(self.process.log_snr(torch.tensor(self.process.t_min, dtype=torch.float64)))


def reference_solution(
    process: GaussianProcess, data: GaussianMixture, x_T: torch.Tensor, y: torch.Tensor | None, lam_hi: float
) -> Callable[[float], torch.Tensor]:
    """Dense DOP853 solution (rtol = atol = 1e-10) of the PF-ODE in ``lambda`` from ``T`` up to ``lam_hi``."""
    den = AnalyticDenoiser(data, process, y=y)
    shape = x_T.shape
    lam0 = float(process.log_snr(torch.tensor(process.T, dtype=torch.float64)))

    def rhs(lam: float, z: np.ndarray) -> np.ndarray:
        t = process.t_from_log_snr(torch.tensor(lam, dtype=torch.float64))
        c = process.coefficients64(t)
        x = torch.from_numpy(z).reshape(shape)
        x0, eps = den.x0_eps(x, t)
        v = c.da * x0 + c.ds * eps + (0.0 if y is None else c.db * y)
        return (v / (c.da / c.a - c.ds / c.s)).reshape(-1).numpy()

    sol = solve_ivp(
        rhs, (lam0, lam_hi), x_T.reshape(-1).numpy(), method="DOP853", rtol=1e-10, atol=1e-10, dense_output=True
    )
    if not sol.success:
        raise RuntimeError(f"reference solution failed: {sol.message}")

    def at(lam_end: float) -> torch.Tensor:
        return torch.from_numpy(sol.sol(min(lam_end, lam_hi))).reshape(shape)

    return at


def make_problem(dim: int, discrete: bool, n: int, seed: int = 0) -> Problem:
    """VP linear (continuous) or the DDPM 1000-step linear ``alphas_cumprod`` as a :class:`DiscreteVPProcess`."""
    if discrete:
        betas = torch.linspace(1e-4, 0.02, N_TRAIN, dtype=torch.float64)  # diffusers' default "linear" table
        ac = torch.cumprod(1.0 - betas, 0)
        process: GaussianProcess = DiscreteVPProcess(alphas_cumprod=ac)
    else:
        process = VPProcess("linear", t_min=1.0 / N_TRAIN)
        ac = process.coefficients64(torch.arange(1, N_TRAIN + 1, dtype=torch.float64) / N_TRAIN).a ** 2
    data = mixture(dim, seed)
    x_T = process.prior_sample((n, dim), generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64)
    lam_table = 0.5 * (torch.log(ac) - torch.log1p(-ac))
    name = f"d={dim}, {'DDPM 1000-step alphas_cumprod (discrete)' if discrete else 'VP linear (continuous)'}"
    ref = reference_solution(process, data, x_T, None, LAMBDA_CAP)
    return Problem(name, process, data, x_T, None, lam_table, ac, ref)


def rmse(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.to(torch.float64) - b).pow(2).mean().sqrt())


# -- condiff --------------------------------------------------------------------------------------------------
def condiff_configs(log: Callable[[str], None]) -> tuple[list[Config], dict[str, str]]:
    """Table rows for registered methods, plus a default row for every registered method without one."""
    skipped = {m: why for m, why in SKIP.items() if m in METHODS}
    rows = [c for c in CONDIFF_CONFIGS if c.method in METHODS]
    listed = {c.method for c in rows}
    for m in sorted(METHODS):
        if m not in listed and m not in skipped:
            rows.append(Config(f"{m} (defaults)", m))
    missing = sorted({c.method for c in CONDIFF_CONFIGS} - set(METHODS))
    if missing:
        log(f"not registered yet: {', '.join(missing)}")
    return rows, skipped


def schedules() -> list[str]:
    return [s for s in getattr(grids_module, "GRIDS", ("logsnr", "uniform")) if isinstance(s, str)]


def run_condiff(problem: Problem, cfg: Config, nfe: int, schedule: str) -> tuple[float, int]:
    """Error at the largest step count whose NFE <= ``nfe`` (Heun and singlestep methods cost more per step)."""
    opts = {k: (problem.stats if v is STATS else v) for k, v in cfg.options.items()}
    steps = nfe
    for _ in range(6):
        res = sample(
            problem.denoiser,
            problem.process,
            problem.x_T.to(torch.float32),
            problem.y,
            steps=steps,
            method=cfg.method,
            schedule=schedule,
            generator=torch.Generator().manual_seed(0),
            **opts,
        )
        if res.nfe <= nfe:
            err = rmse(res.x, problem.reference(problem.lam_end()))
            return (err if math.isfinite(err) else math.inf), res.nfe
        if steps == 1:
            break
        steps = max(1, min(steps - 1, math.ceil(steps * nfe / res.nfe)))
    return math.nan, 0


def is_stochastic(problem: Problem, method: str) -> bool:
    """Whether two generators give different results at 5 steps (then it is no PF-ODE solver)."""
    outs = []
    for seed in (0, 1):
        try:
            res = sample(
                problem.denoiser,
                problem.process,
                problem.x_T[:8].float(),
                steps=5,
                method=method,
                generator=torch.Generator().manual_seed(seed),
            )
        except Exception:
            return False
        outs.append(res.x)
    return not torch.equal(outs[0], outs[1])


# -- diffusers ------------------------------------------------------------------------------------------------
def diffusers_configs(quick: bool) -> list[tuple[str, str, dict[str, Any]]]:
    import diffusers

    out = []
    for label, cls_name, base in DIFFUSERS_SCHEDULERS:
        params = inspect.signature(getattr(diffusers, cls_name).__init__).parameters
        for gname, gopts in DIFFUSERS_GRIDS.items():
            for ename, eopts in DIFFUSERS_ENDS.items():
                opts = {**gopts, **eopts}
                if not all(k in params for k in opts):
                    continue
                if quick and ename:
                    continue
                name = f"{label} [{gname}{', ' + ename if ename else ''}]"
                out.append((name, cls_name, {**base, **opts}))
    return out


def run_diffusers(problem: Problem, cls_name: str, opts: dict[str, Any], nfe: int) -> tuple[float, int]:
    """Drive a diffusers scheduler with the exact model; error against the reference at its end point."""
    import diffusers

    betas = 1.0 - problem.alphas_cumprod / torch.cat([torch.ones(1, dtype=torch.float64), problem.alphas_cumprod[:-1]])
    sched = getattr(diffusers, cls_name)(num_train_timesteps=N_TRAIN, trained_betas=betas.numpy(), **opts)
    steps = (nfe + 1) // 2 if cls_name == "HeunDiscreteScheduler" else nfe
    sched.set_timesteps(steps)
    lam_tab, k_tab = problem.lam_table, torch.arange(N_TRAIN, dtype=torch.float64)
    calls = 0

    def eps_model(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        nonlocal calls
        calls += 1
        lam = float(np.interp(float(k), k_tab.numpy(), lam_tab.numpy()))
        t = problem.process.t_from_log_snr(torch.tensor(lam, dtype=torch.float64))
        return problem.den.x0_eps(x.to(torch.float64), t)[1].to(x.dtype)

    x = problem.x_T.to(torch.float32) * float(sched.init_noise_sigma)
    for k in sched.timesteps:
        inp = sched.scale_model_input(x, k)
        x = sched.step(eps_model(inp, k), k, x).prev_sample
    if hasattr(sched, "sigmas") and cls_name != "DDIMScheduler":
        sigma_end = float(sched.sigmas[-1])
        lam_end = LAMBDA_CAP if sigma_end <= 0 else -math.log(sigma_end)
        if cls_name in ("EulerDiscreteScheduler", "HeunDiscreteScheduler"):  # VE-scaled state
            x = x / math.sqrt(sigma_end**2 + 1.0)
    else:
        prev = int(sched.timesteps[-1]) - N_TRAIN // steps
        ac_end = float(sched.final_alpha_cumprod) if prev < 0 else float(problem.alphas_cumprod[prev])
        lam_end = LAMBDA_CAP if ac_end >= 1.0 else 0.5 * math.log(ac_end / (1.0 - ac_end))
    err = rmse(x, problem.reference(lam_end))
    return (err if math.isfinite(err) else math.inf), calls


# -- tables ---------------------------------------------------------------------------------------------------
def fmt(err: float, used: int, nfe: int) -> str:
    if math.isnan(err):
        return "n/a"
    if math.isinf(err):
        return "NaN/inf"
    s = f"{err:.2e}"
    return s if used in (nfe, 0) else f"{s} ({used})"


@dataclass
class Row:
    label: str
    errors: dict[int, tuple[float, int]]


def _beats(a: float, ref: float) -> str:
    if not (math.isfinite(a) and math.isfinite(ref)):
        return "n/a"
    return "**yes**" if a < ref else "no"


def _uses_defaults(cfg: Config) -> bool:
    """Whether ``cfg`` runs its method with the method's own default options (what ``sample()`` does)."""
    params = inspect.signature(METHODS[cfg.method]).parameters
    return all(k in params and params[k].default == v for k, v in cfg.options.items())


def accuracy_section(problem: Problem, nfes: tuple[int, ...], quick: bool, log: Callable[[str], None]) -> list[str]:
    configs, skipped = condiff_configs(log)
    condiff_rows, default_row = [], None
    default_method = inspect.signature(sample).parameters["method"].default
    default_schedule = inspect.signature(sample).parameters["schedule"].default
    for cfg in configs:
        if cfg.label.endswith("(defaults)") and is_stochastic(problem, cfg.method):
            skipped[cfg.method] = "stochastic (detected)"
            continue
        for sch in schedules():
            errs: dict[int, tuple[float, int]] = {}
            for nfe in nfes:
                try:
                    errs[nfe] = run_condiff(problem, cfg, nfe, sch)
                except Exception as e:  # a method still being written must not stop the benchmark
                    log(f"  {cfg.label} [{sch}] NFE {nfe}: {type(e).__name__}: {e}")
                    errs[nfe] = (math.nan, 0)
            row = Row(f"{cfg.label} [{sch}]", errs)
            condiff_rows.append(row)
            if cfg.method == default_method and sch == default_schedule and _uses_defaults(cfg):
                default_row = row
        log(f"  condiff {cfg.label} done")
    diff_rows = []
    try:
        dconfigs = diffusers_configs(quick)
    except ImportError:
        dconfigs = []
        log("diffusers not installed: its rows are left out")
    for label, cls_name, opts in dconfigs:
        errs = {}
        for nfe in nfes:
            try:
                errs[nfe] = run_diffusers(problem, cls_name, opts, nfe)
            except Exception as e:
                log(f"  diffusers {label} NFE {nfe}: {type(e).__name__}: {e}")
                errs[nfe] = (math.nan, 0)
        diff_rows.append(Row(label, errs))
    log(f"  diffusers done ({len(diff_rows)} configurations)")

    def best(rows: list[Row], nfe: int) -> tuple[float, str]:
        cands = [(r.errors[nfe][0], r.label) for r in rows if math.isfinite(r.errors[nfe][0])]
        return min(cands) if cands else (math.nan, "-")

    lines = [f"### {problem.name}", ""]
    lines += [
        "| NFE | condiff default | condiff best | diffusers best | default beats diffusers | best beats diffusers |",
        "|---:|---|---|---|---|---|",
    ]
    for nfe in nfes:
        d_err = default_row.errors[nfe][0] if default_row else math.nan
        c_err, c_lab = best(condiff_rows, nfe)
        f_err, f_lab = best(diff_rows, nfe)
        d_txt = f"{d_err:.2e} ({default_method}, {default_schedule})" if default_row else "-"
        verdict = f"{_beats(d_err, f_err)} | {_beats(c_err, f_err)}"
        lines.append(f"| {nfe} | {d_txt} | {c_err:.2e} {c_lab} | {f_err:.2e} {f_lab} | {verdict} |")
    head = "| configuration | " + " | ".join(f"NFE {n}" for n in nfes) + " |"
    sep = "|---|" + "---:|" * len(nfes)
    for title, rows in (("condiff", condiff_rows), ("diffusers", diff_rows)):
        lines += [
            "",
            f"<details><summary>{title}: every configuration (RMSE; actual NFE in brackets where lower)</summary>",
            "",
        ]
        lines += [head, sep]
        lines += [f"| {r.label} | " + " | ".join(fmt(*r.errors[n], n) for n in nfes) + " |" for r in rows]
        lines += ["", "</details>"]
    if skipped:
        lines += ["", "Not in this table: " + "; ".join(f"`{m}` ({why})" for m, why in sorted(skipped.items())) + "."]
    return [*lines, ""]


def ems_for(problem: Problem, cache_dir: Path, n: int, knots: int, log: Callable[[str], None]) -> ModelStatistics:
    """EMS of the problem's exact denoiser, computed once and cached to a safetensors file."""
    key = problem.name.replace(" ", "").replace(",", "_").replace("(", "").replace(")", "").replace("=", "")
    path = cache_dir / f"ems-{key}-{n}x{knots}.safetensors"
    if path.is_file():
        return load_statistics(path)
    t0 = time.perf_counter()
    x0 = problem.data.sample(n, generator=torch.Generator().manual_seed(123))
    stats = compute_statistics(
        problem.denoiser, problem.process, x0, steps=knots, generator=torch.Generator().manual_seed(7), path=path
    )
    log(f"  EMS of {problem.name}: {n} samples x {knots + 1} knots in {time.perf_counter() - t0:.1f}s -> {path}")
    return stats


# -- overhead -------------------------------------------------------------------------------------------------
def overhead_section(quick: bool, log: Callable[[str], None]) -> list[str]:
    """Solver time per step with a zero-cost model: condiff DPM-Solver++ 2M vs diffusers DPMSolverMultistep."""
    steps, reps = 20, (3 if quick else 7)
    process = VPProcess("linear")
    rows = []
    for shape in ((1, 64), (4096, 64)):
        zeros = torch.zeros(shape)

        def zero_model(
            x: torch.Tensor, t: torch.Tensor, zeros: torch.Tensor = zeros
        ) -> tuple[torch.Tensor, torch.Tensor]:
            return zeros, zeros

        x_T = torch.randn(shape, generator=torch.Generator().manual_seed(0))
        cands = [("dpm-solver++", {"order": 2}, "condiff DPM-Solver++ 2M")] if "dpm-solver++" in METHODS else []
        cands += [
            ("ddim", {}, "condiff DDIM"),
            ("dpm-solver-v3", {"order": 2, "statistics": "const"}, "condiff DPM-Solver-v3 (order 2)"),
        ]
        for method, opts, label in cands:
            if opts.get("statistics") == "const":
                lam = process.log_snr(torch.tensor([process.T, process.t_min], dtype=torch.float64))
                opts = {
                    **opts,
                    "statistics": ModelStatistics.constant(
                        torch.linspace(float(lam[0]), float(lam[1]), 201), shape=(64,)
                    ),
                }
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                sample(zero_model, process, x_T, steps=steps, method=method, **opts)
                times.append((time.perf_counter() - t0) / steps)
            rows.append((label, shape, pystats.median(times)))
        try:
            from diffusers import DPMSolverMultistepScheduler

            sched = DPMSolverMultistepScheduler(solver_order=2)
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                sched.set_timesteps(steps)
                x = x_T.clone()
                for k in sched.timesteps:
                    x = sched.step(zeros, k, x).prev_sample
                times.append((time.perf_counter() - t0) / steps)
            rows.append(("diffusers DPMSolverMultistep (2M)", shape, pystats.median(times)))
        except ImportError:
            log("diffusers not installed: no overhead row for it")
    lines = ["| solver | batch | time per step |", "|---|---|---:|"]
    lines += [f"| {label} | {shape[0]}x{shape[1]} | {t * 1e6:.0f} µs |" for label, shape, t in rows]
    return [*lines, ""]


# -- mean-reverting process ----------------------------------------------------------------------------------
def sliced_w2(a: torch.Tensor, b: torch.Tensor, projections: int = 256) -> float:
    """Sliced 2-Wasserstein distance between two equal-size sample sets ``(n, d)``."""
    g = torch.Generator().manual_seed(0)
    u = torch.randn(a.shape[1], projections, generator=g, dtype=torch.float64)
    u = u / u.norm(dim=0, keepdim=True)
    pa, pb = (a.to(torch.float64) @ u).sort(0).values, (b.to(torch.float64) @ u).sort(0).values
    return float((pa - pb).pow(2).mean().sqrt())


def euler_maruyama_reference(problem: Problem, steps: int, seed: int) -> torch.Tensor:
    """Reverse-SDE Euler-Maruyama on a uniform grid (used until ``euler-maruyama`` is registered)."""
    proc, x = problem.process, problem.x_T.clone()
    grid = torch.linspace(proc.T, proc.t_min, steps + 1, dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    for t, t_next in itertools.pairwise(grid):
        dt = float(t_next - t)
        _, eps = problem.den.x0_eps(x, t)
        drift = proc.reverse_drift(x, t, eps, problem.y)
        x = (
            x
            + drift * dt
            + math.sqrt(float(proc.diffusion_sq(t)) * -dt) * torch.randn(x.shape, generator=g, dtype=x.dtype)
        )
    return x


MR_CONFIGS: list[Config] = [
    *(
        Config(f"MR Sampler ODE {o} ({p})", "mrs", {"solver": "ode", "order": o, "param": p})
        for o in (1, 2, 3)
        for p in ("data", "noise", "velocity")
    ),
    *(Config(f"MR Sampler SDE {o}", "mrs", {"solver": "sde", "order": o}) for o in (1, 2)),
    Config("DDIM", "ddim"),
    Config("DPM-Solver++ 2M", "dpm-solver++", {"order": 2}),
    Config("UniPC bh2", "unipc", {"order": 2}),
    Config("DPM-Solver-v3 (order 2)", "dpm-solver-v3", {"order": 2, "statistics": STATS}),
]


def mr_section(n: int, cache_dir: Path, quick: bool, log: Callable[[str], None]) -> list[str]:
    process = MeanRevertingProcess()
    data = mixture(2)
    y = torch.tensor([0.8, -0.4], dtype=torch.float64)
    x_T = process.prior_sample((n, 2), y=y, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    lam_end = float(process.log_snr(torch.tensor(process.t_min, dtype=torch.float64)))
    ref = reference_solution(process, data, x_T, y, lam_end)
    problem = Problem(
        "d=2, mean-reverting (IR-SDE cosine), y != 0", process, data, x_T, y, torch.zeros(1), torch.zeros(1), ref
    )
    problem.stats = ems_for(problem, cache_dir, 128 if quick else 256, 60 if quick else 100, log)
    truth = data.sample(n, generator=torch.Generator().manual_seed(99)).to(torch.float64)
    floor = sliced_w2(data.sample(n, generator=torch.Generator().manual_seed(98)), truth)
    ode_ref = ref(lam_end)
    lines = [
        f"Data: the d=2 mixture; `MeanRevertingProcess()` (sigma_inf = 50/255, cosine theta), y = (0.8, -0.4); "
        f"{n} samples. ODE error: RMSE against the PF-ODE reference from the same x_T. Distribution error: sliced W2 "
        f"to {n} fresh data samples (floor between two data sets: {floor:.3f}).",
        "",
        "| sampler | NFE | ODE error | sliced W2 |",
        "|---|---:|---:|---:|",
    ]
    for cfg in MR_CONFIGS:
        if cfg.method not in METHODS:
            continue
        for nfe in (5, 10, 20):
            try:
                opts = {k: (problem.stats if v is STATS else v) for k, v in cfg.options.items()}
                res = sample(
                    problem.denoiser,
                    process,
                    x_T,
                    y,
                    steps=nfe,
                    method=cfg.method,
                    dtype=torch.float64,
                    generator=torch.Generator().manual_seed(5),
                    **opts,
                )
            except Exception as e:
                log(f"  MR {cfg.label} NFE {nfe}: {type(e).__name__}: {e}")
                continue
            ode = "-" if cfg.options.get("solver") == "sde" else f"{rmse(res.x, ode_ref):.2e}"
            lines.append(f"| {cfg.label} | {res.nfe} | {ode} | {sliced_w2(res.x, truth):.3f} |")
    for steps in (100, 1000):
        if "euler-maruyama" in METHODS:
            x = sample(
                problem.denoiser,
                process,
                x_T,
                y,
                steps=steps,
                method="euler-maruyama",
                schedule="uniform",
                dtype=torch.float64,
                generator=torch.Generator().manual_seed(5),
            ).x
            label = "Euler-Maruyama (`euler-maruyama`, uniform t)"
        else:
            x = euler_maruyama_reference(problem, steps, seed=5)
            label = "Euler-Maruyama (benchmark's own, uniform t)"
        lines.append(f"| {label} | {steps} | - | {sliced_w2(x, truth):.3f} |")
    return [*lines, ""]


# -- main -----------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="~1 minute: d=2 only, NFE 5/10/20, fewer samples")
    parser.add_argument("--out", type=Path, default=None, help="markdown output (full run: docs/benchmarks/solvers.md)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "condiff" / "benchmarks")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)  # more threads only add contention for these small tensors
    out = args.out or (None if args.quick else Path(__file__).resolve().parents[1] / "docs/benchmarks/solvers.md")
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    nfes = (5, 10, 20) if args.quick else NFES
    specs = [(2, False), (2, True)] if args.quick else [(2, False), (2, True), (64, False), (64, True)]
    sizes = {2: 128 if args.quick else 512, 64: 128}
    lines = [
        "# Solver benchmark: condiff vs diffusers on exact Gaussian-mixture models",
        "",
        f"`python benchmarks/solvers.py{' --quick' if args.quick else ''}`; torch {torch.__version__}, "
        f"{platform.machine()}, {torch.get_num_threads()} threads. Generated file: rerun to refresh.",
        "",
        "Error: RMSE of the final samples against a DOP853 (rtol 1e-10) solution of the same probability-flow ODE "
        "from the same x_T at t = T, evaluated where each solver stops. Every condiff method runs on every condiff "
        "grid; diffusers' schedulers on spacings linspace/leading/trailing, Karras sigmas and (DPM-Solver) "
        "`use_lu_lambdas`, with their default end (sigma = 0) and `sigma_min` end. "
        "'beats' compares with diffusers' best configuration at that NFE. DPM-Solver-v3's statistics are computed "
        "once per model (cached), a cost not in the NFE.",
        "",
        "## Accuracy",
        "",
    ]
    for dim, discrete in specs:
        problem = make_problem(dim, discrete, sizes[dim])
        log(f"problem {problem.name}: reference done")
        if "dpm-solver-v3" in METHODS:
            problem.stats = ems_for(problem, args.cache_dir, 128 if args.quick else 256, 60 if args.quick else 100, log)
        lines += accuracy_section(problem, nfes, args.quick, log)
    lines += ["## Solver overhead per step (zero-cost model, 20 steps, median)", ""]
    lines += overhead_section(args.quick, log)
    log("overhead done")
    lines += ["## Mean-reverting process: MR Sampler vs Euler-Maruyama", ""]
    lines += mr_section(1024 if args.quick else 4096, args.cache_dir, args.quick, log)
    total = time.perf_counter() - start
    lines += [f"Total runtime: {total / 60:.1f} min.", ""]
    text = "\n".join(lines)
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        log(f"wrote {out}")


if __name__ == "__main__":
    main()
