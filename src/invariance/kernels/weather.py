"""Weather, scene and lighting kernels: rain, snow, fog, sun flare, shadows, gravel, spatter,
illumination patterns, plasma fields and H&E stain changes.

Pure functions of arrays and plain numbers: no randomness here. Random inputs (noise grids,
stone positions, spectra) are drawn by the transform, from a Generator rebuilt from the integer
seed it records, and passed in as arrays; the helpers ``*_shape`` say what size to draw.

Images are ``(H, W)`` or ``(H, W, C)`` uint8 (0..255) or float32 (0..1). Effects are computed in
float32 in the image's own scale and saturated back to the input dtype.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from invariance.kernels.color import apply_lut

# -- helpers -------------------------------------------------------------------------------------


def white(dtype: np.dtype) -> float:
    """The value of full intensity: 255 for uint8, 1 for float images."""
    return 255.0 if dtype == np.uint8 else 1.0


def to_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Saturate float values (in the dtype's scale) back to ``dtype``."""
    if dtype == np.uint8:
        out: np.ndarray = np.empty(values.shape, np.uint8)
        np.clip(np.rint(values), 0, 255, out=out, casting="unsafe")
        return out
    return np.clip(values, 0.0, 1.0).astype(dtype, copy=False)


def color_for(img: np.ndarray, color: Sequence[float]) -> np.ndarray:
    """A colour given in 0..255 RGB as a float32 vector in the image's scale and channel count."""
    c = np.asarray(color, np.float32) * (white(img.dtype) / 255.0)
    if img.ndim == 2:
        return np.float32(c.mean()) if c.size > 1 else c.reshape(())
    channels = img.shape[2]
    if c.size == channels:
        return c
    if channels == 1:
        return np.array([c.mean()], np.float32)
    return np.resize(c, channels).astype(np.float32)


def blend(img: np.ndarray, overlay: np.ndarray | float, alpha: np.ndarray) -> np.ndarray:
    """``img * (1 - alpha) + overlay * alpha`` in float32; ``alpha`` is ``(H, W)``."""
    base = img.astype(np.float32)
    a = alpha[..., None] if img.ndim == 3 else alpha
    return base + (overlay - base) * a


