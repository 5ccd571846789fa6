"""The engine: effects, target kinds, the fusion buffer, instance pairing and the drop report."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

import invariance as A
from invariance.core.effects import Warp
from invariance.core.kinds import MaskKind, kind_names, register_kind, unregister_kind

SRC = Path(A.__file__).parent


def _marker_mask(shape: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = 1
    return mask


def _mask_box(mask: np.ndarray) -> tuple[float, float, float, float] | None:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def _area(box: Any) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


# -- the fusion buffer keeps boxes tight ------------------------------------------------------


def test_rotations_that_cancel_return_the_input_box() -> None:
    image = np.zeros((200, 240, 3), np.uint8)
    box = [90.0, 70.0, 150.0, 130.0]
    pipeline = A.Compose(
        [A.Rotate(limit=(30, 30), p=1), A.Rotate(limit=(30, 30), p=1), A.Rotate(limit=(-60, -60), p=1)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
    )
    out = pipeline(image=image, bboxes=[box], labels=[1])
    np.testing.assert_allclose(out["bboxes"][0], box, atol=1.0)
    # Step by step, each rotation re-boxes the box of the previous one: it grows loose.
    loose = A.Compose(pipeline.transforms, bbox_params=pipeline.bbox_params, fuse_warps=False)
    grown = loose(image=image, bboxes=[box], labels=[1])["bboxes"][0]
    assert _area(grown) > 2 * _area(box)


@pytest.mark.parametrize("seed", range(3))
def test_boxes_through_random_fused_chains_stay_within_five_percent_of_the_object(seed: int) -> None:
    """A marker object follows random 4-step chains (affine, rotate, perspective, crop/resize):
    the box the pipeline returns bounds the marker's pixels and is at most 5% larger on average."""
    rng = np.random.default_rng(seed)
    h, w = 240, 320
    ratios = []
    for trial in range(25):
        x0, y0 = int(rng.integers(100, 150)), int(rng.integers(80, 110))
        marker = (x0, y0, x0 + int(rng.integers(30, 60)), y0 + int(rng.integers(25, 50)))
        steps = [
            A.Affine(scale=(0.85, 1.15), rotate=(-25, 25), shear=(-8, 8), p=1),
            A.Rotate(limit=25, p=1),
            A.Perspective(scale=(0.02, 0.06), p=1),
            A.OneOf([A.RandomResizedCrop(size=(200, 260), scale=(0.6, 1.0), p=1),
                     A.Sequential([A.RandomCrop(200, 280, p=1), A.Resize(180, 240, p=1)], p=1)], p=1),
        ]  # fmt: skip
        order = list(rng.permutation(4))
        pipeline = A.Compose(
            [steps[i] for i in order],
            bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
            seed=int(rng.integers(1 << 30)),
        )
        out = pipeline(image=np.zeros((h, w), np.uint8), mask=_marker_mask((h, w), marker),
                       bboxes=[marker], labels=[0])  # fmt: skip
        truth = _mask_box(out["mask"])
        if truth is None:
            assert len(out["bboxes"]) == 0 or _area(out["bboxes"][0]) < 4
            continue
        assert len(out["bboxes"]) == 1, f"trial {trial}: the visible marker lost its box"
        got = out["bboxes"][0]
        # Never smaller than the marker (1 px for nearest-neighbour rounding of the mask).
        assert got[0] <= truth[0] + 1 and got[1] <= truth[1] + 1
        assert got[2] >= truth[2] - 1 and got[3] >= truth[3] - 1
        ratios.append(_area(got) / _area(truth))
    assert np.mean(ratios) <= 1.05, ratios


