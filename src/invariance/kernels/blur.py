"""Blur kernels: pure functions of arrays and plain numbers (no randomness, no validation)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from invariance.kernels._cv import restore_channel_axis, scratch

# medianBlur handles float32 only up to this aperture; larger apertures need uint8.
_CV_FLOAT_MEDIAN_MAX = 5
#: The largest kernel side a uint8 image is correlated through float32 (measured with OpenCV 5.1:
#: dense 3x3 1.3x, 9x9 2.5x, 11x11 2.6x faster; from 13x13 OpenCV's uint8 path uses a DFT and wins)
#: and the fewest non-zero taps that repay the conversions (5 taps: 0.9x, 7: 1.15x).
_FLOAT_PATH_MAX_SIDE = 11
_FLOAT_PATH_MIN_TAPS = 7
#: OpenCV's Python binding reads an array of this many numbers or fewer as a Scalar.
_CV_SCALAR_MAX = 4
#: Floats in one strip of :func:`_correlate_through_float` (2 MB).
_FLOAT_STRIP_ELEMENTS = 2**19


def gaussian_kernel_size(sigma: float) -> int:
    """The odd kernel size that holds a Gaussian of ``sigma`` (3.5 sigma each side, as PIL)."""
    size = int(sigma * 3.5) * 2 + 1
    return size if size % 2 == 1 else size + 1


def gaussian_blur(img: np.ndarray, ksize: int, sigma: float) -> np.ndarray:
    """Separable Gaussian blur with an odd ``ksize`` (0: derived from ``sigma``), reflect-101 border.

    ``sigma`` <= 0 derives sigma from ``ksize`` as OpenCV does. A float kernel through
    ``sepFilter2D`` rounds uint8 once at the end (OpenCV's fixed-point GaussianBlur can differ by
    one level) and is as fast.
    """
    if ksize == 0:
        ksize = gaussian_kernel_size(sigma)
    if ksize <= 1 and sigma <= 0:
        return img.copy()
    kernel = cv2.getGaussianKernel(ksize, sigma, cv2.CV_32F)
    return restore_channel_axis(cv2.sepFilter2D(img, -1, kernel, kernel), img)


def _clip_float(result: np.ndarray, like: np.ndarray) -> np.ndarray:
    """float32 images stay in [0, 1]; uint8 results already saturated in OpenCV."""
    if like.dtype == np.float32:
        np.clip(result, 0.0, 1.0, out=result)
    return restore_channel_axis(result, like)


def box_blur(img: np.ndarray, ksize: int) -> np.ndarray:
    """Mean over a ``ksize`` x ``ksize`` window (reflect-101 border)."""
    return restore_channel_axis(cv2.blur(img, (ksize, ksize)), img)


def convolve(img: np.ndarray, kernel: np.ndarray, border_mode: int = cv2.BORDER_REFLECT_101) -> np.ndarray:
    """Correlate every channel with a 2-D ``kernel``; uint8 rounds and saturates, float32 is
    clipped to [0, 1].

    OpenCV's direct uint8 correlation costs about twice its float32 one per non-zero tap (both
    skip zero taps and accumulate in float), so a uint8 image with a kernel of at least
    :data:`_FLOAT_PATH_MIN_TAPS` taps and sides up to :data:`_FLOAT_PATH_MAX_SIDE` goes through
    float32 (:func:`_correlate_through_float`): the same bytes in 0.75-0.4x the time. Sparser
    kernels (a short motion line) do not repay the two conversions; larger ones go through
    OpenCV's uint8 path, which switches to a DFT where the float32 one does not.
    """
    kernel = np.asarray(kernel, dtype=np.float32)
    if (
        img.dtype == np.uint8
        and img.size > _CV_SCALAR_MAX  # OpenCV reads an array of up to 4 numbers as a Scalar
        and max(kernel.shape) <= _FLOAT_PATH_MAX_SIDE
        and np.count_nonzero(kernel) >= _FLOAT_PATH_MIN_TAPS
    ):
        return _correlate_through_float(img, kernel, border_mode)
    return _clip_float(cv2.filter2D(img, -1, kernel, borderType=border_mode), img)


def _correlate_through_float(img: np.ndarray, kernel: np.ndarray, border_mode: int) -> np.ndarray:
    """A uint8 image widened to float32, correlated there and rounded back (half to even, as
    OpenCV's uint8 path rounds the same float32 sums), one strip of rows at a time.

    A strip holds at most :data:`_FLOAT_STRIP_ELEMENTS` floats (2 MB) plus the rows above and
    below that its pixels read, so the widened copy stays in cache whatever the image size:
    three passes over a whole-image float copy would be memory-bound on a large image or a busy
    machine. Only the strip's own rows are kept, so strip edges that are not image edges never
    show their border handling; the result equals one pass over the whole image.
    """
    height = img.shape[0]
    row_elements = img.size // height
    reach = max(kernel.shape[0] // 2, kernel.shape[0] - 1 - kernel.shape[0] // 2)
    strip = max(1, _FLOAT_STRIP_ELEMENTS // row_elements)
    out = np.empty(img.shape, np.uint8)
    out_rows = out.reshape(height, -1)  # 2-D: cv2.add with a scalar is 10x slower on a multi-channel Mat
    buffer = scratch("correlate_float", (min(height, strip + 2 * reach), *img.shape[1:]), np.float32)
    for top in range(0, height, strip):
        bottom = min(height, top + strip)
        first, last = max(0, top - reach), min(height, bottom + reach)
        widened = buffer[: last - first]
        np.copyto(widened, img[first:last])
        cv2.filter2D(widened, -1, kernel, dst=widened, borderType=border_mode)
        kept = widened[top - first : bottom - first].reshape(bottom - top, -1)
        cv2.add(kept, 0.0, dst=out_rows[top:bottom], dtype=cv2.CV_8U)
    return out


def _median_float_quantized(img: np.ndarray, ksize: int) -> np.ndarray:
    """Median of a [0, 1] float image through OpenCV's uint8 path (256 levels, error <= 1/510).

    Rounding is monotone, so the uint8 median is the rounded exact median; an exact float median of
    a 7x7 window or larger costs seconds per megapixel in numpy.
    """
    levels = np.clip(img * np.float32(255.0) + np.float32(0.5), 0, 255).astype(np.uint8)
    out = median_blur(levels, ksize).astype(np.float32)
    out *= np.float32(1.0 / 255.0)
    return out


def median_blur(img: np.ndarray, ksize: int) -> np.ndarray:
    """Median over a ``ksize`` x ``ksize`` window (replicated border), any channel count.

    uint8 is exact; float32 is exact up to 5x5 and quantized to 256 levels above (OpenCV's float
    median stops at 5x5).
    """
    if ksize <= 1:
        return img.copy()
    if img.dtype != np.uint8 and ksize > _CV_FLOAT_MEDIAN_MAX:
        return _median_float_quantized(img, ksize)
    channels = 1 if img.ndim == 2 else img.shape[2]
    if channels in (1, 3, 4):
        return restore_channel_axis(cv2.medianBlur(np.ascontiguousarray(img), ksize), img)
    planes = [cv2.medianBlur(np.ascontiguousarray(img[:, :, c]), ksize) for c in range(channels)]
    return np.stack(planes, axis=2)


def motion_kernel(ksize: int, angle: float, direction: float, shift: tuple[float, float]) -> np.ndarray:
    """A normalized line kernel for motion blur.

    The line passes through the kernel centre (moved by ``shift`` pixels) at ``angle`` degrees
    (image coordinates, y down: 0 points right, 90 down). ``direction`` in [-1, 1] splits its
    length: 0 extends equally
    both ways, 1 only forwards (along ``angle``), -1 only backwards.
    """
    half = (ksize - 1) / 2.0
    forward = half * min(1.0, 1.0 + direction)
    backward = half * min(1.0, 1.0 - direction)
    rad = math.radians(angle)
    dx, dy = math.cos(rad), math.sin(rad)
    cx, cy = half + shift[0], half + shift[1]
    # Draw at 16x sub-pixel precision so short lines at any angle stay centred.
    scale = 16
    start = (round((cx - backward * dx) * scale), round((cy - backward * dy) * scale))
    end = (round((cx + forward * dx) * scale), round((cy + forward * dy) * scale))
    kernel = np.zeros((ksize, ksize), dtype=np.float32)
    cv2.line(kernel, start, end, 1.0, thickness=1, lineType=cv2.LINE_AA, shift=4)
    total = float(kernel.sum())
    if total <= 0:
        kernel[round(cy), round(cx)] = 1.0
        return kernel
    return kernel / total


def motion_shift_room(ksize: int, angle: float, direction: float) -> tuple[float, float]:
    """How far (x, y) the line of :func:`motion_kernel` can move before leaving the kernel."""
    half = (ksize - 1) / 2.0
    forward = half * min(1.0, 1.0 + direction)
    backward = half * min(1.0, 1.0 - direction)
    rad = math.radians(angle)
    xs = (-backward * math.cos(rad), forward * math.cos(rad))
    ys = (-backward * math.sin(rad), forward * math.sin(rad))
    return max(0.0, half - max(abs(v) for v in xs)), max(0.0, half - max(abs(v) for v in ys))


def disc_kernel(radius: int, alias_blur: float) -> np.ndarray:
    """A normalized disc of ``radius`` pixels, softened by a Gaussian of sigma ``alias_blur``."""
    size = 2 * radius + 1
    coords = np.arange(size, dtype=np.float32) - radius
    kernel: np.ndarray = ((coords[:, None] ** 2 + coords[None, :] ** 2) <= radius * radius).astype(np.float32)
    if alias_blur > 0:
        kernel = cv2.GaussianBlur(kernel, (3, 3), sigmaX=alias_blur)
    return kernel / float(kernel.sum())


def generalized_gaussian_kernel(
    ksize: int, sigma_x: float, sigma_y: float, angle: float, beta: float, noise: np.ndarray | None
) -> np.ndarray:
    """An anisotropic generalized Gaussian ``exp(-0.5 (d^T S^-1 d)^beta)``, rotated by ``angle`` degrees.

    ``S = R diag(sigma_x^2, sigma_y^2) R^T``. ``noise`` (same shape as the kernel) multiplies the
    kernel before it is normalized to sum 1.
    """
    half = (ksize - 1) / 2.0
    coords = np.arange(ksize, dtype=np.float64) - half
    xx, yy = np.meshgrid(coords, coords)
    rad = math.radians(angle)
    cos, sin = math.cos(rad), math.sin(rad)
    # Coordinates in the kernel's own (rotated) axes.
    u = cos * xx + sin * yy
    v = -sin * xx + cos * yy
    quad = (u / max(sigma_x, 1e-6)) ** 2 + (v / max(sigma_y, 1e-6)) ** 2
    kernel = np.exp(-0.5 * np.power(quad, beta))
    if noise is not None:
        kernel = kernel * noise
    total = kernel.sum()
    if total <= 0:
        kernel = np.zeros_like(kernel)
        kernel[ksize // 2, ksize // 2] = 1.0
        return kernel.astype(np.float32)
    return (kernel / total).astype(np.float32)


def _zoom_about_centre(img: np.ndarray, factor: float) -> np.ndarray:
    """Enlarge by about ``factor`` and keep the centre crop of the original size.

    The enlarged size differs from the original by an even number of pixels on each axis, so the
    crop is exactly centred (the factor is rounded by less than 2 / size).
    """
    height, width = img.shape[:2]
    big_h = height + 2 * max(0, round(height * (factor - 1) / 2))
    big_w = width + 2 * max(0, round(width * (factor - 1) / 2))
    if (big_h, big_w) == (height, width):
        return img
    big = cv2.resize(img, (big_w, big_h), interpolation=cv2.INTER_LINEAR)
    top, left = (big_h - height) // 2, (big_w - width) // 2
    return big[top : top + height, left : left + width]


def zoom_blur(img: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Average the image with copies of itself zoomed about the centre by each of ``factors``."""
    if len(factors) == 0:
        return img.copy()
    acc = img.astype(np.float32)
    for factor in factors:
        # Warp in the image's own dtype (uint8 is cheaper); accumulate in float32.
        cv2.accumulate(restore_channel_axis(_zoom_about_centre(img, float(factor)), img), acc)
    acc *= np.float32(1.0 / (len(factors) + 1))
    if img.dtype == np.uint8:
        acc += np.float32(0.5)
        np.clip(acc, 0, 255, out=acc)
        return acc.astype(np.uint8)
    return np.clip(acc, 0.0, 1.0, out=acc)


def glass_blur(img: np.ndarray, sigma: float, offsets: np.ndarray) -> np.ndarray:
    """Gaussian blur, displace pixels by ``offsets``, then blur again (the "glass" look).

    ``offsets`` has shape ``(iterations, H, W, 2)`` (dy, dx): each round every pixel takes the value
    ``offset`` away from it (clamped to the image).
    """
    out = gaussian_blur(img, 0, sigma)
    height, width = img.shape[:2]
    rows = np.arange(height, dtype=np.int32)[:, None]
    cols = np.arange(width, dtype=np.int32)[None, :]
    for step in offsets:
        src_y = np.clip(rows + step[..., 0], 0, height - 1)
        src_x = np.clip(cols + step[..., 1], 0, width - 1)
        out = out[src_y, src_x]
    return gaussian_blur(out, 0, sigma)
