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

    Both are Fourier transformed per channel (the reference resized to the image). With
    ``b = floor(beta * min(H, W))``, the amplitudes of the frequencies ``-b .. b - 1`` on both axes
    (the centred ``2b x 2b`` square of the shifted spectrum; empty for ``b = 0``, so ``beta = 0`` is
    the identity) are taken from the reference, the phase always from the image. The real part of
    the inverse transform is kept.
    """
    h, w = img.shape[:2]
    ref = _resize(match_reference(reference, img), (h, w))
    b = int(np.floor(min(h, w) * beta))
    if b == 0:
        return img.copy()
    # Frequencies -b .. b-1 around zero, in the unshifted layout of the transform.
    rows = np.unique(np.arange(-b, b) % h)
    cols = np.unique(np.arange(-b, b) % w)
    block = np.ix_(rows, cols)
    src = img.reshape(h, w, -1)
    trg = ref.reshape(h, w, -1)
    out = np.empty(src.shape, np.float32)
    for c in range(src.shape[2]):
        spec = cv2.dft(src[..., c].astype(np.float32), flags=cv2.DFT_COMPLEX_OUTPUT)
        ref_spec = cv2.dft(trg[..., c].astype(np.float32), flags=cv2.DFT_COMPLEX_OUTPUT)
        low = spec[block]
        amp = np.sqrt(low[..., 0] ** 2 + low[..., 1] ** 2)
        ref_amp = np.sqrt(ref_spec[block][..., 0] ** 2 + ref_spec[block][..., 1] ** 2)
        gain = np.where(amp > 1e-12, ref_amp / np.maximum(amp, 1e-12), 0.0)
        new_low = low * gain[..., None]
        flat = amp <= 1e-12  # no phase to keep: a real coefficient of the reference's amplitude
        new_low[flat, 0] = ref_amp[flat]
        spec[block] = new_low
        out[..., c] = cv2.idft(spec, flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)
    return to_dtype(out.reshape(img.shape), img.dtype)


def _quantile_map(src: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``src`` and the reference values at the same quantiles."""
    if src.dtype == np.uint8:
        hist = cv2.calcHist([np.ascontiguousarray(src)], [0], None, [256], [0, 256]).ravel()
        ref_hist = cv2.calcHist([np.ascontiguousarray(ref)], [0], None, [256], [0, 256]).ravel()
        levels = np.arange(256, dtype=np.float64)
        src_cdf = np.cumsum(hist) / max(hist.sum(), 1.0)
        ref_cdf = np.cumsum(ref_hist) / max(ref_hist.sum(), 1.0)
        return levels, np.interp(src_cdf, ref_cdf, levels)
    values, counts = np.unique(src, return_counts=True)
    ref_values, ref_counts = np.unique(ref, return_counts=True)
    src_q = np.cumsum(counts) / src.size
    ref_q = np.cumsum(ref_counts) / ref.size
    return values.astype(np.float64), np.interp(src_q, ref_q, ref_values)


def histogram_matching(img: np.ndarray, reference: np.ndarray, blend_ratio: float) -> np.ndarray:
    """Match each channel's histogram to the reference's, then blend with the original:
    ``out = blend_ratio * matched + (1 - blend_ratio) * img``. uint8 images go through one
    lookup table per channel (matching and blending folded together)."""
    ref = match_reference(reference, img)
    channels = 1 if img.ndim == 2 else img.shape[2]
    src = img.reshape(img.shape[0], img.shape[1], channels)
    trg = ref.reshape(ref.shape[0], ref.shape[1], channels)
    r = float(blend_ratio)
    if img.dtype == np.uint8:
        tables = []
        for c in range(channels):
            levels, mapped = _quantile_map(src[..., c], trg[..., c])
            tables.append(np.clip(np.rint(levels * (1.0 - r) + mapped * r), 0, 255).astype(np.uint8))
        if channels in (1, 3, 4):
            lut = np.stack(tables, axis=1).reshape(256, 1, channels) if channels > 1 else tables[0]
            out = cv2.LUT(np.ascontiguousarray(src if channels > 1 else src[..., 0]), lut)
        else:
            out = np.stack([tables[c][src[..., c]] for c in range(channels)], axis=2)
        return out.reshape(img.shape)
    result = np.empty(src.shape, np.float32)
    for c in range(channels):
        values, mapped = _quantile_map(src[..., c], trg[..., c])
        index = np.searchsorted(values, src[..., c])
        result[..., c] = src[..., c] * np.float32(1.0 - r) + mapped[index].astype(np.float32) * np.float32(r)
    return to_dtype(result.reshape(img.shape), img.dtype)


