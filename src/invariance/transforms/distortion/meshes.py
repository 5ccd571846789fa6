"""Warps driven by control points: piecewise affine, thin-plate spline and a distorted mesh."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, BeforeValidator, Field

from invariance.core.budget import Bounded
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import (
    FloatRange,
    IntRange,
    Probability,
    ResampleArgs,
    ResampleSchema,
    WarpArgs,
    WarpSchema,
    from_zero,
    same,
)
from invariance.kernels import distortion as kd
from invariance.transforms.distortion.base import KeypointRemapping, _DenseDistortion


def _non_negative(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] < 0:
        raise ValueError(f"the range must be non-negative, got {pair}")
    return pair


def _unit(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] < 0 or pair[1] > 1:
        raise ValueError(f"the range must lie inside [0, 1], got {pair}")
    return pair


def _at_least_one(pair: tuple[int, int]) -> tuple[int, int]:
    if min(pair) < 1:
        raise ValueError(f"both values must be >= 1, got {pair}")
    return pair


class PiecewiseAffine(_DenseDistortion, WarpArgs):
    """Jitter a regular grid of control points and warp each triangle of the grid affinely.

    An ``nb_rows x nb_cols`` grid spans the image (corner nodes on the corner pixels); every
    node is moved by gaussian noise of standard deviation ``scale * min(H, W) / 3`` (or
    ``scale / 3`` pixels with ``absolute_scale``) and clipped to the image. Output pixels at
    the grid nodes sample the moved nodes; each grid cell is split into two triangles mapped
    affinely, so the map is continuous and piecewise linear.

    Albumentations 2.0.8 builds this map by inverse-distance weighting of all control points
    instead (not piecewise affine; it pulls the image towards the centre, ~10 px RMS on a 128 px
    image at the defaults, and loops over pixels in Python). Here the map is the piecewise affine
    one its name promises: node displacements have exactly the documented spread (~1.7 px there).

    Per target: image (``interpolation``), mask (``mask_interpolation``). bboxes: border moved
    through the same map, re-boxed, clipped, filtered. keypoints: moved through the inverse map,
    angle and scale through its Jacobian.

    Args:
        scale: range of the jitter scale; a number ``x`` means ``(0, x)``. Default: (0.03, 0.05).
        nb_rows, nb_cols: ranges of the grid's node counts (at least 2 are used); a number ``n``
            means exactly ``n``. Defaults: (4, 4).
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        absolute_scale: ``scale`` is in pixels instead of a fraction of the image size.
        keypoint_remapping_method: accepted for compatibility; points always use the exact inverse.
        border_mode, fill, fill_mask: how pixels sampled outside the input are filled.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"scale": (0.03, 0.05), "nb_rows": 4, "nb_cols": 4}

    scale: tuple[float, float]
    nb_rows: tuple[int, int]
    nb_cols: tuple[int, int]
    absolute_scale: bool

    class InitSchema(WarpSchema):
        # Albumentations' positional order: the shared fields interleave with the own ones.
        argument_order = (
            "scale",
            "nb_rows",
            "nb_cols",
            "interpolation",
            "mask_interpolation",
            "absolute_scale",
            "keypoint_remapping_method",
            "border_mode",
            "fill",
            "fill_mask",
        )

        scale: Annotated[FloatRange, BeforeValidator(from_zero), AfterValidator(_non_negative)] = (0.03, 0.05)
        nb_rows: Annotated[
            IntRange, BeforeValidator(same), AfterValidator(_at_least_one), Bounded("count")
        ] = (4, 4)
        nb_cols: Annotated[
            IntRange, BeforeValidator(same), AfterValidator(_at_least_one), Bounded("count")
        ] = (4, 4)
        absolute_scale: bool = False
        keypoint_remapping_method: KeypointRemapping = "mask"
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        rows = max(int(rng.integers(self.nb_rows[0], self.nb_rows[1] + 1)), 2)
        cols = max(int(rng.integers(self.nb_cols[0], self.nb_cols[1] + 1)), 2)
        scale = float(uniform(rng, *self.scale))
        h, w = sample.shape
        spread = scale / 3 if self.absolute_scale else scale * min(h, w) / 3
        jitter = rng.normal(0.0, spread, (rows, cols, 2)) if spread > 0 else np.zeros((rows, cols, 2))
        return {"jitter": jitter.tolist()}

    def maps(self, params: Mapping[str, Any], shape: tuple[int, int]) -> kd.Maps:
        h, w = shape
        jitter = np.asarray(params["jitter"], dtype=np.float64)
        rows, cols = jitter.shape[:2]
        xs = np.linspace(0.0, max(w - 1, 1), cols)
        ys = np.linspace(0.0, max(h - 1, 1), rows)
        sources = np.empty((rows, cols, 2))
        sources[..., 0] = np.clip(xs[None, :] + jitter[..., 0], 0, w - 1)
        sources[..., 1] = np.clip(ys[:, None] + jitter[..., 1], 0, h - 1)
        return kd.piecewise_affine_maps(xs, ys, sources, shape)


def tps_control_points(count: int) -> np.ndarray:
    """Normalized control points: a ``count x count`` grid on ``[0, 1]^2`` (corners and centre for 2)."""
    if count == 2:
        return np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.5]])
    axis = np.linspace(0.0, 1.0, count)
    xx, yy = np.meshgrid(axis, axis)
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


