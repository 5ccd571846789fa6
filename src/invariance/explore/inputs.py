"""Reading what the user uploads: images, masks, boxes and keypoints, from bytes, in memory.

Nothing here writes to disk. Images go through the shared safe reader
(:mod:`invariance.core.image_io`), which checks the size in the header of every accepted format
(PNG, JPEG, WebP, TIFF, BMP) before decoding. Each reader raises
:class:`UploadError` (answered as HTTP 4xx) with a message the page shows as it is.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from invariance.core import image_io
from invariance.core.errors import ImageFileError, ImageTooLargeError
from invariance.core.image_io import Color

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 4096 * 4096
MAX_TARGETS = 10_000
#: The largest magnitude a coordinate may have (pixels, or normalised for YOLO); far past any image.
MAX_COORDINATE = 1e6
_MAX_NUMBER_CHARS = 64


class UploadError(ValueError):
    """An upload that cannot be used; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def _decode(data: bytes, what: str, color: Color) -> np.ndarray:
    """Decode through the shared safe reader: the header's size is checked before any pixel."""
    _check_bytes(data, what)
    try:
        return image_io.decode_image(data, what, color=color, max_pixels=MAX_PIXELS)
    except ImageTooLargeError as error:
        raise UploadError(str(error), 413) from None
    except ImageFileError as error:
        reason = str(error).removeprefix(f"{what}: ")
        raise UploadError(f"{what} could not be decoded: {reason}") from None


