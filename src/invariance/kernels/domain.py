"""Domain adaptation kernels: Fourier domain adaptation, histogram matching, pixel distribution
adaptation, and text rendering into boxes.

Pure functions. Images are ``(H, W)`` or ``(H, W, C)`` uint8 (0..255) or float32 (0..1); a
reference image is first brought to the image's dtype, scale and channel count by
:func:`match_reference`.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from invariance.kernels.weather import blend, color_for, to_dtype, white


def match_reference(reference: np.ndarray, img: np.ndarray) -> np.ndarray:
    """``reference`` converted to ``img``'s dtype scale and channel layout (size unchanged)."""
    ref = np.asarray(reference)
    if ref.dtype != img.dtype:
        scaled = ref.astype(np.float32) * np.float32(white(img.dtype) / white(ref.dtype))
        ref = to_dtype(scaled, img.dtype)
    channels = 1 if img.ndim == 2 else img.shape[2]
    ref_channels = 1 if ref.ndim == 2 else ref.shape[2]
    if ref_channels != channels:
        grey = ref if ref.ndim == 2 else ref.astype(np.float32).mean(axis=2).astype(ref.dtype)
        ref = grey if img.ndim == 2 else np.repeat(grey.reshape(grey.shape[:2] + (1,)), channels, axis=2)
    elif img.ndim == 2 and ref.ndim == 3:
        ref = ref[..., 0]
    elif img.ndim == 3 and ref.ndim == 2:
        ref = ref[..., None]
    return ref


