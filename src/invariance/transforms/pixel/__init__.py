"""Pixel-level colour, tone, type and quality transforms: values change; masks, boxes and keypoints pass through."""

from invariance.transforms.pixel.color import RandomBrightnessContrast, ToGray
from invariance.transforms.pixel.normalize import Normalize

__all__ = ["Normalize", "RandomBrightnessContrast", "ToGray"]
