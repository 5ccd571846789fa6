"""Geometric transforms: each declares a Geometry; the pipeline moves every target through it."""

from invariance.transforms.geometric.affine import Affine, Rotate, SafeRotate, ShiftScaleRotate
from invariance.transforms.geometric.bbox_crops import (
    AtLeastOneBBoxRandomCrop,
    BBoxSafeRandomCrop,
    BBoxSubsetSafeRandomCrop,
    CropNonEmptyMaskIfExists,
    RandomCropNearBBox,
    RandomSizedBBoxSafeCrop,
)
from invariance.transforms.geometric.crops import (
    CenterCrop,
    Crop,
    RandomCrop,
    RandomCropFromBorders,
    RandomResizedCrop,
    RandomSizedCrop,
)
from invariance.transforms.geometric.flips import (
    D4,
    HorizontalFlip,
    RandomRotate90,
    SquareSymmetry,
    Transpose,
    VerticalFlip,
)
from invariance.transforms.geometric.pad import CropAndPad, LetterBox, Pad, PadIfNeeded
from invariance.transforms.geometric.perspective import Perspective
from invariance.transforms.geometric.resize import LongestMaxSize, RandomScale, Resize, SmallestMaxSize

__all__ = [
    "D4",
    "Affine",
    "AtLeastOneBBoxRandomCrop",
    "BBoxSafeRandomCrop",
    "BBoxSubsetSafeRandomCrop",
    "CenterCrop",
    "Crop",
    "CropAndPad",
    "CropNonEmptyMaskIfExists",
    "HorizontalFlip",
    "LetterBox",
    "LongestMaxSize",
    "Pad",
    "PadIfNeeded",
    "Perspective",
    "RandomCrop",
    "RandomCropFromBorders",
    "RandomCropNearBBox",
    "RandomResizedCrop",
    "RandomRotate90",
    "RandomScale",
    "RandomSizedBBoxSafeCrop",
    "RandomSizedCrop",
    "Resize",
    "Rotate",
    "SafeRotate",
    "ShiftScaleRotate",
    "SmallestMaxSize",
    "SquareSymmetry",
    "Transpose",
    "VerticalFlip",
]
