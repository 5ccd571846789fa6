"""Dense backward maps for non-rigid warps: elastic, grid, lens, thin-plate spline, meshes.

Every builder returns ``(map_x, map_y)``: float32 arrays of the output shape holding, for each
output pixel, the input coordinate it samples, in OpenCV's pixel-index frame (pixel centres on
integers), ready for ``cv2.remap``. Random numbers are drawn by the caller and passed in.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

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
    as 17 truncates the kernel (faster, the ``approximate`` option). The border replicates the
    edge noise (as Albumentations does), which makes the field somewhat stronger near the edges.
    """
    k, h, w = noise.shape
    stacked = np.ascontiguousarray(noise, dtype=np.float32).reshape(k * h, w)
    # Blurring the stacked fields at once would mix neighbouring fields at their seams: blur each.
    out = np.empty((k, h, w), dtype=np.float32)
    size = (kernel_size, kernel_size)
    for index in range(k):
        out[index] = cv2.GaussianBlur(
            stacked[index * h : (index + 1) * h], size, sigma, borderType=cv2.BORDER_REPLICATE
        )
    out *= np.float32(alpha)
    return out


def gaussian_taps(sigma: float, kernel_size: int = 0) -> np.ndarray:
    """The 1-D kernel ``cv2.GaussianBlur`` uses on float images (size ``8 sigma + 1`` when 0)."""
    size = kernel_size or (round(sigma * 8 + 1) | 1)
    return np.asarray(cv2.getGaussianKernel(size, sigma, cv2.CV_64F)).ravel()


#: Coarse grid step of the elastic field, in units of ``sigma``: a node every ``2/3 sigma`` pixels
#: leaves the coarse blur ``sigma_c ~ 1.45`` nodes wide, where a sampled gaussian is still exact
#: to a fraction of a percent (tests/test_elastic_coarse.py measures the statistics).
COARSE_STEP = 2.0 / 3.0
#: Below this ``sigma`` the coarse grid would save little (a step under 2 px): full resolution.
COARSE_MIN_SIGMA = 3.0


class CoarseAxis(NamedTuple):
    """How one axis of the elastic field is drawn coarsely."""

    nodes: int  # coarse samples along the axis
    sigma: float  # the blur on the coarse grid, in nodes
    gain: float  # scale of the coarse noise that gives the full-resolution field's variance


@lru_cache(maxsize=256)
def coarse_axis(length: int, sigma: float) -> CoarseAxis:
    """Coarse grid, coarse blur and variance gain along an axis of ``length`` pixels.

    Nodes are ``s = length / nodes`` pixels apart. Bilinear upsampling is itself a smoothing (a
    triangle of variance ``s^2 / 6``), so the coarse blur is narrowed to keep the total at
    ``sigma^2``. The gain matches the variance: the full field's ``sum g^2`` (per unit noise
    variance) against the coarse one's, averaged over the positions between two nodes, where a
    bilinear mix of two nodes correlated by ``rho`` has ``2/3 + rho/3`` of a node's variance.
    """
    nodes = max(2, math.ceil(length / max(1.0, sigma * COARSE_STEP)))
    step = length / nodes
    coarse_sigma = math.sqrt(max(sigma * sigma - step * step / 6.0, 0.25 * step * step)) / step
    fine = gaussian_taps(sigma)
    coarse = gaussian_taps(coarse_sigma)
    energy = float((coarse * coarse).sum())
    rho = float((coarse[:-1] * coarse[1:]).sum()) / energy
    gain = math.sqrt(float((fine * fine).sum()) / (energy * (2.0 / 3.0 + rho / 3.0)))
    return CoarseAxis(nodes, coarse_sigma, gain)


def coarse_shape(shape: tuple[int, int], sigma: float) -> tuple[int, int]:
    """The ``(rows, columns)`` of the coarse noise ``coarse_displacement`` takes."""
    return coarse_axis(shape[0], sigma).nodes, coarse_axis(shape[1], sigma).nodes


