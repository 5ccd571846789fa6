"""Occlusion: holes punched into the image, with boxes and keypoints kept honest."""

from __future__ import annotations

import warnings
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, model_validator

from invariance.core import registry
from invariance.core.budget import Bounded
from invariance.core.compat import DualTransform, Native
from invariance.core.effects import Effects, Occlusion
from invariance.core.sample import Sample
from invariance.core.schema import Fill, Probability, TransformSchema
from invariance.kernels.dropout import (
    MANY_HOLES,
    fill_constant,
    fill_holes,
    fill_region,
    fill_region_values,
    paste_holes,
)


def _pair(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    return value


SizeRange = Annotated[tuple[int, int] | tuple[float, float], BeforeValidator(_pair)]
FillMode = Literal["random", "random_uniform", "inpaint_telea", "inpaint_ns"]


def _size_range(name: str, pair: tuple[float, float]) -> None:
    low, high = pair
    if low > high:
        raise ValueError(f"{name} lower bound {low} is greater than upper bound {high}")
    both_int = all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
    if both_int:
        if low < 1:
            raise ValueError(f"{name} in pixels must be >= 1, got {pair}")
    elif not (0 < low <= high <= 1):
        raise ValueError(
            f"{name} as fractions of the image size must satisfy 0 < low <= high <= 1, got {pair}"
        )


def draw_size(rng: np.random.Generator, pair: tuple[float, float], extent: int) -> int:
    """A hole side: pixels when the range is integers, else a fraction of ``extent``."""
    low, high = pair
    if all(isinstance(v, int) for v in pair):
        return int(rng.integers(int(low), int(high) + 1))
    return max(int(extent * rng.uniform(low, high)), 1)


def holes_to_mask(holes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A boolean ``(H, W)`` array, True inside any ``(x0, y0, x1, y1)`` rectangle."""
    if len(holes) > MANY_HOLES:
        axes = grid_axes(holes, shape)
        if axes is not None:
            rows, cols = axes
            return np.logical_and.outer(rows, cols)
    hidden = np.zeros(shape, dtype=bool)
    for x0, y0, x1, y1 in holes:
        hidden[y0:y1, x0:x1] = True
    return hidden


def holes_inside(holes: np.ndarray, shape: tuple[int, int]) -> bool:
    """True when every hole is non-empty and inside the image (slicing then means what it says)."""
    h, w = shape
    return all(0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h for x0, y0, x1, y1 in np.asarray(holes).tolist())


def grid_axes(holes: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
    """When the holes are exactly every pairing of a set of column intervals with a set of row
    intervals (a grid, as GridDropout lays out), the rows and the columns they cover; else None.

    The union of all such rectangles is then (covered rows) x (covered columns), which takes one
    outer product instead of a slice per hole. Plain Python sets: cheaper than numpy for a few
    hundred holes.
    """
    h, w = shape
    boxes = [tuple(box) for box in np.asarray(holes).reshape(-1, 4).tolist()]
    if not all(0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h for x0, y0, x1, y1 in boxes):
        return None
    x_spans = {(x0, x1) for x0, _, x1, _ in boxes}
    y_spans = {(y0, y1) for _, y0, _, y1 in boxes}
    if len(x_spans) * len(y_spans) != len(boxes) or len(set(boxes)) != len(boxes):
        return None  # distinct holes, as many as the pairings: they are all the pairings
    cols = np.zeros(w, dtype=bool)
    rows = np.zeros(h, dtype=bool)
    for x0, x1 in x_spans:
        cols[x0:x1] = True
    for y0, y1 in y_spans:
        rows[y0:y1] = True
    return rows, cols


RANDOM_FILLS = ("random", "random_uniform")


def random_values(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Random pixel values over the dtype's range: uint8 in 0..255, float32 in [0, 1)."""
    if dtype == np.uint8:
        return rng.integers(0, 256, size=shape, dtype=np.uint8)
    return rng.random(shape, dtype=np.float32)


def draw_hole_patches(
    rng: np.random.Generator, holes: np.ndarray, img: np.ndarray, fill: str
) -> list[np.ndarray]:
    """One random patch per hole of ``img``: fresh pixels (``"random"``) or one colour
    (``"random_uniform"``). Empty holes draw nothing and get an empty patch."""
    channels = () if img.ndim == 2 else (img.shape[2],)
    patches = []
    for x0, y0, x1, y1 in np.asarray(holes, dtype=np.int64).reshape(-1, 4).tolist():
        if x1 <= x0 or y1 <= y0:
            patches.append(np.empty(0, img.dtype))
        elif fill == "random":
            patches.append(random_values(rng, (y1 - y0, x1 - x0, *channels), img.dtype))
        else:
            patches.append(random_values(rng, channels or (1,), img.dtype).reshape(channels or ()))
    return patches


def draw_region_values(
    rng: np.random.Generator, hidden: np.ndarray, img: np.ndarray, fill: str
) -> np.ndarray:
    """Random values for ``img[hidden]``: fresh per pixel (per value when ``hidden`` has a channel
    axis) with ``"random"``, one colour for the whole region with ``"random_uniform"``."""
    channels = 1 if img.ndim == 2 else img.shape[2]
    if hidden.ndim == 3:
        if fill == "random":
            return random_values(rng, (int(hidden.sum()),), img.dtype)
        colour = random_values(rng, (channels,), img.dtype)
        return np.broadcast_to(colour, hidden.shape)[hidden]
    if fill == "random":
        return random_values(rng, (int(hidden.sum()),) + (() if img.ndim == 2 else (channels,)), img.dtype)
    colour = random_values(rng, (channels,), img.dtype)
    return colour[0] if img.ndim == 2 else colour


def fill_holes_with_rng(
    img: np.ndarray, holes: np.ndarray, fill: Any, rng: np.random.Generator | None
) -> np.ndarray:
    """:func:`~invariance.kernels.dropout.fill_holes`, with the random fills drawn from ``rng``."""
    if fill in RANDOM_FILLS and rng is not None:
        return paste_holes(img, holes, draw_hole_patches(rng, holes, img, fill))
    return fill_holes(img, holes, fill)


def fill_region_with_rng(
    img: np.ndarray, hidden: np.ndarray, fill: Any, rng: np.random.Generator | None
) -> np.ndarray:
    """:func:`~invariance.kernels.dropout.fill_region`, with the random fills drawn from ``rng``."""
    if fill in RANDOM_FILLS and rng is not None:
        if not hidden.any():
            return img.copy()
        return fill_region_values(img, hidden, draw_region_values(rng, hidden, img, fill))
    return fill_region(img, hidden, fill)


@registry.base_class
class OcclusionTransform(Native, DualTransform):
    """Base of rectangle-dropout transforms: ``holes(params, sample)`` says where; the sample
    fills images (and masks with ``fill_mask``) and drops hidden boxes and keypoints.

    A subclass declares ``fill`` and ``fill_mask`` in its ``InitSchema`` and draws
    ``{"holes": (N, 4) array of x0, y0, x1, y1}`` in ``sample``. The base itself is no transform
    (it draws no holes): it is left out of the catalogues and cannot be constructed.
    Transforms that hide arbitrary pixels return an :class:`~invariance.core.effects.Occlusion` directly.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if registry.is_base(type(self)):
            raise TypeError(
                f"{type(self).__name__} is a base class, not a transform: use CoarseDropout, Erasing, "
                "GridDropout or XYMasking, or subclass it with a sample() that draws 'holes'"
            )
        super().__init__(*args, **kwargs)

    family = "occlusion"
    fill: Any
    fill_mask: Any

    def holes(self, params: dict[str, Any], sample: Sample) -> np.ndarray:
        return np.asarray(params["holes"], dtype=np.int64).reshape(-1, 4)

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        holes = self.holes(params, sample)
        hidden = holes_to_mask(holes, sample.shape)
        fill, fill_mask = self.fill, self.fill_mask
        fill_seed = int(params.get("fill_seed", 0))
        # Many holes, all inside: one masked pass per image instead of a slice per hole.
        many = len(holes) > MANY_HOLES and holes_inside(holes, sample.shape)

        def fill_image(img: np.ndarray) -> np.ndarray:
            if not isinstance(fill, str):
                return (
                    fill_constant(img, hidden, fill) if many else fill_holes_with_rng(img, holes, fill, None)
                )
            # Only random fills draw, each array from the call's seed: every frame of ``images``
            # (every slice of a volume) gets the same values, one draw per call.
            return fill_holes_with_rng(img, holes, fill, np.random.default_rng(fill_seed))

        def fill_masks(m: np.ndarray) -> np.ndarray:
            if many:
                return fill_constant(m, hidden, fill_mask)
            return fill_holes(m, holes, fill_mask)

        return Occlusion(hidden, fill_image, None if fill_mask is None else fill_masks)


class CoarseDropout(OcclusionTransform):
    """Cut random rectangular holes and fill them.

    Per target: image: holes filled with ``fill`` (a value, per-channel values, ``random`` pixels,
    one ``random_uniform`` colour per hole, or ``inpaint_telea`` / ``inpaint_ns``). mask: holes
    filled with ``fill_mask`` when given, else unchanged. bboxes: kept unchanged unless the holes
    hide so much that the visible part falls below BboxParams ``min_visibility`` / ``min_area``
    (then dropped, with their labels). keypoints: those inside a hole are removed when
    ``remove_invisible``.

    Args:
        num_holes_range: range of the number of holes. Default: (1, 2).
        hole_height_range, hole_width_range: hole size, as fractions of the image size (floats in
            (0, 1]) or pixels (ints). Defaults: (0.1, 0.2).
        fill: image fill. Default: 0.
        fill_mask: mask fill, or None to leave masks alone. Default: None.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {
        "num_holes_range": (2, 4),
        "hole_height_range": (0.1, 0.3),
        "hole_width_range": (0.1, 0.3),
        "fill_mask": 0,
    }

    num_holes_range: tuple[int, int]
    hole_height_range: tuple[float, float]
    hole_width_range: tuple[float, float]

    class InitSchema(TransformSchema):
        num_holes_range: Annotated[tuple[int, int], Bounded("count")] = (1, 2)
        hole_height_range: SizeRange = (0.1, 0.2)
        hole_width_range: SizeRange = (0.1, 0.2)
        fill: Fill | FillMode = 0.0
        fill_mask: Fill | None = None
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> CoarseDropout.InitSchema:
            low, high = self.num_holes_range
            if low < 0 or low > high:
                raise ValueError(f"num_holes_range must satisfy 0 <= low <= high, got {self.num_holes_range}")
            _size_range("hole_height_range", self.hole_height_range)
            _size_range("hole_width_range", self.hole_width_range)
            return self

    @classmethod
    def legacy(cls, given: dict[str, Any]) -> dict[str, Any]:
        old = {
            k: given.pop(k)
            for k in ("min_holes", "max_holes", "min_height", "max_height", "min_width", "max_width")
            if k in given
        }
        if not old:
            return given
        warnings.warn(
            "CoarseDropout: min/max_holes, min/max_height and min/max_width are deprecated; use "
            "num_holes_range, hole_height_range and hole_width_range",
            DeprecationWarning,
            stacklevel=5,
        )
        if "max_holes" in old:
            given.setdefault("num_holes_range", (old.get("min_holes", old["max_holes"]), old["max_holes"]))
        if "max_height" in old:
            given.setdefault(
                "hole_height_range", (old.get("min_height", old["max_height"]), old["max_height"])
            )
        if "max_width" in old:
            given.setdefault("hole_width_range", (old.get("min_width", old["max_width"]), old["max_width"]))
        return given

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        count = int(rng.integers(self.num_holes_range[0], self.num_holes_range[1] + 1))
        holes = []
        for _ in range(count):
            hh = min(draw_size(rng, self.hole_height_range, h), h)
            hw = min(draw_size(rng, self.hole_width_range, w), w)
            y0 = int(rng.integers(0, h - hh + 1))
            x0 = int(rng.integers(0, w - hw + 1))
            holes.append((x0, y0, x0 + hw, y0 + hh))
        return {
            "holes": np.asarray(holes, dtype=np.int64).reshape(-1, 4),
            "fill_seed": int(rng.integers(0, 2**31)),
        }
