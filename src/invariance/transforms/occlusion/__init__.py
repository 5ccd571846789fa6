"""Occlusion and dropout transforms."""

from typing import Any

from invariance.transforms.occlusion.dropout import CoarseDropout, OcclusionTransform
from invariance.transforms.occlusion.holes import Erasing, GridDropout, GridMask, XYMasking
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
    "XYMasking",
]


def __getattr__(name: str) -> Any:
    """``RandomErasing``, torchvision's name for :class:`Erasing`, resolved on access (PEP 562) so
    that a scan of the package's members finds each transform class once."""
    if name == "RandomErasing":
        return Erasing
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
