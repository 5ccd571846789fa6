"""Photographic and print effects: vignetting, film grain, halftone, dithering, colour ramps,
local filters and exposure. Pure functions of arrays and numbers; random fields are drawn by the
transforms (from a seed kept in the parameters) and passed in
the caller drew.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from functools import cache, lru_cache

import cv2
import numpy as np

from invariance.kernels._cv import restore_channel_axis, scratch
from invariance.kernels.blur import convolve
from invariance.kernels.color import lookup_plane, multiply_add, repeat_channel
from invariance.kernels.weather import scale_pixels, to_dtype, white

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def luminance(img: np.ndarray) -> np.ndarray:
    """An ``(H, W)`` float32 luminance in [0, 1]: Rec. 601 weights for 3 channels, the mean else."""
    scale = np.float32(1.0 / white(img.dtype))
    if img.ndim == 2:
        return img.astype(np.float32) * scale
    if img.shape[2] == 3:
        return (img.astype(np.float32) @ _LUMA) * scale
    return img.mean(axis=2, dtype=np.float32) * scale


def gray_u8(img: np.ndarray) -> np.ndarray:
    """The uint8 luminance of a uint8 image (OpenCV's fixed-point Rec. 601 conversion for RGB)."""
    if img.ndim == 2:
        return img
    if img.shape[2] == 3:
        return np.asarray(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))
    return np.rint(luminance(img) * 255.0).astype(np.uint8)


# -- lens and film -------------------------------------------------------------------------------


def vignette_gain(shape: tuple[int, int], center: Sequence[float], intensity: float) -> np.ndarray:
    """The ``(H, W)`` gain of an elliptical vignette: 1 at ``center`` (fractions of width and
    height), falling quadratically with the normalised distance to ``1 - intensity`` at the corner
    farthest from the centre.

    Distances are measured in half-widths and half-heights, so the falloff follows the frame's
    aspect (an ellipse), as the light cone of a lens does on a rectangular sensor.
    """
    h, w = shape
    cx, cy = center[0] * w, center[1] * h
    u2 = ((np.arange(w, dtype=np.float32) + 0.5 - cx) / np.float32(max(w / 2.0, 0.5))) ** 2
    v2 = ((np.arange(h, dtype=np.float32) + 0.5 - cy) / np.float32(max(h / 2.0, 0.5))) ** 2
    far = float(max(u2[0], u2[-1]) + max(v2[0], v2[-1]))
    gain: np.ndarray = np.add.outer(v2, u2)
    gain *= np.float32(-intensity / max(far, 1e-12))
    gain += np.float32(1.0)
    return gain


def _per_pixel(plane: np.ndarray, img: np.ndarray) -> np.ndarray:
    """An ``(H, W)`` float32 plane repeated to ``img``'s channel count (for OpenCV arithmetic)."""
    if img.ndim == 2:
        return plane
    return np.asarray(cv2.merge([plane] * img.shape[2]))


def vignette(img: np.ndarray, center: Sequence[float], intensity: float) -> np.ndarray:
    """Darken ``img`` by :func:`vignette_gain` (every channel alike, saturating).

    uint8 goes through one OpenCV multiply that rounds and saturates into uint8 directly (no
    float copy of the image).
    """
    gain = vignette_gain(img.shape[:2], center, intensity)
    if img.dtype == np.uint8:
        return restore_channel_axis(cv2.multiply(img, _per_pixel(gain, img), dtype=cv2.CV_8U), img)
    return scale_pixels(img, gain)


