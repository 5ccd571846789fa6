"""Properties of the AlbumentationsX pixel transforms: each effect does what its physics or
definition says, leaves annotations alone and rejects bad arguments early."""

from __future__ import annotations

import numpy as np
import pytest

import invariance as A
from invariance.kernels import effects as ke


def _gray_ramp(h: int = 16, w: int = 256) -> np.ndarray:
    return np.tile(np.arange(w, dtype=np.uint8), (h, 1))


@pytest.fixture()
def rgb() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8)


# -- Vignetting ----------------------------------------------------------------------------------


def test_vignetting_darkens_corners_more_than_the_centre_and_leaves_annotations() -> None:
    image = np.full((60, 80, 3), 200, np.uint8)
    mask = np.zeros((60, 80), np.uint8)
    mask[10:20, 10:30] = 1
    t = A.Vignetting(intensity_range=(0.5, 0.5), center_range=(0.5, 0.5), p=1.0)
    pipe = A.Compose([t], bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]), seed=1)
    out = pipe(image=image, mask=mask, bboxes=[[10, 10, 30, 20]], labels=[1])
    res = out["image"].astype(int)
    assert res[30, 40].min() >= 199  # the centre keeps its value
    for y, x in ((0, 0), (0, 79), (59, 0), (59, 79)):
        assert abs(res[y, x, 0] - 100) <= 3  # every corner of a centred vignette: 1 - intensity
    assert res[30, 0, 0] < res[30, 20, 0] < res[30, 40, 0]  # monotone falloff
    np.testing.assert_array_equal(out["mask"], mask)
    assert out["bboxes"] == [(10.0, 10.0, 30.0, 20.0)] or np.allclose(out["bboxes"], [[10, 10, 30, 20]])


def test_vignetting_zero_intensity_is_identity(rgb: np.ndarray) -> None:
    out = A.Vignetting(intensity_range=(0.0, 0.0), p=1.0)(image=rgb)["image"]
    np.testing.assert_array_equal(out, rgb)


def test_vignetting_rejects_ranges_outside_unit() -> None:
    with pytest.raises(A.ParameterError, match="intensity_range"):
        A.Vignetting(intensity_range=(0.2, 1.5))


# -- FilmGrain -----------------------------------------------------------------------------------


def test_film_grain_is_stronger_in_shadows_and_clumps_with_grain_size() -> None:
    image = np.zeros((128, 128), np.float32)
    image[:, 64:] = 0.9
    image[:, :64] = 0.2

    def grain(size: int) -> np.ndarray:
        grid = ke.grain_grid(image.shape, size)
        return np.random.default_rng(5).standard_normal(grid, dtype=np.float32)

    fine = ke.film_grain(image, 0.2, grain(1))
    noise = fine - image
    assert noise[:, :64].std() > 3 * noise[:, 64:].std()
    coarse = ke.film_grain(image, 0.2, grain(4)) - image

    def neighbour_correlation(n: np.ndarray) -> float:
        a, b = n[:, 1:64].ravel(), n[:, : 64 - 1].ravel()
        return float(np.corrcoef(a, b)[0, 1])

    assert neighbour_correlation(coarse) > 0.5 > abs(neighbour_correlation(noise))


# -- ChannelSwap ---------------------------------------------------------------------------------


def test_channel_swap_is_the_given_permutation(rgb: np.ndarray) -> None:
    out = A.ChannelSwap(channel_order=(2, 0, 1), p=1.0)(image=rgb)["image"]
    for i, src in enumerate((2, 0, 1)):
        np.testing.assert_array_equal(out[:, :, i], rgb[:, :, src])
    five = np.random.default_rng(0).integers(0, 256, (8, 8, 5), dtype=np.uint8)
    out5 = A.ChannelSwap(channel_order=(4, 3, 2, 1, 0), p=1.0)(image=five)["image"]
    np.testing.assert_array_equal(out5, five[:, :, ::-1])


