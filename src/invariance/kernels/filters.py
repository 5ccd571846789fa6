"""Sharpening and filter kernels: pure functions of arrays and plain numbers."""

from __future__ import annotations

import math

import cv2
import numpy as np

from invariance.kernels._cv import restore_channel_axis
from invariance.kernels.blur import convolve, gaussian_blur

_IDENTITY = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32)
_LAPLACIAN = np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=np.float32)


def sharpen_kernel(alpha: float, lightness: float) -> np.ndarray:
    """``(1 - alpha) I + alpha (L + lightness I)`` with L the 8-neighbour Laplacian."""
    return ((1.0 - alpha) * _IDENTITY + alpha * (_LAPLACIAN + lightness * _IDENTITY)).astype(np.float32)


def emboss_kernel(alpha: float, strength: float) -> np.ndarray:
    """``(1 - alpha) I + alpha E`` with E the diagonal relief kernel of ``strength``."""
    s = strength
    relief = np.array([[-1 - s, -s, 0], [-s, 1, s], [0, s, 1 + s]], dtype=np.float32)
    return ((1.0 - alpha) * _IDENTITY + alpha * relief).astype(np.float32)


def _to_float(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) if img.dtype != np.float32 else img


def _from_float(result: np.ndarray, like: np.ndarray) -> np.ndarray:
    if like.dtype == np.uint8:
        return np.clip(result + 0.5, 0, 255).astype(np.uint8)
    return np.clip(result, 0.0, 1.0).astype(like.dtype, copy=False)


def blend_with_blur(img: np.ndarray, alpha: float, ksize: int, sigma: float) -> np.ndarray:
    """``alpha * img + (1 - alpha) * gaussian(img)``: alpha > 1 sharpens, alpha < 1 softens.

    Computed in float32, then rounded and saturated (uint8) or clipped to [0, 1] (float32).
    """
    source = _to_float(img)
    blurred = gaussian_blur(source, ksize, sigma)
    out = cv2.addWeighted(source, alpha, blurred, 1.0 - alpha, 0.0)
    return _from_float(restore_channel_axis(out, img), img)


def unsharp_mask(img: np.ndarray, ksize: int, sigma: float, alpha: float, threshold: float) -> np.ndarray:
    """Add ``alpha`` times the detail ``img - gaussian(img)`` where that detail exceeds ``threshold``.

    ``threshold`` is on the 0..255 scale. The hard mask of strong detail is softened by the same
    Gaussian so the sharpened regions blend smoothly into the rest.
    """
    source = _to_float(img)
    scale = 255.0 if img.dtype == np.uint8 else 1.0
    blurred = gaussian_blur(source, ksize, sigma)
    detail = source - blurred
    sharp = np.clip(source + alpha * detail, 0.0, scale)
    mask = (np.abs(detail) * (255.0 / scale) > threshold).astype(np.float32)
    soft = gaussian_blur(mask, ksize, sigma)
    out = source + soft * (sharp - source)
    return _from_float(restore_channel_axis(out, img), img)


def _bessel_j1(x: np.ndarray) -> np.ndarray:
    """Bessel function J1 by its integral ``(1/pi) int_0^pi cos(t - x sin t) dt``.

    The integrand is smooth and periodic, so the midpoint rule converges geometrically; 64 nodes
    give ~1e-12 accuracy for the arguments a kernel of a few dozen pixels needs.
    """
    nodes = (np.arange(64, dtype=np.float64) + 0.5) * (math.pi / 64)
    values = np.cos(nodes[None, :] - x.reshape(-1, 1) * np.sin(nodes[None, :]))
    return values.mean(axis=1).reshape(x.shape)


def sinc_kernel(ksize: int, cutoff: float) -> np.ndarray:
    """The 2-D ideal low-pass (circular sinc) kernel ``cutoff J1(cutoff r) / (2 pi r)``, normalized.

    ``cutoff`` is in radians per pixel (pi is the Nyquist frequency). Truncating it to ``ksize``
    gives the ringing and overshoot artifacts of band-limited processing.
    """
    half = (ksize - 1) / 2.0
    coords = np.arange(ksize, dtype=np.float64) - half
    radius = np.hypot(coords[None, :], coords[:, None])
    safe = np.where(radius == 0, 1.0, radius)
    kernel = cutoff * _bessel_j1(cutoff * safe) / (2 * math.pi * safe)
    kernel = np.where(radius == 0, cutoff**2 / (4 * math.pi), kernel)
    return (kernel / kernel.sum()).astype(np.float32)


