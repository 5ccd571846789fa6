"""Resampling volumetric maps: resizing and 3-D affine warps (one resampling pass)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import model_validator

from invariance.core.effects import Effects, VolumeWarp
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import FillArgs, FillSchema, Probability, ResampleArgs, ResampleSchema
from invariance.core.volume import Geometry3D, Shape3, VoxelAffine, require_volume
from invariance.transforms.volumetric.base import Transform3D

AxisRanges = dict[Literal["x", "y", "z"], tuple[float, float]]


def _translation(tx: float, ty: float, tz: float) -> np.ndarray:
    out = np.eye(4)
    out[:3, 3] = (tx, ty, tz)
    return out


def scale_map(in_shape: Shape3, out_shape: Shape3) -> np.ndarray:
    """The 4x4 voxel-index map of a resize: pixel centres stay centres, ``x' = (x + 0.5) s - 0.5``."""
    scales = [o / i for o, i in zip(out_shape[::-1], in_shape[::-1])]  # x, y, z
    return _translation(-0.5, -0.5, -0.5) @ np.diag([*scales, 1.0]) @ _translation(0.5, 0.5, 0.5)


def rotation(rx: float, ry: float, rz: float) -> np.ndarray:
    """Rotation by ``rx`` about x, then ``ry`` about y, then ``rz`` about z (degrees), as 4x4."""
    a, b, c = np.deg2rad([rx, ry, rz])
    about_x = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    about_y = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    about_z = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    out = np.eye(4)
    out[:3, :3] = about_z @ about_y @ about_x
    return out


def _linear_or_nearest(schema: Any) -> Any:
    """Volumes resample trilinearly or at the nearest voxel: OpenCV flags 1 and 0 only."""
    for name in ("interpolation", "mask_interpolation"):
        if getattr(schema, name) not in (0, 1):
            raise ValueError(
                f"{name} must be cv2.INTER_NEAREST (0) or cv2.INTER_LINEAR (1) for volumes, got {getattr(schema, name)}"
            )
    return schema


class _Resampled(Transform3D, ResampleArgs):
    """A volumetric map that resamples voxels, with its interpolation flags."""

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        geometry = self.volume_geometry(params, sample)
        return VolumeWarp(
            geometry,
            getattr(self, "fill", 0.0),
            getattr(self, "fill_mask", 0.0),
            self.interpolation,
            self.mask_interpolation,
        )