def test_channel_swap_errors_name_the_problem(rgb: np.ndarray) -> None:
    with pytest.raises(A.ParameterError, match="permutation"):
        A.ChannelSwap(channel_order=(0, 0, 1))
    five = np.zeros((8, 8, 5), np.uint8)
    with pytest.raises(A.InputError, match="5 channels"):
        A.ChannelSwap(p=1.0)(image=five)
    gray = rgb[:, :, 0].copy()
    np.testing.assert_array_equal(A.ChannelSwap(p=1.0)(image=gray)["image"], gray)


def test_channel_shuffle_takes_a_fixed_order_or_draws_one(rgb: np.ndarray) -> None:
    fixed = A.ChannelShuffle(channel_order=(1, 2, 0), p=1.0)
    for _ in range(3):
        np.testing.assert_array_equal(fixed(image=rgb)["image"], rgb[:, :, [1, 2, 0]])
    assert isinstance(A.ChannelSwap(), A.ChannelShuffle)
    seen = set()
    shuffle = A.ChannelShuffle(p=1.0)
    shuffle.set_random_seed(0)
    for _ in range(30):
        out = shuffle(image=rgb)["image"]
        order = tuple(
            int(np.argmax([(out[:, :, i] == rgb[:, :, j]).all() for j in range(3)])) for i in range(3)
        )
        assert sorted(order) == [0, 1, 2]
        seen.add(order)
    assert len(seen) > 3
    with pytest.raises(A.InputError, match="4 channels"):
        fixed(image=np.zeros((4, 4, 4), np.uint8))


# -- Colorize ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_colorize_maps_black_and_white_to_the_anchors(dtype: type) -> None:
    ramp = _gray_ramp()
    image = ramp if dtype == np.uint8 else ramp.astype(np.float32) / 255
    t = A.Colorize(black_range=((0, 0, 255), (0, 0, 255)), white_range=((255, 255, 0), (255, 255, 0)), p=1.0)
    out = t(image=image)["image"].astype(np.float64)
    scale = 255.0 if dtype == np.uint8 else 1.0
    assert out.shape == (16, 256, 3)
    np.testing.assert_allclose(out[0, 0] / scale, [0, 0, 1], atol=1e-3)
    np.testing.assert_allclose(out[0, 255] / scale, [1, 1, 0], atol=1e-3)
    np.testing.assert_allclose(out[0, 128] / scale, [128 / 255, 128 / 255, 127 / 255], atol=3e-3)


def test_colorize_mid_anchor_sits_at_the_sampled_value() -> None:
    t = A.Colorize(mid_range=((255, 0, 0), (255, 0, 0)), mid_value_range=(0.5, 0.5), p=1.0)
    out = t(image=_gray_ramp())["image"].astype(int)
    assert out[0, 128, 0] >= 250 and out[0, 128, 1] <= 2
    with pytest.raises(A.ParameterError, match="black_range"):
        A.Colorize(black_range=((10, 0, 0), (5, 0, 0)))


# -- Dithering -----------------------------------------------------------------------------------

METHODS = [
    {"method": "error_diffusion"},
    {"method": "error_diffusion", "error_diffusion_algorithm": "stucki"},
    {"method": "error_diffusion", "error_diffusion_algorithm": "atkinson", "serpentine": True},
    {"method": "ordered", "bayer_matrix_size": 8},
    {"method": "random"},
    {"method": "error_diffusion", "color_mode": "grayscale"},
]


@pytest.mark.parametrize("kwargs", METHODS)
@pytest.mark.parametrize("n_colors", [2, 5])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_dithering_outputs_only_the_requested_levels(kwargs: dict, n_colors: int, dtype: type) -> None:
    image = np.random.default_rng(1).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    if dtype == np.float32:
        image = image.astype(np.float32) / 255
    out = A.Dithering(n_colors=n_colors, p=1.0, **kwargs)(image=image)["image"]
    white = 255.0 if dtype == np.uint8 else 1.0
    levels = np.linspace(0, white, n_colors)
    if dtype == np.uint8:
        levels = np.rint(levels)
    assert np.isin(out, levels.astype(out.dtype)).all()
    if kwargs.get("color_mode") == "grayscale":
        assert (out[:, :, 0] == out[:, :, 2]).all()