def _stats(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(C,)`` and covariance ``(C, C)`` of ``(N, C)`` float32 pixels."""
    flags = cv2.COVAR_NORMAL | cv2.COVAR_ROWS | cv2.COVAR_SCALE
    cov, mean = cv2.calcCovarMatrix(pixels, None, flags)  # type: ignore[call-overload]
    return np.asarray(mean).ravel(), np.atleast_2d(np.asarray(cov))


def _axes(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Principal axes (columns, signs fixed to a positive sum) and standard deviations."""
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    signs = np.where(vectors.sum(axis=0) < 0, -1.0, 1.0)
    return vectors * signs, np.sqrt(np.maximum(values, 1e-6))


def pixel_distribution_adaptation(
    img: np.ndarray, reference: np.ndarray, blend_ratio: float, transform_type: str
) -> np.ndarray:
    """Move the pixel distribution of ``img`` onto the reference's, then blend with the original.

    Pixels are treated as points in channel space, in [0, 1]. ``standard``: per-channel mean and
    standard deviation are matched; ``minmax``: per-channel minimum and maximum; ``pca``: the image
    is whitened along its principal axes and recoloured along the reference's (matching mean and
    covariance). Every variant is one affine map of the channels, applied with ``cv2.transform``.
    """
    ref = match_reference(reference, img)
    top = float(white(img.dtype))
    channels = 1 if img.ndim == 2 else img.shape[2]
    x = img.reshape(-1, channels).astype(np.float32) * np.float32(1.0 / top)
    r = ref.reshape(-1, channels).astype(np.float32) * np.float32(1.0 / top)
    if transform_type == "minmax":
        lo, hi = x.min(0).astype(np.float64), x.max(0).astype(np.float64)
        rlo, rhi = r.min(0).astype(np.float64), r.max(0).astype(np.float64)
        gain = (rhi - rlo) / np.maximum(hi - lo, 1e-6)
        linear, offset = np.diag(gain), rlo - lo * gain
    else:
        mean_x, cov_x = _stats(x)
        mean_r, cov_r = _stats(r)
        if transform_type == "standard":
            gain = np.sqrt(np.diag(cov_r)) / np.maximum(np.sqrt(np.diag(cov_x)), 1e-6)
            linear = np.diag(gain)
        else:
            axes_x, sd_x = _axes(cov_x)
            axes_r, sd_r = _axes(cov_r)
            linear = (axes_x / sd_x) @ np.diag(sd_r) @ axes_r.T  # acts on row vectors
        offset = mean_r - mean_x @ linear
    # Blend with the original inside the same affine map, in the image's own scale.
    ratio = float(blend_ratio)
    linear = linear * ratio + np.eye(channels) * (1.0 - ratio)
    offset = offset * ratio * top
    matrix = np.concatenate([linear.T, offset[:, None]], axis=1).astype(np.float32)
    src = np.ascontiguousarray(img.reshape(img.shape[0], img.shape[1], channels).astype(np.float32))
    if channels <= 4:
        mapped = cv2.transform(src, matrix).reshape(img.shape)
    else:
        mapped = (src.reshape(-1, channels) @ matrix[:, :channels].T + matrix[:, channels]).reshape(img.shape)
    return to_dtype(mapped, img.dtype)


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
