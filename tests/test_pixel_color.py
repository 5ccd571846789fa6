"""Properties of the colour, tone and channel transforms, and differential checks against
Albumentations 2.0.8 with pinned parameters."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import invariance as A
from invariance.kernels import color as kc
from invariance.kernels import tone as kt


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    try:
        from skimage import data

        return np.ascontiguousarray(data.astronaut()[::4, ::4])
    except ImportError:  # pragma: no cover
        return A.data.sample_scene(128, 128)["image"]


def run(transform: A.BasicTransform, image: np.ndarray, seed: int = 0, **targets: object) -> dict:
    return A.Compose([transform], seed=seed)(image=image, **targets)


def gray_ramp() -> np.ndarray:
    return np.tile(np.arange(256, dtype=np.uint8), (4, 1))[:, :, None]


def as_float(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) / 255.0


# -- curves -------------------------------------------------------------------------------------


def test_gamma_matches_power_law_and_direction(rgb):
    out = A.RandomGamma(gamma_limit=(150, 150), p=1)(image=rgb)["image"]
    expected = np.rint((rgb / 255.0) ** 1.5 * 255)
    np.testing.assert_allclose(out, expected, atol=0.5)
    brighter = A.RandomGamma(gamma_limit=(50, 50), p=1)(image=rgb)["image"]
    assert brighter.mean() > rgb.mean() > out.mean()
    f = as_float(rgb)
    np.testing.assert_allclose(A.RandomGamma((150, 150), p=1)(image=f)["image"], f**1.5, atol=1e-6)


def test_invert_twice_is_identity_and_formula(rgb):
    once = A.InvertImg(p=1)(image=rgb)["image"]
    np.testing.assert_array_equal(once, 255 - rgb)
    np.testing.assert_array_equal(A.InvertImg(p=1)(image=once)["image"], rgb)
    f = as_float(rgb)
    np.testing.assert_allclose(A.InvertImg(p=1)(image=f)["image"], 1 - f, atol=1e-7)


def test_posterize_leaves_two_to_the_bits_levels():
    ramp = gray_ramp()
    for bits in range(9):
        out = A.Posterize(num_bits=bits, p=1)(image=ramp)["image"]
        assert len(np.unique(out)) == 2**bits
        assert np.all(out <= ramp)  # bits are dropped, never added


def test_posterize_per_channel_bits(rgb):
    out = A.Posterize(num_bits=[1, 2, 3], p=1)(image=rgb)["image"]
    for c, bits in enumerate((1, 2, 3)):
        assert len(np.unique(out[:, :, c])) <= 2**bits
    with pytest.raises(A.ParameterError, match="num_bits"):
        A.Posterize(num_bits=9)


def test_solarize_inverts_at_and_above_threshold():
    ramp = gray_ramp()
    out = A.Solarize(threshold_range=(0.5, 0.5), p=1)(image=ramp)["image"][0, :, 0].astype(int)
    levels = np.arange(256)
    expected = np.where(levels >= 127.5, 255 - levels, levels)
    np.testing.assert_array_equal(out, expected)
    f = as_float(ramp)
    out_f = A.Solarize(threshold_range=(0.25, 0.25), p=1)(image=f)["image"]
    np.testing.assert_allclose(out_f, np.where(f >= 0.25, 1 - f, f), atol=1e-7)
    with pytest.raises(A.ParameterError, match="threshold_range"):
        A.Solarize(threshold_range=(0.2, 1.5))


def test_tone_curve_zero_scale_is_the_default_curve_and_per_channel_differs(rgb):
    out = A.RandomToneCurve(scale=0, p=1)(image=gray_ramp())["image"][0, :, 0]
    t = np.arange(256) / 255
    np.testing.assert_allclose(out, np.rint(kt.tone_curve_values(t, 0.25, 0.75) * 255), atol=0.5)
    ramp = np.repeat(gray_ramp(), 3, axis=2)
    out = A.RandomToneCurve(scale=0.3, per_channel=True, p=1)(image=ramp)["image"]
    assert not (np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2]))
    # each curve is monotone when its control points stay ordered, and fixes black and white
    assert out[0, 0].tolist() == [0, 0, 0] and out[0, -1].tolist() == [255, 255, 255]


def test_tone_curve_formula():
    ramp = gray_ramp()
    out = kt.tone_curve(ramp, [0.1], [0.9])[0, :, 0]
    t = np.arange(256) / 255
    expected = 3 * (1 - t) ** 2 * t * 0.1 + 3 * (1 - t) * t**2 * 0.9 + t**3
    np.testing.assert_allclose(out, np.rint(expected * 255), atol=0.5)


def test_brightness_contrast_directions(rgb):
    up = A.RandomBrightnessContrast(brightness_limit=(0.2, 0.2), contrast_limit=0, p=1)(image=rgb)["image"]
    down = A.RandomBrightnessContrast(brightness_limit=(-0.2, -0.2), contrast_limit=0, p=1)(image=rgb)[
        "image"
    ]
    assert down.mean() < rgb.mean() < up.mean()
    more = A.RandomBrightnessContrast(brightness_limit=0, contrast_limit=(0.5, 0.5), p=1)(image=rgb)["image"]
    assert more.astype(float).std() > rgb.astype(float).std()


# -- histograms ---------------------------------------------------------------------------------


def test_equalize_flattens_the_histogram(rgb):
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[:, :, None]
    low_contrast = (gray // 4 + 60).astype(np.uint8)
    for mode in ("cv", "pil"):
        out = A.Equalize(mode=mode, p=1)(image=low_contrast)["image"]
        cdf = np.cumsum(np.bincount(out.ravel(), minlength=256)) / out.size
        cdf_before = np.cumsum(np.bincount(low_contrast.ravel(), minlength=256)) / out.size
        uniform = np.arange(1, 257) / 256
        assert np.abs(cdf - uniform).max() < np.abs(cdf_before - uniform).max() / 2
        assert out.max() - out.min() > 200


def test_equalize_cv_matches_opencv_and_pil_matches_pillow(rgb):
    out = A.Equalize(p=1)(image=rgb)["image"]
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], cv2.equalizeHist(np.ascontiguousarray(rgb[..., c])))
    pil = pytest.importorskip("PIL.ImageOps")
    image_mod = pytest.importorskip("PIL.Image")
    expected = np.asarray(pil.equalize(image_mod.fromarray(rgb)))
    np.testing.assert_array_equal(A.Equalize(mode="pil", p=1)(image=rgb)["image"], expected)


def test_equalize_mask_limits_the_histogram(rgb):
    mask = np.zeros(rgb.shape[:2], np.uint8)
    mask[:64] = 1
    out = A.Equalize(mask=mask, p=1)(image=rgb)["image"]
    for c in range(3):
        top = np.ascontiguousarray(rgb[:64, :, c])
        np.testing.assert_array_equal(out[:64, :, c], cv2.equalizeHist(top))
    calls = []

    def make_mask(image, boxes):
        calls.append(boxes)
        return mask

    out2 = A.Compose([A.Equalize(mask=make_mask, mask_params=["boxes"], p=1)])(image=rgb, boxes=[1, 2])
    np.testing.assert_array_equal(out2["image"], out)
    assert calls == [[1, 2]]


def test_autocontrast_stretches_to_full_range_and_keeps_ignored_level():
    ramp = gray_ramp()[:, 50:200]
    for method in ("cdf", "pil"):
        out = A.AutoContrast(method=method, p=1)(image=ramp)["image"]
        assert out.min() == 0 and out.max() == 255
        assert np.all(np.diff(out[0, :, 0].astype(int)) >= 0)  # order of levels is kept
    out = A.AutoContrast(method="pil", ignore=100, p=1)(image=ramp)["image"]
    assert np.all(out[ramp == 100] == 100)
    flat = np.full((8, 8, 3), 77, np.uint8)
    np.testing.assert_array_equal(A.AutoContrast(p=1)(image=flat)["image"], flat)


def test_autocontrast_pil_matches_pillow(rgb):
    pil = pytest.importorskip("PIL.ImageOps")
    image_mod = pytest.importorskip("PIL.Image")
    for cutoff in (0, 5):
        expected = np.asarray(pil.autocontrast(image_mod.fromarray(rgb), cutoff=cutoff))
        out = A.AutoContrast(cutoff=cutoff, method="pil", p=1)(image=rgb)["image"]
        np.testing.assert_array_equal(out, expected)


def test_clahe_raises_local_contrast(rgb):
    dull = (rgb // 3 + 80).astype(np.uint8)
    out = A.CLAHE(clip_limit=(4, 4), p=1)(image=dull)["image"]
    assert out.astype(float).std() > dull.astype(float).std()
    with pytest.raises(A.ParameterError, match="tile_grid_size"):
        A.CLAHE(tile_grid_size=(0, 8))


# -- colour -------------------------------------------------------------------------------------


def test_hsv_value_shift_and_hue_turn(rgb):
    out = A.HueSaturationValue(0, 0, (-30, -30), p=1)(image=rgb)["image"]
    hsv_in = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV).astype(int)
    hsv_out = cv2.cvtColor(out, cv2.COLOR_RGB2HSV).astype(int)
    np.testing.assert_allclose(hsv_out[..., 2], np.clip(hsv_in[..., 2] - 30, 0, 255), atol=1)
    # A whole turn (or a shift that rounds to no level) is the identity, not the lossy HSV round
    # trip (which rounds hue to 2 degrees); a one-level turn does go through it.
    for no_change in ((180, 180), (0.3, 0.3), (-180, -180)):
        out = A.HueSaturationValue(no_change, 0, 0, p=1)(image=rgb)["image"]
        np.testing.assert_array_equal(out, rgb)
        assert not np.shares_memory(out, rgb)
    round_trip = cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV), cv2.COLOR_HSV2RGB)
    assert not np.array_equal(round_trip, rgb)  # the round trip alone would have changed it
    one_level = A.HueSaturationValue((1, 1), 0, 0, p=1)(image=rgb)["image"]
    assert not np.array_equal(one_level, rgb)
    tiny_hue = A.ColorJitter(brightness=(1, 1), contrast=(1, 1), saturation=(1, 1), hue=(0.002, 0.002), p=1)
    np.testing.assert_array_equal(tiny_hue(image=rgb)["image"], rgb)


def test_rgb_shift_formula_and_saturation(rgb):
    out = A.RGBShift((10, 10), (-20, -20), (300, 300), p=1)(image=rgb)["image"].astype(int)
    np.testing.assert_array_equal(out[..., 0], np.clip(rgb[..., 0].astype(int) + 10, 0, 255))
    np.testing.assert_array_equal(out[..., 1], np.clip(rgb[..., 1].astype(int) - 20, 0, 255))
    assert np.all(out[..., 2] == 255)
    f = as_float(rgb)
    out_f = A.RGBShift((10, 10), (0, 0), (0, 0), p=1)(image=f)["image"]
    np.testing.assert_allclose(out_f[..., 0], np.clip(f[..., 0] + 10 / 255, 0, 1), atol=1e-6)


def test_color_jitter_saturation_zero_is_gray_and_identity_factors(rgb):
    gray = A.ColorJitter((1, 1), (1, 1), (0, 0), (0, 0), p=1)(image=rgb)["image"].astype(int)
    assert np.abs(gray[..., 0] - gray[..., 1]).max() <= 1 and np.abs(gray[..., 1] - gray[..., 2]).max() <= 1
    same = A.ColorJitter((1, 1), (1, 1), (1, 1), (0, 0), p=1)(image=rgb)["image"]
    np.testing.assert_array_equal(same, rgb)
    assert A.ColorJitter(brightness=0.3).brightness == (0.7, 1.3)
    with pytest.raises(A.ParameterError, match="hue"):
        A.ColorJitter(hue=(0, 0.7))


def test_color_jitter_draws_each_factor_in_its_range_and_every_order_alike():
    """One draw of five numbers gives the four factors and the order: each factor covers its
    range, and the 24 orders come up about equally often (a bug in the permutation table or the
    pick would leave orders out or favour some)."""
    from collections import Counter

    transform = A.ColorJitter(
        brightness=(0.5, 1.5), contrast=(0.9, 1.1), saturation=(0.2, 0.3), hue=(-0.1, 0.2)
    )
    rng = np.random.default_rng(3)
    orders: Counter[tuple[str, ...]] = Counter()
    draws = {name: [] for name in ("brightness", "contrast", "saturation", "hue")}
    for _ in range(4800):
        params = transform.sample(rng, None)  # type: ignore[arg-type]
        orders[tuple(params["order"])] += 1
        for name, value in params["factors"].items():
            draws[name].append(value)
    assert len(orders) == 24 and all(sorted(order) == sorted(draws) for order in orders)
    assert min(orders.values()) > 140 and max(orders.values()) < 260  # 200 expected each
    for name, (low, high) in (
        ("brightness", (0.5, 1.5)),
        ("contrast", (0.9, 1.1)),
        ("saturation", (0.2, 0.3)),
        ("hue", (-0.1, 0.2)),
    ):
        values = np.array(draws[name])
        assert low <= values.min() and values.max() < high
        assert abs(values.mean() - (low + high) / 2) < 0.03 * (high - low)
        assert values.min() < low + 0.01 * (high - low) and values.max() > high - 0.01 * (high - low)


def test_photometric_distort_per_step_probability(rgb):
    np.testing.assert_array_equal(A.PhotoMetricDistort(p=0)(image=rgb)["image"], rgb)
    out = run(
        A.PhotoMetricDistort(brightness=(1, 1), contrast=(1, 1), saturation=(1, 1), hue=(0, 0), p=1), rgb
    )
    # every colour step is neutral: only the channel permutation remains
    image = out["image"]
    assert sorted(image[..., c].sum() for c in range(3)) == sorted(rgb[..., c].sum() for c in range(3))


def test_to_sepia_formula(rgb):
    out = A.ToSepia(p=1)(image=rgb)["image"].astype(float)
    expected = np.clip(rgb.reshape(-1, 3).astype(float) @ kc.SEPIA.T.astype(float), 0, 255).reshape(rgb.shape)
    np.testing.assert_allclose(out, expected, atol=1)


def test_fancy_pca_zero_alpha_is_identity_and_shift_is_global(rgb):
    np.testing.assert_array_equal(A.FancyPCA(alpha=0, p=1)(image=rgb)["image"], rgb)
    values, _ = kc.principal_components(rgb)
    assert np.all(np.diff(values) <= 0)
    out = kc.fancy_pca(np.full((4, 4, 3), 100, np.uint8), [1.0, 0.0, 0.0])
    assert len(np.unique(out.reshape(-1, 3), axis=0)) == 1  # one colour offset for every pixel


def test_planckian_warm_and_cool(rgb):
    warm = run(A.PlanckianJitter(temperature_limit=(3000, 3000), p=1), rgb)["image"].astype(float)
    cool = run(A.PlanckianJitter(temperature_limit=(12000, 12000), p=1), rgb)["image"].astype(float)
    ratio = lambda img: img[..., 0].mean() / img[..., 2].mean()  # noqa: E731
    assert ratio(warm) > ratio(rgb.astype(float)) > ratio(cool)
    d65 = kc.illuminant_gains(6504, "cied")
    np.testing.assert_allclose(d65, 1.0, atol=0.01)  # D65 is sRGB's white
    for mode, limit in (("blackbody", (3000, 15000)), ("cied", (4000, 15000))):
        t = A.PlanckianJitter(mode=mode, sampling_method="gaussian", p=1)
        temps = [t.sample(np.random.default_rng(i), None)["temperature"] for i in range(200)]  # type: ignore[arg-type]
        assert limit[0] <= min(temps) and max(temps) <= limit[1]
        assert abs(np.median(temps) - 6500) < 1500
    with pytest.raises(A.ParameterError, match="temperature_limit"):
        A.PlanckianJitter(mode="cied", temperature_limit=(3000, 8000))


def test_chromatic_aberration_keeps_green_and_moves_red_blue(rgb):
    out = run(A.ChromaticAberration((0.1, 0.1), (0.1, 0.1), p=1), rgb)["image"]
    np.testing.assert_array_equal(out[..., 1], rgb[..., 1])
    assert not np.array_equal(out[..., 0], rgb[..., 0]) and not np.array_equal(out[..., 2], rgb[..., 2])
    centre = out[60:68, 60:68].astype(int) - rgb[60:68, 60:68]
    assert np.abs(centre).max() <= 2  # the optical centre hardly moves


# -- channels -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["weighted_average", "from_lab", "desaturation", "average", "max", "pca"])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_to_gray_gives_equal_channels(rgb, method, dtype):
    image = rgb if dtype == np.uint8 else as_float(rgb)
    out = A.ToGray(method=method, p=1)(image=image)["image"]
    assert out.shape == image.shape and out.dtype == image.dtype
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])
    one = A.ToGray(num_output_channels=1, method=method, p=1)(image=image)["image"]
    assert one.shape == image.shape[:2]  # one output channel is a 2-D image, as in Albumentations


def test_to_gray_single_channel_passes_through_and_many_channels(rgb):
    gray = np.ascontiguousarray(rgb[..., :1])
    np.testing.assert_array_equal(A.ToGray(p=1)(image=gray)["image"], gray)
    five = np.concatenate([rgb, rgb[..., :2]], axis=2)
    with pytest.raises(A.InputError, match="channels"):
        A.ToGray(p=1)(image=five)
    out = A.ToGray(method="max", p=1)(image=five)["image"]
    np.testing.assert_array_equal(out[..., 0], five.max(axis=2))


def test_to_rgb_and_channel_dropout_and_shuffle(rgb):
    gray = np.ascontiguousarray(rgb[..., :1])
    out = A.ToRGB(num_output_channels=4)(image=gray)["image"]
    assert out.shape == (*gray.shape[:2], 4) and all(
        np.array_equal(out[..., c], gray[..., 0]) for c in range(4)
    )
    dropped = run(A.ChannelDropout(channel_drop_range=(2, 2), fill=9, p=1), rgb)["image"]
    assert sum(np.all(dropped[..., c] == 9) for c in range(3)) >= 2
    with pytest.raises(A.InputError, match="every"):
        run(A.ChannelDropout(channel_drop_range=(3, 3), p=1), rgb)
    shuffled = run(A.ChannelShuffle(p=1), rgb, seed=3)["image"]
    assert sorted(shuffled[..., c].sum() for c in range(3)) == sorted(rgb[..., c].sum() for c in range(3))


@pytest.mark.parametrize(
    "transform",
    [
        A.ColorJitter(p=1),
        A.HueSaturationValue(p=1),
        A.RGBShift(p=1),
        A.ToSepia(p=1),
        A.CLAHE(p=1),
        A.Equalize(p=1),
        A.PlanckianJitter(p=1),
        A.ChromaticAberration(p=1),
        A.PhotoMetricDistort(p=1),
    ],
    ids=lambda t: type(t).__name__,
)
def test_rgb_only_transforms_reject_other_channel_counts(transform):
    with pytest.raises(A.InputError, match="channels"):
        transform(image=np.zeros((8, 8, 4), np.uint8))


# -- range, dtype and targets ---------------------------------------------------------------------

EXTREME = [
    A.RandomBrightnessContrast((0.9, 0.9), (0.9, 0.9), p=1),
    A.ColorJitter((2, 2), (2, 2), (2, 2), (0.3, 0.3), p=1),
    A.HueSaturationValue((50, 50), (100, 100), (100, 100), p=1),
    A.RGBShift((200, 200), (-200, -200), (100, 100), p=1),
    A.RandomGamma((30, 30), p=1),
    A.RandomToneCurve(scale=1, per_channel=True, p=1),
    A.FancyPCA(alpha=5, p=1),
    A.ToSepia(p=1),
    A.PlanckianJitter(temperature_limit=(3000, 3000), p=1),
    A.PhotoMetricDistort(brightness=(3, 3), contrast=(3, 3), saturation=(3, 3), p=1),
    A.ChromaticAberration((0.3, 0.3), (0.3, 0.3), interpolation=cv2.INTER_CUBIC, p=1),
    A.CLAHE(p=1),
    A.AutoContrast(p=1),
    A.Solarize(p=1),
    A.Posterize(p=1),
]


@pytest.mark.parametrize("transform", EXTREME, ids=lambda t: type(t).__name__)
def test_range_and_dtype_preserved_and_targets_untouched(transform, rgb):
    boxes = [[10.0, 10.0, 50.0, 60.0]]
    keypoints = [[20.0, 30.0]]
    mask = (rgb[..., 0] > 128).astype(np.uint8)
    pipeline = A.Compose(
        [transform],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=[]),
        keypoint_params=A.KeypointParams(format="xy"),
        seed=1,
    )
    for image in (rgb, as_float(rgb)):
        out = pipeline(image=image, mask=mask, bboxes=boxes, keypoints=keypoints)
        assert out["image"].dtype == image.dtype and out["image"].shape == image.shape
        if image.dtype == np.float32:
            assert out["image"].min() >= 0.0 and out["image"].max() <= 1.0
        np.testing.assert_array_equal(out["mask"], mask)
        assert [list(b) for b in out["bboxes"]] == boxes and [list(k) for k in out["keypoints"]] == keypoints


@pytest.mark.parametrize("transform", EXTREME, ids=lambda t: type(t).__name__)
def test_float_and_uint8_agree(transform, rgb):
    """The same parameters on the same picture give the same result in both dtypes (within the
    quantization of uint8)."""
    a = run(transform, rgb, seed=5)["image"].astype(float)
    b = run(transform, as_float(rgb), seed=5)["image"] * 255.0
    assert np.abs(a - b).mean() < 3.0


# -- differential tests against Albumentations 2.0.8 ----------------------------------------------

# (invariance transform, albumentations transform, max tolerance in uint8 levels, mean tolerance)
PAIRS = [
    ("RandomGamma", {"gamma_limit": (150, 150)}, 1, 0.5),  # we round the table, it truncates
    ("InvertImg", {}, 0, 0),
    ("Solarize", {"threshold_range": (0.4, 0.4)}, 0, 0),
    ("Posterize", {"num_bits": 3}, 0, 0),
    (
        "HueSaturationValue",
        {"hue_shift_limit": (10, 10), "sat_shift_limit": (20, 20), "val_shift_limit": (-15, -15)},
        0,
        0,
    ),
    ("RGBShift", {"r_shift_limit": (10, 10), "g_shift_limit": (-20, -20), "b_shift_limit": (5, 5)}, 0, 0),
    ("ToSepia", {}, 0, 0),
    (
        "ColorJitter",
        {"brightness": (1.3, 1.3), "contrast": (1, 1), "saturation": (1, 1), "hue": (0, 0)},
        1,
        0.5,
    ),
    (
        "ColorJitter",
        {"brightness": (1, 1), "contrast": (0.6, 0.6), "saturation": (1, 1), "hue": (0, 0)},
        1,
        0.5,
    ),
    (
        "ColorJitter",
        # One colour matrix with the unrounded luma; Albumentations blends with a uint8 gray, so
        # about a quarter of the values round the other way (never by more than one level).
        {"brightness": (1, 1), "contrast": (1, 1), "saturation": (0.5, 0.5), "hue": (0, 0)},
        1,
        0.3,
    ),
    (
        "ColorJitter",
        {"brightness": (1, 1), "contrast": (1, 1), "saturation": (1, 1), "hue": (0.1, 0.1)},
        0,
        0,
    ),
    ("CLAHE", {"clip_limit": (2, 2)}, 0, 0),
    ("Equalize", {}, 0, 0),
    ("Equalize", {"by_channels": False}, 0, 0),
    ("AutoContrast", {}, 1, 0.2),
    ("RandomToneCurve", {"scale": 0}, 0, 0),
    (
        "ChromaticAberration",
        {"primary_distortion_limit": (0.05, 0.05), "secondary_distortion_limit": (0.1, 0.1)},
        0,
        0,
    ),
    (
        "ChromaticAberration",
        {
            "primary_distortion_limit": (0.05, 0.05),
            "secondary_distortion_limit": (0.1, 0.1),
            "mode": "red_blue",
        },
        0,
        0,
    ),
    ("ToGray", {}, 0, 0),
    ("ToGray", {"method": "from_lab"}, 0, 0),
    ("ToGray", {"method": "desaturation"}, 1, 0.3),  # we round half-levels, it truncates
    ("ToGray", {"method": "average"}, 1, 0.3),
    ("ToGray", {"method": "max"}, 0, 0),
    ("ToGray", {"method": "pca"}, 0, 0),
    ("ToRGB", {}, 0, 0),
]


@pytest.mark.parametrize(
    ("name", "args", "max_tol", "mean_tol"), PAIRS, ids=[f"{p[0]}-{i}" for i, p in enumerate(PAIRS)]
)
def test_matches_albumentations(name, args, max_tol, mean_tol, rgb):
    Al = pytest.importorskip("albumentations")
    image = np.ascontiguousarray(rgb[..., :1]) if name == "ToRGB" else rgb
    ours = getattr(A, name)(**args, p=1)(image=image)["image"].astype(float)
    theirs = getattr(Al, name)(**args, p=1)(image=image)["image"].astype(float)
    assert ours.shape == theirs.shape
    diff = np.abs(ours - theirs)
    assert diff.max() <= max_tol and diff.mean() <= mean_tol + 1e-9


@pytest.mark.parametrize(("name", "args", "max_tol", "mean_tol"), PAIRS[:13], ids=[p[0] for p in PAIRS[:13]])
def test_matches_albumentations_on_float(name, args, max_tol, mean_tol, rgb):
    """float32 inputs: within 1 level, except HueSaturationValue (its float path differs by up to
    4 levels: Albumentations quantizes; we shift the float HSV directly)."""
    Al = pytest.importorskip("albumentations")
    image = as_float(rgb)
    ours = getattr(A, name)(**args, p=1)(image=image)["image"]
    theirs = getattr(Al, name)(**args, p=1)(image=image)["image"]
    tol = 4.5 if name == "HueSaturationValue" else max(max_tol, 1) + 0.01
    assert np.abs(ours - theirs).max() * 255 <= tol


def test_photometric_distort_follows_its_recorded_steps(rgb):
    """Replaying the recorded parameters by hand (torchvision's order: brightness, contrast
    before or after saturation and hue, then the channel permutation) gives the output."""
    transform = A.PhotoMetricDistort(p=1)
    for seed in range(4):
        out = A.Compose([transform], seed=seed, save_applied_params=True)(image=rgb)
        (_, params), *_ = out["applied_transforms"]
        expected = kc.adjust_brightness(rgb, params["brightness"])
        if params["contrast_first"]:
            expected = kc.adjust_contrast(expected, params["contrast"])
        expected = kc.adjust_hue(kc.adjust_saturation(expected, params["saturation"]), params["hue"])
        if not params["contrast_first"]:
            expected = kc.adjust_contrast(expected, params["contrast"])
        expected = expected[..., params["permutation"]]
        np.testing.assert_array_equal(out["image"], expected)
        assert 0.875 <= params["brightness"] <= 1.125 and abs(params["hue"]) <= 0.05


@pytest.mark.parametrize("channels", [2, 3, 4])
@pytest.mark.parametrize("fill", [0, 17, 255, 2.5])
def test_drop_channels_fast_path_equals_channel_writes(channels, fill):
    from invariance.kernels.color import drop_channels

    image = np.random.default_rng(channels).integers(0, 256, (7, 9, channels), dtype=np.uint8)
    for dropped in ([0], [channels - 1], [0, 1][: channels - 1]):
        expected = image.copy()
        for c in dropped:
            expected[:, :, c] = fill
        before = image.copy()
        np.testing.assert_array_equal(drop_channels(image, dropped, fill), expected)
        np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize("shifts", [(37, 0, 0), (-20, 0, 0), (0, 30, 0), (0, 0, -40), (10, -20, 25)])
def test_shift_hsv_plane_lookup_equals_three_channel_table(shifts):
    hue, sat, val = shifts
    image = np.random.default_rng(1).integers(0, 256, (31, 47, 3), dtype=np.uint8)
    before = image.copy()
    levels = np.arange(256, dtype=np.float64)
    table = np.empty((256, 1, 3), dtype=np.uint8)
    table[:, 0, 0] = np.mod(np.rint(levels + hue), 180)
    table[:, 0, 1] = np.clip(np.rint(levels + sat), 0, 255)
    table[0, 0, 1] = 0
    table[:, 0, 2] = np.clip(np.rint(levels + val), 0, 255)
    hsv = cv2.LUT(cv2.cvtColor(image, cv2.COLOR_RGB2HSV), table)
    expected = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    np.testing.assert_array_equal(kc.shift_hsv(image, hue, sat, val), expected)
    np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64, np.int32])
def test_repeat_channel_is_copies_of_the_plane_for_any_count_and_dtype(dtype):
    """Three channels go through OpenCV's gray-to-RGB expansion, others through merge: both must
    be plain copies of the plane (not RGBA's alpha, not a view of the input)."""
    plane = (np.random.default_rng(4).random((9, 14)) * 200).astype(dtype)
    for count in (1, 2, 3, 4, 5):
        out = kc.repeat_channel(plane, count)
        assert out.shape == (9, 14, count) and out.dtype == plane.dtype
        np.testing.assert_array_equal(out, np.repeat(plane[:, :, None], count, axis=2))
        assert not np.shares_memory(out, plane)
