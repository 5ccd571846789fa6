"""The spatial catalogue: markers follow keypoints and boxes, crops clip and filter, masks stay
exact, data-dependent crops keep what they promise, and pinned parameters match Albumentations.

Marker tolerance: the intensity centroid of a disc of radius 4 lands within 1 px of its keypoint
(and of its box centre) after the transform.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pytest

import invariance as A

H, W = 120, 160
MARKERS = [(40.0, 35.0), (115.0, 45.0), (80.0, 85.0)]


def _marker_image() -> np.ndarray:
    image = np.zeros((H, W, 3), np.float32)
    for c, (x, y) in enumerate(MARKERS):
        channel = np.ascontiguousarray(image[:, :, c])
        cv2.circle(channel, (int(x), int(y)), 4, 1.0, -1)
        image[:, :, c] = channel
    return image


def _centroid(channel: np.ndarray) -> np.ndarray | None:
    ys, xs = np.nonzero(channel > 0.05)
    if len(xs) == 0:
        return None
    weights = channel[ys, xs]
    return np.array([(xs * weights).sum(), (ys * weights).sum()]) / weights.sum()


TRACKED = [
    A.ShiftScaleRotate(shift_limit=0.05, scale_limit=0.15, rotate_limit=30, p=1),
    A.SafeRotate(limit=40, p=1),
    A.RandomScale(scale_limit=0.3, p=1),
    A.Perspective(scale=(0.03, 0.06), p=1),
    A.Perspective(scale=(0.03, 0.06), keep_size=False, p=1),
    A.Perspective(scale=(0.03, 0.06), fit_output=True, p=1),
    A.Affine(rotate=(20, 30), fit_output=True, keep_ratio=True, scale=(0.8, 1.2), p=1),
    A.LongestMaxSize(max_size=100),
    A.SmallestMaxSize(max_size_hw=(150, None)),
    A.Pad(padding=(5, 7, 9, 11)),
    A.PadIfNeeded(min_height=150, min_width=200, position="random"),
    A.CropAndPad(percent=(-0.1, 0.1)),
    A.RandomSizedCrop(min_max_height=(90, 110), size=(100, 100), w2h_ratio=1.3),
    A.RandomCropFromBorders(crop_left=0.2, crop_right=0.1, crop_top=0.2, crop_bottom=0.1),
    A.BBoxSafeRandomCrop(),
    A.RandomSizedBBoxSafeCrop(height=90, width=90),
]


@pytest.mark.parametrize("transform", TRACKED, ids=lambda t: repr(t).split("(")[0])
@pytest.mark.parametrize("seed", [0, 1])
def test_markers_follow_keypoints_and_box_centres(transform, seed):
    boxes = [[x - 6, y - 6, x + 6, y + 6] for x, y in MARKERS]
    pipeline = A.Compose(
        [transform],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["ids"], min_visibility=0.99),
        keypoint_params=A.KeypointParams(format="xy", label_fields=["kid"]),
        seed=seed,
    )
    out = pipeline(image=_marker_image(), keypoints=list(MARKERS), kid=[0, 1, 2], bboxes=boxes, ids=[0, 1, 2])
    assert len(out["keypoints"]) >= 1
    for (x, y), c in zip(out["keypoints"], out["kid"]):
        centre = _centroid(out["image"][:, :, c])
        assert centre is not None
        assert np.hypot(centre[0] - x, centre[1] - y) < 1.0, (c, centre, (x, y))
    for box, c in zip(out["bboxes"], out["ids"]):
        centre = _centroid(out["image"][:, :, c])
        assert centre is not None
        box_centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
        # Boxes re-boxed through a rotation or perspective stay centred within a pixel.
        assert np.hypot(*(box_centre - centre)) < 1.5


MASK_TRANSFORMS = [*TRACKED, A.CropNonEmptyMaskIfExists(50, 60), A.AtLeastOneBBoxRandomCrop(60, 70)]


@pytest.mark.parametrize("transform", MASK_TRANSFORMS, ids=lambda t: repr(t).split("(")[0])
def test_masks_keep_only_their_values(transform):
    mask = np.zeros((H, W), np.uint8)
    mask[20:70, 30:100] = 3
    mask[60:110, 90:150] = 9
    out = A.Compose([transform], seed=3)(
        image=np.zeros((H, W, 3), np.uint8), mask=mask, masks=[mask, mask // 3]
    )
    assert set(np.unique(out["mask"])) <= {0, 3, 9}
    assert set(np.unique(out["masks"][1])) <= {0, 1, 3}


def test_crops_clip_boxes_filter_them_and_labels_follow():
    boxes = [[10, 10, 50, 40], [60, 20, 100, 60], [120, 80, 155, 115]]
    pipeline = A.Compose(
        [A.RandomCropNearBBox(max_part_shift=0.0)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["names"], min_visibility=0.3),
    )
    out = pipeline(
        image=np.zeros((H, W, 3), np.uint8),
        bboxes=boxes,
        names=["a", "b", "c"],
        cropping_bbox=[30, 15, 90, 60],
    )
    assert out["image"].shape[:2] == (45, 60)
    # a: x 10..50 -> cut at 30: 20 of 40 wide, 25 of 30 high visible -> kept and clipped; c: outside.
    assert out["names"] == ["a", "b"]
    np.testing.assert_allclose(out["bboxes"][0], [0, 0, 20, 25])
    np.testing.assert_allclose(out["bboxes"][1], [30, 5, 60, 45])


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("resize", [False, True])
def test_bbox_safe_crops_keep_every_box(seed, resize):
    rng = np.random.default_rng(seed)
    x0, y0 = rng.uniform(0, W - 30, 4), rng.uniform(0, H - 30, 4)
    boxes = [[a, b, a + 20, b + 25] for a, b in zip(x0, y0)]
    transform = A.RandomSizedBBoxSafeCrop(64, 64) if resize else A.BBoxSafeRandomCrop()
    pipeline = A.Compose(
        [transform], bbox_params=A.BboxParams(format="pascal_voc", label_fields=["k"]), seed=seed
    )
    out = pipeline(image=np.zeros((H, W), np.uint8), bboxes=boxes, k=[0, 1, 2, 3])
    assert out["k"] == [0, 1, 2, 3]
    if not resize:
        sizes = np.asarray(out["bboxes"])[:, 2:] - np.asarray(out["bboxes"])[:, :2]
        np.testing.assert_allclose(sizes, [[20, 25]] * 4, atol=1e-9)  # whole, not clipped


@pytest.mark.parametrize("seed", range(8))
def test_at_least_one_box_survives_whole(seed):
    boxes = [[5, 5, 25, 30], [120, 80, 150, 110]]
    pipeline = A.Compose(
        [A.AtLeastOneBBoxRandomCrop(50, 60)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["k"]),
        seed=seed,
    )
    out = pipeline(image=np.zeros((H, W), np.uint8), bboxes=boxes, k=[0, 1])
    sizes = np.asarray(out["bboxes"]).reshape(-1, 4)
    whole = [(b[2] - b[0], b[3] - b[1]) in ((20, 25), (30, 30)) for b in sizes]
    assert any(whole)


@pytest.mark.parametrize("seed", range(6))
def test_crop_non_empty_mask_contains_foreground_and_ignores_values(seed):
    mask = np.zeros((H, W), np.uint8)
    mask[100:110, 140:150] = 5
    mask[5:10, 5:10] = 2
    t = A.CropNonEmptyMaskIfExists(30, 40, ignore_values=[2])
    out = A.Compose([t], seed=seed)(image=np.zeros((H, W), np.uint8), mask=mask)
    assert (out["mask"] == 5).any() and not (out["mask"] == 2).any()


def test_rotate_crop_border_leaves_no_border():
    """The window is the largest upright rectangle inside the rotated image, its edges truncated
    to whole pixels as in Albumentations: every pixel inside it is image, and only the outermost
    ring (pixels the exact edge cuts through) may mix with the border."""
    out = A.Rotate(limit=(33, 33), crop_border=True, p=1)(image=np.full((H, W), 200, np.uint8))["image"]
    assert out.shape[0] < H and (out[1:-1, 1:-1] == 200).all()
    # The exact rectangle for 33 degrees, measured: corners of the rotated image bound it.
    angle = np.deg2rad(33)
    corners = np.array([[-W / 2, -H / 2], [W / 2, -H / 2], [W / 2, H / 2], [-W / 2, H / 2]])
    rotated = corners @ np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]).T
    inside = _largest_inscribed(rotated)
    assert abs(out.shape[1] - inside[0]) <= 1.0 and abs(out.shape[0] - inside[1]) <= 1.0
    assert A.Rotate(limit=(0, 0), crop_border=True, p=1)(image=np.zeros((H, W), np.uint8))["image"].shape == (
        H,
        W,
    )


def _largest_inscribed(polygon: np.ndarray) -> tuple[float, float]:
    """Width and height of the largest centred upright rectangle inside a convex polygon, found by
    a search over aspect ratios (independent of the closed form the transform uses)."""
    edges = np.roll(polygon, -1, axis=0) - polygon

    def contains(points: np.ndarray) -> bool:
        rel = points[:, None, :] - polygon[None, :, :]
        cross = edges[None, :, 0] * rel[:, :, 1] - edges[None, :, 1] * rel[:, :, 0]
        return bool((cross >= 0).all() or (cross <= 0).all())

    best = (0.0, 0.0)
    for ratio in np.linspace(0.2, 5.0, 400):
        lo, hi = 0.0, 4.0 * max(H, W)
        for _ in range(40):
            half_h = (lo + hi) / 2
            half_w = half_h * ratio
            box = (
                np.array([[-half_w, -half_h], [half_w, -half_h], [half_w, half_h], [-half_w, half_h]])
                * 0.999999
            )
            lo, hi = (half_h, hi) if contains(box) else (lo, half_h)
        if 4 * lo * lo * ratio > best[0] * best[1]:
            best = (2 * lo * ratio, 2 * lo)
    return best


def test_safe_rotate_keeps_the_whole_image():
    out = A.Compose(
        [A.SafeRotate(limit=(50, 50), p=1)], bbox_params=A.BboxParams(format="pascal_voc", label_fields=["k"])
    )(image=np.zeros((H, W), np.uint8), bboxes=[[0, 0, W, H]], k=[0])
    x0, y0, x1, y1 = out["bboxes"][0]
    assert (x0, y0) == pytest.approx((0, 0), abs=1e-6) and (x1, y1) == pytest.approx((W, H), abs=1e-6)


def test_output_sizes():
    img = np.zeros((101, 77, 3), np.uint8)
    assert A.LongestMaxSize(max_size=50)(image=img)["image"].shape == (50, 38, 3)
    assert A.LongestMaxSize(max_size_hw=(40, 30))(image=img)["image"].shape == (39, 30, 3)
    assert A.SmallestMaxSize(max_size=50)(image=img)["image"].shape == (66, 50, 3)
    assert A.SmallestMaxSize(max_size_hw=(40, 30))(image=img)["image"].shape == (40, 30, 3)
    sizes = {A.LongestMaxSize(max_size=[30, 60], p=1)(image=img)["image"].shape[0] for _ in range(20)}
    assert sizes == {30, 60}
    assert A.PadIfNeeded(None, None, pad_height_divisor=8, pad_width_divisor=16)(image=img)[
        "image"
    ].shape == (104, 80, 3)
    assert A.Pad(padding=(1, 2))(image=img)["image"].shape == (105, 79, 3)
    assert A.CropAndPad(px=(-5, 10, 3, -7), keep_size=False)(image=img)["image"].shape == (99, 80, 3)
    assert A.CropAndPad(px=-60)(image=img)["image"].shape == (101, 77, 3)  # never empty, resized back
    assert A.RandomScale(scale_limit=(0.333, 0.333), p=1)(image=img)["image"].shape == (134, 102, 3)


@pytest.mark.parametrize(
    ("cls", "kwargs", "argument"),
    [
        (A.PadIfNeeded, {"min_height": None}, "min_height"),
        (A.CropAndPad, {"px": 3, "percent": 0.1}, "px"),
        (A.RandomScale, {"scale_limit": (-1.5, 0.2)}, "scale_limit"),
        (A.ShiftScaleRotate, {"scale_limit": (-1.0, 0.0)}, "scale_limit"),
        (A.RandomCropNearBBox, {"max_part_shift": 2.0}, "max_part_shift"),
        (A.LongestMaxSize, {}, "max_size"),
        (A.Perspective, {"scale": (-0.1, 0.2)}, "scale"),
        (A.Affine, {"scale": {"x": 0.8, "y": 1.2}, "keep_ratio": True}, "keep_ratio"),
    ],
)
def test_bad_arguments_raise_parameter_error(cls, kwargs, argument):
    with pytest.raises(A.ParameterError, match=argument):
        cls(**kwargs)


def test_crop_larger_than_image_raises_input_error():
    with pytest.raises(A.InputError, match="larger than the image"):
        A.AtLeastOneBBoxRandomCrop(500, 500)(image=np.zeros((H, W), np.uint8))


def test_random_sized_crop_accepts_legacy_height_width():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = A.RandomSizedCrop(min_max_height=(50, 60), height=40, width=30)
    assert t.size == (40, 30)
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)


# -- differential tests against Albumentations 2.0.8, parameters pinned ------------------------

PINNED = [
    ("PadIfNeeded", {"min_height": 150, "min_width": 160, "position": "top_right", "border_mode": 4}),
    ("PadIfNeeded", {"min_height": 130, "min_width": 200, "position": "bottom_left", "border_mode": 1}),
    ("PadIfNeeded", {"min_height": 140, "min_width": 170, "position": "center", "fill": 7}),
    ("Pad", {"padding": (1, 2, 3, 4), "border_mode": 2}),
    ("LongestMaxSize", {"max_size": 50}),
    ("SmallestMaxSize", {"max_size_hw": (60, None)}),
    ("RandomScale", {"scale_limit": (0.3, 0.3), "p": 1}),
    ("CropAndPad", {"px": (-5, 10, 3, -7), "keep_size": False}),
    ("CropAndPad", {"percent": (-0.1, 0.1, 0.2, -0.05), "keep_size": False}),
    ("Affine", {"scale": 0.8, "rotate": 20, "shear": 10, "translate_px": 5, "p": 1}),
    ("Affine", {"translate_percent": {"x": (-0.13, -0.13), "y": (0.2, 0.2)}, "rotate": 10, "p": 1}),
    ("CropAndPad", {"percent": (-0.1, 0.1, 0.2, -0.05), "keep_size": True}),
    ("CropAndPad", {"px": (-10, 12, 20, -6), "keep_size": True, "border_mode": 4}),
    ("Perspective", {"scale": (0, 0), "keep_size": False, "p": 1}),
    (
        "ShiftScaleRotate",
        {"shift_limit": (0.1, 0.1), "scale_limit": (0.2, 0.2), "rotate_limit": (0, 0), "p": 1},
    ),
]


@pytest.mark.parametrize(("name", "kwargs"), PINNED, ids=[n for n, _ in PINNED])
def test_matches_albumentations_with_pinned_parameters(name, kwargs):
    Al = pytest.importorskip("albumentations")
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (100, 128, 3), dtype=np.uint8)
    box = [[20.0, 30.0, 60.0, 70.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = Al.Compose(
            [getattr(Al, name)(**kwargs)], bbox_params=Al.BboxParams(format="pascal_voc", label_fields=["k"])
        )(image=image, bboxes=box, k=[1])
    ours = A.Compose(
        [getattr(A, name)(**kwargs)], bbox_params=A.BboxParams(format="pascal_voc", label_fields=["k"])
    )(image=image, bboxes=box, k=[1])
    assert ours["image"].shape == theirs["image"].shape
    np.testing.assert_array_equal(ours["image"], theirs["image"])
    # Albumentations 2.x adds mirrored copies of boxes for reflecting pads; we keep the one real box.
    theirs_boxes = np.asarray(theirs["bboxes"]).reshape(-1, 4)
    assert any(np.allclose(ours["bboxes"][0], b, atol=1e-4) for b in theirs_boxes)


def test_keypoint_positions_match_albumentations_for_shift_scale_rotate():
    Al = pytest.importorskip("albumentations")
    kwargs = {"shift_limit": (0.05, 0.05), "scale_limit": (0.1, 0.1), "rotate_limit": (25, 25), "p": 1}
    image = np.zeros((100, 128, 3), np.uint8)
    points = [[40.0, 30.0], [90.0, 70.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = Al.Compose([Al.ShiftScaleRotate(**kwargs)], keypoint_params=Al.KeypointParams(format="xy"))(
            image=image, keypoints=points
        )
    ours = A.Compose([A.ShiftScaleRotate(**kwargs)], keypoint_params=A.KeypointParams(format="xy"))(
        image=image, keypoints=points
    )
    np.testing.assert_allclose(np.asarray(ours["keypoints"]), np.asarray(theirs["keypoints"]), atol=1e-3)


def test_random_crop_near_bbox_matches_albumentations():
    Al = pytest.importorskip("albumentations")
    image = np.random.default_rng(1).integers(0, 256, (100, 128, 3), dtype=np.uint8)
    theirs = Al.RandomCropNearBBox(max_part_shift=0)(image=image, cropping_bbox=[10, 20, 70, 80])
    ours = A.RandomCropNearBBox(max_part_shift=0)(image=image, cropping_bbox=[10, 20, 70, 80])
    np.testing.assert_array_equal(ours["image"], theirs["image"])
