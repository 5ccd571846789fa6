"""Dense backward maps for non-rigid warps: elastic, grid, lens, thin-plate spline, meshes.

Every builder returns ``(map_x, map_y)``: float32 arrays of the output shape holding, for each
output pixel, the input coordinate it samples, in OpenCV's pixel-index frame (pixel centres on
integers), ready for ``cv2.remap``. Random numbers are drawn by the caller and passed in.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

Maps = tuple[np.ndarray, np.ndarray]


def identity_maps(height: int, width: int) -> Maps:
    """The map that samples every pixel at its own position."""
    xs = np.arange(width, dtype=np.float32)
    ys = np.arange(height, dtype=np.float32)
    return np.broadcast_to(xs, (height, width)).copy(), np.broadcast_to(ys[:, None], (height, width)).copy()


# -- elastic ---------------------------------------------------------------------------------------


def smooth_displacement(noise: np.ndarray, sigma: float, alpha: float, kernel_size: int = 0) -> np.ndarray:
    """Gaussian-smooth each ``(H, W)`` noise field of ``noise`` (shape ``(K, H, W)``), times ``alpha``.

    ``kernel_size = 0`` lets OpenCV size the kernel from ``sigma`` (exact); a fixed odd size such
    as 17 truncates the kernel (faster, the ``approximate`` option).
    """
    k, h, w = noise.shape
    stacked = np.ascontiguousarray(noise, dtype=np.float32).reshape(k * h, w)
    # Blurring the stacked fields at once would mix neighbouring fields at their seams: blur each.
    out = np.empty((k, h, w), dtype=np.float32)
    size = (kernel_size, kernel_size)
    for index in range(k):
        out[index] = cv2.GaussianBlur(stacked[index * h : (index + 1) * h], size, sigma)
    out *= np.float32(alpha)
    return out


def displacement_maps(dx: np.ndarray, dy: np.ndarray) -> Maps:
    """Backward maps ``x + dx``, ``y + dy`` for displacement fields of shape ``(H, W)``."""
    h, w = dx.shape
    map_x, map_y = identity_maps(h, w)
    map_x += dx
    map_y += dy
    return map_x, map_y


# -- grid distortion -------------------------------------------------------------------------------


def grid_axis(length: int, steps: np.ndarray, num_steps: int) -> np.ndarray:
    """Source coordinates along one axis of a grid distortion.

    The axis is cut into bands of ``length // num_steps`` pixels (the last band may be cut short
    by the border); band ``i`` samples an input stretch ``size * steps[i]`` long. The map is
    piecewise linear and continuous: the first pixel of band ``i`` samples the sum of the earlier
    stretches, and the last pixel of the image samples the end of the last band's stretch.
    Pixels past the last band continue its slope.
    """
    size = max(length // num_steps, 1)
    nodes, values = [0.0], [0.0]
    prev = 0.0
    for index, step in enumerate(np.asarray(steps, dtype=np.float64)):
        start = index * size
        if start >= length:
            break
        end = min(start + size, length)
        cur = prev + size * float(step)
        node = float(end if end < length else length - 1)
        if node > nodes[-1]:
            nodes.append(node)
            values.append(cur)
        prev = cur
    pixels = np.arange(length, dtype=np.float64)
    coords = np.interp(pixels, nodes, values)
    beyond = pixels > nodes[-1]
    if beyond.any() and len(nodes) > 1:
        slope = (values[-1] - values[-2]) / (nodes[-1] - nodes[-2])
        coords[beyond] = values[-1] + slope * (pixels[beyond] - nodes[-1])
    return coords.astype(np.float32)


def normalize_grid_steps(length: int, num_steps: int, steps: np.ndarray) -> np.ndarray:
    """Rescale grid steps so the distorted axis spans exactly the input (nothing leaves the image)."""
    steps = np.asarray(steps, dtype=np.float64).copy()
    size = max(length // num_steps, 1)
    last = min(length, (num_steps + 1) * size) - num_steps * size
    steps[-1] *= last / size
    total = length / math.floor(length / num_steps) if length >= num_steps else float(len(steps))
    result: np.ndarray = steps * (total / steps.sum())
    return result


def grid_distortion_maps(
    shape: tuple[int, int], steps_x: np.ndarray, steps_y: np.ndarray, num_steps: int
) -> Maps:
    """Separable grid distortion: ``map_x`` depends on the column only, ``map_y`` on the row."""
    h, w = shape
    xs = grid_axis(w, steps_x, num_steps)
    ys = grid_axis(h, steps_y, num_steps)
    return np.broadcast_to(xs, (h, w)).copy(), np.broadcast_to(ys[:, None], (h, w)).copy()


# -- lens distortion -------------------------------------------------------------------------------


def camera_distortion_maps(shape: tuple[int, int], k: float) -> Maps:
    """Brown-Conrady radial distortion with ``k1 = k2 = k`` (OpenCV's undistortion maps).

    The camera matrix has focal lengths ``W`` and ``H`` and its principal point on the image
    centre (``((W - 1) / 2, (H - 1) / 2)`` in the index frame), so ``k = 0`` is the identity and
    the map commutes with flips. Negative ``k`` gives barrel distortion, positive pincushion.
    """
    h, w = shape
    camera = np.array([[w, 0, (w - 1) / 2], [0, h, (h - 1) / 2], [0, 0, 1]], dtype=np.float64)
    coefficients = np.array([k, k, 0, 0, 0], dtype=np.float64)
    map_x, map_y = cv2.initUndistortRectifyMap(camera, coefficients, None, camera, (w, h), cv2.CV_32FC1)
    return np.asarray(map_x), np.asarray(map_y)


def fisheye_distortion_maps(shape: tuple[int, int], k: float) -> Maps:
    """Radial map ``r -> r (1 + k (r / R)^2)`` about the image centre, ``R`` half the diagonal."""
    h, w = shape
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    x = np.arange(w, dtype=np.float32) - np.float32(cx)
    y = np.arange(h, dtype=np.float32)[:, None] - np.float32(cy)
    radius_sq = (w / 2.0) ** 2 + (h / 2.0) ** 2
    factor = 1.0 + np.float32(k / radius_sq) * (x * x + y * y)
    map_x = (x * factor + np.float32(cx)).astype(np.float32)
    map_y = (y * factor + np.float32(cy)).astype(np.float32)
    return map_x, map_y


# -- meshes ----------------------------------------------------------------------------------------


def piecewise_affine_maps(
    xs: np.ndarray, ys: np.ndarray, sources: np.ndarray, shape: tuple[int, int]
) -> Maps:
    """Piecewise-affine map over a regular triangulated grid.

    ``xs`` (columns) and ``ys`` (rows) are the increasing index-frame positions of the output
    grid's nodes; ``sources[r, c]`` is the input position node ``(r, c)`` samples. Each grid cell
    is split along its main diagonal into two triangles, each mapped affinely, so the map is
    continuous and exact at the nodes. Outside the grid the border cells extend linearly.
    """
    h, w = shape
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    px = np.arange(w, dtype=np.float64)
    py = np.arange(h, dtype=np.float64)
    j = np.clip(np.searchsorted(xs, px, side="right") - 1, 0, len(xs) - 2)
    i = np.clip(np.searchsorted(ys, py, side="right") - 1, 0, len(ys) - 2)
    u = ((px - xs[j]) / (xs[j + 1] - xs[j]))[None, :]
    v = ((py - ys[i]) / (ys[i + 1] - ys[i]))[:, None]
    ii, jj = i[:, None], j[None, :]
    src = np.asarray(sources, dtype=np.float64)
    p00, p01 = src[ii, jj], src[ii, jj + 1]
    p10, p11 = src[ii + 1, jj], src[ii + 1, jj + 1]
    upper = (u >= v)[..., None]  # triangle (00, 01, 11), else (00, 10, 11)
    uu, vv = u[..., None], v[..., None]
    result = np.where(
        upper,
        p00 + uu * (p01 - p00) + vv * (p11 - p01),
        p00 + vv * (p10 - p00) + uu * (p11 - p10),
    )
    return result[..., 0].astype(np.float32), result[..., 1].astype(np.float32)


def _tps_kernel(sq_dist: np.ndarray) -> np.ndarray:
    """The thin-plate radial basis ``U = r^2 log r^2`` written on squared distances."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(sq_dist > 0, sq_dist * np.log(np.where(sq_dist > 0, sq_dist, 1.0)), 0.0)
    return out


def thin_plate_spline_maps(controls: np.ndarray, targets: np.ndarray, shape: tuple[int, int]) -> Maps:
    """Thin-plate spline map through ``controls -> targets`` (``(N, 2)``, normalized to ``[0, 1]``).

    The output pixel at normalized position ``(x / W, y / H)`` samples the input at the spline's
    value there (scaled back to pixels). The spline interpolates the control points exactly and
    bends least between them.
    """
    h, w = shape
    c = np.asarray(controls, dtype=np.float64)
    t = np.asarray(targets, dtype=np.float64)
    n = len(c)
    system = np.zeros((n + 3, n + 3))
    system[:n, :n] = _tps_kernel(((c[:, None, :] - c[None, :, :]) ** 2).sum(-1))
    system[:n, n] = 1.0
    system[:n, n + 1 :] = c
    system[n, :n] = 1.0
    system[n + 1 :, :n] = c.T
    rhs = np.zeros((n + 3, 2))
    rhs[:n] = t
    weights = np.linalg.lstsq(system, rhs, rcond=None)[0]
    gx = np.arange(w, dtype=np.float64) / w
    gy = np.arange(h, dtype=np.float64) / h
    # Separable squared distances: (x - cx)^2 + (y - cy)^2 per control point, one (H, W) at a time.
    out_x = weights[n, 0] + weights[n + 1, 0] * gx[None, :] + weights[n + 2, 0] * gy[:, None]
    out_y = weights[n, 1] + weights[n + 1, 1] * gx[None, :] + weights[n + 2, 1] * gy[:, None]
    for index in range(n):
        sq = (gx[None, :] - c[index, 0]) ** 2 + (gy[:, None] - c[index, 1]) ** 2
        basis = _tps_kernel(sq)
        out_x = out_x + weights[index, 0] * basis
        out_y = out_y + weights[index, 1] * basis
    return (out_x * w).astype(np.float32), (out_y * h).astype(np.float32)


def mesh_maps(x_edges: np.ndarray, y_edges: np.ndarray, vertices: np.ndarray, shape: tuple[int, int]) -> Maps:
    """Backward maps of a bilinear mesh warp.

    The output is cut into cells at ``x_edges`` (columns) and ``y_edges`` (rows), index-frame
    positions that increase; grid node ``(r, c)`` samples the input at ``vertices[r, c]`` and each
    cell interpolates its four corners bilinearly. The map is continuous across cell edges (edges
    map linearly), so nothing tears. Outside the grid the border cells extend linearly.
    """
    h, w = shape
    xe = np.asarray(x_edges, dtype=np.float64)
    ye = np.asarray(y_edges, dtype=np.float64)
    verts = np.asarray(vertices, dtype=np.float64)
    px = np.arange(w, dtype=np.float64)
    py = np.arange(h, dtype=np.float64)
    j = np.clip(np.searchsorted(xe, px, side="right") - 1, 0, len(xe) - 2)
    i = np.clip(np.searchsorted(ye, py, side="right") - 1, 0, len(ye) - 2)
    u = ((px - xe[j]) / (xe[j + 1] - xe[j]))[None, :, None]
    v = ((py - ye[i]) / (ye[i + 1] - ye[i]))[:, None, None]
    ii, jj = i[:, None], j[None, :]
    top = verts[ii, jj] + u * (verts[ii, jj + 1] - verts[ii, jj])
    bottom = verts[ii + 1, jj] + u * (verts[ii + 1, jj + 1] - verts[ii + 1, jj])
    result = top + v * (bottom - top)
    return result[..., 0].astype(np.float32), result[..., 1].astype(np.float32)


def almost_equal_splits(length: int, parts: int) -> np.ndarray:
    """``parts`` integer sizes summing to ``length`` that differ by at most one (larger first)."""
    base, extra = divmod(length, parts)
    return np.array([base + 1 if i < extra else base for i in range(parts)], dtype=np.int64)


# -- morphology ------------------------------------------------------------------------------------

_MORPHOLOGY_DTYPES = (np.uint8, np.uint16, np.int16, np.float32, np.float64)


def morphology(array: np.ndarray, kernel: np.ndarray, operation: str) -> np.ndarray:
    """Grey dilation (local maximum over ``kernel``) or erosion (local minimum) of an image or mask.

    Pixels outside the array never win (OpenCV's neutral border). Values are only ever copied,
    so a label mask keeps its labels. Any channel count and any integer or float dtype.
    """
    work = array
    restore: np.dtype | None = None
    if array.dtype == np.bool_:
        work, restore = array.view(np.uint8), array.dtype
    elif array.dtype.type not in _MORPHOLOGY_DTYPES:
        work, restore = array.astype(np.float64), array.dtype
    func = cv2.dilate if operation == "dilation" else cv2.erode
    work = np.ascontiguousarray(work)
    channels = 1 if work.ndim == 2 else work.shape[2]
    if channels <= 4:
        out = func(work, kernel)
        if work.ndim == 3 and out.ndim == 2:
            out = out[:, :, None]
    else:
        out = np.concatenate(
            [
                func(np.ascontiguousarray(work[:, :, i : i + 4]), kernel).reshape(*work.shape[:2], -1)
                for i in range(0, channels, 4)
            ],
            axis=2,
        )
    return out if restore is None else out.astype(restore)


def morphology_box_reach(kernel: np.ndarray) -> tuple[int, int, int, int]:
    """How far dilation by ``kernel`` grows a filled rectangle: ``(left, top, right, bottom)``.

    OpenCV anchors the kernel at its centre, so the reach on each side is the distance from the
    anchor to the farthest set column (row) on the opposite side. Erosion shrinks by the same
    amounts, mirrored.
    """
    kh, kw = kernel.shape[:2]
    ax, ay = kw // 2, kh // 2
    cols = np.flatnonzero(kernel.any(axis=0))
    rows = np.flatnonzero(kernel.any(axis=1))
    if len(cols) == 0:
        return 0, 0, 0, 0
    return int(cols.max() - ax), int(rows.max() - ay), int(ax - cols.min()), int(ay - rows.min())
