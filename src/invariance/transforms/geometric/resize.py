"""Resizes."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

import cv2
from pydantic import Field

from invariance.core.geometry import Geometry, Resampling, Scale
from invariance.core.sample import Sample
from invariance.core.schema import Interpolation, Probability, TransformSchema
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
    return dataclasses.replace(
        resampling, interpolation=cv2.INTER_AREA, mask_interpolation=mask_interpolation
    )


class Resize(SpatialTransform):
    """Resize to ``height x width``.

    Targets: image (``interpolation``), mask (``mask_interpolation``, nearest by default).
    bboxes: coordinates scaled by the size ratios. keypoints: scaled, with their ``scale``
    multiplied by the larger ratio.

    Args:
        height, width: output size in pixels (>= 1).
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        area_for_downscale: use INTER_AREA when shrinking (``"image"`` or ``"image_mask"``).
        p: probability of applying the transform. Default: 1.

    Targets: image, images, mask, masks, bboxes, keypoints. Dtypes: uint8, float32.
    """

    example_args = {"height": 70, "width": 50}

    height: int
    width: int

    class InitSchema(TransformSchema):
        height: int = Field(ge=1)
        width: int = Field(ge=1)
        interpolation: Interpolation = 1
        mask_interpolation: Interpolation = 0
        area_for_downscale: Literal[None, "image", "image_mask"] = None
        p: Probability = 1.0

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        return Scale(sample.shape, (self.height, self.width))

    def apply_params(self, sample: Sample, params: dict[str, Any]) -> None:
        resampling = area_resampling(self, sample.shape, (self.height, self.width))
        sample.apply_geometry(self.geometry(params, sample), resampling)
