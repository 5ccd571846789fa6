"""Padding, and the imgaug-style crop-or-pad of each side: all are windows around the image."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, Field, model_validator

from invariance.core.budget import Bounded, check_output
from invariance.core.geometry import Chain, CropWindow, Geometry, Resampling, Scale
from invariance.core.sample import Sample
from invariance.core.schema import (
    BorderArgs,
    BorderSchema,
    FillArgs,
    FillSchema,
    Probability,
    ResampleArgs,
    ResizeSchema,
)
from invariance.core.transform import SpatialTransform
from invariance.transforms.geometric.crops import PadPosition, split_padding
from invariance.transforms.geometric.resize import area_resampling


def window(
    shape: tuple[int, int], top: int, right: int, bottom: int, left: int, owner: str = "", argument: str = ""
) -> CropWindow:
    """The window that adds (positive) or removes (negative) pixels on each side of ``shape``.

    ``owner`` and ``argument`` name the transform and argument in the error raised when the
    padded output is over the resource budget (:mod:`invariance.core.budget`).
    """
    check_output(owner, argument, shape[0] + top + bottom, shape[1] + left + right)
    h, w = shape
    return CropWindow(-left, -top, shape, (h + top + bottom, w + left + right))


class Pad(SpatialTransform, BorderArgs):
    """Add a fixed border around the image.

    ``padding`` is one number (all sides), ``(pad_x, pad_y)`` (left and right, top and bottom), or
    ``(left, top, right, bottom)``.

    Per target: image (border made by ``border_mode``, ``fill`` for constant), mask (``fill_mask``).
    bboxes and keypoints: shifted by the left and top padding.

    Args:
        padding: border widths in pixels (>= 0). Default: 0.
        fill, fill_mask: constant border values. Default: 0.
        border_mode: OpenCV border mode. Default: constant.
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    example_args = {"padding": (3, 5, 7, 9)}

    padding: int | tuple[int, int] | tuple[int, int, int, int]

    class InitSchema(BorderSchema):
        # Albumentations' positional order: the shared fields interleave with the own ones.
        argument_order = ("padding", "fill", "fill_mask", "border_mode")

        padding: int | tuple[int, int] | tuple[int, int, int, int] = 0
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> Pad.InitSchema:
            values = [self.padding] if isinstance(self.padding, int) else list(self.padding)
            if min(values) < 0:
                raise ValueError(f"padding must be >= 0, got {self.padding}")
            return self

    def sides(self) -> tuple[int, int, int, int]:
        """``(top, right, bottom, left)`` in pixels."""
        p = self.padding
        if isinstance(p, int):
            return p, p, p, p
        if len(p) == 2:
            return p[1], p[0], p[1], p[0]
        left, top, right, bottom = p
        return top, right, bottom, left

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        return window(sample.shape, *self.sides(), owner="Pad", argument="padding")


