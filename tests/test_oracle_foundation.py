"""Differential tests of the foundation transforms against Albumentations 2.0.8 (pinned parameters).

Known, deliberate differences (docs/design.md): keypoints under resize move by pixel centres,
keypoint angles turn by the Jacobian in image coordinates, fit_output uses exact bounds.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import invariance as A

Al = pytest.importorskip("albumentations")

BOXES = [[50, 60, 150, 200], [200, 30, 390, 120]]
POINTS = [(100.0, 100.0), (300.0, 50.0)]


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    skdata = pytest.importorskip("skimage.data")
    return np.ascontiguousarray(skdata.astronaut()[:300, :400])


def _run(lib, transforms, image):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline = lib.Compose(
            transforms,
            bbox_params=lib.BboxParams(format="pascal_voc", label_fields=["l"]),
            keypoint_params=lib.KeypointParams(format="xy", remove_invisible=False),
            seed=0,
        )
    return pipeline(image=image, mask=image[:, :, 0] // 64, bboxes=BOXES, l=[1, 2], keypoints=POINTS)


CASES = {
    "HorizontalFlip": (lambda L: [L.HorizontalFlip(p=1)], 0, True),
    "VerticalFlip": (lambda L: [L.VerticalFlip(p=1)], 0, True),
    "Transpose": (lambda L: [L.Transpose(p=1)], 0, True),
    "Rotate": (lambda L: [L.Rotate(limit=(30, 30), p=1)], 0, True),
    "Rotate-ellipse": (lambda L: [L.Rotate(limit=(30, 30), rotate_method="ellipse", p=1)], 0, True),
    "Affine": (lambda L: [L.Affine(scale=1.2, rotate=15, shear=(5, 5), translate_px=(10, 10), p=1)], 0, True),
    "Resize": (lambda L: [L.Resize(150, 300)], 0, False),
    "CenterCrop": (lambda L: [L.CenterCrop(200, 200)], 0, True),
    "Crop": (lambda L: [L.Crop(10, 20, 310, 220)], 0, True),
    "RandomBrightnessContrast": (
        lambda L: [L.RandomBrightnessContrast(brightness_limit=(0.1, 0.1), contrast_limit=(0.2, 0.2), p=1)],
        1,
        True,
    ),
    "GaussianBlur": (lambda L: [L.GaussianBlur(blur_limit=(5, 5), sigma_limit=(1.5, 1.5), p=1)], 1, True),
    "ToGray": (lambda L: [L.ToGray(p=1)], 0, True),
    "Normalize": (lambda L: [L.Normalize()], 1e-5, True),
}


@pytest.mark.oracle
@pytest.mark.parametrize("name", list(CASES))
def test_matches_albumentations(name, image):
    make, pixel_tolerance, same_keypoints = CASES[name]
    theirs, ours = _run(Al, make(Al), image), _run(A, make(A), image)
    assert ours["image"].shape == theirs["image"].shape
    difference = np.abs(ours["image"].astype(np.float64) - theirs["image"].astype(np.float64))
    assert difference.max() <= pixel_tolerance
    np.testing.assert_array_equal(ours["mask"], theirs["mask"])
    np.testing.assert_allclose(np.asarray(ours["bboxes"]), np.asarray(theirs["bboxes"]), atol=0.05)
    assert ours["l"] == theirs["l"]
    if same_keypoints:
        np.testing.assert_allclose(np.asarray(ours["keypoints"]), np.asarray(theirs["keypoints"]), atol=1e-3)
