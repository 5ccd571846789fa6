"""Box and keypoint formats, extra columns, label types and filtering."""

from __future__ import annotations

import numpy as np
import pytest

import invariance as A

H, W = 50, 80
IMAGE = np.zeros((H, W, 3), np.uint8)
VOC = [[8.0, 5.0, 40.0, 30.0], [50.0, 10.0, 80.0, 50.0]]
AS_FORMAT = {
    "pascal_voc": VOC,
    "coco": [[8.0, 5.0, 32.0, 25.0], [50.0, 10.0, 30.0, 40.0]],
    "albumentations": [[0.1, 0.1, 0.5, 0.6], [0.625, 0.2, 1.0, 1.0]],
    "yolo": [[0.3, 0.35, 0.4, 0.5], [0.8125, 0.6, 0.375, 0.8]],
}


@pytest.mark.parametrize("fmt", list(AS_FORMAT))
def test_box_formats_round_trip_and_flip(fmt):
    boxes = AS_FORMAT[fmt]
    identity = A.Compose([A.NoOp(p=1)], bbox_params=A.BboxParams(format=fmt))
    np.testing.assert_allclose(identity(image=IMAGE, bboxes=boxes)["bboxes"], boxes, atol=1e-12)
    flip = A.Compose([A.HorizontalFlip(p=1)], bbox_params=A.BboxParams(coord_format=fmt))
    voc_flip = A.Compose([A.HorizontalFlip(p=1)], bbox_params=A.BboxParams(format="pascal_voc"))
    expected = voc_flip(image=IMAGE, bboxes=VOC)["bboxes"]
    back = A.Compose([A.NoOp(p=1)], bbox_params=A.BboxParams(format=fmt))
    out = flip(image=IMAGE, bboxes=boxes)["bboxes"]
    # Convert our result to pascal_voc through the formats' definitions.
    arr = np.asarray(out)
    if fmt == "coco":
        arr = np.c_[arr[:, :2], arr[:, :2] + arr[:, 2:]]
    elif fmt == "albumentations":
        arr = arr * [W, H, W, H]
    elif fmt == "yolo":
        arr = np.c_[arr[:, :2] - arr[:, 2:] / 2, arr[:, :2] + arr[:, 2:] / 2] * [W, H, W, H]
    np.testing.assert_allclose(arr, expected, atol=1e-9)
    assert back is not None


@pytest.mark.parametrize("fmt", ["xy", "yx", "xya", "xys", "xyas", "xysa"])
def test_keypoint_formats(fmt):
    values = {"x": 10.0, "y": 20.0, "a": 30.0, "s": 2.0}
    point = [values[c] for c in fmt]
    pipeline = A.Compose([A.HorizontalFlip(p=1)], keypoint_params=A.KeypointParams(format=fmt))
    out = pipeline(image=IMAGE, keypoints=[point + ["extra"]])["keypoints"][0]
    flipped = {"x": W - 1 - 10.0, "y": 20.0, "a": 150.0, "s": 2.0}
    assert out[: len(fmt)] == pytest.approx([flipped[c] for c in fmt])
    assert out[-1] == "extra"


def test_extra_columns_and_label_types_survive_filtering():
    pipeline = A.Compose(
        [A.Crop(0, 0, 45, 50)],
        bbox_params=A.BboxParams(
            format="pascal_voc", label_fields=["ids", "names", "arr"], min_visibility=0.6
        ),
    )
    boxes = [[8, 5, 40, 30, "car", 3], [50, 10, 80, 50, "bus", 4], [30, 5, 60, 10, "van", 5]]
    out = pipeline(
        image=IMAGE, bboxes=boxes, ids=[1, 2, 3], names=("a", "b", "c"), arr=np.array([1.5, 2.5, 3.5])
    )
    assert out["bboxes"] == [[8.0, 5.0, 40.0, 30.0, "car", 3]]
    assert out["ids"] == [1] and type(out["ids"][0]) is int
    assert out["names"] == ("a",)
    np.testing.assert_array_equal(out["arr"], [1.5])
    as_array = pipeline(
        image=IMAGE, bboxes=np.array([[8, 5, 40, 30, 7.0]]), ids=[1], names=["a"], arr=np.array([0.0])
    )
    assert isinstance(as_array["bboxes"], np.ndarray) and as_array["bboxes"].shape == (1, 5)


def test_box_filters():
    params = dict(format="pascal_voc", label_fields=["labels"])
    boxes = [[0, 0, 10, 2], [0, 0, 20, 20], [50, 30, 70, 50]]
    crop = [A.Crop(0, 0, 60, 50)]
    out = A.Compose(crop, bbox_params=A.BboxParams(**params, min_area=30))(
        image=IMAGE, bboxes=boxes, labels=[1, 2, 3]
    )
    assert out["labels"] == [2, 3]  # the 10x2 box has area 20
    out = A.Compose(crop, bbox_params=A.BboxParams(**params, min_height=5))(
        image=IMAGE, bboxes=boxes, labels=[1, 2, 3]
    )
    assert out["labels"] == [2, 3]
    out = A.Compose(crop, bbox_params=A.BboxParams(**params, min_visibility=0.3))(
        image=IMAGE, bboxes=boxes, labels=[1, 2, 3]
    )
    assert out["labels"] == [1, 2, 3]  # box 3 keeps 10x20 of 20x20: 0.5 visible
    out = A.Compose(crop, bbox_params=A.BboxParams(**params, min_visibility=0.6))(
        image=IMAGE, bboxes=boxes, labels=[1, 2, 3]
    )
    assert out["labels"] == [1, 2]
    out = A.Compose(crop, bbox_params=A.BboxParams(**params, min_visibility=0.5))(
        image=IMAGE, bboxes=boxes, labels=[1, 2, 3]
    )
    assert out["labels"] == [1, 2, 3]
    out = A.Compose(crop, bbox_params=A.BboxParams(**params, max_accept_ratio=3))(
        image=IMAGE, bboxes=boxes, labels=[1, 2, 3]
    )
    assert out["labels"] == [2, 3]