@pytest.mark.parametrize("kwargs", METHODS[:2] + METHODS[3:4])
def test_dithering_keeps_the_local_average_of_a_flat_gray(kwargs: dict) -> None:
    image = np.full((64, 64), 64, np.uint8)  # a quarter of white
    out = A.Dithering(n_colors=2, p=1.0, **kwargs)(image=image)["image"]
    assert abs(out.mean() / 255 - 64 / 255) < 0.02
    assert 0 < (out == 255).mean() < 1  # a pattern, not a flat threshold


def test_bayer_matrix_is_a_permutation_of_ranks() -> None:
    m = ke.bayer_matrix(4)
    ranks = np.sort((m * 16 - 0.5).round().ravel())
    np.testing.assert_array_equal(ranks, np.arange(16))


# -- Enhance -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["edge", "detail"])
def test_enhance_keeps_flat_regions_and_sharpens_steps(mode: str) -> None:
    flat = np.full((20, 20, 3), 90, np.uint8)
    np.testing.assert_array_equal(A.Enhance(mode=mode, p=1.0)(image=flat)["image"], flat)
    step = np.zeros((20, 20), np.uint8)
    step[:, 10:] = 100
    out = A.Enhance(mode=mode, alpha_range=(1.0, 1.0), p=1.0)(image=step)["image"].astype(int)
    assert out[10, 10] > 100 and out[10, 9] == 0  # overshoot on the bright side, clipped dark side
    np.testing.assert_array_equal(A.Enhance(alpha_range=(0.0, 0.0), p=1.0)(image=step)["image"], step)


def test_enhance_edge_at_alpha_two_is_the_stronger_operator() -> None:
    k = ke.enhance_kernel("edge", 2.0)
    expected = -np.ones((3, 3), np.float32)
    expected[1, 1] = 9
    np.testing.assert_allclose(k, expected, atol=1e-6)


# -- Halftone ------------------------------------------------------------------------------------


def test_halftone_dots_grow_with_brightness_and_blend_one_is_the_original(rgb: np.ndarray) -> None:
    dark = np.full((40, 40), 60, np.uint8)
    bright = np.full((40, 40), 220, np.uint8)
    coverage_dark = (ke.halftone(dark, 8, 0.0) > 0).mean()
    coverage_bright = (ke.halftone(bright, 8, 0.0) > 0).mean()
    assert 0 < coverage_dark < coverage_bright
    assert set(np.unique(ke.halftone(bright, 8, 0.0))) <= {0, 220}
    np.testing.assert_array_equal(ke.halftone(rgb, 6, 1.0), rgb)


# -- ModeFilter ----------------------------------------------------------------------------------


def _brute_force_mode(image: np.ndarray, ksize: int) -> np.ndarray:
    """Per pixel and channel: np.unique's counts over the reflected window, first maximum."""
    radius = ksize // 2
    planar = image if image.ndim == 3 else image[:, :, None]
    padded = np.pad(planar, ((radius, radius), (radius, radius), (0, 0)), mode="symmetric")
    out = np.empty_like(planar)
    for y in range(planar.shape[0]):
        for x in range(planar.shape[1]):
            for c in range(planar.shape[2]):
                values, counts = np.unique(padded[y : y + ksize, x : x + ksize, c], return_counts=True)
                out[y, x, c] = values[np.argmax(counts)]
    return out if image.ndim == 3 else out[:, :, 0]


