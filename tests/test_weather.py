"""Weather, scene and lighting transforms: the direction of each effect, seeds, targets, errors."""

from __future__ import annotations

import numpy as np
import pytest

import invariance as A
from invariance.kernels import weather as kw

WEATHER = [
    A.RandomRain,
    A.RandomSnow,
    A.RandomFog,
    A.RandomSunFlare,
    A.RandomShadow,
    A.RandomGravel,
    A.Spatter,
    A.Illumination,
    A.PlasmaBrightnessContrast,
    A.PlasmaShadow,
    A.HEStain,
]


def _run(transform: A.BasicTransform, image: np.ndarray, seed: int = 0, **data: object) -> dict:
    return A.Compose([transform], seed=seed)(image=image, **data)


@pytest.fixture()
def grey() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(60, 140, (96, 128, 3), dtype=np.uint8)


def _contrast(img: np.ndarray) -> float:
    return float(img.astype(np.float64).std())


def test_fog_raises_brightness_and_lowers_contrast(photo):
    out = _run(A.RandomFog(fog_coef_range=(0.6, 0.6), p=1), photo)["image"]
    assert out.mean() > photo.mean() + 20
    assert _contrast(out) < 0.8 * _contrast(photo)
    stronger = _run(A.RandomFog(fog_coef_range=(1.0, 1.0), p=1), photo)["image"]
    assert stronger.mean() > out.mean()


def test_fog_float_matches_uint8(photo):
    t = A.RandomFog(fog_coef_range=(0.5, 0.5), p=1)
    u8 = _run(t, photo, seed=3)["image"]
    f32 = _run(t, photo.astype(np.float32) / 255, seed=3)["image"]
    assert f32.dtype == np.float32 and f32.min() >= 0 and f32.max() <= 1
    assert np.abs(f32 * 255 - u8).max() <= 2


@pytest.mark.parametrize("blur_value", [1, 3])
def test_rain_float_matches_uint8(photo, blur_value):
    # Same drops on both dtypes: soft (anti-aliased) streak edges on float images too.
    drops = np.array([[20.0, 10.0], [64.5, 40.0], [100.0, 70.0], [33.0, 90.0]])
    args = (drops, 12.0, 20, 2, (0, 0, 0), blur_value, 0.9)
    u8 = kw.rain(photo, *args).astype(np.float32) / 255
    f32 = kw.rain(photo.astype(np.float32) / 255, *args)
    np.testing.assert_allclose(u8, f32, atol=3 / 255)