def scale_pixels(img: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Multiply every channel by a per-pixel ``(H, W)`` factor, saturating to the dtype."""
    f = factor[..., None] if img.ndim == 3 else factor
    return to_dtype(img.astype(np.float32) * f, img.dtype)


def noise_grid_shape(shape: tuple[int, int], cells: int) -> tuple[int, int]:
    """The coarse grid of :func:`smooth_noise` for an image of ``shape``: about ``cells`` cells
    along the longer side (at least 2 per side)."""
    h, w = shape
    return max(2, round(cells * h / max(h, w))), max(2, round(cells * w / max(h, w)))


def smooth_noise(grid: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Smooth value noise in [0, 1]: a coarse grid of values in [0, 1] resized to ``shape``
    with bicubic interpolation."""
    h, w = shape
    field = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    out: np.ndarray = np.clip(field, 0.0, 1.0)
    return out


# -- rain ----------------------------------------------------------------------------------------


def rain(
    img: np.ndarray,
    drops: np.ndarray,
    slant: float,
    drop_length: int,
    drop_width: int,
    drop_color: Sequence[float],
    blur_value: int,
    brightness_coefficient: float,
) -> np.ndarray:
    """Darken the scene by ``brightness_coefficient`` and blend soft rain streaks over it.

    Streaks of ``drop_color`` start at the ``(N, 2)`` points ``drops`` (x, y), are ``drop_length``
    pixels long, ``drop_width`` wide and tilted by ``slant`` degrees from vertical; their coverage
    is softened with a ``blur_value`` box blur (rain is seen out of focus), the scene stays sharp.
    """
    h, w = img.shape[:2]
    fast = img.dtype == np.uint8  # uint8: coverage in 0..255 and saturating OpenCV arithmetic
    coverage: np.ndarray = np.zeros((h, w), np.uint8)
    if len(drops):
        angle = np.deg2rad(slant)
        starts = np.asarray(drops, np.float64)
        ends = starts + np.array([drop_length * np.sin(angle), drop_length * np.cos(angle)])
        lines = np.stack([starts, ends], axis=1).round().astype(np.int32)
        # Drawn in 8 bits for every dtype: OpenCV anti-aliases lines only on uint8 canvases (a
        # float canvas gets hard-edged streaks), so float images would rain differently.
        cv2.polylines(coverage, list(lines), False, 255, max(1, int(drop_width)), lineType=cv2.LINE_AA)
        if not fast:
            coverage = coverage.astype(np.float32) * np.float32(1.0 / 255.0)
        if blur_value > 1:
            # A box blur spreads a thin streak over blur_value columns; rescale so it stays visible.
            gain = max(1.0, blur_value / max(drop_width, 1) / 3.0)
            coverage = cv2.blur(coverage, (int(blur_value), int(blur_value)))
            if fast:
                coverage = cv2.convertScaleAbs(coverage, dst=coverage, alpha=gain)
            else:
                coverage = np.minimum(coverage * np.float32(gain), np.float32(1.0))
    colour = color_for(img, drop_color)
    if fast:
        src = np.ascontiguousarray(img)
        if not coverage.any():
            table = np.clip(np.rint(np.arange(256) * brightness_coefficient), 0, 255).astype(np.uint8)
            return cv2.LUT(src, table).reshape(img.shape)
        channels = 1 if img.ndim == 2 else img.shape[2]
        plane = src.reshape(h, w) if channels == 1 else src
        levels = np.arange(256, dtype=np.float64)[:, None] / 255.0
        paint = np.clip(np.rint(levels * np.atleast_1d(colour)[None, :]), 0, 255).astype(np.uint8)
        painted = _paint_planes(coverage, paint)
        # Fresh image-sized buffers cost page faults: the steps below write into ones they own.
        uncovered = cv2.bitwise_not(coverage, dst=coverage)  # on one plane, before merging
        weights = uncovered if channels == 1 else cv2.merge([uncovered] * channels)
        # darkened scene * (1 - coverage), in one saturating multiply
        kept = cv2.multiply(plane, weights, dst=weights, scale=brightness_coefficient / 255.0)
        return np.asarray(cv2.add(kept, painted, dst=kept)).reshape(img.shape)
    f = np.clip(img * np.float32(brightness_coefficient), 0.0, 1.0).astype(np.float32)
    diff = f - colour
    diff *= coverage[..., None] if f.ndim == 3 else coverage
    f -= diff  # scene * (1 - coverage) + colour * coverage: a convex mix, already in range
    return np.clip(f, 0.0, 1.0, out=f)


def _paint_planes(coverage: np.ndarray, paint: np.ndarray) -> np.ndarray:
    """``paint[coverage, c]`` for every channel ``c`` of the ``(256, C)`` table, as an image.

    Each distinct channel table is looked up once on the single coverage plane (a 1-channel byte
    lookup) and the planes merged: cheaper than a 3-channel lookup on the merged coverage, and a
    gray drop colour costs one lookup.
    """
    planes: dict[bytes, np.ndarray] = {}
    columns = [np.ascontiguousarray(paint[:, c]) for c in range(paint.shape[1])]
    for column in columns:
        key = column.tobytes()
        if key not in planes:
            planes[key] = apply_lut(coverage, column)
    if len(columns) == 1:
        return planes[columns[0].tobytes()]
    return np.asarray(cv2.merge([planes[column.tobytes()] for column in columns]))


# -- snow ----------------------------------------------------------------------------------------


def _lightness(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return img.astype(np.float32)
    if img.shape[2] == 1:
        return img[..., 0].astype(np.float32)
    f = img.astype(np.float32)
    return (f.max(axis=2) + f.min(axis=2)) * 0.5


def snow_bleach(img: np.ndarray, snow_point: float, brightness_coeff: float) -> np.ndarray:
    """Brighten pixels whose HLS lightness is below a threshold by ``brightness_coeff``.

    The threshold is ``(snow_point / 2 + 1/3)`` of full intensity. Hue and saturation are kept.
    """
    top = white(img.dtype)
    threshold = (snow_point / 2.0 + 1.0 / 3.0) * top
    if img.dtype == np.uint8:
        levels = np.arange(256, dtype=np.float64)
        table = np.where(levels < threshold, np.minimum(levels * brightness_coeff, 255.0), levels)
        lut = np.clip(np.rint(table), 0, 255).astype(np.uint8)
        if img.ndim == 3 and img.shape[2] == 3:
            hls = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2HLS)
            hls[..., 1] = cv2.LUT(hls[..., 1], lut)
            return cv2.cvtColor(hls, cv2.COLOR_HLS2RGB)
        return cv2.LUT(np.ascontiguousarray(img), lut).reshape(img.shape)
    if img.ndim == 3 and img.shape[2] == 3:
        hls = cv2.cvtColor(img.astype(np.float32) / np.float32(top), cv2.COLOR_RGB2HLS)
        light = hls[..., 1]
        sel = light * top < threshold
        light[sel] = np.minimum(light[sel] * brightness_coeff, 1.0)
        rgb = cv2.cvtColor(hls, cv2.COLOR_HLS2RGB) * np.float32(top)
        return to_dtype(rgb, img.dtype)
    f = img.astype(np.float32)
    sel = f < threshold
    f[sel] = f[sel] * brightness_coeff
    return to_dtype(f, img.dtype)


#: Cells of the coarse and the fine noise grids of the snow texture.
SNOW_CELLS = (24, 96)


def snow_texture(
    img: np.ndarray,
    snow_point: float,
    brightness_coeff: float,
    coarse: np.ndarray,
    fine: np.ndarray,
    sparkle: np.ndarray,
) -> np.ndarray:
    """Cover the image with a soft snow layer: brighter overall, a smooth white texture denser at
    the top, a cold blue tint and a few sparkles.

    ``coarse`` and ``fine`` are noise grids in [0, 1] (shapes from :func:`noise_grid_shape` with
    ``SNOW_CELLS``); ``sparkle`` is an ``(H, W)`` field in [0, 1] whose top 0.2% become sparkles.
    """
    h, w = img.shape[:2]
    top = white(img.dtype)
    f = img.astype(np.float32)
    f = f + (top - f) * np.float32(min(1.0, snow_point * (brightness_coeff - 1.0) / 2.0 + snow_point / 2.0))
    texture = smooth_noise(coarse, (h, w)) * 0.6 + smooth_noise(fine, (h, w)) * 0.4
    depth = np.linspace(1.0, 0.6, h, dtype=np.float32)[:, None]
    alpha = np.clip((texture * depth - (1.0 - snow_point * 2.0)) * 2.0, 0.0, 0.85).astype(np.float32)
    alpha[sparkle > 0.998] = 1.0
    tint = np.array([0.93, 0.96, 1.0], np.float32) * top
    overlay = tint if f.ndim == 3 and f.shape[2] == 3 else np.float32(0.96 * top)
    return to_dtype(blend(f, overlay, alpha), img.dtype)


# -- fog -----------------------------------------------------------------------------------------


#: Cells of the fog's noise grid.
FOG_CELLS = 8


def fog(img: np.ndarray, fog_coef: float, alpha_coef: float, grid: np.ndarray) -> np.ndarray:
    """Blend the image towards white through a patchy haze and blur it.

    The haze opacity at a pixel is ``1 - (1 - alpha_coef) ** n``, as if ``n`` translucent fog
    puffs overlapped there; ``n`` is about ``20 * fog_coef``, modulated by smooth noise. The blur
    radius grows with ``fog_coef`` and the image size. ``grid`` is the noise grid in [0, 1]
    (shape from :func:`noise_grid_shape` with ``FOG_CELLS``).
    """
    h, w = img.shape[:2]
    puffs = np.float32(20.0 * fog_coef) * (0.5 + smooth_noise(grid, (h, w)))
    alpha = 1.0 - np.power(np.float32(1.0 - alpha_coef), puffs)
    k = int(min(h, w) * fog_coef / 50.0) * 2 + 1
    base = img
    if k >= 3:
        base = cv2.GaussianBlur(np.ascontiguousarray(img), (k, k), 0)
        if img.ndim == 3 and base.ndim == 2:
            base = base[..., None]
    return to_dtype(blend(base, white(img.dtype), alpha.astype(np.float32)), img.dtype)


# -- sun flare -----------------------------------------------------------------------------------


def sun_flare_overlay(
    img: np.ndarray,
    center: Sequence[float],
    src_radius: int,
    src_color: Sequence[float],
    circles: Sequence[Sequence[float]],
) -> np.ndarray:
    """Alpha-blend translucent flare circles ``(x, y, radius, alpha, r, g, b)`` and a bright sun.

    The sun is a radial glow of ``src_color`` whose opacity falls from 1 at ``center`` to 0 at
    ``src_radius`` pixels.
    """
    out: np.ndarray = img.astype(np.float32)
    h, w = out.shape[:2]
    for x, y, radius, alpha, *rgb in circles:
        r = max(1, round(radius))
        cx, cy = round(x), round(y)
        x0, y0, x1, y1 = max(cx - r - 1, 0), max(cy - r - 1, 0), min(cx + r + 2, w), min(cy + r + 2, h)
        if x0 >= x1 or y0 >= y1:
            continue
        region = out[y0:y1, x0:x1]  # only the circle's box is blended
        layer = region.copy()
        colour = tuple(float(v) for v in np.atleast_1d(color_for(img, rgb)))
        cv2.circle(layer, (cx - x0, cy - y0), r, colour, -1, lineType=cv2.LINE_AA)
        mixed = cv2.addWeighted(layer, float(alpha), region, 1.0 - float(alpha), 0.0)
        out[y0:y1, x0:x1] = mixed.reshape(region.shape)
    out = _glow(out, img, center, src_radius, src_color, power=1.0)
    return to_dtype(out, img.dtype)


def _glow(
    out: np.ndarray,
    img: np.ndarray,
    center: Sequence[float],
    radius: float,
    color: Sequence[float],
    power: float,
) -> np.ndarray:
    h, w = out.shape[:2]
    cx, cy = float(center[0]), float(center[1])
    r = max(float(radius), 1.0)
    x0, x1 = max(0, int(cx - r)), min(w, int(cx + r) + 1)
    y0, y1 = max(0, int(cy - r)), min(h, int(cy + r) + 1)
    if x0 >= x1 or y0 >= y1:
        return out
    yy, xx = np.ogrid[y0:y1, x0:x1]
    d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2, dtype=np.float32) / np.float32(r)
    alpha = np.clip(1.0 - d, 0.0, 1.0) ** np.float32(power)
    out[y0:y1, x0:x1] = blend(out[y0:y1, x0:x1], color_for(img, color), alpha.astype(np.float32))
    return out


