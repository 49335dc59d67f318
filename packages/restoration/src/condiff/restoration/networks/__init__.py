"""Restoration backbones: two-head wrappers for RDDM and NAFNet."""

from condiff.restoration.networks.heads import SharedEncoderTwoHeads, TwoNetworks

__all__ = ["SharedEncoderTwoHeads", "TwoNetworks"]
