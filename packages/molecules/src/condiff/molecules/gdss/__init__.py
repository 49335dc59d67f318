"""GDSS: score-based generation of graphs and molecules with a system of SDEs (Jo, Lee & Hwang, ICML 2022)."""

from condiff.molecules.gdss.data import GraphDataModule, MoleculeDataModule
from condiff.molecules.gdss.evaluate import GraphMMDEvaluator, MoleculeEvaluator, mean_std
from condiff.molecules.gdss.loss import GraphScoreMatchingLoss
from condiff.molecules.gdss.module import GraphDiffusionModule
from condiff.molecules.gdss.networks import GDSSNetwork, ScoreNetworkA, ScoreNetworkX, gdss_network
from condiff.molecules.gdss.process import graph_process, masked_process
from condiff.molecules.gdss.sampling import GraphDenoiser, GraphSamples, sample_graphs

__all__ = [
    "GDSSNetwork",
    "GraphDataModule",
    "GraphDenoiser",
    "GraphDiffusionModule",
    "GraphMMDEvaluator",
    "GraphSamples",
    "GraphScoreMatchingLoss",
    "MoleculeDataModule",
    "MoleculeEvaluator",
    "ScoreNetworkA",
    "ScoreNetworkX",
    "gdss_network",
    "graph_process",
    "masked_process",
    "mean_std",
    "sample_graphs",
]