def sun_flare_physics(
    img: np.ndarray,
    center: Sequence[float],
    src_radius: int,
    src_color: Sequence[float],
    circles: Sequence[Sequence[float]],
    angle: float,
) -> np.ndarray:
    """A lens-flare model added with a screen blend: a soft core, a wide halo, a starburst of rays
    through the centre and ghost discs (the ``circles``) along the flare axis."""
    h, w = img.shape[:2]
    cx, cy = float(center[0]), float(center[1])
    r = max(float(src_radius), 1.0)
    yy, xx = np.ogrid[0:h, 0:w]
    dx = (xx - cx).astype(np.float32)
    dy = (yy - cy).astype(np.float32)
    d = np.sqrt(dx * dx + dy * dy)
    light = np.exp(-((d / np.float32(0.25 * r)) ** 2)) + 0.35 * np.exp(-d / np.float32(r))
    theta = np.arctan2(dy, dx) - np.float32(angle)
    rays = np.abs(np.cos(3.0 * theta)) ** 40 * np.exp(-d / np.float32(0.8 * r))
    light = light + 0.5 * rays
    ghosts = np.zeros((h, w), np.float32)
    for x, y, radius, alpha, *_ in circles:
        cv2.circle(ghosts, (round(x), round(y)), max(1, round(radius)), float(alpha), -1, cv2.LINE_AA)
    light = light + cv2.GaussianBlur(ghosts, (0, 0), 2.0)
    light = np.clip(light, 0.0, 1.0).astype(np.float32)
    top = white(img.dtype)
    colour = color_for(img, src_color) / np.float32(top)
    f = img.astype(np.float32) / np.float32(top)
    add = light[..., None] * colour if img.ndim == 3 else light * colour
    screen = 1.0 - (1.0 - f) * (1.0 - add)
    return to_dtype(screen * np.float32(top), img.dtype)


