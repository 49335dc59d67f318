"""``condiff-sample`` for GDSS: draw graphs, write GraphML files or a SMILES file plus ``samples.safetensors``.

The safetensors file holds the packed continuous samples ``[X | A]`` and ``cond.flags`` so that
``condiff-evaluate`` scores them with the task's evaluator; the GraphML / SMILES files are what users read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import torch

from condiff.core.checkpoint import atomic_write_bytes
from condiff.core.cli.sample import SAMPLES_FILE, write_samples
from condiff.molecules.chem.convert import canonical_smiles, graphs_to_molecules
from condiff.molecules.gdss.process import pack
from condiff.molecules.gdss.sampling import GraphSamples, sample_graphs
from condiff.molecules.graphs.tensors import quantize_adjacency, tensors_to_graphs


class GraphSampleWriter:
    """Writer for ``task.sample_writer``: ``kind="graphs"`` (GraphML files) or ``"molecules"`` (a SMILES file)."""

    def __init__(self, kind: str = "graphs", threshold: float = 0.5) -> None:
        if kind not in ("graphs", "molecules"):
            raise ValueError(f"GraphSampleWriter: kind must be 'graphs' or 'molecules', got {kind!r}")
        self.kind, self.threshold = kind, float(threshold)

    def __call__(
        self,
        *,
        network: torch.nn.Module,
        process: Any,
        parameterization: str,
        datamodule: Any,
        options: dict[str, Any],
        num_samples: int,
        batch_size: int,
        generator: torch.Generator,
        out_dir: Path,
        export_dir: Path,
    ) -> dict[str, Any]:
        opts = {k: v for k, v in options.items() if k != "guidance"}
        seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
        flags = datamodule.sample_flags(num_samples, seed=seed)
        parts: list[GraphSamples] = []
        with torch.no_grad():
            for i in range(0, num_samples, batch_size):
                parts.append(
                    sample_graphs(
                        network,
                        process,
                        flags[i : i + batch_size],
                        datamodule.num_features,
                        parameterization=parameterization,
                        generator=generator,
                        **opts,
                    )
                )
        res = GraphSamples(
            x=torch.cat([p.x for p in parts]),
            adj=torch.cat([p.adj for p in parts]),
            flags=torch.cat([p.flags for p in parts]),
            nfe=parts[-1].nfe,
        )
        write_samples(out_dir, {"samples": pack(res.x, res.adj), "cond.flags": res.flags}, export_dir, res.nfe, opts)
        if self.kind == "graphs":
            written = write_graphml(
                tensors_to_graphs(quantize_adjacency(res.adj, self.threshold), res.flags), out_dir / "graphs"
            )
            print(f"graphs:          {written}  ({num_samples} GraphML files)", flush=True)
        else:
            mols, raw = graphs_to_molecules(res.x, res.adj, res.flags, datamodule.atoms)
            lines = [canonical_smiles(m) for m in mols if m is not None]
            written = out_dir / "samples.smi"
            atomic_write_bytes(("\n".join(lines) + "\n").encode(), written)
            print(
                f"molecules:       {written}  ({len(lines)} valid of {num_samples}; "
                f"{sum(raw)} valid without correction)",
                flush=True,
            )
        print(f"samples:         {out_dir / SAMPLES_FILE}  ({num_samples} samples, {res.nfe} NFE each)", flush=True)
        return {"samples_path": out_dir / SAMPLES_FILE, "samples": res, "nfe": res.nfe, "written": written}


def write_graphml(graphs: list[nx.Graph], folder: Path) -> Path:
    """One ``graph_<i>.graphml`` per graph in ``folder`` (networkx GraphML: no pickles)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, g in enumerate(graphs):
        nx.write_graphml(g, folder / f"graph_{i:05d}.graphml")
    return folder
