"""Regression tests for bugs found by the catalogue fuzzer (tests/test_fuzz_catalogue.py).

One test per bug; the comment above each names the bug as it was found.
"""

from __future__ import annotations

import numpy as np
import pytest

import invariance as A


# Bug 1: an inpainting fill ("inpaint_telea" / "inpaint_ns") on a float32 image, or on an image
# with 4 or 5 channels, raised a bare ValueError from the kernel in the middle of a pipeline call.
@pytest.mark.parametrize("transform", ["CoarseDropout", "ConstrainedCoarseDropout", "Erasing"])
@pytest.mark.parametrize(
    ("dtype", "channels"), [(np.float32, 3), (np.uint8, 4), (np.float32, 5), (np.uint8, 1)]
)
def test_inpainting_fills_work_for_float_images_and_any_channel_count(transform, dtype, channels):
    rng = np.random.default_rng(0)
    shape = (40, 48, channels)
    image = (
        rng.random(shape, dtype=np.float32) if dtype == np.float32 else rng.integers(0, 256, shape, np.uint8)
    )
    image.setflags(write=False)
    mask = np.zeros((40, 48), np.uint8)
    mask[10:30, 10:30] = 1
    kwargs = {"mask_indices": [1]} if transform == "ConstrainedCoarseDropout" else {}
    cls = getattr(A, transform)
    out = A.Compose([cls(fill="inpaint_telea", p=1, **kwargs)], seed=3)(image=image, mask=mask)["image"]
    assert out.shape == image.shape and out.dtype == image.dtype
    changed = np.any(out != image, axis=2)
    assert changed.any(), "no hole was filled"
    if dtype == np.float32:
        assert out.min() >= 0.0 and out.max() <= 1.0


# Bug 2: a per-channel fill shorter than the channel count (an RGB fill on an RGBA image) raised a
# bare ValueError from the kernels, in geometric transforms (Rotate, PadIfNeeded: Albumentations
# pads the OpenCV Scalar with zeros) and in occlusion transforms. Both now pad with zeros.
@pytest.mark.parametrize(
    ("transform", "kwargs"),
    [
        ("Rotate", {"limit": (40, 40), "fill": (1, 2, 3)}),
        ("PadIfNeeded", {"min_height": 24, "min_width": 24, "fill": (1, 2, 3)}),
        (
            "CoarseDropout",
            {"fill": (1, 2, 3), "hole_height_range": (1.0, 1.0), "hole_width_range": (1.0, 1.0)},
        ),
        ("PixelDropout", {"drop_value": (1, 2, 3), "dropout_prob": 1.0}),
    ],
)
@pytest.mark.parametrize("channels", [4, 5])
def test_short_per_channel_fill_is_padded_with_zeros(transform, kwargs, channels):
    image = np.full((16, 16, channels), 200, np.uint8)
    out = A.Compose([getattr(A, transform)(p=1, **kwargs)], seed=0)(image=image)["image"]
    np.testing.assert_array_equal(out[0, 0], [1, 2, 3] + [0] * (channels - 3))


# Bug 3: ChromaticAberration accepts interpolation=5 (LINEAR_EXACT) and 6 (NEAREST_EXACT), as
# Albumentations does, but cv2.remap has no such modes and the call crashed with cv2.error.
@pytest.mark.parametrize(("exact", "plain"), [(5, 1), (6, 0)])
def test_chromatic_aberration_exact_interpolations_resample_like_their_plain_modes(exact, plain):
    image = np.random.default_rng(0).integers(0, 256, (32, 40, 3), dtype=np.uint8)

    def run(interpolation):
        transform = A.ChromaticAberration(
            primary_distortion_limit=(0.05, 0.05),
            secondary_distortion_limit=(0.05, 0.05),
            interpolation=interpolation,
            p=1,
        )
        return A.Compose([transform], seed=1)(image=image)["image"]

    np.testing.assert_array_equal(run(exact), run(plain))


# Bug 4: INTER_LINEAR_EXACT (5) and INTER_NEAREST_EXACT (6) are valid interpolations of Resize,
# RandomScale, Mosaic... (as in Albumentations) but cv2.warpAffine / warpPerspective / remap lack
# them: Resize(interpolation=5) followed by Rotate (fused into one warp) and
# Mosaic(mask_interpolation=5) crashed with cv2.error. The warp kernels now use LINEAR / NEAREST.
@pytest.mark.parametrize(
    "transforms",
    [
        lambda: [A.Resize(20, 24, interpolation=5, p=1), A.Rotate(limit=(20, 20), p=1)],
        lambda: [A.RandomScale(interpolation=6, p=1), A.Affine(rotate=10, p=1)],
        lambda: [A.Mosaic(mask_interpolation=5, p=1)],
        lambda: [A.Perspective(interpolation=3, p=1), A.Resize(16, 16, interpolation=5, p=1)],
    ],
    ids=["resize-rotate", "scale-affine", "mosaic", "perspective-resize"],
)
def test_exact_interpolations_survive_warps_and_fusion(transforms):
    image = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    out = A.Compose(transforms(), seed=0)(image=image, mask=image[:, :, 0])
    assert out["image"].shape[:2] == out["mask"].shape


