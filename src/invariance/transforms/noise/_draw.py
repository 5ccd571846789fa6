"""Vectorized noise draws shared by the noise transforms (float32 wherever numpy allows it)."""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable

import numpy as np

from invariance.kernels.noise import resize_noise

#: Draws float32 noise of a given shape from a Generator.
DrawFn = Callable[[np.random.Generator, tuple[int, int, int]], np.ndarray]


def channels_of(img: np.ndarray) -> int:
    return 1 if img.ndim == 2 else int(img.shape[2])


def reduced_shape(height: int, width: int, factor: float) -> tuple[int, int]:
    """The size at which noise is drawn before being upsampled (``factor`` in (0, 1])."""
    if factor >= 1.0:
        return height, width
    return max(1, round(height * factor)), max(1, round(width * factor))


def draw_map(
    gen: np.random.Generator, height: int, width: int, channels: int, factor: float, draw: DrawFn
) -> np.ndarray:
    """A (height, width, channels) float32 noise map, drawn at a reduced size when ``factor`` < 1."""
    small_h, small_w = reduced_shape(height, width, factor)
    noise = draw(gen, (small_h, small_w, channels))
    return resize_noise(noise, height, width)


def laplace(gen: np.random.Generator, shape: tuple[int, ...], loc: float, scale: float) -> np.ndarray:
    """Laplace samples by inverting the CDF of float32 uniforms."""
    u = gen.random(shape, dtype=np.float32)
    u -= np.float32(0.5)
    magnitude = np.log1p(np.float32(-2.0) * np.minimum(np.abs(u), np.float32(0.49999997)))
    magnitude *= np.float32(-scale)
    return np.copysign(magnitude, u) + np.float32(loc)


# Above this mean, numpy's own Poisson sampler is used (inverse-CDF tables would grow long).
_SMALL_POISSON_MEAN = 30.0


def poisson_scalar(gen: np.random.Generator, lam: float, shape: tuple[int, ...]) -> np.ndarray:
    """Poisson(lam) counts by inverting the CDF of float32 uniforms (exact up to float32 steps).

    For the small means sensor noise uses this is several times faster than ``gen.poisson``.
    """
    if lam <= 0:
        return np.zeros(shape, dtype=np.float32)
    if lam > _SMALL_POISSON_MEAN:
        return gen.poisson(lam, size=shape).astype(np.float32)
    top = int(lam + 12 * np.sqrt(lam) + 12)
    k = np.arange(top + 1, dtype=np.float64)
    log_pmf = k * np.log(lam) - lam - np.cumsum(np.log(np.maximum(k, 1)))
    cdf = np.cumsum(np.exp(log_pmf)).astype(np.float32)
    u = gen.random(shape, dtype=np.float32)
    if lam >= 1.0:
        return np.searchsorted(cdf, u, side="right").astype(np.float32)
    # A small mean gives mostly zeros (u below P(0) = exp(-lam)): search only the rest.
    # The same counts as searching every value.
    out = np.zeros(shape, dtype=np.float32)
    flat_u, flat_out = u.reshape(-1), out.reshape(-1)
    hits = np.flatnonzero(flat_u >= cdf[0])
    flat_out[hits] = np.searchsorted(cdf, flat_u[hits], side="right")
    return out


_NORMAL_LEVELS = 1 << 16


@functools.cache
def _normal_quantiles() -> np.ndarray:
    """The standard normal's quantiles at the 65,536 cell midpoints ``(i + 0.5) / 65536``."""
    dist = statistics.NormalDist()
    return np.array(
        [dist.inv_cdf((i + 0.5) / _NORMAL_LEVELS) for i in range(_NORMAL_LEVELS)], dtype=np.float32
    )


def standard_normal(gen: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal float32 samples, about 3x faster than ``gen.standard_normal``.

    Each sample is the normal quantile of a uniform 16-bit level (inverse-CDF sampling on 65,536
    equally likely levels): the distribution is exact up to that quantization, with tails cut at
    4.3 sigma (probability 1.5e-5), far below what an 8-bit image can show.
    """
    count = int(np.prod(shape))
    raw = gen.bit_generator.random_raw((count + 3) // 4)
    levels = np.asarray(raw).view(np.uint16)[:count]
    return np.take(_normal_quantiles(), levels).reshape(shape)