def filter_kernel(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Correlate with ``kernel``; uint8 saturates, float32 is clipped to [0, 1]."""
    return convolve(img, kernel)


def superpixels(img: np.ndarray, labels: np.ndarray, replace: np.ndarray) -> np.ndarray:
    """Replace the pixels of each segment whose ``replace[label]`` is true by the segment's mean.

    ``labels`` is an integer map of the image's height and width (segments numbered from 0).
    """
    planar = img if img.ndim == 3 else img[:, :, np.newaxis]
    channels = planar.shape[2]
    flat_labels = labels.ravel()
    count = int(flat_labels.max()) + 1 if flat_labels.size else 0
    sizes = np.bincount(flat_labels, minlength=count).astype(np.float64)
    out = planar.copy()
    flat_out = out.reshape(-1, channels)
    chosen = replace[flat_labels]
    if not chosen.any():
        return out if img.ndim == 3 else out[:, :, 0]
    for c in range(channels):
        sums = np.bincount(flat_labels, weights=planar[:, :, c].ravel(), minlength=count)
        means = sums / np.maximum(sizes, 1)
        if img.dtype == np.uint8:
            means = np.clip(np.rint(means), 0, 255)
        flat_out[chosen, c] = means[flat_labels[chosen]].astype(img.dtype)
    return out if img.ndim == 3 else out[:, :, 0]


def _slic_features(img: np.ndarray) -> np.ndarray:
    """Per-pixel colour features on a 0..100 scale: CIE Lab for RGB, scaled values otherwise."""
    unit = img.astype(np.float32) * np.float32(1.0 / 255.0 if img.dtype == np.uint8 else 1.0)
    if unit.ndim == 3 and unit.shape[2] == 3:
        return cv2.cvtColor(unit, cv2.COLOR_RGB2Lab)
    planar = unit if unit.ndim == 3 else unit[:, :, np.newaxis]
    return planar * np.float32(100.0)


def slic_labels(
    img: np.ndarray, n_segments: int, compactness: float = 10.0, iterations: int = 10
) -> np.ndarray:
    """SLIC superpixels: k-means on colour and position, each pixel compared with nearby centres only.

    Centres start on a regular grid of about ``n_segments`` cells of side ``S``; the distance is
    ``|colour|^2 + (compactness / S)^2 |position|^2``. Each pixel is compared with the centres of its
    own and the 8 neighbouring grid cells (vectorized), for ``iterations`` rounds. Returns an int32
    label map (labels index the grid cells; some may be empty).
    """
    height, width = img.shape[:2]
    features = _slic_features(img).reshape(height * width, -1).astype(np.float32)
    step = max(1.0, float(np.sqrt(height * width / max(1, n_segments))))
    rows_n = max(1, round(height / step))
    cols_n = max(1, round(width / step))
    cell_h, cell_w = height / rows_n, width / cols_n
    ys, xs = np.mgrid[0:height, 0:width]
    ys = ys.ravel().astype(np.float32)
    xs = xs.ravel().astype(np.float32)
    cell_r = np.minimum((ys / cell_h).astype(np.int32), rows_n - 1)
    cell_c = np.minimum((xs / cell_w).astype(np.int32), cols_n - 1)
    # Candidate centres per pixel: its grid cell and the 8 around it (clamped at the border).
    offsets = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)]
    candidates = np.stack(
        [
            np.clip(cell_r + dr, 0, rows_n - 1) * cols_n + np.clip(cell_c + dc, 0, cols_n - 1)
            for dr, dc in offsets
        ],
        axis=1,
    )
    count = rows_n * cols_n
    own = cell_r * cols_n + cell_c
    labels = own
    spatial = np.float32((compactness / step) ** 2)
    for _ in range(iterations):
        sizes = np.bincount(labels, minlength=count).astype(np.float32)
        empty = sizes == 0
        safe = np.maximum(sizes, 1)
        centre_y = np.bincount(labels, weights=ys, minlength=count) / safe
        centre_x = np.bincount(labels, weights=xs, minlength=count) / safe
        centre_f = np.stack(
            [
                np.bincount(labels, weights=features[:, c], minlength=count) / safe
                for c in range(features.shape[1])
            ],
            axis=1,
        ).astype(np.float32)
        colour = ((features[:, None, :] - centre_f[candidates]) ** 2).sum(axis=2)
        place = (ys[:, None] - centre_y[candidates]) ** 2 + (xs[:, None] - centre_x[candidates]) ** 2
        distance = colour + spatial * place
        distance[empty[candidates]] = np.inf
        new = candidates[np.arange(len(candidates)), np.argmin(distance, axis=1)]
        if np.array_equal(new, labels):
            break
        labels = new
    return labels.reshape(height, width).astype(np.int32)
