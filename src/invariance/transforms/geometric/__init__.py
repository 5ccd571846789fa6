"""Geometric transforms: each declares a Geometry; the pipeline moves every target through it."""

from invariance.transforms.geometric.affine import Affine, Rotate
from invariance.transforms.geometric.crops import CenterCrop, Crop, RandomCrop, RandomResizedCrop
from invariance.transforms.geometric.flips import (
    D4,
    HorizontalFlip,
    RandomRotate90,
    SquareSymmetry,
    Transpose,
    VerticalFlip,
)
from invariance.transforms.geometric.resize import Resize

__all__ = [
    "D4",
    "Affine",
    "CenterCrop",
    "Crop",
    "HorizontalFlip",
    "RandomCrop",
    "RandomResizedCrop",
    "RandomRotate90",
    "Resize",
    "Rotate",
    "SquareSymmetry",
    "Transpose",
    "VerticalFlip",
]
