"""DRAKES: reward fine-tuning of masked discrete diffusion by backpropagation through relaxed sampling.

* :func:`drakes_loss`, :func:`transition_kl` (the objective, Alg. 1 of Wang et al. 2024);
* :class:`DrakesModule` (Lightning training with a frozen pretrained copy and separate fine-tuning /
  evaluation oracles).
"""

from condiff.molecules.drakes.finetune import DrakesLoss, drakes_loss, transition_kl
from condiff.molecules.drakes.module import DrakesModule, IterationDataset

__all__ = ["DrakesLoss", "DrakesModule", "IterationDataset", "drakes_loss", "transition_kl"]
