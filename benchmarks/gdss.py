"""GDSS samplers against NFE on one trained model per data set: graph MMDs, molecule validity, wall time per graph.

    python benchmarks/gdss.py            # full run (~15 min on 2 busy cores), writes the table into docs/molecules.md
    python benchmarks/gdss.py --quick    # ~1 min smoke version, printed only

One small GDSS model is trained on community_small (X and A on the same VP SDE, so the fast ODE
solvers run on the packed state) and one on the built-in QM9-like set (GDSS's VE/VE system). Each
sampler then draws graphs of the training-set sizes with 3 seeds at several NFE; the table gives
mean ± std over the seeds and the sampling wall time per graph (1 CPU thread).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import replace_block

from condiff.core.processes import VEProcess, VPProcess
from condiff.molecules.chem.convert import graphs_to_molecules
from condiff.molecules.chem.fcd import frechet_chemnet_distance
from condiff.molecules.chem.metrics import molecule_metrics
from condiff.molecules.gdss import (
    GraphDataModule,
    GraphDiffusionModule,
    GraphMMDEvaluator,
    MoleculeDataModule,
    gdss_network,
    graph_process,
    mean_std,
)

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "molecules.md"
START, END = "<!-- gdss-benchmark:start -->", "<!-- gdss-benchmark:end -->"
NET_A = {"hidden": 16, "attn_dim": 16, "num_layers": 3, "num_linears": 2, "c_init": 2, "c_hid": 4, "c_final": 2}

# (name, method, options, NFE per step)
GRAPH_SAMPLERS: list[tuple[str, str, dict[str, Any], int]] = [
    (
        "PC (Euler + Langevin)",
        "pc",
        {"predictor": "euler-maruyama", "corrector": "langevin", "snr": 0.05, "scale_eps": 0.7},
        2,
    ),
    (
        "PC (reverse + Langevin)",
        "pc",
        {"predictor": "reverse-diffusion", "corrector": "langevin", "snr": 0.05, "scale_eps": 0.7},
        2,
    ),
    ("S4", "s4", {"corrector": "langevin", "snr": 0.05, "scale_eps": 0.7}, 1),
    ("Euler-Maruyama", "euler-maruyama", {}, 1),
    ("DPM-Solver++ (2M)", "dpm-solver++", {}, 1),
    ("UniPC (bh2)", "unipc", {}, 1),
]
MOL_SAMPLERS = [
    (
        "PC (reverse + Langevin)",
        "pc",
        {"predictor": "reverse-diffusion", "corrector": "langevin", "snr": 0.2, "scale_eps": 0.7},
        2,
    ),
    ("S4", "s4", {"corrector": "langevin", "snr": 0.2, "scale_eps": 0.7}, 1),
    ("Euler-Maruyama", "euler-maruyama", {}, 1),
]


def train(module: GraphDiffusionModule, dm: L.LightningDataModule, steps: int) -> float:
    t = time.perf_counter()
    L.Trainer(
        max_steps=steps,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        limit_val_batches=0,
        enable_model_summary=False,
        gradient_clip_val=1.0,
    ).fit(module, datamodule=dm)
    return time.perf_counter() - t


def graph_model(steps: int) -> tuple[GraphDiffusionModule, GraphDataModule, float]:
    dm = GraphDataModule("community_small", max_nodes=20, num_features=10, batch_size=32, seed=0)
    vp = {"beta_min": 0.1, "beta_max": 1.0, "t_min": 1e-5}
    torch.manual_seed(0)
    module = GraphDiffusionModule(
        gdss_network(10, {"depth": 2, "hidden": 16}, NET_A),
        graph_process(VPProcess(**vp), VPProcess(**vp)),
        "eps",
        lr=1e-2,
        warmup_steps=10,
        ema_decay=0.99,
        min_lr_ratio=0.1,
    )
    return module, dm, train(module, dm, steps)


def molecule_model(steps: int) -> tuple[GraphDiffusionModule, MoleculeDataModule, float]:
    dm = MoleculeDataModule(batch_size=64, seed=0)
    torch.manual_seed(0)
    module = GraphDiffusionModule(
        gdss_network(4, {"depth": 2, "hidden": 16}, {**NET_A, "num_linears": 3}),
        graph_process(VEProcess(0.1, 1.0, t_min=1e-5), VEProcess(0.1, 1.0, t_min=1e-5)),
        "eps",
        lr=5e-3,
        warmup_steps=10,
        ema_decay=0.99,
        min_lr_ratio=0.1,
    )
    return module, dm, train(module, dm, steps)


def run_graphs(
    module: GraphDiffusionModule, dm: GraphDataModule, nfes: list[int], seeds: int, n: int
) -> list[dict[str, Any]]:
    ev = GraphMMDEvaluator(dm, ("degree", "clustering", "orbit", "spectral"))
    rows = []
    for name, method, opts, per_step in GRAPH_SAMPLERS:
        for nfe in nfes:
            runs, wall = [], []
            for seed in range(seeds):
                flags = dm.sample_flags(n, seed=100 + seed)
                t = time.perf_counter()
                res = module.sample_graphs(
                    flags, dm.num_features, seed=seed, method=method, steps=max(1, nfe // per_step), **opts
                )
                wall.append((time.perf_counter() - t) / n)
                runs.append(ev(res, {}))
            rows.append({"sampler": name, "nfe": res.nfe, **mean_std(runs), "ms_per_graph": 1e3 * float(np.mean(wall))})
            print(rows[-1], flush=True)
    return rows


def run_molecules(
    module: GraphDiffusionModule, dm: MoleculeDataModule, nfes: list[int], seeds: int, n: int
) -> list[dict[str, Any]]:
    rows = []
    for name, method, opts, per_step in MOL_SAMPLERS:
        for nfe in nfes:
            runs, wall = [], []
            for seed in range(seeds):
                flags = dm.sample_flags(n, seed=100 + seed)
                t = time.perf_counter()
                res = module.sample_graphs(
                    flags,
                    dm.num_features,
                    seed=seed,
                    method=method,
                    steps=max(1, nfe // per_step),
                    denoise_final=True,
                    **opts,
                )
                wall.append((time.perf_counter() - t) / n)
                mols, raw = graphs_to_molecules(res.x, res.adj, res.flags, dm.atoms)
                runs.append(molecule_metrics(mols, raw, dm.train_smiles, dm.test_smiles))
            rows.append({"sampler": name, "nfe": res.nfe, **mean_std(runs), "ms_per_graph": 1e3 * float(np.mean(wall))})
            print(rows[-1], flush=True)
    return rows


def _pm(v: tuple[float, float], scale: float = 1.0, digits: int = 3) -> str:
    return f"{v[0] * scale:.{digits}f} ± {v[1] * scale:.{digits}f}"


def markdown(graph_rows: list[dict[str, Any]], mol_rows: list[dict[str, Any]], info: dict[str, Any]) -> str:
    lines = [
        f"Measured by `python benchmarks/gdss.py` ({info['date']}, {info['machine']}, 1 torch thread; "
        f"{info['seeds']} seeds, mean ± std). Models: community_small {info['graph_steps']} steps "
        f"({info['graph_train_s']:.0f} s), QM9-like {info['mol_steps']} steps ({info['mol_train_s']:.0f} s); "
        "tiny networks (ScoreNetworkX depth 2 / 16, ScoreNetworkA 3 layers / 16).",
        "",
        f"**community_small** ({info['graphs']} graphs per seed vs the {info['test_graphs']} test graphs; "
        "squared MMD, lower is better)",
        "",
        "| sampler | NFE | degree | clustering | orbit | spectral | ms / graph |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in graph_rows:
        lines.append(
            f"| {r['sampler']} | {r['nfe']} | {_pm(r['degree'])} | {_pm(r['clustering'])} | {_pm(r['orbit'])} | "
            f"{_pm(r['spectral'])} | {r['ms_per_graph']:.1f} |"
        )
    lines += [
        "",
        f"**QM9-like built-in set** ({info['molecules']} molecules per seed; validity w/o correction = "
        "raw valid / all generated; NSPDK MMD and FCD vs the held-out molecules; FCD of the training "
        f"molecules vs the held-out ones, the floor at this set size: {info['fcd_train_test']:.2f})",
        "",
        "| sampler | NFE | validity w/o corr. (%) | validity (%) | uniqueness (%) | novelty (%) | NSPDK MMD "
        "| FCD | ms / graph |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in mol_rows:
        lines.append(
            f"| {r['sampler']} | {r['nfe']} | {_pm(r['validity_wo_correction'], 100, 1)} | "
            f"{_pm(r['validity'], 100, 1)} | "
            f"{_pm(r['uniqueness'], 100, 1)} | {_pm(r['novelty'], 100, 1)} | {_pm(r['nspdk_mmd'])} | "
            f"{_pm(r['fcd'], digits=2) if 'fcd' in r else '—'} | {r['ms_per_graph']:.1f} |"
        )
    return "\n".join(lines)


def write_doc(table: str, doc: Path = DOC) -> None:
    replace_block(doc, START, END, table)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny smoke run, printed only")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    quick = args.quick
    graph_steps, mol_steps = (40, 40) if quick else (1000, 800)
    nfes = [10, 20] if quick else [10, 20, 50, 100, 200]
    seeds, n_graphs, n_mols = (1, 8, 16) if quick else (3, 64, 200)
    gmod, gdm, gt = graph_model(graph_steps)
    grows = run_graphs(gmod, gdm, nfes, seeds, n_graphs)
    mmod, mdm, mt = molecule_model(mol_steps)
    mrows = run_molecules(mmod, mdm, nfes, seeds, n_mols)
    info = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "seeds": seeds,
        "graph_steps": graph_steps,
        "mol_steps": mol_steps,
        "graph_train_s": gt,
        "mol_train_s": mt,
        "graphs": n_graphs,
        "test_graphs": len(gdm.test_graphs),
        "molecules": n_mols,
        "fcd_train_test": frechet_chemnet_distance(mdm.train_smiles, mdm.test_smiles),
    }
    table = markdown(grows, mrows, info)
    print(table)
    if not quick:
        write_doc(table)


if __name__ == "__main__":
    main()
