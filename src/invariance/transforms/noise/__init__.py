"""Noise transforms."""

from invariance.transforms.noise.additive import AdditiveNoise, GaussNoise, MultiplicativeNoise
from invariance.transforms.noise.sensor import ISONoise, SaltAndPepper, ShotNoise

__all__ = ["AdditiveNoise", "GaussNoise", "ISONoise", "MultiplicativeNoise", "SaltAndPepper", "ShotNoise"]
