"""Mixing kernels: blend two images, paste one image's pixels into another."""

from __future__ import annotations

import cv2
import numpy as np


def blend(a: np.ndarray, b: np.ndarray, weight: float) -> np.ndarray:
    """``weight * a + (1 - weight) * b`` in ``a``'s dtype (uint8 rounded and saturated)."""
    small = a.ndim == 2 or a.shape[2] <= 4
    if a.dtype == np.uint8 and b.dtype == np.uint8 and a.shape == b.shape and small:
        return cv2.addWeighted(a, float(weight), b, 1.0 - float(weight), 0.0).reshape(a.shape)
    mixed = a.astype(np.float32) * np.float32(weight) + b.astype(np.float32) * np.float32(1.0 - weight)
    if a.dtype == np.uint8:
        return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    return np.clip(mixed, 0.0, 1.0).astype(a.dtype)


def paste(dst: np.ndarray, src: np.ndarray, where: np.ndarray) -> np.ndarray:
    """A copy of ``dst`` holding ``src``'s pixels where the boolean ``(H, W)`` array ``where`` is set."""
    out = dst.copy()
    out[where] = src[where]
    return out


def paste_rect(dst: np.ndarray, src: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    """A copy of ``dst`` with the rectangle ``(x0, y0, x1, y1)`` taken from ``src``."""
    x0, y0, x1, y1 = rect
    out = dst.copy()
    out[y0:y1, x0:x1] = src[y0:y1, x0:x1]
    return out


def masks_to_boxes(masks: np.ndarray | list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Tight ``(N, 4)`` ``x_min, y_min, x_max, y_max`` boxes of ``(N, H, W)`` masks (continuous
    frame: a pixel column ``x`` spans ``[x, x + 1)``) and a boolean "not empty" per mask."""
    if len(masks) == 0:
        return np.zeros((0, 4)), np.zeros(0, dtype=bool)
    stack = np.asarray(masks).astype(bool)
    rows: np.ndarray = np.any(stack, axis=2)
    cols: np.ndarray = np.any(stack, axis=1)
    present: np.ndarray = np.any(rows, axis=1)
    h, w = rows.shape[1], cols.shape[1]
    y0 = rows.argmax(axis=1)
    y1 = h - rows[:, ::-1].argmax(axis=1)
    x0 = cols.argmax(axis=1)
    x1 = w - cols[:, ::-1].argmax(axis=1)
    return np.stack([x0, y0, x1, y1], axis=1).astype(np.float64), present
