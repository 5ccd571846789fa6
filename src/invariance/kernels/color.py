"""Colour and tone kernels. uint8 images go through 256-entry lookup tables (one pass, no float copy)."""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable, Sequence
from typing import Any

import cv2
import numpy as np

from invariance.kernels._cv import MAX_CV_CHANNELS, restore_channel_axis, scratch


def max_value(dtype: np.dtype) -> float:
    """The white level of a dtype: 255 for uint8, 1.0 for float images."""
    return 255.0 if dtype == np.uint8 else 1.0


_BYTE_TRANSLATE: Any = None


def _byte_translate() -> Any:
    """stringzilla's ``translate`` (a byte lookup about twice as fast as ``cv2.LUT``) when that
    optional package is installed, else False. Imported on first use, not with invariance."""
    global _BYTE_TRANSLATE
    if _BYTE_TRANSLATE is None:
        try:
            _BYTE_TRANSLATE = importlib.import_module("stringzilla").translate
        except ImportError:  # pragma: no cover - optional speed-up
            _BYTE_TRANSLATE = False
    return _BYTE_TRANSLATE


def apply_lut(img: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Map a uint8 image through a 256-entry table (shared, or one column per channel of ``img``).

    When stringzilla is installed, a shared uint8 table goes through its byte translation, and so
    do per-channel uint8 tables on two to four channels: the image is split into planes (of a
    reused buffer), each plane whose column is not the identity is translated in place, and the
    planes are merged, about 2x faster than ``cv2.LUT`` with a multi-channel table. Otherwise
    ``cv2.LUT`` does it.
    """
    translate = _byte_translate()
    if translate and lut.dtype == np.uint8 and img.dtype == np.uint8 and img.flags.c_contiguous:
        if lut.ndim == 1:
            out = np.empty_like(img)
            translate(img.data.cast("B"), lut.tobytes(), out=out.data.cast("B"))
            return out
        if img.ndim == 3 and 2 <= img.shape[2] <= MAX_CV_CHANNELS and lut.shape == (256, img.shape[2]):
            planes = _split_planes(img)
            _translate_planes(planes, {c: lut[:, c] for c in range(img.shape[2])})
            return np.asarray(cv2.merge(planes))
    if lut.ndim == 1 or img.ndim == 2 or img.shape[2] <= MAX_CV_CHANNELS:
        table = lut if lut.ndim == 1 else lut.reshape(256, 1, -1)
        return restore_channel_axis(cv2.LUT(img, table), img)
    # More than four channels with per-channel tables: numpy gather per channel.
    out = np.empty(img.shape, dtype=lut.dtype)
    for c in range(img.shape[2]):
        out[:, :, c] = lut[img[:, :, c], c]
    return out


_IDENTITY = np.arange(256, dtype=np.uint8)


def _split_planes(img: np.ndarray) -> list[np.ndarray]:
    """The channels of a uint8 ``(H, W, C)`` image as contiguous planes of a reused buffer
    (:func:`~invariance.kernels._cv.scratch`: valid until the next call, never to be returned)."""
    height, width, channels = img.shape
    buffer = scratch("color_planes", (channels, height, width), np.uint8)
    planes = [buffer[c] for c in range(channels)]
    cv2.split(img, planes)
    return planes


def lookup_plane(plane: np.ndarray, column: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The uint8 table ``column`` looked up for every pixel of the contiguous uint8 ``plane``,
    written into ``out`` (contiguous, the plane's shape; may be ``plane`` itself): stringzilla's
    byte translation when installed, else ``cv2.LUT``."""
    translate = _byte_translate()
    if translate:
        translate(plane.data.cast("B"), np.ascontiguousarray(column).tobytes(), out=out.data.cast("B"))
    else:
        cv2.LUT(plane, np.ascontiguousarray(column), dst=out)
    return out


def _translate_planes(planes: list[np.ndarray], columns: dict[int, np.ndarray]) -> bool:
    """Map ``planes[c]`` (contiguous uint8 planes the caller owns) through the uint8 table
    ``columns[c]`` in place, skipping identity tables. Returns whether any plane changed."""
    changed = False
    for c, column in columns.items():
        if _fixes_levels(column, 256):
            continue
        changed = True
        lookup_plane(planes[c], column, planes[c])
    return changed


def multiply_add(img: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """``img * alpha + beta``, saturated to the dtype's range (``beta`` in pixel units)."""
    if img.dtype == np.uint8:
        return apply_lut(img, _affine_table(alpha, beta))
    result = img * np.float32(alpha) + np.float32(beta)
    return np.clip(result, 0.0, 1.0, out=result)


_LEVELS32 = np.arange(256, dtype=np.float32)


def _affine_table(alpha: float, beta: float) -> np.ndarray:
    """The uint8 table ``rint(clip(level * alpha + beta, 0, 255))``, in float32 arithmetic.

    Written as ufuncs into one buffer: ``np.clip``'s Python wrapper and the temporaries cost
    more than the arithmetic on 256 numbers, and ColorJitter builds two tables per image."""
    table = np.multiply(_LEVELS32, alpha)
    np.add(table, beta, out=table)
    np.minimum(table, 255.0, out=table)
    np.maximum(table, 0.0, out=table)
    return np.rint(table, out=table).astype(np.uint8)


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
    """Convert an image to gray, repeated on ``num_output_channels`` (one channel: ``(H, W)``).

    ``method`` is a key of ``GRAY_METHODS``; ``weighted_average`` and ``from_lab`` take RGB
    images (3 channels), the others any channel count. A single-channel image is already gray.
    """
    if img.ndim == 2 or img.shape[2] == 1:
        gray = img.reshape(img.shape[0], img.shape[1])
    else:
        gray = GRAY_METHODS[method](img)
    if num_output_channels == 1:
        return gray.copy()  # (H, W), as Albumentations returns it
    return repeat_channel(gray, num_output_channels)


def repeat_channel(gray: np.ndarray, count: int) -> np.ndarray:
    """Stack a 2-D array ``count`` times along a new channel axis (one OpenCV pass)."""
    plane = np.ascontiguousarray(gray.reshape(gray.shape[0], gray.shape[1]))
    if count == 1:
        return plane[:, :, np.newaxis].copy()
    if count == 3 and plane.dtype in _GRAY2RGB_DTYPES:
        # The same three copies; OpenCV's gray-to-RGB expansion is about 1.5x its merge.
        return np.asarray(cv2.cvtColor(plane, cv2.COLOR_GRAY2RGB))
    return np.asarray(cv2.merge([plane] * count))


_GRAY2RGB_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32))


