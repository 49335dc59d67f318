"""GeoTDM: geometric trajectory diffusion models (Han et al., NeurIPS 2024).

``geotdm.nbody`` simulates the built-in N-body data and reads/writes its splits; ``geotdm.network`` holds the
equivariant temporal network. The package level adds the conditioning masks, the geometric priors, the
prior-shifted projected process, the training module, the data module, sampling with the core solvers and the
minADE/minFDE metrics, the evaluator and the ``condiff-sample`` writer (importing it pulls in torch-geometric).
"""

from condiff.molecules.geotdm.baselines import kinematic_baseline
from condiff.molecules.geotdm.data import (
    ETHUCYDataModule,
    MD17DataModule,
    NBodyDataModule,
    NBodySplit,
    TrajectoryDataModule,
    system_graph,
)
from condiff.molecules.geotdm.evaluator import TrajectoryEvaluator
from condiff.molecules.geotdm.masks import frame_mask, nearest_given
from condiff.molecules.geotdm.metrics import displacement_errors, min_ade_fde
from condiff.molecules.geotdm.model import GeoTDMModel
from condiff.molecules.geotdm.module import TrajectoryDiffusionModule, masked_regression
from condiff.molecules.geotdm.prior import GeometricPrior
from condiff.molecules.geotdm.process import (
    PriorShiftedProcess,
    TrajectoryProjection,
    keeps_given_frames,
    prior_shifted_process,
    trajectory_process,
)
from condiff.molecules.geotdm.sampling import TrajectoryDenoiser, TrajectorySamples, sample_trajectories
from condiff.molecules.geotdm.scores import classification_score, marginal_score, prediction_score
from condiff.molecules.geotdm.systems import Systems, systems_from_batch
from condiff.molecules.geotdm.writer import TrajectorySampleWriter

__all__ = [
    "ETHUCYDataModule",
    "GeoTDMModel",
    "GeometricPrior",
    "MD17DataModule",
    "NBodyDataModule",
    "NBodySplit",
    "PriorShiftedProcess",
    "Systems",
    "TrajectoryDataModule",
    "TrajectoryDenoiser",
    "TrajectoryDiffusionModule",
    "TrajectoryEvaluator",
    "TrajectoryProjection",
    "TrajectorySampleWriter",
    "TrajectorySamples",
    "classification_score",
    "displacement_errors",
    "frame_mask",
    "keeps_given_frames",
    "kinematic_baseline",
    "marginal_score",
    "masked_regression",
    "min_ade_fde",
    "nearest_given",
    "prediction_score",
    "prior_shifted_process",
    "sample_trajectories",
    "system_graph",
    "systems_from_batch",
    "trajectory_process",
]
