"""Automated augmentation policies (RandAugment, TrivialAugmentWide, AutoAugment, AugMix)."""

from invariance.transforms.auto.policies import AugMix, AutoAugment, RandAugment, TrivialAugmentWide

__all__ = ["AugMix", "AutoAugment", "RandAugment", "TrivialAugmentWide"]
