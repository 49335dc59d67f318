"""Speech networks: NCSN++ for complex spectrograms and its EDM preconditioning."""

from condiff.speech.networks.ncsnpp import NCSNpp
from condiff.speech.networks.preconditioning import SpeechEDMPreconditioner

__all__ = ["NCSNpp", "SpeechEDMPreconditioner"]
