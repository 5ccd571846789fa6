"""Blur, sharpening and filter transforms: properties, formulas, and agreement with Albumentations 2.0.8."""

from __future__ import annotations

import json
import warnings

import cv2
import numpy as np
import pytest

import invariance as A
from invariance.kernels import blur as kb
from invariance.kernels import filters as kf

BLURS = [
    "Blur",
    "GaussianBlur",
    "MedianBlur",
    "MotionBlur",
    "GlassBlur",
    "Defocus",
    "ZoomBlur",
    "AdvancedBlur",
]
STRONG = {
    "Blur": {"blur_limit": (5, 7)},
    "GaussianBlur": {"sigma_limit": (1.5, 2.0)},
    "MedianBlur": {"blur_limit": (5, 7)},
    "MotionBlur": {"blur_limit": (7, 9)},
    "GlassBlur": {},
    "Defocus": {"radius": (3, 5)},
    "ZoomBlur": {"max_factor": (1.1, 1.2)},
    "AdvancedBlur": {"blur_limit": (7, 9), "sigma_x_limit": (1.0, 2.0), "sigma_y_limit": (1.0, 2.0)},
}


def _laplacian_variance(img: np.ndarray) -> float:
    gray = img.astype(np.float64).mean(axis=2) if img.ndim == 3 else img.astype(np.float64)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def _run(transform: A.BasicTransform, image: np.ndarray, seed: int = 0) -> np.ndarray:
    return A.Compose([transform], seed=seed)(image=image)["image"]


@pytest.mark.parametrize("name", BLURS)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_blur_lowers_high_frequency_energy(name, dtype, photo):
    image = photo if dtype == np.uint8 else photo.astype(np.float32) / 255
    out = _run(getattr(A, name)(**STRONG[name], p=1), image)
    assert out.dtype == image.dtype and out.shape == image.shape
    assert _laplacian_variance(out) < 0.7 * _laplacian_variance(image)


@pytest.mark.parametrize("name", [*BLURS, "Superpixels", "Emboss"])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_constant_image_stays_constant(name, dtype):
    value = 137 if dtype == np.uint8 else 0.4
    image = np.full((40, 48, 3), value, dtype=dtype)
    cls = getattr(A, name)
    out = _run(cls(**{**cls.example_args, **STRONG.get(name, {}), "p": 1}), image)
    tolerance = 1 if dtype == np.uint8 else 1e-5
    np.testing.assert_allclose(out.astype(np.float64), float(value), atol=tolerance)


def test_median_blur_removes_salt_and_pepper(photo):
    clean = cv2.GaussianBlur(photo, (5, 5), 2)
    noisy = _run(A.SaltAndPepper(amount=(0.05, 0.05), p=1), clean)
    restored = _run(A.MedianBlur(blur_limit=(3, 3), p=1), noisy)
    error_noisy = np.abs(noisy.astype(float) - clean).mean()
    error_restored = np.abs(restored.astype(float) - clean).mean()
    assert error_restored < 0.25 * error_noisy


@pytest.mark.parametrize("ksize", [3, 5, 7, 9])
def test_float_median_agrees_with_uint8_median(ksize, photo):
    expected = kb.median_blur(photo, ksize)
    got = kb.median_blur(photo.astype(np.float32) / 255, ksize)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected.astype(np.float32) / 255, atol=1e-6)
    # Any channel count: five channels give the per-channel medians.
    five = np.dstack([photo, photo[:, :, :2]])
    np.testing.assert_array_equal(kb.median_blur(five, ksize)[:, :, 3:], expected[:, :, :2])
    np.testing.assert_array_equal(kb.median_blur(photo[:, :, 0], ksize), expected[:, :, 0])


