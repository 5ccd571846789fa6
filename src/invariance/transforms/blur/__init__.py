"""Blur, sharpening and filter transforms."""

from invariance.transforms.blur.basic import AdvancedBlur, Blur, MedianBlur, MotionBlur
from invariance.transforms.blur.gaussian import GaussianBlur
from invariance.transforms.blur.lens import Defocus, GlassBlur, ZoomBlur
from invariance.transforms.blur.sharpen import Emboss, RingingOvershoot, Sharpen, Superpixels, UnsharpMask

__all__ = [
    "AdvancedBlur",
    "Blur",
    "Defocus",
    "Emboss",
    "GaussianBlur",
    "GlassBlur",
    "MedianBlur",
    "MotionBlur",
    "RingingOvershoot",
    "Sharpen",
    "Superpixels",
    "UnsharpMask",
    "ZoomBlur",
]