class PadIfNeeded(SpatialTransform, BorderArgs):
    """Pad the image to at least ``min_height x min_width``, or up to a multiple of a divisor.

    For each axis give either the minimum size or the divisor (``pad_height_divisor``). The image
    sits in the padded canvas at ``position`` (``top_left`` puts it in the top-left corner, so the
    padding goes right and down; ``random`` draws the split).

    Per target: image (border by ``border_mode`` / ``fill``), mask (``fill_mask``). bboxes and
    keypoints: shifted by the top and left padding.

    Args:
        min_height, min_width: minimum output size, or None when a divisor is used. Default: 1024.
        pad_height_divisor, pad_width_divisor: make the size a multiple of these. Default: None.
        position: center, top_left, top_right, bottom_left, bottom_right or random.
        border_mode, fill, fill_mask: how the border is made. Defaults: constant, 0, 0.
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    example_args = {"min_height": 96, "min_width": 100, "position": "random"}

    min_height: int | None
    min_width: int | None
    pad_height_divisor: int | None
    pad_width_divisor: int | None
    position: str

    class InitSchema(BorderSchema):
        min_height: Annotated[int | None, Bounded("height")] = Field(default=1024, ge=1)
        min_width: Annotated[int | None, Bounded("width")] = Field(default=1024, ge=1)
        pad_height_divisor: int | None = Field(default=None, ge=1)
        pad_width_divisor: int | None = Field(default=None, ge=1)
        position: PadPosition = "center"
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> PadIfNeeded.InitSchema:
            if (self.min_height is None) == (self.pad_height_divisor is None):
                raise ValueError("pass exactly one of min_height and pad_height_divisor")
            if (self.min_width is None) == (self.pad_width_divisor is None):
                raise ValueError("pass exactly one of min_width and pad_width_divisor")
            return self

    @staticmethod
    def _total(size: int, minimum: int | None, divisor: int | None) -> int:
        if minimum is not None:
            return max(minimum - size, 0)
        assert divisor is not None
        return (divisor - size % divisor) % divisor

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        pad_h = self._total(h, self.min_height, self.pad_height_divisor)
        pad_w = self._total(w, self.min_width, self.pad_width_divisor)
        top = split_padding(pad_h, self.position, True, rng)
        left = split_padding(pad_w, self.position, False, rng)
        return {"pad_top": top, "pad_bottom": pad_h - top, "pad_left": left, "pad_right": pad_w - left}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        return window(
            sample.shape,
            int(params["pad_top"]),
            int(params["pad_right"]),
            int(params["pad_bottom"]),
            int(params["pad_left"]),
            owner="PadIfNeeded",
            argument="min_height / min_width / pad_*_divisor",
        )


def _is_range(value: Any) -> bool:
    # Two numbers are a (low, high) range whether they came as a tuple or, after JSON, a list.
    return (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    )


def _side_values(value: Any) -> list[Any]:
    """Per side ``(top, right, bottom, left)`` specs: a number, a ``(low, high)`` range or a list of choices."""
    if isinstance(value, (int, float)) or _is_range(value):
        return [value] * 4
    return list(value)


def _check_sides(value: Any, name: str) -> None:
    if value is None:
        return
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return
    items = list(value)
    if _is_range(value):
        if items[0] > items[1]:
            raise ValueError(f"{name} range must be (low, high) with low <= high, got {value}")
        return
    if len(items) != 4:
        raise ValueError(f"{name} must be a number, a (low, high) range, or 4 per-side values, got {value}")
    for item in items:
        if isinstance(item, (int, float)):
            continue
        if isinstance(item, (list, tuple)) and item and all(isinstance(v, (int, float)) for v in item):
            continue
        raise ValueError(f"{name}: per-side value {item!r} must be a number, a range or a list")


SideSpec = int | float | tuple[Any, ...] | list[Any] | None


class CropAndPad(SpatialTransform, ResampleArgs, BorderArgs):
    """Crop (negative values) or pad (positive values) each side, then optionally resize back.

    Amounts are given in pixels (``px``) or as a fraction of the side (``percent``), for the sides
    ``(top, right, bottom, left)``: one number for all sides, a ``(low, high)`` range drawn per side
    (one draw for all sides when ``sample_independently`` is False), or four per-side values, each a
    number, a ``(low, high)`` range or a list of choices. At least one pixel always remains.

    Per target: image (padding by ``border_mode`` / ``fill``, resize by ``interpolation``), mask
    (``fill_mask``, ``mask_interpolation``). bboxes: shifted (and scaled with ``keep_size``),
    clipped and filtered; labels follow. keypoints: moved the same way.

    Args:
        px: amounts in pixels. Default: None.
        percent: amounts as fractions of the image size. Default: None.
        keep_size: resize the result back to the input size. Default: True.
        sample_independently: draw a range separately for each side. Default: True.
        interpolation, mask_interpolation: OpenCV flags for the resize. Defaults: linear, nearest.
        border_mode, fill, fill_mask: how padding is made. Defaults: constant, 0, 0.
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"percent": (-0.2, 0.2)}

    px: SideSpec
    percent: SideSpec
    keep_size: bool
    sample_independently: bool

    class InitSchema(ResizeSchema, BorderSchema):
        px: SideSpec = None
        percent: SideSpec = None
        keep_size: bool = True
        sample_independently: bool = True
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> CropAndPad.InitSchema:
            if (self.px is None) == (self.percent is None):
                raise ValueError("pass exactly one of px and percent")
            _check_sides(self.px, "px")
            _check_sides(self.percent, "percent")
            if isinstance(self.percent, (int, float)) and self.percent <= -1:
                raise ValueError(f"percent must be > -1, got {self.percent}")
            return self

    def _draw(self, rng: np.random.Generator, spec: Any, as_int: bool, shared: float | None) -> float:
        if isinstance(spec, (int, float)):
            return float(spec)
        if _is_range(spec):
            if shared is not None:
                return shared
            low, high = sorted(spec)  # a range may be written high-first, e.g. (-0.1, -0.2)
            return float(rng.integers(int(low), int(high) + 1)) if as_int else float(rng.uniform(low, high))
        choices = list(spec)
        return float(choices[int(rng.integers(0, len(choices)))])

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        as_px = self.px is not None
        spec = self.px if as_px else self.percent
        sides = _side_values(spec)
        shared = None
        if not self.sample_independently and _is_range(spec):
            shared = self._draw(rng, spec, as_px, None)
        values = [self._draw(rng, s, as_px, shared) for s in sides]
        h, w = sample.shape
        if not as_px:
            # Fractions become whole pixels by truncation, as in Albumentations.
            values = [float(int(v * (h if i % 2 == 0 else w))) for i, v in enumerate(values)]
        top, right, bottom, left = (round(v) for v in values)
        # Never crop away the whole image: keep at least one row and one column.
        top, bottom = _limit_crop(top, bottom, h)
        left, right = _limit_crop(left, right, w)
        return {"pad_top": top, "pad_right": right, "pad_bottom": bottom, "pad_left": left}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        win = window(
            sample.shape,
            int(params["pad_top"]),
            int(params["pad_right"]),
            int(params["pad_bottom"]),
            int(params["pad_left"]),
            owner="CropAndPad",
            argument="px" if self.px is not None else "percent",
        )
        if not self.keep_size or win.out_shape == sample.shape:
            return win
        return Chain((win, Scale(win.out_shape, sample.shape)))

    def resampling_for(self, geometry: Geometry, params: Mapping[str, Any]) -> Resampling:
        middle = geometry.steps[0].out_shape if isinstance(geometry, Chain) else geometry.out_shape
        return area_resampling(self, middle, geometry.out_shape)


