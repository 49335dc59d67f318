"""FCD with the ChemNet weights of the fcd wheel: equal to the fcd package's own pipeline, zero on equal sets,
and larger for molecules unlike the reference."""

from __future__ import annotations

import warnings

import pytest

from condiff.molecules.chem.datasets import builtin_qm9
from condiff.molecules.chem.fcd import chemnet_activations, frechet_chemnet_distance


def test_equals_the_fcd_package_pipeline() -> None:
    import fcd

    s = builtin_qm9().smiles
    gen, ref = s[:60], s[200:300]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fcd's own np.row_stack / temporary-file warnings
        expected = fcd.get_fcd(gen, ref, device="cpu")
    assert frechet_chemnet_distance(gen, ref, canonicalize=False) == pytest.approx(expected, rel=1e-4)


def test_zero_on_equal_sets_and_ordered_by_similarity() -> None:
    s = builtin_qm9().smiles
    train, test = s[:200], s[200:]
    # the same molecules as other SMILES strings: canonicalisation makes them equal
    assert frechet_chemnet_distance(train, train) == pytest.approx(0.0, abs=1e-3)
    same_family = frechet_chemnet_distance(train, test)
    unlike = ["C" * (k % 9 + 1) for k in range(60)] + ["O=C=O", "N#N", "FC(F)(F)F"]
    assert same_family < 0.5 * frechet_chemnet_distance(unlike, test)  # measured 3.4 vs 40+


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="need >= 2 valid molecules"):
        frechet_chemnet_distance(["CCO", "not a smiles"], ["CCO", "CCN"])
    with pytest.raises(ValueError, match="longer than 349"):
        chemnet_activations(["C" * 400])
    with pytest.raises(FileNotFoundError, match=r"nope\.pt"):
        frechet_chemnet_distance(["CCO", "CCN"], ["CCO", "CCN"], weights="nope.pt")
