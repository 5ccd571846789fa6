"""Occlusion and dropout transforms."""

from invariance.transforms.occlusion.dropout import CoarseDropout, OcclusionTransform
from invariance.transforms.occlusion.holes import Erasing, GridDropout, GridMask, RandomErasing, XYMasking
from invariance.transforms.occlusion.objects import (
    ConstrainedCoarseDropout,
    GuidedCoarseDropout,
    MaskDropout,
    PixelDropout,
)

__all__ = [
    "CoarseDropout",
    "ConstrainedCoarseDropout",
    "Erasing",
    "GridDropout",
    "GridMask",
    "GuidedCoarseDropout",
    "MaskDropout",
    "OcclusionTransform",
    "PixelDropout",
    "RandomErasing",
    "XYMasking",
]