@pytest.mark.parametrize("ksize", [7, 9])
def test_large_float_median_is_within_half_a_level(ksize):
    image = np.random.default_rng(0).random((40, 50, 3), dtype=np.float32)
    padded = np.pad(image, ((ksize // 2,) * 2, (ksize // 2,) * 2, (0, 0)), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (ksize, ksize), axis=(0, 1))
    exact = np.median(windows.reshape(40, 50, 3, -1), axis=-1)
    np.testing.assert_allclose(kb.median_blur(image, ksize), exact, atol=0.5 / 255 + 1e-6)


def _edge(dtype: type) -> np.ndarray:
    image = np.full((32, 32), 0.3, np.float32)
    image[:, 16:] = 0.7
    return (image * 255).astype(np.uint8) if dtype == np.uint8 else image


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize(
    "transform",
    [
        A.Sharpen(alpha=(0.5, 0.5), lightness=(1.0, 1.0), p=1),
        A.Sharpen(alpha=(0.5, 0.5), method="gaussian", p=1),
        A.UnsharpMask(blur_limit=(5, 5), sigma_limit=(1.0, 1.0), alpha=(0.5, 0.5), threshold=0, p=1),
    ],
    ids=["sharpen-kernel", "sharpen-gaussian", "unsharp"],
)
def test_sharpening_increases_edge_contrast(transform, dtype):
    image = _edge(dtype)
    out = _run(transform, image).astype(np.float64)
    before = float(image[0, 16]) - float(image[0, 15])
    after = out[:, 16].mean() - out[:, 15].mean()
    assert after > 1.2 * before
    # Far from the edge a flat region keeps its value, except under the Laplacian kernel, whose
    # ``lightness`` also scales flat areas.
    if getattr(transform, "method", None) != "kernel":
        tolerance = 1 if dtype == np.uint8 else 1e-5
        np.testing.assert_allclose(out[:, :8], image[:, :8].astype(float), atol=tolerance)


def test_sharpen_kernel_formula():
    alpha, lightness = 0.3, 0.8
    kernel = kf.sharpen_kernel(alpha, lightness)
    identity = np.zeros((3, 3))
    identity[1, 1] = 1
    laplacian = -np.ones((3, 3))
    laplacian[1, 1] = 8
    np.testing.assert_allclose(
        kernel, (1 - alpha) * identity + alpha * (laplacian + lightness * identity), rtol=1e-6
    )
    emboss = kf.emboss_kernel(1.0, 0.5)
    np.testing.assert_allclose(emboss, [[-1.5, -0.5, 0], [-0.5, 1, 0.5], [0, 0.5, 1.5]])
    assert emboss.sum() == pytest.approx(1.0)


def test_ringing_overshoot_rings_at_a_step():
    image = np.full((48, 48), 0.25, np.float32)
    image[:, 24:] = 0.75
    out = _run(A.RingingOvershoot(blur_limit=(15, 15), cutoff=(np.pi / 4, np.pi / 4), p=1), image)
    assert out[:, 24:32].max() > 0.76  # overshoot past the bright side
    assert out[:, 16:24].min() < 0.24  # undershoot on the dark side
    kernel = kf.sinc_kernel(15, 1.0)
    assert kernel.sum() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(kernel, kernel.T, atol=1e-7)


def test_bessel_j1_matches_known_values():
    values = kf._bessel_j1(np.array([0.0, 1.0, 2.0, 5.0, 10.0]))
    np.testing.assert_allclose(
        values, [0.0, 0.4400505857, 0.5767248078, -0.3275791376, 0.0434727462], atol=1e-9
    )


def test_motion_kernel_is_a_normalized_line():
    kernel = kb.motion_kernel(7, 0.0, 0.0, (0.0, 0.0))
    assert kernel.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(kernel[3], 1 / 7, rtol=1e-6)
    forward = kb.motion_kernel(7, 0.0, 1.0, (0.0, 0.0))
    assert forward[3, :3].sum() == 0 and forward[3, 3:].sum() == pytest.approx(1.0)
    down = kb.motion_kernel(7, 90.0, 1.0, (0.0, 0.0))
    assert down[:3].sum() == 0 and down[3:, 3].sum() == pytest.approx(1.0)


def test_motion_blur_shift_keeps_line_inside_kernel():
    transform = A.MotionBlur(blur_limit=(9, 9), p=1)
    image = np.zeros((32, 32), np.float32)
    image[16, 16] = 1.0
    for seed in range(10):
        out = _run(transform, image, seed=seed)
        assert out.sum() == pytest.approx(1.0, abs=1e-4)


def test_superpixels_replace_all_gives_flat_segments(photo):
    out = _run(A.Superpixels(p_replace=(1.0, 1.0), n_segments=(30, 30), max_size=None, p=1), photo)
    colours = np.unique(out.reshape(-1, 3), axis=0)
    assert len(colours) <= 36
    untouched = _run(A.Superpixels(p_replace=(0.0, 0.0), n_segments=(30, 30), p=1), photo)
    np.testing.assert_array_equal(untouched, photo)


def test_slic_labels_follow_an_edge():
    image = np.zeros((40, 40, 3), np.uint8)
    image[:, 20:] = 255
    labels = kf.slic_labels(image, 16)
    left, right = set(np.unique(labels[:, :20])), set(np.unique(labels[:, 20:]))
    assert not left & right


def test_glass_blur_params_hold_a_seed_not_the_noise(photo):
    pipeline = A.ReplayCompose([A.GlassBlur(p=1), A.AdvancedBlur(p=1), A.MotionBlur(p=1)], seed=3)
    result = pipeline(image=photo)
    assert len(json.dumps(result["replay"])) < 5000
    again = A.ReplayCompose.replay(result["replay"], image=photo)
    np.testing.assert_array_equal(again["image"], result["image"])


def test_targets_pass_through(scene):
    pipeline = A.Compose(
        [A.MotionBlur(p=1), A.Defocus(p=1), A.Sharpen(p=1)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        keypoint_params=A.KeypointParams(format="xy"),
        seed=0,
    )
    data = {k: scene[k] for k in ("image", "mask", "bboxes", "labels", "keypoints") if k in scene}
    out = pipeline(**data)
    np.testing.assert_array_equal(out["mask"], data["mask"])
    np.testing.assert_allclose(np.asarray(out["bboxes"], float), np.asarray(data["bboxes"], float))
    np.testing.assert_allclose(np.asarray(out["keypoints"], float), np.asarray(data["keypoints"], float))


def test_bad_arguments_name_the_argument():
    with pytest.raises(A.ParameterError, match="'blur_limit'"):
        A.Blur(blur_limit=(9, 3))
    with pytest.raises(A.ParameterError, match="angle_range"):
        A.MotionBlur(angle_range=(-10, 10))
    with pytest.raises(A.ParameterError, match="'alpha'"):
        A.Sharpen(alpha=(0.2, 1.5))
    with pytest.raises(A.ParameterError, match="'cutoff'"):
        A.RingingOvershoot(cutoff=(0.5, 4.0))
    with pytest.raises(A.ParameterError, match="'radius'"):
        A.Defocus(radius=(0, 3))
    with pytest.raises(A.ParameterError, match="'max_delta'"):
        A.GlassBlur(max_delta=0)
    with pytest.warns(UserWarning, match="odd"):
        assert A.MedianBlur(blur_limit=(4, 6)).blur_limit == (5, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert A.Blur(blur_limit=9).blur_limit == (3, 9)


# -- agreement with Albumentations 2.0.8 at pinned parameters ---------------------------------------

DIFFERENTIAL = [
    ("Blur", {"blur_limit": (5, 5)}, 0),
    ("MedianBlur", {"blur_limit": (3, 3)}, 0),
    ("MedianBlur", {"blur_limit": (7, 7)}, 0),
    ("GaussianBlur", {"blur_limit": (5, 5), "sigma_limit": (1.2, 1.2)}, 0),
    ("GaussianBlur", {"sigma_limit": (2.0, 2.0)}, 0),
    ("Sharpen", {"alpha": (0.4, 0.4), "lightness": (0.7, 0.7)}, 0),
    ("Emboss", {"alpha": (0.4, 0.4), "strength": (0.5, 0.5)}, 0),
    ("UnsharpMask", {"blur_limit": (5, 5), "sigma_limit": (1.0, 1.0), "alpha": (0.5, 0.5)}, 1),
    ("RingingOvershoot", {"blur_limit": (9, 9), "cutoff": (1.0, 1.0)}, 0),
    ("Defocus", {"radius": (4, 4), "alias_blur": (0.3, 0.3)}, 1),
    (
        "MotionBlur",
        {"blur_limit": (7, 7), "angle_range": (90, 90), "direction_range": (1, 1), "allow_shifted": False},
        0,
    ),
    (
        "MotionBlur",
        {"blur_limit": (7, 7), "angle_range": (45, 45), "direction_range": (0, 0), "allow_shifted": False},
        0,
    ),
    (
        "AdvancedBlur",
        {
            "blur_limit": (7, 7),
            "sigma_x_limit": (2.0, 2.0),
            "sigma_y_limit": (0.5, 0.5),
            "rotate_limit": (30, 30),
            "beta_limit": (0.999999, 1.000001),
            "noise_limit": (1.0, 1.000001),
        },
        1,
    ),
]


@pytest.mark.parametrize(("name", "kwargs", "atol"), DIFFERENTIAL, ids=[d[0] for d in DIFFERENTIAL])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_matches_albumentations(name, kwargs, atol, dtype, photo):
    Al = pytest.importorskip("albumentations")
    image = photo if dtype == np.uint8 else photo.astype(np.float32) / 255
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = getattr(Al, name)(**kwargs, p=1)(image=image)["image"]
    got = getattr(A, name)(**kwargs, p=1)(image=image)["image"]
    scale = 1.0 if dtype == np.uint8 else 255.0
    np.testing.assert_allclose(
        got.astype(np.float64) * scale, expected.astype(np.float64) * scale, atol=atol + 1e-3
    )


def test_sharpen_gaussian_matches_albumentations_on_float(photo):
    Al = pytest.importorskip("albumentations")
    image = photo.astype(np.float32) / 255 * 0.5 + 0.25
    kwargs = {"alpha": (0.4, 0.4), "method": "gaussian"}
    expected = Al.Sharpen(**kwargs, p=1)(image=image)["image"]
    got = A.Sharpen(**kwargs, p=1)(image=image)["image"]
    np.testing.assert_allclose(got, expected, atol=1e-5)
