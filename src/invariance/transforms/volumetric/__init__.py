"""Volumetric transforms: voxel grids (CT, MRI, microscopy stacks) moved and changed in 3-D."""

from invariance.transforms.volumetric.affine import Affine3D, RandomResizedCrop3D, Resize3D
from invariance.transforms.volumetric.base import Transform3D, VolumeOnlyTransform
from invariance.transforms.volumetric.crops import CenterCrop3D, Pad3D, PadIfNeeded3D, RandomCrop3D
from invariance.transforms.volumetric.dropout import CoarseDropout3D
from invariance.transforms.volumetric.elastic import ElasticTransform3D
from invariance.transforms.volumetric.symmetry import CubicSymmetry, Flip3D, GridShuffle3D, RandomRotate90_3D

__all__ = [
    "Affine3D",
    "CenterCrop3D",
    "CoarseDropout3D",
    "CubicSymmetry",
    "ElasticTransform3D",
    "Flip3D",
    "GridShuffle3D",
    "Pad3D",
    "PadIfNeeded3D",
    "RandomCrop3D",
    "RandomResizedCrop3D",
    "RandomRotate90_3D",
    "Resize3D",
    "Transform3D",
    "VolumeOnlyTransform",
]