def _check_bytes(data: bytes, what: str) -> None:
    if not data:
        raise UploadError(f"{what} is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"{what} is {len(data)} bytes; the limit is {MAX_UPLOAD_BYTES} bytes", 413)


def decode_image(data: bytes) -> np.ndarray:
    """An RGB uint8 image from encoded bytes (PNG, JPEG, WebP, BMP or TIFF, at most :data:`MAX_PIXELS`)."""
    return _decode(data, "the image", "rgb")


def decode_mask(data: bytes, shape: tuple[int, int]) -> np.ndarray:
    """A class-id mask (uint8 HxW) from a PNG, the same size as the image."""
    mask = _decode(data, "the mask", "unchanged")
    if mask.ndim == 3:
        mask = mask[:, :, 2]  # the blue channel, as the page has always read colour masks
    if mask.shape[:2] != shape:
        raise UploadError(
            f"the mask is {mask.shape[1]}x{mask.shape[0]} but the image is {shape[1]}x{shape[0]}"
        )
    return np.ascontiguousarray(mask)


def _number(value: Any, what: str) -> float:
    """A finite coordinate of sane magnitude from JSON or text, else :class:`UploadError` naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UploadError(f"{what}: expected a number, got {type(value).__name__}")
    if isinstance(value, str) and len(value) > _MAX_NUMBER_CHARS:
        raise UploadError(f"{what}: {value[:20]!r}... is not a number of sane size")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise UploadError(f"{what}: {str(value)[:40]!r} is not a finite number of sane size") from None
    if not (abs(number) <= MAX_COORDINATE):  # also false for NaN
        raise UploadError(f"{what}: {number!r} is not a finite number within +-{MAX_COORDINATE:g}")
    return number


def _json(text: str, what: str) -> Any:
    """JSON without NaN/Infinity constants and without integers of absurd length."""

    def constant(name: str) -> Any:
        raise UploadError(f"{what}: {name} is not a finite number")

    def integer(digits: str) -> int:
        if len(digits) > _MAX_NUMBER_CHARS:
            raise UploadError(f"{what}: an integer of {len(digits)} digits is not a sane coordinate")
        return int(digits)

    try:
        return json.loads(text, parse_constant=constant, parse_int=integer)
    except RecursionError:
        raise UploadError(f"{what} is nested too deeply") from None


def _text(data: bytes, what: str) -> str:
    _check_bytes(data, what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError(f"{what} is not UTF-8 text") from None


def _clip_box(box: list[float], width: int, height: int) -> list[float] | None:
    x0, y0, x1, y1 = box
    x0, x1 = min(max(x0, 0.0), width), min(max(x1, 0.0), width)
    y0, y1 = min(max(y0, 0.0), height), min(max(y1, 0.0), height)
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    return [x0, y0, x1, y1]


def parse_boxes(data: bytes, filename: str, shape: tuple[int, int]) -> tuple[list[list[float]], list[str]]:
    """Boxes as ``pascal_voc`` pixels with labels, from COCO JSON or YOLO text.

    COCO: a full COCO document (``annotations`` with ``bbox`` and ``category_id``, names from
    ``categories``), or a plain list of ``[x, y, w, h]`` / ``{"bbox": [...], "label": ...}``.
    YOLO: one ``class cx cy w h`` line per box, normalised to the image size.
    """
    height, width = shape
    text = _text(data, "the boxes file")
    boxes: list[list[float]] = []
    labels: list[str] = []
    try:
        if filename.lower().endswith(".txt") or not text.lstrip().startswith(("[", "{")):
            for number, line in enumerate(text.splitlines(), 1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) < 5:
                    raise UploadError(f"YOLO line {number}: expected 'class cx cy w h', got {line!r}")
                cx, cy, w, h = (_number(v, f"YOLO line {number}") for v in parts[1:5])
                boxes.append(
                    [(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height]
                )
                labels.append(parts[0])
        else:
            document = _json(text, "the boxes file")
            names: dict[Any, str] = {}
            items = document
            if isinstance(document, dict):
                names = {c["id"]: str(c.get("name", c["id"])) for c in document.get("categories", [])}
                items = document.get("annotations", [])
            if not isinstance(items, list):
                raise UploadError("COCO boxes: expected a list of boxes or a document with 'annotations'")
            for item in items:
                bbox = item.get("bbox") if isinstance(item, dict) else item
                if not isinstance(bbox, list) or len(bbox) < 4:
                    raise UploadError(f"COCO boxes: {item!r:.80} is not [x, y, width, height]")
                x, y, w, h = (_number(v, f"COCO box {len(boxes) + 1}") for v in bbox[:4])
                boxes.append([x, y, x + w, y + h])
                if isinstance(item, dict):
                    key = item.get("category_id", item.get("label", ""))
                    labels.append(names.get(key, str(key)))
                else:
                    labels.append(str(bbox[4]) if len(bbox) > 4 else "")
    except (ValueError, KeyError, TypeError) as error:
        if isinstance(error, UploadError):
            raise
        raise UploadError(f"the boxes file could not be read: {error}") from None
    if len(boxes) > MAX_TARGETS:
        raise UploadError(f"too many boxes ({len(boxes)}); the limit is {MAX_TARGETS}")
    kept = [(c, label) for b, label in zip(boxes, labels, strict=True) if (c := _clip_box(b, width, height))]
    return [c for c, _ in kept], [label for _, label in kept]


def parse_keypoints(data: bytes) -> tuple[list[list[float]], list[str]]:
    """Keypoints from JSON: a list of ``[x, y]`` (optionally ``[x, y, label]``) or ``{"x", "y", "label"}``."""
    text = _text(data, "the keypoints file")
    try:
        items = _json(text, "the keypoints file")
        if isinstance(items, dict):
            items = items.get("keypoints", [])
        if not isinstance(items, list):
            raise UploadError("keypoints: expected a JSON list of [x, y] points")
        points: list[list[float]] = []
        labels: list[str] = []
        for index, item in enumerate(items):
            if isinstance(item, dict):
                where = f"keypoint {index + 1}"
                points.append([_number(item["x"], where), _number(item["y"], where)])
                labels.append(str(item.get("label", index)))
            elif isinstance(item, list) and len(item) >= 2:
                where = f"keypoint {index + 1}"
                points.append([_number(item[0], where), _number(item[1], where)])
                labels.append(str(item[2]) if len(item) > 2 else str(index))
            else:
                raise UploadError(f"keypoints: {item!r:.80} is not [x, y]")
    except (ValueError, KeyError, TypeError) as error:
        if isinstance(error, UploadError):
            raise
        raise UploadError(f"the keypoints file could not be read: {error}") from None
    if len(points) > MAX_TARGETS:
        raise UploadError(f"too many keypoints ({len(points)}); the limit is {MAX_TARGETS}")
    return points, labels
