"""A batch of particle systems as one disjoint graph: trajectories, system index, node and edge attributes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor


@dataclass(frozen=True)
class Systems:
    """Node trajectories ``x: (M, T, 3)`` of the systems ``batch: (M,)`` (sorted) and their invariant attributes.

    ``node_attr: (M, F)`` (e.g. charges), ``edge_index: (2, E)`` (``source -> target``; ``None`` = fully connected
    inside each system), ``edge_attr: (E, F_e)`` (e.g. ``q_i q_j``). Given frames of ``x`` hold the condition;
    generated frames may hold anything (the ground truth in training, ignored in sampling).
    """

    x: Tensor
    batch: Tensor
    node_attr: Tensor | None = None
    edge_index: Tensor | None = None
    edge_attr: Tensor | None = None

    def __post_init__(self) -> None:
        if self.x.ndim != 3 or self.x.shape[-1] != 3:
            raise ValueError(f"Systems: x must be (M, T, 3), got {tuple(self.x.shape)}")
        if self.batch.shape != self.x.shape[:1]:
            raise ValueError(f"Systems: batch must be ({self.x.shape[0]},), got {tuple(self.batch.shape)}")

    @property
    def num_systems(self) -> int:
        return int(self.batch.max()) + 1 if self.batch.numel() else 0

    @property
    def graph(self) -> dict[str, Any]:
        """The keyword arguments of the network besides ``x``, ``t`` and ``batch``."""
        return {"node_attr": self.node_attr, "edge_index": self.edge_index, "edge_attr": self.edge_attr}

    def with_x(self, x: Tensor) -> Systems:
        return replace(self, x=x)

    def to(self, device: torch.device | str) -> Systems:
        def move(v: Tensor | None) -> Tensor | None:
            return None if v is None else v.to(device)

        return Systems(
            self.x.to(device),
            self.batch.to(device),
            *(move(v) for v in (self.node_attr, self.edge_index, self.edge_attr)),
        )

    def repeat(self, k: int) -> Systems:
        """``k`` copies of every system as one batch: copy ``j`` of system ``i`` is system ``j * B + i``."""
        if k < 1:
            raise ValueError(f"Systems.repeat: k must be >= 1, got {k}")
        m, b = self.x.shape[0], self.num_systems
        copies = torch.arange(k, device=self.batch.device)
        batch = (self.batch[None] + b * copies[:, None]).reshape(-1)
        edge_index = None
        if self.edge_index is not None:
            edge_index = (self.edge_index[:, None] + m * copies[None, :, None]).reshape(2, -1)

        def tile(v: Tensor | None) -> Tensor | None:
            return None if v is None else v.repeat(k, *([1] * (v.ndim - 1)))

        return Systems(tile(self.x), batch, tile(self.node_attr), edge_index, tile(self.edge_attr))  # type: ignore[arg-type]


def systems_from_batch(batch: Any) -> Systems:
    """:class:`Systems` of a torch-geometric batch with ``x0``, ``batch``, and optional ``h``, ``edge_index``,
    ``edge_attr`` (what :class:`~condiff.molecules.geotdm.data.NBodyDataModule` yields)."""
    get = batch.get if isinstance(batch, dict) else lambda k, d=None: getattr(batch, k, d)
    missing = [k for k in ("x0", "batch") if get(k) is None]
    if missing:
        raise ValueError(f"trajectory batch: missing {missing} (need x0 (M, T, 3) and batch (M,))")
    x0, index = get("x0"), get("batch")
    assert x0 is not None
    assert index is not None
    return Systems(x0, index, get("h"), get("edge_index"), get("edge_attr"))
