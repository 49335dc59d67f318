"""Inference-time scaling: mean reward against NFE budget for best-of-N, SMC, beam search and RBF.

    python benchmarks/scaling.py            # full run (~2 min on 2 cores), writes its section of docs/inference.md
    python benchmarks/scaling.py --quick    # seconds: fewer outputs and budgets, printed (and written with --out)

The model is the exact denoiser of a 2-D Gaussian mixture (modes at (-2, 0), (2, 0), (0, 2.5) with
weights 0.6, 0.3, 0.1, covariance 0.3 I), as a VP (cosine) model and as a flow (cond-OT) model;
the reward is the negative squared distance to the rarest mode, r(x) = -||x - (0, 2.5)||^2.
Every method uses 10 sampling steps and spends at most the budget per output (RBF may stop below it);
the "plain" row is UniPC at NFE = budget (one sample, no search), whose mean reward is E_p[r].
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import replace_block

from condiff.core.analytic import AnalyticDenoiser, GaussianMixture
from condiff.core.processes import CondOTProcess, GaussianProcess, VPProcess
from condiff.core.sampling import sample
from condiff.core.search import SearchResult, beam_search, best_of_n, rollover_budget_forcing, smc

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "inference.md"
BEGIN, END = "<!-- BEGIN benchmarks/scaling.py -->", "<!-- END benchmarks/scaling.py -->"
STEPS = 10
MEANS = torch.tensor([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]], dtype=torch.float64)
MIXTURE = GaussianMixture(MEANS, torch.stack([0.3 * torch.eye(2)] * 3).double(), torch.tensor([0.6, 0.3, 0.1]))
TARGET = torch.tensor([0.0, 2.5], dtype=torch.float64)


def reward(x: torch.Tensor) -> torch.Tensor:
    """Negative squared distance to the rarest mode."""
    return -(x - TARGET.to(x.dtype)).square().sum(-1)


def methods(outputs: int) -> dict[str, Callable[[object, GaussianProcess, int, int], SearchResult]]:
    shape = (outputs, 2)

    def gen(seed: int) -> torch.Generator:
        return torch.Generator().manual_seed(seed)

    common = {"steps": STEPS, "dtype": torch.float64}
    return {
        "best-of-N": lambda den, p, k, s: best_of_n(den, p, reward, shape, k, generator=gen(s), **common),
        "SMC": lambda den, p, k, s: smc(den, p, reward, shape, k, generator=gen(s), **common),
        "beam (k/2 beams x 2)": lambda den, p, k, s: beam_search(
            den, p, reward, shape, max(k // 2, 1), 2 if k > 1 else 1, generator=gen(s), **common
        ),
        "RBF": lambda den, p, k, s: rollover_budget_forcing(
            den, p, reward, shape, k * STEPS, generator=gen(s), **common
        ),
    }


def run(quick: bool, log: Callable[[str], None]) -> list[str]:
    outputs = 16 if quick else 128
    ks = (1, 2) if quick else (1, 2, 4, 8)
    lines = [
        f"Mean reward over {outputs} outputs (higher is better; 0 is the rare mode's centre); "
        f"{STEPS} steps, budget = k x {STEPS} NFE per output; in brackets the NFE actually spent.",
        "",
    ]
    for name, process in (("VP (cosine)", VPProcess("cosine")), ("flow (cond-OT)", CondOTProcess())):
        den = AnalyticDenoiser(MIXTURE, process).x0_eps
        lines += [f"### {name}", "", "| method | " + " | ".join(f"{k * STEPS} NFE" for k in ks) + " |",
                  "|---|" + "---|" * len(ks)]  # fmt: skip
        row = []
        for k in ks:
            x = sample(den, process, shape=(outputs, 2), steps=k * STEPS, method="unipc", dtype=torch.float64,
                       generator=torch.Generator().manual_seed(0)).x  # fmt: skip
            row.append(f"{float(reward(x).mean()):.2f}")
        lines.append("| plain UniPC | " + " | ".join(row) + " |")
        for label, fn in methods(outputs).items():
            row = []
            for k in ks:
                res = fn(den, process, k, 1)
                row.append(f"{float(res.reward.mean()):.2f} ({res.nfe:.0f})")
            lines.append(f"| {label} | " + " | ".join(row) + " |")
            log(f"{name} {label} done")
        lines.append("")
    return lines


def write_section(path: Path, begin: str, end: str, body: list[str]) -> None:
    """Replace the text between ``begin`` and ``end`` in ``path`` (append the block if missing)."""
    replace_block(path, begin, end, "\n".join(body), append=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="seconds: 16 outputs, budgets 10 and 20")
    parser.add_argument("--out", type=Path, default=None, help="markdown file whose scaling section is rewritten")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    body = [
        f"`python benchmarks/scaling.py{' --quick' if args.quick else ''}`; torch {torch.__version__}, "
        f"{platform.machine()}, {torch.get_num_threads()} thread(s). Generated: rerun to refresh.",
        "",
        *run(args.quick, log),
    ]
    out = args.out or (None if args.quick else DOC)
    if out is None:
        print("\n".join(body))
    else:
        write_section(out, BEGIN, END, body)
        log(f"wrote {out}")


if __name__ == "__main__":
    main()
