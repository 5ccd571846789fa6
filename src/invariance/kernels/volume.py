"""Resampling of voxel grids through an affine or a dense map (pure array functions)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from invariance.kernels._cv import scratch


def resample_affine(
    array: np.ndarray, inverse: np.ndarray, out_shape: tuple[int, int, int], linear: bool, fill: np.ndarray
) -> np.ndarray:
    """``array`` ``(D, H, W[, C])`` resampled onto ``out_shape``: output voxel ``(x, y, z)`` takes
    the input at ``inverse @ (x, y, z, 1)`` (voxel indices), trilinearly or at the nearest voxel.
    Positions outside the input take ``fill`` (a ``(1, 1, 1[, C])`` array of the dtype).

    The map is composed once; each output slice is one gather over its source positions.
    """
    _, h, w = out_shape
    ys, xs = np.mgrid[0:h, 0:w]
    plane = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)

    def source(z: int) -> np.ndarray:
        return plane @ inverse[:3, :2].T + inverse[:3, 2] * z + inverse[:3, 3]

    return resample_sources(array, source, out_shape, linear, fill)


def resample_sources(
    array: np.ndarray,
    source_of_slice: Callable[[int], np.ndarray],
    out_shape: tuple[int, int, int],
    linear: bool,
    fill: np.ndarray,
) -> np.ndarray:
    """``array`` ``(D, H, W[, C])`` resampled onto ``out_shape`` through any dense map:
    ``source_of_slice(z)`` gives the ``(H * W, 3)`` ``x, y, z`` input positions of output slice
    ``z`` (row-major). Each slice is one gather, trilinear or nearest; positions outside the input
    take ``fill`` (a ``(1, 1, 1[, C])`` array of the dtype)."""
    d, h, w = out_shape
    src_d, src_h, src_w = array.shape[:3]
    channels = array.shape[3:]
    flat = array.reshape(src_d * src_h * src_w, -1)
    fill_row = fill.reshape(1, -1).astype(np.float32)
    out = np.empty((d, h * w, flat.shape[1]), dtype=array.dtype)
    size = np.array([src_w, src_h, src_d])
    for z in range(d):
        source = source_of_slice(z)  # (N, 3): x, y, z
        if not linear:
            index = np.floor(source + 0.5).astype(np.int64)
            inside = np.all((index >= 0) & (index < size), axis=1)
            flat_index = (index[:, 2] * src_h + index[:, 1]) * src_w + index[:, 0]
            values = np.where(
                inside[:, None], flat[np.where(inside, flat_index, 0)], fill_row.astype(array.dtype)
            )
            out[z] = values
            continue
        acc = _trilinear(flat, source, (src_d, src_h, src_w), fill_row)
        if array.dtype == np.uint8:
            out[z] = np.clip(np.rint(acc), 0, 255).astype(np.uint8)
        else:
            out[z] = acc.astype(array.dtype)
    return out.reshape(d, h, w, *channels)


def _trilinear(
    flat: np.ndarray, source: np.ndarray, shape: tuple[int, int, int], fill: np.ndarray
) -> np.ndarray:
    """Trilinear samples ``(N, C)`` float32 of the ``(D*H*W, C)`` grid ``flat`` at ``(N, 3)``
    ``x, y, z`` positions; corners outside the grid count as ``fill`` (a ``(1, C)`` row).

    Per axis, the two neighbouring indices are clipped into the grid and their weights zeroed
    when they fall outside, so the 8 corners are 8 plain gathers with no masking of values; the
    outside share of the weights takes the fill at the end."""
    d, h, w = shape
    base = np.floor(source)
    frac = (source - base).astype(np.float32)
    low = base.astype(np.int64)
    axes = []
    inside_total = np.ones(len(source), np.float32)
    for axis, (n, stride) in enumerate(((w, 1), (h, w), (d, h * w))):
        f = frac[:, axis]
        pair = []
        kept = np.zeros(len(source), np.float32)
        for step, weight in ((0, 1.0 - f), (1, f)):
            index = low[:, axis] + step
            weight = weight * ((index >= 0) & (index < n))
            kept += weight
            pair.append((np.clip(index, 0, n - 1) * stride, weight))
        inside_total *= kept
        axes.append(pair)
    single = flat.shape[1] == 1
    column = flat[:, 0] if single else flat
    acc = np.zeros(len(source), np.float32) if single else np.zeros((len(source), flat.shape[1]), np.float32)
    for ix, wx in axes[0]:
        for iy, wy in axes[1]:
            wxy = wx * wy
            ixy = ix + iy
            for iz, wz in axes[2]:
                weight = wxy * wz
                values = column[ixy + iz]
                acc += weight * values if single else weight[:, None] * values
    if single:
        acc = acc[:, None]
    if np.any(fill):
        acc += (1.0 - inside_total)[:, None] * fill
    return acc


def bspline_weights(positions: np.ndarray, length: int, points: int) -> np.ndarray:
    """Cubic B-spline weights ``(len(positions), points)`` of ``points`` control values spread
    evenly over ``[0, length - 1]`` (end values repeated past the ends), at ``positions``.

    The weights are non-negative and sum to 1, so an interpolated value never exceeds the
    largest control value in magnitude, and its slope is at most twice the largest control
    difference over the control spacing."""
    spacing = max(length - 1, 1) / (points - 1)
    s = np.asarray(positions, dtype=np.float64) / spacing
    base = np.floor(s).astype(np.int64)
    f = s - base
    basis = (
        np.stack([(1 - f) ** 3, 3 * f**3 - 6 * f**2 + 4, -3 * f**3 + 3 * f**2 + 3 * f + 1, f**3], axis=1)
        / 6.0
    )
    out = np.zeros((len(s), points))
    rows = np.arange(len(s))
    for k in range(4):
        np.add.at(out, (rows, np.clip(base + k - 1, 0, points - 1)), basis[:, k])
    return out


__all__ = ["bspline_weights", "resample_affine", "resample_sources"]


def resize_axis(array: np.ndarray, axis: int, length: int, antialias: bool) -> np.ndarray:
    """``array`` resampled to ``length`` samples along ``axis`` (float32 out), voxel centres kept
    aligned. Shrinking with ``antialias`` averages each output voxel's footprint (a box filter);
    otherwise samples are linearly interpolated."""
    n = array.shape[axis]
    moved = np.moveaxis(array.astype(np.float32, copy=False), axis, 0)
    if antialias and length < n:
        edges = np.linspace(0.0, n, length + 1)
        cumulative = np.concatenate([np.zeros((1, *moved.shape[1:]), np.float32), np.cumsum(moved, axis=0)])

        # The integral over [a, b) of the piecewise-constant signal, by interpolating the cumsum.
        def integral(at: np.ndarray) -> np.ndarray:
            low = np.clip(np.floor(at).astype(np.int64), 0, n - 1)
            frac = (at - low).astype(np.float32).reshape(-1, *([1] * (moved.ndim - 1)))
            return cumulative[low] + frac * moved[low]

        sums = integral(edges[1:]) - integral(edges[:-1])
        out = sums / (np.diff(edges).astype(np.float32).reshape(-1, *([1] * (moved.ndim - 1))))
    else:
        positions = (np.arange(length) + 0.5) * (n / length) - 0.5
        positions = np.clip(positions, 0, n - 1)
        low = np.floor(positions).astype(np.int64)
        high = np.minimum(low + 1, n - 1)
        frac = (positions - low).astype(np.float32).reshape(-1, *([1] * (moved.ndim - 1)))
        out = moved[low] * (1 - frac) + moved[high] * frac
    return np.moveaxis(out, 0, axis)


__all__ += ["resize_axis"]


#: Element types OpenCV's flip and transpose copy (bool and 64-bit integers go through numpy).
_CV_MOVABLE = frozenset(
    np.dtype(t) for t in (np.uint8, np.int8, np.uint16, np.int16, np.int32, np.float32, np.float64)
)


def _cv_movable(array: np.ndarray) -> bool:
    return array.dtype in _CV_MOVABLE and (array.ndim == 3 or array.shape[3] <= 4)


def _as_matrix(array: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """A contiguous grid seen as a ``rows x cols`` matrix of voxels (channels as OpenCV channels)."""
    return array.reshape(rows, cols, *array.shape[3:])


def _permuted_into(array: np.ndarray, order: tuple[int, int, int], out: np.ndarray) -> np.ndarray:
    """Write the contiguous grid with its axes reordered (``order[j]`` is the input axis of output
    axis j) into ``out``. Each order is one or two whole-voxel OpenCV copies (transposes of the
    grid seen as a matrix) instead of numpy's element-by-element walk."""
    d, h, w = array.shape[:3]
    if order == (1, 0, 2):  # rows of W voxels move as blocks
        out[:] = array.transpose(1, 0, 2, *range(3, array.ndim))
    elif order == (1, 2, 0):  # (D, H*W) -> (H*W, D)
        cv2.transpose(_as_matrix(array, d, h * w), dst=_as_matrix(out, h * w, d))
    elif order == (2, 0, 1):  # (D*H, W) -> (W, D*H)
        cv2.transpose(_as_matrix(array, d * h, w), dst=_as_matrix(out, w, d * h))
    elif order == (0, 2, 1):  # every slice transposed
        for z in range(d):
            cv2.transpose(array[z], dst=out[z])
    else:  # (2, 1, 0): slices transposed into a buffer, then seen as (D, W*H) -> (W*H, D)
        swapped = scratch("grid-swap", (d, w, h, *array.shape[3:]), array.dtype)
        _permuted_into(array, (0, 2, 1), swapped)
        cv2.transpose(_as_matrix(swapped, d, w * h), dst=_as_matrix(out, w * h, d))
    return out


