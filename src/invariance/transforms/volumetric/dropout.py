"""Dropout of boxes of voxels."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import model_validator

from invariance.core.effects import Effects, VolumeHoles
from invariance.core.sample import Sample
from invariance.core.schema import Fill, FloatRange, IntRange, Probability
from invariance.core.volume import require_volume
from invariance.transforms.volumetric.base import Transform3D


class CoarseDropout3D(Transform3D):
    """Fill random boxes of voxels (cuboid holes) in a volume.

    The number of holes is drawn from ``num_holes_range``; each hole's depth, height and width are
    fractions of the volume's, drawn from their ranges (at least one voxel), and the hole lies
    inside the volume. Keypoints (``xyz``) inside a hole are removed when KeypointParams
    ``remove_invisible``.

    Args:
        num_holes_range: ``(min, max)`` number of holes (>= 0). Default: (1, 1).
        hole_depth_range: ``(min, max)`` depth of a hole as a fraction of the volume's, in [0, 1].
            Default: (0.1, 0.2).
        hole_height_range: the same for height. Default: (0.1, 0.2).
        hole_width_range: the same for width. Default: (0.1, 0.2).
        fill: value of the dropped volume voxels. Default: 0.
        fill_mask: value of the dropped 3-D mask voxels, or None to leave masks alone. Default: None.
        p: probability of applying the transform. Default: 0.5.

    Targets: keypoints, volume, mask3d
    (each also as a stack: volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"num_holes_range": (2, 4), "hole_depth_range": (0.2, 0.4), "fill_mask": 0}

    num_holes_range: tuple[int, int]
    hole_depth_range: tuple[float, float]
    hole_height_range: tuple[float, float]
    hole_width_range: tuple[float, float]
    fill: float | tuple[float, ...]
    fill_mask: float | tuple[float, ...] | None

    class InitSchema(Transform3D.InitSchema):
        num_holes_range: IntRange = (1, 1)
        hole_depth_range: FloatRange = (0.1, 0.2)
        hole_height_range: FloatRange = (0.1, 0.2)
        hole_width_range: FloatRange = (0.1, 0.2)
        fill: Fill = 0.0
        fill_mask: Fill | None = None
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> CoarseDropout3D.InitSchema:
            if self.num_holes_range[0] < 0:
                raise ValueError(f"num_holes_range must be >= 0, got {self.num_holes_range}")
            for name in ("hole_depth_range", "hole_height_range", "hole_width_range"):
                low, high = getattr(self, name)
                if not 0.0 <= low <= high <= 1.0:
                    raise ValueError(f"{name} must lie in [0, 1] with min <= max, got {(low, high)}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        shape = np.array(require_volume(sample, type(self).__name__))
        count = int(rng.integers(self.num_holes_range[0], self.num_holes_range[1] + 1))
        ranges = (self.hole_depth_range, self.hole_height_range, self.hole_width_range)
        fractions = np.stack([rng.uniform(low, high, size=count) for low, high in ranges], axis=1)
        sizes = np.clip(np.ceil(fractions * shape), 1, shape).astype(np.int64)
        starts = (rng.random((count, 3)) * (shape - sizes + 1)).astype(np.int64)
        return {"holes": np.concatenate([starts, starts + sizes], axis=1).tolist()}

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        holes = np.asarray(params["holes"], dtype=np.int64).reshape(-1, 6)
        return VolumeHoles(holes, self.fill, self.fill_mask)


__all__ = ["CoarseDropout3D"]
