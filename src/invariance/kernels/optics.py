"""Atmosphere and lens optics: depth-dependent haze (Koschmieder's scattering law) and lens flare
(a source's bloom, its diffraction starburst and the ghosts of internal reflections)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from invariance.kernels._cv import restore_channel_axis, scratch
from invariance.kernels.weather import to_dtype, white


def synthetic_depth(shape: tuple[int, int], mode: str) -> np.ndarray:
    """An ``(H, W)`` relative depth in [0, 1] from position alone.

    ``linear``: the top row is farthest (1), the bottom nearest (0), like sky above ground.
    ``diagonal``: the top-left corner is farthest, the bottom-right nearest. ``radial``: the
    centre is nearest, the corners farthest.
    """
    h, w = shape
    ys = np.linspace(1.0, 0.0, h, dtype=np.float32) if h > 1 else np.ones(1, np.float32)
    xs = np.linspace(1.0, 0.0, w, dtype=np.float32) if w > 1 else np.ones(1, np.float32)
    if mode == "linear":
        return np.repeat(ys[:, None], w, axis=1)
    if mode == "diagonal":
        return np.add.outer(ys, xs) * np.float32(0.5)
    u = np.linspace(-1.0, 1.0, w, dtype=np.float32) if w > 1 else np.zeros(1, np.float32)
    v = np.linspace(-1.0, 1.0, h, dtype=np.float32) if h > 1 else np.zeros(1, np.float32)
    radius = np.sqrt(np.add.outer(v * v, u * u)) * np.float32(1.0 / np.sqrt(2.0))
    return radius.astype(np.float32)


def atmospheric_fog(img: np.ndarray, density: float, depth: np.ndarray, fog_color: np.ndarray) -> np.ndarray:
    """Koschmieder's law: ``out = img * t + airlight * (1 - t)``, transmission ``t = exp(-density * depth)``.

    ``fog_color`` is the airlight, one value per channel in the image's scale.
    """
    t = np.exp(-np.float32(density) * depth).astype(np.float32)
    channels = 1 if img.ndim == 2 else img.shape[2]
    if channels <= 4 and depth.size >= 16:  # OpenCV reads a tiny array as a scalar: numpy there
        # ``airlight + (img - airlight) * t`` in three OpenCV passes (float32, rounded and saturated
        # to uint8 by the last), about 6x faster than numpy's broadcast temporaries; rounding
        # order differs from the formula above by at most one level on a few pixels (tested).
        values = np.broadcast_to(np.asarray(fog_color, np.float64).reshape(-1), (channels,))
        airlight = tuple(float(v) for v in values) + (0.0,) * (4 - channels)
        # The two float temporaries go to reused buffers (fresh ones cost page faults per call).
        shape = img.shape[:2] if channels == 1 else (*img.shape[:2], channels)
        weight = (
            t if channels == 1 else cv2.merge([t] * channels, dst=scratch("fog-weight", shape, np.float32))
        )
        buffer = scratch("fog-diff", shape, np.float32)
        diff = cv2.subtract(img, airlight, dst=buffer, dtype=cv2.CV_32F)  # type: ignore[call-overload]
        cv2.multiply(diff, weight.reshape(diff.shape), dst=diff)
        if img.dtype == np.uint8:
            # The sum lies in [0, 255] (a blend of the image and the airlight), so OpenCV's
            # rounding, saturating absolute value converts it as a plain rounding, in one
            # single-channel pass: cv2.add with a scalar into uint8 is 10-30x slower than a float
            # add and this conversion on a multi-channel Mat.
            cv2.add(diff, airlight, dst=diff)
            rows = diff.reshape(img.shape[0], -1)
            return cv2.convertScaleAbs(rows).reshape(img.shape)
        out = restore_channel_axis(cv2.add(diff, airlight, dtype=cv2.CV_32F), img)
        return to_dtype(out, img.dtype)
    if img.ndim == 3:
        t = t[..., None]
    out = img.astype(np.float32) * t + fog_color * (np.float32(1.0) - t)
    return to_dtype(out, img.dtype)


def flare_layer(
    shape: tuple[int, int],
    source: Sequence[float],
    bloom_sigma: float,
    rays: Sequence[Sequence[float]],
    ghosts: Sequence[Sequence[float]],
) -> np.ndarray:
    """The light a flare adds, ``(H, W, 3)`` float32 in relative units (1 = white).

    * bloom: a Gaussian glow of standard deviation ``bloom_sigma`` pixels around the ``source``
      (x, y in pixels) and a halo three times wider at half its strength, the light scattered by
      the glass and the sensor.
    * rays: ``(angle_rad, length_px, width_px)`` spikes from the source, the diffraction
      starburst of the aperture's blades; brightness falls off along the spike.
    * ghosts: ``(x, y, radius, strength, r, g, b)`` soft discs, the out-of-focus images of the
      source that reflections between lens elements form along the line through the optical
      centre; ``r, g, b`` in [0, 1] tint them as the coatings do.
    """
    h, w = shape
    sx, sy = float(source[0]), float(source[1])
    xs = np.arange(w, dtype=np.float32) - np.float32(sx)
    ys = np.arange(h, dtype=np.float32) - np.float32(sy)
    dx2, dy2 = xs * xs, ys * ys
    sigma2 = np.float32(2.0 * max(bloom_sigma, 0.5) ** 2)
    # Both glows are separable: outer products of float32 profiles, the halo's written into a
    # reused buffer and added in place (the halo's half folded into its column profile: exact).
    light = np.multiply.outer(np.exp(-dy2 / sigma2), np.exp(-dx2 / sigma2))
    halo = scratch("flare-halo", (h, w), np.float32)
    np.multiply.outer(np.exp(-dy2 / (sigma2 * 9)) * np.float32(0.5), np.exp(-dx2 / (sigma2 * 9)), out=halo)
    light += halo
    if rays:
        # The spikes live within their reach of the source: draw, fade and soften them in that box
        # (plus the line width and the blur's reach), not over the whole frame.
        reach = max((r[1] for r in rays), default=1.0)
        margin = max((r[2] for r in rays), default=1.0) + 4
        x0, y0 = max(0, int(sx - reach - margin)), max(0, int(sy - reach - margin))
        x1, y1 = min(w, int(np.ceil(sx + reach + margin)) + 1), min(h, int(np.ceil(sy + reach + margin)) + 1)
        if x0 < x1 and y0 < y1:
            spikes = np.zeros((y1 - y0, x1 - x0), np.float32)
            for angle, length, width in rays:
                tip = (sx + np.cos(angle) * length - x0, sy + np.sin(angle) * length - y0)
                cv2.line(
                    spikes, _point((sx - x0, sy - y0)), _point(tip), 1.0, max(1, round(width)), cv2.LINE_AA
                )
            distance = np.sqrt(np.add.outer(dy2[y0:y1], dx2[x0:x1]))
            spikes *= np.clip(1.0 - distance / np.float32(max(reach, 1.0)), 0.0, 1.0)
            light[y0:y1, x0:x1] += cv2.GaussianBlur(spikes, (0, 0), 1.0)
    layer = np.asarray(cv2.cvtColor(light, cv2.COLOR_GRAY2RGB))  # half the time of a merge
    for gx, gy, radius, strength, r, g, b in ghosts or ():
        # Draw and soften each disc inside its own padded box: a whole-frame blur per ghost
        # would cost a full pass each.
        sigma = max(radius * 0.25, 1.0)
        reach_px = int(radius + 3 * sigma) + 2
        x0, y0 = max(0, round(gx) - reach_px), max(0, round(gy) - reach_px)
        x1, y1 = min(w, round(gx) + reach_px + 1), min(h, round(gy) + reach_px + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        disc = np.zeros((y1 - y0, x1 - x0), np.float32)
        cv2.circle(disc, _point((gx - x0, gy - y0)), max(1, round(radius)), float(strength), -1, cv2.LINE_AA)
        soft = np.asarray(cv2.GaussianBlur(disc, (0, 0), sigma), np.float32)
        layer[y0:y1, x0:x1] += soft[..., None] * np.array([r, g, b], np.float32)
    return np.asarray(layer)


def _point(xy: Sequence[float]) -> tuple[int, int]:
    return (round(float(xy[0])), round(float(xy[1])))


def screen_light(img: np.ndarray, layer: np.ndarray, intensity: float) -> np.ndarray:
    """Add light the way a sensor sums it without clipping halos: a screen blend
    ``1 - (1 - img) (1 - intensity * layer)`` (in relative units), per channel.

    A 3-channel layer lights an RGB image channel by channel; other channel counts get the layer's
    mean (grey light).
    """
    scale = np.float32(white(img.dtype))
    light = np.multiply(layer, np.float32(intensity), out=scratch("flare-scaled", layer.shape, np.float32))
    np.clip(light, 0.0, 1.0, out=light)
    channels = 1 if img.ndim == 2 else img.shape[2]
    if channels != 3:
        light = light.mean(axis=2, keepdims=img.ndim == 3)
    if img.dtype == np.uint8:
        # 1 - (1 - b)(1 - l) in levels is img + l (255 - img): two mixed-type passes into a
        # reused buffer and one OpenCV rounding pass (half to even, like np.rint; the values lie
        # in [0, 255]).
        out = np.multiply(
            np.subtract(np.uint8(255), img), light, out=scratch("flare-lit", img.shape, np.float32)
        )
        out += img
        return np.asarray(cv2.convertScaleAbs(out)).reshape(img.shape)
    base = img.astype(np.float32) / scale
    out = 1.0 - (1.0 - base) * (1.0 - light)
    return to_dtype(out * scale, img.dtype)
