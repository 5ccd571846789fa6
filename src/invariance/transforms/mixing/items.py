"""Other samples given through metadata: read them into the internal layout.

A mixing transform receives its extra samples through the call's data, under its
``metadata_key``: one dict, or a list of dicts, each like
``{"image", "mask", "masks", "bboxes", <box label fields>, "keypoints", <keypoint label fields>}``
in the pipeline's formats. :func:`load_item` validates one of them and converts its boxes and
keypoints with the pipeline's own parameters, so that they concatenate with the primary sample's
rows (labels follow their rows). Mixing transforms then place them with a
:class:`~invariance.core.effects.Paste`: the pipeline moves every target of every placed sample.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from invariance.core.effects import Item
from invariance.core.errors import InputError, InputTypeError
from invariance.core.geometry import CropWindow, Geometry, Scale
from invariance.core.sample import Sample
from invariance.core.targets import RowSet, object_rows, read_boxes, read_keypoints


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
    template = sample.box_set()
    if sample.bbox_params is not None and template is not None:
        value = raw.get("bboxes", [])
        fields = list(sample.bbox_params.label_fields)
        labels = _labels(raw, fields, where, len(value))
        boxes = read_boxes(value, f"{where}['bboxes']", sample.bbox_params, shape, labels)
        _conform_rows(boxes, template)
    points = None
    point_template = sample.point_set()
    if sample.keypoint_params is not None and point_template is not None:
        value = raw.get("keypoints", [])
        fields = list(sample.keypoint_params.label_fields)
        labels = _labels(raw, fields, where, len(value))
        points = read_keypoints(value, f"{where}['keypoints']", sample.keypoint_params, labels)
        _conform_rows(points, point_template)
    params = sample.bbox_params
    paired = params is not None and params.instance_masks is not None
    if paired and boxes is not None and (masks is None or len(masks) != len(boxes)):
        raise InputError(
            f"{where}: BboxParams(instance_masks=...) pairs masks with boxes; this sample has "
            f"{0 if masks is None else len(masks)} masks for {len(boxes)} boxes"
        )
    return Item(image, mask, masks, boxes, points)


def fit(item_shape: tuple[int, int], shape: tuple[int, int]) -> Geometry:
    """The map that stretches a sample of ``item_shape`` onto ``shape`` (identity when equal)."""
    if item_shape == shape:
        return CropWindow(0, 0, shape, shape)
    return Scale(item_shape, shape)


def choose_item(rng: np.random.Generator, count: int) -> int:
    """A random index into ``count`` extra samples, or -1 when there are none."""
    return int(rng.integers(0, count)) if count else -1