def test_shadow_darkens_inside_polygons_only(grey):
    t = A.RandomShadow(shadow_roi=(0, 0.5, 1, 1), shadow_intensity_range=(0.6, 0.6), p=1)
    pipe = A.Compose([t], seed=5, save_applied_params=True)
    result = pipe(image=grey)
    out = result["image"]
    params = result["applied_transforms"][0][1]
    inside = kw.polygon_mask(grey.shape[:2], [np.asarray(p) for p in params["polygons"]]).astype(bool)
    assert inside.any()
    ratio = out[inside].astype(float).mean() / grey[inside].astype(float).mean()
    assert ratio == pytest.approx(0.4, abs=0.02 + 0.4 * 0.6 * (len(params["polygons"]) - 1))
    np.testing.assert_array_equal(out[~inside], grey[~inside])
    assert not inside[: grey.shape[0] // 2 - 1].any()  # only inside the region of interest


def test_shadow_kernel_exact():
    img = np.full((10, 10, 3), 200, np.uint8)
    out = kw.shadow(img, [np.array([[0, 0], [4, 0], [4, 4], [0, 4]])], [0.25])
    assert out[2, 2, 0] == 150 and out[8, 8, 0] == 200


def test_rain_adds_bright_streaks_and_darkens_the_scene(grey):
    flat = np.full_like(grey, 80)
    out = _run(A.RandomRain(brightness_coefficient=0.7, drop_color=(230, 230, 230), p=1), flat)["image"]
    assert np.median(out) == 56  # 80 * 0.7: the scene between the streaks
    assert out.max() > 150  # the streaks are bright
    assert 0.01 < (out > 100).mean() < 0.5


def test_rain_types_change_drop_count(grey):
    flat = np.full_like(grey, 80)
    drizzle = _run(A.RandomRain(rain_type="drizzle", p=1), flat)["image"]
    torrential = _run(A.RandomRain(rain_type="torrential", p=1), flat)["image"]
    assert (torrential > 100).sum() > (drizzle > 100).sum()


def test_sun_flare_brightens_near_centre(photo):
    t = A.RandomSunFlare(flare_roi=(0.5, 0.5, 0.5, 0.5), src_radius=30, num_flare_circles_range=(0, 0), p=1)
    out = _run(t, photo)["image"].astype(float)
    cy, cx = photo.shape[0] // 2, photo.shape[1] // 2
    near = out[cy - 3 : cy + 4, cx - 3 : cx + 4]
    assert near.mean() > 235
    assert near.mean() > photo[cy - 3 : cy + 4, cx - 3 : cx + 4].mean() + 20
    np.testing.assert_array_equal(out[:20, :20], photo[:20, :20])  # far from the sun: untouched


def test_sun_flare_physics_brightens_near_centre(photo):
    t = A.RandomSunFlare(
        flare_roi=(0.25, 0.25, 0.25, 0.25),
        src_radius=40,
        method="physics_based",
        src_color=(255, 255, 255),
        p=1,
    )
    out = _run(t, photo)["image"].astype(float)
    y, x = photo.shape[0] // 4, photo.shape[1] // 4
    assert out[y, x].mean() > 240
    assert (out >= photo).all()  # a screen blend only adds light


def test_snow_bleach_brightens_dark_pixels_only():
    img = np.zeros((4, 4, 3), np.uint8)
    img[:2] = (40, 40, 40)
    img[2:] = (230, 230, 230)
    out = kw.snow_bleach(img, 0.2, 2.5)
    assert out[0, 0, 0] == 100  # lightness 40 < threshold (0.1 + 1/3) * 255 -> * 2.5
    assert out[3, 3, 0] == 230


def test_snow_texture_brightens(photo):
    out = _run(A.RandomSnow(method="texture", snow_point_range=(0.3, 0.3), p=1), photo)["image"]
    assert out.mean() > photo.mean() + 10


def test_gravel_changes_only_inside_roi(photo):
    out = _run(A.RandomGravel(gravel_roi=(0.5, 0.5, 1, 1), number_of_patches=3, p=1), photo)["image"]
    changed = np.any(out != photo, axis=2)
    assert changed.any()
    ys, xs = np.nonzero(changed)
    assert ys.min() >= photo.shape[0] // 2 - 3 and xs.min() >= photo.shape[1] // 2 - 3


@pytest.mark.parametrize("mode", ["rain", "mud"])
def test_spatter_changes_part_of_the_image(photo, mode):
    out = _run(A.Spatter(mode=mode, p=1), photo)["image"]
    changed = np.any(np.abs(out.astype(int) - photo) > 3, axis=2).mean()
    assert 0.01 < changed < 0.99
    if mode == "mud":
        assert out.mean() < photo.mean()  # dark mud


def test_spatter_threshold_controls_amount(photo):
    few = _run(A.Spatter(cutout_threshold=(0.9, 0.9), p=1), photo)["image"]
    many = _run(A.Spatter(cutout_threshold=(0.6, 0.6), p=1), photo)["image"]
    assert np.abs(few.astype(int) - photo).sum() < np.abs(many.astype(int) - photo).sum()


def test_illumination_directions(grey):
    flat = np.full_like(grey, 100)
    right = _run(
        A.Illumination(angle_range=(0, 0), intensity_range=(0.2, 0.2), effect_type="brighten", p=1), flat
    )
    img = right["image"].astype(float)
    assert img[:, -1].mean() == pytest.approx(120, abs=1) and img[:, 0].mean() == pytest.approx(80, abs=1)
    spot = A.Illumination(
        mode="gaussian", center_range=(0.5, 0.5), intensity_range=(0.2, 0.2), effect_type="darken", p=1
    )
    img = _run(spot, flat)["image"].astype(float)
    h, w = flat.shape[:2]
    assert img[h // 2, w // 2, 0] == pytest.approx(80, abs=1)
    assert img[0, 0, 0] > img[h // 2, w // 2, 0]
    corner = _run(
        A.Illumination(mode="corner", effect_type="brighten", intensity_range=(0.2, 0.2), p=1), flat
    )
    assert corner["image"].max() == 120 and corner["image"].min() == 100


def test_plasma_shadow_darkens_and_brightness_contrast_follow_sign(photo):
    dark = _run(A.PlasmaShadow(shadow_intensity_range=(0.5, 0.5), p=1), photo)["image"]
    assert (dark <= photo).all() and dark.mean() < photo.mean() - 5
    up = A.PlasmaBrightnessContrast(brightness_range=(0.3, 0.3), contrast_range=(0, 0), p=1)
    assert _run(up, photo)["image"].mean() > photo.mean() + 5
    more = A.PlasmaBrightnessContrast(brightness_range=(0, 0), contrast_range=(0.5, 0.5), p=1)
    assert _contrast(_run(more, photo)["image"]) > _contrast(photo)


def _plasma(size: int, roughness: float, seed: int) -> np.ndarray:
    gen = np.random.default_rng(seed)
    shape = kw.plasma_spectrum_shape(size)
    phases = gen.random(shape)
    return kw.plasma(size, roughness, phases, gen.rayleigh(1.0, shape))


def test_plasma_field_is_deterministic_and_in_unit_range():
    a = _plasma(64, 3.0, 5)
    np.testing.assert_array_equal(a, _plasma(64, 3.0, 5))
    assert a.min() == 0.0 and a.max() == 1.0
    assert not np.array_equal(a, _plasma(64, 3.0, 6))
    # rougher fields keep more high-frequency energy
    smooth, rough = _plasma(64, 0.5, 1), _plasma(64, 10.0, 1)
    assert np.abs(np.diff(rough, axis=1)).mean() > np.abs(np.diff(smooth, axis=1)).mean()


def test_he_stain_preset_identity_and_change(photo):
    same = A.HEStain(
        method="preset",
        preset="ruifrok",
        intensity_scale_range=(1, 1),
        intensity_shift_range=(0, 0),
        augment_background=True,
        p=1,
    )
    out = _run(same, photo)["image"]
    assert np.abs(out.astype(int) - photo).max() <= 2  # unmix and remix without change: identity
    strong = A.HEStain(
        method="preset",
        preset="ruifrok",
        intensity_scale_range=(1.6, 1.6),
        intensity_shift_range=(0, 0),
        augment_background=True,
        p=1,
    )
    assert _run(strong, photo)["image"].mean() < photo.mean()  # more stain absorbs more light


def test_he_stain_macenko_estimate_is_unit_rows(photo):
    matrix = kw.macenko_matrix(photo)
    assert matrix.shape == (2, 3)
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-6)
    out = _run(A.HEStain(method="macenko", p=1), photo)["image"]
    assert out.shape == photo.shape and out.dtype == np.uint8


@pytest.mark.parametrize("cls", WEATHER, ids=lambda c: c.__name__)
def test_seed_reproduces_and_targets_untouched(cls, photo):
    transform = cls(p=1)
    data = {
        "image": photo,
        "mask": (photo[..., 0] > 128).astype(np.uint8),
        "bboxes": [[10, 10, 60, 70]],
        "labels": [1],
        "keypoints": [[20.0, 30.0]],
    }
    pipe = lambda seed: A.Compose(  # noqa: E731
        [cls(p=1)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        keypoint_params=A.KeypointParams(format="xy"),
        seed=seed,
    )
    a, b = pipe(3)(**data), pipe(3)(**data)
    np.testing.assert_array_equal(a["image"], b["image"])
    np.testing.assert_array_equal(a["mask"], data["mask"])
    assert a["bboxes"] == data["bboxes"] and a["keypoints"] == data["keypoints"]
    assert not np.array_equal(a["image"], photo), f"{transform!r} did nothing"
    c = pipe(4)(**data)
    if cls not in (A.RandomSnow,):  # bleach snow has little randomness at defaults
        assert not np.array_equal(a["image"], c["image"])


@pytest.mark.parametrize("cls", WEATHER, ids=lambda c: c.__name__)
def test_replay_reproduces(cls, photo):
    pipe = A.ReplayCompose([cls(p=1)], seed=2)
    first = pipe(image=photo)
    again = A.ReplayCompose.replay(first["replay"], image=photo)
    np.testing.assert_array_equal(first["image"], again["image"])


@pytest.mark.parametrize(
    "cls", [A.RandomRain, A.RandomSnow, A.RandomFog, A.RandomSunFlare, A.Spatter, A.HEStain]
)
def test_rgb_only_transforms_reject_other_channel_counts(cls):
    with pytest.raises(A.InputError, match="channels"):
        _run(cls(p=1), np.zeros((16, 16, 4), np.uint8))


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_shadow_darkens_every_band_of_a_multispectral_image_alike(dtype):
    bands = np.linspace(0.3, 0.9, 5, dtype=np.float32)
    img = np.ones((40, 50, 5), np.float32) * bands
    img = (img * 255).round().astype(np.uint8) if dtype == np.uint8 else img
    shadow = A.RandomShadow(shadow_roi=(0, 0, 1, 1), shadow_intensity_range=(0.5, 0.5), p=1)
    out = _run(shadow, img, seed=4)["image"]
    assert out.shape == img.shape and out.dtype == img.dtype
    ratio = out.astype(np.float64) / img.astype(np.float64)
    shaded = ratio[..., 0] < 0.9
    assert 0 < shaded.mean() < 1
    # One factor per pixel, the same in every band (up to uint8 rounding).
    np.testing.assert_allclose(ratio[shaded], np.repeat(ratio[shaded][:, :1], 5, axis=1), atol=0.02)
    # Each shadow halves what it covers; where shadows overlap they compound.
    powers = 0.5 ** np.arange(1, 4)
    assert np.abs(ratio[shaded][:, :1] - powers).min(axis=1).max() < 0.02


@pytest.mark.parametrize(
    ("cls", "kwargs", "name"),
    [
        (A.RandomShadow, {"shadow_roi": (0.5, 0, 0.2, 1)}, "shadow_roi"),
        (A.RandomShadow, {"num_shadows_limit": (0, 2)}, "num_shadows_limit"),
        (A.RandomFog, {"fog_coef_range": (0.5, 1.5)}, "fog_coef_range"),
        (A.RandomRain, {"brightness_coefficient": 0}, "brightness_coefficient"),
        (A.RandomSunFlare, {"flare_roi": (0, 0, 1.5, 1)}, "flare_roi"),
        (A.RandomSnow, {"method": "ice"}, "method"),
        (A.Spatter, {"mode": "oil"}, "mode"),
        (A.Illumination, {"intensity_range": (0.5, 0.1)}, "intensity_range"),
        (A.PlasmaShadow, {"roughness": 0}, "roughness"),
        (A.HEStain, {"preset": "purple"}, "preset"),
    ],
)
def test_bad_arguments_name_the_argument(cls, kwargs, name):
    with pytest.raises(A.ParameterError, match=name):
        cls(**kwargs)


@pytest.mark.oracle
def test_defaults_match_albumentations():
    Al = pytest.importorskip("albumentations")
    import inspect

    for cls in WEATHER:
        ours = {k: v for k, v in inspect.signature(cls).parameters.items() if k != "self"}
        theirs = inspect.signature(getattr(Al, cls.__name__)).parameters
        assert list(ours) == list(theirs), cls.__name__
        for key, param in theirs.items():
            default = param.default
            if isinstance(default, list):
                default = tuple(default)
            assert ours[key].default == default, (cls.__name__, key)


@pytest.mark.oracle
def test_snow_bleach_matches_albumentations(photo):
    Al = pytest.importorskip("albumentations")
    theirs = Al.RandomSnow(snow_point_range=(0.2, 0.2), p=1)(image=photo)["image"]
    ours = _run(A.RandomSnow(snow_point_range=(0.2, 0.2), p=1), photo)["image"]
    assert np.abs(theirs.astype(int) - ours).mean() < 2


VARIANTS = [
    A.HEStain(method="macenko", p=1),
    A.HEStain(method="vahadane", p=1),
    A.HEStain(method="preset", preset="e_heavy", p=1),
    A.RandomSunFlare(method="physics_based", p=1),
    A.RandomSnow(method="texture", p=1),
    A.Spatter(mode="mud", color=(10, 200, 10), p=1),
    A.Illumination(mode="corner", p=1),
    A.Illumination(mode="gaussian", p=1),
    A.RandomRain(rain_type="torrential", p=1),
    A.RandomRain(drop_width=3, blur_value=1, drop_length=5, p=1),
]


@pytest.mark.parametrize("transform", VARIANTS, ids=repr)
@pytest.mark.parametrize("kind", ["uint8", "float32", "grey2d", "grey1"])
def test_variants_keep_shape_dtype_and_range(transform, kind):
    rng = np.random.default_rng(0)
    image = {
        "uint8": rng.integers(0, 256, (40, 50, 3), dtype=np.uint8),
        "float32": rng.random((40, 50, 3), dtype=np.float32),
        "grey2d": rng.integers(0, 256, (40, 50), dtype=np.uint8),
        "grey1": rng.random((40, 50, 1), dtype=np.float32),
    }[kind]
    out = _run(transform, image)["image"]
    assert out.shape == image.shape and out.dtype == image.dtype
    if out.dtype == np.float32:
        assert out.min() >= 0.0 and out.max() <= 1.0
