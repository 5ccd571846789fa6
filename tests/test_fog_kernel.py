"""AtmosphericFog's kernel in OpenCV passes must stay Koschmieder's law,
``img * t + airlight * (1 - t)`` with ``t = exp(-density * depth)``, to within one level."""

from __future__ import annotations

import numpy as np
import pytest

from invariance.kernels import optics


def koschmieder(img: np.ndarray, density: float, depth: np.ndarray, airlight: np.ndarray) -> np.ndarray:
    t = np.exp(-density * depth.astype(np.float64))
    if img.ndim == 3:
        t = t[..., None]
    out = img.astype(np.float64) * t + airlight * (1.0 - t)
    if img.dtype == np.uint8:
        return np.clip(np.rint(out), 0, 255)
    return np.clip(out, 0.0, 1.0)


@pytest.mark.parametrize(
    "shape", [(60, 70), (60, 70, 1), (60, 70, 3), (60, 70, 4), (60, 70, 6), (1, 1, 4), (4, 1), (2, 2, 3)]
)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("mode", ["linear", "diagonal", "radial"])
def test_fog_follows_koschmieder(shape: tuple[int, ...], dtype: type, mode: str) -> None:
    rng = np.random.default_rng(1)
    white = 255.0 if dtype == np.uint8 else 1.0
    image = (rng.random(shape) * white).astype(dtype)
    before = image.copy()
    channels = 1 if len(shape) == 2 else shape[2]
    airlight = (rng.uniform(0.6, 1.0, channels) * white).astype(np.float32)
    depth = optics.synthetic_depth(shape[:2], mode)
    for density in (0.1, 1.0, 3.0):
        out = optics.atmospheric_fog(image, density, depth, airlight)
        assert out.shape == image.shape and out.dtype == image.dtype
        expected = koschmieder(image, density, depth, airlight)
        tolerance = 1.0 if dtype == np.uint8 else 1e-5
        assert np.abs(out.astype(np.float64) - expected).max() <= tolerance
        if dtype == np.uint8:
            assert (out != expected).mean() < 0.01  # off by one only where rounding ties differ
    np.testing.assert_array_equal(image, before)
