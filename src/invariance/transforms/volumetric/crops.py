"""Padding and cropping of volumes: each is one 3-D window (outside the volume, the fill)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import model_validator

from invariance.core.errors import InputError
from invariance.core.randomness import integer
from invariance.core.sample import Sample
from invariance.core.schema import FillArgs, FillSchema, Probability
from invariance.core.volume import Geometry3D, Shape3, Window3D, as_zyx_padding, require_volume
from invariance.transforms.volumetric.base import Transform3D

ZYX = tuple[int, int, int]


def _split(total: int, position: str, rng: np.random.Generator | None) -> int:
    """How much of ``total`` padding goes before the volume on one axis."""
    if total <= 0:
        return 0
    if position == "random":
        assert rng is not None
        return integer(rng, 0, total + 1)
    return total // 2  # centred; an odd voxel goes after


def _padded_window(shape: Shape3, before: ZYX, after: ZYX) -> Window3D:
    out = tuple(n + b + a for n, b, a in zip(shape, before, after))
    return Window3D(-before[0], -before[1], -before[2], shape, out)  # type: ignore[arg-type]


class Pad3D(Transform3D, FillArgs):
    """Add a fixed border of voxels around a volume.

    ``padding`` is one number (every side), ``(depth, height, width)`` (both sides of each axis),
    or ``(z_front, z_back, y_top, y_bottom, x_left, x_right)``. Keypoints shift by the leading
    padding of each axis (``z`` for ``xyz`` keypoints).

    Args:
        padding: border widths in voxels (>= 0).
        fill: value of the new volume voxels. Default: 0.
        fill_mask: value of the new 3-D mask voxels. Default: 0.
        p: probability of applying the transform. Default: 1.

    Targets: keypoints, volume, mask3d
    (each also as a stack: volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"padding": (1, 2, 3)}

    padding: int | tuple[int, int, int] | tuple[int, int, int, int, int, int]

    class InitSchema(FillSchema):
        argument_order = ("padding", "fill", "fill_mask")

        padding: int | tuple[int, int, int] | tuple[int, int, int, int, int, int]
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> Pad3D.InitSchema:
            if min(as_zyx_padding(self.padding)) < 0:
                raise ValueError(f"padding must be >= 0 on every side, got {self.padding}")
            return self

    def volume_geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry3D:
        zf, zb, yt, yb, xl, xr = as_zyx_padding(self.padding)
        return _padded_window(require_volume(sample, type(self).__name__), (zf, yt, xl), (zb, yb, xr))