# Bug 5: Mosaic with cubic or Lanczos interpolation let float32 images ring outside [0, 1]
# (-0.011 seen); the pipeline's own warps clip float images after those kernels, Mosaic's cell
# placement did not.
@pytest.mark.parametrize("interpolation", [2, 4])
def test_mosaic_keeps_float_images_in_unit_range(interpolation):
    image = np.random.default_rng(0).random((7, 9, 3), dtype=np.float32)
    image[::2] = 0.0  # sharp edges make the kernels ring
    transform = A.Mosaic(target_size=(64, 80), interpolation=interpolation, p=1)
    out = A.Compose([transform], seed=0)(image=image)["image"]
    assert out.dtype == np.float32 and out.min() >= 0.0 and out.max() <= 1.0


# Bug 6: FancyPCA on a one-pixel image raised numpy.linalg.LinAlgError ("Eigenvalues did not
# converge"): the covariance of a single pixel divided by zero into NaN. One pixel has no colour
# variation, so the PCA lighting adds nothing.
@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_fancy_pca_on_one_pixel_is_identity(channels, dtype):
    image = np.full((1, 1, channels), 100 if dtype == np.uint8 else 0.4, dtype)
    out = A.Compose([A.FancyPCA(alpha=1.0, p=1)], seed=0)(image=image)["image"]
    np.testing.assert_array_equal(out, image)


# Bug 7: downscaling with INTER_AREA (Resize(area_for_downscale="image"), interpolation=3) an
# image with more than four channels by a non-integer factor crashed with cv2.error
# ("cn <= 4 in function 'resize'"). Area resampling now runs in chunks of four channels.
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_area_downscale_of_five_channels(dtype):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (70, 51, 5)).astype(dtype)
    if dtype == np.float32:
        image /= 255
    out = A.Compose([A.Resize(40, 35, area_for_downscale="image", p=1)])(image=image)["image"]
    assert out.shape == (40, 35, 5) and out.dtype == dtype
    # each channel equals the area resize of that channel alone
    for c in range(5):
        alone = A.Compose([A.Resize(40, 35, interpolation=3, p=1)])(
            image=np.ascontiguousarray(image[:, :, c])
        )
        np.testing.assert_array_equal(out[:, :, c], alone["image"])


# Bug 8: PlasmaBrightnessContrast / PlasmaShadow with a small roughness (0.015625, valid: > 0)
# returned NaN images: the plasma spectrum f ** -(1 + 2 / roughness) overflowed to inf.
@pytest.mark.parametrize("transform", ["PlasmaBrightnessContrast", "PlasmaShadow"])
@pytest.mark.parametrize("roughness", [0.015625, 1e-4])
def test_plasma_with_small_roughness_stays_finite(transform, roughness):
    image = np.full((16, 16, 3), 0.5, np.float32)
    out = A.Compose([getattr(A, transform)(roughness=roughness, p=1)], seed=0)(image=image)["image"]
    assert np.all(np.isfinite(out)) and out.min() >= 0.0 and out.max() <= 1.0
    assert not np.array_equal(out, image)


# Bug 9: a keypoint angle a hair below zero after a transform (Rotate by 1e-200 degrees) wrapped to
# 2*pi - tiny, which rounds to exactly 2*pi: the call returned an angle of 360.0 degrees (or 2*pi
# radians) instead of a value in [0, 360).
@pytest.mark.parametrize("degrees", [True, False])
def test_keypoint_angles_stay_below_one_full_turn(degrees):
    params = A.KeypointParams(format="xyas", angle_in_degrees=degrees)
    pipeline = A.Compose([A.Rotate(limit=(0.0, 1e-200), p=1)], keypoint_params=params, seed=0)
    out = pipeline(image=np.zeros((1, 1), np.uint8), keypoints=[[-0.5, -0.5, 0.0, 1.0]])
    angle = out["keypoints"][0][2]
    assert 0.0 <= angle < (360.0 if degrees else 2 * np.pi)


# Bug 10: HEStain(method="vahadane" / "macenko") on a one-pixel image raised
# numpy.linalg.LinAlgError: the stain estimate took the covariance of a single pixel (NaN). It
# now keeps the reference (Ruifrok) matrix when there is nothing to estimate from.
@pytest.mark.parametrize("method", ["vahadane", "macenko"])
def test_he_stain_estimate_on_one_pixel(method):
    image = np.full((1, 1, 3), 128, np.uint8)
    out = A.Compose([A.HEStain(method=method, p=1)], seed=0)(image=image)["image"]
    assert out.shape == (1, 1, 3) and out.dtype == np.uint8
    preset = A.Compose([A.HEStain(method="preset", preset="ruifrok", p=1)], seed=0)(image=image)["image"]
    np.testing.assert_array_equal(out, preset)