def _limit_crop(before: int, after: int, size: int) -> tuple[int, int]:
    """Reduce the crops (negative amounts) of one axis so that at least one pixel remains."""
    remaining = size + min(before, 0) + min(after, 0)
    if remaining >= 1:
        return before, after
    excess = 1 - remaining
    cut_before, cut_after = -min(before, 0), -min(after, 0)
    total = cut_before + cut_after
    less_before = min(cut_before, round(excess * cut_before / total) if total else 0)
    less_after = min(excess - less_before, cut_after)
    return (before + less_before if before < 0 else before), (after + less_after if after < 0 else after)


def _size_pair(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    return value


class LetterBox(SpatialTransform, ResampleArgs, FillArgs):
    """Fit the image inside a ``size`` canvas keeping its aspect ratio, then pad the rest.

    The image is scaled by ``min(H / h, W / w)`` (up or down) so that it touches the canvas on
    its limiting side, then constant padding fills the remaining stripes; ``position`` places the
    scaled image (``center``, a corner, or ``random``). This is the YOLO "letterbox":
    LongestMaxSize followed by PadIfNeeded, as one map.

    Per target: image: scaled with ``interpolation``, padded with ``fill``. mask: scaled with
    ``mask_interpolation``, padded with ``fill_mask``. bboxes and keypoints: scaled by the same
    factor (keypoint ``scale`` too) and shifted by the padding.

    Args:
        size: ``(height, width)`` of the output canvas (each >= 1).
        interpolation: OpenCV flag for the image. Default: 1 (linear).
        mask_interpolation: OpenCV flag for masks. Default: 0 (nearest).
        fill: image padding value (a number or one per channel). Default: 0. For the YOLO grey
            use 114 with uint8 images or 114 / 255 with float32 images.
        fill_mask: mask padding value. Default: 0.
        position: ``center``, ``top_left``, ``top_right``, ``bottom_left``, ``bottom_right`` or
            ``random``. Default: ``center``.
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"size": (96, 64)}

    size: tuple[int, int]
    position: str

    class InitSchema(ResizeSchema, FillSchema):
        argument_order = ("size", "interpolation", "mask_interpolation", "fill", "fill_mask", "position")

        size: Annotated[tuple[int, int], BeforeValidator(_size_pair), Bounded("hw")]
        position: PadPosition = "center"
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> LetterBox.InitSchema:
            if min(self.size) < 1:
                raise ValueError(f"size must be (height, width) with both >= 1, got {self.size}")
            return self

    def fitted_shape(self, shape: tuple[int, int]) -> tuple[int, int]:
        """The size of the scaled image inside the canvas."""
        (h, w), (th, tw) = shape, self.size
        ratio = min(th / h, tw / w)
        return min(max(round(h * ratio), 1), th), min(max(round(w * ratio), 1), tw)

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        fh, fw = self.fitted_shape(sample.shape)
        th, tw = self.size
        top = split_padding(th - fh, self.position, True, rng)
        left = split_padding(tw - fw, self.position, False, rng)
        return {"pad_top": top, "pad_left": left}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        fitted = self.fitted_shape(sample.shape)
        th, tw = self.size
        place = CropWindow(-int(params["pad_left"]), -int(params["pad_top"]), fitted, (th, tw))
        return Chain((Scale(sample.shape, fitted), place))