def _gray_weighted(img: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))


def _gray_from_lab(img: np.ndarray) -> np.ndarray:
    lightness = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)[:, :, 0]
    return lightness if img.dtype == np.uint8 else (lightness / 100.0).astype(img.dtype)


def _gray_desaturation(img: np.ndarray) -> np.ndarray:
    high = img.max(axis=2).astype(np.float32)
    low = img.min(axis=2).astype(np.float32)
    return _cast_like((high + low) / 2, img.dtype)


def _gray_average(img: np.ndarray) -> np.ndarray:
    return _cast_like(img.mean(axis=2, dtype=np.float32), img.dtype)


def _gray_max(img: np.ndarray) -> np.ndarray:
    return np.asarray(img.max(axis=2))


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


#: ToGray's methods: multi-channel ``(H, W, C)`` image -> ``(H, W)`` gray plane.
GRAY_METHODS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "weighted_average": _gray_weighted,
    "from_lab": _gray_from_lab,
    "desaturation": _gray_desaturation,
    "average": _gray_average,
    "max": _gray_max,
    "pca": _gray_pca,
}


def normalize_standard(
    img: np.ndarray, mean: Sequence[float] | float, std: Sequence[float] | float, max_pixel_value: float
) -> np.ndarray:
    """``(img / max_pixel_value - mean) / std`` as float32.

    Up to four channels this is one float conversion and one ``cv2.transform`` with a diagonal
    matrix (scale and offset per channel): about 2x faster than a float table lookup, which
    writes the same floats but gathers them one byte at a time. Wider images go through a
    per-channel table (uint8) or numpy (float32).
    """
    channels = 1 if img.ndim == 2 else img.shape[2]
    key = (_hashable(mean), _hashable(std), float(max_pixel_value), channels)
    if 1 < channels <= MAX_CV_CHANNELS:
        return cv2.transform(img.astype(np.float32), _normalize_matrix(*key))
    scale, offset = _normalize_terms(*key)
    if channels == 1:
        out = img.astype(np.float32)  # a new array for uint8 and float32 alike
        out *= np.float32(scale[0])
        out += np.float32(offset[0])
        return out
    if img.dtype == np.uint8:
        table = np.arange(256, dtype=np.float64)[:, None] * scale[None, :] + offset[None, :]
        return apply_lut(img, np.ascontiguousarray(table.astype(np.float32)))
    result = img.astype(np.float32, copy=True)
    result *= scale.astype(np.float32)
    result += offset.astype(np.float32)
    return result


