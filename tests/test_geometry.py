"""Geometry: draw markers, transform, find them again; group laws; exactness of masks."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

import invariance as A
from invariance.core.geometry import Symmetry
from invariance.kernels.geometry import D4_ELEMENTS, d4

H, W = 120, 160
MARKERS = [(30.0, 25.0), (120.0, 40.0), (70.0, 90.0), (140.0, 100.0)]


def _marker_scene() -> tuple[np.ndarray, list[list[float]]]:
    image = np.zeros((H, W), np.float32)
    for x, y in MARKERS:
        cv2.circle(image, (int(x), int(y)), 4, 1.0, -1)
    return image, [[x, y] for x, y in MARKERS]


def _find_blobs(image: np.ndarray) -> np.ndarray:
    binary = (image > 0.5).astype(np.uint8)
    _count, _, stats, centroids = cv2.connectedComponentsWithStats(binary)
    return centroids[1:][stats[1:, cv2.CC_STAT_AREA] > 5]


GEOMETRIC = [
    A.HorizontalFlip(p=1),
    A.VerticalFlip(p=1),
    A.Transpose(p=1),
    A.RandomRotate90(p=1),
    A.SquareSymmetry(p=1),
    A.Rotate(limit=(-25, 25), p=1),
    A.Rotate(limit=(-25, 25), crop_border=True, p=1),
    A.Affine(scale=(0.8, 1.1), rotate=(-20, 20), shear=(-8, 8), translate_percent=(-0.05, 0.05), p=1),
    A.Affine(rotate=(30, 40), fit_output=True, p=1),
    A.Resize(90, 200),
    A.RandomResizedCrop(size=(100, 100), scale=(0.7, 1.0), ratio=(0.9, 1.1)),
    A.CenterCrop(100, 140),
    A.Crop(5, 5, 150, 115),
]


@pytest.mark.parametrize("transform", GEOMETRIC, ids=lambda t: repr(t).split("(")[0])
def test_keypoints_and_box_centres_follow_the_pixels(transform):
    image, points = _marker_scene()
    boxes = [[x - 5, y - 5, x + 5, y + 5] for x, y in MARKERS]
    pipeline = A.Compose(
        [transform],
        keypoint_params=A.KeypointParams(format="xy", remove_invisible=False),
        bbox_params=A.BboxParams(format="pascal_voc", min_visibility=0.99),
        seed=5,
    )
    for _ in range(5):
        out = pipeline(image=image, keypoints=points, bboxes=boxes)
        found = _find_blobs(out["image"])
        kps = np.asarray(out["keypoints"])
        h, w = out["image"].shape[:2]
        inside = (kps[:, 0] > 6) & (kps[:, 0] < w - 6) & (kps[:, 1] > 6) & (kps[:, 1] < h - 6)
        assert inside.sum() >= 1
        # Tolerance: the blob centroid of a resampled disc moves by a fraction of a pixel.
        for kp in kps[inside]:
            distance = np.min(np.linalg.norm(found - kp, axis=1))
            assert distance < 0.75, f"keypoint {kp} is {distance:.2f}px from the nearest marker"
        for box in np.asarray(out["bboxes"]):
            centre = ((box[0] + box[2]) / 2 - 0.5, (box[1] + box[3]) / 2 - 0.5)
            assert np.min(np.linalg.norm(found - centre, axis=1)) < 1.0


def test_d4_elements_form_the_dihedral_group():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (5, 7, 2), dtype=np.uint8)
    results = {e: d4(image, e) for e in D4_ELEMENTS}
    # All eight images are distinct.
    keys = {r.tobytes() + bytes(r.shape) for r in results.values()}
    assert len(keys) == 8
    # Closure: any composition is again one of the eight, and matrices agree with pixels.
    for a, b in itertools.product(D4_ELEMENTS, repeat=2):
        composed = d4(d4(image, a), b)
        matches = [e for e, r in results.items() if r.shape == composed.shape and np.array_equal(r, composed)]
        assert len(matches) == 1
        ma = Symmetry(a, image.shape[:2]).matrix()
        mb = Symmetry(b, results[a].shape[:2]).matrix()
        mc = Symmetry(matches[0], image.shape[:2]).matrix()
        np.testing.assert_allclose(mb @ ma, mc)
    # Inverses exist: r90 then r270 is identity; flips are involutions.
    np.testing.assert_array_equal(d4(d4(image, "r90"), "r270"), image)
    for flip in ("h", "v", "t", "hvt", "r180"):
        np.testing.assert_array_equal(d4(d4(image, flip), flip), image)


def test_flip_twice_is_identity_on_every_target():
    pipeline = A.Compose(
        [A.HorizontalFlip(p=1), A.HorizontalFlip(p=1), A.VerticalFlip(p=1), A.VerticalFlip(p=1)],
        bbox_params=A.BboxParams(format="coco", label_fields=["labels"]),
        keypoint_params=A.KeypointParams(format="xyas"),
    )
    image = np.random.default_rng(1).integers(0, 255, (30, 40, 3), dtype=np.uint8)
    mask = (image[:, :, 0] > 128).astype(np.uint8)
    boxes = [[3.0, 4.0, 10.0, 12.0]]
    keypoints = [[5.0, 6.0, 33.0, 1.5]]
    out = pipeline(image=image, mask=mask, bboxes=boxes, labels=["x"], keypoints=keypoints)
    np.testing.assert_array_equal(out["image"], image)
    np.testing.assert_array_equal(out["mask"], mask)
    np.testing.assert_allclose(out["bboxes"], boxes)
    np.testing.assert_allclose(out["keypoints"], keypoints)


def test_horizontal_flip_conventions():
    pipeline = A.Compose(
        [A.HorizontalFlip(p=1)],
        bbox_params=A.BboxParams(format="pascal_voc"),
        keypoint_params=A.KeypointParams(format="xya"),
    )
    out = pipeline(image=np.zeros((10, 20), np.uint8), bboxes=[[2, 1, 5, 4]], keypoints=[[3, 2, 30]])
    assert out["bboxes"] == [[15.0, 1.0, 18.0, 4.0]]  # edges: x -> W - x
    np.testing.assert_allclose(out["keypoints"], [[16.0, 2.0, 150.0]])  # pixels: x -> W - 1 - x


@pytest.mark.parametrize(
    "transform",
    [
        A.Rotate(limit=33, p=1),
        A.Affine(scale=(0.6, 1.4), rotate=(-40, 40), shear=10, p=1),
        A.Resize(37, 91),
        A.RandomResizedCrop(size=(50, 50)),
    ],
    ids=lambda t: repr(t).split("(")[0],
)
def test_masks_keep_only_their_values(transform):
    rng = np.random.default_rng(2)
    mask = rng.choice(np.array([0, 3, 200], np.uint8), size=(64, 64))
    pipeline = A.Compose([transform], seed=3)
    out = pipeline(image=np.zeros((64, 64, 3), np.uint8), mask=mask, masks=[mask.astype(np.int32)])
    assert set(np.unique(out["mask"])) <= {0, 3, 200}
    assert set(np.unique(out["masks"][0])) <= {0, 3, 200}
    assert out["masks"][0].dtype == np.int32


def test_crop_clips_filters_and_labels_follow():
    pipeline = A.Compose(
        [A.Crop(x_min=0, y_min=0, x_max=50, y_max=50)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels", "names"], min_visibility=0.3),
    )
    boxes = [[10, 10, 30, 30], [40, 40, 80, 80], [45, 0, 100, 20], [60, 60, 70, 70]]
    out = pipeline(
        image=np.zeros((100, 100), np.uint8), bboxes=boxes, labels=[1, 2, 3, 4], names=["a", "b", "c", "d"]
    )
    # Box 2 keeps 10x10 of 40x40 (0.0625 < 0.3): dropped. Box 3 keeps 5x20 of 55x20 (0.09): dropped.
    assert out["bboxes"] == [[10.0, 10.0, 30.0, 30.0]]
    assert out["labels"] == [1] and out["names"] == ["a"]
    loose = A.Compose(
        [A.Crop(x_min=0, y_min=0, x_max=50, y_max=50)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
    )
    out = loose(image=np.zeros((100, 100), np.uint8), bboxes=boxes, labels=[1, 2, 3, 4])
    assert out["bboxes"] == [[10.0, 10.0, 30.0, 30.0], [40.0, 40.0, 50.0, 50.0], [45.0, 0.0, 50.0, 20.0]]
    assert out["labels"] == [1, 2, 3]


def test_rotation_turns_keypoint_angles_in_image_coordinates():
    pipeline = A.Compose([A.Rotate(limit=(90, 90), p=1)], keypoint_params=A.KeypointParams(format="xya"))
    # A keypoint pointing right (angle 0) points up after a 90 degree counter-clockwise rotation:
    # in image coordinates (y down), up is -90 degrees, i.e. 270.
    out = pipeline(image=np.zeros((50, 50), np.uint8), keypoints=[[30.0, 24.5, 0.0]])
    x, y, angle = out["keypoints"][0]
    assert angle == pytest.approx(270.0)
    assert (x, y) == pytest.approx((24.5, 19.0))


@pytest.mark.parametrize("interpolation", [cv2.INTER_CUBIC, cv2.INTER_LANCZOS4])
def test_float_images_stay_in_unit_range_under_ringing_interpolation(interpolation):
    image = np.zeros((40, 40, 3), np.float32)
    image[::2] = 1.0  # stripes make cubic kernels overshoot
    for transform in (
        A.Rotate(limit=(17, 17), interpolation=interpolation, p=1),
        A.Resize(57, 61, interpolation=interpolation),
    ):
        out = A.Compose([transform])(image=image)["image"]
        assert out.min() >= 0.0 and out.max() <= 1.0


def test_affine_matrix_is_the_product_of_its_parts() -> None:
    """Affine's matrix is written out in closed form; it must equal the product it documents,
    ``C T Sh R S C^-1`` (centre, translation, shear, rotation, scale), for any parameters."""
    import math

    from invariance.transforms.geometric.affine import affine_matrix

    def product(shape, scale, rotate, shear, translate):  # type: ignore[no-untyped-def]
        h, w = shape
        cx, cy = w / 2.0, h / 2.0
        a = math.radians(rotate)
        to_origin = np.array([[1.0, 0, -cx], [0, 1.0, -cy], [0, 0, 1.0]])
        back = np.array([[1.0, 0, cx + translate[0]], [0, 1.0, cy + translate[1]], [0, 0, 1.0]])
        s = np.diag([scale[0], scale[1], 1.0])
        r = np.array([[math.cos(a), math.sin(a), 0], [-math.sin(a), math.cos(a), 0], [0, 0, 1.0]])
        kx, ky = math.tan(math.radians(-shear[0])), math.tan(math.radians(-shear[1]))
        sh = np.array([[1.0, kx, 0], [ky, 1.0, 0], [0, 0, 1.0]])
        return back @ sh @ r @ s @ to_origin

    rng = np.random.default_rng(5)
    for _ in range(500):
        shape = (int(rng.integers(1, 3000)), int(rng.integers(1, 3000)))
        args = (
            shape,
            tuple(rng.uniform(0.05, 4.0, 2)),
            float(rng.uniform(-360, 360)),
            tuple(rng.uniform(-70, 70, 2)),
            tuple(rng.uniform(-800, 800, 2)),
        )
        np.testing.assert_allclose(affine_matrix(*args), product(*args), rtol=1e-12, atol=1e-9)
    # a positive x shear moves the top of the image right (Albumentations / imgaug convention)
    sheared = affine_matrix((100, 100), (1.0, 1.0), 0.0, (20.0, 0.0), (0.0, 0.0))
    top_middle = sheared @ np.array([50.0, 0.0, 1.0])
    assert top_middle[0] > 50.0
