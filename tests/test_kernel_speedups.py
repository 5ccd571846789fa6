"""The faster kernel paths give the results of the straightforward ones they replaced."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from invariance.kernels import color as kc
from invariance.kernels import effects as ke
from invariance.kernels import noise as kn
from invariance.kernels import optics as ko
from invariance.kernels import tone as kt
from invariance.transforms.noise._draw import poisson_scalar


@pytest.mark.parametrize("channels", [2, 3, 4])
def test_per_channel_gains_match_the_rounded_saturated_product(channels):
    rng = np.random.default_rng(channels)
    img = rng.integers(0, 256, (37, 53, channels), dtype=np.uint8)
    for _ in range(20):
        gains = rng.uniform(0.2, 2.5, channels)
        expected = np.clip(np.rint(img.astype(np.float64) * gains), 0, 255).astype(np.uint8)
        got = kc.multiply_per_channel(img, gains.tolist())
        # OpenCV multiplies in float32: a product within ~1e-5 of a half rounds the other way.
        assert np.abs(got.astype(int) - expected).max() <= 1
        assert (got != expected).mean() < 0.005


@pytest.mark.parametrize("lam", [0.003, 0.07, 0.5, 0.99, 3.0])
def test_small_mean_poisson_gives_the_counts_of_a_full_search(lam):
    counts = poisson_scalar(np.random.default_rng(11), lam, (64, 80))
    u = np.random.default_rng(11).random((64, 80), dtype=np.float32)
    top = int(lam + 12 * np.sqrt(lam) + 12)
    k = np.arange(top + 1, dtype=np.float64)
    cdf = np.cumsum(np.exp(k * np.log(lam) - lam - np.cumsum(np.log(np.maximum(k, 1))))).astype(np.float32)
    np.testing.assert_array_equal(counts, np.searchsorted(cdf, u, side="right").astype(np.float32))
    assert counts.mean() == pytest.approx(lam, rel=0.25, abs=0.002)


def test_iso_noise_uint8_within_one_level_of_the_float_reference():
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    hue = rng.normal(0, 8, (48, 64)).astype(np.float32)  # crosses 0 degrees: negative hues
    lum = (rng.poisson(0.3, (48, 64)) * 0.4).astype(np.float32)
    hls = cv2.cvtColor(img.astype(np.float32) / 255, cv2.COLOR_RGB2HLS)
    hls[:, :, 0] += hue
    hls[:, :, 1] += lum * (1 - hls[:, :, 1])
    reference = np.clip(cv2.cvtColor(hls, cv2.COLOR_HLS2RGB) * 255 + 0.5, 0, 255).astype(np.uint8)
    got = kn.iso_noise(img, hue, lum)
    assert np.abs(got.astype(int) - reference).max() <= 1
    assert (got != reference).mean() < 0.01


@pytest.mark.parametrize(
    ("shape", "bits"),
    [
        ((30, 40, 3), [4, 3, 5]),
        ((30, 40, 3), [2]),
        ((30, 40), [3]),
        ((30, 40, 1), [0]),
        ((30, 40, 4), [1, 2, 3, 8]),
        ((30, 40, 5), [1, 2, 3, 4, 5]),
    ],
)
def test_posterize_mask_gives_the_table_result(shape, bits):
    img = np.random.default_rng(len(bits)).integers(0, 256, shape, dtype=np.uint8)
    channels = 1 if len(shape) == 2 else shape[2]
    per_channel = bits if len(bits) > 1 else bits * channels
    expected = np.stack(
        [kt.posterize_table(b)[img.reshape(-1, channels)[:, c]] for c, b in enumerate(per_channel)], axis=1
    ).reshape(shape)
    np.testing.assert_array_equal(kt.posterize(img, bits), expected)


@pytest.mark.parametrize("shape", [(20, 30), (20, 30, 1), (20, 30, 3)])
def test_scalar_multiplicative_noise_through_the_shared_table(shape):
    img = np.random.default_rng(4).integers(0, 256, shape, dtype=np.uint8)
    for factor in (0.0, 0.93, 1.07, 3.0):
        expected = np.clip(img * np.float32(factor) + np.float32(0.5), 0, 255).astype(np.uint8)
        np.testing.assert_array_equal(kn.multiply(img, np.array([factor], np.float32)), expected)


@pytest.mark.parametrize("shape", [(37, 53, 3), (37, 53), (40, 48, 1), (33, 31, 5)])
@pytest.mark.parametrize(("n_colors", "matrix_size"), [(2, 2), (2, 4), (2, 16), (3, 4), (7, 8), (256, 16)])
def test_ordered_dither_lookup_gives_the_float_formula_bytes(shape, n_colors, matrix_size):
    img = np.random.default_rng(n_colors).integers(0, 256, shape, dtype=np.uint8)
    h, w = shape[:2]
    thresholds = np.tile(ke.bayer_matrix(matrix_size), (-(-h // matrix_size), -(-w // matrix_size)))[:h, :w]
    expected = ke._ordered_float(img, n_colors, thresholds[..., None] if img.ndim == 3 else thresholds)
    got = ke.ordered_dither(img, n_colors, matrix_size)
    assert got.shape == img.shape and got.dtype == np.uint8
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [((31, 45, 3), np.uint8), ((31, 45), np.uint8), ((31, 45, 4), np.float32), ((9, 7, 6), np.uint8)],
)
def test_exposure_mean_agrees_with_numpy(shape, dtype):
    rng = np.random.default_rng(1)
    img = (
        rng.integers(0, 256, shape).astype(np.uint8)
        if dtype == np.uint8
        else rng.random(shape, dtype=np.float32)
    )
    assert ke._global_mean(img) == pytest.approx(float(img.mean(dtype=np.float64)), rel=1e-6)


def test_screen_light_uint8_gives_the_float_formula_rounded():
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    layer = rng.random((40, 50, 3), dtype=np.float32) * 1.5
    base = img.astype(np.float32) / 255
    light = np.clip(layer * np.float32(0.7), 0, 1)
    expected = np.clip(np.rint((1 - (1 - base) * (1 - light)) * 255), 0, 255).astype(np.uint8)
    got = ko.screen_light(img, layer, 0.7)
    assert np.abs(got.astype(int) - expected).max() <= 1
    assert (got != expected).mean() < 0.002


@pytest.mark.parametrize("source", [(30.0, 25.0), (2.0, 3.0), (70.0, 5.0)])
def test_flare_spikes_drawn_in_their_box_equal_the_whole_frame(source):
    shape, rays = (48, 72), [(0.3, 25.0, 2.0), (2.0, 18.0, 1.0), (4.0, 30.0, 3.0)]
    h, w = shape
    sx, sy = source
    spikes = np.zeros(shape, np.float32)
    for angle, length, width in rays:
        tip = (round(sx + np.cos(angle) * length), round(sy + np.sin(angle) * length))
        cv2.line(spikes, (round(sx), round(sy)), tip, 1.0, max(1, round(width)), cv2.LINE_AA)
    xs, ys = np.arange(w, dtype=np.float32) - sx, np.arange(h, dtype=np.float32) - sy
    spikes *= np.clip(1.0 - np.sqrt(np.add.outer(ys * ys, xs * xs)) / np.float32(30.0), 0.0, 1.0)
    without = ko.flare_layer(shape, source, 4.0, [], [])
    with_rays = ko.flare_layer(shape, source, 4.0, rays, [])
    np.testing.assert_allclose(
        with_rays[..., 0] - without[..., 0], cv2.GaussianBlur(spikes, (0, 0), 1.0), atol=1e-5
    )


@pytest.mark.parametrize("shape", [(31, 45), (31, 45, 1), (31, 45, 3), (31, 45, 4), (20, 23, 5)])
@pytest.mark.parametrize(
    "border", [cv2.BORDER_CONSTANT, cv2.BORDER_REPLICATE, cv2.BORDER_REFLECT, cv2.BORDER_REFLECT_101]
)
def test_uint8_correlation_through_float32_gives_opencvs_uint8_bytes(shape, border):
    from invariance.kernels.blur import convolve

    rng = np.random.default_rng(len(shape) * 10 + border)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    before = image.copy()
    for rows, cols in [(1, 1), (3, 3), (5, 5), (3, 7), (9, 9), (11, 11), (13, 13)]:  # 1x1: the uint8 path
        kernel = (rng.standard_normal((rows, cols)) * 0.3).astype(np.float32)
        kernel[rows // 2, cols // 2] += 1.0  # an impulse plus noise: saturates both ways
        got = convolve(image, kernel, border)
        if (
            len(shape) == 3 and shape[2] > 4
        ):  # OpenCV's uint8 path, plane by plane, is the reference for 5 channels
            planes = [
                cv2.filter2D(np.ascontiguousarray(image[:, :, c]), -1, kernel, borderType=border)
                for c in range(shape[2])
            ]
            expected = np.stack(planes, axis=2)
        else:
            expected = cv2.filter2D(image, -1, kernel, borderType=border).reshape(shape)
        assert got.shape == shape and got.dtype == np.uint8
        np.testing.assert_array_equal(got, expected, err_msg=f"{rows}x{cols}")
    np.testing.assert_array_equal(image, before)
    # A strided view goes through the same path.
    view = image[::2, ::-1]
    kernel = np.full((3, 3), 1 / 9, np.float32)
    np.testing.assert_array_equal(
        convolve(view, kernel, border), convolve(np.ascontiguousarray(view), kernel, border)
    )


def test_row_runs_cover_a_region_exactly_with_disjoint_rectangles():
    from invariance.kernels.dropout import row_runs

    rng = np.random.default_rng(4)
    for trial in range(200):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        if trial % 2:
            region = rng.random((h, w)) < 0.5
        else:
            region = np.zeros((h, w), bool)
            for _ in range(3):
                (y0, y1), (x0, x1) = np.sort(rng.integers(0, h + 1, 2)), np.sort(rng.integers(0, w + 1, 2))
                region[y0:y1, x0:x1] = True
        before = region.copy()
        cover = np.zeros((h, w), np.int64)
        for x0, y0, x1, y1 in row_runs(region):
            assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
            cover[y0:y1, x0:x1] += 1
        np.testing.assert_array_equal(cover, region.astype(np.int64))  # every pixel once, no other
        np.testing.assert_array_equal(region, before)


def test_row_runs_return_a_rectangle_as_one_hole():
    from invariance.kernels.dropout import row_runs

    region = np.zeros((50, 60), bool)
    region[10:30, 5:25] = True
    np.testing.assert_array_equal(row_runs(region), [[5, 10, 25, 30]])
    region[20:40, 15:55] = True  # an L-shaped union: three bands
    np.testing.assert_array_equal(
        sorted(row_runs(region).tolist()), [[5, 10, 25, 20], [5, 20, 55, 30], [15, 30, 55, 40]]
    )
    assert row_runs(np.zeros((4, 5), bool)).shape == (0, 4)
    np.testing.assert_array_equal(row_runs(np.ones((1, 1), bool)), [[0, 0, 1, 1]])
    np.testing.assert_array_equal(row_runs(np.array([[True, False, True]])), [[0, 0, 1, 1], [2, 0, 3, 1]])


@pytest.mark.parametrize("shape", [(1, 1), (1, 1, 1), (1, 2, 2), (2, 1, 3), (1, 4), (2, 3)])
def test_uint8_correlation_of_tiny_images_keeps_their_shape(shape):
    from invariance.kernels.blur import convolve

    image = np.arange(int(np.prod(shape)), dtype=np.uint8).reshape(shape) * 40
    kernel = np.full((3, 3), 1 / 9, np.float32)
    got = convolve(image, kernel)
    assert got.shape == shape
    np.testing.assert_array_equal(got, cv2.filter2D(image, -1, kernel).reshape(shape))


@pytest.mark.parametrize("border", [cv2.BORDER_CONSTANT, cv2.BORDER_REFLECT_101])
def test_uint8_correlation_in_row_strips_equals_one_pass(monkeypatch, border):
    from invariance.kernels import blur

    rng = np.random.default_rng(border)
    image = rng.integers(0, 256, (53, 29, 3), dtype=np.uint8)
    for rows, cols in [(3, 3), (7, 7), (11, 5), (4, 4)]:
        kernel = (rng.standard_normal((rows, cols)) * 0.3).astype(np.float32)
        expected = cv2.filter2D(image, -1, kernel, borderType=border)
        for strip_rows in (1, 2, 5, 52, 53):
            monkeypatch.setattr(blur, "_FLOAT_STRIP_ELEMENTS", strip_rows * 29 * 3)
            np.testing.assert_array_equal(
                blur.convolve(image, kernel, border), expected, err_msg=f"{rows}x{cols} {strip_rows}"
            )
