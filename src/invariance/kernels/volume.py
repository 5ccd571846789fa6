"""Resampling of voxel grids through an affine map (pure array functions)."""

from __future__ import annotations

import numpy as np


def resample_affine(
    array: np.ndarray, inverse: np.ndarray, out_shape: tuple[int, int, int], linear: bool, fill: np.ndarray
) -> np.ndarray:
    """``array`` ``(D, H, W[, C])`` resampled onto ``out_shape``: output voxel ``(x, y, z)`` takes
    the input at ``inverse @ (x, y, z, 1)`` (voxel indices), trilinearly or at the nearest voxel.
    Positions outside the input take ``fill`` (a ``(1, 1, 1[, C])`` array of the dtype).

    The map is composed once; each output slice is one gather over its source positions.
    """
    d, h, w = out_shape
    src_d, src_h, src_w = array.shape[:3]
    channels = array.shape[3:]
    flat = array.reshape(src_d * src_h * src_w, -1)
    fill_row = fill.reshape(1, -1).astype(np.float32)
    out = np.empty((d, h * w, flat.shape[1]), dtype=array.dtype)
    ys, xs = np.mgrid[0:h, 0:w]
    plane = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)
    size = np.array([src_w, src_h, src_d])
    for z in range(d):
        source = plane @ inverse[:3, :2].T + inverse[:3, 2] * z + inverse[:3, 3]  # (N, 3): x, y, z
        if not linear:
            index = np.floor(source + 0.5).astype(np.int64)
            inside = np.all((index >= 0) & (index < size), axis=1)
            flat_index = (index[:, 2] * src_h + index[:, 1]) * src_w + index[:, 0]
            values = np.where(
                inside[:, None], flat[np.where(inside, flat_index, 0)], fill_row.astype(array.dtype)
            )
            out[z] = values
            continue
        base = np.floor(source)
        frac = (source - base).astype(np.float32)
        base = base.astype(np.int64)
        acc = np.zeros((len(source), flat.shape[1]), np.float32)
        for corner in range(8):
            offset = np.array([corner & 1, (corner >> 1) & 1, (corner >> 2) & 1])
            index = base + offset
            weight = np.prod(np.where(offset == 1, frac, 1.0 - frac), axis=1)
            inside = np.all((index >= 0) & (index < size), axis=1)
            flat_index = (index[:, 2] * src_h + index[:, 1]) * src_w + index[:, 0]
            values = np.where(inside[:, None], flat[np.where(inside, flat_index, 0)], fill_row)
            acc += weight[:, None] * values
        if array.dtype == np.uint8:
            out[z] = np.clip(np.rint(acc), 0, 255).astype(np.uint8)
        else:
            out[z] = acc.astype(array.dtype)
    return out.reshape(d, h, w, *channels)


__all__ = ["resample_affine"]