#: Normalize's mean or std as a cache key: a flat tuple of numbers, or one number.
_Statistic = tuple[float, ...] | float


def _hashable(values: Sequence[float] | float) -> _Statistic:
    """``values`` as a cache key: a flat tuple of numbers, or one number."""
    if isinstance(values, (int, float)):
        return float(values)
    if isinstance(values, (tuple, list)):
        key = tuple(values)
        try:
            hash(key)
            return key
        except TypeError:  # nested sequences or arrays inside: flatten them below
            pass
    return tuple(np.asarray(values, dtype=np.float64).reshape(-1).tolist())


@functools.lru_cache(maxsize=64)
def _normalize_terms(
    mean: _Statistic, std: _Statistic, max_pixel_value: float, channels: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel ``scale`` and ``offset`` with ``(x / max_pixel_value - mean) / std`` equal to
    ``x * scale + offset`` (cached: pipelines normalize every image with the same statistics).
    Read-only."""
    mean_arr = _per_channel(mean, channels)
    std_arr = _per_channel(std, channels)
    scale = 1.0 / (std_arr * max_pixel_value)
    offset = -mean_arr / std_arr
    scale.flags.writeable = offset.flags.writeable = False
    return scale, offset


@functools.lru_cache(maxsize=64)
def _normalize_matrix(mean: _Statistic, std: _Statistic, max_pixel_value: float, channels: int) -> np.ndarray:
    """The ``(C, C + 1)`` matrix of ``cv2.transform`` for :func:`_normalize_terms`: scale on the
    diagonal, offset in the last column. Read-only."""
    scale, offset = _normalize_terms(mean, std, max_pixel_value, channels)
    matrix = np.zeros((channels, channels + 1), dtype=np.float64)
    matrix[np.arange(channels), np.arange(channels)] = scale
    matrix[:, channels] = offset
    matrix.flags.writeable = False
    return matrix


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


# -- colour adjustments ---------------------------------------------------------------------


def _saturate_like(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Round and clip to uint8, or clip float to [0, 1]."""
    if dtype == np.uint8:
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)
    out = values.astype(np.float32, copy=False)
    return np.clip(out, 0.0, 1.0, out=out)


def add_per_channel(img: np.ndarray, shifts: Sequence[float]) -> np.ndarray:
    """Add one shift per channel (in the dtype's pixel units), saturating.

    uint8 means the table ``clip(rint(level + shift))``. With two to four channels and no shift
    within ``1e-4`` of a half, that is ``level + rint(shift)`` saturated, which OpenCV computes
    exactly in at most two integer passes: ``cv2.add`` of the positive shifts (a per-channel
    scalar), then ``cv2.subtract`` of the negative ones in place, about 10x faster than a
    per-channel lookup. (Scalars must be whole numbers in [0, 255]: a negative or fractional
    one sends OpenCV through a float path over 10x slower.) Shifts at a half, where ``rint`` rounds
    to even and so depends on the level, go through the table.
    """
    channels = 1 if img.ndim == 2 else img.shape[2]
    if img.dtype == np.uint8 and 2 <= channels <= MAX_CV_CHANNELS and len(shifts) == channels:
        # Plain Python on a handful of numbers: numpy's per-call overhead would dominate here.
        wholes = [_whole_shift(float(v)) for v in shifts]
        if None not in wholes:
            whole = [float(v) for v in wholes if v is not None]
            padding = (0.0,) * (MAX_CV_CHANNELS - channels)
            # 4-tuples are OpenCV Scalars (one value per channel); the stubs only list arrays.
            up = tuple(min(max(v, 0.0), 255.0) for v in whole) + padding
            down = tuple(min(max(-v, 0.0), 255.0) for v in whole) + padding
            if not any(down):
                return np.asarray(cv2.add(img, up))
            if not any(up):
                return np.asarray(cv2.subtract(img, down))  # type: ignore[call-overload]
            out = np.asarray(cv2.add(img, up))
            cv2.subtract(out, down, dst=out)  # type: ignore[call-overload]
            return out
    values = np.asarray(shifts, dtype=np.float64).reshape(-1)[:channels]
    if img.dtype == np.uint8:
        table = np.clip(np.rint(LEVELS[:, None] + values[None, :]), 0, 255).astype(np.uint8)
        return apply_lut(img, np.ascontiguousarray(table[:, 0] if channels == 1 else table))
    out = img + values.astype(np.float32)
    return np.clip(out, 0.0, 1.0, out=out).astype(np.float32, copy=False)


