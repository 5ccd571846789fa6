"""Sequence-style transforms (frames and spectrograms)."""

from invariance.transforms.sequence.masking import FrequencyMasking, TimeMasking, TimeReverse

__all__: list[str] = ["FrequencyMasking", "TimeMasking", "TimeReverse"]
