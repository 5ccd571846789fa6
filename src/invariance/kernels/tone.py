"""Tone kernels: per-value curves and histogram operations.

Every curve is evaluated once on the 256 uint8 levels and applied in one table-lookup pass
(``apply_lut``: stringzilla when installed, else ``cv2.LUT``); float images get the same curve
evaluated directly on their values (no round trip through uint8), except for histogram
operations, which are defined on 256 bins and quantize float input to them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from invariance.kernels._cv import restore_channel_axis
from invariance.kernels.color import apply_lut

LEVELS = np.arange(256, dtype=np.float64)


def curve(img: np.ndarray, func: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply ``func`` (defined on values in [0, 1], returning [0, 1]) to every pixel.

    uint8 goes through a 256-entry table; float32 is evaluated directly and clipped to [0, 1].
    """
    if img.dtype == np.uint8:
        table = np.clip(np.rint(func(LEVELS / 255.0) * 255.0), 0, 255).astype(np.uint8)
        return apply_lut(img, table)
    out = np.asarray(func(img), dtype=np.float32)
    return np.clip(out, 0.0, 1.0, out=out)


def gamma(img: np.ndarray, value: float) -> np.ndarray:
    """``img ** gamma`` on values scaled to [0, 1]."""
    return curve(img, lambda x: np.power(x, value))


def invert(img: np.ndarray) -> np.ndarray:
    """``white - img``."""
    if img.dtype == np.uint8:
        # For uint8, 255 - x is the bitwise complement of x. numpy's vectorised complement beats
        # both its subtraction (~20%) and cv2.bitwise_not, and keeps any channel count and shape.
        return np.invert(img)
    return np.subtract(np.float32(1.0), img, dtype=np.float32)


def solarize(img: np.ndarray, threshold: float) -> np.ndarray:
    """Invert values ``>= threshold`` (threshold as a fraction of the white level)."""
    if img.dtype == np.uint8:
        table = np.arange(256, dtype=np.uint8)
        high = threshold * 255.0 <= LEVELS
        table[high] = 255 - table[high]
        return apply_lut(img, table)
    return np.where(img >= np.float32(threshold), np.float32(1.0) - img, img).astype(np.float32)


def posterize_table(bits: int) -> np.ndarray:
    """Keep the ``bits`` most significant bits of each uint8 level."""
    mask = (0xFF << (8 - bits)) & 0xFF if bits > 0 else 0
    return (np.arange(256, dtype=np.int32) & mask).astype(np.uint8)


def posterize(img: np.ndarray, bits: Sequence[int]) -> np.ndarray:
    """Reduce each channel to ``2**bits`` levels (one value of ``bits`` per channel, or one shared).

    Float images are quantized to 256 levels first, so both dtypes give the same levels.
    """
    if img.dtype == np.uint8:
        # Keeping the high bits is an AND with a mask: one vectorised pass, 3-15x faster than a table.
        masks = [(0xFF << (8 - int(b))) & 0xFF if int(b) > 0 else 0 for b in bits]
        if len(set(masks)) == 1:
            return np.bitwise_and(img, np.uint8(masks[0]))
        if img.ndim == 3 and img.shape[2] == len(masks) <= 4:
            # OpenCV takes one mask per channel as a scalar (numpy's broadcast is 40x slower).
            scalar = tuple(float(m) for m in masks) + (0.0,) * (4 - len(masks))
            # The stubs type src2 as an array; OpenCV takes a 4-tuple as its Scalar.
            return np.asarray(cv2.bitwise_and(np.ascontiguousarray(img), scalar))  # type: ignore[call-overload]
        return np.bitwise_and(img, np.asarray(masks, dtype=np.uint8))
    if len(set(bits)) == 1:
        table = posterize_table(int(bits[0]))
    else:
        table = np.stack([posterize_table(int(b)) for b in bits], axis=1)
    as_uint8 = np.clip(np.rint(img * np.float32(255.0)), 0, 255).astype(np.uint8)
    return apply_lut(as_uint8, table).astype(np.float32) / np.float32(255.0)