def test_a_pixel_exact_chain_stays_exact() -> None:
    image = np.arange(60 * 80 * 3, dtype=np.uint8).reshape(60, 80, 3)
    box = [10.0, 5.0, 30.0, 25.0]
    pipeline = A.Compose(
        [A.HorizontalFlip(p=1), A.Crop(4, 2, 64, 52, p=1), A.Transpose(p=1), A.VerticalFlip(p=1)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
    )
    out = pipeline(image=image, bboxes=[box], labels=[1])
    expected = image[:, ::-1][2:52, 4:64].transpose(1, 0, 2)[::-1]
    np.testing.assert_array_equal(out["image"], expected)
    # By hand: flip x -> 80 - x; crop -> x - 4, y - 2 (60 wide: the box is clipped at 60);
    # transpose swaps x and y; vertical flip of the transposed image (height 60) -> y' = 60 - y.
    fx0, fx1 = 80 - 30 - 4, min(80 - 10 - 4, 60)
    fy0, fy1 = 5 - 2, 25 - 2
    np.testing.assert_allclose(out["bboxes"][0], [fy0, 60 - fx1, fy1, 60 - fx0])


def test_without_fusion_boxes_move_step_by_step() -> None:
    image = np.zeros((100, 120, 3), np.uint8)
    box = [30.0, 30.0, 70.0, 60.0]
    steps = [A.Rotate(limit=(20, 20), p=1), A.Rotate(limit=(20, 20), p=1)]
    params = A.BboxParams(format="pascal_voc", label_fields=["labels"])
    together = A.Compose(steps, bbox_params=params, fuse_warps=False)(image=image, bboxes=[box], labels=[0])
    first = A.Compose(steps[:1], bbox_params=params)(image=image, bboxes=[box], labels=[0])
    second = A.Compose(steps[1:], bbox_params=params)(
        image=first["image"], bboxes=first["bboxes"], labels=[0]
    )
    np.testing.assert_allclose(together["bboxes"], second["bboxes"], atol=1e-6)


# -- instance masks paired with boxes ---------------------------------------------------------


def _instances(shape: tuple[int, int], boxes: list[tuple[int, int, int, int]]) -> list[np.ndarray]:
    return [_marker_mask(shape, b) for b in boxes]


def _check_paired(out: dict[str, Any]) -> None:
    masks, boxes = out["masks"], out["bboxes"]
    assert len(masks) == len(boxes)
    for mask, box in zip(masks, boxes):
        truth = _mask_box(np.asarray(mask))
        if min(box[2] - box[0], box[3] - box[1]) < 1:
            continue  # a sliver cut by a cell edge: no whole pixel of its mask is left to compare
        assert truth is not None
        np.testing.assert_allclose(box, truth, atol=1.5)


def test_a_crop_that_drops_a_box_drops_its_instance_mask() -> None:
    shape = (100, 100)
    boxes = [(5, 5, 20, 20), (60, 60, 90, 95), (40, 10, 55, 30)]
    pipeline = A.Compose(
        [A.Crop(30, 0, 100, 100, p=1)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], instance_masks="masks"),
    )
    out = pipeline(image=np.zeros((*shape, 3), np.uint8), masks=_instances(shape, boxes),
                   bboxes=boxes, labels=["a", "b", "c"])  # fmt: skip
    assert list(out["labels"]) == ["b", "c"]
    _check_paired(out)
    # Without the pairing the masks stay (as Albumentations does).
    plain = A.Compose(
        pipeline.transforms, bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"])
    )
    assert len(plain(image=np.zeros((*shape, 3), np.uint8), masks=_instances(shape, boxes), bboxes=boxes,
                     labels=["a", "b", "c"])["masks"]) == 3  # fmt: skip


def test_pairing_survives_mosaic_and_copy_paste() -> None:
    shape = (96, 96)
    rng = np.random.default_rng(3)

    def scene() -> dict[str, Any]:
        boxes = []
        for _ in range(3):
            x, y = (int(v) for v in rng.integers(0, 70, 2))
            boxes.append((x, y, x + int(rng.integers(10, 26)), y + int(rng.integers(10, 26))))
        image = rng.integers(0, 255, (*shape, 3), dtype=np.uint8)
        return {"image": image, "masks": _instances(shape, boxes), "bboxes": boxes, "labels": [1, 2, 3]}

    params = A.BboxParams(format="pascal_voc", label_fields=["labels"], instance_masks="masks")
    for seed in range(6):
        mosaic = A.Compose(
            [A.Mosaic(target_size=(96, 96), cell_shape=(64, 64), p=1)], bbox_params=params, seed=seed
        )
        out = mosaic(**scene(), mosaic_metadata=[scene() for _ in range(3)])
        _check_paired(out)
        assert len(out["bboxes"]) >= 1
        copy_paste = A.Compose([A.CopyPaste(num_objects_range=(2, 3), p=1)], bbox_params=params, seed=seed)
        out = copy_paste(**scene(), copy_paste_metadata=scene())
        _check_paired(out)
        assert len(out["bboxes"]) >= 2


