"""Noise transforms: seeds reproduce, statistics match the requested parameters, ranges hold."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import invariance as A

NOISES = ["GaussNoise", "ISONoise", "MultiplicativeNoise", "ShotNoise", "SaltAndPepper", "AdditiveNoise"]


def _run(transform: A.BasicTransform, image: np.ndarray, seed: int = 0) -> np.ndarray:
    return A.Compose([transform], seed=seed)(image=image)["image"]


def _gray(value: float, dtype: type, shape: tuple[int, ...] = (256, 256, 3)) -> np.ndarray:
    if dtype == np.uint8:
        return np.full(shape, round(value * 255), np.uint8)
    return np.full(shape, value, np.float32)


@pytest.mark.parametrize("name", NOISES)
def test_seed_reproduces_and_seeds_differ(name, photo):
    cls = getattr(A, name)
    transform = cls(**{**cls.example_args, "p": 1})
    first = _run(transform, photo, seed=5)
    np.testing.assert_array_equal(first, _run(cls(**{**cls.example_args, "p": 1}), photo, seed=5))
    assert not np.array_equal(first, _run(transform, photo, seed=6))


@pytest.mark.parametrize("name", NOISES)
def test_replay_stores_a_seed_not_the_noise(name, photo):
    cls = getattr(A, name)
    pipeline = A.ReplayCompose([cls(**{**cls.example_args, "p": 1})], seed=1)
    result = pipeline(image=photo)
    assert len(json.dumps(result["replay"])) < 2000
    again = A.ReplayCompose.replay(result["replay"], image=photo)
    np.testing.assert_array_equal(again["image"], result["image"])


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("std", [0.03, 0.1])
def test_gauss_noise_has_the_requested_std_and_mean(dtype, std):
    image = _gray(0.5, dtype)
    out = _run(A.GaussNoise(std_range=(std, std), mean_range=(0.02, 0.02), p=1), image)
    white = 255.0 if dtype == np.uint8 else 1.0
    residual = (out.astype(np.float64) - image) / white
    assert residual.std() == pytest.approx(std, rel=0.03, abs=0.002)
    assert residual.mean() == pytest.approx(0.02, abs=0.003)
    # per_channel=True: channels are independent.
    corr = np.corrcoef(residual[..., 0].ravel(), residual[..., 1].ravel())[0, 1]
    assert abs(corr) < 0.02


def test_gauss_noise_shared_across_channels_and_coarse_grain():
    image = _gray(0.5, np.float32)
    out = _run(A.GaussNoise(std_range=(0.1, 0.1), per_channel=False, p=1), image)
    np.testing.assert_array_equal(out[..., 0], out[..., 1])
    coarse = _run(A.GaussNoise(std_range=(0.1, 0.1), noise_scale_factor=0.25, p=1), image) - 0.5
    fine = _run(A.GaussNoise(std_range=(0.1, 0.1), p=1), image) - 0.5

    def neighbour_corr(x: np.ndarray) -> float:
        return float(np.corrcoef(x[:, :-1, 0].ravel(), x[:, 1:, 0].ravel())[0, 1])

    assert neighbour_corr(coarse) > 0.5 > abs(neighbour_corr(fine))


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_uint8_saturates_and_float_stays_in_unit_range(dtype):
    for value in (0.0, 1.0):
        image = _gray(value, dtype, (64, 64, 3))
        for transform in (
            A.GaussNoise(std_range=(0.5, 0.5), p=1),
            A.AdditiveNoise(noise_type="laplace", spatial_mode="per_pixel", p=1),
            A.MultiplicativeNoise(multiplier=(0.0, 3.0), elementwise=True, p=1),
            A.ShotNoise(scale_range=(1.0, 1.0), p=1),
            A.ISONoise(intensity=(1.0, 1.0), p=1),
        ):
            out = _run(transform, image)
            assert out.dtype == image.dtype
            if dtype == np.float32:
                assert out.min() >= 0.0 and out.max() <= 1.0
    bright = _run(A.GaussNoise(std_range=(0.3, 0.3), p=1), _gray(1.0, np.uint8))
    assert bright.max() == 255 and (bright == 255).mean() > 0.4


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize(("amount", "ratio"), [(0.05, 0.5), (0.2, 0.8), (0.01, 0.0)])
def test_salt_and_pepper_changes_exactly_the_requested_fraction(dtype, amount, ratio):
    image = _gray(0.5, dtype, (120, 100, 3))
    out = _run(A.SaltAndPepper(amount=(amount, amount), salt_vs_pepper=(ratio, ratio), p=1), image)
    white = 255 if dtype == np.uint8 else 1.0
    salt = np.all(out == white, axis=2)
    pepper = np.all(out == 0, axis=2)
    pixels = 120 * 100
    assert salt.sum() == math.floor(pixels * amount * ratio)
    assert pepper.sum() == math.floor(pixels * amount * (1 - ratio))
    untouched = ~(salt | pepper)
    np.testing.assert_array_equal(out[untouched], image[untouched])


def test_multiplicative_noise_formula():
    image = np.arange(256, dtype=np.uint8).reshape(16, 16)[:, :, None].repeat(3, axis=2)
    out = _run(A.MultiplicativeNoise(multiplier=(1.5, 1.5), p=1), image)
    np.testing.assert_array_equal(out, np.clip(np.floor(image * 1.5 + 0.5), 0, 255).astype(np.uint8))
    per_channel = _run(A.MultiplicativeNoise(multiplier=(0.5, 1.5), per_channel=True, p=1), image)
    ratios = per_channel[4:8].astype(float).mean(axis=(0, 1)) / image[4:8].mean(axis=(0, 1))
    assert len(set(np.round(ratios, 3))) == 3
    element = _run(
        A.MultiplicativeNoise(multiplier=(0.8, 1.2), elementwise=True, p=1), _gray(0.5, np.float32)
    )
    ratio = element / 0.5
    assert ratio.min() >= 0.8 - 1e-6 and ratio.max() <= 1.2 + 1e-6
    assert ratio.std() == pytest.approx(0.4 / math.sqrt(12), rel=0.05)


def test_shot_noise_statistics():
    # Poisson in linear light: E[counts * scale] = linear value, Var = linear value * scale.
    scale, value = 0.05, 0.6
    out = _run(A.ShotNoise(scale_range=(scale, scale), p=1), _gray(value, np.float32))
    linear = out.astype(np.float64) ** 2.2
    expected = value**2.2
    assert linear.mean() == pytest.approx(expected, rel=0.02)
    assert linear.var() == pytest.approx(expected * scale, rel=0.05)
    noisier = _run(A.ShotNoise(scale_range=(0.5, 0.5), p=1), _gray(value, np.float32))
    assert noisier.std() > 2 * out.std()


def test_shot_noise_statistics_match_albumentations():
    Al = pytest.importorskip("albumentations")
    image = _gray(0.4, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = Al.ShotNoise(scale_range=(0.2, 0.2), p=1)(image=image)["image"]
    ours = _run(A.ShotNoise(scale_range=(0.2, 0.2), p=1), image)
    assert ours.mean() == pytest.approx(theirs.mean(), abs=0.005)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)


def test_iso_noise_needs_rgb_and_adds_noise(photo):
    with pytest.raises(A.InputError, match="RGB"):
        _run(A.ISONoise(p=1), np.zeros((8, 8, 5), np.uint8))
    out = _run(A.ISONoise(color_shift=(0.05, 0.05), intensity=(0.5, 0.5), p=1), photo)
    assert np.abs(out.astype(float) - photo).mean() > 1
    gray = _run(A.ISONoise(intensity=(0.5, 0.5), p=1), photo[:, :, 0])
    assert gray.shape == photo.shape[:2]
    # Luminance noise only lifts lightness towards white.
    assert (gray.astype(int) >= photo[:, :, 0].astype(int) - 1).all()
    still = _run(A.ISONoise(color_shift=(0.0, 0.0), intensity=(0.0, 0.0), p=1), photo)
    np.testing.assert_allclose(still.astype(float), photo.astype(float), atol=1)


def test_iso_noise_strength_matches_albumentations(photo):
    Al = pytest.importorskip("albumentations")
    kwargs = {"color_shift": (0.03, 0.03), "intensity": (0.4, 0.4)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = Al.ISONoise(**kwargs, p=1)(image=photo)["image"].astype(float) - photo
    ours = _run(A.ISONoise(**kwargs, p=1), photo).astype(float) - photo
    assert ours.mean() == pytest.approx(theirs.mean(), abs=1.0)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.15)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_additive_noise_distributions(dtype):
    image = _gray(0.5, dtype)
    white = 255.0 if dtype == np.uint8 else 1.0
    tol = 0.004 if dtype == np.uint8 else 0.002

    def residual(**kwargs: object) -> np.ndarray:
        return (_run(A.AdditiveNoise(**kwargs, p=1), image).astype(np.float64) - image) / white

    constant = residual(noise_params={"ranges": [(-0.2, -0.1), (0.0, 0.0), (0.1, 0.2)]})
    for c, (low, high) in enumerate([(-0.2, -0.1), (0.0, 0.0), (0.1, 0.2)]):
        values = np.unique(np.round(constant[..., c], 6))
        assert len(values) == 1 and low - tol <= values[0] <= high + tol
    uniform = residual(spatial_mode="per_pixel", noise_params={"ranges": [(-0.1, 0.3)]})
    assert uniform.min() >= -0.1 - tol and uniform.max() <= 0.3 + tol
    assert uniform.std() == pytest.approx(0.4 / math.sqrt(12), rel=0.03)
    gaussian = residual(
        noise_type="gaussian", spatial_mode="per_pixel", noise_params={"std_range": (0.08, 0.08)}
    )
    assert gaussian.std() == pytest.approx(0.08, rel=0.03)
    laplace = residual(
        noise_type="laplace", spatial_mode="per_pixel", noise_params={"scale_range": (0.05, 0.05)}
    )
    assert laplace.std() == pytest.approx(0.05 * math.sqrt(2), rel=0.05)
    assert np.median(np.abs(laplace)) == pytest.approx(0.05 * math.log(2), rel=0.05)
    beta = residual(
        noise_type="beta",
        spatial_mode="shared",
        noise_params={"alpha_range": (2, 2), "beta_range": (2, 2), "scale_range": (0.2, 0.2)},
    )
    np.testing.assert_array_equal(beta[..., 0], beta[..., 2])
    assert beta.min() >= -0.2 - tol and beta.max() <= 0.2 + tol
    # Beta(2, 2) has variance 1/20; (2 X - 1) * 0.2 has std 0.2 * 2 * sqrt(1/20).
    assert beta.std() == pytest.approx(0.4 * math.sqrt(1 / 20), rel=0.05)


def test_additive_noise_approximation_draws_coarse_noise():
    image = _gray(0.5, np.float32)
    out = _run(A.AdditiveNoise(spatial_mode="per_pixel", approximation=0.25, p=1), image) - 0.5
    corr = np.corrcoef(out[:, :-1, 0].ravel(), out[:, 1:, 0].ravel())[0, 1]
    assert corr > 0.5


def test_additive_noise_validates_its_params():
    with pytest.raises(A.ParameterError, match="noise_params"):
        A.AdditiveNoise(noise_type="gaussian", noise_params={"std_range": (0.1, 2.0)})
    with pytest.raises(A.ParameterError, match="noise_params"):
        A.AdditiveNoise(noise_type="uniform", noise_params={"std_range": (0.1, 0.2)})
    with pytest.raises(A.ParameterError, match="noise_params"):
        A.AdditiveNoise(noise_params={"ranges": [(0.5, -0.5)]})
    assert A.AdditiveNoise(noise_type="beta").noise_params["scale_range"] == (0.1, 0.3)
    # Albumentations' own form, with the noise type repeated inside, is accepted.
    A.AdditiveNoise(noise_type="laplace", noise_params={"noise_type": "laplace", "scale_range": (0.1, 0.1)})
    with pytest.raises(A.InputError, match="channels"):
        _run(
            A.AdditiveNoise(noise_params={"ranges": [(0, 0.1), (0, 0.1)]}, p=1), np.zeros((8, 8, 3), np.uint8)
        )


def test_bad_arguments_name_the_argument():
    with pytest.raises(A.ParameterError, match="'std_range'"):
        A.GaussNoise(std_range=(0.1, 1.5))
    with pytest.raises(A.ParameterError, match="'noise_scale_factor'"):
        A.GaussNoise(noise_scale_factor=0)
    with pytest.raises(A.ParameterError, match="'amount'"):
        A.SaltAndPepper(amount=(0.5, 0.2))
    with pytest.raises(A.ParameterError, match="'multiplier'"):
        A.MultiplicativeNoise(multiplier=(-1.0, 1.0))


def test_frames_share_the_noise_and_targets_pass_through(scene):
    image = scene["image"]
    frames = np.stack([image, image])
    pipeline = A.Compose(
        [A.GaussNoise(p=1), A.SaltAndPepper(p=1)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        seed=2,
    )
    out = pipeline(
        images=frames, image=image, mask=scene["mask"], bboxes=scene["bboxes"], labels=scene["labels"]
    )
    np.testing.assert_array_equal(out["images"][0], out["images"][1])
    np.testing.assert_array_equal(out["images"][0], out["image"])
    np.testing.assert_array_equal(out["mask"], scene["mask"])
    np.testing.assert_allclose(np.asarray(out["bboxes"], float), np.asarray(scene["bboxes"], float))
