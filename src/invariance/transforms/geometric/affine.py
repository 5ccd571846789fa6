"""Rotations and general affine maps, declared as matrices."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, model_validator

from invariance.core.budget import check_output
from invariance.core.geometry import Chain, CropWindow, Geometry, Projective, apply_matrix, rect_corners
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import (
    FloatRange,
    Probability,
    Slider,
    SymmetricRange,
    WarpArgs,
    WarpSchema,
    same,
)
from invariance.core.transform import SpatialTransform

RotateMethod = Literal["largest_box", "ellipse"]


def rotation_about(angle_deg: float, cx: float, cy: float) -> np.ndarray:
    """Counter-clockwise (as displayed) rotation by ``angle_deg`` about ``(cx, cy)``."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, s, cx - c * cx - s * cy], [-s, c, cy + s * cx - c * cy], [0.0, 0.0, 1.0]])


def affine_matrix(
    shape: tuple[int, int],
    scale: tuple[float, float],
    rotate: float,
    shear: tuple[float, float],
    translate: tuple[float, float],
) -> np.ndarray:
    """Scale, rotate (degrees, counter-clockwise), shear (degrees) about the centre, then translate (px).

    The map is ``C T Sh R S C^-1`` with ``C`` the translation to the image centre. Shear angles
    follow the Albumentations/imgaug sign convention: a positive x shear moves the top of the
    image right (``x' = x - tan(shear_x) y`` about the centre).
    """
    h, w = shape
    cx, cy = w / 2.0, h / 2.0
    a = math.radians(rotate)
    cos, sin = math.cos(a), math.sin(a)
    sx, sy = scale
    shear_x, shear_y = math.tan(math.radians(-shear[0])), math.tan(math.radians(-shear[1]))
    # The linear part Sh R S multiplied out (3x3 numpy products cost ten times the arithmetic),
    # then the centre moved back: x' = L (x - c) + c + t.
    l00, l01 = (cos - shear_x * sin) * sx, (sin + shear_x * cos) * sy
    l10, l11 = (shear_y * cos - sin) * sx, (shear_y * sin + cos) * sy
    tx = cx + translate[0] - (l00 * cx + l01 * cy)
    ty = cy + translate[1] - (l10 * cx + l11 * cy)
    return np.array([[l00, l01, tx], [l10, l11, ty], [0.0, 0.0, 1.0]])


def fit_to_output(matrix: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """Shift ``matrix`` so the whole transformed image is visible, and the output size that holds it."""
    h, w = shape
    corners = apply_matrix(matrix, np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]]))
    low = corners.min(axis=0)
    high = corners.max(axis=0)
    shift = np.array([[1.0, 0, -low[0]], [0, 1.0, -low[1]], [0, 0, 1.0]])
    out_w = max(math.ceil(high[0] - low[0] - 1e-6), 1)
    out_h = max(math.ceil(high[1] - low[1] - 1e-6), 1)
    return shift @ matrix, (out_h, out_w)


def largest_rotated_rect(h: int, w: int, angle_deg: float) -> tuple[int, int, int, int]:
    """Pixel bounds ``x0, y0, x1, y1`` of the largest axis-aligned rectangle inside a ``h x w``
    image rotated by ``angle_deg`` about its centre.

    Each bound is the exact edge truncated to a whole pixel (as Albumentations does), so the
    window covers every pixel column the exact rectangle touches: one more than ``int(width)``
    when the rectangle does not start on a pixel edge.
    """
    if w <= 0 or h <= 0:
        return 0, 0, 0, 0
    angle = math.radians(angle_deg)
    width_is_longer = w >= h
    side_long, side_short = (w, h) if width_is_longer else (h, w)
    sin_a, cos_a = abs(math.sin(angle)), abs(math.cos(angle))
    if side_short <= 2.0 * sin_a * cos_a * side_long or abs(sin_a - cos_a) < 1e-10:
        x = 0.5 * side_short
        wr, hr = (x / sin_a, x / cos_a) if width_is_longer else (x / cos_a, x / sin_a)
    else:
        cos_2a = cos_a * cos_a - sin_a * sin_a
        wr, hr = (w * cos_a - h * sin_a) / cos_2a, (h * cos_a - w * sin_a) / cos_2a
    x0, x1 = max(0, int(w / 2 - wr / 2)), min(w, int(w / 2 + wr / 2))
    y0, y1 = max(0, int(h / 2 - hr / 2)), min(h, int(h / 2 + hr / 2))
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)


