"""ElasticTransform's coarse-grid field has the statistics of the full-resolution field.

The full-resolution method (``kd.smooth_displacement`` on ``count x H x W`` noise, gaussian noise
divided by its largest magnitude) is the reference; the transform draws its field on a coarse grid
and upsamples it. Over 200 draws of each, on a 96 x 128 image, we compare the per-pixel standard
deviation (inside, and along the edges, where the replicated border makes the full field
stronger) and the spatial autocorrelation at lags 1 to 16 px along both axes.

Tolerances, against measured differences of at most 1.6% (inner spread), 6% (edge bands) and
0.035 (correlations, at 16 px): the inner spread within 5%, the edge bands within 10% (fewer
independent samples there), each correlation within 0.04. Both sides are seeded, so the test is
deterministic; another seed set moves each figure by about as much as these differences.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import invariance as A
from invariance.core.sample import Sample
from invariance.kernels import distortion as kd

SHAPE = (96, 128)
DRAWS = 200
LAGS = (1, 2, 4, 8, 16)


def _reference_fields(seed: int, sigma: float, alpha: float, distribution: str) -> np.ndarray:
    """The full-resolution method: noise at every pixel, blurred, gaussian scaled to peak 1."""
    rng = np.random.default_rng(seed)
    if distribution == "gaussian":
        noise = rng.standard_normal((2, *SHAPE), dtype=np.float32)
        noise /= np.abs(noise).max()
    else:
        noise = rng.uniform(-1.0, 1.0, (2, *SHAPE)).astype(np.float32)
    return kd.smooth_displacement(noise, sigma, alpha)


def _coarse_fields(seed: int, sigma: float, alpha: float, distribution: str) -> np.ndarray:
    transform = A.ElasticTransform(alpha=alpha, sigma=sigma, noise_distribution=distribution, p=1)
    params = transform.sample(np.random.default_rng(seed), Sample.of(SHAPE))
    map_x, map_y = transform.maps(params, SHAPE)
    h, w = SHAPE
    return np.stack([map_x - np.arange(w, dtype=np.float32), map_y - np.arange(h, dtype=np.float32)[:, None]])


def _statistics(fields: np.ndarray, sigma: float) -> dict[str, float]:
    """Spread inside and along the edges, and autocorrelations, pooled over draws and both fields."""
    f = fields.reshape(-1, *SHAPE).astype(np.float64)  # (draws * 2, H, W)
    var = (f**2).mean(axis=0)
    m = int(3 * sigma)
    inner = var[m:-m, m:-m]
    band = int(max(2, sigma))
    stats = {
        "std_inner": math.sqrt(inner.mean()),
        "std_left": math.sqrt(var[m:-m, :band].mean()),
        "std_top": math.sqrt(var[:band, m:-m].mean()),
        "std_corner": math.sqrt(var[:band, :band].mean()),
    }
    for lag in LAGS:
        across = (f[:, m:-m, m : -m - lag] * f[:, m:-m, m + lag : -m]).mean()
        down = (f[:, m : -m - lag, m:-m] * f[:, m + lag : -m, m:-m]).mean()
        stats[f"corr_x_{lag}"] = across / inner.mean()
        stats[f"corr_y_{lag}"] = down / inner.mean()
    return stats


@pytest.mark.parametrize(
    ("sigma", "alpha", "distribution"),
    [(4.0, 30.0, "gaussian"), (8.0, 50.0, "gaussian"), (6.0, 20.0, "uniform")],
)
def test_coarse_field_matches_the_full_resolution_statistics(sigma, alpha, distribution):
    reference = np.stack([_reference_fields(s, sigma, alpha, distribution) for s in range(DRAWS)])
    coarse = np.stack([_coarse_fields(s, sigma, alpha, distribution) for s in range(DRAWS)])
    want, got = _statistics(reference, sigma), _statistics(coarse, sigma)
    assert abs(coarse.mean()) < 0.05 * want["std_inner"]
    assert got["std_inner"] == pytest.approx(want["std_inner"], rel=0.05)
    for edge in ("std_left", "std_top", "std_corner"):
        assert got[edge] == pytest.approx(want[edge], rel=0.10), edge
    # The replicated border really is stronger: the edge test compares something.
    assert want["std_left"] > 1.3 * want["std_inner"]
    for lag in LAGS:
        for axis in ("x", "y"):
            key = f"corr_{axis}_{lag}"
            assert got[key] == pytest.approx(want[key], abs=0.04), key


def test_coarse_grid_draws_far_fewer_numbers_at_the_benchmark_parameters():
    rows, columns = kd.coarse_shape((512, 512), 5.0)
    assert rows * columns * 10 < 512 * 512


def test_normal_peak_has_the_distribution_of_the_largest_normal_magnitude():
    rng = np.random.default_rng(0)
    count = 3000
    drawn = np.array([np.abs(rng.standard_normal(count)).max() for _ in range(4000)])
    modelled = np.array([kd.normal_peak(u, count) for u in rng.random(4000)])
    for q in (0.1, 0.5, 0.9):
        assert np.quantile(modelled, q) == pytest.approx(np.quantile(drawn, q), rel=0.02)
    assert kd.normal_peak(0.5, 1) == pytest.approx(0.6744898, abs=1e-6)  # the median of |z|


def test_small_sigma_and_approximate_keep_the_full_resolution_draw():
    # Below COARSE_MIN_SIGMA, and with the truncated 17-tap kernel, the old draw is kept bit for bit.
    for kwargs in ({"sigma": 2.0}, {"sigma": 10.0, "approximate": True}):
        transform = A.ElasticTransform(alpha=10.0, **kwargs, p=1)
        params = transform.sample(np.random.default_rng(3), Sample.of(SHAPE))
        map_x, _ = transform.maps(params, SHAPE)
        rng = np.random.default_rng(int(params["seed"]))
        noise = rng.standard_normal((2, *SHAPE), dtype=np.float32)
        noise /= np.abs(noise).max()
        size = 17 if kwargs.get("approximate") else 0
        expected = kd.smooth_displacement(noise, kwargs["sigma"], 10.0, size)[0]
        np.testing.assert_allclose(map_x - np.arange(SHAPE[1]), expected, atol=1e-4)
