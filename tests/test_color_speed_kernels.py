"""The fast uint8 colour kernels (issue 23) against their definitions written out from first
principles: per-channel tables as a numpy gather, shifts as ``clip(rint(level + shift))``, HSV
shifts as OpenCV's HSV conversion with the shift done in numpy, ColorJitter as its steps one
after another. Every kernel also returns a new array that shares no memory with its input (nor
with an earlier result: reused buffers never leak out) and leaves its input as it was."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

import invariance as A
from invariance.kernels import color as kc
from invariance.kernels import tone as kt

LEVELS = np.arange(256, dtype=np.float64)


@pytest.fixture(params=["stringzilla", "opencv"])
def translate(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with stringzilla's byte translation and again with the OpenCV fallback."""
    if request.param == "stringzilla":
        pytest.importorskip("stringzilla")
        monkeypatch.setattr(kc, "_BYTE_TRANSLATE", None)  # looked up again on first use
    else:
        monkeypatch.setattr(kc, "_BYTE_TRANSLATE", False)
    return str(request.param)


def images(seed: int, channels: int = 3, count: int = 6) -> list[np.ndarray]:
    """Random uint8 images of odd sizes, one of them a non-contiguous view, one nearly gray."""
    rng = np.random.default_rng(seed)
    out = [rng.integers(0, 256, (int(rng.integers(1, 40)), int(rng.integers(1, 40)), channels), np.uint8)]
    out += [rng.integers(0, 256, (23, 31, channels), np.uint8) for _ in range(count - 3)]
    out.append(rng.integers(0, 256, (20, 50, channels), np.uint8)[:, ::2])  # a strided view
    gray = rng.integers(0, 256, (17, 19, 1), np.uint8)
    out.append(np.clip(gray.astype(int) + rng.integers(-1, 2, (17, 19, channels)), 0, 255).astype(np.uint8))
    return out


def check_fresh(kernel: Callable[[np.ndarray], np.ndarray], image: np.ndarray) -> np.ndarray:
    """Call ``kernel`` twice on ``image``: each result is a new array, sharing no memory with the
    input or with the other result, the first unchanged by the second call, the input untouched."""
    before = image.copy()
    first = kernel(image)
    kept = first.copy()
    second = kernel(image)
    assert not np.shares_memory(first, image)
    assert not np.shares_memory(first, second)
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(image, before)
    return first


# -- references ------------------------------------------------------------------------------