LEVELS = np.arange(256, dtype=np.float64)


def gray_of(img: np.ndarray) -> np.ndarray:
    """Luma (ITU-R 601) of an RGB image as a 2-D array; a single channel is returned as is."""
    if img.ndim == 2 or img.shape[2] == 1:
        return img.reshape(img.shape[:2])
    return np.asarray(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))


def adjust_brightness(img: np.ndarray, factor: float) -> np.ndarray:
    """``img * factor``, saturated."""
    return multiply_add(img, factor, 0.0)


def adjust_contrast(img: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the mean gray level: ``img * factor + mean * (1 - factor)``."""
    if img.ndim == 3 and img.shape[2] == 3:
        # The mean of the luma is the luma of the channel means: no gray image needed.
        red, green, blue, _ = cv2.mean(img)
        mean = GRAY_WEIGHTS[0] * red + GRAY_WEIGHTS[1] * green + GRAY_WEIGHTS[2] * blue
    else:
        mean = float(cv2.mean(gray_of(img))[0])
    return multiply_add(img, factor, mean * (1.0 - factor))


def adjust_saturation(img: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the image's own gray version: ``img * factor + gray * (1 - factor)``.

    Both terms are linear in the pixel, so the blend is one 3x3 colour matrix,
    ``factor * I + (1 - factor) * [w; w; w]`` with ``w`` the luma weights, applied in one pass by
    ``cv2.transform`` (saturating for uint8). That is ~1.6x faster than making the gray image, a
    three-channel copy of it and blending, and a little more exact: the gray is not rounded to
    uint8 before the blend.
    """
    if img.ndim == 2 or img.shape[2] == 1 or factor == 1.0:
        return img.copy()
    # factor * I + (1 - factor) * [w; w; w], written out (numpy's eye and tile cost ~6 us a call).
    r, g, b = ((1.0 - factor) * w for w in GRAY_WEIGHTS)
    matrix = np.array([[factor + r, g, b], [r, factor + g, b], [r, g, factor + b]])
    blended = cv2.transform(img, matrix)
    return blended if img.dtype == np.uint8 else np.clip(blended, 0.0, 1.0, out=blended)


def shift_hsv(img: np.ndarray, hue: float, saturation: float, value: float) -> np.ndarray:
    """Shift hue (in OpenCV uint8 units, 0-180 for a full turn), saturation and value (in uint8 units).

    uint8 goes through OpenCV's HSV conversion and one table per channel, applied only to the
    planes whose table is not the identity (a hue-only shift touches the hue plane alone): the
    HSV image is split into planes, those are translated in place and the planes merged back.
    OpenCV's split and merge cost about a third of ``extractChannel`` / ``insertChannel`` each,
    and a three-channel ``cv2.LUT`` does the work of every channel even when one changes.
    float32 uses OpenCV's float HSV (hue in degrees: the shift is doubled; saturation and value
    shifts divided by 255). A single-channel image only gets the value shift.

    On uint8, shifts that all round to zero levels leave the image exactly as it is: the HSV
    round trip alone is not the identity (it rounds hue to 2 degrees and saturation to 1/255),
    and a shift of 0.3 levels should not change more than a shift of 0 does.
    """
    if img.ndim == 2 or img.shape[2] == 1:
        return add_per_channel(img, [value if img.dtype == np.uint8 else value / 255.0])
    if img.dtype == np.uint8:
        columns: dict[int, np.ndarray] = {}  # the planes whose table moves a level, and the tables
        if hue != 0:
            table = _shift_table(hue, 180)
            if not _fixes_levels(table, 180):  # hue levels run 0-179: only those have to stay
                columns[0] = table
        if saturation != 0:
            table = _shift_table(saturation, None).copy()
            table[0] = 0  # gray pixels have no hue to saturate: they stay gray
            if not _fixes_levels(table, 256):
                columns[1] = table
        if value != 0:
            table = _shift_table(value, None)
            if not _fixes_levels(table, 256):
                columns[2] = table
        if not columns:
            return img.copy()
        # The HSV image and its planes are temporaries, kept in reused buffers: fresh ones of
        # this size can cost 2.5x the whole call at 512x512 when the allocator hands back
        # memory to fault in page by page (measured on a 2-core VM, no effect at 224x224).
        hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV, dst=scratch("color_hsv", (*img.shape[:2], 3), np.uint8))
        planes = _split_planes(hsv)
        if _translate_planes(planes, columns):
            cv2.merge(planes, dst=hsv)
        return np.asarray(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB))
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    h, s, v = cv2.split(hsv)
    if hue != 0:
        h = np.mod(h + np.float32(hue * 2.0), np.float32(360.0))
    if saturation != 0:
        s = np.where(s > 0, np.clip(s + np.float32(saturation / 255.0), 0.0, 1.0), s)
    if value != 0:
        v = np.clip(v + np.float32(value / 255.0), 0.0, 1.0)
    out = cv2.cvtColor(cv2.merge([h, s, v]), cv2.COLOR_HSV2RGB)
    return np.clip(out, 0.0, 1.0, out=out)