#: The flips of a grid as OpenCV flips of two matrix views: ``"DHW"`` / ``"DH"`` see the grid as
#: ``(D*H, W)`` voxels and reverse rows and columns / rows (depth and height together), ``"W"``
#: its columns; ``"D"`` sees it as ``(D, H*W)`` and reverses whole slices.
_FLIP_PASSES: dict[tuple[bool, bool, bool], tuple[str, ...]] = {
    (True, True, True): ("DHW",),
    (True, True, False): ("DH",),
    (True, False, False): ("D",),
    (False, False, True): ("W",),
    (True, False, True): ("D", "W"),
    (False, True, False): ("DH", "D"),
    (False, True, True): ("DHW", "D"),
}
_FLIP_CODES = {"DHW": -1, "DH": 0, "W": 1, "D": 0}


def _flip_pass(array: np.ndarray, kind: str, out: np.ndarray) -> np.ndarray:
    d, h, w = array.shape[:3]
    if kind == "D":
        cv2.flip(array.reshape(d, -1), 0, dst=out.reshape(d, -1))
    else:
        cv2.flip(_as_matrix(array, d * h, w), _FLIP_CODES[kind], dst=_as_matrix(out, d * h, w))
    return out


def _flipped(array: np.ndarray, flips: tuple[bool, bool, bool]) -> np.ndarray:
    """A fresh copy of the contiguous grid reversed along the flagged axes: one or two OpenCV
    flips (a first pass goes to a reused buffer; only the result is a fresh array)."""
    passes = _FLIP_PASSES[flips]
    if len(passes) == 2:
        array = _flip_pass(array, passes[0], scratch("grid-flip", array.shape, array.dtype))
    return _flip_pass(array, passes[-1], np.empty_like(array))


