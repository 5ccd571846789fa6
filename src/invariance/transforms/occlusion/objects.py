"""Dropouts that follow the content: MaskDropout, ConstrainedCoarseDropout, GuidedCoarseDropout,
PixelDropout."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import cv2
import numpy as np
from pydantic import Field, model_validator

from invariance.core.budget import Bounded
from invariance.core.compat import DualTransform, Native
from invariance.core.effects import Effects, Occlusion, Pixels
from invariance.core.errors import InputError
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import Fill, FloatRange, Probability, TransformSchema
from invariance.kernels.dropout import fill_region, label_components, row_runs
from invariance.transforms.occlusion.dropout import FillMode, OcclusionTransform, fill_region_with_rng
from invariance.transforms.occlusion.holes import CountRange, FractionRange


def _fill_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31))


def boxes_labelled(sample: Sample, wanted: list[str | int | float]) -> list[np.ndarray]:
    """The pixel ``pascal_voc`` coordinates of the boxes whose label is in ``wanted``.

    The label is the first label field's value, or without label fields the first extra column.
    """
    boxes = sample.box_set()
    if boxes is None or not len(boxes):
        return []
    fields = list(boxes.labels)
    if fields:
        values = boxes.labels[fields[0]]
    else:
        values = np.array([row[0] if len(row) else None for row in boxes.extras], dtype=object)
    keep = set(wanted)
    found = []
    for coords, value in zip(boxes.coords, values):
        value = value.item() if isinstance(value, np.generic) else value
        if value in keep:
            found.append(coords)
    return found


class MaskDropout(Native, DualTransform):
    """Hide whole objects of the mask: the image is filled where they were, the mask cleared.

    Objects are the connected regions of equal non-zero value in ``mask``. A number of them drawn
    from ``max_objects`` (all, if fewer exist) is chosen at random and hidden.

    Per target: image: the hidden objects' pixels are filled with ``fill`` (a value, or
    ``inpaint_telea`` / ``inpaint_ns``). mask: those pixels are set to ``fill_mask``. bboxes:
    dropped when the visible part falls below BboxParams ``min_visibility`` / ``min_area``.
    keypoints: removed on hidden pixels when ``remove_invisible``. Without a mask nothing changes.

    Args:
        max_objects: number, or range of numbers, of objects to hide. Default: (1, 1).
        fill: image fill: a value or ``inpaint_telea`` / ``inpaint_ns``. Default: 0.
        fill_mask: value written into the mask over hidden objects. Default: 0.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    family = "occlusion"
    example_args = {"max_objects": (1, 2)}

    max_objects: tuple[int, int]
    fill: Any
    fill_mask: float

    class InitSchema(TransformSchema):
        max_objects: Annotated[CountRange, Bounded("count")] = (1, 1)
        fill: float | Literal["inpaint_telea", "inpaint_ns"] = 0.0
        fill_mask: float = 0.0
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> MaskDropout.InitSchema:
            low, high = self.max_objects
            if low < 0 or low > high:
                raise ValueError(f"max_objects must satisfy 0 <= low <= high, got {self.max_objects}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        mask = sample.mask
        if mask is None:
            return {"objects": []}
        _, count = label_components(mask)
        if count == 0:
            return {"objects": []}
        wanted = min(int(rng.integers(self.max_objects[0], self.max_objects[1] + 1)), count)
        chosen = np.sort(rng.choice(count, size=wanted, replace=False)) + 1
        return {"objects": [int(i) for i in chosen]}

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        mask = sample.mask
        objects = list(params.get("objects", []))
        if mask is None or not objects:
            return None
        labels, _ = label_components(mask)
        hidden = np.isin(labels, objects)
        fill, fill_mask = self.fill, self.fill_mask
        return Occlusion(
            hidden,
            lambda img: fill_region(img, hidden, fill),
            lambda m: fill_region(m, hidden, fill_mask),
        )


class ConstrainedCoarseDropout(OcclusionTransform):
    """Cut holes inside chosen objects only: mask classes (``mask_indices``) or box labels
    (``bbox_labels``).

    The number of holes per object ``N`` is drawn once from ``num_holes_range``. Mask mode: for
    each connected region whose value is in ``mask_indices``, ``N`` holes are centred on random
    pixels of the region, their sides a fraction of the square root of the region's area. Box
    mode (when ``bbox_labels`` is given and boxes are passed): for each box whose first label field
    value is in ``bbox_labels``, ``N`` holes lie at random inside the box, their sides a fraction
    of the box's sides. Holes are clipped to the image.

    Per target: image: holes filled with ``fill``. mask: filled with ``fill_mask`` when given.
    bboxes: dropped when the visible part falls below BboxParams ``min_visibility`` /
    ``min_area``. keypoints: removed inside holes when ``remove_invisible``.

    Args:
        num_holes_range: range of the number of holes per object. Default: (1, 1).
        hole_height_range: hole height as a fraction of the object's size, in (0, 1].
            Default: (0.1, 0.1).
        hole_width_range: hole width as a fraction of the object's size. Default: (0.1, 0.1).
        fill: image fill. Default: 0.
        fill_mask: mask fill, or None to leave masks alone. Default: None.
        mask_indices: mask values whose regions get holes. Default: None.
        bbox_labels: box labels (first label field) whose boxes get holes. Default: None.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {
        "num_holes_range": (1, 3),
        "hole_height_range": (0.2, 0.4),
        "hole_width_range": (0.2, 0.4),
        "mask_indices": [1, 7],
        "fill_mask": 0,
    }

    num_holes_range: tuple[int, int]
    hole_height_range: tuple[float, float]
    hole_width_range: tuple[float, float]
    mask_indices: list[int] | None
    bbox_labels: list[str | int | float] | None

    class InitSchema(TransformSchema):
        num_holes_range: Annotated[CountRange, Bounded("count")] = (1, 1)
        hole_height_range: FloatRange = (0.1, 0.1)
        hole_width_range: FloatRange = (0.1, 0.1)
        fill: Fill | FillMode = 0.0
        fill_mask: Fill | None = None
        mask_indices: list[int] | None = None
        bbox_labels: list[str | int | float] | None = None
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> ConstrainedCoarseDropout.InitSchema:
            low, high = self.num_holes_range
            if low < 0 or low > high:
                raise ValueError(f"num_holes_range must satisfy 0 <= low <= high, got {self.num_holes_range}")
            for name in ("hole_height_range", "hole_width_range"):
                pair = getattr(self, name)
                if not 0 < pair[0] <= pair[1] <= 1:
                    raise ValueError(f"{name} must satisfy 0 < low <= high <= 1, got {pair}")
            if self.mask_indices is None and self.bbox_labels is None:
                raise ValueError("pass mask_indices or bbox_labels to say which objects get holes")
            return self

    def _objects(self, sample: Sample) -> list[tuple[str, np.ndarray]]:
        """The objects to punch: ``("box", [x0, y0, x1, y1])`` or ``("region", pixel yx array)``."""
        found: list[tuple[str, np.ndarray]] = []
        if self.bbox_labels is not None:
            found.extend(("box", coords) for coords in boxes_labelled(sample, self.bbox_labels))
        mask = sample.mask
        if self.mask_indices is not None and mask is not None:
            plane = mask if mask.ndim == 2 else mask[:, :, 0]
            selected = np.where(np.isin(plane, self.mask_indices), plane, 0)
            labels, count = label_components(selected)
            if count:
                ys, xs = np.nonzero(labels)
                order = np.argsort(labels[ys, xs], kind="stable")
                ys, xs, ids = ys[order], xs[order], labels[ys, xs][order]
                starts = np.searchsorted(ids, np.arange(1, count + 1))
                regions = np.split(np.stack([ys, xs], axis=1), starts[1:])
                found.extend(("region", region) for region in regions)
        return found

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        n = int(rng.integers(self.num_holes_range[0], self.num_holes_range[1] + 1))
        holes: list[tuple[int, int, int, int]] = []
        for kind, value in self._objects(sample):
            for _ in range(n):
                if kind == "box":
                    x0, y0, x1, y1 = value
                    bw, bh = x1 - x0, y1 - y0
                    hw = max(int(bw * uniform(rng, *self.hole_width_range)), 1)
                    hh = max(int(bh * uniform(rng, *self.hole_height_range)), 1)
                    hx = int(x0 + rng.uniform(0, max(bw - hw, 0)))
                    hy = int(y0 + rng.uniform(0, max(bh - hh, 0)))
                else:
                    side = float(np.sqrt(len(value)))
                    hw = max(int(side * uniform(rng, *self.hole_width_range)), 1)
                    hh = max(int(side * uniform(rng, *self.hole_height_range)), 1)
                    cy, cx = value[int(rng.integers(0, len(value)))]
                    hx, hy = int(cx) - hw // 2, int(cy) - hh // 2
                holes.append((max(hx, 0), max(hy, 0), min(hx + hw, w), min(hy + hh, h)))
        valid = [hole for hole in holes if hole[2] > hole[0] and hole[3] > hole[1]]
        return {"holes": np.asarray(valid, dtype=np.int64).reshape(-1, 4), "fill_seed": _fill_seed(rng)}


#: The largest dropout probability drawn as a count and positions (faster up to here, measured).
_SPARSE_DROPOUT = 0.05


class PixelDropout(Native, DualTransform):
    """Drop single pixels (or single channel values) at random.

    Per target: image: each pixel (each value with ``per_channel``) is replaced with probability
    ``dropout_prob`` by ``drop_value`` (random values when None). mask: the dropped pixels are set
    to ``mask_drop_value`` when given (not with ``per_channel``), else unchanged. bboxes and
    keypoints: unchanged (isolated pixels hide no object).

    Args:
        dropout_prob: probability of dropping each pixel, in [0, 1]. Default: 0.01.
        per_channel: drop channel values independently. Default: False.
        drop_value: value (or per-channel values) written into dropped pixels; None for random
            values. Default: 0.
        mask_drop_value: value written into the mask at dropped pixels, or None. Default: None.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    family = "occlusion"
    example_args = {"dropout_prob": 0.1, "mask_drop_value": 0}

    dropout_prob: float
    per_channel: bool
    drop_value: Any
    mask_drop_value: Any

    class InitSchema(TransformSchema):
        dropout_prob: Probability = 0.01
        per_channel: bool = False
        drop_value: Fill | None = 0.0
        mask_drop_value: Fill | None = None
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"drop_seed": int(rng.integers(0, 2**31))}

    def _hidden(self, seed: int, shape: tuple[int, ...]) -> np.ndarray:
        """Each element hidden independently with probability ``dropout_prob``.

        A sparse mask (the default 1%) is drawn as its number of hidden elements,
        ``Binomial(size, p)``, and that many distinct positions uniformly at random: the same
        distribution as a uniform draw per element compared with ``p``, in 90 us instead of
        0.8 ms on 512x512 (numpy picks distinct positions in time proportional to their count).
        """
        rng = np.random.default_rng(seed)
        if self.dropout_prob > _SPARSE_DROPOUT:
            return rng.random(shape) < self.dropout_prob
        size = math.prod(shape)
        count = int(rng.binomial(size, self.dropout_prob))
        hidden = np.zeros(size, bool)
        hidden[rng.choice(size, count, replace=False, shuffle=False)] = True
        return hidden.reshape(shape)

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        seed = int(params["drop_seed"])
        h, w = sample.shape
        channels = sample.num_channels
        per_channel = self.per_channel and channels > 1
        hidden = self._hidden(seed, (h, w, channels) if per_channel else (h, w))
        fill = "random" if self.drop_value is None else self.drop_value

        def drop(img: np.ndarray) -> np.ndarray:
            region = hidden
            if hidden.ndim == 3 and (img.ndim == 2 or img.shape[2] != hidden.shape[2]):
                region = np.asarray(hidden.any(axis=2))
            # Random fill values are redrawn from the call's seed for each array, so every frame
            # of ``images`` (every slice of a volume) gets the same values: one draw per call.
            return fill_region_with_rng(img, region, fill, np.random.default_rng(seed + 1))

        mask_fill = self.mask_drop_value
        if mask_fill is None or per_channel:
            return Pixels(drop)
        return Pixels(drop, lambda m: fill_region(m, hidden, mask_fill))