# -- shadow, gravel ------------------------------------------------------------------------------


def polygon_mask(shape: tuple[int, int], polygons: Sequence[np.ndarray]) -> np.ndarray:
    """A uint8 ``(H, W)`` mask with each integer ``(K, 2)`` polygon filled with 1."""
    mask = np.zeros(shape, np.uint8)
    for poly in polygons:
        cv2.fillPoly(mask, [np.asarray(poly, np.int32).reshape(-1, 1, 2)], 1)
    return mask


def shadow(img: np.ndarray, polygons: Sequence[np.ndarray], intensities: Sequence[float]) -> np.ndarray:
    """Darken each polygon: pixels inside are multiplied by ``1 - intensity`` (overlaps compound)."""
    factor = np.ones(img.shape[:2], np.float32)
    for poly, intensity in zip(polygons, intensities):
        inside = polygon_mask(img.shape[:2], [poly]).astype(bool)
        factor[inside] *= np.float32(1.0 - intensity)
    return scale_pixels(img, factor)


def gravel_stone_count(patch: Sequence[int]) -> int:
    """How many stones a patch ``(x0, y0, x1, y1)`` gets: one per 40 pixels, at least one."""
    x0, y0, x1, y1 = patch
    return max(1, max(1, (x1 - x0) * (y1 - y0)) // 40)


def gravel(img: np.ndarray, stones: np.ndarray) -> np.ndarray:
    """Draw small grey-brown stones: ``stones`` is ``(N, 5)``, one row ``(x, y, radius, tone,
    warmth)`` per stone, with the grey ``tone`` in [0, 1] and ``warmth`` the red/blue balance
    (red ``tone * warmth``, blue ``tone / warmth``)."""
    out = np.ascontiguousarray(img).copy()
    top = white(img.dtype)
    channels = 1 if img.ndim == 2 else img.shape[2]
    stones = np.asarray(stones, np.float64).reshape(-1, 5)
    tones, warmth = stones[:, 3], stones[:, 4]
    rgb = np.stack([tones * warmth, tones, tones / warmth], axis=1) * top
    colours = rgb.mean(axis=1, keepdims=True) if channels == 1 else rgb[:, np.arange(channels) % 3]
    for (x, y, r), colour in zip(stones[:, :3].astype(np.int64).tolist(), colours.tolist()):
        cv2.circle(out, (x, y), r, colour, -1, lineType=cv2.LINE_AA)
    return out


# -- spatter -------------------------------------------------------------------------------------


def spatter_layer(noise: np.ndarray, mean: float, std: float, sigma: float, threshold: float) -> np.ndarray:
    """The liquid layer: standard normal ``noise`` scaled to ``N(mean, std)``, blurred by
    ``sigma``, zero below ``threshold``. Returns float32 ``(H, W)``."""
    layer: np.ndarray = noise.astype(np.float32, copy=False) * np.float32(std) + np.float32(mean)
    if sigma > 0:
        layer = cv2.GaussianBlur(layer, (0, 0), float(sigma))
    layer[layer < threshold] = 0.0
    return layer


def spatter(
    img: np.ndarray,
    mode: str,
    mean: float,
    std: float,
    sigma: float,
    threshold: float,
    intensity: float,
    color: Sequence[float],
    noise: np.ndarray,
) -> np.ndarray:
    """Drops of rain (clear, lens-blurred, tinted) or splashes of mud (opaque) on the lens.

    ``noise`` is an ``(H, W)`` standard normal field (see :func:`spatter_layer`)."""
    layer = spatter_layer(noise, mean, std, sigma, threshold)
    f = img.astype(np.float32)
    colour = color_for(img, color)
    if mode == "rain":
        drops = (layer > 0).astype(np.float32)
        alpha = cv2.GaussianBlur(drops, (0, 0), 1.5) * np.float32(intensity)
        lens = cv2.GaussianBlur(np.ascontiguousarray(img), (0, 0), 3.0).astype(np.float32)
        if f.ndim == 3 and lens.ndim == 2:
            lens = lens[..., None]
        tinted = lens * 0.6 + colour * 0.4
        return to_dtype(blend(f, tinted, alpha), img.dtype)
    m = layer / np.float32(max(float(layer.max()), 1e-6))
    alpha = cv2.GaussianBlur(m, (0, 0), 1.0) * np.float32(intensity)
    alpha = np.clip(alpha * 1.5, 0.0, 1.0).astype(np.float32)
    return to_dtype(blend(f, colour, alpha), img.dtype)


# -- illumination and plasma ---------------------------------------------------------------------


def linear_pattern(shape: tuple[int, int], angle_deg: float) -> np.ndarray:
    """A ramp from 0 to 1 along the direction ``angle_deg`` (0: left to right, 90: top to bottom)."""
    h, w = shape
    a = np.deg2rad(angle_deg)
    xs = np.linspace(-0.5, 0.5, w, dtype=np.float32)[None, :]
    ys = np.linspace(-0.5, 0.5, h, dtype=np.float32)[:, None]
    proj = xs * np.float32(np.cos(a)) + ys * np.float32(np.sin(a))
    span = 0.5 * (abs(np.cos(a)) + abs(np.sin(a)))
    out: np.ndarray = (proj / np.float32(2.0 * span) + 0.5).astype(np.float32)
    return out


def corner_pattern(shape: tuple[int, int], corner: int) -> np.ndarray:
    """1 at a corner (0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left), falling to 0 at the
    opposite corner."""
    h, w = shape
    cx = 0.0 if corner in (0, 3) else w - 1.0
    cy = 0.0 if corner in (0, 1) else h - 1.0
    yy, xx = np.ogrid[0:h, 0:w]
    d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2).astype(np.float32)
    out: np.ndarray = 1.0 - d / np.float32(max(np.hypot(h - 1, w - 1), 1.0))
    return out


