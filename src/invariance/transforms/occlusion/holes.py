"""Rectangle dropouts placed by rule: Erasing, GridDropout, GridMask and XYMasking."""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, Field, model_validator

from invariance.core.budget import Bounded
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import Fill, FloatRange, Probability, TransformSchema
from invariance.kernels.dropout import row_runs
from invariance.transforms.occlusion.dropout import FillMode, OcclusionTransform


def _int_range(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    if isinstance(value, list):
        return tuple(value)
    return value


#: A count or length: one integer ``n`` means exactly ``n``, a pair ``(low, high)`` a range.
CountRange = Annotated[tuple[int, int], BeforeValidator(_int_range)]


def _check_count(name: str, pair: tuple[int, int]) -> None:
    if pair[0] < 0 or pair[0] > pair[1]:
        raise ValueError(f"{name} must satisfy 0 <= low <= high, got {pair}")


def _fill_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31))


class Erasing(OcclusionTransform):
    """Erase one random rectangle, as in *Random Erasing Data Augmentation* (Zhong et al.).

    The rectangle's area is a random fraction ``scale`` of the image area and its aspect ratio
    (height / width) is drawn log-uniformly from ``ratio``; up to 10 draws are tried until the
    rectangle fits, else nothing is erased.

    Per target: image: the rectangle is filled with ``fill``. mask: filled with ``fill_mask`` when
    given, else unchanged. bboxes: dropped when the visible part falls below BboxParams
    ``min_visibility`` / ``min_area``, else unchanged. keypoints: removed inside the rectangle
    when ``remove_invisible``.

    Args:
        scale: range of the erased area as a fraction of the image area, in (0, 1].
            Default: (0.02, 0.33).
        ratio: range of the aspect ratio (height / width), > 0. Default: (0.3, 3.3).
        fill: image fill: a value, per-channel values, ``random``, ``random_uniform``,
            ``inpaint_telea`` or ``inpaint_ns``. Default: 0.
        fill_mask: mask fill, or None to leave masks alone. Default: None.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"scale": (0.1, 0.3), "fill_mask": 0}

    scale: tuple[float, float]
    ratio: tuple[float, float]

    class InitSchema(TransformSchema):
        scale: FloatRange = (0.02, 0.33)
        ratio: FloatRange = (0.3, 3.3)
        fill: Fill | FillMode = 0.0
        fill_mask: Fill | None = None
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> Erasing.InitSchema:
            if not 0 < self.scale[0] <= self.scale[1] <= 1:
                raise ValueError(f"scale must satisfy 0 < low <= high <= 1, got {self.scale}")
            if self.ratio[0] <= 0:
                raise ValueError(f"ratio must be positive, got {self.ratio}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        log_low, log_high = math.log(self.ratio[0]), math.log(self.ratio[1])
        holes: list[tuple[int, int, int, int]] = []
        for _ in range(10):
            area = h * w * uniform(rng, *self.scale)
            aspect = math.exp(rng.uniform(log_low, log_high))
            hh = round(math.sqrt(area * aspect))
            hw = round(math.sqrt(area / aspect))
            if 0 < hh < h and 0 < hw < w:
                y0 = int(rng.integers(0, h - hh + 1))
                x0 = int(rng.integers(0, w - hw + 1))
                holes.append((x0, y0, x0 + hw, y0 + hh))
                break
        return {"holes": np.asarray(holes, dtype=np.int64).reshape(-1, 4), "fill_seed": _fill_seed(rng)}


#: The torchvision name of :class:`Erasing`.
RandomErasing = Erasing


class GridDropout(OcclusionTransform):
    """Drop a regular grid of rectangles (*GridMask*, Chen et al.).

    The image is tiled by units of ``unit_size_range`` pixels (a side drawn once per call), or
    by ``holes_number_xy`` units across and down, or by default by units of a tenth of each side.
    In each unit a hole of ``ratio`` times the unit's sides is cut, shifted from the unit's corner
    by ``shift_xy`` or, with ``random_offset``, by a random offset drawn once per call.

    Per target: image: holes filled with ``fill``. mask: filled with ``fill_mask`` when given.
    bboxes: dropped when the visible part falls below BboxParams ``min_visibility`` /
    ``min_area``. keypoints: removed inside holes when ``remove_invisible``.

    Args:
        ratio: hole side / unit side, in (0, 1]. Default: 0.5.
        random_offset: draw the grid's offset at random. Default: True.
        unit_size_range: range of the unit side in pixels (>= 2), or None. Default: None.
        holes_number_xy: number of units across (x) and down (y), or None. Default: None.
        shift_xy: fixed offset of the holes in pixels when ``random_offset`` is False.
            Default: (0, 0).
        fill: image fill. Default: 0.
        fill_mask: mask fill, or None to leave masks alone. Default: None.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"ratio": 0.4, "unit_size_range": (10, 20), "fill_mask": 0}

    ratio: float
    random_offset: bool
    unit_size_range: tuple[int, int] | None
    holes_number_xy: tuple[int, int] | None
    shift_xy: tuple[int, int]

    class InitSchema(TransformSchema):
        ratio: float = Field(default=0.5, gt=0.0, le=1.0)
        random_offset: bool = True
        unit_size_range: Annotated[CountRange | None, Bounded("length")] = None
        holes_number_xy: Annotated[CountRange | None, Bounded("count")] = None
        shift_xy: CountRange = (0, 0)
        fill: Fill | FillMode = 0.0
        fill_mask: Fill | None = None
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> GridDropout.InitSchema:
            if self.unit_size_range is not None:
                low, high = self.unit_size_range
                if low < 2 or low > high:
                    raise ValueError(
                        f"unit_size_range must satisfy 2 <= low <= high, got {self.unit_size_range}"
                    )
            if self.holes_number_xy is not None and min(self.holes_number_xy) < 1:
                raise ValueError(f"holes_number_xy must be >= 1, got {self.holes_number_xy}")
            if min(self.shift_xy) < 0:
                raise ValueError(f"shift_xy must be >= 0, got {self.shift_xy}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        if self.unit_size_range is not None:
            unit = int(rng.integers(self.unit_size_range[0], self.unit_size_range[1] + 1))
            unit_w = unit_h = unit
        elif self.holes_number_xy is not None:
            unit_w = max(w // self.holes_number_xy[0], 2)
            unit_h = max(h // self.holes_number_xy[1], 2)
        else:
            unit_w, unit_h = max(w // 10, 2), max(h // 10, 2)
        unit_w, unit_h = min(unit_w, w), min(unit_h, h)
        hole_w = min(max(int(unit_w * self.ratio + 0.5), 1), unit_w)
        hole_h = min(max(int(unit_h * self.ratio + 0.5), 1), unit_h)
        if self.random_offset:
            shift_x = int(rng.integers(0, unit_w - hole_w + 1))
            shift_y = int(rng.integers(0, unit_h - hole_h + 1))
        else:
            shift_x, shift_y = self.shift_xy[0] % unit_w, self.shift_xy[1] % unit_h
        # One hole per whole unit that fits, as Albumentations lays the grid out.
        xs = shift_x + unit_w * np.arange(max(w // unit_w, 1))
        ys = shift_y + unit_h * np.arange(max(h // unit_h, 1))
        gx, gy = np.meshgrid(xs, ys)
        x0, y0 = gx.ravel(), gy.ravel()
        holes = np.stack([x0, y0, np.minimum(x0 + hole_w, w), np.minimum(y0 + hole_h, h)], axis=1)
        return {"holes": holes.astype(np.int64).reshape(-1, 4), "fill_seed": _fill_seed(rng)}


class XYMasking(OcclusionTransform):
    """Mask full-height vertical and full-width horizontal stripes (SpecAugment-style masking).

    ``num_masks_x`` stripes of width ``mask_x_length`` span the image height at random columns;
    ``num_masks_y`` stripes of height ``mask_y_length`` span the width at random rows.

    Per target: image: stripes filled with ``fill``. mask: filled with ``fill_mask`` when given.
    bboxes: dropped when the visible part falls below BboxParams ``min_visibility`` /
    ``min_area``. keypoints: removed on stripes when ``remove_invisible``.

    Args:
        num_masks_x: number (or range) of vertical stripes, >= 0. Default: 0.
        num_masks_y: number (or range) of horizontal stripes, >= 0. Default: 0.
        mask_x_length: width (or range) of the vertical stripes in pixels. Default: 0.
        mask_y_length: height (or range) of the horizontal stripes in pixels. Default: 0.
        fill: image fill. Default: 0.
        fill_mask: mask fill, or None to leave masks alone. Default: None.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {
        "num_masks_x": (1, 3),
        "num_masks_y": (1, 2),
        "mask_x_length": (2, 10),
        "mask_y_length": (2, 8),
        "fill_mask": 0,
    }

    num_masks_x: tuple[int, int]
    num_masks_y: tuple[int, int]
    mask_x_length: tuple[int, int]
    mask_y_length: tuple[int, int]

    class InitSchema(TransformSchema):
        num_masks_x: Annotated[CountRange, Bounded("count")] = 0  # type: ignore[assignment]  # Albumentations writes 0; validated to (0, 0)
        num_masks_y: Annotated[CountRange, Bounded("count")] = 0  # type: ignore[assignment]  # Albumentations writes 0; validated to (0, 0)
        mask_x_length: Annotated[CountRange, Bounded("length")] = 0  # type: ignore[assignment]  # Albumentations writes 0; validated to (0, 0)
        mask_y_length: Annotated[CountRange, Bounded("length")] = 0  # type: ignore[assignment]  # Albumentations writes 0; validated to (0, 0)
        fill: Fill | FillMode = 0.0
        fill_mask: Fill | None = None
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> XYMasking.InitSchema:
            for name in ("num_masks_x", "num_masks_y", "mask_x_length", "mask_y_length"):
                _check_count(name, getattr(self, name))
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        holes: list[tuple[int, int, int, int]] = []
        for _ in range(int(rng.integers(self.num_masks_x[0], self.num_masks_x[1] + 1))):
            length = min(int(rng.integers(self.mask_x_length[0], self.mask_x_length[1] + 1)), w)
            x0 = int(rng.integers(0, w - length + 1))
            holes.append((x0, 0, x0 + length, h))
        for _ in range(int(rng.integers(self.num_masks_y[0], self.num_masks_y[1] + 1))):
            length = min(int(rng.integers(self.mask_y_length[0], self.mask_y_length[1] + 1)), h)
            y0 = int(rng.integers(0, h - length + 1))
            holes.append((0, y0, w, y0 + length))
        return {"holes": np.asarray(holes, dtype=np.int64).reshape(-1, 4), "fill_seed": _fill_seed(rng)}


def _fraction_range(value: Any) -> Any:
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, tuple) and len(value) == 2 and not (0.0 < value[0] <= value[1] <= 1.0):
        raise ValueError(f"expected 0 < low <= high <= 1, got {value}")
    return value


#: A range of fractions with ``0 < low <= high <= 1`` (a list is accepted for the pair).
FractionRange = Annotated[tuple[float, float], BeforeValidator(_fraction_range)]


class GridMask(OcclusionTransform):
    """Hide a grid of lines (*GridMask*, Chen et al., 2020): horizontal and vertical stripes.

    The grid's period is the shorter image side divided by a number of divisions drawn from
    ``num_grid_range``; each line is a fraction (``line_width_range``) of the period wide. The
    grid gets a random offset and is rotated about the image centre by an angle in radians drawn
    from ``rotation_range``. Unlike GridDropout, which drops the cells, this drops the lines.

    Per target: image: the lines are filled with ``fill``. mask: filled with ``fill_mask`` when
    given, else unchanged. bboxes: dropped when the visible part falls below BboxParams
    ``min_visibility`` / ``min_area``. keypoints: removed on the lines when ``remove_invisible``.

    Args:
        num_grid_range: range of the number of divisions along the shorter side (>= 1).
            Default: (3, 7).
        line_width_range: range of the line width as a fraction of the period, in (0, 1].
            Default: (0.2, 0.5).
        rotation_range: range of the grid rotation in radians. Default: (0, 0).
        fill: image fill: a value, per-channel values, ``random``, ``random_uniform``,
            ``inpaint_telea`` or ``inpaint_ns``. Default: 0.
        fill_mask: mask fill, or None to leave masks alone. Default: None.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"num_grid_range": (3, 4), "fill_mask": 0}

    num_grid_range: tuple[int, int]
    line_width_range: tuple[float, float]
    rotation_range: tuple[float, float]

    class InitSchema(TransformSchema):
        num_grid_range: Annotated[CountRange, Bounded("count")] = (3, 7)
        line_width_range: FractionRange = (0.2, 0.5)
        rotation_range: FloatRange = (0.0, 0.0)
        fill: Fill | FillMode = 0.0
        fill_mask: Fill | None = None
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> GridMask.InitSchema:
            if self.num_grid_range[0] < 1 or self.num_grid_range[0] > self.num_grid_range[1]:
                raise ValueError(f"num_grid_range must satisfy 1 <= low <= high, got {self.num_grid_range}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        divisions = int(rng.integers(self.num_grid_range[0], self.num_grid_range[1] + 1))
        period = max(min(h, w) / divisions, 2.0)
        line = min(max(round(uniform(rng, *self.line_width_range) * period), 1), int(period))
        return {
            "period": period,
            "line": line,
            "offset": [uniform(rng, 0.0, period), uniform(rng, 0.0, period)],
            "angle": uniform(rng, *self.rotation_range),
            "fill_seed": _fill_seed(rng),
        }

    def holes(self, params: dict[str, Any], sample: Sample) -> np.ndarray:
        h, w = sample.shape
        period, line, angle = float(params["period"]), int(params["line"]), float(params["angle"])
        off_x, off_y = (float(v) for v in params["offset"])
        if angle == 0.0:
            # Axis-aligned: each line is one full-height or full-width rectangle.
            xs = np.floor(np.arange(off_x - period, w, period)).astype(np.int64)
            ys = np.floor(np.arange(off_y - period, h, period)).astype(np.int64)
            cols = [(max(x, 0), 0, min(x + line, w), h) for x in xs.tolist() if x + line > 0 and x < w]
            rows = [(0, max(y, 0), w, min(y + line, h)) for y in ys.tolist() if y + line > 0 and y < h]
            return np.asarray(cols + rows, dtype=np.int64).reshape(-1, 4)
        cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
        x = np.arange(w, dtype=np.float64) - cx
        y = np.arange(h, dtype=np.float64) - cy
        cos, sin = math.cos(angle), math.sin(angle)
        u = np.add.outer(y * sin, x * cos)  # coordinates along the rotated grid's axes
        v = np.add.outer(y * cos, -x * sin)
        hidden = (np.mod(u - off_x, period) < line) | (np.mod(v - off_y, period) < line)
        return row_runs(hidden)