def gather(image: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``out[..., c] = table[image[..., c], c]``."""
    out = np.empty_like(image)
    for c in range(image.shape[2]):
        out[..., c] = table[image[..., c], c]
    return out


def shifted(image: np.ndarray, shifts: list[float]) -> np.ndarray:
    """Each channel plus its shift, rounded half to even and saturated, in float64."""
    out = np.rint(image.astype(np.float64) + np.asarray(shifts, dtype=np.float64))
    return np.clip(out, 0, 255).astype(np.uint8)


def hsv_shifted(image: np.ndarray, hue: float, sat: float, val: float) -> np.ndarray:
    """OpenCV's uint8 HSV, hue plus ``hue`` modulo 180, saturation plus ``sat`` where it is not
    0 (a gray pixel stays gray), value plus ``val``, saturated; back to RGB."""
    levels = np.arange(256, dtype=np.float64)
    hue_levels, other_levels = levels[:180], levels[1:]  # saturation 0 stays 0 (gray stays gray)
    if (
        np.array_equal(np.mod(np.rint(hue_levels + hue), 180), hue_levels)
        and np.array_equal(np.clip(np.rint(other_levels + sat), 0, 255), other_levels)
        and np.array_equal(np.clip(np.rint(levels + val), 0, 255), levels)
    ):
        return image.copy()  # every level stays: the image as it is, without the HSV round trip
    h, s, v = np.moveaxis(cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.float64), 2, 0)
    h = np.mod(np.rint(h + hue), 180)
    s = np.where(s == 0, 0, np.clip(np.rint(s + sat), 0, 255))
    v = np.clip(np.rint(v + val), 0, 255)
    hsv = np.ascontiguousarray(np.stack([h, s, v], axis=2).astype(np.uint8))
    return np.asarray(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB))


# -- per-channel tables ----------------------------------------------------------------------


@pytest.mark.parametrize("channels", [2, 3, 4, 5])
def test_per_channel_table_equals_gather(channels, translate):
    rng = np.random.default_rng(channels)
    for image in images(channels, channels):
        table = rng.integers(0, 256, (256, channels), dtype=np.uint8)
        table[:, 0] = np.arange(256)  # an identity column is skipped, its channel kept
        result = check_fresh(lambda img, t=table: kc.apply_lut(img, t), image)
        np.testing.assert_array_equal(result, gather(image, table))
        assert result.shape == image.shape and result.dtype == np.uint8


def test_shared_table_still_one_lookup(translate):
    table = np.random.default_rng(0).integers(0, 256, 256, dtype=np.uint8)
    for image in images(1) + [np.zeros((5, 6), np.uint8), np.arange(30, dtype=np.uint8).reshape(5, 6)]:
        result = check_fresh(lambda img: kc.apply_lut(img, table), image)
        np.testing.assert_array_equal(result, table[image])


# -- per-channel shifts (RGBShift, FancyPCA, single-channel value shifts) ----------------------

SHIFTS = [
    [10.0, -5.0, 3.0],
    [0.4, -0.4, 0.6],
    [2.5, -3.5, 0.5],  # exact halves: rint rounds to even, level by level
    [7.49996, -1.50004, 0.0],  # within 1e-4 of a half
    [300.0, -300.0, 255.0],
    [-255.0, 256.0, -1e9],
    [0.0, 0.0, 0.0],
    [-20.0, -1.0, -0.7],
    [20.0, 1.0, 0.7],
]


@pytest.mark.parametrize("shifts", SHIFTS)
def test_add_per_channel_equals_rounded_saturated_sum(shifts):
    for image in images(4):
        result = check_fresh(lambda img: kc.add_per_channel(img, shifts), image)
        np.testing.assert_array_equal(result, shifted(image, shifts))


@pytest.mark.parametrize("channels", [1, 2, 4, 5])
def test_add_per_channel_other_channel_counts(channels):
    rng = np.random.default_rng(channels)
    for image in images(channels, channels):
        shifts = rng.uniform(-60, 60, channels).tolist()
        result = check_fresh(lambda img, s=shifts: kc.add_per_channel(img, s), image)
        np.testing.assert_array_equal(result, shifted(image, shifts))


def test_add_per_channel_random_shifts():
    rng = np.random.default_rng(7)
    image = images(7)[1]
    for _ in range(200):
        shifts = rng.uniform(-280, 280, 3)
        ties = rng.random(3) < 0.2
        shifts[ties] = np.round(shifts[ties]) + 0.5  # exact halves now and then
        np.testing.assert_array_equal(
            kc.add_per_channel(image, shifts.tolist()), shifted(image, shifts.tolist())
        )


def test_rgb_shift_transform_uses_the_drawn_shifts():
    image = images(8)[1]
    for seed in range(5):
        out = A.Compose([A.RGBShift(p=1)], seed=seed, save_applied_params=True)(image=image)
        (_, params), *_ = out["applied_transforms"]
        np.testing.assert_array_equal(out["image"], shifted(image, params["shifts"]))
        as_float = image.astype(np.float32) / 255
        out = A.Compose([A.RGBShift(p=1)], seed=seed, save_applied_params=True)(image=as_float)
        (_, params), *_ = out["applied_transforms"]
        expected = np.clip(as_float + np.asarray(params["shifts"], np.float32) / np.float32(255), 0, 1)
        np.testing.assert_allclose(out["image"], expected, atol=1e-6)


# -- HSV shifts ------------------------------------------------------------------------------

HSV_SHIFTS = [
    (37.0, 0.0, 0.0),
    (-20.0, 0.0, 0.0),
    (0.3, 0.0, 0.0),  # rounds to no hue change: the image as it is
    (0.49995, -0.2, 0.4),  # near a half: rint keeps every level, so nothing moves either
    (180.0, 0.0, 0.0),  # a whole turn
    (179.6, 0.0, 0.0),
    (-250.0, 0.0, 0.0),
    (0.0, 30.0, 0.0),
    (0.0, -30.0, 0.0),
    (0.0, 0.0, -40.0),
    (0.0, 0.0, 12.5),
    (10.0, -20.0, 25.0),
    (-7.5, 14.2, -3.3),
    (0.0, 0.0, 0.0),
]


@pytest.mark.parametrize("shifts", HSV_SHIFTS)
def test_shift_hsv_equals_hsv_reference(shifts, translate):
    for image in images(5):
        result = check_fresh(lambda img: kc.shift_hsv(img, *shifts), image)
        np.testing.assert_array_equal(result, hsv_shifted(image, *shifts))


def test_shift_hsv_random_shifts():
    rng = np.random.default_rng(11)
    image = images(11)[2]
    for _ in range(100):
        hue, sat, val = rng.uniform(-200, 200), rng.uniform(-80, 80), rng.uniform(-80, 80)
        chosen = rng.random(3) < 0.4  # some shifts exactly 0
        hue, sat, val = (0.0 if off else x for off, x in zip(chosen, (hue, sat, val)))
        if rng.random() < 0.2:  # shifts that round to no change
            hue, sat, val = rng.uniform(-0.49, 0.49, 3)
        np.testing.assert_array_equal(kc.shift_hsv(image, hue, sat, val), hsv_shifted(image, hue, sat, val))


@pytest.mark.parametrize("factor", [0.05, -0.05, 0.1, -0.1, 0.5, -0.5, 0.0012, 0.25])
def test_adjust_hue_equals_hsv_reference(factor, translate):
    for image in images(6):
        result = check_fresh(lambda img: kc.adjust_hue(img, factor), image)
        np.testing.assert_array_equal(result, hsv_shifted(image, factor * 180.0, 0.0, 0.0))


def test_hue_saturation_value_transform_uses_the_drawn_shifts():
    image = images(13)[1]
    for seed in range(5):
        out = A.Compose([A.HueSaturationValue(p=1)], seed=seed, save_applied_params=True)(image=image)
        (_, params), *_ = out["applied_transforms"]
        expected = hsv_shifted(image, params["hue_shift"], params["sat_shift"], params["val_shift"])
        np.testing.assert_array_equal(out["image"], expected)


# -- ColorJitter -----------------------------------------------------------------------------


def one_by_one(image: np.ndarray, steps: list[tuple[str, float]]) -> np.ndarray:
    """ColorJitter's steps applied one after another, each by its own kernel."""
    out = image
    for name, factor in steps:
        out = getattr(kc, f"adjust_{name}")(out, factor)
    return out


def random_steps(rng: np.random.Generator) -> list[tuple[str, float]]:
    names = ["brightness", "contrast", "saturation", "hue"]
    factors = {"brightness": rng.uniform(0.5, 1.5), "contrast": rng.uniform(0.5, 1.5)}
    factors |= {"saturation": rng.uniform(0, 2), "hue": rng.uniform(-0.5, 0.5)}
    for name in names:  # identity factors now and then
        if rng.random() < 0.25:
            factors[name] = 0.0 if name == "hue" else 1.0
    return [(names[i], float(factors[names[i]])) for i in rng.permutation(4)[: int(rng.integers(0, 5))]]


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
@pytest.mark.parametrize("channels", [3, 1])
def test_jitter_equals_its_steps_one_by_one(dtype, channels, translate):
    rng = np.random.default_rng(channels)
    for image in images(channels, channels):
        if dtype == "float32":
            image = image.astype(np.float32) / np.float32(255)
        for _ in range(8):
            steps = random_steps(rng)
            result = check_fresh(lambda img, s=steps: kc.jitter(img, s), image)
            expected = one_by_one(image, steps)
            np.testing.assert_array_equal(result, expected)
            assert result.dtype == image.dtype and result.shape == expected.shape


def test_jitter_with_identity_factors_returns_a_copy():
    image = images(14)[1]
    steps = [("hue", 0.0), ("brightness", 1.0), ("saturation", 1.0), ("contrast", 1.0)]
    result = check_fresh(lambda img: kc.jitter(img, steps), image)
    np.testing.assert_array_equal(result, image)
    np.testing.assert_array_equal(check_fresh(lambda img: kc.jitter(img, []), image), image)


def test_color_jitter_transform_replays_its_order():
    image = images(15)[1]
    transform = A.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, p=1)
    for seed in range(6):
        out = A.Compose([transform], seed=seed, save_applied_params=True)(image=image)
        (_, params), *_ = out["applied_transforms"]
        steps = [(name, params["factors"][name]) for name in params["order"]]
        np.testing.assert_array_equal(out["image"], one_by_one(image, steps))
    # A factor of exactly 1 (brightness=0) is skipped, and the result is still a new array.
    flat = A.ColorJitter(brightness=0, contrast=0, saturation=0, hue=0, p=1)(image=image)["image"]
    np.testing.assert_array_equal(flat, image)
    assert not np.shares_memory(flat, image)