class Resize3D(_Resampled):
    """Resize a volume to ``size = (depth, height, width)``, resampling all three axes together.

    Voxel centres map to voxel centres (``x' = (x + 0.5) * s - 0.5`` on each axis), so ``xyz``
    keypoints land where their voxel's content lands.

    Args:
        size: the output ``(depth, height, width)`` (each >= 1).
        interpolation: for volumes, ``cv2.INTER_LINEAR`` (1, trilinear) or ``cv2.INTER_NEAREST``
            (0). Default: 1.
        mask_interpolation: for 3-D masks, 0 or 1. Default: 0 (nearest).
        p: probability of applying the transform. Default: 1.

    Targets: keypoints, volume, mask3d
    (each also as a stack: volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"size": (20, 64, 72)}

    size: tuple[int, int, int]

    class InitSchema(ResampleSchema):
        argument_order = ("size", "interpolation", "mask_interpolation")

        size: tuple[int, int, int]
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> Resize3D.InitSchema:
            _linear_or_nearest(self)
            if min(self.size) < 1:
                raise ValueError(f"size must be >= 1 on every axis, got {self.size}")
            return self

    def volume_geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry3D:
        shape = require_volume(sample, type(self).__name__)
        size: Shape3 = (int(self.size[0]), int(self.size[1]), int(self.size[2]))
        return VoxelAffine(scale_map(shape, size), shape, size)


def _axis_ranges(default: float) -> AxisRanges:
    return {"x": (default, default), "y": (default, default), "z": (default, default)}


class Affine3D(_Resampled, FillArgs):
    """Rotate, scale and shift a volume in 3-D about its centre, resampled once.

    Per axis, a scale, a rotation angle and a relative shift are drawn; the map is
    ``shift * centre * rotation * scale * centre^-1`` on voxel indices (rotation about x, then y,
    then z). The output keeps the input's ``(D, H, W)``; voxels from outside take ``fill``
    (``fill_mask`` for 3-D masks). The same forward matrix moves ``xyz`` keypoints.

    Args:
        rotate_range: ``{"x": (min, max), "y": ..., "z": ...}`` rotation angles in degrees about
            each axis. Missing axes do not rotate. Default: all (0, 0).
        scale_range: ``{"x": (min, max), ...}`` positive scale factors. Default: all (1, 1).
        translate_percent_range: ``{"x": (min, max), ...}`` shifts as fractions of each axis's
            length. Default: all (0, 0).
        interpolation: for volumes, 1 (trilinear) or 0 (nearest). Default: 1.
        mask_interpolation: for 3-D masks, 0 or 1. Default: 0.
        fill: value of volume voxels from outside. Default: 0.
        fill_mask: value of 3-D mask voxels from outside. Default: 0.
        p: probability of applying the transform. Default: 0.5.

    Targets: keypoints, volume, mask3d
    (each also as a stack: volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {
        "rotate_range": {"x": (-15, 15), "y": (-15, 15), "z": (-30, 30)},
        "scale_range": {"x": (0.9, 1.1), "y": (0.9, 1.1), "z": (0.9, 1.1)},
    }

    rotate_range: AxisRanges
    scale_range: AxisRanges
    translate_percent_range: AxisRanges

    class InitSchema(ResampleSchema, FillSchema):
        argument_order = (
            "rotate_range",
            "scale_range",
            "translate_percent_range",
            "interpolation",
            "mask_interpolation",
            "fill",
            "fill_mask",
        )

        rotate_range: AxisRanges = _axis_ranges(0.0)
        scale_range: AxisRanges = _axis_ranges(1.0)
        translate_percent_range: AxisRanges = _axis_ranges(0.0)
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> Affine3D.InitSchema:
            _linear_or_nearest(self)
            for name in ("rotate_range", "scale_range", "translate_percent_range"):
                for axis, (low, high) in getattr(self, name).items():
                    if low > high:
                        raise ValueError(f"{name}[{axis!r}] must have min <= max, got {(low, high)}")
            for axis, (low, _) in self.scale_range.items():
                if low <= 0:
                    raise ValueError(f"scale_range[{axis!r}] must be positive, got {self.scale_range[axis]}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        def draw(ranges: AxisRanges, default: float) -> list[float]:
            return [uniform(rng, *ranges.get(axis, (default, default))) for axis in ("x", "y", "z")]

        return {
            "rotate": draw(self.rotate_range, 0.0),
            "scale": draw(self.scale_range, 1.0),
            "translate": draw(self.translate_percent_range, 0.0),
        }

    def volume_geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry3D:
        shape = require_volume(sample, type(self).__name__)
        d, h, w = shape
        centre = ((w - 1) / 2, (h - 1) / 2, (d - 1) / 2)
        shift = [t * n for t, n in zip(params["translate"], (w, h, d))]
        matrix = (
            _translation(*shift)
            @ _translation(*centre)
            @ rotation(*params["rotate"])
            @ np.diag([*params["scale"], 1.0])
            @ _translation(*(-c for c in centre))
        )
        return VoxelAffine(matrix, shape, shape)


class RandomResizedCrop3D(_Resampled):
    """Cut a random box of the volume and resize it to ``size = (depth, height, width)``.

    The box covers a random fraction of the volume, drawn uniformly from ``scale``; its
    width-to-height ratio is drawn log-uniformly from ``ratio``, and its depth shrinks by the
    cube root of the fraction (the box keeps the volume's depth proportion). Up to 10 draws are
    tried for a box that fits; failing that, the whole volume is used. Cutting and resizing are
    one affine voxel map, resampled once (trilinear, nearest for 3-D masks); ``xyz`` keypoints
    move through the same map and those outside the box are removed (KeypointParams
    ``remove_invisible``).

    Args:
        size: the output ``(depth, height, width)`` (each >= 1).
        scale: range of the box's fraction of the volume, ``0 < min <= max <= 1``.
            Default: (0.08, 1.0).
        ratio: range of the box's width / height, ``0 < min <= max``. Default: (0.75, 4 / 3).
        interpolation: for volumes, 1 (trilinear) or 0 (nearest). Default: 1.
        mask_interpolation: for 3-D masks, 0 or 1. Default: 0.
        p: probability of applying the transform. Default: 1.

    Targets: volume, mask3d, keypoints
    (each also as a stack: volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"size": (6, 32, 32), "scale": (0.3, 1.0)}

    size: tuple[int, int, int]
    scale: tuple[float, float]
    ratio: tuple[float, float]

    class InitSchema(ResampleSchema):
        argument_order = ("size", "scale", "ratio", "interpolation", "mask_interpolation")

        size: tuple[int, int, int]
        scale: tuple[float, float] = (0.08, 1.0)
        ratio: tuple[float, float] = (0.75, 4 / 3)
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> RandomResizedCrop3D.InitSchema:
            _linear_or_nearest(self)
            if min(self.size) < 1:
                raise ValueError(f"size must be >= 1 on every axis, got {self.size}")
            low, high = self.scale
            if not 0 < low <= high <= 1:
                raise ValueError(f"scale must satisfy 0 < min <= max <= 1, got {self.scale}")
            if not 0 < self.ratio[0] <= self.ratio[1]:
                raise ValueError(f"ratio must satisfy 0 < min <= max, got {self.ratio}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        d, h, w = require_volume(sample, type(self).__name__)
        for _ in range(10):
            fraction = uniform(rng, *self.scale)
            aspect = float(np.exp(uniform(rng, *np.log(self.ratio))))
            side = fraction ** (1 / 3)
            depth = max(1, round(d * side))
            area = fraction * d * h * w / depth
            width, height = round(np.sqrt(area * aspect)), round(np.sqrt(area / aspect))
            if 1 <= width <= w and 1 <= height <= h:
                z0 = int(rng.integers(0, d - depth + 1))
                y0 = int(rng.integers(0, h - height + 1))
                x0 = int(rng.integers(0, w - width + 1))
                return {"box": (z0, y0, x0, depth, height, width)}
        return {"box": (0, 0, 0, d, h, w)}

    def volume_geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry3D:
        shape = require_volume(sample, type(self).__name__)
        z0, y0, x0, depth, height, width = (int(v) for v in params["box"])
        size: Shape3 = (int(self.size[0]), int(self.size[1]), int(self.size[2]))
        matrix = scale_map((depth, height, width), size) @ _translation(-x0, -y0, -z0)
        return VoxelAffine(matrix, shape, size)


__all__ = ["Affine3D", "RandomResizedCrop3D", "Resize3D"]
