"""Smooth random warps: elastic fields, grid distortion and lens distortion."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, Field

from invariance.core.budget import Bounded
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import (
    Probability,
    SymmetricRange,
    WarpArgs,
    WarpSchema,
)
from invariance.kernels import distortion as kd
from invariance.transforms.distortion.base import KeypointRemapping, _DenseDistortion, draw_seed
from invariance.transforms.noise._draw import standard_normal


def _within_one(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] < -1.0 or pair[1] > 1.0:
        raise ValueError(f"the range must lie inside [-1, 1], got {pair}")
    return pair


class ElasticTransform(_DenseDistortion, WarpArgs):
    """Elastic deformation (Simard et al., 2003): a smooth random displacement of every pixel.

    Two random fields (uniform in [-1, 1], or gaussian scaled so its largest magnitude is 1) are
    smoothed by a gaussian of standard deviation ``sigma`` and multiplied by ``alpha``; output pixel
    ``(x, y)`` samples the input at ``(x + dx, y + dy)``. For ``sigma >= 3`` (and not
    ``approximate``) the smoothed fields are drawn on a grid of nodes ``2/3 sigma`` apart and
    upsampled: the same per-pixel spread and spatial correlation (tested), 10-20x fewer random
    numbers (see ``kernels.distortion.coarse_displacement``).

    Per target: image (``interpolation``, outside pixels by ``border_mode`` / ``fill``), mask
    (``mask_interpolation``, ``fill_mask``). bboxes: the border of each box is moved through the
    same map and re-boxed, then clipped and filtered. keypoints: moved through the inverse of the
    map (to ~1e-3 px), angle turned and scale stretched by the local Jacobian.

    Args:
        alpha: displacement strength, >= 0. Default: 1.
        sigma: gaussian smoothing of the fields in pixels, >= 1. Default: 50.
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        approximate: smooth with a fixed 17x17 kernel (faster, less smooth for large ``sigma``).
        same_dxdy: use one field for both directions (displacement along the diagonal).
        noise_distribution: ``gaussian`` or ``uniform``. Default: gaussian.
        keypoint_remapping_method: accepted for compatibility; points always use the exact inverse.
        border_mode, fill, fill_mask: how pixels sampled outside the input are filled.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"alpha": 30.0, "sigma": 6.0}

    alpha: float
    sigma: float
    approximate: bool
    same_dxdy: bool
    noise_distribution: str

    class InitSchema(WarpSchema):
        # Albumentations' positional order: the shared fields interleave with the own ones.
        argument_order = (
            "alpha",
            "sigma",
            "interpolation",
            "approximate",
            "same_dxdy",
            "mask_interpolation",
            "noise_distribution",
            "keypoint_remapping_method",
            "border_mode",
            "fill",
            "fill_mask",
        )

        alpha: float = Field(default=1.0, ge=0)
        sigma: Annotated[float, Bounded("sigma")] = Field(default=50.0, ge=1)
        approximate: bool = False
        same_dxdy: bool = False
        noise_distribution: Literal["gaussian", "uniform"] = "gaussian"
        keypoint_remapping_method: KeypointRemapping = "mask"
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"seed": draw_seed(rng)}

    def maps(self, params: Mapping[str, Any], shape: tuple[int, int]) -> kd.Maps:
        rng = np.random.default_rng(int(params["seed"]))
        count = 1 if self.same_dxdy else 2
        if not self.approximate and self.sigma >= kd.COARSE_MIN_SIGMA:
            return kd.displacement_maps_inplace(self._coarse_fields(rng, count, shape))
        if self.noise_distribution == "gaussian":
            noise = rng.standard_normal((count, *shape), dtype=np.float32)
            peak = float(np.abs(noise).max())
            if peak > 1e-6:
                noise /= peak
        else:
            noise = rng.uniform(-1.0, 1.0, (count, *shape)).astype(np.float32)
        fields = kd.smooth_displacement(noise, self.sigma, self.alpha, 17 if self.approximate else 0)
        return kd.displacement_maps(fields[0], fields[-1])

    def _coarse_fields(self, rng: np.random.Generator, count: int, shape: tuple[int, int]) -> np.ndarray:
        """The same distribution as the full-resolution fields, drawn on a coarse grid.

        The full method draws ``count x H x W`` noise values, blurs them and (gaussian) divides by
        the largest magnitude drawn. Here the coarse nodes and the four edge lines are drawn
        instead, and that largest magnitude is drawn from its own distribution
        (``kd.normal_peak``), so the strength is that of the full draw.
        """
        height, width = shape
        grid = kd.coarse_shape(shape, self.sigma)
        if self.noise_distribution == "gaussian":
            # The inverse-CDF table sampler (65,536 quantiles, 3x faster than numpy's): the
            # nodes are blurred over ~25 neighbours, far below any effect of the quantisation.
            noise = standard_normal(rng, (count, *grid))
            columns = standard_normal(rng, (count, 2, height))
            rows = standard_normal(rng, (count, 2, width))
            scale = self.alpha / kd.normal_peak(float(rng.random()), count * height * width)
        else:
            noise = rng.uniform(-1.0, 1.0, (count, *grid)).astype(np.float32)
            columns = rng.uniform(-1.0, 1.0, (count, 2, height)).astype(np.float32)
            rows = rng.uniform(-1.0, 1.0, (count, 2, width)).astype(np.float32)
            scale = self.alpha
        return kd.coarse_displacement(noise, columns, rows, shape, self.sigma, scale)