# -- gray and invert -------------------------------------------------------------------------


def test_weighted_gray_equals_luma():
    for image in images(16):
        result = check_fresh(lambda img: kc.to_gray(img, "weighted_average", 3), image)
        plane = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
        np.testing.assert_array_equal(result, np.stack([plane] * 3, axis=2))
        luma = image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
        assert np.abs(result[..., 0].astype(np.float64) - luma).max() <= 0.51  # 14-bit fixed-point weights


@pytest.mark.parametrize("shape", [(9, 11), (9, 11, 1), (9, 11, 3), (9, 11, 5)])
def test_invert_equals_white_minus_image(shape):
    image = np.random.default_rng(17).integers(0, 256, shape, dtype=np.uint8)
    image.reshape(-1)[:256] = np.arange(256)[: image.size]  # every level at least once
    result = check_fresh(kt.invert, image)
    np.testing.assert_array_equal(result, (255 - image.astype(np.int32)).astype(np.uint8))
    strided = np.asarray(image[:, ::2])
    np.testing.assert_array_equal(kt.invert(strided), 255 - strided)
    as_float = image.astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(kt.invert(as_float), np.float32(1) - as_float)


def test_shift_tables_equal_rounded_levels():
    """The cached whole-number tables behind the HSV shifts equal ``rint(level + shift)`` taken
    modulo 180 (hue) or saturated (saturation, value), halves and near-halves included."""
    rng = np.random.default_rng(18)
    shifts = [
        *rng.uniform(-600, 600, 300),
        *(np.round(rng.uniform(-300, 300, 60)) + 0.5),
        0.49999,
        1e12,
        -0.0,
    ]
    for shift in shifts:
        rounded = np.rint(LEVELS + shift)
        np.testing.assert_array_equal(kc._shift_table(shift, 180), np.mod(rounded, 180).astype(np.uint8))
        np.testing.assert_array_equal(kc._shift_table(shift, None), np.clip(rounded, 0, 255).astype(np.uint8))


@pytest.mark.parametrize("factor", [0.0, 0.6, 1.0, 1.4, 2.0, 0.123456])
def test_saturation_equals_blend_with_gray(factor):
    weights = np.array([0.299, 0.587, 0.114])
    matrix = factor * np.eye(3) + (1 - factor) * np.tile(weights, (3, 1))  # the blend as a matrix
    for image in images(19):
        result = check_fresh(lambda img: kc.adjust_saturation(img, factor), image)
        np.testing.assert_array_equal(result, cv2.transform(image, matrix))
        exact = image * factor + (image.astype(np.float64) @ weights)[..., None] * (1 - factor)
        assert np.abs(result - np.clip(exact, 0, 255)).max() <= 1.0  # OpenCV's fixed-point matrix
