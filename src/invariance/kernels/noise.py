"""Noise kernels: pure functions that add or apply noise arrays drawn elsewhere.

Noise arrays are in units of the image's white level (1.0 means 255 for uint8). Everything runs in
float32; uint8 results are rounded and saturated once at the end.
"""

from __future__ import annotations

import cv2
import numpy as np

from invariance.kernels._cv import restore_channel_axis
from invariance.kernels.color import apply_lut


def max_value(dtype: np.dtype) -> float:
    """The white level: 255 for uint8, 1.0 for float images."""
    return 255.0 if dtype == np.uint8 else 1.0


def _finish(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Round and saturate float32 ``values`` (in the image's units) into ``like``'s dtype.

    ``values`` must be a fresh array: it is modified in place.
    """
    if like.dtype == np.uint8:
        values += 0.5
        np.clip(values, 0.0, 255.0, out=values)
        return values.astype(np.uint8)
    np.clip(values, 0.0, 1.0, out=values)
    return values.astype(like.dtype, copy=False)


def resize_noise(noise: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear upsampling of a low-resolution noise map (H', W', C) to (height, width, C)."""
    if noise.shape[:2] == (height, width):
        return noise
    return restore_channel_axis(cv2.resize(noise, (width, height), interpolation=cv2.INTER_LINEAR), noise)


def _lut(img: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """Apply one 256-entry uint8 table per channel (``tables`` is (C, 256) or (1, 256))."""
    if len(tables) == 1:
        return apply_lut(img, np.ascontiguousarray(tables[0]))
    return apply_lut(img, np.ascontiguousarray(tables.T))  # (256, C): one column per channel


def _tables(values: np.ndarray, channels: int, op: str) -> np.ndarray:
    """(C or 1, 256) uint8 tables for ``x + v`` (``op='add'``, v in grey levels) or ``x * v``,
    rounded to the nearest level (halves up).

    The 256 entries are computed in float64, where a level times a float32 factor is exact: a
    float32 product rounds near-halves either way, and for a factor close to a fraction with a
    small denominator (31/32, 23/22) that is one level off for a few percent of all pixels.
    """
    ramp = np.arange(256, dtype=np.float64)[None, :]
    per = values.reshape(-1, 1).astype(np.float64)
    if len(per) not in (1, channels):
        per = np.resize(per, (channels, 1))
    result = ramp + per if op == "add" else ramp * per
    return np.clip(np.floor(result + 0.5), 0, 255).astype(np.uint8)


def add_noise(img: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """``img + noise * white``; ``noise`` broadcasts against the image (H, W, C), (H, W, 1) or (C,).

    uint8 images with one value per channel (or one for all) go through lookup tables.
    """
    noise = np.asarray(noise, dtype=np.float32)
    channels = 1 if img.ndim == 2 else img.shape[2]
    if (
        img.dtype == np.uint8
        and noise.size in (1, channels)
        and (noise.ndim <= 1 or noise.shape[:2] == (1, 1))
    ):
        return _lut(img, _tables(noise * np.float32(255.0), channels, "add"))
    planar = img if img.ndim == 3 else img[:, :, np.newaxis]
    scaled = noise * np.float32(max_value(img.dtype))
    out = np.add(planar, scaled, dtype=np.float32)
    result = _finish(out, img)
    return result if img.ndim == 3 else result[:, :, 0]


def multiply(img: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """``img * factors``; ``factors`` is a scalar, one per channel (C,), or a map (H, W, 1|C).

    uint8 images with a scalar or per-channel factor go through lookup tables.
    """
    factors = np.asarray(factors, dtype=np.float32)
    channels = 1 if img.ndim == 2 else img.shape[2]
    if img.dtype == np.uint8 and factors.ndim <= 1:
        return _lut(img, _tables(factors, channels, "mul"))
    planar = img if img.ndim == 3 else img[:, :, np.newaxis]
    if factors.ndim == 3 and img.ndim == 2:
        factors = factors[:, :, :1]
    out = np.multiply(planar, factors, dtype=np.float32)
    result = _finish(out, img)
    return result if img.ndim == 3 else result[:, :, 0]


def shot_noise(img: np.ndarray, counts: np.ndarray, scale: float) -> np.ndarray:
    """Rebuild an image from photon ``counts`` drawn at ``scale`` (see :func:`expected_photons`)."""
    linear = counts.astype(np.float32) * np.float32(scale)
    np.clip(linear, 0.0, 1.0, out=linear)
    display = np.power(linear, np.float32(1.0 / 2.2), dtype=np.float32)
    display *= np.float32(max_value(img.dtype))
    return _finish(display, img)


def expected_photons(img: np.ndarray, scale: float) -> np.ndarray:
    """Expected photon counts: linear light (display value ** 2.2, white = 1) divided by ``scale``."""
    unit = img.astype(np.float32) * np.float32(1.0 / max_value(img.dtype))
    linear = np.power(unit, np.float32(2.2), dtype=np.float32)
    return linear * np.float32(1.0 / max(scale, 1e-12))


def salt_and_pepper(img: np.ndarray, salt: np.ndarray, pepper: np.ndarray) -> np.ndarray:
    """Set the flat pixel indices ``salt`` to white and ``pepper`` to black, on every channel."""
    out = img.copy()
    flat = out.reshape(img.shape[0] * img.shape[1], -1)
    flat[salt] = max_value(img.dtype)
    flat[pepper] = 0
    return out


def iso_noise(img: np.ndarray, hue_shift: np.ndarray, luminance: np.ndarray) -> np.ndarray:
    """Camera-sensor noise in HLS: shift hue by ``hue_shift`` degrees, raise lightness by ``luminance``.

    ``luminance`` (in units of the white level, >= 0) lifts lightness towards white:
    ``L + luminance (1 - L)``. A single-channel image only gets the lightness change.
    """
    # One pass to unit floats (numpy's mixed-type multiply), not a cast and then a scale.
    unit = np.multiply(img, np.float32(1.0 / max_value(img.dtype)), dtype=np.float32)
    if img.ndim == 2 or img.shape[2] == 1:
        gray = unit.reshape(img.shape[0], img.shape[1])
        gray += luminance * (1.0 - gray)
        gray *= np.float32(max_value(img.dtype))
        return _finish(gray, img).reshape(img.shape)
    hls = cv2.cvtColor(unit, cv2.COLOR_RGB2HLS)
    # Hue may leave [0, 360): OpenCV's HLS->RGB wraps it (any number of turns).
    hls[:, :, 0] += hue_shift
    light = hls[:, :, 1]
    light += luminance * (1.0 - light)
    rgb = cv2.cvtColor(hls, cv2.COLOR_HLS2RGB)
    if img.dtype == np.uint8:
        # Scale, round and saturate in one OpenCV pass (saturate_cast), not a scale, an offset,
        # a clip and a cast: the same bytes but for a rare 1-level difference at exact halves.
        return cv2.addWeighted(rgb, 255.0, rgb, 0.0, 0.0, dtype=cv2.CV_8U)
    rgb *= np.float32(max_value(img.dtype))
    return _finish(rgb, img)


def lightness_std(img: np.ndarray) -> float:
    """Standard deviation of HLS lightness ``(max + min) / 2`` over the image, white = 1."""
    if img.ndim == 2 or img.shape[2] == 1:
        light = img.reshape(img.shape[0], img.shape[1])
    else:
        light = cv2.cvtColor(img, cv2.COLOR_RGB2HLS)[:, :, 1].copy()
    _, std = cv2.meanStdDev(light)
    return float(std[0][0]) / max_value(img.dtype)