def gaussian_pattern(shape: tuple[int, int], center: Sequence[float], sigma: float) -> np.ndarray:
    """A Gaussian spot at the relative ``center`` (x, y) with ``sigma`` times the image size."""
    h, w = shape
    s = np.float32(max(sigma * max(h, w), 1e-3))
    gx = np.exp(-(((np.arange(w, dtype=np.float32) - center[0] * (w - 1)) / s) ** 2) / 2)
    gy = np.exp(-(((np.arange(h, dtype=np.float32) - center[1] * (h - 1)) / s) ** 2) / 2)
    out: np.ndarray = np.outer(gy, gx).astype(np.float32)
    return out


def illuminate(img: np.ndarray, pattern: np.ndarray, intensity: float) -> np.ndarray:
    """Multiply each pixel by ``1 + intensity * pattern`` (a negative intensity darkens)."""
    return scale_pixels(img, 1.0 + np.float32(intensity) * pattern)


def plasma_spectrum_shape(size: int) -> tuple[int, int]:
    """The shape of the half spectrum of a ``(size, size)`` plasma field (for its random inputs)."""
    return size, size // 2 + 1


def plasma(size: int, roughness: float, phases: np.ndarray, magnitudes: np.ndarray) -> np.ndarray:
    """A ``(size, size)`` fractal plasma field in [0, 1] (spectral synthesis).

    The amplitude of frequency ``f`` falls as ``f ** -(1 + 2 / roughness)`` (fBm); a larger
    ``roughness`` keeps more fine detail. ``phases`` (fractions of a turn, in [0, 1)) and
    ``magnitudes`` (Rayleigh factors) are the random inputs, each of
    :func:`plasma_spectrum_shape`.
    """
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    # Relative to the lowest frequency, so the power stays in (0, 1] and cannot overflow to inf
    # for a small roughness (the field is normalized below, so the scale does not matter).
    amplitude = (f / f.min()) ** -(1.0 + 2.0 / max(roughness, 1e-3))
    amplitude[0, 0] = 0.0
    spectrum = amplitude * np.exp(2j * np.pi * phases) * magnitudes
    field = np.fft.irfft2(spectrum, s=(size, size))
    lo, hi = float(field.min()), float(field.max())
    out: np.ndarray = ((field - lo) / max(hi - lo, 1e-12)).astype(np.float32)
    return out