class Rotate(SpatialTransform, WarpArgs):
    """Rotate by a random angle from ``limit`` (degrees, positive = counter-clockwise) about the centre.

    Per target: image (``interpolation``, uncovered corners made by ``border_mode`` / ``fill``), mask
    (``mask_interpolation``, ``fill_mask``). bboxes: the box corners (``largest_box``) or its
    inscribed ellipse (``ellipse``, tighter) are rotated and re-boxed, then clipped and filtered.
    keypoints: rotated, angle turned by the same amount. With ``crop_border`` the output is the
    largest upright rectangle inside the rotated image, so it has no border (and a smaller size).

    Args:
        limit: angle range in degrees; a single number ``x`` means ``(-x, x)``. Default: (-90, 90).
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        border_mode, fill, fill_mask: how uncovered pixels are filled.
        rotate_method: ``largest_box`` or ``ellipse`` for boxes.
        crop_border: crop to the largest rectangle without border.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"limit": 30}

    limit: tuple[float, float]
    crop_border: bool

    class InitSchema(WarpSchema):
        # Albumentations' positional order: the shared fields interleave with the own ones.
        argument_order = (
            "limit",
            "interpolation",
            "border_mode",
            "rotate_method",
            "crop_border",
            "mask_interpolation",
            "fill",
            "fill_mask",
        )

        limit: Annotated[SymmetricRange, Slider(-180, 180, 1)] = (-90.0, 90.0)
        rotate_method: RotateMethod = "largest_box"
        crop_border: bool = False
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"angle": float(uniform(rng, *self.limit))}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        h, w = sample.shape
        angle = float(params["angle"])
        rotation = Projective(rotation_about(angle, w / 2.0, h / 2.0), sample.shape, sample.shape)
        if not self.crop_border:
            return rotation
        x0, y0, x1, y1 = largest_rotated_rect(h, w, angle)
        window = CropWindow(x0, y0, sample.shape, (y1 - y0, x1 - x0))
        return Chain((rotation, window))


def _axis_ranges(value: Any) -> Any:
    """Albumentations' per-axis arguments: a number, a range, or ``{"x": ..., "y": ...}``."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {axis: same(value.get(axis, 0.0)) for axis in ("x", "y")}
    pair = same(value)
    return {"x": pair, "y": pair}


AxisRanges = Annotated[dict[str, FloatRange], BeforeValidator(_axis_ranges)]