def reorder_grid(
    array: np.ndarray, flips: tuple[bool, bool, bool], order: tuple[int, int, int]
) -> np.ndarray:
    """A ``(D, H, W[, C])`` grid with the flagged input axes reversed, then its three leading axes
    reordered (``order[j]`` is the input axis that becomes output axis ``j``): one of the 48
    symmetries of the cube, as a new C-contiguous array (never a view of ``array``).

    OpenCV's whole-voxel copies do the work for its element types with at most four channels
    (a flip of a 64x128x128 uint8 grid: ~40 us against ~500 us for numpy's strided copy); other
    dtypes and channel counts take numpy's copy.
    """
    if not _cv_movable(array) or array.size == 0:
        axes = tuple(i for i in range(3) if flips[i])
        moved = np.flip(array, axis=axes) if axes else array
        return np.array(np.transpose(moved, (*order, *range(3, array.ndim))), order="C")
    if array.ndim == 4 and array.shape[3] == 1:  # OpenCV drops a single channel axis
        return reorder_grid(array[..., 0], flips, order)[..., np.newaxis]
    source = np.ascontiguousarray(array)
    out_shape = tuple(source.shape[i] for i in order) + source.shape[3:]
    # Reorder first, then reverse the output axes that the flagged input axes became. Only the
    # result is a fresh array: a temporary of the grid's size, fresh on every call, costs more in
    # page faults than the copy itself, so the reordered grid waits in a reused buffer.
    out_flips = (flips[order[0]], flips[order[1]], flips[order[2]])
    if order == (0, 1, 2):
        return _flipped(source, out_flips) if any(out_flips) else source.copy()
    if not any(out_flips):
        return _permuted_into(source, order, np.empty(out_shape, source.dtype))
    permuted = _permuted_into(source, order, scratch("grid-order", out_shape, source.dtype))
    return _flipped(permuted, out_flips)