def _shift_table(shift: float, wrap: int | None) -> np.ndarray:
    """The uint8 table ``rint(level + shift)`` over the 256 levels, modulo ``wrap`` or saturated.

    Away from a half, ``rint(level + shift)`` is ``level + rint(shift)``: the table depends on a
    whole number only and is cached (read-only). Halves (rounded to even level by level) and
    non-finite shifts are computed as written.
    """
    whole = _whole_shift(shift)
    if whole is not None:
        return _whole_shift_table(whole % wrap if wrap else min(max(whole, -256), 256), wrap)
    rounded = np.rint(LEVELS + shift)
    return (np.mod(rounded, wrap) if wrap else np.clip(rounded, 0, 255)).astype(np.uint8)


def _fixes_levels(table: np.ndarray, count: int) -> bool:
    """True when the uint8 ``table`` maps each of the levels ``0 .. count - 1`` to itself."""
    if table[1] != 1 or table[count - 1] != count - 1:  # (most shift tables fail here)
        return False
    return bool(np.array_equal(table[:count], _IDENTITY[:count]))


def _whole_shift(shift: float) -> int | None:
    """The whole number ``w`` with ``rint(level + shift) == level + w`` for every level: ``shift``
    rounded, when it is finite and not within ``1e-4`` of a half (where ``rint`` rounds to even
    and so depends on the level); else None."""
    if math.isfinite(shift) and abs(shift - math.floor(shift) - 0.5) >= 1e-4:
        return round(shift)  # not a half: round() is rint()
    return None


@functools.lru_cache(maxsize=1024)
def _whole_shift_table(whole: int, wrap: int | None) -> np.ndarray:
    levels = np.arange(256, dtype=np.int64) + whole
    table = (np.mod(levels, wrap) if wrap else np.clip(levels, 0, 255)).astype(np.uint8)
    table.flags.writeable = False
    return table


def adjust_hue(img: np.ndarray, factor: float) -> np.ndarray:
    """Rotate the hue by ``factor`` of a full turn (-0.5..0.5); single-channel images are unchanged."""
    if img.ndim == 2 or img.shape[2] == 1 or factor == 0:
        return img.copy()
    return shift_hsv(img, factor * 180.0, 0.0, 0.0)


#: ColorJitter's operations: name -> (kernel, the factor that leaves every image as it is).
JITTER_OPS: dict[str, tuple[Callable[[np.ndarray, float], np.ndarray], float]] = {
    "brightness": (adjust_brightness, 1.0),
    "contrast": (adjust_contrast, 1.0),
    "saturation": (adjust_saturation, 1.0),
    "hue": (adjust_hue, 0.0),
}