class ThinPlateSpline(_DenseDistortion, WarpArgs):
    """Smooth bending through randomly moved control points (thin-plate spline).

    Control points on a ``num_control_points`` square grid over the image (corners and centre
    when 2) are moved by gaussian noise of standard deviation ``s / 10`` of the image size, ``s``
    drawn from ``scale_range``. The output pixel at a control point samples the moved point; in
    between, the thin-plate spline (least bending energy) interpolates.

    Albumentations 2.0.8 solves for the spline with one radial basis and evaluates it with
    another, so its warp misses the control points and is several times stronger than the
    documented spread (~20 px RMS against ~4 px here on a 128 px image at the defaults).

    Per target: image (``interpolation``), mask (``mask_interpolation``). bboxes: border moved
    through the same map, re-boxed, clipped, filtered. keypoints: moved through the inverse map,
    angle and scale through its Jacobian.

    Args:
        scale_range: range of ``s`` inside [0, 1]. Default: (0.2, 0.4).
        num_control_points: control points per side, >= 2. Default: 4.
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        keypoint_remapping_method: accepted for compatibility; points always use the exact inverse.
        border_mode, fill, fill_mask: how pixels sampled outside the input are filled.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"scale_range": (0.2, 0.4), "num_control_points": 4}

    scale_range: tuple[float, float]
    num_control_points: int

    class InitSchema(WarpSchema):
        # Albumentations' positional order: the shared fields interleave with the own ones.
        argument_order = (
            "scale_range",
            "num_control_points",
            "interpolation",
            "mask_interpolation",
            "keypoint_remapping_method",
            "border_mode",
            "fill",
            "fill_mask",
        )

        scale_range: Annotated[FloatRange, AfterValidator(_unit)] = (0.2, 0.4)
        num_control_points: Annotated[int, Bounded("count")] = Field(default=4, ge=2)
        keypoint_remapping_method: KeypointRemapping = "mask"
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        controls = tps_control_points(self.num_control_points)
        spread = float(uniform(rng, *self.scale_range)) / 10
        targets = controls + rng.normal(0.0, spread, controls.shape)
        return {"targets": targets.tolist()}

    def maps(self, params: Mapping[str, Any], shape: tuple[int, int]) -> kd.Maps:
        controls = tps_control_points(self.num_control_points)
        targets = np.asarray(params["targets"], dtype=np.float64).reshape(-1, 2)
        return kd.thin_plate_spline_maps(controls, targets, shape)


class GridElasticDeform(_DenseDistortion, ResampleArgs):
    """Cut the image into a grid and displace every inner grid vertex by a random integer offset.

    The grid has ``num_grid_xy = (columns, rows)`` cells of almost equal size (which cells get
    the extra pixel is random). Each inner vertex of the output grid samples the input up to
    ``magnitude`` pixels away in x and y; the image border stays fixed; inside a cell the map
    is bilinear in the corners, so the warp is continuous across cell edges.

    Albumentations 2.0.8 carries each cell rectangle onto its distorted quadrilateral with a
    separate perspective map; neighbouring maps disagree along shared edges, so the image tears
    slightly at the seams and a point there may have no image. The bilinear mesh keeps the same
    vertex statistics without tears.

    Per target: image (``interpolation``), mask (``mask_interpolation``). bboxes: border moved
    through the same map, re-boxed, clipped, filtered. keypoints: moved through the inverse map,
    angle and scale through its Jacobian.

    Args:
        num_grid_xy: grid cells along the width and the height, each >= 1. Required.
        magnitude: largest vertex displacement in pixels, > 0. Required.
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        p: probability of applying the transform. Default: 1.0.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"num_grid_xy": (4, 4), "magnitude": 6}

    num_grid_xy: tuple[int, int]
    magnitude: int

    class InitSchema(ResampleSchema):
        num_grid_xy: Annotated[tuple[int, int], AfterValidator(_at_least_one), Bounded("count")]
        magnitude: int = Field(gt=0)
        p: Probability = 1.0

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        cols, rows = min(self.num_grid_xy[0], w), min(self.num_grid_xy[1], h)
        widths = kd.almost_equal_splits(w, cols)
        heights = kd.almost_equal_splits(h, rows)
        rng.shuffle(heights)
        rng.shuffle(widths)
        offsets = rng.integers(-self.magnitude, self.magnitude + 1, (rows - 1, cols - 1, 2))
        return {
            "x_edges": np.concatenate([[0], np.cumsum(widths)]).tolist(),
            "y_edges": np.concatenate([[0], np.cumsum(heights)]).tolist(),
            "offsets": offsets.tolist(),
        }

    def maps(self, params: Mapping[str, Any], shape: tuple[int, int]) -> kd.Maps:
        x_edges = np.asarray(params["x_edges"], dtype=np.float64)
        y_edges = np.asarray(params["y_edges"], dtype=np.float64)
        rows, cols = len(y_edges) - 1, len(x_edges) - 1
        vertices = np.stack(np.meshgrid(x_edges, y_edges), axis=2)
        if rows > 1 and cols > 1:
            offsets = np.asarray(params["offsets"], dtype=np.float64).reshape(rows - 1, cols - 1, 2)
            vertices[1:-1, 1:-1] += offsets
        return kd.mesh_maps(x_edges, y_edges, vertices, shape)
