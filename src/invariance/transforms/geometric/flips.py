"""Flips and the symmetries of the square: exact operations, no interpolation."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from invariance.core.effects import Effects, Warp
from invariance.core.geometry import Geometry, Resampling, symmetry
from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema
from invariance.core.transform import SpatialTransform
from invariance.kernels.geometry import D4_ELEMENTS


class _FixedSymmetry(SpatialTransform):
    element = "e"

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        return symmetry(self.element, sample.shape)

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        if not self._takes_no_resampling:  # a subclass that added resampling arguments
            return super().effect(params, sample)
        return _symmetry_warp(self.element, sample.shape)


@lru_cache(maxsize=1024)
def _symmetry_warp(element: str, shape: tuple[int, int]) -> Warp:
    """The warp of a flip or symmetry without resampling arguments: the same for every image of
    a shape (no random numbers, the default resampling), so it is built once per shape."""
    return Warp(symmetry(element, shape), Resampling())


class HorizontalFlip(_FixedSymmetry):
    """Mirror the image left-right.

    Per target: image, mask: columns reversed. bboxes: ``x_min, x_max -> W - x_max, W - x_min``.
    keypoints: ``x -> W - 1 - x``, angle ``a -> pi - a``; ``label_mapping`` can swap left/right labels.

    Args:
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    element = "h"

    class InitSchema(TransformSchema):
        p: Probability = 0.5


class VerticalFlip(_FixedSymmetry):
    """Mirror the image top-bottom.

    Per target: image, mask: rows reversed. bboxes: ``y -> H - y``. keypoints: ``y -> H - 1 - y``,
    angle ``a -> -a``.

    Args:
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    element = "v"

    class InitSchema(TransformSchema):
        p: Probability = 0.5


class Transpose(_FixedSymmetry):
    """Swap rows and columns (reflect across the main diagonal); an H x W image becomes W x H.

    Per target: image, mask: transposed. bboxes and keypoints: ``x`` and ``y`` swap; keypoint angle
    ``a -> pi / 2 - a``.

    Args:
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    element = "t"

    class InitSchema(TransformSchema):
        p: Probability = 0.5


class RandomRotate90(SpatialTransform):
    """Rotate by a random multiple of 90 degrees (0, 90, 180 or 270, counter-clockwise).

    Per target: image, mask: exact rotation (no interpolation). bboxes and keypoints: rotated with it,
    keypoint angles turn by the same quarter turns.

    Args:
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    class InitSchema(TransformSchema):
        p: Probability = 1.0

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"factor": int(rng.integers(0, 4))}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        return symmetry(("e", "r90", "r180", "r270")[int(params["factor"]) % 4], sample.shape)


class SquareSymmetry(SpatialTransform):
    """Apply one of the 8 symmetries of the square, chosen uniformly.

    The dihedral group D4: identity, rotations by 90, 180 and 270 degrees, horizontal and vertical
    flips, transpose and anti-transpose. All are exact (no interpolation). Useful where orientation
    carries no meaning (aerial imagery, microscopy).

    Per target: image, mask: exact. bboxes, keypoints: moved by the same symmetry, angles included.

    Args:
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    class InitSchema(TransformSchema):
        p: Probability = 1.0

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"group_element": D4_ELEMENTS[int(rng.integers(0, len(D4_ELEMENTS)))]}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        return symmetry(str(params["group_element"]), sample.shape)


class D4(SquareSymmetry):
    """Another name of :class:`SquareSymmetry` (the dihedral group of order 8).

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """
