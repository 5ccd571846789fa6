"""Resizes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import cv2
import numpy as np
from pydantic import Field, model_validator

from invariance.core.budget import Bounded, check_output
from invariance.core.geometry import Geometry, Resampling, Scale
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import (
    DownscaleArgs,
    DownscaleSchema,
    Probability,
    SymmetricRange,
)
from invariance.core.transform import SpatialTransform


def area_resampling(
    transform: SpatialTransform, in_shape: tuple[int, int], out_shape: tuple[int, int]
) -> Resampling:
    """The transform's resampling, switched to INTER_AREA when ``area_for_downscale`` asks for it."""
    resampling = transform.resampling()
    mode = getattr(transform, "area_for_downscale", None)
    shrinking = out_shape[0] < in_shape[0] or out_shape[1] < in_shape[1]
    if mode is None or not shrinking:
        return resampling
    mask_interpolation = cv2.INTER_AREA if mode == "image_mask" else resampling.mask_interpolation
    return resampling._replace(interpolation=cv2.INTER_AREA, mask_interpolation=mask_interpolation)


class Resize(SpatialTransform, DownscaleArgs):
    """Resize to ``height x width``.

    Per target: image (``interpolation``), mask (``mask_interpolation``, nearest by default).
    bboxes: coordinates scaled by the size ratios. keypoints: scaled, with their ``scale``
    multiplied by the larger ratio.

    Args:
        height, width: output size in pixels (>= 1).
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        area_for_downscale: use INTER_AREA when shrinking (``"image"`` or ``"image_mask"``).
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"height": 70, "width": 50}

    height: int
    width: int

    class InitSchema(DownscaleSchema):
        height: Annotated[int, Bounded("height")] = Field(ge=1)
        width: Annotated[int, Bounded("width")] = Field(ge=1)
        p: Probability = 1.0

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        return Scale(sample.shape, (self.height, self.width))

    def resampling_for(self, geometry: Geometry, params: Mapping[str, Any]) -> Resampling:
        return area_resampling(self, geometry.in_shape, geometry.out_shape)


class _ScaleTo(SpatialTransform):
    """Shared logic of the resizes whose output size depends on the input: one :class:`Scale`."""

    #: The argument that sets the output size, named when the output is over the budget.
    size_argument: str = "max_size"

    def target_shape(self, params: Mapping[str, Any], shape: tuple[int, int]) -> tuple[int, int]:
        raise NotImplementedError

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        target = self.target_shape(params, sample.shape)
        check_output(type(self).__name__, self.size_argument, *target)
        return Scale(sample.shape, target)

    def resampling_for(self, geometry: Geometry, params: Mapping[str, Any]) -> Resampling:
        return area_resampling(self, geometry.in_shape, geometry.out_shape)


class RandomScale(_ScaleTo, DownscaleArgs):
    """Resize by a random factor ``1 + s``, ``s`` drawn from ``scale_limit``; the size changes.

    The output is ``int(H * f) x int(W * f)`` (at least 1 pixel).

    Per target: image (``interpolation``), mask (``mask_interpolation``). bboxes: scaled by the size
    ratios. keypoints: moved with their pixel (``(x + 0.5) r - 0.5``), ``scale`` multiplied by
    the larger ratio.

    Args:
        scale_limit: range of ``s``; a number ``x`` means ``(-x, x)``. Default: (-0.1, 0.1).
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        area_for_downscale: use INTER_AREA when shrinking (``"image"`` or ``"image_mask"``).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"scale_limit": 0.3}

    size_argument = "scale_limit"
    scale_limit: tuple[float, float]

    class InitSchema(DownscaleSchema):
        scale_limit: SymmetricRange = (-0.1, 0.1)
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> RandomScale.InitSchema:
            if self.scale_limit[0] <= -1.0:
                raise ValueError(f"scale_limit must stay above -1 (factor 1 + s > 0), got {self.scale_limit}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"scale": 1.0 + float(uniform(rng, *self.scale_limit))}

    def target_shape(self, params: Mapping[str, Any], shape: tuple[int, int]) -> tuple[int, int]:
        f = float(params["scale"])
        return max(int(shape[0] * f), 1), max(int(shape[1] * f), 1)


MaxSize = int | list[int] | tuple[int, ...] | None
MaxSizeHW = tuple[int | None, int | None] | None


class _MaxSizeSchema(DownscaleSchema):
    max_size: Annotated[MaxSize, Bounded("side")] = None
    max_size_hw: Annotated[MaxSizeHW, Bounded("side")] = None
    p: Probability = 1.0

    @model_validator(mode="after")
    def _check(self) -> _MaxSizeSchema:
        if (self.max_size is None) == (self.max_size_hw is None):
            raise ValueError("pass exactly one of max_size and max_size_hw")
        sizes = [self.max_size] if isinstance(self.max_size, int) else list(self.max_size or [])
        if self.max_size is not None and (not sizes or min(sizes) < 1):
            raise ValueError(f"max_size must hold sizes >= 1, got {self.max_size}")
        if self.max_size_hw is not None:
            given = [v for v in self.max_size_hw if v is not None]
            if not given or min(given) < 1:
                raise ValueError(f"max_size_hw needs at least one size >= 1, got {self.max_size_hw}")
        return self


class _MaxSize(_ScaleTo, DownscaleArgs):
    max_size: int | Sequence[int] | None
    max_size_hw: tuple[int | None, int | None] | None
    #: True: the longest side is limited (LongestMaxSize); False: the smallest side (SmallestMaxSize).
    longest: bool = True

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        if self.max_size is None or isinstance(self.max_size, int):
            return {"max_size": self.max_size}
        return {"max_size": int(self.max_size[int(rng.integers(0, len(self.max_size)))])}

    def target_shape(self, params: Mapping[str, Any], shape: tuple[int, int]) -> tuple[int, int]:
        h, w = shape
        size = params.get("max_size")
        if size is not None:
            side = max(h, w) if self.longest else min(h, w)
            ratio = int(size) / side
        else:
            assert self.max_size_hw is not None
            ratios = [t / s for t, s in zip(self.max_size_hw, shape) if t is not None]
            ratio = min(ratios) if self.longest else max(ratios)
        return max(round(h * ratio), 1), max(round(w * ratio), 1)


class LongestMaxSize(_MaxSize):
    """Resize keeping the aspect ratio so that the longest side equals ``max_size``.

    With ``max_size_hw=(H, W)`` the image is scaled to fit inside ``H x W`` (either may be None to
    constrain one side only). A list ``max_size`` picks one size at random per call.

    Per target: image (``interpolation``), mask (``mask_interpolation``). bboxes: scaled. keypoints:
    moved with their pixel, ``scale`` multiplied by the ratio.

    Args:
        max_size: the longest side in pixels, or a list to choose from. Default: None.
        max_size_hw: ``(max_height, max_width)`` box to fit in. Default: None.
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        area_for_downscale: use INTER_AREA when shrinking (``"image"`` or ``"image_mask"``).
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"max_size": 64}
    longest = True

    class InitSchema(_MaxSizeSchema):
        pass


class SmallestMaxSize(_MaxSize):
    """Resize keeping the aspect ratio so that the smallest side equals ``max_size``.

    With ``max_size_hw=(H, W)`` the image is scaled to cover ``H x W`` (both sides at least as
    large; either may be None). A list ``max_size`` picks one size at random per call.

    Per target: image (``interpolation``), mask (``mask_interpolation``). bboxes: scaled. keypoints:
    moved with their pixel, ``scale`` multiplied by the ratio.

    Args:
        max_size: the smallest side in pixels, or a list to choose from. Default: None.
        max_size_hw: ``(min_height, min_width)`` to cover. Default: None.
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        area_for_downscale: use INTER_AREA when shrinking (``"image"`` or ``"image_mask"``).
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"max_size": 64}
    longest = False

    class InitSchema(_MaxSizeSchema):
        pass
