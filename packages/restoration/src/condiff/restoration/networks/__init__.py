"""Restoration backbones: NAFNet and the head wrappers of RDDM's objectives."""

from condiff.restoration.networks.heads import SharedEncoderTwoHeads, SplitHeads, TwoNetworks
from condiff.restoration.networks.nafnet import ConditionalNAFNet

__all__ = ["ConditionalNAFNet", "SharedEncoderTwoHeads", "SplitHeads", "TwoNetworks"]
