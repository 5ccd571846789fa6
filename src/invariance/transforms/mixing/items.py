"""Other samples given through metadata: read them into the internal layout and move them.

A mixing transform receives its extra samples through the call's data, under its
``metadata_key``: one dict, or a list of dicts, each like
``{"image", "mask", "masks", "bboxes", <box label fields>, "keypoints", <keypoint label fields>}``
in the pipeline's formats. :func:`load_item` validates one of them and converts its boxes and
keypoints with the pipeline's own parameters, so that they concatenate with the primary sample's
rows (labels follow their rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from invariance.core.errors import InputError, InputTypeError
from invariance.core.geometry import Geometry, Scale, map_boxes, map_keypoints
from invariance.core.sample import Sample
from invariance.core.targets import (
    BoxSet,
    PointSet,
    RowSet,
    filter_boxes,
    keypoints_visible,
    object_rows,
    read_boxes,
    read_keypoints,
)


@dataclass
class Item:
    """One extra sample in the internal layout (boxes and keypoints conform to the primary's)."""

    image: np.ndarray
    mask: np.ndarray | None
    masks: list[np.ndarray] | None
    boxes: BoxSet | None
    points: PointSet | None

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.image.shape[0]), int(self.image.shape[1])


def metadata_items(sample: Sample, key: str) -> list[Mapping[str, Any]]:
    """The extra samples passed under ``key``: a dict or a list of dicts (none when absent)."""
    value = sample.data.get(key)
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise InputTypeError(
            f"{key}: expected a dict or a list of dicts (one per extra sample), got {type(value).__name__}"
        )
    for i, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            raise InputTypeError(
                f"{key}[{i}]: expected a dict with at least 'image', got {type(entry).__name__}"
            )
    return list(value)


