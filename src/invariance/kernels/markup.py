"""Synthetic human markup drawn on images: text, boxes, arrows, guide lines and zoom callouts.

Every element is drawn as an anti-aliased coverage layer and blended with its ink colour, so any
channel count and both dtypes take the same path (OpenCV's drawing takes at most four channels).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np

from invariance.kernels.weather import to_dtype, white

_FONT = cv2.FONT_HERSHEY_SIMPLEX


def ink(img: np.ndarray, colour: str) -> np.ndarray:
    """The ink of ``colour`` (black, white or red) in the image's scale: red lights the first
    channel only."""
    channels = 1 if img.ndim == 2 else img.shape[2]
    value = np.zeros(channels, np.float32)
    if colour == "white":
        value[:] = white(img.dtype)
    elif colour == "red":
        value[0] = white(img.dtype)
    return value


def _pt(xy: Sequence[float]) -> tuple[int, int]:
    return (round(float(xy[0])), round(float(xy[1])))


def _coverage(shape: tuple[int, int], element: Mapping[str, Any]) -> np.ndarray:
    """The element's strokes as an ``(H, W)`` uint8 coverage (255: fully inked)."""
    layer = np.zeros(shape, np.uint8)
    kind, thick = element["type"], int(element["thickness"])
    if kind == "text":
        cv2.putText(
            layer,
            str(element["text"]),
            _pt(element["origin"]),
            _FONT,
            float(element["scale"]),
            255,
            thick,
            cv2.LINE_AA,
        )
    elif kind == "rectangle":
        x0, y0, x1, y1 = element["box"]
        cv2.rectangle(layer, _pt((x0, y0)), _pt((x1, y1)), 255, thick, cv2.LINE_AA)
    elif kind == "arrow":
        cv2.arrowedLine(
            layer,
            _pt(element["start"]),
            _pt(element["end"]),
            255,
            thick,
            cv2.LINE_AA,
            0,
            float(element["tip"]),
        )
    elif kind == "line":
        cv2.line(layer, _pt(element["start"]), _pt(element["end"]), 255, thick, cv2.LINE_AA)
    elif kind == "callout":
        sx0, sy0, sx1, sy1 = element["source"]
        tx0, ty0, tx1, ty1 = element["target"]
        cv2.rectangle(layer, _pt((sx0, sy0)), _pt((sx1, sy1)), 255, thick, cv2.LINE_AA)
        cv2.rectangle(layer, _pt((tx0, ty0)), _pt((tx1, ty1)), 255, thick, cv2.LINE_AA)
        cv2.line(layer, _pt((sx0, sy0)), _pt((tx0, ty0)), 255, thick, cv2.LINE_AA)
        cv2.line(layer, _pt((sx1, sy1)), _pt((tx1, ty1)), 255, thick, cv2.LINE_AA)
    return layer


def _zoom(
    values: np.ndarray, source: Sequence[float], target: Sequence[float], origin: tuple[int, int]
) -> None:
    """Paste the ``source`` box magnified into the ``target`` box (in place), both in image
    coordinates; ``values`` is the part of the image that starts at ``origin`` (x, y)."""
    ox, oy = origin
    h, w = values.shape[:2]
    sx0, sy0, sx1, sy1 = (int(v) for v in source)
    tx0, ty0, tx1, ty1 = (int(v) for v in target)
    sx0, sy0, sx1, sy1 = max(sx0 - ox, 0), max(sy0 - oy, 0), min(sx1 - ox, w), min(sy1 - oy, h)
    tx0, ty0, tx1, ty1 = max(tx0 - ox, 0), max(ty0 - oy, 0), min(tx1 - ox, w), min(ty1 - oy, h)
    if sx1 <= sx0 or sy1 <= sy0 or tx1 <= tx0 or ty1 <= ty0:
        return
    patch = np.ascontiguousarray(values[sy0:sy1, sx0:sx1])
    zoomed = cv2.resize(patch, (tx1 - tx0, ty1 - ty0), interpolation=cv2.INTER_LINEAR)
    values[ty0:ty1, tx0:tx1] = zoomed.reshape(values[ty0:ty1, tx0:tx1].shape)


def _clipped_box(box: Sequence[float], shape: tuple[int, int]) -> tuple[int, int, int, int]:
    h, w = shape
    x0, y0, x1, y1 = (int(v) for v in box)
    return max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)


def draw_markup(img: np.ndarray, elements: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Draw ``elements`` in order over ``img`` (a new array). Each element is a mapping with a
    ``type`` (text, rectangle, arrow, line, callout), a ``colour``, a ``thickness`` and the
    geometry of its type; a callout first pastes its source box magnified into its target box.

    Strokes are local: the blending runs in float32 only over the box that holds every stroke and
    callout box, and each element only over its own strokes' box (a zero coverage leaves a pixel
    unchanged), so the result equals blending over the whole image.
    """
    shape = img.shape[:2]
    covers = [_coverage(shape, element) for element in elements]
    boxes: list[tuple[int, int, int, int]] = []
    for cover in covers:
        x, y, w, h = cv2.boundingRect(cover)
        boxes.append((x, y, x + w, y + h))
    touched = [b for b in boxes if b[2] > b[0] and b[3] > b[1]]
    for element in elements:
        if element["type"] == "callout":
            touched += [_clipped_box(element["source"], shape), _clipped_box(element["target"], shape)]
    touched = [b for b in touched if b[2] > b[0] and b[3] > b[1]]
    out = img.copy() if img.dtype == np.uint8 else np.clip(img, 0.0, 1.0).astype(img.dtype, copy=False)
    if not touched:
        return out
    x0, y0 = min(b[0] for b in touched), min(b[1] for b in touched)
    x1, y1 = max(b[2] for b in touched), max(b[3] for b in touched)
    values = img[y0:y1, x0:x1].astype(np.float32)
    for element, cover, (ex0, ey0, ex1, ey1) in zip(elements, covers, boxes):
        if element["type"] == "callout":
            _zoom(values, element["source"], element["target"], (x0, y0))
        if ex1 <= ex0 or ey1 <= ey0:
            continue
        colour = ink(img, str(element["colour"]))
        part = values[ey0 - y0 : ey1 - y0, ex0 - x0 : ex1 - x0]
        weight = cover[ey0:ey1, ex0:ex1].astype(np.float32) * np.float32(1.0 / 255.0)
        if img.ndim == 3:
            part += (colour - part) * weight[..., None]
        else:
            part += (colour[0] - part) * weight
    out[y0:y1, x0:x1] = to_dtype(values, img.dtype)
    return out