def tone_curve_values(x: np.ndarray, low_y: float, high_y: float) -> np.ndarray:
    """The cubic Bezier with control values 0, ``low_y``, ``high_y``, 1, evaluated at ``t = x``."""
    t = x
    return 3 * (1 - t) ** 2 * t * low_y + 3 * (1 - t) * t**2 * high_y + t**3


def tone_curve(img: np.ndarray, low_y: Sequence[float], high_y: Sequence[float]) -> np.ndarray:
    """Apply the tone curve; ``low_y``/``high_y`` hold one value, or one per channel."""
    if len(low_y) == 1:
        lo, hi = float(low_y[0]), float(high_y[0])
        return curve(img, lambda x: tone_curve_values(x, lo, hi))
    channels = img.shape[2]
    if img.dtype == np.uint8:
        table = np.stack(
            [
                np.rint(tone_curve_values(LEVELS / 255.0, low_y[c], high_y[c]) * 255.0)
                for c in range(channels)
            ],
            axis=1,
        )
        return apply_lut(img, np.clip(table, 0, 255).astype(np.uint8))
    lows = np.asarray(low_y, dtype=np.float32)
    highs = np.asarray(high_y, dtype=np.float32)
    out = tone_curve_values(img, lows, highs).astype(np.float32)  # type: ignore[arg-type]
    return np.clip(out, 0.0, 1.0, out=out)


# -- histogram operations (defined on 256 bins) ------------------------------------------------


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Quantize a [0, 1] float image to uint8 (uint8 passes through)."""
    if img.dtype == np.uint8:
        return img
    return np.clip(np.rint(img * np.float32(255.0)), 0, 255).astype(np.uint8)


def like(result: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Bring a uint8 result back to the original's dtype."""
    if original.dtype == np.uint8:
        return result
    return result.astype(np.float32) / np.float32(255.0)


def histogram(channel: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """256-bin histogram of a uint8 channel, counting only pixels where ``mask`` is nonzero."""
    cv_mask = None if mask is None else (mask != 0).astype(np.uint8)
    hist = cv2.calcHist([np.ascontiguousarray(channel)], [0], cv_mask, [256], [0, 256])
    return np.rint(hist.reshape(-1)).astype(np.int64)


def equalize_table_cv(hist: np.ndarray) -> np.ndarray:
    """OpenCV's equalization table: the first occupied level maps to 0, the CDF scales to 255."""
    table = np.zeros(256, dtype=np.uint8)
    occupied = np.flatnonzero(hist)
    if len(occupied) == 0:
        return np.arange(256, dtype=np.uint8)
    first = int(occupied[0])
    total = int(hist.sum())
    if hist[first] == total:
        table[:] = first
        return table
    scale = 255.0 / (total - hist[first])
    cumulative = np.cumsum(hist) - hist[first]
    table[first:] = np.clip(np.rint(cumulative[first:] * scale), 0, 255).astype(np.uint8)
    return table


def equalize_table_pil(hist: np.ndarray) -> np.ndarray:
    """PIL's equalization table: steps of ``(total - count of the last level) // 255`` pixels."""
    occupied = np.flatnonzero(hist)
    if len(occupied) == 0:
        return np.arange(256, dtype=np.uint8)
    step = (int(hist.sum()) - int(hist[occupied[-1]])) // 255
    if step == 0:
        return np.arange(256, dtype=np.uint8)
    before = np.concatenate([[0], np.cumsum(hist)[:-1]])
    return np.clip((before + step // 2) // step, 0, 255).astype(np.uint8)


def equalize(img: np.ndarray, mode: str, by_channels: bool, mask: np.ndarray | None) -> np.ndarray:
    """Histogram equalization of each channel, or of the luma (YCrCb) when ``by_channels`` is False."""
    data = to_uint8(img)
    make_table = equalize_table_cv if mode == "cv" else equalize_table_pil

    def mask_for(index: int) -> np.ndarray | None:
        if mask is None or mask.ndim == 2:
            return mask
        return mask[:, :, min(index, mask.shape[2] - 1)]

    def one(channel: np.ndarray, index: int = 0) -> np.ndarray:
        channel_mask = mask_for(index)
        if channel_mask is None and mode == "cv":
            return np.asarray(cv2.equalizeHist(channel))
        return np.asarray(cv2.LUT(channel, make_table(histogram(channel, channel_mask))))

    if data.ndim == 2 or data.shape[2] == 1:
        out = one(np.ascontiguousarray(data.reshape(data.shape[:2])))
        return like(restore_channel_axis(out, data), img)
    if by_channels:
        planes = cv2.split(data)
        return like(np.asarray(cv2.merge([one(plane, c) for c, plane in enumerate(planes)])), img)
    ycrcb = cv2.cvtColor(data, cv2.COLOR_RGB2YCrCb)
    ycrcb[:, :, 0] = one(np.ascontiguousarray(ycrcb[:, :, 0]))
    return like(np.asarray(cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2RGB)), img)


def clahe(img: np.ndarray, clip_limit: float, tile_grid_size: tuple[int, int]) -> np.ndarray:
    """Contrast-limited adaptive equalization, on the L channel of Lab for RGB images."""
    data = to_uint8(img)
    op = cv2.createCLAHE(clipLimit=float(clip_limit), tileGridSize=tuple(int(v) for v in tile_grid_size))
    if data.ndim == 2 or data.shape[2] == 1:
        out = restore_channel_axis(op.apply(np.ascontiguousarray(data.reshape(data.shape[:2]))), data)
        return like(out, img)
    lab = cv2.cvtColor(data, cv2.COLOR_RGB2LAB)
    # OpenCV's channel extract/insert: cheaper than numpy's strided copy and strided write.
    cv2.insertChannel(op.apply(cv2.extractChannel(lab, 0)), lab, 0)
    return like(np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)), img)


