"""Speech networks: NCSN++ and DCUNet for complex spectrograms, and the EDM preconditioning."""

from condiff.speech.networks.dcunet import DCUNet
from condiff.speech.networks.ncsnpp import NCSNpp
from condiff.speech.networks.preconditioning import SpeechEDMPreconditioner

__all__ = ["DCUNet", "NCSNpp", "SpeechEDMPreconditioner"]