def _example_region() -> np.ndarray:
    region = np.zeros((72, 88), np.uint8)
    region[:, 44:] = 1
    return region


class GuidedCoarseDropout(OcclusionTransform):
    """Cut rectangular holes only inside a region the caller passes, sparing protected boxes.

    The call carries a binary ``(H, W)`` region under ``region_key``: nonzero pixels may be
    dropped, zero pixels never are (a region of another size is stretched to the image with
    nearest-neighbour). Boxes whose label (first label field) is in ``protected_bbox_labels``,
    each grown by ``protection_margin`` of its width and height on every side, are removed from
    the region. A number of holes drawn from ``num_holes_range`` is centred on eligible pixels
    drawn uniformly; each hole's sides are fractions of the image height and width drawn from
    ``hole_height_range`` / ``hole_width_range``. What is dropped is the holes' union intersected
    with the eligible region, so protected boxes are never touched.

    Per target: image: dropped pixels are filled with ``fill`` (``random_uniform`` draws one value
    per hole row). mask: filled with ``fill_mask`` when given, else unchanged. bboxes: dropped
    when the visible part falls below BboxParams ``min_visibility`` / ``min_area`` (judged on the
    actual dropped pixels). keypoints: removed on dropped pixels when ``remove_invisible``.

    Args:
        region_key: key of the call's data holding the region. Default: ``dropout_region``.
        protected_bbox_labels: labels of boxes to protect, or None. Default: None.
        protection_margin: growth of each protected box per side, as a fraction of its size
            (>= 0). Default: 0.
        num_holes_range: range of the number of holes. Default: (1, 1).
        hole_height_range: range of the hole height as a fraction of the image height, in (0, 1].
            Default: (0.05, 0.2).
        hole_width_range: range of the hole width as a fraction of the image width, in (0, 1].
            Default: (0.05, 0.2).
        fill: image fill: a value, per-channel values, ``random``, ``random_uniform``,
            ``inpaint_telea`` or ``inpaint_ns``. Default: 0.
        fill_mask: mask fill, or None to leave masks alone. Default: None.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"num_holes_range": (2, 4), "fill_mask": 0}
    example_data = {"dropout_region": _example_region()}

    region_key: str
    protected_bbox_labels: list[str | int | float] | None
    protection_margin: float
    num_holes_range: tuple[int, int]
    hole_height_range: tuple[float, float]
    hole_width_range: tuple[float, float]

    class InitSchema(TransformSchema):
        region_key: str = "dropout_region"
        protected_bbox_labels: list[str | int | float] | None = None
        protection_margin: float = Field(default=0.0, ge=0.0)
        num_holes_range: Annotated[CountRange, Bounded("count")] = (1, 1)
        hole_height_range: FractionRange = (0.05, 0.2)
        hole_width_range: FractionRange = (0.05, 0.2)
        fill: Fill | FillMode = 0.0
        fill_mask: Fill | None = None
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> GuidedCoarseDropout.InitSchema:
            low, high = self.num_holes_range
            if low < 0 or low > high:
                raise ValueError(f"num_holes_range must satisfy 0 <= low <= high, got {self.num_holes_range}")
            return self

    def _region(self, sample: Sample) -> np.ndarray:
        key = self.region_key
        if key not in sample.data:
            raise InputError(
                f"GuidedCoarseDropout needs a dropout region: pass a binary (H, W) array with the call "
                f"as {key}=region (region_key={key!r})"
            )
        region = np.asarray(sample.data[key])
        if region.ndim == 3 and region.shape[2] == 1:
            region = region[:, :, 0]
        if region.ndim != 2 or region.size == 0:
            raise InputError(
                f"GuidedCoarseDropout: data[{key!r}] must be a 2-D (H, W) array, got shape {region.shape}"
            )
        allowed = region != 0
        if allowed.shape != sample.shape:
            h, w = sample.shape
            allowed = cv2.resize(allowed.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) != 0
        return allowed

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        eligible = self._region(sample).copy()
        if self.protected_bbox_labels is not None:
            m = self.protection_margin
            for x0, y0, x1, y1 in boxes_labelled(sample, self.protected_bbox_labels):
                dx, dy = (x1 - x0) * m, (y1 - y0) * m
                left, top = max(int(np.floor(x0 - dx)), 0), max(int(np.floor(y0 - dy)), 0)
                right, bottom = min(int(np.ceil(x1 + dx)), w), min(int(np.ceil(y1 + dy)), h)
                eligible[top:bottom, left:right] = False
        candidates = np.flatnonzero(eligible)
        count = int(rng.integers(self.num_holes_range[0], self.num_holes_range[1] + 1))
        hidden = np.zeros((h, w), bool)
        if len(candidates):
            for _ in range(count):
                centre = int(candidates[int(rng.integers(0, len(candidates)))])
                cy, cx = divmod(centre, w)
                hh = max(round(h * uniform(rng, *self.hole_height_range)), 1)
                hw = max(round(w * uniform(rng, *self.hole_width_range)), 1)
                top, left = max(cy - hh // 2, 0), max(cx - hw // 2, 0)
                hidden[top : min(top + hh, h), left : min(left + hw, w)] = True
        hidden &= eligible
        return {"holes": row_runs(hidden), "fill_seed": _fill_seed(rng)}