@lru_cache(maxsize=64)
def _edge_weights(sigma: float) -> np.ndarray:
    """``T(d)``: the kernel mass at offsets ``>= d`` (what an edge pixel weighs ``d`` px inside)."""
    taps = gaussian_taps(sigma)
    half = taps[taps.size // 2 :]
    return np.cumsum(half[::-1])[::-1].astype(np.float32)


def coarse_displacement(
    noise: np.ndarray,
    columns: np.ndarray,
    rows: np.ndarray,
    shape: tuple[int, int],
    sigma: float,
    scale: float,
) -> np.ndarray:
    """Smooth displacement fields built on a coarse grid: ``smooth_displacement``'s statistics, cheaper.

    A field blurred by ``sigma`` has no detail finer than ``sigma``, so it is drawn on a grid of
    nodes ``2/3 sigma`` apart (``noise``, shape ``(K, *coarse_shape(shape, sigma))``), blurred there
    and upsampled bilinearly: ``(3/2 sigma)^2`` times fewer random numbers and blur taps. The full
    method replicates the border noise (``BORDER_REPLICATE``), so an edge pixel's value also
    weighs the kernel mass that falls outside; that part is added exactly, at full resolution,
    from the edge pixels' own noise (``columns``: ``(K, 2, H)``, left and right; ``rows``:
    ``(K, 2, W)``, top and bottom), blurred along the edge. ``scale`` multiplies everything (the
    strength ``alpha`` over the noise normalisation).

    Per-pixel variance and autocorrelation match the full-resolution fields (measured in the
    tests); pixel values differ, being other draws of the same distribution.
    """
    height, width = shape
    count = noise.shape[0]
    axis_y, axis_x = coarse_axis(height, sigma), coarse_axis(width, sigma)
    weights = _edge_weights(sigma)
    taps = gaussian_taps(sigma).astype(np.float32)
    one = np.ones(1, np.float32)
    reach_x, reach_y = min(weights.size, width), min(weights.size, height)
    # The replicated border: an edge column weighs T(d) at d px inside, blurred along the edge (its
    # own ends replicated: the corners); edge rows likewise, their ends left to the columns. All
    # edge lines are blurred in one call per direction (as the columns of one array).
    lines = np.ascontiguousarray(columns, np.float32).reshape(count * 2, height).T
    edge_columns = cv2.sepFilter2D(lines, cv2.CV_32F, one, taps, borderType=cv2.BORDER_REPLICATE)
    edge_columns = edge_columns.T.reshape(count, 2, height) * np.float32(scale)
    lines = np.ascontiguousarray(rows, np.float32).reshape(count * 2, width)
    edge_rows = cv2.sepFilter2D(lines, cv2.CV_32F, taps, one, borderType=cv2.BORDER_CONSTANT)
    edge_rows = edge_rows.reshape(count, 2, width) * np.float32(scale)
    out = np.empty((count, height, width), np.float32)
    for index in range(count):
        coarse = cv2.GaussianBlur(
            np.ascontiguousarray(noise[index], dtype=np.float32),
            (0, 0),
            axis_x.sigma,
            sigmaY=axis_y.sigma,
            borderType=cv2.BORDER_CONSTANT,
        )
        coarse *= np.float32(axis_x.gain * axis_y.gain * scale)
        field = out[index]
        cv2.resize(coarse, (width, height), dst=field, interpolation=cv2.INTER_LINEAR)
        left, right = edge_columns[index]
        top, bottom = edge_rows[index]
        field[:, :reach_x] += left[:, None] * weights[:reach_x]
        field[:, width - reach_x :] += right[:, None] * weights[:reach_x][::-1]
        field[:reach_y] += weights[:reach_y, None] * top
        field[height - reach_y :] += weights[:reach_y][::-1, None] * bottom
    return out


def normal_peak(u: float, count: int) -> float:
    """The ``u``-quantile of ``max |z|`` over ``count`` independent standard normals ``z``.

    ``P(max |z| <= x) = erf(x / sqrt 2) ** count``; solved for ``x`` by Newton's method on the
    log of the tail, ``erfc(x / sqrt 2) = 1 - u ** (1 / count)``. With ``u`` uniform, it draws the
    normalisation of a gaussian field divided by its largest magnitude without drawing the field.
    """
    u = min(max(u, 1e-300), 1.0 - 1e-16)
    tail = -math.expm1(math.log(u) / count)
    target = math.log(tail)
    x = math.sqrt(max(2.0 * -target, 0.0))
    for _ in range(60):
        value = math.erfc(x / math.sqrt(2.0))
        if value <= 0.0:
            x *= 0.9
            continue
        slope = -math.sqrt(2.0 / math.pi) * math.exp(-0.5 * x * x) / value
        step = (math.log(value) - target) / slope
        x = max(x - step, 0.0)
        if abs(step) < 1e-12:
            break
    return x


def displacement_maps(dx: np.ndarray, dy: np.ndarray) -> Maps:
    """Backward maps ``x + dx``, ``y + dy`` for displacement fields of shape ``(H, W)``."""
    h, w = dx.shape
    map_x, map_y = identity_maps(h, w)
    map_x += dx
    map_y += dy
    return map_x, map_y


def displacement_maps_inplace(fields: np.ndarray) -> Maps:
    """``displacement_maps(fields[0], fields[-1])`` built in ``fields`` itself (``(1 or 2, H, W)``,
    float32, modified): no identity maps allocated."""
    _, h, w = fields.shape
    ys = np.arange(h, dtype=np.float32)[:, None]
    map_y = fields[0] + ys if fields.shape[0] == 1 else np.add(fields[1], ys, out=fields[1])
    map_x = np.add(fields[0], np.arange(w, dtype=np.float32), out=fields[0])
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
    # The last band may be cut short by the border: shrink its step in proportion.
    last = max(min(length, (num_steps + 1) * size) - num_steps * size, 0)
    steps[-1] *= last / size
    total = length / size
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


def _hat_weights(nodes: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear-interpolation weights of pixels ``0 .. length - 1`` on increasing ``nodes``.

    Returns the ``(length, len(nodes))`` weight matrix, each pixel's cell index and its fraction
    ``t`` in that cell. Pixels outside the nodes use the border cell with ``t`` outside
    ``[0, 1]`` (linear extrapolation).
    """
    nodes = np.asarray(nodes, dtype=np.float64)
    pixels = np.arange(length, dtype=np.float64)
    cell = np.clip(np.searchsorted(nodes, pixels, side="right") - 1, 0, len(nodes) - 2)
    t = (pixels - nodes[cell]) / (nodes[cell + 1] - nodes[cell])
    weights = np.zeros((length, len(nodes)))
    weights[np.arange(length), cell] = 1.0 - t
    weights[np.arange(length), cell + 1] += t
    return weights, cell, t


def _bilinear_grid(wy: np.ndarray, wx: np.ndarray, values: np.ndarray) -> Maps:
    """Bilinear interpolation of node ``values`` ``(R, C, 2)`` as two small matrix products."""
    map_x = (wy @ values[..., 0] @ wx.T).astype(np.float32)
    map_y = (wy @ values[..., 1] @ wx.T).astype(np.float32)
    return map_x, map_y


def piecewise_affine_maps(
    xs: np.ndarray, ys: np.ndarray, sources: np.ndarray, shape: tuple[int, int]
) -> Maps:
    """Piecewise-affine map over a regular triangulated grid.

    ``xs`` (columns) and ``ys`` (rows) are the increasing index-frame positions of the output
    grid's nodes; ``sources[r, c]`` is the input position node ``(r, c)`` samples. Each grid cell
    is split along its main diagonal into two triangles, each mapped affinely, so the map is
    continuous and exact at the nodes.

    In a cell with fractions ``(u, v)`` the triangle map equals the bilinear one plus
    ``(min(u, v) - u v) D``, ``D = p11 - p10 - p01 + p00``, which keeps the work separable.
    """
    h, w = shape
    src = np.asarray(sources, dtype=np.float64)
    wx, j, u = _hat_weights(xs, w)
    wy, i, v = _hat_weights(ys, h)
    map_x, map_y = _bilinear_grid(wy, wx, src)
    twist = src[1:, 1:] - src[1:, :-1] - src[:-1, 1:] + src[:-1, :-1]  # (R-1, C-1, 2)
    correction = (np.minimum(v[:, None], u[None, :]) - v[:, None] * u[None, :]).astype(np.float32)
    map_x += correction * twist[..., 0].astype(np.float32)[i][:, j]
    map_y += correction * twist[..., 1].astype(np.float32)[i][:, j]
    return map_x, map_y


def _tps_kernel(sq_dist: np.ndarray) -> np.ndarray:
    """The thin-plate radial basis ``U = r^2 log r^2`` written on squared distances."""
    tiny = np.finfo(sq_dist.dtype).tiny
    out: np.ndarray = sq_dist * np.log(np.maximum(sq_dist, tiny))
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
    # One (H * W) row of basis values per control point, then a single matrix product.
    dx2 = ((gx[None, :] - c[:, 0:1]) ** 2).astype(np.float32)  # (N, W)
    dy2 = ((gy[None, :] - c[:, 1:2]) ** 2).astype(np.float32)  # (N, H)
    basis = _tps_kernel(dy2[:, :, None] + dx2[:, None, :]).reshape(n, h * w)
    warped = (weights[:n].T.astype(np.float32) @ basis).reshape(2, h, w)
    affine_x = weights[n, 0] + weights[n + 1, 0] * gx[None, :] + weights[n + 2, 0] * gy[:, None]
    affine_y = weights[n, 1] + weights[n + 1, 1] * gx[None, :] + weights[n + 2, 1] * gy[:, None]
    map_x = ((warped[0] + affine_x) * w).astype(np.float32)
    map_y = ((warped[1] + affine_y) * h).astype(np.float32)
    return map_x, map_y


def mesh_maps(x_edges: np.ndarray, y_edges: np.ndarray, vertices: np.ndarray, shape: tuple[int, int]) -> Maps:
    """Backward maps of a bilinear mesh warp.

    The output is cut into cells at ``x_edges`` (columns) and ``y_edges`` (rows), index-frame
    positions that increase; grid node ``(r, c)`` samples the input at ``vertices[r, c]`` and each
    cell interpolates its four corners bilinearly. The map is continuous across cell edges (edges
    map linearly), so nothing tears. Outside the grid the border cells extend linearly.
    """
    h, w = shape
    wx, _, _ = _hat_weights(x_edges, w)
    wy, _, _ = _hat_weights(y_edges, h)
    return _bilinear_grid(wy, wx, np.asarray(vertices, dtype=np.float64))


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


# -- refraction and scatter ------------------------------------------------------------------------


def water_refraction_maps(shape: tuple[int, int], amplitude: float, waves: np.ndarray) -> Maps:
    """Backward maps of looking through a rippled water surface.

    The surface height is a sum of plane waves ``sin(k . r + phase)``, one per row
    ``(wavelength_px, angle_rad, phase)`` of ``waves``. Refraction at a gently sloped surface
    bends rays in proportion to its slope, so each pixel samples the input displaced along the
    height gradient ``sum k cos(k . r + phase)``; the field is scaled so that its largest possible
    magnitude (all waves in phase) is ``amplitude`` pixels.
    """
    h, w = shape
    xs = np.arange(w, dtype=np.float32)
    ys = np.arange(h, dtype=np.float32)
    dx = np.zeros((h, w), np.float32)
    dy = np.zeros((h, w), np.float32)
    for wavelength, angle, phase in np.asarray(waves, dtype=np.float64).reshape(-1, 3):
        k = 2.0 * np.pi / max(wavelength, 1e-6)
        kx, ky = np.float32(k * np.cos(angle)), np.float32(k * np.sin(angle))
        slope = np.cos(np.add.outer(ys * ky, xs * kx + np.float32(phase)))
        dx += slope * np.float32(np.cos(angle))
        dy += slope * np.float32(np.sin(angle))
    scale = np.float32(amplitude / max(len(waves), 1))
    return displacement_maps(dx * scale, dy * scale)


def scatter_maps(offsets: np.ndarray) -> Maps:
    """Backward maps where each pixel samples a source offset by ``offsets`` ``(2, H, W)`` (x,
    then y): a non-smooth, high-frequency field when the offsets are independent draws."""
    field = offsets.astype(np.float32, copy=False)
    return displacement_maps(field[0], field[1])
