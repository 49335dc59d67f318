"""Speech data: paired folders and their validator, the built-in synthesized data, the data module."""

from condiff.speech.data.builtin import builtin_speech_root
from condiff.speech.data.datamodule import SpeechDataModule
from condiff.speech.data.paired import PairedSpeechDataset, validate_speech_pairs

__all__ = ["PairedSpeechDataset", "SpeechDataModule", "builtin_speech_root", "validate_speech_pairs"]
