"""Small helpers that make OpenCV behave uniformly across channel counts and dtypes."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence

import numpy as np

MAX_CV_CHANNELS = 4


def restore_channel_axis(result: np.ndarray, like: np.ndarray) -> np.ndarray:
    """OpenCV drops a trailing axis of length 1; put it back when the input had one."""
    if like.ndim == 3 and result.ndim == 2:
        return result[:, :, np.newaxis]
    return result


def fill_tuple(fill: float | Sequence[float], channels: int) -> tuple[float, ...]:
    """Expand a scalar or per-channel fill to exactly ``channels`` values.

    A per-channel fill shorter than the channel count is padded with zeros, as OpenCV pads a
    border Scalar (an RGB fill on an RGBA image leaves alpha 0); a longer one is cut.
    """
    if isinstance(fill, (int, float, np.integer, np.floating)):
        return (float(fill),) * channels
    values = tuple(float(v) for v in fill)
    if len(values) == 1:
        return values * channels
    return (values + (0.0,) * channels)[:channels]


def per_channel_chunks(
    func: Callable[[np.ndarray, tuple[float, ...]], np.ndarray],
    array: np.ndarray,
    fill: float | Sequence[float],
) -> np.ndarray:
    """Call ``func(chunk, chunk_fill)`` on groups of at most four channels and stack the results.

    OpenCV border values hold four numbers, so arrays with more channels (or a per-channel fill
    longer than four) are processed in chunks. Arrays with four channels or fewer go straight through.
    """
    channels = 1 if array.ndim == 2 else array.shape[2]
    fills = fill_tuple(fill, channels)
    if channels <= MAX_CV_CHANNELS:
        return restore_channel_axis(func(array, fills), array)
    parts = []
    for start in range(0, channels, MAX_CV_CHANNELS):
        chunk = np.ascontiguousarray(array[:, :, start : start + MAX_CV_CHANNELS])
        out = restore_channel_axis(func(chunk, fills[start : start + MAX_CV_CHANNELS]), chunk)
        parts.append(out)
    return np.concatenate(parts, axis=2)


def cv_scalar(fills: tuple[float, ...]) -> tuple[float, ...]:
    """OpenCV wants a 4-tuple border value; pad a shorter one."""
    return tuple(fills) + (0.0,) * (MAX_CV_CHANNELS - len(fills))


def warp_flag(interpolation: int) -> int:
    """The flag for cv2.warpAffine / warpPerspective / remap, which lack the ``*_EXACT`` modes
    that cv2.resize has: LINEAR_EXACT (5) resamples as LINEAR (1), NEAREST_EXACT (6) as NEAREST (0)."""
    return {5: 1, 6: 0}.get(int(interpolation), int(interpolation))


_SCRATCH = threading.local()
#: A temporary larger than this is allocated fresh and not kept (no thread holds on to it).
_SCRATCH_KEEP_BYTES = 256 * 2**20


def scratch(role: str, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """A reusable, uninitialised buffer for a kernel's *temporary* array, one per role and thread.

    Fresh image-sized arrays are expensive: the allocator hands back memory that must be faulted
    in page by page, and a chain of short-lived temporaries of different sizes (a widened image,
    a warped one, the result) keeps doing so. A kernel that writes an intermediate into a buffer
    it gets here skips that. The buffer is overwritten by the next call with the same role, so
    it must never be returned, stored, or used for two live values at once (give each its own
    ``role``). Buffers live per thread, so concurrent threads never share one.

    Each role keeps one block of bytes that grows to the largest size asked for, and every
    shape is a view of its start: a random crop's varying window sizes reuse the same memory
    instead of filling a pool with one buffer per shape.
    """
    pool: dict[str, np.ndarray] | None = getattr(_SCRATCH, "pool", None)
    if pool is None:
        pool = _SCRATCH.pool = {}
    dtype = np.dtype(dtype)
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    if nbytes > _SCRATCH_KEEP_BYTES:
        return np.empty(shape, dtype)
    block = pool.get(role)
    if block is None or block.nbytes < nbytes:
        block = pool[role] = np.empty(max(nbytes, 1), np.uint8)
    return block[:nbytes].view(dtype).reshape(shape)