def grain_grid(shape: tuple[int, ...], grain_size: int) -> tuple[int, int]:
    """The coarse grid :func:`film_grain` draws its noise on: ``grain_size`` times coarser."""
    h, w = shape[:2]
    return max(1, -(-h // grain_size)), max(1, -(-w // grain_size))


def film_grain(img: np.ndarray, intensity: float, noise: np.ndarray) -> np.ndarray:
    """Add luminance-dependent, spatially correlated grain.

    Unit Gaussian grain ``noise`` is drawn on a grid ``grain_size`` times coarser than the image
    (:func:`grain_grid`) and upscaled bilinearly, so grains clump over about ``grain_size`` pixels. Its standard deviation is
    ``intensity * (1 - L)`` of the white level, ``L`` the local luminance in [0, 1]: shadows show
    the most grain, as the sparse developed silver of a thin negative does. The same grain is added
    to every channel (silver grain has no colour).
    """
    h, w = img.shape[:2]
    if noise.shape != (h, w):
        noise = np.asarray(cv2.resize(noise, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)
    amplitude = (1.0 - luminance(img)) * np.float32(intensity * white(img.dtype))
    grain = noise * amplitude
    if img.dtype == np.uint8:
        return restore_channel_axis(cv2.add(img, _per_pixel(grain, img), dtype=cv2.CV_8U), img)
    values = img.astype(np.float32)
    values += grain[..., None] if img.ndim == 3 else grain
    return to_dtype(values, img.dtype)


def _global_mean(img: np.ndarray) -> float:
    """The mean over every pixel and channel: OpenCV's per-channel means (double sums, 6x faster
    than numpy's float64 mean) averaged, where OpenCV takes the layout; numpy's mean otherwise."""
    channels = 1 if img.ndim == 2 else img.shape[2]
    if img.ndim in (2, 3) and channels <= 4 and img.dtype in (np.uint8, np.float32) and img.size:
        return float(sum(cv2.mean(np.ascontiguousarray(img))[:channels]) / channels)
    return float(img.mean(dtype=np.float64))


def exposure_gain(img: np.ndarray, target_mean: float, gain_range: Sequence[float] | None) -> float:
    """The multiplicative gain that brings the image's global mean (as a fraction of white) to
    ``target_mean``, clipped to ``gain_range``; 1 for an all-black image (nothing to scale)."""
    mean = _global_mean(img) / white(img.dtype)
    gain = 1.0 if mean <= 0.0 else target_mean / mean
    if gain_range is not None:
        gain = min(max(gain, float(gain_range[0])), float(gain_range[1]))
    return gain


def scale_exposure(img: np.ndarray, gain: float) -> np.ndarray:
    """``img * gain`` saturated to the dtype (uint8 through one lookup table)."""
    return multiply_add(img, gain, 0.0)


# -- colour ramps --------------------------------------------------------------------------------


_RAMP = np.linspace(0.0, 1.0, 256)
_RAMP_U8 = np.arange(256, dtype=np.uint8)


def colorize_table(anchors: Sequence[Sequence[float]], positions: Sequence[float]) -> np.ndarray:
    """A ``(256, 3)`` float32 table: the piecewise-linear ramp through ``anchors`` (0..255 RGB)
    placed at ``positions`` (fractions of white, increasing from 0 to 1)."""
    if len(anchors) == 2 and list(positions) == [0.0, 1.0]:  # one straight ramp: one broadcast
        low, high = np.asarray(anchors[0], np.float64), np.asarray(anchors[1], np.float64)
        return (low + (high - low) * _RAMP[:, None]).astype(np.float32)
    cols = [np.interp(_RAMP, positions, [a[c] for a in anchors]) for c in range(3)]
    return np.stack(cols, axis=1).astype(np.float32)


@lru_cache(maxsize=64)
def _ramp(
    anchors: tuple[tuple[float, ...], ...], positions: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray, str]:
    """The ramp's float table, its rounded uint8 table, and what the latter is: ``"identity"``,
    ``"grey"`` (the three channels equal) or ``"colour"``. Cached: a fixed ramp (the default
    black-to-white one) costs nothing after its first call; both tables are read-only."""
    table = colorize_table(anchors, positions)
    lut = np.clip(np.rint(table), 0, 255).astype(np.uint8)
    if not (lut == lut[:, :1]).all():
        kind = "colour"
    else:
        kind = "identity" if np.array_equal(lut[:, 0], _RAMP_U8) else "grey"
    table.flags.writeable = False
    lut.flags.writeable = False
    return table, lut, kind


def _colour_plane(gray: np.ndarray, lut: np.ndarray, channel: int) -> np.ndarray:
    """Channel ``channel`` of the ramp looked up on the grey plane, into a reused buffer of that
    channel (a temporary: the caller interleaves the planes into a fresh array)."""
    return lookup_plane(gray, lut[:, channel], scratch(f"colorize-{channel}", gray.shape, np.uint8))


def colorize(img: np.ndarray, anchors: Sequence[Sequence[float]], positions: Sequence[float]) -> np.ndarray:
    """Map the image's luminance along the ramp of :func:`colorize_table`: an RGB image.

    uint8 luminance indexes the rounded table directly (one lookup per channel); float luminance
    is interpolated along the same ramp, so both dtypes give the same colours.
    """
    table, lut, kind = _ramp(
        tuple(tuple(float(v) for v in a) for a in anchors), tuple(float(v) for v in positions)
    )
    if img.dtype == np.uint8:
        gray = np.ascontiguousarray(gray_u8(img).reshape(img.shape[:2]))
        # One shared-table lookup of the grey plane per output channel, then one interleave:
        # cheaper than interleaving three copies of the grey plane for a 3-channel table.
        if kind == "colour":
            return np.asarray(cv2.merge([_colour_plane(gray, lut, c) for c in range(3)]))
        # A grey ramp: one lookup (none for the identity), copied thrice.
        return repeat_channel(gray if kind == "identity" else _colour_plane(gray, lut, 0), 3)
    level = luminance(img) * np.float32(255.0)
    low = np.clip(np.floor(level), 0, 254).astype(np.int32)
    frac = (level - low)[..., None]
    out = table[low] * (1.0 - frac) + table[low + 1] * frac
    return np.clip(out / np.float32(255.0), 0.0, 1.0).astype(np.float32)


# -- quantisation --------------------------------------------------------------------------------


def bayer_matrix(size: int) -> np.ndarray:
    """The ``size`` x ``size`` Bayer index matrix (size a power of two), as thresholds
    ``(index + 0.5) / size**2`` in (0, 1)."""
    m = np.zeros((1, 1), np.int64)
    while m.shape[0] < size:
        m = np.block([[4 * m, 4 * m + 2], [4 * m + 3, 4 * m + 1]])
    return ((m + 0.5) / (size * size)).astype(np.float32)


#: Error-diffusion weights as ``(dy, dx, weight)`` with the divisor folded in.
DIFFUSION: dict[str, tuple[tuple[int, int, float], ...]] = {
    "floyd_steinberg": tuple((dy, dx, w / 16) for dy, dx, w in ((0, 1, 7), (1, -1, 3), (1, 0, 5), (1, 1, 1))),
    "jarvis_judice_ninke": tuple(
        (dy, dx, w / 48)
        for dy, dx, w in (
            (0, 1, 7),
            (0, 2, 5),
            (1, -2, 3),
            (1, -1, 5),
            (1, 0, 7),
            (1, 1, 5),
            (1, 2, 3),
            (2, -2, 1),
            (2, -1, 3),
            (2, 0, 5),
            (2, 1, 3),
            (2, 2, 1),
        )
    ),
    "stucki": tuple(
        (dy, dx, w / 42)
        for dy, dx, w in (
            (0, 1, 8),
            (0, 2, 4),
            (1, -2, 2),
            (1, -1, 4),
            (1, 0, 8),
            (1, 1, 4),
            (1, 2, 2),
            (2, -2, 1),
            (2, -1, 2),
            (2, 0, 4),
            (2, 1, 2),
            (2, 2, 1),
        )
    ),
    "atkinson": tuple((dy, dx, 1 / 8) for dy, dx in ((0, 1), (0, 2), (1, -1), (1, 0), (1, 1), (2, 0))),
    "burkes": tuple(
        (dy, dx, w / 32)
        for dy, dx, w in ((0, 1, 8), (0, 2, 4), (1, -2, 2), (1, -1, 4), (1, 0, 8), (1, 1, 4), (1, 2, 2))
    ),
    "sierra": tuple(
        (dy, dx, w / 32)
        for dy, dx, w in (
            (0, 1, 5),
            (0, 2, 3),
            (1, -2, 2),
            (1, -1, 4),
            (1, 0, 5),
            (1, 1, 4),
            (1, 2, 2),
            (2, -1, 2),
            (2, 0, 3),
            (2, 1, 2),
        )
    ),
    "sierra_2row": tuple(
        (dy, dx, w / 16)
        for dy, dx, w in ((0, 1, 4), (0, 2, 3), (1, -2, 1), (1, -1, 2), (1, 0, 3), (1, 1, 2), (1, 2, 1))
    ),
    "sierra_lite": tuple((dy, dx, w / 4) for dy, dx, w in ((0, 1, 2), (1, -1, 1), (1, 0, 1))),
}


def _to_unit(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) * np.float32(1.0 / white(img.dtype))


def _from_levels(levels: np.ndarray, n_colors: int, like: np.ndarray) -> np.ndarray:
    """Level indices 0..n-1 back to the image's dtype (exact level values)."""
    values = levels.astype(np.float32) * np.float32(white(like.dtype) / (n_colors - 1))
    if like.dtype == np.uint8:
        return np.rint(values).astype(np.uint8)
    values += np.float32(0.0)  # no negative zeros from rounding tiny negatives
    return values.astype(like.dtype, copy=False)


@lru_cache(maxsize=32)
def _ordered_tables(n_colors: int, matrix_size: int) -> np.ndarray:
    """uint8 results of ``ordered_dither`` for every level (columns) at every Bayer phase (rows).

    Computed with the float path's own operations on the 256 levels, so a lookup gives its bytes.
    """
    levels = np.arange(256, dtype=np.uint8)
    ramp = np.broadcast_to(levels, (matrix_size * matrix_size, 256))
    return _ordered_float(ramp, n_colors, bayer_matrix(matrix_size).reshape(-1, 1))


@lru_cache(maxsize=4)
def _phase_plane(h: int, w: int, matrix_size: int, scale: int) -> np.ndarray:
    """``scale`` times each pixel's Bayer phase index (row-major in the matrix), tiled to ``(h, w)``."""
    phases = np.arange(matrix_size * matrix_size, dtype=np.uint16).reshape(matrix_size, matrix_size)
    tiled = np.tile(phases * np.uint16(scale), (-(-h // matrix_size), -(-w // matrix_size)))[:h, :w]
    return np.ascontiguousarray(tiled)


@lru_cache(maxsize=4)
def _two_level_thresholds(h: int, w: int, matrix_size: int, channels: int) -> np.ndarray:
    """Per pixel, the first level that dithers to white with two colours (uint8, ``(h, w[, c])``)."""
    table = _ordered_tables(2, matrix_size)
    first_white = np.argmax(table > 0, axis=1).astype(np.uint8)  # each row does reach white: 255
    plane = first_white[_phase_plane(h, w, matrix_size, 1)]
    return plane if channels == 0 else np.ascontiguousarray(np.repeat(plane[..., None], channels, axis=2))


def _ordered_float(img: np.ndarray, n_colors: int, thresholds: np.ndarray) -> np.ndarray:
    scaled = _to_unit(img) * np.float32(n_colors - 1)
    scaled += thresholds
    levels = np.clip(np.floor(scaled), 0, n_colors - 1)
    return _from_levels(levels, n_colors, img)


def ordered_dither(img: np.ndarray, n_colors: int, matrix_size: int) -> np.ndarray:
    """Quantise to ``n_colors`` levels per channel with a tiled Bayer threshold matrix.

    uint8 images look their result up (one table row per Bayer phase, the float formula's own
    bytes); with two colours it is a single comparison against a threshold plane.
    """
    h, w = img.shape[:2]
    if img.dtype == np.uint8 and img.ndim in (2, 3):
        channels = 0 if img.ndim == 2 else img.shape[2]
        if n_colors == 2:
            limits = _two_level_thresholds(h, w, matrix_size, channels)
            return np.asarray(cv2.compare(np.ascontiguousarray(img), limits, cv2.CMP_GE)).reshape(img.shape)
        index = img.astype(np.uint16)
        phase = _phase_plane(h, w, matrix_size, 256)
        index += phase if img.ndim == 2 else phase[..., None]
        return np.take(_ordered_tables(n_colors, matrix_size).reshape(-1), index)
    m = bayer_matrix(matrix_size)
    thresholds = np.tile(m, (-(-h // matrix_size), -(-w // matrix_size)))[:h, :w]
    return _ordered_float(img, n_colors, thresholds[..., None] if img.ndim == 3 else thresholds)


def random_dither(img: np.ndarray, n_colors: int, noise: np.ndarray) -> np.ndarray:
    """Quantise to ``n_colors`` levels after adding ``noise`` (of the image's shape, in units of
    one quantisation step) to every pixel and channel."""
    scaled = _to_unit(img) * np.float32(n_colors - 1) + noise
    levels = np.clip(np.rint(scaled), 0, n_colors - 1)
    return _from_levels(levels, n_colors, img)


def error_diffusion_dither(img: np.ndarray, n_colors: int, algorithm: str, serpentine: bool) -> np.ndarray:
    """Quantise to ``n_colors`` levels, pushing each pixel's quantisation error onto its
    not-yet-visited neighbours with the named kernel's weights.

    Raster order is run as a wavefront: a pixel only receives error from its left neighbours and
    the rows above, so every pixel on the line ``x + k*y = t`` (``k`` large enough that every
    target of the kernel lies on a later line) can be quantised at once, ``W + k*H`` vectorised steps in
    all. Serpentine order (odd rows right to left, kernel mirrored) has no such wavefront and runs
    row by row, vectorised over the channels only: much slower.
    """
    weights = DIFFUSION[algorithm]
    h, w = img.shape[:2]
    planes = _to_unit(img).reshape(h, w, -1) * np.float32(n_colors - 1)
    channels = planes.shape[2]
    pad = 2
    work = np.zeros((h + pad, w + 2 * pad, channels), np.float32)
    work[:h, pad : pad + w] = planes
    top = n_colors - 1
    if serpentine:
        for y in range(h):
            step = 1 if y % 2 == 0 else -1
            for x in range(w) if step == 1 else range(w - 1, -1, -1):
                old = work[y, x + pad].copy()
                new = np.clip(np.rint(old), 0, top)
                work[y, x + pad] = new
                err = old - new
                for dy, dx, wt in weights:
                    work[y + dy, x + pad + step * dx] += err * np.float32(wt)
    else:
        k = max(-dx // dy + 1 for dy, dx, _ in weights if dy > 0)
        stride = w + 2 * pad
        flat = work.reshape(-1, channels)  # a view: rows of the padded image, one after another
        shifts = [(dy * stride + dx, np.float32(wt)) for dy, dx, wt in weights]
        ys_all = np.arange(h)
        for t in range(w + k * (h - 1)):
            first = max(0, -(-(t - w + 1) // k))  # the rows whose pixel on this line is inside
            last = min(h - 1, t // k)
            rows = ys_all[first : last + 1]
            index = rows * stride + (t - k * rows + pad)
            old = flat[index]
            new = np.clip(np.rint(old), 0, top)
            flat[index] = new
            err = old - new
            for shift, wt in shifts:
                flat[index + shift] += err * wt
    levels = work[:h, pad : pad + w].reshape(img.shape)
    return _from_levels(levels, n_colors, img)


# -- local filters -------------------------------------------------------------------------------

#: The 3x3 edge and detail operators of the classic image-editing filter family (each sums to 1).
ENHANCE_KERNELS: dict[str, np.ndarray] = {
    "edge": np.array([[-1, -1, -1], [-1, 10, -1], [-1, -1, -1]], np.float32) / 2.0,
    "detail": np.array([[0, -1, 0], [-1, 10, -1], [0, -1, 0]], np.float32) / 6.0,
}


def enhance_kernel(mode: str, alpha: float) -> np.ndarray:
    """``(1 - alpha) * identity + alpha * E``: a 3x3 kernel summing to 1 (brightness kept)."""
    identity = np.zeros((3, 3), np.float32)
    identity[1, 1] = 1.0
    kernel: np.ndarray = (1.0 - alpha) * identity + alpha * ENHANCE_KERNELS[mode]
    return kernel.astype(np.float32)


def stochastic_kernel(size: int, strength: float, noise: np.ndarray) -> np.ndarray:
    """An impulse plus ``strength / size`` times a unit Gaussian field (``noise``, ``size`` x ``size``)."""
    kernel = noise.astype(np.float32) * np.float32(strength / size)
    kernel[size // 2, size // 2] += 1.0
    return kernel


def stochastic_convolution(
    img: np.ndarray, size: int, strength: float, fields: Sequence[np.ndarray], border_mode: int
) -> np.ndarray:
    """Correlate with :func:`stochastic_kernel` fields: one field for every channel, or one per
    channel (``len(fields)`` equal to the channel count)."""
    channels = 1 if img.ndim == 2 else img.shape[2]
    if len(fields) == 1 or channels == 1:
        return convolve(img, stochastic_kernel(size, strength, fields[0]), border_mode)
    planes = [
        convolve(np.ascontiguousarray(img[:, :, c]), stochastic_kernel(size, strength, field), border_mode)
        for c, field in enumerate(fields)
    ]
    return np.stack(planes, axis=2)


@cache
def sorting_network(count: int) -> tuple[tuple[int, int], ...]:
    """Compare-exchange pairs ``(i, j)``, ``i < j``, that sort ``count`` values ascending.

    Batcher's odd-even merge sort on the next power of two, with every pair that touches a
    position ``>= count`` dropped: padding those positions with +infinity, such a pair never
    moves anything (the larger value already sits at ``j``), so the rest sorts the first
    ``count`` (28 pairs for 9 values, 140 for 25, 394 for 49).
    """
    size = 1
    while size < count:
        size *= 2
    pairs = []
    block = 1
    while block < size:
        gap = block
        while gap >= 1:
            for start in range(gap % block, size - gap, 2 * gap):
                for i in range(min(gap, size - start - gap)):
                    low, high = start + i, start + i + gap
                    if low // (2 * block) == high // (2 * block) and high < count:
                        pairs.append((low, high))
            gap //= 2
        block *= 2
    return tuple(pairs)


#: Bytes of the mode filter's window stack (``ksize**2 + 1`` copies of a strip of rows): rows are
#: taken a strip at a time to stay under it.
_MODE_STACK_BYTES = 2**25
#: The largest window side sorted by a network; above it the per-level counts are cheaper (on
#: 256x256 RGB: 11x11 47 against 89 ms, 13x13 83 against 90, 15x15 128 against 92).
_MODE_SORT_MAX_SIDE = 11


def mode_filter(img: np.ndarray, ksize: int) -> np.ndarray:
    """Replace each pixel by the most frequent value of its ``ksize`` x ``ksize`` window, per
    channel (ties: the smallest value; reflected borders). Runs on 256 levels: float images are
    quantised to uint8 steps first.

    Up to 11x11 the ``ksize**2`` shifted copies of the image are sorted element-wise by a
    sorting network (:func:`sorting_network`, one minimum and one maximum per pair, whole arrays
    at a time), so equal values of a window sit side by side; one pass over the sorted copies
    then keeps the longest run, the first (smallest) value winning a tie: about 100 array
    operations for 3x3 and 660 for 7x7, whatever the number of levels, in row strips that bound
    the memory. Larger windows count each level present instead (:func:`_mode_by_level_counts`),
    whose cost does not grow with the window.
    """
    as_bytes = img if img.dtype == np.uint8 else np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)
    radius = ksize // 2
    padded = restore_channel_axis(
        cv2.copyMakeBorder(as_bytes, radius, radius, radius, radius, cv2.BORDER_REFLECT), as_bytes
    )
    if ksize > _MODE_SORT_MAX_SIDE:
        result = _mode_by_level_counts(as_bytes, padded, ksize)
    else:
        result = _mode_by_sorting(as_bytes, padded, ksize)
    if img.dtype == np.uint8:
        return result
    return (result.astype(np.float32) / np.float32(255.0)).astype(img.dtype, copy=False)


def _mode_by_sorting(as_bytes: np.ndarray, padded: np.ndarray, ksize: int) -> np.ndarray:
    """:func:`mode_filter` of a uint8 image through sorted window copies of ``padded`` (the
    image with a reflected border of ``ksize // 2``)."""
    height, width = as_bytes.shape[:2]
    channels = 1 if as_bytes.ndim == 2 else as_bytes.shape[2]
    row_length = width * channels
    padded_rows = padded.reshape(height + ksize - 1, -1)
    out = np.empty((height, row_length), np.uint8)
    strip = max(1, _MODE_STACK_BYTES // ((ksize * ksize + 1) * max(row_length, 1)))
    for top in range(0, height, strip):
        rows = min(strip, height - top)
        windows = [
            padded_rows[top + dy : top + dy + rows, dx * channels : dx * channels + row_length]
            for dy in range(ksize)
            for dx in range(ksize)
        ]
        out[top : top + rows] = _longest_run(windows)
    return out.reshape(as_bytes.shape)


def _mode_by_level_counts(as_bytes: np.ndarray, padded: np.ndarray, ksize: int) -> np.ndarray:
    """:func:`mode_filter` of a uint8 image by counting each level present: its count in every
    window is one unnormalised box filter of its indicator (16-bit counts, all channels in one
    OpenCV call, on the reflected ``padded`` image), and a running maximum keeps the best level
    (levels ascend, so a tie keeps the smaller). At most 256 box filters, whatever the window."""
    height = as_bytes.shape[0]
    row_length = as_bytes.size // max(height, 1)
    shape = (height, row_length)  # every channel of a row side by side: one 2-D pass per step
    best = np.zeros(shape, np.uint16)
    mode = np.zeros(shape, np.uint8)
    mask, step = np.empty(shape, np.uint8), np.empty(shape, np.uint8)
    for level in np.flatnonzero(np.bincount(as_bytes.ravel(), minlength=256)):
        indicator = (padded == level).view(np.uint8)
        summed = cv2.boxFilter(indicator, cv2.CV_16U, (ksize, ksize), normalize=False, anchor=(0, 0))
        count = summed.reshape(padded.shape[0], -1)[:height, :row_length]  # window sums, top-left anchored
        _keep_larger(count, np.uint8(level), best, mode, mask, step)
    return mode.reshape(as_bytes.shape)


def _keep_larger(
    count: np.ndarray,
    value: np.ndarray | np.uint8,
    best: np.ndarray,
    mode: np.ndarray,
    mask: np.ndarray,
    step: np.ndarray,
) -> None:
    """Where ``count`` beats ``best`` (strictly: an earlier value keeps a tie), raise ``best`` to
    it and set ``mode`` to ``value``, in place; ``mask`` and ``step`` are scratch arrays of the
    same 2-D shape. 0/255 masks and wrapping uint8 arithmetic replace np.where / np.copyto with a
    mask (10x slower on random masks)."""
    cv2.compare(count, best, cv2.CMP_GT, dst=mask)
    cv2.max(count, best, dst=best)
    np.subtract(value, mode, out=step)  # mode + (value - mode) & mask, modulo 256
    cv2.bitwise_and(step, mask, dst=step)
    np.add(mode, step, out=mode)


def _longest_run(windows: list[np.ndarray]) -> np.ndarray:
    """Element-wise, the value that occurs most often among ``windows`` (same-shape 2-D uint8
    arrays); ties go to the smallest value."""
    count = len(windows)
    shape = windows[0].shape
    stack = scratch("mode_stack", (count + 1, *shape), np.uint8)
    for index, window in enumerate(windows):
        stack[index] = window
    values = list(stack[:count])
    spare = stack[count]
    for low, high in sorting_network(count):
        np.minimum(values[low], values[high], out=spare)
        np.maximum(values[low], values[high], out=values[high])
        values[low], spare = spare, values[low]
    # run: how many equal values precede this one; best: the longest run so far.
    run = np.zeros(shape, np.uint8)
    best = np.zeros(shape, np.uint8)
    mode = values[0].copy()
    mask = np.empty(shape, np.uint8)
    for previous, current in itertools.pairwise(values):
        cv2.compare(current, previous, cv2.CMP_EQ, dst=mask)
        cv2.add(run, 1, dst=run)
        cv2.bitwise_and(run, mask, dst=run)
        _keep_larger(run, current, best, mode, mask, spare)
    return mode


# -- print ---------------------------------------------------------------------------------------


def halftone(img: np.ndarray, cell: int, blend: float) -> np.ndarray:
    """Print-style halftone: one filled dot per ``cell`` x ``cell`` cell on black paper.

    Each dot has the cell's mean colour and a radius proportional to the cell's mean luminance
    (a white cell's dot reaches the cell's corners, a black cell has none). The result is mixed
    with the original: ``blend`` 0 is pure halftone, 1 the original.
    """
    h, w = img.shape[:2]
    rows, cols = -(-h // cell), -(-w // cell)
    padded = cv2.copyMakeBorder(img, 0, rows * cell - h, 0, cols * cell - w, cv2.BORDER_REFLECT)
    means = restore_channel_axis(cv2.resize(padded, (cols, rows), interpolation=cv2.INTER_AREA), img)
    radius = luminance(means) * np.float32(cell / math.sqrt(2.0))
    offsets = np.arange(cell, dtype=np.float32) + 0.5 - cell / 2.0
    local = np.hypot(offsets[:, None], offsets[None, :])  # distance to the cell centre
    inside = np.tile(local, (rows, cols))[:h, :w] <= np.repeat(np.repeat(radius, cell, 0), cell, 1)[:h, :w]
    dots = np.repeat(np.repeat(means, cell, 0), cell, 1)[:h, :w]
    halftoned = np.where(inside[..., None] if img.ndim == 3 else inside, dots, 0).astype(img.dtype)
    if blend <= 0.0:
        return halftoned
    mixed = cv2.addWeighted(halftoned, 1.0 - blend, img, blend, 0.0)
    out = restore_channel_axis(mixed, img)
    if out.dtype.kind == "f":
        np.clip(out, 0.0, 1.0, out=out)
    return out
