"""A trained WDNO model ready to simulate and control: network, process and codecs, from a run's export folder.

``condiff-train experiment=pde/wdno_burgers_sim`` writes ``<run>/export/{model.safetensors, config.yaml}``;
:meth:`WDNO.from_export` rebuilds the network and the process from them and the codecs from the datamodule
config (the codec scales are a deterministic function of the data config: the first block of training
trajectories, re-solved or read from ``data_dir``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from torch import Tensor, nn

from condiff.core.config import instantiate_node
from condiff.core.export import exported_process_constants, load_exported_config, load_exported_weights
from condiff.core.guidance.schedules import Schedule
from condiff.core.processes.base import GaussianProcess
from condiff.core.processes.constants import check_process_constants
from condiff.pde.control import ControlObjective, ControlResult, control
from condiff.pde.datamodule import BurgersDataModule
from condiff.pde.simulate import Simulation, refine, simulate


@dataclass
class WDNO:
    """A trained model and the datamodule (codecs, grid, physics) it was trained with."""

    network: nn.Module
    process: GaussianProcess
    parameterization: str
    datamodule: BurgersDataModule

    @classmethod
    def from_export(cls, export_dir: str | os.PathLike[str]) -> WDNO:
        """Rebuild from an export folder; raises :class:`condiff.core.errors.CheckpointError` naming the file."""
        cfg = load_exported_config(export_dir)
        network = load_exported_weights(instantiate_node(cfg, "task.network"), export_dir).eval()
        process = instantiate_node(cfg, "sde")
        constants = exported_process_constants(export_dir)
        if constants is not None:
            check_process_constants(constants, process, f"{export_dir}/model.safetensors")
        datamodule = instantiate_node(cfg, "task.datamodule")
        datamodule.setup()
        return cls(network, process, str(cfg.param.name), datamodule)

    def simulate(self, u0: Tensor, forcing: Tensor, **sampler: Any) -> Simulation:
        """:func:`condiff.pde.simulate.simulate` with this model (``u0: (B, N)``, ``forcing: (B, T - 1, N)``)."""
        dm = self.datamodule
        return simulate(
            self.network, self.process, self.parameterization, dm.codec, dm.cond_codec, u0, forcing, **sampler
        )

    def refine(self, u_coarse: Tensor, u0: Tensor, forcing: Tensor, **sampler: Any) -> Simulation:
        """:func:`condiff.pde.simulate.refine` with this (super-resolution) model: ``u_coarse`` on half the grid."""
        dm = self.datamodule
        if not dm.super_resolution:
            raise ValueError("WDNO.refine needs a super-resolution model (task.datamodule.super_resolution=true)")
        return refine(
            self.network, self.process, self.parameterization, dm.codec, dm.cond_codec, u_coarse, u0, forcing, **sampler
        )

    def control(self, u0: Tensor, objective: ControlObjective, weight: Schedule = 1.0, **sampler: Any) -> ControlResult:
        """:func:`condiff.pde.control.control` with this model; the target is a condition of a control model."""
        dm = self.datamodule
        return control(
            self.network, self.process, self.parameterization, dm.codec, dm.cond_codec, u0, objective,
            frames=dm.nt + 1, weight=weight, condition_on_target=dm.condition_on_final, solver=dm.solve, **sampler,
        )  # fmt: skip
