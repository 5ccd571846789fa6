"""Occlusion kernels: fill rectangular holes."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def fill_holes(
    img: np.ndarray,
    holes: np.ndarray,
    fill: float | Sequence[float] | str,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Return a copy of ``img`` with each ``(x0, y0, x1, y1)`` hole filled.

    ``fill`` is a value or per-channel values; ``"random"`` (fresh random pixels),
    ``"random_uniform"`` (one random colour per hole), or ``"inpaint_telea"`` / ``"inpaint_ns"``
    (OpenCV inpainting from the hole's surroundings, uint8 images with 1 or 3 channels).
    """
    out = img.copy()
    if len(holes) == 0:
        return out
    if isinstance(fill, str) and fill.startswith("inpaint"):
        return _inpaint(img, holes, fill)
    white = 255 if img.dtype == np.uint8 else 1.0
    channels = () if img.ndim == 2 else (img.shape[2],)
    constant = None if isinstance(fill, str) else _constant(fill, img)
    for x0, y0, x1, y1 in np.asarray(holes, dtype=np.int64):
        if x1 <= x0 or y1 <= y0:
            continue
        if fill == "random":
            assert rng is not None
            shape = (y1 - y0, x1 - x0, *channels)
            out[y0:y1, x0:x1] = _random_values(rng, shape, img.dtype, white)
        elif fill == "random_uniform":
            assert rng is not None
            out[y0:y1, x0:x1] = _random_values(rng, channels or (1,), img.dtype, white).reshape(
                channels or ()
            )
        else:
            out[y0:y1, x0:x1] = constant
    return out


def _constant(fill: float | Sequence[float], img: np.ndarray) -> np.ndarray:
    """The fill as an array that broadcasts over a hole of ``img`` (scalar or per channel)."""
    values = np.asarray(fill, dtype=np.float64).reshape(-1)
    if img.dtype == np.uint8:
        values = np.clip(np.rint(values), 0, 255)
    if len(values) == 1:
        return values.astype(img.dtype)[0]
    channels = 1 if img.ndim == 2 else img.shape[2]
    if len(values) < channels:
        raise ValueError(f"fill has {len(values)} values but the image has {channels} channels")
    return values[:channels].astype(img.dtype) if img.ndim == 3 else values[:1].astype(img.dtype)[0]


def _random_values(
    rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype, white: float
) -> np.ndarray:
    if dtype == np.uint8:
        return rng.integers(0, 256, size=shape, dtype=np.uint8)
    return rng.random(shape, dtype=np.float32) * np.float32(white)


def _inpaint(img: np.ndarray, holes: np.ndarray, method: str) -> np.ndarray:
    if img.dtype != np.uint8 or not (img.ndim == 2 or img.shape[2] in (1, 3)):
        raise ValueError("inpainting fills need a uint8 image with 1 or 3 channels")
    mask = np.zeros(img.shape[:2], dtype=np.uint8)
    for x0, y0, x1, y1 in np.asarray(holes, dtype=np.int64):
        mask[y0:y1, x0:x1] = 255
    flag = cv2.INPAINT_TELEA if method == "inpaint_telea" else cv2.INPAINT_NS
    out = cv2.inpaint(img, mask, 3, flag)
    return out.reshape(img.shape)
