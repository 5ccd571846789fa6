"""Displacement fields from physics and noise (AlbumentationsX names): WaterRefraction and
PixelSpread. One dense map moves every target."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, Field, model_validator

import invariance.kernels.distortion as kd
from invariance.core.budget import Bounded
from invariance.core.randomness import integer, uniform
from invariance.core.sample import Sample
from invariance.core.schema import (
    BorderMode,
    FloatRange,
    IntRange,
    Probability,
    WarpArgs,
    WarpInterpolation,
    WarpSchema,
)
from invariance.transforms.distortion.base import _DenseDistortion, draw_seed


def _positive(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] <= 0:
        raise ValueError(f"both values must be > 0, got {pair}")
    return pair


class WaterRefraction(_DenseDistortion, WarpArgs):
    """Look through rippled water or wavy glass: a refraction displacement from summed sine waves.

    The surface is ``num_waves`` plane waves (a count drawn from ``num_waves_range``), each with a
    wavelength drawn from ``wavelength_range`` (a fraction of the larger image side), a random
    direction and a random phase. Each pixel samples the input displaced along the surface slope
    (refraction bends rays in proportion to it), scaled so that the largest possible displacement
    is ``amplitude`` (drawn from ``amplitude_range``, a fraction of the larger side).

    Per target: image (``interpolation``; outside samples by ``border_mode`` / ``fill``), mask
    (``mask_interpolation``, ``fill_mask``). bboxes: the border of each box moves through the
    same map and is re-boxed, then clipped and filtered. keypoints: moved through the inverse of
    the same map.

    Args:
        amplitude_range: range of the largest displacement, a fraction of the larger side (> 0).
            Default: (0.01, 0.05).
        wavelength_range: range of the wave period, a fraction of the larger side (> 0).
            Default: (0.05, 0.2).
        num_waves_range: range of the number of waves (>= 1). Default: (3, 7).
        interpolation, mask_interpolation: OpenCV flags. Defaults: 1 (linear), 0 (nearest).
        border_mode: OpenCV border mode. Default: 4 (reflect-101).
        fill, fill_mask: values for constant borders. Defaults: 0, 0.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    amplitude_range: tuple[float, float]
    wavelength_range: tuple[float, float]
    num_waves_range: tuple[int, int]

    class InitSchema(WarpSchema):
        argument_order = (
            "amplitude_range", "wavelength_range", "num_waves_range", "interpolation",
            "mask_interpolation", "border_mode", "fill", "fill_mask",
        )  # fmt: skip

        amplitude_range: Annotated[FloatRange, AfterValidator(_positive)] = (0.01, 0.05)
        wavelength_range: Annotated[FloatRange, AfterValidator(_positive)] = (0.05, 0.2)
        num_waves_range: Annotated[IntRange, Bounded("count")] = (3, 7)
        border_mode: BorderMode = 4  # cv2.BORDER_REFLECT_101
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> WaterRefraction.InitSchema:
            if self.num_waves_range[0] < 1:
                raise ValueError(f"num_waves_range must be >= 1, got {self.num_waves_range}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        side = max(sample.shape)
        count = integer(rng, self.num_waves_range[0], self.num_waves_range[1] + 1)
        waves = [
            [
                uniform(rng, *self.wavelength_range) * side,
                uniform(rng, 0.0, 2 * math.pi),
                uniform(rng, 0.0, 2 * math.pi),
            ]
            for _ in range(count)
        ]
        return {"amplitude": uniform(rng, *self.amplitude_range) * side, "waves": waves}

    def maps(self, params: Mapping[str, Any], shape: tuple[int, int]) -> kd.Maps:
        return kd.water_refraction_maps(shape, float(params["amplitude"]), np.asarray(params["waves"]))


class PixelSpread(_DenseDistortion, WarpArgs):
    """Scatter pixels: each output pixel takes the value of a random source in its neighbourhood.

    For every pixel an offset is drawn independently and uniformly from the integers of
    ``[-radius, radius]`` in x and in y, and the pixel is read from there. Unlike a blur nothing
    is averaged, and unlike an elastic warp the field is not smooth: local structure breaks up
    while objects stay where they were. The same map moves every target.

    Per target: image (``interpolation``; outside samples by ``border_mode`` / ``fill``), mask
    (``mask_interpolation``, ``fill_mask``). bboxes: the border of each box moves through the
    same map and is re-boxed (boxes may grow by up to ``radius``). keypoints: moved through the
    numerical inverse of the map (within ``radius`` pixels).

    Args:
        radius: largest offset in pixels in each direction (>= 1). Default: 2.
        interpolation, mask_interpolation: OpenCV flags. Defaults: 0 (nearest), 0 (nearest).
        border_mode: OpenCV border mode. Default: 4 (reflect-101).
        fill, fill_mask: values for constant borders. Defaults: 0, 0.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    radius: int

    class InitSchema(WarpSchema):
        argument_order = ("radius", "interpolation", "mask_interpolation", "border_mode", "fill", "fill_mask")

        radius: Annotated[int, Bounded("length")] = Field(default=2, ge=1)
        interpolation: WarpInterpolation = 0  # cv2.INTER_NEAREST: pixels move, values do not mix
        border_mode: BorderMode = 4  # cv2.BORDER_REFLECT_101
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"seed": draw_seed(rng)}

    def maps(self, params: Mapping[str, Any], shape: tuple[int, int]) -> kd.Maps:
        # Independent integer offsets in [-radius, radius], rebuilt from the recorded seed.
        rng = np.random.default_rng(int(params["seed"]))
        return kd.scatter_maps(rng.integers(-self.radius, self.radius + 1, (2, *shape)))