class PadIfNeeded3D(Transform3D, FillArgs):
    """Pad a volume to at least ``min_zyx`` voxels, and/or to a multiple of ``pad_divisor_zyx``.

    With both, the size is first raised to the minimum, then rounded up to the divisor. The padding
    of each axis is split evenly (``position="center"``, an odd voxel after) or at random.

    Args:
        min_zyx: the smallest ``(depth, height, width)``, or None. Default: None.
        pad_divisor_zyx: ``(depth, height, width)`` the size must be divisible by, or None. Default: None.
        position: ``"center"`` or ``"random"``. Default: ``"center"``.
        fill: value of the new volume voxels. Default: 0.
        fill_mask: value of the new 3-D mask voxels. Default: 0.
        p: probability of applying the transform. Default: 1.

    Targets: keypoints, volume, mask3d
    (each also as a stack: volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"min_zyx": (8, 48, 64)}

    min_zyx: ZYX | None
    pad_divisor_zyx: ZYX | None
    position: str

    class InitSchema(FillSchema):
        argument_order = ("min_zyx", "pad_divisor_zyx", "position", "fill", "fill_mask")

        min_zyx: ZYX | None = None
        pad_divisor_zyx: ZYX | None = None
        position: Literal["center", "random"] = "center"
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> PadIfNeeded3D.InitSchema:
            if self.min_zyx is None and self.pad_divisor_zyx is None:
                raise ValueError("at least one of min_zyx and pad_divisor_zyx must be set")
            if self.min_zyx is not None and min(self.min_zyx) < 0:
                raise ValueError(f"min_zyx must be >= 0, got {self.min_zyx}")
            if self.pad_divisor_zyx is not None and min(self.pad_divisor_zyx) < 1:
                raise ValueError(f"pad_divisor_zyx must be >= 1, got {self.pad_divisor_zyx}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        shape = require_volume(sample, type(self).__name__)
        before: list[int] = []
        after: list[int] = []
        for axis, size in enumerate(shape):
            target = size
            if self.min_zyx is not None:
                target = max(target, self.min_zyx[axis])
            if self.pad_divisor_zyx is not None:
                divisor = self.pad_divisor_zyx[axis]
                target = -(-target // divisor) * divisor
            total = target - size
            lead = _split(total, self.position, rng)
            before.append(lead)
            after.append(total - lead)
        return {"before": before, "after": after}

    def volume_geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry3D:
        shape = require_volume(sample, type(self).__name__)
        return _padded_window(shape, tuple(params["before"]), tuple(params["after"]))


class _Crop3D(Transform3D, FillArgs):
    """A ``size`` window of the volume, padded (centred) first when ``pad_if_needed``."""

    size: ZYX
    pad_if_needed: bool

    class InitSchema(FillSchema):
        argument_order = ("size", "pad_if_needed", "fill", "fill_mask")

        size: ZYX
        pad_if_needed: bool = False
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> _Crop3D.InitSchema:
            if min(self.size) < 1:
                raise ValueError(f"size must be >= 1 on every axis, got {self.size}")
            return self

    def start(self, rng: np.random.Generator, room: int) -> int:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        shape = require_volume(sample, type(self).__name__)
        starts: list[int] = []
        for axis, (size, crop) in enumerate(zip(shape, self.size)):
            if size < crop and not self.pad_if_needed:
                raise InputError(
                    f"{type(self).__name__}: the volume has shape {shape} (D, H, W) but size={self.size}; "
                    f"axis {axis} is smaller than the crop (pass pad_if_needed=True to pad it)"
                )
            pad = max(crop - size, 0)
            starts.append(self.start(rng, size + pad - crop) - pad // 2)
        return {"start": starts}

    def volume_geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry3D:
        shape = require_volume(sample, type(self).__name__)
        z0, y0, x0 = (int(v) for v in params["start"])
        return Window3D(z0, y0, x0, shape, tuple(self.size))  # type: ignore[arg-type]


class CenterCrop3D(_Crop3D):
    """Cut the centre ``size = (depth, height, width)`` of a volume.

    A volume smaller than ``size`` raises, or is padded evenly first with ``pad_if_needed``.
    Keypoints outside the crop are removed (KeypointParams ``remove_invisible``).

    Args:
        size: ``(depth, height, width)`` of the crop (>= 1).
        pad_if_needed: pad a smaller volume up to ``size``. Default: False.
        fill: value of padded volume voxels. Default: 0.
        fill_mask: value of padded 3-D mask voxels. Default: 0.
        p: probability of applying the transform. Default: 1.

    Targets: keypoints, volume, mask3d
    (each also as a stack: volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"size": (4, 32, 32)}

    def start(self, rng: np.random.Generator, room: int) -> int:
        return room // 2


class RandomCrop3D(_Crop3D):
    """Cut a ``size = (depth, height, width)`` window at a random place in the volume.

    A volume smaller than ``size`` raises, or is padded evenly first with ``pad_if_needed``.

    Args:
        size: ``(depth, height, width)`` of the crop (>= 1).
        pad_if_needed: pad a smaller volume up to ``size``. Default: False.
        fill: value of padded volume voxels. Default: 0.
        fill_mask: value of padded 3-D mask voxels. Default: 0.
        p: probability of applying the transform. Default: 1.

    Targets: keypoints, volume, mask3d
    (each also as a stack: volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"size": (4, 32, 32)}

    def start(self, rng: np.random.Generator, room: int) -> int:
        return integer(rng, 0, room + 1)


__all__ = ["CenterCrop3D", "Pad3D", "PadIfNeeded3D", "RandomCrop3D"]