class GridDistortion(_DenseDistortion, WarpArgs):
    """Stretch and squeeze the image along a grid of ``num_steps`` cells per axis.

    Each of the ``num_steps + 1`` column bands (and row bands) samples an input band
    ``1 + d`` times its own width, ``d`` drawn from ``distort_limit``; the map is linear inside a
    band and separable (columns and rows independently). With ``normalized`` the steps are
    rescaled so the distorted grid spans exactly the input (nothing is sampled outside).

    Per target: image (``interpolation``), mask (``mask_interpolation``). bboxes: border moved
    through the same map, re-boxed, clipped, filtered. keypoints: moved through the inverse map,
    angle and scale through its Jacobian.

    Args:
        num_steps: grid cells per side, >= 1. Default: 5.
        distort_limit: range of ``d``, inside [-1, 1]; a number ``x`` means ``(-x, x)``.
            Default: (-0.3, 0.3).
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        normalized: keep the distorted grid inside the image. Default: True.
        keypoint_remapping_method: accepted for compatibility; points always use the exact inverse.
        border_mode, fill, fill_mask: how pixels sampled outside the input are filled.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"num_steps": 5, "distort_limit": 0.3}

    num_steps: int
    distort_limit: tuple[float, float]
    normalized: bool

    class InitSchema(WarpSchema):
        # Albumentations' positional order: the shared fields interleave with the own ones.
        argument_order = (
            "num_steps",
            "distort_limit",
            "interpolation",
            "normalized",
            "mask_interpolation",
            "keypoint_remapping_method",
            "border_mode",
            "fill",
            "fill_mask",
        )

        num_steps: Annotated[int, Bounded("count")] = Field(default=5, ge=1)
        distort_limit: Annotated[SymmetricRange, AfterValidator(_within_one)] = (-0.3, 0.3)
        normalized: bool = True
        keypoint_remapping_method: KeypointRemapping = "mask"
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        low, high = self.distort_limit
        steps_x = 1.0 + rng.uniform(low, high, self.num_steps + 1)
        steps_y = 1.0 + rng.uniform(low, high, self.num_steps + 1)
        if self.normalized:
            h, w = sample.shape
            steps_x = kd.normalize_grid_steps(w, self.num_steps, steps_x)
            steps_y = kd.normalize_grid_steps(h, self.num_steps, steps_y)
        return {"steps_x": steps_x.tolist(), "steps_y": steps_y.tolist()}

    def maps(self, params: Mapping[str, Any], shape: tuple[int, int]) -> kd.Maps:
        return kd.grid_distortion_maps(
            shape, np.asarray(params["steps_x"]), np.asarray(params["steps_y"]), self.num_steps
        )


class OpticalDistortion(_DenseDistortion, WarpArgs):
    """Lens distortion about the image centre with a random coefficient ``k``.

    ``mode="camera"``: OpenCV's Brown-Conrady model with ``k1 = k2 = k`` and focal lengths equal
    to the image size. ``mode="fisheye"``: the radial map ``r -> r (1 + k (r / R)^2)``, ``R`` the
    distance from the centre to a corner. Negative ``k`` gives barrel distortion, positive
    pincushion.

    Per target: image (``interpolation``), mask (``mask_interpolation``). bboxes: border moved
    through the same map, re-boxed, clipped, filtered. keypoints: moved through the inverse map,
    angle and scale through its Jacobian.

    Args:
        distort_limit: range of ``k``; a number ``x`` means ``(-x, x)``.
            Default: (-0.05, 0.05).
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        mode: ``camera`` or ``fisheye``. Default: camera.
        keypoint_remapping_method: accepted for compatibility; points always use the exact inverse.
        border_mode, fill, fill_mask: how pixels sampled outside the input are filled.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"distort_limit": 0.3}

    distort_limit: tuple[float, float]
    mode: str

    class InitSchema(WarpSchema):
        # Albumentations' positional order: the shared fields interleave with the own ones.
        argument_order = (
            "distort_limit",
            "interpolation",
            "mask_interpolation",
            "mode",
            "keypoint_remapping_method",
            "border_mode",
            "fill",
            "fill_mask",
        )

        distort_limit: SymmetricRange = (-0.05, 0.05)
        mode: Literal["camera", "fisheye"] = "camera"
        keypoint_remapping_method: KeypointRemapping = "mask"
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"k": float(uniform(rng, *self.distort_limit))}

    def maps(self, params: Mapping[str, Any], shape: tuple[int, int]) -> kd.Maps:
        k = float(params["k"])
        if self.mode == "camera":
            return kd.camera_distortion_maps(shape, k)
        return kd.fisheye_distortion_maps(shape, k)
