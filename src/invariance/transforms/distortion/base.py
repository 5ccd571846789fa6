"""Shared pieces of the non-rigid transforms: one dense map moves every target."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from invariance.core.dense import DenseWarp
from invariance.core.geometry import Geometry
from invariance.core.sample import Sample
from invariance.core.transform import SpatialTransform
from invariance.kernels.distortion import Maps

#: Albumentations' choice of keypoint method. Both names are accepted; invariance always maps
#: points through the numerical inverse of the same dense map the pixels use (exact to ~1e-3 px).
KeypointRemapping = Literal["direct", "mask"]


def draw_seed(rng: np.random.Generator) -> int:
    """A seed for a large random field: only this number is recorded, the field is rebuilt from it."""
    return int(rng.integers(0, 2**63 - 1))


class _DenseDistortion(SpatialTransform):
    """A spatial transform whose map is a dense backward map of the input's own size.

    Subclasses implement ``maps(params, shape) -> (map_x, map_y)``. Images are resampled with
    ``interpolation``, masks with ``mask_interpolation``; boxes (their densely sampled border) and
    keypoints (position, angle and scale) are moved forward through the numerical inverse of the
    same map, so annotations stay on the pixels they marked.
    """

    family = "distortion"

    def maps(self, params: Mapping[str, Any], shape: tuple[int, int]) -> Maps:
        raise NotImplementedError

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        map_x, map_y = self.maps(params, sample.shape)
        return DenseWarp(map_x, map_y, sample.shape)
