"""GeoTDM's equivariant temporal network: per-frame EGCL message passing and temporal attention by broadcasting."""

from condiff.molecules.geotdm.network.graph import dense_to_graph, fully_connected_edges
from condiff.molecules.geotdm.network.model import GeoTDMNetwork
from condiff.molecules.geotdm.network.spatial import EquivariantSpatialLayer
from condiff.molecules.geotdm.network.temporal import EquivariantTemporalAttention

__all__ = [
    "EquivariantSpatialLayer",
    "EquivariantTemporalAttention",
    "GeoTDMNetwork",
    "dense_to_graph",
    "fully_connected_edges",
]
