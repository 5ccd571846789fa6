"""Blur and sharpening transforms."""

from invariance.transforms.blur.gaussian import GaussianBlur

__all__ = ["GaussianBlur"]
