"""Reflect borders show mirror images of objects near the edge: their boxes and keypoints come too.

Each test paints marker objects into a mask, runs the pipeline, and measures where the markers
ended up in the output mask: the boxes and keypoints the pipeline returns must be exactly the
visible markers, originals and mirrored copies alike.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

import invariance as A

H, W = 60, 80
# Objects that keep at least 2 px from each other and from the edges, so every visible copy is a
# separate connected component in the output mask.
BOXES = [(3, 4, 12, 15), (60, 6, 75, 14), (30, 44, 42, 56), (35, 20, 50, 30), (4, 40, 10, 55)]
POINTS = [(3, 5), (70, 8), (40, 55), (20, 30), (77, 57)]


def _marked_mask() -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    for value, (x0, y0, x1, y1) in enumerate(BOXES, start=1):
        mask[y0:y1, x0:x1] = value
    return mask


def _components(mask: np.ndarray, value: int) -> list[tuple[float, ...]]:
    count, _, stats, _ = cv2.connectedComponentsWithStats((mask == value).astype(np.uint8), connectivity=4)
    return sorted((float(x), float(y), float(x + w), float(y + h)) for x, y, w, h, _ in stats[1:count])


def _run_boxes(steps: list[Any], fuse: bool) -> tuple[np.ndarray, list[Any], list[int]]:
    pipeline = A.Compose(
        steps, bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]), fuse_warps=fuse, seed=0
    )
    out = pipeline(
        image=np.zeros((H, W), np.uint8),
        mask=_marked_mask(),
        bboxes=BOXES,
        labels=list(range(1, len(BOXES) + 1)),
    )
    return out["mask"], out["bboxes"], list(out["labels"])


PADS = [
    pytest.param(cv2.BORDER_REFLECT, id="reflect"),
    pytest.param(cv2.BORDER_REFLECT_101, id="reflect101"),
]


@pytest.mark.parametrize("border", PADS)
@pytest.mark.parametrize("fuse", [True, False])
@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda b: [A.PadIfNeeded(100, 130, border_mode=b, p=1)], id="pad_if_needed"),
        pytest.param(lambda b: [A.Pad(padding=(25, 10, 30, 20), border_mode=b, p=1)], id="pad"),
        pytest.param(
            lambda b: [A.Affine(translate_px={"x": 27, "y": -18}, border_mode=b, p=1)], id="affine_translate"
        ),
        pytest.param(
            lambda b: [A.PadIfNeeded(100, 130, border_mode=b, p=1), A.HorizontalFlip(p=1)],
            id="fused_pad_flip",
        ),
    ],
)
def test_boxes_are_the_visible_markers(make: Any, border: int, fuse: bool) -> None:
    mask, boxes, labels = _run_boxes(make(border), fuse)
    for value in range(1, len(BOXES) + 1):
        found = sorted(tuple(float(c) for c in box) for box, label in zip(boxes, labels) if label == value)
        measured = _components(mask, value)
        assert len(found) == len(measured), (value, found, measured)
        np.testing.assert_allclose(found, measured, atol=1e-6)
    assert len(boxes) > len(BOXES)  # the padded area really shows copies


def test_no_copies_with_a_constant_border() -> None:
    _, _, labels = _run_boxes([A.PadIfNeeded(100, 130, border_mode=cv2.BORDER_CONSTANT, p=1)], True)
    assert sorted(labels) == list(range(1, len(BOXES) + 1))


@pytest.mark.parametrize("border", PADS)
@pytest.mark.parametrize(
    "step",
    [
        pytest.param(lambda b: A.PadIfNeeded(100, 130, border_mode=b, p=1), id="pad_if_needed"),
        pytest.param(lambda b: A.Affine(translate_px={"x": -31, "y": 22}, border_mode=b, p=1), id="affine"),
    ],
)
def test_keypoints_are_the_visible_markers(step: Any, border: int) -> None:
    marks = np.zeros((H, W), np.uint8)
    for value, (x, y) in enumerate(POINTS, start=1):
        marks[y, x] = value
    pipeline = A.Compose(
        [step(border)], keypoint_params=A.KeypointParams(format="xy", label_fields=["labels"]), seed=0
    )
    out = pipeline(image=np.zeros((H, W), np.uint8), mask=marks, keypoints=POINTS, labels=list(range(1, 6)))
    found = sorted(
        (int(v), round(float(x)), round(float(y))) for (x, y), v in zip(out["keypoints"], out["labels"])
    )
    ys, xs = np.nonzero(out["mask"])
    measured = sorted((int(out["mask"][y, x]), int(x), int(y)) for y, x in zip(ys, xs))
    assert found == measured
    labels = [v for v, _, _ in found]
    assert len(set(labels)) < len(labels)  # some marker is visible more than once: copies came


def test_mirrored_keypoint_angles_turn_with_the_mirror() -> None:
    """A keypoint pointing right (angle 0) near the left edge: its copy across the left edge
    points left (pi); across the top edge the angle is negated."""
    pipeline = A.Compose(
        [A.Pad(padding=(10, 10, 0, 0), border_mode=cv2.BORDER_REFLECT, p=1)],
        keypoint_params=A.KeypointParams(format="xya", angle_in_degrees=True),
    )
    out = pipeline(image=np.zeros((H, W), np.uint8), keypoints=[(2, 3, 30)])
    angles = {(round(x), round(y)): round(a) % 360 for x, y, a in out["keypoints"]}
    assert angles[(12, 13)] == 30  # the original, shifted by the padding
    assert angles[(7, 13)] == 150  # mirrored across the left edge: x = -1 - 2 -> -3 (+10)
    assert angles[(12, 6)] == 330  # mirrored across the top edge: y = -1 - 3 -> -4 (+10)
    assert angles[(7, 6)] == 210  # both


def test_instance_paired_boxes_get_no_copies() -> None:
    """A mirrored copy would need an instance mask of its own; paired boxes keep one each."""
    masks = [(_marked_mask() == v).astype(np.uint8) for v in range(1, len(BOXES) + 1)]
    pipeline = A.Compose(
        [A.PadIfNeeded(100, 130, border_mode=cv2.BORDER_REFLECT, p=1)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], instance_masks="masks"),
    )
    out = pipeline(image=np.zeros((H, W), np.uint8), masks=masks, bboxes=BOXES, labels=list(range(5)))
    assert len(out["bboxes"]) == len(out["masks"]) == len(BOXES)