def jitter(img: np.ndarray, steps: Sequence[tuple[str, float]]) -> np.ndarray:
    """Apply ColorJitter's ``(name, factor)`` steps in order; always a new array.

    A step whose factor leaves every image as it is (brightness, contrast or saturation 1, hue
    0) is skipped rather than run as a copy, as are saturation and hue on a single-channel
    image (they leave it as it is too); the result is that of running every step. (Keeping the
    intermediate results in reused buffers was measured too: no faster, so each step returns a
    new array.)
    """
    gray = img.ndim == 2 or img.shape[2] == 1
    out = img
    for name, factor in steps:
        kernel, identity = JITTER_OPS[name]
        if factor != identity and not (gray and name in ("saturation", "hue")):
            out = kernel(out, factor)
    return out if out is not img else img.copy()


SEPIA = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], dtype=np.float32)


def sepia(img: np.ndarray) -> np.ndarray:
    """The classic sepia matrix on an RGB image, saturated."""
    out = cv2.transform(img, SEPIA)
    return out if img.dtype == np.uint8 else np.clip(out, 0.0, 1.0)


def principal_components(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and eigenvectors (columns) of the pixels' channel covariance,
    with values scaled to [0, 1]."""
    channels = 1 if img.ndim == 2 else img.shape[2]
    pixels = img.reshape(-1, channels).astype(np.float64) / max_value(img.dtype)
    if channels == 1:
        return np.array([pixels.var()]), np.ones((1, 1))
    if len(pixels) < 2:  # one pixel does not vary: no components (np.cov would divide by zero)
        return np.zeros(channels), np.eye(channels)
    covariance = np.cov(pixels, rowvar=False)
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1]
    return values[order], vectors[:, order]


def fancy_pca(img: np.ndarray, alphas: Sequence[float]) -> np.ndarray:
    """AlexNet's PCA lighting: add ``vectors @ (alphas * values)`` (times the white level) to each pixel."""
    values, vectors = principal_components(img)
    channels = len(values)
    weights = np.asarray(alphas, dtype=np.float64).reshape(-1)[:channels]
    delta = vectors @ (weights * values) * max_value(img.dtype)
    return add_per_channel(img, delta.tolist())


def shuffle_channels(img: np.ndarray, order: Sequence[int]) -> np.ndarray:
    """Reorder the channels."""
    if img.ndim == 2:
        return img.copy()
    planes = cv2.split(img)
    return restore_channel_axis(np.asarray(cv2.merge([planes[int(i)] for i in order])), img)


def drop_channels(img: np.ndarray, channels: Sequence[int], fill: float) -> np.ndarray:
    """Set the given channels to ``fill``.

    uint8 with up to four channels and a whole-number fill takes one OpenCV pass, ``img & keep``
    with a per-channel byte mask (0xFF kept, 0 dropped), plus ``| fill`` on the dropped channels
    when the fill is not 0: no copy followed by strided channel writes.
    """
    dropped = {int(c) for c in channels}
    if (
        img.dtype == np.uint8
        and img.ndim == 3
        and 2 <= img.shape[2] <= 4
        and dropped <= set(range(img.shape[2]))
        and float(fill).is_integer()
        and 0 <= fill <= 255
    ):
        keep = tuple(0.0 if c in dropped else 255.0 for c in range(4))
        # A 4-tuple is an OpenCV Scalar (one value per channel); the stubs only list arrays.
        out = np.asarray(cv2.bitwise_and(img, keep))  # type: ignore[call-overload]
        if fill != 0:
            put = tuple(float(fill) if c in dropped else 0.0 for c in range(4))
            cv2.bitwise_or(out, put, dst=out)  # type: ignore[call-overload]
        return out
    out = img.copy()
    for c in channels:
        out[:, :, int(c)] = fill
    return out


def gray_to_rgb(img: np.ndarray, num_output_channels: int) -> np.ndarray:
    """Repeat a single channel ``num_output_channels`` times."""
    return repeat_channel(img, num_output_channels)


def multiply_per_channel(img: np.ndarray, gains: Sequence[float]) -> np.ndarray:
    """Multiply each channel by its gain, saturating (uint8 through one table per channel)."""
    values = np.asarray(gains, dtype=np.float64)
    if img.dtype == np.uint8 and img.ndim == 3 and 1 < img.shape[2] <= 4 and len(values) == img.shape[2]:
        # A diagonal colour matrix: OpenCV's vectorised transform rounds and saturates like the
        # table below, about 3x faster than a per-channel cv2.LUT; it multiplies in float32, so a
        # product within ~1e-5 of a half (about 0.1% of values) may round one level the other way.
        return np.asarray(cv2.transform(img, np.diag(values).astype(np.float32)))
    if img.dtype == np.uint8:
        table = np.clip(np.rint(LEVELS[:, None] * values[None, :]), 0, 255).astype(np.uint8)
        return apply_lut(img, table)
    out = img * values.astype(np.float32)
    return np.clip(out, 0.0, 1.0, out=out).astype(np.float32, copy=False)


def radial_distort_channel(channel: np.ndarray, k1: float, k2: float, interpolation: int) -> np.ndarray:
    """Resample one channel through the radial lens model ``r' = r (1 + k1 r^2 + k2 r^4)``.

    The camera has focal lengths equal to the image's width and height and its centre in the
    middle; edges replicate.
    """
    height, width = channel.shape
    camera = np.array([[width, 0, width / 2], [0, height, height / 2], [0, 0, 1]], dtype=np.float64)
    coefficients = np.array([k1, k2, 0, 0], dtype=np.float64)
    map_x, map_y = cv2.initUndistortRectifyMap(
        camera, coefficients, None, camera, (width, height), cv2.CV_32FC1
    )
    return np.asarray(cv2.remap(channel, map_x, map_y, interpolation, borderMode=cv2.BORDER_REPLICATE))


def chromatic_aberration(
    img: np.ndarray,
    red: tuple[float, float],
    blue: tuple[float, float],
    interpolation: int,
) -> np.ndarray:
    """Distort the red and blue channels radially (``(k1, k2)`` each); green stays as the reference."""
    out = img.copy()
    out[:, :, 0] = radial_distort_channel(np.ascontiguousarray(img[:, :, 0]), red[0], red[1], interpolation)
    out[:, :, 2] = radial_distort_channel(np.ascontiguousarray(img[:, :, 2]), blue[0], blue[1], interpolation)
    if out.dtype != np.uint8:
        np.clip(out, 0.0, 1.0, out=out)
    return out


# -- illuminant colour ----------------------------------------------------------------------

XYZ_TO_LINEAR_SRGB = np.array(
    [[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]], dtype=np.float64
)


def planckian_chromaticity(temperature: float) -> tuple[float, float]:
    """CIE 1931 (x, y) of a black body at ``temperature`` K (Kim et al. cubic fit, 1667-25000 K)."""
    t = float(np.clip(temperature, 1667.0, 25000.0))
    if t <= 4000:
        x = -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910
    else:
        x = -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390
    if t <= 2222:
        y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
    elif t <= 4000:
        y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
    else:
        y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
    return x, y


def daylight_chromaticity(temperature: float) -> tuple[float, float]:
    """CIE 1931 (x, y) of the CIE D-series daylight illuminant at ``temperature`` K (4000-25000 K)."""
    t = float(np.clip(temperature, 4000.0, 25000.0))
    if t <= 7000:
        x = -4.6070e9 / t**3 + 2.9678e6 / t**2 + 0.09911e3 / t + 0.244063
    else:
        x = -2.0064e9 / t**3 + 1.9018e6 / t**2 + 0.24748e3 / t + 0.237040
    return x, -3.0 * x * x + 2.87 * x - 0.275


def illuminant_gains(temperature: float, mode: str) -> np.ndarray:
    """RGB gains of an illuminant relative to its green: the linear-sRGB colour of its white point."""
    x, y = planckian_chromaticity(temperature) if mode == "blackbody" else daylight_chromaticity(temperature)
    xyz = np.array([x / y, 1.0, (1.0 - x - y) / y])
    rgb = np.maximum(XYZ_TO_LINEAR_SRGB @ xyz, 1e-6)
    gains: np.ndarray = rgb / rgb[1]
    return gains