def _conform_image(image: Any, where: str, sample: Sample) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise InputError(f"{where}['image']: expected a non-empty numpy array (H, W) or (H, W, C)")
    primary = sample.image
    if primary is None:
        return image
    channels = 1 if primary.ndim == 2 else primary.shape[2]
    theirs = 1 if image.ndim == 2 else image.shape[2]
    if theirs != channels:
        raise InputError(
            f"{where}['image'] has {theirs} channel(s) but the primary image has {channels}; "
            "every mixed image needs the same number of channels"
        )
    image = image.reshape((*image.shape[:2], *primary.shape[2:]))
    if image.dtype != primary.dtype:
        if primary.dtype == np.uint8:
            image = np.clip(np.rint(image.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
        elif image.dtype == np.uint8:
            image = image.astype(np.float32) / np.float32(255.0)
        else:
            image = image.astype(primary.dtype)
    return image


def _conform_rows(rows: RowSet, template: RowSet) -> None:
    """Make ``rows``' extra columns and label dtypes match ``template`` so the two concatenate."""
    if template.layout.container == "ndarray":
        width = template.extras.shape[1] if template.extras.ndim == 2 else 0
        extras = np.zeros((len(rows), width))
        if rows.extras.dtype == object:
            for i, tail in enumerate(rows.extras):
                numbers = [float(v) for v in tail[:width]]
                extras[i, : len(numbers)] = numbers
        elif rows.extras.ndim == 2:
            k = min(width, rows.extras.shape[1])
            extras[:, :k] = rows.extras[:, :k]
        rows.extras = extras
    elif rows.extras.dtype != object:
        rows.extras = object_rows([tuple(r) for r in np.asarray(rows.extras).reshape(len(rows), -1).tolist()])
    rows.layout = template.layout
    for name, values in template.labels.items():
        if name not in rows.labels:
            continue
        theirs = rows.labels[name]
        if values.dtype != object:
            numeric = np.asarray(list(theirs)) if theirs.dtype == object else theirs
            if numeric.dtype.kind in "biuf" and values.dtype.kind in "biuf":
                rows.labels[name] = numeric.astype(np.result_type(values.dtype, numeric.dtype))


def _labels(raw: Mapping[str, Any], fields: list[str], where: str, count: int) -> dict[str, Any]:
    labels: dict[str, Any] = {}
    for name in fields:
        if name not in raw:
            if count == 0:
                labels[name] = []
                continue
            raise InputError(f"{where}: label field {name!r} is missing; give one label per row")
        if len(raw[name]) != count:
            raise InputError(f"{where}: label field {name!r} has {len(raw[name])} entries for {count} rows")
        labels[name] = raw[name]
    return labels


def load_item(raw: Mapping[str, Any], sample: Sample, key: str, index: int) -> Item:
    """Validate one extra sample and convert it to the internal layout of ``sample``."""
    where = f"{key}[{index}]"
    if "image" not in raw:
        raise InputError(f"{where}: every extra sample needs an 'image'")
    image = _conform_image(raw["image"], where, sample)
    shape = (int(image.shape[0]), int(image.shape[1]))
    mask = raw.get("mask")
    if mask is not None and (not isinstance(mask, np.ndarray) or mask.shape[:2] != shape):
        raise InputError(f"{where}['mask']: expected an array of height and width {shape}")
    masks = raw.get("masks")
    if masks is not None:
        masks = [np.asarray(m) for m in masks]
        if any(m.shape[:2] != shape for m in masks):
            raise InputError(f"{where}['masks']: every mask must have height and width {shape}")
    boxes = None
    template = sample.boxes.get("bboxes")
    if sample.bbox_params is not None and template is not None:
        value = raw.get("bboxes", [])
        fields = list(sample.bbox_params.label_fields)
        labels = _labels(raw, fields, where, len(value))
        boxes = read_boxes(value, f"{where}['bboxes']", sample.bbox_params, shape, labels)
        _conform_rows(boxes, template)
    points = None
    point_template = sample.points.get("keypoints")
    if sample.keypoint_params is not None and point_template is not None:
        value = raw.get("keypoints", [])
        fields = list(sample.keypoint_params.label_fields)
        labels = _labels(raw, fields, where, len(value))
        points = read_keypoints(value, f"{where}['keypoints']", sample.keypoint_params, labels)
        _conform_rows(points, point_template)
    return Item(image, mask, masks, boxes, points)


def primary_item(sample: Sample) -> Item:
    """The primary sample's main image, mask, instance masks, boxes and keypoints as an Item."""
    image = sample.image
    assert image is not None
    masks = None
    for key in sample.keys_of("masks"):
        masks = list(sample.arrays[key])
        break
    return Item(image, sample.mask, masks, sample.boxes.get("bboxes"), sample.points.get("keypoints"))


def warp_image(
    geometry: Geometry, image: np.ndarray, interpolation: int, border: int, fill: Any
) -> np.ndarray:
    """``geometry.warp`` for an image: cubic and Lanczos kernels ring past the input's range, so
    float images are clipped back to [0, 1] (as the pipeline's own warps do)."""
    out = geometry.warp(image, interpolation, border, fill)
    if interpolation in (2, 4) and out.dtype == np.float32:  # cv2.INTER_CUBIC, cv2.INTER_LANCZOS4
        out = np.clip(out, 0.0, 1.0)
    return out


def move_item(
    item: Item,
    geometry: Geometry,
    interpolation: int = 1,
    mask_interpolation: int = 0,
    fill: Any = 0.0,
    fill_mask: Any = 0.0,
    border: int = 0,
) -> Item:
    """Move every target of ``item`` through ``geometry`` (boxes and keypoints are not clipped).

    ``border`` is the OpenCV border mode of the resampling (constant by default).
    """
    image = warp_image(geometry, item.image, interpolation, border, fill)
    mask = None if item.mask is None else geometry.warp(item.mask, mask_interpolation, border, fill_mask)
    masks = (
        None if item.masks is None else [geometry.warp(m, mask_interpolation, border, 0) for m in item.masks]
    )
    boxes = None if item.boxes is None else item.boxes.with_coords(map_boxes(geometry, item.boxes.coords))
    points = (
        None if item.points is None else item.points.with_coords(map_keypoints(geometry, item.points.coords))
    )
    return replace(item, image=image, mask=mask, masks=masks, boxes=boxes, points=points)


def resize_item(item: Item, shape: tuple[int, int], interpolation: int = 1) -> Item:
    """``item`` stretched to ``shape`` (unchanged when it already has that size)."""
    if item.shape == shape:
        return item
    return move_item(item, Scale(item.shape, shape), interpolation)


def boxes_in_region(boxes: BoxSet, sample: Sample, rect: tuple[int, int, int, int]) -> BoxSet:
    """Boxes clipped to the rectangle ``(x0, y0, x1, y1)``, filtered by the sample's BboxParams
    as if the rectangle were the whole image (visibility is measured against the full box)."""
    if len(boxes) == 0 or sample.bbox_params is None:
        return boxes
    x0, y0, x1, y1 = rect
    offset = np.array([x0, y0, x0, y0], dtype=np.float64)
    clipped, keep = filter_boxes(boxes.coords - offset, (y1 - y0, x1 - x0), sample.bbox_params)
    return boxes.with_coords(clipped + offset).take(keep)


def points_in_region(points: PointSet, rect: tuple[int, int, int, int]) -> PointSet:
    """Keypoints whose pixel lies inside the rectangle ``(x0, y0, x1, y1)``."""
    if len(points) == 0:
        return points
    x0, y0, x1, y1 = rect
    local = points.coords - np.array([x0, y0, 0.0, 0.0])
    return points.take(keypoints_visible(local, (y1 - y0, x1 - x0)))


def points_on(points: PointSet, where: np.ndarray) -> np.ndarray:
    """True for keypoints whose pixel is set in the boolean ``(H, W)`` array ``where``."""
    h, w = where.shape
    xi = np.floor(points.coords[:, 0] + 0.5).astype(np.int64)
    yi = np.floor(points.coords[:, 1] + 0.5).astype(np.int64)
    inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    hit = np.zeros(len(xi), dtype=bool)
    hit[inside] = where[yi[inside], xi[inside]]
    return hit


def concat_rows(first: RowSet | None, *others: RowSet | None) -> Any:
    """``first`` followed by ``others`` (missing ones skipped; labels follow their rows).

    Empty sets are left out of the concatenation: an empty numeric ``extras`` block cannot be
    reshaped by :meth:`RowSet.concat`, and leaving it out changes nothing.
    """
    if first is None:
        return None
    parts = [rows for rows in (first, *others) if rows is not None and len(rows)]
    if not parts:
        return first
    if parts[0] is not first:
        # Keep the primary's layout (the output container and dtypes are the caller's).
        parts[0] = (
            first
            if len(first)
            else type(first)(parts[0].coords, parts[0].extras, parts[0].labels, first.layout)
        )
    return parts[0].concat(*parts[1:]) if len(parts) > 1 else parts[0]


def choose_item(rng: np.random.Generator, count: int) -> int:
    """A random index into ``count`` extra samples, or -1 when there are none."""
    return int(rng.integers(0, count)) if count else -1
