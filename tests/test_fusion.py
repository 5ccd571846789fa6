"""Warp fusion: consecutive projective transforms resample images and masks once.

Tolerances (uint8 photograph, 512 x 512 astronaut): fused and step-by-step images agree to a mean
absolute difference below 3 grey levels and a PSNR above 30 dB (they differ only by the extra
interpolations step by step); boxes and keypoints agree to 1e-6 px (they are moved by the same
matrices either way); masks differ only along label edges (nearest neighbour once versus several
times), under 6 % of pixels for the photograph's thresholded mask.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import invariance as A
from invariance.core.call import Call
from invariance.core.effects import Warp
from invariance.core.geometry import Geometry, Projective, Resampling, Symmetry
from invariance.core.inputs import TargetConfig
from invariance.core.sample import Sample, StalePixelsError

skimage_data = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.ascontiguousarray(skimage_data.astronaut())


def _chain() -> list[A.BasicTransform]:
    return [
        A.HorizontalFlip(p=1),
        A.Affine(rotate=(12, 12), scale=(1.1, 1.1), p=1),
        A.ShiftScaleRotate(shift_limit=(0.03, 0.03), scale_limit=(0.05, 0.05), rotate_limit=(-20, -20), p=1),
        A.RandomScale(scale_limit=(-0.25, -0.25), p=1),
        A.CenterCrop(320, 320),
    ]


def _sharpness(image: np.ndarray) -> float:
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float64)[40:-40, 40:-40]
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


BOXES = [[150.0, 100.0, 300.0, 260.0], [200.0, 300.0, 420.0, 480.0]]
POINTS = [[250.0, 180.0, 30.0, 2.0], [320.0, 390.0, 100.0, 1.0]]


def _run(image: np.ndarray, fuse: bool, transforms: list | None = None) -> dict:
    pipeline = A.Compose(
        transforms if transforms is not None else _chain(),
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        keypoint_params=A.KeypointParams(format="xyas", remove_invisible=False),
        additional_targets={f"marker{i}": "mask" for i in range(len(BOXES))},
        seed=0,
        fuse_warps=fuse,
    )
    mask = (cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) > 100).astype(np.uint8) * 3
    markers = {}
    for i, (x0, y0, x1, y1) in enumerate(BOXES):
        marker = np.zeros(image.shape[:2], np.uint8)
        marker[int(y0) : int(y1), int(x0) : int(x1)] = 1  # the object each box bounds
        markers[f"marker{i}"] = marker
    return pipeline(image=image, mask=mask, bboxes=BOXES, labels=[1, 2], keypoints=POINTS, **markers)


def _assert_tight_boxes(fused: dict, step: dict) -> None:
    """Fused boxes bound their object (the marker's pixels) and are never looser than the boxes
    of step-by-step re-boxing; they are tighter wherever a chain turns the plane."""
    assert fused["labels"] == step["labels"]
    for i, (tight, loose) in enumerate(zip(fused["bboxes"], step["bboxes"])):
        ys, xs = np.nonzero(fused[f"marker{fused['labels'][i] - 1}"])
        truth = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        assert tight[0] <= truth[0] + 1 and tight[1] <= truth[1] + 1
        assert tight[2] >= truth[2] - 1 and tight[3] >= truth[3] - 1
        assert tight[0] >= loose[0] - 1e-6 and tight[1] >= loose[1] - 1e-6
        assert tight[2] <= loose[2] + 1e-6 and tight[3] <= loose[3] + 1e-6


def test_fused_matches_step_by_step_within_tolerance_and_is_sharper(astronaut):
    fused, step = _run(astronaut, True), _run(astronaut, False)
    assert fused["image"].shape == step["image"].shape == (320, 320, 3)
    diff = np.abs(fused["image"].astype(np.float64) - step["image"])
    psnr = 10 * np.log10(255.0**2 / (diff**2).mean())
    assert diff.mean() < 3.0
    assert psnr > 30.0
    assert _sharpness(fused["image"]) >= _sharpness(step["image"])
    assert (fused["mask"] != step["mask"]).mean() < 0.06
    assert set(np.unique(fused["mask"])) <= {0, 3}
    _assert_tight_boxes(fused, step)
    np.testing.assert_allclose(np.asarray(fused["keypoints"]), np.asarray(step["keypoints"]), atol=1e-6)


def test_two_rotations_fuse_into_one_rotation(astronaut):
    fused = _run(astronaut, True, [A.Rotate(limit=(10, 10), p=1), A.Rotate(limit=(20, 20), p=1)])
    once = _run(astronaut, True, [A.Rotate(limit=(30, 30), p=1)])
    inner = (slice(150, 362), slice(150, 362))  # the central disc sees no border
    diff = np.abs(fused["image"][inner].astype(int) - once["image"][inner])
    assert diff.max() <= 1
    np.testing.assert_array_equal(fused["mask"][inner], once["mask"][inner])


def test_symmetries_collapse_to_an_exact_operation(astronaut):
    out = _run(astronaut, True, [A.HorizontalFlip(p=1), A.VerticalFlip(p=1), A.Transpose(p=1)])
    np.testing.assert_array_equal(
        out["image"], np.ascontiguousarray(astronaut[::-1, ::-1].transpose(1, 0, 2))
    )


def test_switch_off_is_exact_step_by_step(astronaut):
    step = _run(astronaut, False)
    image = astronaut
    mask = (cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) > 100).astype(np.uint8) * 3
    for transform in _chain():
        out = A.Compose([transform])(image=image, mask=mask)
        image, mask = out["image"], out["mask"]
    np.testing.assert_array_equal(step["image"], image)
    np.testing.assert_array_equal(step["mask"], mask)


def test_fuse_warps_is_serialized_and_defaults_on():
    assert A.Compose([A.HorizontalFlip()]).fuse_warps is True
    pipeline = A.Compose([A.HorizontalFlip()], fuse_warps=False)
    assert A.to_dict(pipeline)["transform"]["fuse_warps"] is False
    assert A.from_dict(A.to_dict(pipeline)).fuse_warps is False


def test_pixel_transform_flushes_the_buffer(astronaut):
    chain = [
        A.Rotate(limit=(15, 15), p=1),
        A.RandomBrightnessContrast(brightness_limit=(0.2, 0.2), contrast_limit=(0, 0), p=1),
        A.Affine(scale=(0.9, 0.9), p=1),
    ]
    fused, step = _run(astronaut, True, chain), _run(astronaut, False, chain)
    np.testing.assert_array_equal(fused["image"], step["image"])  # nothing fused across the pixel step


def test_non_constant_border_after_a_warp_starts_a_new_buffer(astronaut):
    chain = [A.Rotate(limit=(20, 20), p=1), A.Rotate(limit=(25, 25), border_mode=cv2.BORDER_REFLECT_101, p=1)]
    fused, step = _run(astronaut, True, chain), _run(astronaut, False, chain)
    np.testing.assert_array_equal(fused["image"], step["image"])


def test_constant_border_of_a_later_step_is_painted_as_step_by_step(astronaut):
    # The crop discards content; the rotation after it must not bring that content back.
    chain = [A.Crop(100, 100, 400, 400), A.Rotate(limit=(30, 30), fill=(255, 0, 0), p=1)]
    fused, step = _run(astronaut, True, chain), _run(astronaut, False, chain)
    corner = fused["image"][:20, :20]
    assert np.all(corner == (255, 0, 0))
    diff = np.abs(fused["image"].astype(float) - step["image"])
    assert diff.mean() < 2.0


def test_border_of_a_rotation_after_resize_and_flip_is_drawn_by_the_fused_warp(astronaut):
    # A resize and a flip map the whole image onto the whole image, so the rotation's border is
    # exactly where the fused warp reads outside the photograph: its fill, no content brought back.
    chain = [
        A.LongestMaxSize(max_size=640, p=1),
        A.HorizontalFlip(p=1),
        A.Rotate(limit=(30, 30), fill=(255, 0, 0), fill_mask=7, p=1),
    ]
    fused, step = _run(astronaut, True, chain), _run(astronaut, False, chain)
    assert fused["image"].shape == step["image"].shape == (640, 640, 3)
    assert np.all(fused["image"][:20, :20] == (255, 0, 0))
    assert np.all(fused["mask"][:20, :20] == 7)
    diff = np.abs(fused["image"].astype(float) - step["image"])
    assert diff.mean() < 2.0
    assert np.mean(fused["mask"] != step["mask"]) < 0.06


def test_nested_compose_can_turn_fusion_off(astronaut):
    inner = A.Compose([A.Rotate(limit=(10, 10), p=1), A.Rotate(limit=(5, 5), p=1)], fuse_warps=False)
    nested = _run(astronaut, True, [inner])
    step = _run(astronaut, False, [A.Rotate(limit=(10, 10), p=1), A.Rotate(limit=(5, 5), p=1)])
    np.testing.assert_array_equal(nested["image"], step["image"])


class _Opaque(Geometry):
    """A projective map that hides its matrix, like a dense warp."""

    def __init__(self, inner: Projective) -> None:
        self.inner = inner
        self.in_shape, self.out_shape = inner.in_shape, inner.out_shape

    def warp(self, array, interpolation, border_mode, fill):  # type: ignore[no-untyped-def]
        return self.inner.warp(array, interpolation, border_mode, fill)

    def map_points(self, points: np.ndarray) -> np.ndarray:
        return self.inner.map_points(points)


def test_geometry_without_matrix_flushes_and_stale_reads_are_refused():
    image = np.arange(40 * 50, dtype=np.float32).reshape(40, 50) / 2000
    sample = Sample.of((40, 50), {"image": image})
    call = Call(
        sample, TargetConfig(kinds={"image": "image"}, bbox_params=None, keypoint_params=None), fusing=True
    )
    call.apply(Warp(Symmetry("h", (40, 50)), Resampling()))
    assert call.buffer  # buffered
    shift = Projective(np.array([[1.0, 0, 3], [0, 1.0, 0], [0, 0, 1]]), (40, 50), (40, 50))
    opaque = _Opaque(shift)
    call.apply(Warp(opaque, Resampling()))
    # The flip was resampled on its own; the opaque step waits alone (it is checked, and found
    # unfusable, only if another geometry comes before the pixels are needed).
    assert [step.geometry for step in call.buffer.steps] == [opaque]
    with pytest.raises(StalePixelsError):
        _ = sample.image  # pixels are not read behind the buffer's back
    expected = np.zeros_like(image)
    expected[:, 3:] = image[:, ::-1][:, :-3]
    call.flush()
    np.testing.assert_allclose(sample.image, expected, atol=1e-6)
    call.apply(Warp(Symmetry("v", (40, 50)), Resampling()))
    assert [type(step.geometry) for step in call.buffer.steps] == [Symmetry]
    call.flush()
    np.testing.assert_allclose(sample.image, expected[::-1], atol=1e-6)
    assert not call.buffer


def test_markers_follow_keypoints_through_a_fused_chain():
    h, w = 200, 240
    points = [(60.0, 50.0), (180.0, 70.0), (120.0, 150.0)]
    image = np.zeros((h, w, 3), np.float32)
    for c, (x, y) in enumerate(points):
        channel = np.ascontiguousarray(image[:, :, c])
        cv2.circle(channel, (int(x), int(y)), 4, 1.0, -1)
        image[:, :, c] = channel
    chain = [
        A.Affine(rotate=(17, 17), scale=(0.9, 0.9), shear=(5, 5), p=1),
        A.Perspective(scale=(0.05, 0.05), p=1),
        A.HorizontalFlip(p=1),
        A.RandomScale(scale_limit=(0.2, 0.2), p=1),
    ]
    out = A.Compose(chain, keypoint_params=A.KeypointParams(format="xy"), seed=5)(
        image=image, keypoints=[list(p) for p in points]
    )
    for c, (x, y) in enumerate(out["keypoints"]):
        channel = out["image"][:, :, c]
        ys, xs = np.nonzero(channel > 0.05)
        weights = channel[ys, xs]
        centre = np.array([(xs * weights).sum(), (ys * weights).sum()]) / weights.sum()
        assert np.hypot(centre[0] - x, centre[1] - y) < 1.0


def test_occlusion_flushes_the_buffer(astronaut):
    chain = [
        A.Rotate(limit=(15, 15), p=1),
        A.CoarseDropout(num_holes_range=(3, 3), hole_height_range=(40, 40), hole_width_range=(40, 40), p=1),
        A.Affine(scale=(0.9, 0.9), p=1),
    ]
    fused, step = _run(astronaut, True, chain), _run(astronaut, False, chain)
    np.testing.assert_array_equal(fused["image"], step["image"])
    assert fused["labels"] == step["labels"]


def test_a_transform_reading_the_mask_sees_the_warped_mask(astronaut):
    chain = [
        A.Rotate(limit=(30, 30), p=1),
        A.CropNonEmptyMaskIfExists(200, 200),
        A.Rotate(limit=(-10, -10), p=1),
    ]
    fused, step = _run(astronaut, True, chain), _run(astronaut, False, chain)
    assert fused["image"].shape == step["image"].shape == (200, 200, 3)
    _assert_tight_boxes(fused, step)
    diff = np.abs(fused["image"].astype(float) - step["image"])
    assert diff.mean() < 3.0


@pytest.mark.parametrize("element", ["h", "v", "r90", "r180", "r270", "t", "hvt"])
def test_resize_then_symmetry_shortcut_is_the_general_fused_plan(element):
    """A resize followed by one symmetry takes a shortcut in FusionBuffer.take: it must be the
    plan the general path (matrix product, then recognition) finds, for any sizes."""
    from invariance.core import fusion
    from invariance.core.geometry import Scale

    rng = np.random.default_rng(7)
    for _ in range(40):
        in_shape = (int(rng.integers(5, 900)), int(rng.integers(5, 900)))
        out_shape = (int(rng.integers(5, 400)), int(rng.integers(5, 400)))
        if in_shape == out_shape:
            continue
        interpolation = int(rng.choice([cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_NEAREST]))
        resize = Warp(Scale(in_shape, out_shape), Resampling(interpolation=interpolation, fill=3.0))
        flip = Warp(Symmetry(element, out_shape), Resampling(interpolation=cv2.INTER_NEAREST))
        buffer = fusion.FusionBuffer()
        assert buffer.push(resize) and buffer.push(flip)
        steps = list(buffer.steps)
        shortcut = buffer.take()
        assert shortcut is not None and shortcut.warp is not None
        assert fusion._resize_then_symmetry(steps) is not None  # the shortcut is the one taken
        swaps = element in ("r90", "r270", "t", "hvt")
        general = fusion.exact_geometry(
            fusion.product_of([s.values for s in steps]), in_shape, out_shape[::-1] if swaps else out_shape
        )
        assert shortcut.warp.geometry == general
        assert shortcut.window is None and shortcut.borders == []
        assert shortcut.warp.resampling.interpolation == interpolation
        assert shortcut.warp.resampling.fill == 3.0
        # and the pixels: one call through the chain equals resize then the symmetry
        image = rng.integers(0, 256, (*in_shape, 3), dtype=np.uint8)
        fused = shortcut.warp.geometry.warp(image, interpolation, cv2.BORDER_CONSTANT, 0)
        stepwise = flip.geometry.warp(
            resize.geometry.warp(image, interpolation, cv2.BORDER_CONSTANT, 0), 0, 0, 0
        )
        np.testing.assert_array_equal(fused, stepwise)
