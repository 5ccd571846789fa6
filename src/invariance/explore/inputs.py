"""Reading what the user uploads: images, masks, boxes and keypoints, from bytes, in memory.

Nothing here writes to disk. Each reader checks sizes before decoding and raises
:class:`UploadError` (answered as HTTP 4xx) with a message the page shows as it is.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import cv2
import numpy as np

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 4096 * 4096
MAX_TARGETS = 10_000


class UploadError(ValueError):
    """An upload that cannot be used; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        i += 2 + length
    return None


def _check_header(data: bytes, what: str) -> None:
    """Refuse images whose header announces too many pixels, before decoding them."""
    size = _png_size(data) or _jpeg_size(data)
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        raise UploadError(
            f"{what} is {size[0]}x{size[1]} pixels; the explorer takes at most {MAX_PIXELS} pixels", 413
        )


def _check_bytes(data: bytes, what: str) -> None:
    if not data:
        raise UploadError(f"{what} is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"{what} is {len(data)} bytes; the limit is {MAX_UPLOAD_BYTES} bytes", 413)


def decode_image(data: bytes) -> np.ndarray:
    """An RGB uint8 image from encoded bytes (PNG, JPEG, WebP, BMP, TIFF...)."""
    _check_bytes(data, "the image")
    _check_header(data, "the image")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise UploadError("the image could not be decoded; upload a PNG, JPEG, WebP, BMP or TIFF file")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise UploadError(f"the image has more than {MAX_PIXELS} pixels", 413)
    return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))


def decode_mask(data: bytes, shape: tuple[int, int]) -> np.ndarray:
    """A class-id mask (uint8 HxW) from a PNG, the same size as the image."""
    _check_bytes(data, "the mask")
    _check_header(data, "the mask")
    mask = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if mask is None:
        raise UploadError("the mask could not be decoded; upload a PNG of class ids")
    if mask.ndim == 3:
        mask = mask[:, :, 0]
    if mask.shape[:2] != shape:
        raise UploadError(
            f"the mask is {mask.shape[1]}x{mask.shape[0]} but the image is {shape[1]}x{shape[0]}"
        )
    return np.ascontiguousarray(mask)


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
                cx, cy, w, h = (float(v) for v in parts[1:5])
                boxes.append(
                    [(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height]
                )
                labels.append(parts[0])
        else:
            document = json.loads(text)
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
                    raise UploadError(f"COCO boxes: {item!r} is not [x, y, width, height]")
                x, y, w, h = (float(v) for v in bbox[:4])
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
        items = json.loads(text)
        if isinstance(items, dict):
            items = items.get("keypoints", [])
        if not isinstance(items, list):
            raise UploadError("keypoints: expected a JSON list of [x, y] points")
        points: list[list[float]] = []
        labels: list[str] = []
        for index, item in enumerate(items):
            if isinstance(item, dict):
                points.append([float(item["x"]), float(item["y"])])
                labels.append(str(item.get("label", index)))
            elif isinstance(item, list) and len(item) >= 2:
                points.append([float(item[0]), float(item[1])])
                labels.append(str(item[2]) if len(item) > 2 else str(index))
            else:
                raise UploadError(f"keypoints: {item!r} is not [x, y]")
    except (ValueError, KeyError, TypeError) as error:
        if isinstance(error, UploadError):
            raise
        raise UploadError(f"the keypoints file could not be read: {error}") from None
    if len(points) > MAX_TARGETS:
        raise UploadError(f"too many keypoints ({len(points)}); the limit is {MAX_TARGETS}")
    return points, labels