def _cutoff_bounds(hist: np.ndarray, cutoff: float) -> tuple[int, int] | None:
    """Lowest and highest levels left after cutting ``cutoff`` percent of pixels off each end."""
    total = int(hist.sum())
    if total == 0:
        return None
    cut = total * cutoff / 100.0
    cumulative = np.cumsum(hist)
    low = int(np.searchsorted(cumulative, cut, side="right"))
    high = int(np.searchsorted(cumulative, total - cut, side="left"))
    if low >= high:
        return None
    return low, high


def autocontrast_table(hist: np.ndarray, cutoff: float, method: str) -> np.ndarray:
    """Table stretching the occupied levels (after the cutoff) over the full range.

    ``pil``: a straight line from the lowest to the highest kept level. ``cdf``: the cumulative
    distribution of the kept levels, so the stretch follows where the pixels are.
    """
    identity = np.arange(256, dtype=np.uint8)
    bounds = _cutoff_bounds(hist, cutoff)
    if bounds is None:
        return identity
    low, high = bounds
    if method == "pil":
        scale = 255.0 / (high - low)
        return np.clip(np.floor((LEVELS - low) * scale), 0, 255).astype(np.uint8)
    kept = hist.astype(np.float64).copy()
    kept[:low] = 0
    kept[high + 1 :] = 0
    cdf = np.cumsum(kept)
    span = cdf[high] - cdf[low]
    if span <= 0:
        return identity
    table = np.clip(np.rint((cdf - cdf[low]) / span * 255.0), 0, 255)
    table[:low] = 0
    table[high + 1 :] = 255
    return table.astype(np.uint8)


def autocontrast(img: np.ndarray, cutoff: float, ignore: int | None, method: str) -> np.ndarray:
    """Stretch each channel's histogram to the full range (the ``ignore`` level is not counted)."""
    data = to_uint8(img)
    flat = data.reshape(data.shape[0], data.shape[1], -1)
    tables = []
    for c in range(flat.shape[2]):
        hist = np.rint(cv2.calcHist([flat], [c], None, [256], [0, 256]).reshape(-1)).astype(np.int64)
        if ignore is not None and 0 <= ignore < 256:
            hist[ignore] = 0
        table = autocontrast_table(hist, cutoff, method)
        if ignore is not None and 0 <= ignore < 256:
            table[ignore] = ignore
        tables.append(table)
    if all(np.array_equal(tables[0], t) for t in tables[1:]):
        out = apply_lut(data, tables[0])
    else:
        out = apply_lut(data, np.stack(tables, axis=1))
    return like(out, img)
