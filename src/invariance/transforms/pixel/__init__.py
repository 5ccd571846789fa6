"""Pixel-level transforms: they change values only; masks, boxes and keypoints pass through."""

from invariance.transforms.pixel.blur import GaussianBlur
from invariance.transforms.pixel.color import RandomBrightnessContrast, ToGray
from invariance.transforms.pixel.normalize import Normalize

__all__ = ["GaussianBlur", "Normalize", "RandomBrightnessContrast", "ToGray"]
