"""``condiff-sample`` for GeoTDM: ``K`` trajectories per held-out system, the conditions, ground truth and errors.

:class:`TrajectorySampleWriter` is the task's ``task.sample_writer``. For the first ``num_samples`` systems of a
held-out split (``num_samples`` of ``condiff-sample`` counts conditions, ``batch_size`` of them are sampled at
once) it draws ``samples_per_system`` samples with the configured core solver and writes into ``out_dir``:

- ``samples.safetensors``: ``samples (K, M, T, 3)`` and the conditions ``cond.target`` (the ground truth, whose
  given frames are the condition), ``cond.batch``, ``cond.given``, ``cond.prior_mean`` (conditional models) and
  the graph (``cond.node_attr``, ``cond.edge_index``, ``cond.edge_attr``); ``condiff-evaluate`` scores it with
  :class:`~condiff.molecules.geotdm.evaluator.TrajectoryEvaluator`;
- conditional models: ``per_system.csv`` (``system, nodes, minADE_K, minFDE_K``) and ``summary.json`` (their means,
  NFE, sampler); unconditional models: ``summary.json`` with the marginal score against the held-out systems.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from condiff.core.checkpoint import atomic_write_bytes
from condiff.core.cli.sample import SAMPLES_FILE, write_samples
from condiff.core.errors import ConfigError
from condiff.molecules.geotdm.evaluator import TrajectoryEvaluator, node_counts, per_system_errors
from condiff.molecules.geotdm.model import GeoTDMModel
from condiff.molecules.geotdm.network._pyg import Batch
from condiff.molecules.geotdm.sampling import sample_trajectories
from condiff.molecules.geotdm.systems import Systems, systems_from_batch

PER_SYSTEM_FILE = "per_system.csv"
SUMMARY_FILE = "summary.json"


class TrajectorySampleWriter:
    """Writer for ``task.sample_writer`` (see the module doc).

    Args:
        samples_per_system: ``K`` (GeoTDM's minADE_K / minFDE_K use ``K = 5``).
        split: the held-out split whose systems are the conditions (``test`` or ``val``).
    """

    def __init__(self, samples_per_system: int = 5, split: str = "test") -> None:
        if samples_per_system < 1:
            raise ConfigError(
                f"config key 'task.sample_writer.samples_per_system' must be >= 1, got {samples_per_system}"
            )
        if split not in ("train", "val", "test"):
            raise ConfigError(f"config key 'task.sample_writer.split' must be train, val or test, got {split!r}")
        self.k, self.split = int(samples_per_system), split

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
        if not isinstance(network, GeoTDMModel):
            raise ConfigError(f"task.sample_writer: task.network must be a GeoTDMModel, got {type(network).__name__}")
        data = getattr(datamodule, "splits", {}).get(self.split)
        if data is None:
            raise ConfigError(f"task.sample_writer: task.datamodule has no {self.split!r} split of systems")
        opts = {k: v for k, v in options.items() if k != "guidance"}
        n = min(num_samples, len(data))
        device = next(network.parameters()).device
        parts: list[tuple[Systems, Tensor, Tensor | None]] = []
        nfe = 0
        with torch.no_grad():
            for start in range(0, n, batch_size):
                graphs = [data[i] for i in range(start, min(start + batch_size, n))]
                systems = systems_from_batch(Batch.from_data_list(graphs)).to(device)
                res = sample_trajectories(
                    network,
                    process,
                    systems,
                    num_samples=self.k,
                    parameterization=parameterization,
                    generator=generator,
                    **opts,
                )
                parts.append((systems.to("cpu"), res.x.cpu(), None if res.mu is None else res.mu.cpu()))
                nfe = res.nfe
        systems, samples, mu = join(parts)
        given = network.given.cpu()
        tensors = {"samples": samples, "cond.target": systems.x, "cond.batch": systems.batch, "cond.given": given}
        if mu is not None:
            tensors["cond.prior_mean"] = mu
        for key in ("node_attr", "edge_index", "edge_attr"):
            value = getattr(systems, key)
            if value is not None:
                tensors[f"cond.{key}"] = value
        extra = {"samples_per_system": str(self.k), "split": self.split}
        write_samples(out_dir, tensors, export_dir, nfe, opts, extra)
        summary: dict[str, Any] = {"systems": n, "samples_per_system": self.k, "nfe": nfe, "sampler": opts}
        if bool(given.any()):
            ade, fde = per_system_errors(samples, systems.x, systems.batch, given)
            atomic_write_bytes(per_system_csv(ade, fde, node_counts(systems.batch), self.k), out_dir / PER_SYSTEM_FILE)
            summary[f"minADE_{self.k}"], summary[f"minFDE_{self.k}"] = float(ade.mean()), float(fde.mean())
            print(f"per system:      {out_dir / PER_SYSTEM_FILE}", flush=True)
        else:
            cond = {k.removeprefix("cond."): v for k, v in tensors.items() if k.startswith("cond.")}
            summary.update(TrajectoryEvaluator(scores=("marginal",))(samples, cond))
        atomic_write_bytes(json.dumps(summary, indent=2).encode(), out_dir / SUMMARY_FILE)
        print(f"samples:         {out_dir / SAMPLES_FILE}  ({n} systems x {self.k} samples, {nfe} NFE)", flush=True)
        print(f"summary:         {out_dir / SUMMARY_FILE}  {summary}", flush=True)
        return {"samples_path": out_dir / SAMPLES_FILE, "samples": samples, "nfe": nfe, "summary": summary}


def join(parts: list[tuple[Systems, Tensor, Tensor | None]]) -> tuple[Systems, Tensor, Tensor | None]:
    """One :class:`Systems` (system and node indices offset), samples ``(K, M, T, 3)`` and prior means of parts."""
    xs, batches, attrs, edges, edge_attrs, samples, mus = [], [], [], [], [], [], []
    systems_so_far = nodes_so_far = 0
    for sys, x, mu in parts:
        xs.append(sys.x)
        batches.append(sys.batch + systems_so_far)
        attrs.append(sys.node_attr)
        edge_index = sys.edge_index
        edges.append(None if edge_index is None else edge_index + nodes_so_far)
        edge_attrs.append(sys.edge_attr)
        samples.append(x)
        mus.append(mu)
        systems_so_far += sys.num_systems
        nodes_so_far += sys.x.shape[0]

    def cat(values: list[Tensor | None], dim: int = 0) -> Tensor | None:
        return None if any(v is None for v in values) else torch.cat(values, dim=dim)  # type: ignore[arg-type]

    joined = Systems(torch.cat(xs), torch.cat(batches), cat(attrs), cat(edges, dim=1), cat(edge_attrs))
    return joined, torch.cat(samples, dim=1), cat(mus)


def per_system_csv(ade: Tensor, fde: Tensor, nodes: Tensor, k: int) -> bytes:
    """``system,nodes,minADE_K,minFDE_K`` rows, one per system."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["system", "nodes", f"minADE_{k}", f"minFDE_{k}"])
    for i, (a, f, m) in enumerate(zip(ade.tolist(), fde.tolist(), nodes.tolist(), strict=True)):
        w.writerow([i, m, f"{a:.6f}", f"{f:.6f}"])
    return buf.getvalue().encode()
