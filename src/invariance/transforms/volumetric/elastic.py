"""Smooth 3-D elastic deformation of volumes, resampled once through one dense map."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import model_validator

from invariance.core.sample import Sample
from invariance.core.schema import FillArgs, FillSchema, Probability, ResampleSchema
from invariance.core.volume import Geometry3D, Shape3, VoxelField, require_volume
from invariance.transforms.volumetric.affine import _linear_or_nearest, _Resampled

ZYX = tuple[int, int, int]
ZYXFloat = tuple[float, float, float]


def fold_free_bounds(shape: Shape3, points: ZYX, wanted: ZYXFloat) -> ZYXFloat:
    """The largest shifts (voxels, per axis, ``z, y, x``) not above ``wanted`` that keep a
    B-spline deformation through ``points`` control values one-to-one.

    A cubic B-spline's slope along an axis is at most twice its largest control value over the
    control spacing; the map ``p + u(p)`` is then a contraction-perturbed identity (it cannot
    fold) when each component's slopes sum below 1. A 10% margin keeps the point inversion fast.
    """
    spacing = [max(n - 1, 1) / (k - 1) for n, k in zip(shape, points)]
    limit = 0.9 / (2.0 * sum(1.0 / s for s in spacing))
    return (min(wanted[0], limit), min(wanted[1], limit), min(wanted[2], limit))


class ElasticTransform3D(_Resampled, FillArgs):
    """Deform a volume with a smooth, bounded 3-D displacement field, resampled once.

    A regular grid of ``num_control_points`` (``depth, height, width``) control points spans the
    volume; each gets a random shift, uniform in ``[-max_displacement, max_displacement]`` voxels
    along each axis. A cubic B-spline through them gives every voxel its shift (its weights are
    non-negative and sum to 1, so no voxel moves further than the largest control shift). Shifts
    are capped so that the map never folds: for a coarse grid on a thin volume the cap can be
    below ``max_displacement``.

    The whole deformation is one dense map: each output slice gathers its source voxels in one
    pass (trilinear for volumes, nearest for 3-D masks), so masks keep their labels and stay
    aligned with the volume. ``xyz`` keypoints move through the inverse of the same map (to
    within 1e-6 voxel). 2-D targets of the same call are refused: the field moves voxels across
    slices.

    Args:
        num_control_points: control points per axis, ``(depth, height, width)``, each >= 2
            (capped at the volume's size on that axis). More points give a more local
            deformation. Default: (4, 4, 4).
        max_displacement: largest shift of a control point in voxels along ``(depth, height,
            width)``, each >= 0. Default: (2.0, 6.0, 6.0).
        interpolation: for volumes, 1 (trilinear) or 0 (nearest). Default: 1.
        mask_interpolation: for 3-D masks, 0 or 1. Default: 0.
        fill: value of volume voxels whose source lies outside. Default: 0.
        fill_mask: value of 3-D mask voxels whose source lies outside. Default: 0.
        p: probability of applying the transform. Default: 0.5.

    Targets: volume, mask3d, keypoints
    (each also as a stack: volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"num_control_points": (3, 4, 4), "max_displacement": (3.0, 6.0, 6.0)}

    num_control_points: ZYX
    max_displacement: ZYXFloat

    class InitSchema(ResampleSchema, FillSchema):
        argument_order = (
            "num_control_points",
            "max_displacement",
            "interpolation",
            "mask_interpolation",
            "fill",
            "fill_mask",
        )

        num_control_points: ZYX = (4, 4, 4)
        max_displacement: ZYXFloat = (2.0, 6.0, 6.0)
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> ElasticTransform3D.InitSchema:
            _linear_or_nearest(self)
            if min(self.num_control_points) < 2:
                raise ValueError(
                    f"num_control_points must be >= 2 on every axis, got {self.num_control_points}"
                )
            if min(self.max_displacement) < 0:
                raise ValueError(f"max_displacement must be >= 0 on every axis, got {self.max_displacement}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        shape = require_volume(sample, type(self).__name__)
        # More control points than voxels on an axis add nothing (and would only cost memory).
        points = tuple(min(int(k), max(2, n)) for k, n in zip(self.num_control_points, shape))
        bound_z, bound_y, bound_x = fold_free_bounds(shape, points, self.max_displacement)  # type: ignore[arg-type]
        unit = rng.uniform(-1.0, 1.0, size=(*points, 3))
        control = unit * np.array([bound_x, bound_y, bound_z])  # x, y, z components
        return {"control": control}

    def volume_geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry3D:
        shape = require_volume(sample, type(self).__name__)
        return VoxelField(np.asarray(params["control"], dtype=np.float64), shape)


__all__ = ["ElasticTransform3D"]
