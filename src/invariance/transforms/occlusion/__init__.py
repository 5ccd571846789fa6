"""Occlusion and dropout transforms."""

from invariance.transforms.occlusion.dropout import CoarseDropout, OcclusionTransform
from invariance.transforms.occlusion.holes import Erasing, GridDropout, RandomErasing, XYMasking
from invariance.transforms.occlusion.objects import ConstrainedCoarseDropout, MaskDropout, PixelDropout

__all__ = [
    "CoarseDropout",
    "ConstrainedCoarseDropout",
    "Erasing",
    "GridDropout",
    "MaskDropout",
    "OcclusionTransform",
    "PixelDropout",
    "RandomErasing",
    "XYMasking",
]