def _resize(ref: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if ref.shape[:2] == shape:
        return ref
    out = cv2.resize(np.ascontiguousarray(ref), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    if ref.ndim == 3 and out.ndim == 2:
        out = out[..., None]
    resized: np.ndarray = out
    return resized


def fda(img: np.ndarray, reference: np.ndarray, beta: float) -> np.ndarray:
    """Fourier domain adaptation: swap the low-frequency amplitude of ``img`` for the reference's.

    Both are Fourier transformed per channel (the reference resized to the image); inside the
    centred square of half-side ``floor(beta * min(H, W))`` around the zero frequency the
    amplitude spectrum is taken from the reference, the phase always from the image.
    """
    h, w = img.shape[:2]
    ref = _resize(match_reference(reference, img), (h, w))
    src = img.astype(np.float32)
    trg = ref.astype(np.float32)
    axes = (0, 1)
    f_src = np.fft.fftshift(np.fft.fft2(src, axes=axes), axes=axes)
    f_trg = np.fft.fftshift(np.fft.fft2(trg, axes=axes), axes=axes)
    amp_src, phase = np.abs(f_src), np.angle(f_src)
    b = int(np.floor(min(h, w) * beta))
    cy, cx = h // 2, w // 2
    y0, y1 = max(cy - b, 0), min(cy + b + 1, h)
    x0, x1 = max(cx - b, 0), min(cx + b + 1, w)
    amp_src[y0:y1, x0:x1] = np.abs(f_trg[y0:y1, x0:x1])
    f_new = np.fft.ifftshift(amp_src * np.exp(1j * phase), axes=axes)
    out = np.real(np.fft.ifft2(f_new, axes=axes))
    return to_dtype(out.astype(np.float32), img.dtype)


def _match_channel(src: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Values of ``src`` mapped so their distribution matches ``ref`` (quantile mapping)."""
    if src.dtype == np.uint8:
        src_cdf = np.cumsum(np.bincount(src.ravel(), minlength=256)).astype(np.float64)
        ref_cdf = np.cumsum(np.bincount(ref.ravel(), minlength=256)).astype(np.float64)
        src_cdf /= src_cdf[-1]
        ref_cdf /= ref_cdf[-1]
        lut = np.interp(src_cdf, ref_cdf, np.arange(256, dtype=np.float64))
        return lut[src].astype(np.float32)
    _, index, counts = np.unique(src.ravel(), return_inverse=True, return_counts=True)
    ref_values, ref_counts = np.unique(ref.ravel(), return_counts=True)
    src_q = np.cumsum(counts) / src.size
    ref_q = np.cumsum(ref_counts) / ref.size
    mapped = np.interp(src_q, ref_q, ref_values)
    return mapped[index].reshape(src.shape).astype(np.float32)


def histogram_matching(img: np.ndarray, reference: np.ndarray, blend_ratio: float) -> np.ndarray:
    """Match each channel's histogram to the reference's, then blend with the original:
    ``out = blend_ratio * matched + (1 - blend_ratio) * img``."""
    ref = match_reference(reference, img)
    if img.ndim == 2:
        matched = _match_channel(img, ref)
    else:
        matched = np.stack([_match_channel(img[..., c], ref[..., c]) for c in range(img.shape[2])], axis=2)
    out = img.astype(np.float32) * np.float32(1.0 - blend_ratio) + matched * np.float32(blend_ratio)
    return to_dtype(out, img.dtype)


def _pca(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, principal axes (columns, signs fixed to a positive sum) and standard deviations."""
    mean = pixels.mean(axis=0)
    cov = np.atleast_2d(np.cov(pixels - mean, rowvar=False))
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    signs = np.where(vectors.sum(axis=0) < 0, -1.0, 1.0)
    return mean, vectors * signs, np.sqrt(np.maximum(values, 1e-12))


def pixel_distribution_adaptation(
    img: np.ndarray, reference: np.ndarray, blend_ratio: float, transform_type: str
) -> np.ndarray:
    """Move the pixel distribution of ``img`` onto the reference's, then blend with the original.

    Pixels are treated as points in channel space, in [0, 1]. ``standard``: per-channel mean and
    standard deviation are matched; ``minmax``: per-channel minimum and maximum; ``pca``: the image
    is whitened along its principal axes and recoloured along the reference's (matching mean and
    covariance).
    """
    ref = match_reference(reference, img)
    top = np.float32(white(img.dtype))
    channels = 1 if img.ndim == 2 else img.shape[2]
    x = img.reshape(-1, channels).astype(np.float64) / top
    r = ref.reshape(-1, channels).astype(np.float64) / top
    if transform_type == "standard":
        mapped = (x - x.mean(0)) / np.maximum(x.std(0), 1e-6) * r.std(0) + r.mean(0)
    elif transform_type == "minmax":
        lo, hi = x.min(0), x.max(0)
        mapped = (x - lo) / np.maximum(hi - lo, 1e-6) * (r.max(0) - r.min(0)) + r.min(0)
    else:
        mean_x, axes_x, sd_x = _pca(x)
        mean_r, axes_r, sd_r = _pca(r)
        scores = (x - mean_x) @ axes_x / sd_x
        mapped = (scores * sd_r) @ axes_r.T + mean_r
    adapted = mapped.reshape(img.shape).astype(np.float32) * top
    out = img.astype(np.float32) * np.float32(1.0 - blend_ratio) + adapted * np.float32(blend_ratio)
    return to_dtype(out, img.dtype)


def paste_text_masks(
    img: np.ndarray,
    masks: Sequence[np.ndarray],
    corners: Sequence[tuple[int, int]],
    colors: Sequence[Sequence[float]],
    clear: Sequence[tuple[int, int, int, int]],
) -> np.ndarray:
    """Blend glyph coverage masks (float32 in [0, 1]) of colour ``colors`` (0..255) at the
    top-left ``corners``; first fill the ``clear`` boxes ``(x0, y0, x1, y1)`` by inpainting."""
    out = img.astype(np.float32)
    if clear:
        hole = np.zeros(img.shape[:2], np.uint8)
        for x0, y0, x1, y1 in clear:
            hole[y0:y1, x0:x1] = 255
        u8 = img if img.dtype == np.uint8 else to_dtype(out * 255.0, np.dtype(np.uint8))
        u8 = np.ascontiguousarray(u8)
        painted = cv2.inpaint(
            u8 if u8.ndim == 2 or u8.shape[2] in (1, 3) else u8[..., :3], hole, 3, cv2.INPAINT_TELEA
        )
        painted_f = painted.astype(np.float32).reshape(img.shape) * np.float32(white(img.dtype) / 255.0)
        sel = hole.astype(bool)
        out[sel] = painted_f[sel]
    for mask, (x0, y0), colour in zip(masks, corners, colors):
        mh, mw = mask.shape
        region = out[y0 : y0 + mh, x0 : x0 + mw]
        alpha = mask[: region.shape[0], : region.shape[1]]
        out[y0 : y0 + mh, x0 : x0 + mw] = blend(region, color_for(img, colour), alpha)
    return to_dtype(out, img.dtype)
