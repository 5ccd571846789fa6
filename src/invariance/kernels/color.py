"""Colour and tone kernels. uint8 images go through 256-entry lookup tables (one pass, no float copy)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from invariance.kernels._cv import restore_channel_axis


def max_value(dtype: np.dtype) -> float:
    """The white level of a dtype: 255 for uint8, 1.0 for float images."""
    return 255.0 if dtype == np.uint8 else 1.0


def apply_lut(img: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Map a uint8 image through a 256-entry table (shared, or one column per channel)."""
    if lut.ndim == 1 or img.ndim == 2 or img.shape[2] <= 4:
        table = lut if lut.ndim == 1 else lut.reshape(256, 1, -1)
        if lut.ndim == 2 and img.ndim == 3 and table.shape[2] != img.shape[2]:
            raise ValueError(f"lookup table has {table.shape[2]} channels, image has {img.shape[2]}")
        return restore_channel_axis(cv2.LUT(img, table), img)
    # More than four channels with per-channel tables: numpy gather per channel.
    out = np.empty(img.shape, dtype=lut.dtype)
    for c in range(img.shape[2]):
        out[:, :, c] = lut[img[:, :, c], c]
    return out


def multiply_add(img: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """``img * alpha + beta``, saturated to the dtype's range (``beta`` in pixel units)."""
    if img.dtype == np.uint8:
        lut = np.clip(np.arange(256, dtype=np.float32) * alpha + beta, 0, 255)
        return apply_lut(img, np.rint(lut).astype(np.uint8))
    result = img * np.float32(alpha) + np.float32(beta)
    return np.clip(result, 0.0, 1.0, out=result)


def safe_brightness_contrast(alpha: float, beta: float, white: float) -> tuple[float, float]:
    """Shrink ``alpha`` and ``beta`` so that ``x * alpha + beta`` stays in ``[0, white]`` for all x."""
    if alpha > 0:
        beta = float(np.clip(beta, 0.0, white))
        alpha = min(alpha, (white - beta) / white)
    else:
        beta = min(beta, white)
        alpha = max(alpha, -beta / white)
    return alpha, beta


GRAY_WEIGHTS = (0.299, 0.587, 0.114)


def to_gray(img: np.ndarray, method: str, num_output_channels: int) -> np.ndarray:
    """Convert an RGB (or single-channel) image to gray, repeated on ``num_output_channels``."""
    if img.ndim == 2 or img.shape[2] == 1:
        gray = img.reshape(img.shape[0], img.shape[1])
    else:
        if method in ("weighted_average", "from_lab") and img.shape[2] != 3:
            raise ValueError(f"ToGray method {method!r} needs an RGB image, got {img.shape[2]} channels")
        gray = _gray_by_method(img, method)
    if num_output_channels == 1:
        return gray[:, :, np.newaxis] if img.ndim == 3 else gray.copy()
    return np.ascontiguousarray(np.repeat(gray[:, :, np.newaxis], num_output_channels, axis=2))


def _gray_by_method(img: np.ndarray, method: str) -> np.ndarray:
    if method == "weighted_average":
        return np.asarray(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))
    if method == "from_lab":
        lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
        lightness = lab[:, :, 0]
        return lightness if img.dtype == np.uint8 else (lightness / 100.0).astype(img.dtype)
    if method == "desaturation":
        high = img.max(axis=2).astype(np.float32)
        low = img.min(axis=2).astype(np.float32)
        return _cast_like((high + low) / 2, img.dtype)
    if method == "average":
        return _cast_like(img.mean(axis=2, dtype=np.float32), img.dtype)
    if method == "max":
        return np.asarray(img.max(axis=2))
    if method == "pca":
        return _gray_pca(img)
    raise ValueError(f"unknown ToGray method {method!r}")


def _cast_like(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if dtype == np.uint8:
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return values.astype(dtype)


def _gray_pca(img: np.ndarray) -> np.ndarray:
    """Project pixels on their first principal component and rescale to the dtype's range."""
    pixels = img.reshape(-1, img.shape[2]).astype(np.float32)
    centered = pixels - pixels.mean(axis=0)
    covariance = centered.T @ centered / max(len(pixels) - 1, 1)
    _, vectors = np.linalg.eigh(covariance)
    principal = vectors[:, -1]
    if principal.sum() < 0:
        principal = -principal
    projected = centered @ principal
    low, high = float(projected.min()), float(projected.max())
    scaled = (projected - low) / (high - low) if high > low else np.zeros_like(projected)
    gray = scaled.reshape(img.shape[:2]) * max_value(img.dtype)
    return _cast_like(gray, img.dtype)


def normalize_standard(
    img: np.ndarray, mean: Sequence[float] | float, std: Sequence[float] | float, max_pixel_value: float
) -> np.ndarray:
    """``(img / max_pixel_value - mean) / std`` as float32, through a per-channel table for uint8."""
    channels = 1 if img.ndim == 2 else img.shape[2]
    mean_arr = _per_channel(mean, channels)
    std_arr = _per_channel(std, channels)
    scale = 1.0 / (std_arr * max_pixel_value)
    offset = -mean_arr / std_arr
    if img.dtype == np.uint8:
        table = (np.arange(256, dtype=np.float64)[:, None] * scale[None, :] + offset[None, :]).astype(
            np.float32
        )
        if channels == 1:
            out = apply_lut(img, np.ascontiguousarray(table[:, 0]))
        else:
            out = apply_lut(img, np.ascontiguousarray(table))
        return out
    result = img.astype(np.float32, copy=True) if img.dtype != np.float32 else img.copy()
    if img.ndim == 2:
        result *= np.float32(scale[0])
        result += np.float32(offset[0])
    else:
        result *= scale.astype(np.float32)
        result += offset.astype(np.float32)
    return result


def _per_channel(values: Sequence[float] | float, channels: int) -> np.ndarray:
    """One value per channel. A list of another length (ImageNet's three values on a grayscale
    image) falls back to its first value for every channel, as Albumentations does."""
    flat = np.atleast_1d(np.asarray(values, dtype=np.float64)).reshape(-1)
    return flat if len(flat) == channels else np.full(channels, flat[0])


def normalize_by_statistics(img: np.ndarray, mode: str, eps: float = 1e-4) -> np.ndarray:
    """Normalize an image by its own statistics: ``image``, ``image_per_channel``, ``min_max``,
    or ``min_max_per_channel``. Returns float32."""
    values = img.astype(np.float32)
    axes: tuple[int, ...] | None = (0, 1) if mode.endswith("per_channel") and img.ndim == 3 else None
    if mode.startswith("image"):
        mean = values.mean(axis=axes, keepdims=True)
        std = values.std(axis=axes, keepdims=True)
        return ((values - mean) / (std + eps)).astype(np.float32)
    low = values.min(axis=axes, keepdims=True)
    high = values.max(axis=axes, keepdims=True)
    return ((values - low) / (high - low + eps)).astype(np.float32)
