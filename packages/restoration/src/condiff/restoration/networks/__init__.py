"""Restoration backbones: NAFNet and the two-head wrappers of RDDM."""

from condiff.restoration.networks.heads import SharedEncoderTwoHeads, TwoNetworks
from condiff.restoration.networks.nafnet import ConditionalNAFNet

__all__ = ["ConditionalNAFNet", "SharedEncoderTwoHeads", "TwoNetworks"]