def test_clip_and_filter_invalid():
    outside = [[-1e-6, 0.2, 0.5, 0.5]]
    with pytest.raises(A.InputError, match="outside the image"):
        A.Compose([], bbox_params=A.BboxParams(format="albumentations"))(image=IMAGE, bboxes=outside)
    out = A.Compose([], bbox_params=A.BboxParams(format="albumentations", clip=True))(
        image=IMAGE, bboxes=outside
    )
    assert out["bboxes"] == [[0.0, 0.2, 0.5, 0.5]]
    invalid = [[10, 10, 5, 20], [1, 1, 4, 4]]
    with pytest.raises(A.InputError, match="x_max <= x_min"):
        A.Compose([], bbox_params=A.BboxParams(format="pascal_voc"))(image=IMAGE, bboxes=invalid)
    out = A.Compose(
        [], bbox_params=A.BboxParams(format="pascal_voc", filter_invalid_bboxes=True, label_fields=["l"])
    )(image=IMAGE, bboxes=invalid, l=["bad", "ok"])
    assert out["bboxes"] == [[1.0, 1.0, 4.0, 4.0]] and out["l"] == ["ok"]


def test_keypoints_leaving_the_image_are_dropped_or_kept():
    points = [[2.0, 2.0], [70.0, 40.0]]
    crop = [A.Crop(0, 0, 40, 30)]
    out = A.Compose(crop, keypoint_params=A.KeypointParams(format="xy", label_fields=["k"]))(
        image=IMAGE, keypoints=points, k=["a", "b"]
    )
    assert out["keypoints"] == [[2.0, 2.0]] and out["k"] == ["a"]
    out = A.Compose(crop, keypoint_params=A.KeypointParams(format="xy", remove_invisible=False))(
        image=IMAGE, keypoints=points
    )
    assert out["keypoints"] == [[2.0, 2.0], [70.0, 40.0]]


def test_check_each_transform_false_lets_boxes_come_back():
    steps = [A.Affine(translate_px={"x": 60, "y": 0}, p=1), A.Affine(translate_px={"x": -60, "y": 0}, p=1)]
    box = [[30, 10, 40, 20]]
    eager = A.Compose(steps, bbox_params=A.BboxParams(format="pascal_voc"))(image=IMAGE, bboxes=box)
    lazy = A.Compose(steps, bbox_params=A.BboxParams(format="pascal_voc", check_each_transform=False))(
        image=IMAGE, bboxes=box
    )
    np.testing.assert_allclose(lazy["bboxes"], box)
    assert len(eager["bboxes"]) <= 1


def test_label_mapping_with_missing_points_keeps_renamed_labels():
    mapping = {"left": "right", "right": "left"}
    pipeline = A.Compose(
        [A.HorizontalFlip(p=1)],
        keypoint_params=A.KeypointParams(
            format="xy", label_fields=["side"], label_mapping={"HorizontalFlip": {"side": mapping}}
        ),
    )
    out = pipeline(image=IMAGE, keypoints=[[10.0, 5.0], [60.0, 5.0]], side=["left", "right"])
    assert out["side"] == ["left", "right"]
    assert out["keypoints"] == [[W - 1 - 60.0, 5.0], [W - 1 - 10.0, 5.0]]
    out = pipeline(image=IMAGE, keypoints=[[10.0, 5.0]], side=["left"])
    assert out["side"] == ["right"] and out["keypoints"] == [[W - 1 - 10.0, 5.0]]
    with pytest.raises(A.ParameterError, match="label_fields"):
        A.KeypointParams(format="xy", label_fields=["a"], label_mapping={"HorizontalFlip": {"b": {}}})


def test_a_float32_box_edge_on_the_border_is_on_it_not_outside():
    # 0.999 + 0.002 / 2 is 1.0000000128 in float32: the box touches the right and bottom edges.
    on_edge = np.array([[0.999, 0.999, 0.002, 0.002]], np.float32)
    pipeline = A.Compose([A.HorizontalFlip(p=1)], bbox_params=A.BboxParams(format="yolo", label_fields=["c"]))
    out = pipeline(image=np.zeros((100, 100, 3), np.uint8), bboxes=on_edge, c=[7])
    np.testing.assert_allclose(out["bboxes"], [[0.001, 0.999, 0.002, 0.002]], atol=1e-6)
    assert list(out["c"]) == [7]
    # A box really past the border is still refused, naming it.
    with pytest.raises(A.InputError, match=r"bboxes\[0\].*outside the image"):
        pipeline(image=np.zeros((100, 100, 3), np.uint8), bboxes=[[0.999, 0.5, 0.004, 0.2]], c=[7])
