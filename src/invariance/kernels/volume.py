"""Resampling of voxel grids through an affine or a dense map (pure array functions)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


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
