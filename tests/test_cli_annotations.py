"""Dataset readers and writers: COCO json, YOLO txt, Pascal VOC xml round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from invariance.data import sample_scene
from invariance.tools.annotations import (
    AnnotationError,
    detect_format,
    mask_to_polygons,
    polygons_to_mask,
    read_dataset,
    write_atomic,
)
from invariance.tools.sample_data import write_sample_dataset


@pytest.mark.parametrize("fmt", ["coco", "yolo", "voc"])
def test_boxes_and_labels_round_trip(tmp_path, fmt):
    root = write_sample_dataset(tmp_path / fmt, fmt, count=2, height=120, width=160)
    assert detect_format(root) == fmt
    data = read_dataset(root)
    assert data.format == fmt
    assert [r.key for r in data.records] == ["images/scene_000.png", "images/scene_001.png"]
    scene = sample_scene(120, 160, seed=0)
    record = data.records[0]
    assert (record.width, record.height) == (160, 120)
    assert [o.label for o in record.objects] == scene["labels"]
    got = np.array([o.bbox for o in record.objects])
    tolerance = 1e-3 if fmt != "voc" else 0.51  # VOC stores integer pixel indices
    np.testing.assert_allclose(got, np.array(scene["bboxes"]), atol=tolerance)


def test_coco_keeps_keypoints_polygons_and_skeleton(tmp_path):
    root = write_sample_dataset(tmp_path, "coco", count=1, height=120, width=160)
    data = read_dataset(root)
    assert data.keypoint_names == ["roof_apex", "door_left", "door_right"]
    assert data.skeleton == [(0, 1), (0, 2), (1, 2)]
    house = next(o for o in data.records[0].objects if o.label == "house")
    assert house.keypoints is not None and len(house.keypoints) == 3
    assert all(v == 2 for *_, v in house.keypoints)
    assert house.polygons


def test_yolo_class_names_come_from_classes_txt(tmp_path):
    root = write_sample_dataset(tmp_path, "yolo", count=1, height=60, width=80)
    (root / "classes.txt").write_text("a\nb\nc\nd\n")
    labels = [o.label for o in read_dataset(root).records[0].objects]
    assert labels == ["a", "b", "c", "d"]


def test_polygons_and_masks_are_inverse_for_a_rectangle():
    mask = np.zeros((20, 30), np.uint8)
    mask[5:12, 8:20] = 1
    polygons = mask_to_polygons(mask)
    assert len(polygons) == 1
    back = polygons_to_mask(polygons, 20, 30)
    # The contour runs through the centres of the border pixels, shifted to pixel edges:
    # rasterising it again covers the same pixels (up to the border row/column).
    assert np.abs(back.astype(int) - mask).sum() <= 2 * (7 + 12)
    assert back[8, 12] == 1 and back[0, 0] == 0


def test_missing_directory_and_bad_files_raise_clear_errors(tmp_path):
    with pytest.raises(AnnotationError, match="does not exist"):
        read_dataset(tmp_path / "nope")
    (tmp_path / "images").mkdir()
    with pytest.raises(AnnotationError, match="no images"):
        read_dataset(tmp_path, "images")
    (tmp_path / "bad.json").write_text('{"images": [{"id": 1, "file_name": "x.png"}], "annotations": []}')
    with pytest.raises(AnnotationError, match="not found"):
        read_dataset(tmp_path)


def test_write_atomic_replaces_whole_files_and_leaves_no_temporaries(tmp_path):
    target = tmp_path / "sub" / "a.json"
    write_atomic(target, json.dumps({"a": 1}))
    write_atomic(target, b"{}")
    assert target.read_bytes() == b"{}"
    assert [p.name for p in target.parent.iterdir()] == ["a.json"]


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
@pytest.mark.parametrize("shape", [(37, 53, 3), (37, 53)])
def test_image_size_from_the_header_matches_decoding(tmp_path, suffix, shape):
    import cv2

    from invariance.tools.annotations import _image_size

    path = tmp_path / f"x{suffix}"
    cv2.imwrite(str(path), np.full(shape, 90, np.uint8))
    assert _image_size(path) == (53, 37)
    other = tmp_path / "x.bmp"
    cv2.imwrite(str(other), np.zeros(shape, np.uint8))
    assert _image_size(other) == (53, 37)