def test_pairing_is_checked_at_the_edge() -> None:
    params = A.BboxParams(format="pascal_voc", label_fields=["labels"], instance_masks="masks")
    pipeline = A.Compose([A.HorizontalFlip(p=1)], bbox_params=params)
    with pytest.raises(A.InputError, match="one instance mask per box"):
        pipeline(image=np.zeros((20, 20), np.uint8), masks=[np.zeros((20, 20), np.uint8)],
                 bboxes=[(1, 1, 5, 5), (6, 6, 9, 9)], labels=[0, 1])  # fmt: skip


# -- the drop report --------------------------------------------------------------------------


def test_the_drop_report_names_the_step_the_target_and_the_reason() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    boxes = [(2, 2, 10, 10), (40, 40, 60, 60), (85, 10, 99, 30)]
    pipeline = A.Compose(
        [A.Crop(20, 0, 90, 100, p=1), A.CoarseDropout(num_holes_range=(1, 1), hole_height_range=(30, 30),
                                                       hole_width_range=(30, 30), fill=0, p=1)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], min_visibility=0.6),
        keypoint_params=A.KeypointParams(format="xy"),
        report_drops=True,
    )  # fmt: skip
    out = pipeline(image=image, bboxes=boxes, labels=[0, 1, 2], keypoints=[(5, 5), (50, 50)])
    report = out["dropped"]
    by_reason = {(e["step"], e["target"], e["reason"]): e["count"] for e in report}
    assert by_reason[("Crop", "bboxes", "out_of_frame")] == 1  # (2, 2, 10, 10) is cut away
    assert by_reason[("Crop", "bboxes", "min_visibility")] == 1  # (85, ...) keeps 5 of 14 columns
    assert by_reason[("Crop", "keypoints", "out_of_frame")] == 1
    assert sum(e["count"] for e in report if e["target"] == "bboxes") == 3 - len(out["bboxes"])
    # Off by default: Albumentations' output keys only.
    assert "dropped" not in A.Compose(pipeline.transforms)(image=image)


# -- target kinds -----------------------------------------------------------------------------


class DepthKind(MaskKind):
    """A toy kind: a depth map, resampled linearly (not nearest) and untouched by pixel effects."""

    name = "depth_map"

    def resample(self, value: np.ndarray, geometry: Any, resampling: Any) -> np.ndarray:
        return geometry.warp(value, cv2.INTER_LINEAR, resampling.border_mode, 0.0)


@pytest.fixture
def depth_kind():
    register_kind(DepthKind())
    yield
    unregister_kind("depth_map")  # other tests list the kinds in error messages


def test_a_new_target_kind_is_one_class_and_its_registration(depth_kind) -> None:
    assert "depth_map" in kind_names()
    depth = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (48, 1))
    pipeline = A.Compose(
        [A.HorizontalFlip(p=1), A.Affine(scale=0.5, p=1), A.RandomBrightnessContrast(p=1)],
        additional_targets={"depth": "depth_map"},
        seed=0,
    )
    image = np.zeros((48, 64, 3), np.uint8)
    out = pipeline(image=image, depth=depth)
    assert out["depth"].dtype == np.float32 and out["depth"].shape == (48, 64)
    row = out["depth"][24, 20:44]
    assert np.all(np.diff(row) < 0), "flipped: depth now decreases left to right"
    assert len(np.unique(np.round(row, 4))) > 12, "linear, not nearest, resampling"


def test_no_transform_touches_sample_fields_or_overrides_the_application_step() -> None:
    offenders = []
    for path in (SRC / "transforms").rglob("*.py"):
        text = path.read_text()
        if "def apply_params" in text or re.search(r"\bsample\.\w+(\[[^\]]*\])?\s*=[^=]", text):
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == []


def test_effects_are_data_a_transform_returns() -> None:
    t = A.Rotate(limit=(10, 10), p=1)
    from invariance.core.sample import Sample

    sample = Sample.of((30, 40), {"image": np.zeros((30, 40), np.uint8)})
    effect = t.effect(t.sample(np.random.default_rng(0), sample), sample)
    assert isinstance(effect, Warp) and effect.geometry.in_shape == (30, 40)