def plasma_for(
    shape: tuple[int, int], size: int, roughness: float, phases: np.ndarray, magnitudes: np.ndarray
) -> np.ndarray:
    """A plasma field generated at ``size`` (see :func:`plasma`) and resized to ``shape``."""
    field = plasma(size, roughness, phases, magnitudes)
    h, w = shape
    if field.shape != (h, w):
        field = cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)
    return field


def plasma_brightness_contrast(
    img: np.ndarray, field: np.ndarray, brightness: float, contrast: float
) -> np.ndarray:
    """``out = (img - mean) * (1 + contrast * field) + mean + brightness * field * white``."""
    f = img.astype(np.float32)
    mean = f.mean(axis=(0, 1), keepdims=True) if f.ndim == 3 else np.float32(f.mean())
    pf = field[..., None] if f.ndim == 3 else field
    out = (
        (f - mean) * (1.0 + np.float32(contrast) * pf) + mean + np.float32(brightness * white(img.dtype)) * pf
    )
    return to_dtype(out, img.dtype)


# -- H&E stain -----------------------------------------------------------------------------------


_OD_LUT = -np.log(np.maximum(np.arange(256, dtype=np.float64), 1.0) / 255.0).astype(np.float32)


def optical_density(img: np.ndarray) -> np.ndarray:
    """Beer-Lambert optical density ``-log(I / white)`` of an RGB image, ``(H*W, 3)`` float32."""
    if img.dtype == np.uint8:
        return _OD_LUT[img.reshape(-1, 3)]
    f = img.reshape(-1, 3).astype(np.float32)
    out: np.ndarray = -np.log(np.maximum(f, np.float32(1.0 / 255.0)))
    return out


