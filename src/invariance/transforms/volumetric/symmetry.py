"""Exact symmetries of voxel grids: flips and quarter turns of the cube."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from invariance.core.randomness import integer
from invariance.core.sample import Sample
from invariance.core.schema import Probability
from invariance.core.volume import AxisMap, Geometry3D, cube_symmetries, require_volume
from invariance.transforms.volumetric.base import Transform3D

_CUBE = cube_symmetries()


class CubicSymmetry(Transform3D):
    """One of the 48 symmetries of the cube, drawn uniformly: the axes of the volume are reordered
    and any of them reversed (24 rotations, and each with a mirror).

    A symmetry that swaps depth with height or width also swaps the volume's extents. Keypoints
    (``xyz``) move with the voxels. Use it where orientation carries no meaning (isotropic
    microscopy, material samples); medical scans with a fixed patient orientation usually want
    only some flips (:class:`~invariance.transforms.volumetric.Flip3D`).

    Args:
        p: probability of applying the transform. Default: 1.

    Targets: volume, mask3d, volumes, masks3d, keypoints. Dtypes: uint8, float32.
    """

    class InitSchema(Transform3D.InitSchema):
        p: Probability = 1.0

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"index": integer(rng, 0, len(_CUBE))}

    def volume_geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry3D:
        flips, order = _CUBE[int(params["index"])]
        return AxisMap(flips, order, require_volume(sample, type(self).__name__))


__all__ = ["CubicSymmetry"]