@pytest.mark.parametrize("ksize", [3, 5, 7, 11, 13, 15])  # sorted up to 11, counted per level above
@pytest.mark.parametrize(
    ("shape", "levels"), [((12, 14), 4), ((9, 11, 3), 3), ((7, 6, 5), 6), ((10, 13, 2), 200), ((9, 8, 1), 5)]
)
def test_mode_filter_matches_a_brute_force_mode_with_smallest_ties(ksize, shape, levels) -> None:
    rng = np.random.default_rng(ksize * 100 + levels)
    image = (rng.integers(0, levels, shape) * (255 // max(levels - 1, 1))).astype(np.uint8)
    np.testing.assert_array_equal(ke.mode_filter(image, ksize), _brute_force_mode(image, ksize))


def test_mode_filter_row_strips_join_without_seams(monkeypatch) -> None:
    rng = np.random.default_rng(5)
    image = rng.integers(0, 3, (23, 17, 3), dtype=np.uint8) * 100
    whole = ke.mode_filter(image, 5)
    monkeypatch.setattr(ke, "_MODE_STACK_BYTES", 26 * 17 * 3 * 4)  # four rows per strip (26 copies)
    np.testing.assert_array_equal(ke.mode_filter(image, 5), whole)
    np.testing.assert_array_equal(whole, _brute_force_mode(image, 5))


def test_mode_filter_on_images_smaller_than_the_window_and_on_floats() -> None:
    tiny = np.array([[10, 20], [20, 30]], np.uint8)
    np.testing.assert_array_equal(ke.mode_filter(tiny, 7), _brute_force_mode(tiny, 7))
    for shape in [(1, 1), (1, 3), (3, 1), (1, 1, 3), (1, 2, 2)]:  # arrays OpenCV could take for a Scalar
        small = (np.arange(int(np.prod(shape))) % 2 * 90).astype(np.uint8).reshape(shape)
        for ksize in (3, 13):
            np.testing.assert_array_equal(ke.mode_filter(small, ksize), _brute_force_mode(small, ksize))
    rng = np.random.default_rng(8)
    floats = rng.integers(0, 3, (8, 9, 3)).astype(np.float32) / 2
    out = ke.mode_filter(floats, 3)
    assert out.dtype == np.float32
    expected = _brute_force_mode(np.rint(floats * 255).astype(np.uint8), 3).astype(np.float32) / 255
    np.testing.assert_allclose(out, expected, atol=1e-7)


def test_sorting_network_sorts_every_zero_one_input() -> None:
    # The 0-1 principle: a comparator network that sorts every 0/1 sequence sorts everything.
    for count in (2, 3, 5, 9, 12):
        pairs = ke.sorting_network(count)
        for bits in range(2**count):
            values = [(bits >> i) & 1 for i in range(count)]
            for low, high in pairs:
                if values[low] > values[high]:
                    values[low], values[high] = values[high], values[low]
            assert values == sorted(values), (count, bits)
    rng = np.random.default_rng(0)
    for count in (25, 49):
        columns = rng.integers(0, 2 + count // 8, (count, 2000))  # 2,000 random sequences at once
        rows = list(columns.copy())
        for low, high in ke.sorting_network(count):
            rows[low], rows[high] = np.minimum(rows[low], rows[high]), np.maximum(rows[low], rows[high])
        np.testing.assert_array_equal(np.array(rows), np.sort(columns, axis=0))


def test_mode_filter_removes_an_isolated_outlier_and_validates_sizes() -> None:
    image = np.full((9, 9, 3), 40, np.uint8)
    image[4, 4] = 250
    out = A.ModeFilter(kernel_range=(3, 3), p=1.0)(image=image)["image"]
    assert (out == 40).all()
    with pytest.raises(A.ParameterError, match="kernel_range"):
        A.ModeFilter(kernel_range=(1, 3))
    with pytest.warns(UserWarning, match="even"):
        assert A.ModeFilter(kernel_range=(4, 6)).kernel_range == (5, 7)


# -- StochasticConvolution -----------------------------------------------------------------------


def test_stochastic_convolution_at_zero_strength_is_identity(rgb: np.ndarray) -> None:
    out = A.StochasticConvolution(strength_range=(0.0, 0.0), p=1.0)(image=rgb)["image"]
    np.testing.assert_array_equal(out, rgb)
    changed = A.StochasticConvolution(strength_range=(1.0, 1.0), per_channel=True, p=1.0)(image=rgb)["image"]
    assert not np.array_equal(changed, rgb)
    with pytest.raises(A.ParameterError, match="border_mode"):
        A.StochasticConvolution(border_mode=3)


# -- ExposureMatching ----------------------------------------------------------------------------


def test_exposure_matching_reaches_the_target_mean_and_respects_the_gain_bounds() -> None:
    image = np.random.default_rng(4).uniform(0.05, 0.25, (32, 32, 3)).astype(np.float32)
    out = A.ExposureMatching(target_mean_range=(0.3, 0.3), p=1.0)(image=image)["image"]
    assert abs(out.mean() - 0.3) < 1e-3
    np.testing.assert_allclose(out / image, out.mean() / image.mean(), rtol=1e-4)  # ratios kept
    bounded = A.ExposureMatching(target_mean_range=(0.3, 0.3), gain_range=(1.0, 1.2), p=1.0)(image=image)
    np.testing.assert_allclose(bounded["image"], image * 1.2, rtol=1e-5)
    black = np.zeros((8, 8), np.uint8)
    np.testing.assert_array_equal(A.ExposureMatching(p=1.0)(image=black)["image"], black)


# -- AtmosphericFog and LensFlare ----------------------------------------------------------------


def test_atmospheric_fog_is_thicker_far_away() -> None:
    image = np.full((50, 30, 3), 20, np.uint8)
    out = A.AtmosphericFog(density_range=(2.0, 2.0), fog_color=(200, 200, 200), p=1.0)(image=image)["image"]
    column = out[:, 15, 0].astype(int)
    assert column[0] > column[25] > column[-1] == 20  # top is far, bottom is at distance 0
    expected_top = 20 * np.exp(-2.0) + 200 * (1 - np.exp(-2.0))
    assert abs(column[0] - expected_top) <= 1
    radial = A.AtmosphericFog(density_range=(2.0, 2.0), depth_mode="radial", p=1.0)(image=image)["image"]
    assert radial[25, 15, 0] < radial[0, 0, 0]
    with pytest.raises(A.InputError, match="4 channels"):
        A.AtmosphericFog(p=1.0)(image=np.zeros((8, 8, 4), np.uint8))


def test_lens_flare_only_adds_light_around_the_source() -> None:
    image = np.full((80, 100, 3), 30, np.uint8)
    t = A.LensFlare(flare_roi=(0.1, 0.1, 0.1, 0.1), intensity_range=(0.6, 0.6), p=1.0)
    out = t(image=image)["image"]
    assert (out >= image).all()
    source = (round(0.1 * 79), round(0.1 * 99))
    assert out[source].mean() > out[79, 99].mean() + 50


# -- AnnotationArtifacts -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["text", "rectangle", "arrow", "line"])
def test_annotation_artifacts_draw_ink_and_nothing_else(kind: str) -> None:
    image = np.full((80, 120, 5), 100, np.uint8)
    t = A.AnnotationArtifacts(element_types=(kind,), element_probabilities=(1.0,), count_range=(3, 3), p=1.0)
    for seed in range(4):
        t.set_random_seed(seed)
        out = t(image=image)["image"]
        changed = (out != image).any(axis=2)
        assert changed.any()
        # Anti-aliased strokes blend towards black, white or red (first channel only).
        delta = out[changed].astype(int) - 100
        towards_black = (delta <= 0).all(axis=1)
        towards_white = (delta >= 0).all(axis=1) & (delta[:, 1:] == delta[:, 1:2]).all(axis=1)
        towards_red = (delta[:, 0] >= 0) & (delta[:, 1:] <= 0).all(axis=1)
        assert (towards_black | towards_white | towards_red).all()


def test_annotation_artifacts_callout_magnifies_and_zero_count_is_identity(rgb: np.ndarray) -> None:
    none = A.AnnotationArtifacts(count_range=(0, 0), p=1.0)(image=rgb)["image"]
    np.testing.assert_array_equal(none, rgb)
    callout = A.AnnotationArtifacts(
        element_types=("callout",), element_probabilities=(1.0,), count_range=(1, 1), p=1.0
    )
    assert not np.array_equal(callout(image=rgb)["image"], rgb)
    with pytest.raises(A.ParameterError, match="one weight per element type"):
        A.AnnotationArtifacts(element_types=("text", "line"), element_probabilities=(1.0,))
