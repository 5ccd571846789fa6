"""torchvision v2 integration: tv_tensors adapters and InvarianceTransform inside a v2 pipeline."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="torch is optional: pip install -e '.[test,torch]' to run this test"
)
pytest.importorskip(
    "torchvision", reason="torchvision is optional: pip install -e '.[test,torchvision]' to run this test"
)
tv_tensors = pytest.importorskip(
    "torchvision.tv_tensors",
    reason="torchvision is optional: pip install -e '.[test,torchvision]' to run this test",
)
v2 = pytest.importorskip(
    "torchvision.transforms.v2",
    reason="torchvision is optional: pip install -e '.[test,torchvision]' to run this test",
)

import invariance as A  # noqa: E402
from invariance.integrations.torchvision import (  # noqa: E402
    InvarianceTransform,
    boxes_from_numpy,
    boxes_to_numpy,
    image_from_numpy,
    image_to_numpy,
    sample_from_tv,
)


def _image(h=40, w=60):
    img = torch.zeros((3, h, w), dtype=torch.uint8)
    img[0, 10:20, 5:15] = 255
    return tv_tensors.Image(img)


@pytest.mark.parametrize("fmt", ["XYXY", "XYWH", "CXCYWH"])
def test_box_formats_round_trip(fmt):
    xyxy = np.array([[5.0, 10.0, 15.0, 20.0], [0.0, 0.0, 60.0, 40.0]])
    like = tv_tensors.BoundingBoxes(torch.zeros((2, 4)), format=fmt, canvas_size=(40, 60))
    boxes = boxes_from_numpy(xyxy, like, (40, 60))
    assert boxes.format.name == fmt and tuple(boxes.canvas_size) == (40, 60)
    if fmt == "XYWH":
        assert boxes[0].tolist() == [5.0, 10.0, 10.0, 10.0]
    if fmt == "CXCYWH":
        assert boxes[0].tolist() == [10.0, 15.0, 10.0, 10.0]
    np.testing.assert_allclose(boxes_to_numpy(boxes), xyxy)


def test_image_round_trip_keeps_layout_and_dtype():
    img = _image()
    array = image_to_numpy(img)
    assert array.shape == (40, 60, 3) and array.dtype == np.uint8 and array[15, 10, 0] == 255
    back = image_from_numpy(array)
    assert isinstance(back, tv_tensors.Image) and torch.equal(back, img)
    gray = image_to_numpy(torch.zeros((1, 4, 5)))
    assert gray.shape == (4, 5)


def test_policy_inside_a_v2_pipeline_moves_every_tv_tensor():
    img = _image()
    mask = tv_tensors.Mask(torch.zeros((40, 60), dtype=torch.uint8))
    mask[10:20, 5:15] = 1
    boxes = tv_tensors.BoundingBoxes(
        torch.tensor([[5.0, 10.0, 10.0, 10.0]]), format="XYWH", canvas_size=(40, 60)
    )
    points = tv_tensors.KeyPoints(torch.tensor([[9.0, 14.0]]), canvas_size=(40, 60))
    pipeline = v2.Compose(
        [
            InvarianceTransform([A.HorizontalFlip(p=1.0), A.Resize(20, 30)]),
            v2.ToDtype({tv_tensors.Image: torch.float32, "others": None}, scale=True),
        ]
    )
    out_img, target = pipeline(
        img, {"boxes": boxes, "masks": mask, "points": points, "labels": torch.tensor([3])}
    )
    assert isinstance(out_img, tv_tensors.Image) and tuple(out_img.shape) == (3, 20, 30)
    assert out_img.dtype == torch.float32 and float(out_img.max()) == 1.0
    out_boxes = target["boxes"]
    assert isinstance(out_boxes, tv_tensors.BoundingBoxes) and out_boxes.format.name == "XYWH"
    assert tuple(out_boxes.canvas_size) == (20, 30)
    # flipped: x in [60-15, 60-5] = [45, 55], then halved -> [22.5, 27.5], y [5, 10]
    assert out_boxes[0].tolist() == pytest.approx([22.5, 5.0, 5.0, 5.0])
    assert isinstance(target["masks"], tv_tensors.Mask) and tuple(target["masks"].shape) == (20, 30)
    ys, xs = torch.nonzero(target["masks"], as_tuple=True)
    assert 22 <= int(xs.min()) <= 23 and 26 <= int(xs.max()) <= 27  # box x in [22.5, 27.5]
    assert int(ys.min()) == 5 and int(ys.max()) == 9
    assert isinstance(target["points"], tv_tensors.KeyPoints)
    assert tuple(target["points"].canvas_size) == (20, 30)
    # pixel-centre convention: x -> 59 - 9 = 50, then (50 + 0.5) / 2 - 0.5
    assert target["points"][0].tolist() == pytest.approx([24.75, 6.75])
    assert target["labels"].tolist() == [3]


def test_dropped_boxes_come_back_degenerate_and_sanitize_removes_them_with_labels():
    boxes = tv_tensors.BoundingBoxes(
        torch.tensor([[5, 10, 15, 20], [40, 25, 55, 35]]), format="XYXY", canvas_size=(40, 60)
    )
    pipeline = v2.Compose([InvarianceTransform(A.Crop(0, 0, 30, 22)), v2.SanitizeBoundingBoxes()])
    out = pipeline({"image": _image(), "boxes": boxes, "labels": torch.tensor([1, 2])})
    assert out["boxes"].tolist() == [[5, 10, 15, 20]] and out["boxes"].dtype == boxes.dtype
    assert out["labels"].tolist() == [1]
    assert tuple(out["image"].shape) == (3, 22, 30)


def test_seeded_transform_reproduces_and_plain_tensors_stay_plain():
    img = _image().as_subclass(torch.Tensor)
    a = InvarianceTransform(A.RandomBrightnessContrast(p=1.0), seed=3)(img)
    b = InvarianceTransform(A.RandomBrightnessContrast(p=1.0), seed=3)(img)
    assert type(a) is torch.Tensor and torch.equal(a, b)


def test_sample_from_tv_converts_a_dict():
    data = sample_from_tv(
        {
            "image": _image(),
            "boxes": tv_tensors.BoundingBoxes(
                torch.tensor([[1, 2, 3, 4]]), format="XYXY", canvas_size=(40, 60)
            ),
            "name": "x",
        }
    )
    assert (
        data["image"].shape == (40, 60, 3)
        and data["boxes"].tolist() == [[1, 2, 3, 4]]
        and data["name"] == "x"
    )
