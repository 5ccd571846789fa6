"""Sequence-style transforms (frames and spectrograms)."""

from invariance.transforms.sequence.masking import FrequencyMasking, TimeMasking, TimeReverse
from invariance.transforms.sequence.temporal import UniformTemporalSubsample

__all__: list[str] = ["FrequencyMasking", "TimeMasking", "TimeReverse", "UniformTemporalSubsample"]
