"""torch-geometric, imported once for this subpackage.

torch-geometric 2.8 calls ``torch.jit.script`` at import time, which torch 2.14 deprecates with a
``FutureWarning`` that is not ours to fix; only that warning is silenced, only during the import.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.* is deprecated", category=FutureWarning)
    from torch_geometric.data import Batch, Data
    from torch_geometric.loader import DataLoader
    from torch_geometric.nn import MessagePassing
    from torch_geometric.utils import degree

__all__ = ["Batch", "Data", "DataLoader", "MessagePassing", "degree"]
