"""Fréchet ChemNet Distance (Preuer et al., 2018) with the ChemNet weights shipped inside the ``fcd`` wheel.

    FCD = ||mu_g - mu_r||^2 + Tr(S_g + S_r - 2 (S_g S_r)^(1/2))

over ChemNet's 512 penultimate activations of the generated and the reference SMILES. The network, its
weights (``ChemNet_v0.13_pretrained.pt`` in the wheel; nothing is downloaded), the SMILES one-hot encoding
(padded to 350 tokens, as the published scores) are the ``fcd`` package's; this module loads the weights
without a temporary file, batches the activations and takes the Fréchet distance of ``condiff.core.metrics``
(equal to ``fcd.get_fcd``, tested). GDSS reports FCD of the
valid generated molecules' canonical SMILES against the test set's canonical SMILES.
"""

from __future__ import annotations

import io
import pkgutil
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from fcd.utils import SmilesDataset, load_imported_model
from rdkit import Chem
from torch import nn

from condiff.core.metrics.frechet import frechet_distance_features
from condiff.molecules.chem.convert import canonical_smiles

CHEMNET_FILE = "ChemNet_v0.13_pretrained.pt"
PAD_LENGTH = 350


@lru_cache(maxsize=2)
def chemnet(weights: str | None = None) -> nn.Module:
    """ChemNet in eval mode: from the ``fcd`` wheel's weights, or from a ``weights`` file in the same format."""
    if weights is None:
        blob = pkgutil.get_data("fcd", CHEMNET_FILE)
        if blob is None:
            raise FileNotFoundError(f"the fcd package does not ship {CHEMNET_FILE}; reinstall fcd>=1.2")
        config = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
    else:
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: ChemNet weights file not found")
        config = torch.load(path, map_location="cpu", weights_only=True)
    model = load_imported_model(config)
    return model.eval()


def chemnet_activations(
    smiles: Sequence[str], batch_size: int = 256, weights: str | None = None, device: str | torch.device = "cpu"
) -> np.ndarray:
    """``[len(smiles), 512]`` ChemNet activations of SMILES strings (one-hot tokens padded to 350)."""
    if not smiles:
        raise ValueError("chemnet_activations: no SMILES")
    too_long = [s for s in smiles if len(s) + 1 > PAD_LENGTH]
    if too_long:
        raise ValueError(f"chemnet_activations: {len(too_long)} SMILES longer than {PAD_LENGTH - 1} characters")
    data = SmilesDataset(list(smiles), pad_len=PAD_LENGTH, warn=False)
    model = chemnet(weights).to(device)
    out = []
    with torch.no_grad():
        for start in range(0, len(data), batch_size):
            batch = np.stack([data[i] for i in range(start, min(start + batch_size, len(data)))])
            x = torch.as_tensor(batch, dtype=torch.float32, device=device).transpose(1, 2)
            out.append(model(x).float().cpu().numpy())
    return np.concatenate(out, axis=0)


def frechet_chemnet_distance(
    generated: Sequence[str], reference: Sequence[str], weights: str | None = None, canonicalize: bool = True
) -> float:
    """FCD between generated and reference SMILES; with ``canonicalize`` both are RDKit-canonical first.

    Unparseable SMILES are dropped before the activations (validity is reported separately); at least two
    molecules per side are needed for a covariance.
    """
    gen, ref = list(generated), list(reference)
    if canonicalize:
        gen, ref = _canonical(gen), _canonical(ref)
    if len(gen) < 2 or len(ref) < 2:
        raise ValueError(f"frechet_chemnet_distance: need >= 2 valid molecules per set, got {len(gen)} and {len(ref)}")
    return frechet_distance_features(
        chemnet_activations(gen, weights=weights), chemnet_activations(ref, weights=weights)
    )


def _canonical(smiles: Sequence[str]) -> list[str]:
    out = []
    for s in smiles:
        mol = Chem.MolFromSmiles(s)
        if mol is not None:
            out.append(canonical_smiles(mol))
    return out