def macenko_matrix(img: np.ndarray, alpha: float = 1.0, beta: float = 0.15) -> np.ndarray:
    """Estimate the 2x3 H&E stain matrix of an RGB image (Macenko et al., 2009): the plane of the
    two main optical-density directions of tissue pixels, then the extreme angles in it."""
    od = optical_density(img)
    tissue = od[np.all(od > beta, axis=1)]
    if len(tissue) < 10:
        tissue = od
    cov = np.cov(tissue.T.astype(np.float64))
    _, vecs = np.linalg.eigh(cov)
    plane = vecs[:, [2, 1]]
    plane[:, 0] *= np.sign(plane[:, 0].sum()) or 1.0
    plane[:, 1] *= np.sign(plane[:, 1].sum()) or 1.0
    proj = tissue @ plane
    phi = np.arctan2(proj[:, 1], proj[:, 0])
    lo, hi = np.percentile(phi, [alpha, 100 - alpha])
    v1 = plane @ np.array([np.cos(lo), np.sin(lo)])
    v2 = plane @ np.array([np.cos(hi), np.sin(hi)])
    he = np.stack([v1, v2]) if v1[0] > v2[0] else np.stack([v2, v1])
    he = np.abs(he)
    out: np.ndarray = he / np.linalg.norm(he, axis=1, keepdims=True)
    return out


def he_stain(
    img: np.ndarray,
    stain_matrix: np.ndarray,
    scale: Sequence[float],
    shift: Sequence[float],
    augment_background: bool,
) -> np.ndarray:
    """Unmix H and E concentrations with ``stain_matrix`` (2x3 optical-density rows), scale and
    shift them, and mix back; what the two stains do not explain is kept. Bright background
    (mean intensity > 0.8 of white) is kept unless ``augment_background``.

    With ``c = od @ pinv(M)``, the new density ``(c * s + t) @ M + (od - c @ M)`` is the affine map
    ``od @ (I + pinv(M) (diag(s) - I) M) + t @ M``, applied to every pixel with ``cv2.transform``.
    """
    m = np.asarray(stain_matrix, np.float64).reshape(2, 3)
    m = m / np.linalg.norm(m, axis=1, keepdims=True)
    linear = np.eye(3) + np.linalg.pinv(m) @ (np.diag(np.asarray(scale, np.float64)) - np.eye(2)) @ m
    offset = np.asarray(shift, np.float64) @ m
    top = white(img.dtype)
    od = optical_density(img).reshape(img.shape[0], img.shape[1], 3)
    affine = np.concatenate([linear.T, offset[:, None]], axis=1).astype(np.float32)
    new_od = cv2.transform(od, affine)
    rgb = cv2.exp(-new_od) * np.float32(top)
    if not augment_background:
        background = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) > 0.8 * top
        rgb[background] = img[background]
    return to_dtype(rgb, img.dtype)
