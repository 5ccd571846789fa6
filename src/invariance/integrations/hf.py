"""Hugging Face ``datasets``: one-line ``set_transform`` helpers for image and detection datasets.

``set_transform(ds, policy)`` augments the ``image`` column on the fly (images come back as
numpy arrays, or tensors when the policy ends with ``ToTensorV2``). With
``objects_column="objects"`` the COCO-style objects of each row (``{"bbox": [[x, y, w, h], ...],
"category": [...], ...}``) move with the image: boxes are transformed and filtered, and every
other per-object field (category, id, iscrowd...) follows its box; ``area`` is recomputed.

This module does not import ``datasets`` itself: it calls the dataset's own ``set_transform``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from invariance.core.compose import BaseCompose, Compose
from invariance.core.errors import ImageTooLargeError, InputError
from invariance.core.image_io import max_pixels_default
from invariance.core.targets import BboxParams

__all__ = ["make_transform", "set_transform"]

_INDEX_FIELD = "__object_index__"


def _to_array(image: Any) -> np.ndarray:
    """A decoded image (PIL, numpy, nested lists) as a numpy array (RGB for colour PIL images)."""
    if hasattr(image, "convert") and hasattr(image, "mode"):
        # A PIL image from datasets is decoded lazily: check its size before the pixels are read.
        width, height = image.size
        limit = max_pixels_default()
        if width * height > limit:
            raise ImageTooLargeError(
                f"set_transform: an image of {width}x{height} pixels is over the limit of {limit} pixels "
                "(raise it with INVARIANCE_MAX_IMAGE_PIXELS)"
            )
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        return np.asarray(image)
    array = np.asarray(image)
    if array.dtype == object:
        raise InputError(
            "set_transform: the image column must hold decoded images (datasets.Image) or arrays"
        )
    return array


def _pipeline(policy: Any, bbox_format: str | None, seed: int | None) -> BaseCompose:
    transforms = list(policy.transforms) if isinstance(policy, Compose) else [policy]
    p = float(policy.p) if isinstance(policy, Compose) else 1.0
    bbox_params = None
    if bbox_format is not None:
        options: dict[str, Any] = {}
        if isinstance(policy, Compose) and policy.bbox_params is not None:
            options = {
                k: v for k, v in policy.bbox_params.to_dict().items() if k not in ("format", "label_fields")
            }
        bbox_params = BboxParams(format=bbox_format, label_fields=[_INDEX_FIELD], **options)
    return Compose(transforms, bbox_params=bbox_params, p=p, seed=seed)


def _box_area(boxes: np.ndarray, bbox_format: str) -> list[float]:
    if len(boxes) == 0:
        return []
    if bbox_format == "coco":
        return [float(w * h) for w, h in boxes[:, 2:4]]
    if bbox_format == "pascal_voc":
        return [float((x1 - x0) * (y1 - y0)) for x0, y0, x1, y1 in boxes[:, :4]]
    return [float(w * h) for w, h in boxes[:, 2:4]]  # yolo / albumentations: relative w, h or unknown


def make_transform(
    policy: Any,
    image_column: str = "image",
    objects_column: str | None = None,
    bbox_key: str = "bbox",
    bbox_format: str = "coco",
    seed: int | None = None,
) -> Callable[[Mapping[str, list[Any]]], dict[str, list[Any]]]:
    """The batch function that :func:`set_transform` installs (for ``with_transform`` or a map).

    It takes a batch (column -> list of values) and returns a new batch with ``image_column``
    (and ``objects_column``) augmented; the input batch is not modified.
    """
    pipeline = _pipeline(policy, bbox_format if objects_column is not None else None, seed)

    def transform(batch: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
        if image_column not in batch:
            raise InputError(f"set_transform: no column {image_column!r} (columns: {sorted(batch)})")
        out: dict[str, list[Any]] = {key: list(values) for key, values in batch.items()}
        images: list[Any] = []
        objects: list[Any] = []
        for row, image in enumerate(batch[image_column]):
            data: dict[str, Any] = {"image": _to_array(image)}
            source: Mapping[str, Any] = {}
            if objects_column is not None:
                source = batch[objects_column][row] or {}
                boxes = np.asarray(source.get(bbox_key, []), dtype=np.float64).reshape(-1, 4)
                data["bboxes"] = boxes
                data[_INDEX_FIELD] = list(range(len(boxes)))
            result = pipeline(**data)
            images.append(result["image"])
            if objects_column is not None:
                kept = list(result[_INDEX_FIELD])
                new_boxes = np.asarray(result["bboxes"], dtype=np.float64).reshape(-1, 4)
                moved: dict[str, Any] = {}
                for key, values in source.items():
                    if key == bbox_key:
                        moved[key] = new_boxes.tolist()
                    elif key == "area":
                        moved[key] = _box_area(new_boxes, bbox_format)
                    elif isinstance(values, (list, tuple)) and len(values) == len(data["bboxes"]):
                        moved[key] = [values[i] for i in kept]
                    else:
                        moved[key] = values
                moved.setdefault(bbox_key, new_boxes.tolist())
                objects.append(moved)
        out[image_column] = images
        if objects_column is not None:
            out[objects_column] = objects
        return out

    return transform


def set_transform(
    ds: Any,
    policy: Any,
    image_column: str = "image",
    objects_column: str | None = None,
    bbox_key: str = "bbox",
    bbox_format: str = "coco",
    seed: int | None = None,
) -> Any:
    """Augment ``ds`` on the fly: ``set_transform(ds, policy)``; returns ``ds`` (changed in place).

    Args:
        ds: a ``datasets.Dataset`` (or anything with ``set_transform``).
        policy: a transform or a Compose (its transforms, ``p`` and box filters are used).
        image_column: the column of decoded images. Default: ``image``.
        objects_column: the column of COCO-style objects, or None for image-only datasets.
        bbox_key: the key of the boxes inside each objects dict. Default: ``bbox``.
        bbox_format: the boxes' format (``coco`` x, y, w, h in pixels; ``pascal_voc``; ``yolo``).
            Default: ``coco``.
        seed: seed of the policy's stream (reseeded per DataLoader worker). Default: None.
    """
    ds.set_transform(make_transform(policy, image_column, objects_column, bbox_key, bbox_format, seed))
    return ds