class Affine(SpatialTransform, WarpArgs):
    """Random scale, rotation, shear and translation about the image centre, in one warp.

    Each of ``scale``, ``translate_percent``, ``translate_px`` and ``shear`` is a number (fixed), a
    range ``(low, high)``, or a dict ``{"x": ..., "y": ...}`` of those. ``rotate`` is a number or a
    range in degrees (positive = counter-clockwise).

    Per target: image (``interpolation``, ``border_mode`` / ``fill``), mask (``mask_interpolation``,
    ``fill_mask``). bboxes: corners (or inscribed ellipse, ``rotate_method``) mapped and re-boxed,
    then clipped and filtered. keypoints: mapped; angle turned and scale multiplied by the map's
    largest stretch.

    Args:
        scale: scale factor(s). Default: 1 (no scaling).
        translate_percent: shift as a fraction of the image size. Default: None.
        translate_px: shift in pixels (used when ``translate_percent`` is None). Default: 0.
        rotate: angle(s) in degrees. Default: 0.
        shear: shear angle(s) in degrees, per axis. Default: 0.
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        fit_output: enlarge the output so the whole transformed image is visible.
        keep_ratio: use the x scale for y too (aspect ratio kept).
        rotate_method: ``largest_box`` or ``ellipse`` for boxes.
        balanced_scale: draw zoom-in and zoom-out equally often (below and above 1).
        border_mode, fill, fill_mask: how uncovered pixels are filled.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {
        "scale": (0.8, 1.2),
        "rotate": (-20, 20),
        "shear": (-5, 5),
        "translate_percent": (-0.1, 0.1),
    }

    scale: dict[str, tuple[float, float]]
    translate_percent: dict[str, tuple[float, float]] | None
    translate_px: dict[str, tuple[float, float]] | None
    rotate: tuple[float, float]
    shear: dict[str, tuple[float, float]]
    fit_output: bool
    keep_ratio: bool
    balanced_scale: bool

    class InitSchema(WarpSchema):
        # Albumentations' positional order: the shared fields interleave with the own ones.
        argument_order = (
            "scale",
            "translate_percent",
            "translate_px",
            "rotate",
            "shear",
            "interpolation",
            "mask_interpolation",
            "fit_output",
            "keep_ratio",
            "rotate_method",
            "balanced_scale",
            "border_mode",
            "fill",
            "fill_mask",
        )

        scale: Annotated[AxisRanges, Slider(0.1, 3.0, 0.01)] = {"x": (1.0, 1.0), "y": (1.0, 1.0)}
        translate_percent: Annotated[AxisRanges, Slider(-0.5, 0.5, 0.01)] | None = None
        translate_px: Annotated[AxisRanges, Slider(-256, 256, 1)] | None = None
        rotate: Annotated[FloatRange, BeforeValidator(same), Slider(-180, 180, 1)] = (0.0, 0.0)
        shear: Annotated[AxisRanges, Slider(-45, 45, 1)] = {"x": (0.0, 0.0), "y": (0.0, 0.0)}
        fit_output: bool = False
        keep_ratio: bool = False
        rotate_method: RotateMethod = "largest_box"
        balanced_scale: bool = False
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> Affine.InitSchema:
            if self.translate_percent is not None and self.translate_px is not None:
                raise ValueError("pass either translate_percent or translate_px, not both")
            for axis, (low, _) in self.scale.items():
                if low <= 0:
                    raise ValueError(f"scale[{axis!r}] must be > 0, got {self.scale[axis]}")
            if self.keep_ratio and self.scale["x"] != self.scale["y"]:
                raise ValueError(f"keep_ratio=True needs the same x and y scale range, got {self.scale}")
            if self.translate_px is None and self.translate_percent is None:
                self.translate_px = {"x": (0.0, 0.0), "y": (0.0, 0.0)}
            return self

    def _draw_scale(self, rng: np.random.Generator, low: float, high: float) -> float:
        if self.balanced_scale and low < 1.0 < high:
            return uniform(rng, low, 1.0) if rng.random() < 0.5 else uniform(rng, 1.0, high)
        return uniform(rng, low, high)

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        sx = self._draw_scale(rng, *self.scale["x"])
        sy = sx if self.keep_ratio else self._draw_scale(rng, *self.scale["y"])
        if self.translate_percent is not None:
            # Whole pixels (truncated), as Albumentations converts percentages.
            tx = float(int(uniform(rng, *self.translate_percent["x"]) * w))
            ty = float(int(uniform(rng, *self.translate_percent["y"]) * h))
        else:
            assert self.translate_px is not None
            tx, ty = (_whole_pixels(rng, *self.translate_px[axis]) for axis in ("x", "y"))
        return {
            "scale": (sx, sy),
            "rotate": float(uniform(rng, *self.rotate)),
            "shear": (uniform(rng, *self.shear["x"]), uniform(rng, *self.shear["y"])),
            "translate": (tx, ty),
        }

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        matrix = affine_matrix(
            sample.shape,
            tuple(params["scale"]),
            float(params["rotate"]),
            tuple(params["shear"]),
            tuple(params["translate"]),
        )
        out_shape = sample.shape
        if self.fit_output:
            matrix, out_shape = fit_to_output(matrix, sample.shape)
            check_output("Affine", "scale (with fit_output=True)", *out_shape)
        return Projective(matrix, sample.shape, out_shape)


def _whole_pixels(rng: np.random.Generator, low: float, high: float) -> float:
    """A whole number of pixels drawn uniformly from ``[low, high]`` (``rng.integers``); a range
    of one value is that value without a call (numpy draws nothing for it either, and the call
    costs 2.5 us: the default translation is ``(0, 0)``)."""
    low_px, high_px = int(low), int(high)
    return float(low_px) if high_px == low_px else float(rng.integers(low_px, high_px + 1))


def fit_exactly(matrix: np.ndarray, in_shape: tuple[int, int], out_shape: tuple[int, int]) -> np.ndarray:
    """Follow ``matrix`` by the shift and per-axis scale that put the moved image exactly in ``out_shape``."""
    corners = apply_matrix(matrix, rect_corners(in_shape))
    low, high = corners.min(axis=0), corners.max(axis=0)
    extent = np.maximum(high - low, 1e-9)
    oh, ow = out_shape
    sx, sy = ow / extent[0], oh / extent[1]
    fit = np.array([[sx, 0.0, -low[0] * sx], [0.0, sy, -low[1] * sy], [0.0, 0.0, 1.0]])
    result: np.ndarray = fit @ matrix
    return result


class ShiftScaleRotate(SpatialTransform, WarpArgs):
    """Randomly shift, scale and rotate about the image centre, in one warp (an :class:`Affine`).

    The scale factor is ``1 + s`` with ``s`` drawn from ``scale_limit``; the shift is a fraction of
    the image width (x) and height (y); the angle is in degrees, positive = counter-clockwise.

    Per target: image (``interpolation``, ``border_mode`` / ``fill``), mask (``mask_interpolation``,
    ``fill_mask``). bboxes: corners (or inscribed ellipse, ``rotate_method``) mapped and re-boxed,
    then clipped and filtered; labels follow. keypoints: mapped, angle turned by the rotation,
    scale multiplied by the scale factor.

    Args:
        shift_limit: shift range as a fraction of the size; a number ``x`` means ``(-x, x)``.
            Default: (-0.0625, 0.0625).
        scale_limit: scale range around 1; a number ``x`` means ``(-x, x)``. Default: (-0.1, 0.1).
        rotate_limit: angle range in degrees; a number ``x`` means ``(-x, x)``. Default: (-45, 45).
        interpolation: OpenCV flag for images. Default: linear.
        border_mode: how uncovered pixels are made. Default: constant.
        shift_limit_x, shift_limit_y: per-axis shift ranges overriding ``shift_limit``. Default: None.
        rotate_method: ``largest_box`` or ``ellipse`` for boxes.
        mask_interpolation: OpenCV flag for masks. Default: nearest.
        fill, fill_mask: constant border values for images and masks. Default: 0.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"shift_limit": 0.1, "scale_limit": 0.2, "rotate_limit": 30}

    shift_limit: tuple[float, float]
    scale_limit: tuple[float, float]
    rotate_limit: tuple[float, float]
    shift_limit_x: tuple[float, float] | None
    shift_limit_y: tuple[float, float] | None

    class InitSchema(WarpSchema):
        # Albumentations' positional order: the shared fields interleave with the own ones.
        argument_order = (
            "shift_limit",
            "scale_limit",
            "rotate_limit",
            "interpolation",
            "border_mode",
            "shift_limit_x",
            "shift_limit_y",
            "rotate_method",
            "mask_interpolation",
            "fill",
            "fill_mask",
        )

        shift_limit: SymmetricRange = (-0.0625, 0.0625)
        scale_limit: SymmetricRange = (-0.1, 0.1)
        rotate_limit: SymmetricRange = (-45.0, 45.0)
        shift_limit_x: SymmetricRange | None = None
        shift_limit_y: SymmetricRange | None = None
        rotate_method: RotateMethod = "largest_box"
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> ShiftScaleRotate.InitSchema:
            if self.scale_limit[0] <= -1.0:
                raise ValueError(f"scale_limit must stay above -1 (scale 1 + s > 0), got {self.scale_limit}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        shift_x = self.shift_limit if self.shift_limit_x is None else self.shift_limit_x
        shift_y = self.shift_limit if self.shift_limit_y is None else self.shift_limit_y
        scale = 1.0 + float(uniform(rng, *self.scale_limit))
        return {
            "angle": float(uniform(rng, *self.rotate_limit)),
            "scale": scale,
            # Whole pixels (truncated), as Albumentations shifts.
            "dx": float(int(float(rng.uniform(*shift_x)) * w)),
            "dy": float(int(float(rng.uniform(*shift_y)) * h)),
        }

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        scale = float(params["scale"])
        matrix = affine_matrix(
            sample.shape,
            (scale, scale),
            float(params["angle"]),
            (0.0, 0.0),
            (float(params["dx"]), float(params["dy"])),
        )
        return Projective(matrix, sample.shape, sample.shape)


class SafeRotate(SpatialTransform, WarpArgs):
    """Rotate by a random angle and shrink so that the whole rotated image fits the original size.

    The rotated image's bounding rectangle is mapped exactly onto the output (same size as the
    input), so no content is cut; the two axes are scaled independently when the image is not
    square, as in Albumentations.

    Per target: image (``interpolation``, corners made by ``border_mode`` / ``fill``), mask
    (``mask_interpolation``, ``fill_mask``). bboxes: corners (or inscribed ellipse) mapped and
    re-boxed; none leaves the image. keypoints: mapped, angle turned, scale multiplied by the
    map's largest stretch.

    Args:
        limit: angle range in degrees; a number ``x`` means ``(-x, x)``. Default: (-90, 90).
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        border_mode, fill, fill_mask: how the uncovered corners are filled.
        rotate_method: ``largest_box`` or ``ellipse`` for boxes.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"limit": 40}

    limit: tuple[float, float]

    class InitSchema(WarpSchema):
        # Albumentations' positional order: the shared fields interleave with the own ones.
        argument_order = (
            "limit",
            "interpolation",
            "border_mode",
            "rotate_method",
            "mask_interpolation",
            "fill",
            "fill_mask",
        )

        limit: Annotated[SymmetricRange, Slider(-180, 180, 1)] = (-90.0, 90.0)
        rotate_method: RotateMethod = "largest_box"
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"angle": float(uniform(rng, *self.limit))}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        h, w = sample.shape
        rotation = rotation_about(float(params["angle"]), w / 2.0, h / 2.0)
        return Projective(fit_exactly(rotation, sample.shape, sample.shape), sample.shape, sample.shape)
