"""Test-time augmentation: exact round trips for every view and target kind, aggregations, merging."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import invariance as A
from invariance import tta
from invariance.core.geometry import map_boxes, map_keypoints

H, W = 24, 32  # even and non-square: rotations by 90 degrees swap the sides


def exact_views() -> list[tta.View]:
    """Every kind of view, with nearest-neighbour scales so toy predictions resample exactly."""
    return [
        *tta.d4_views(),
        *tta.scale_views((2.0, 0.5), interpolation=cv2.INTER_NEAREST),
        *tta.ten_crop((16, 20)),
        *tta.five_crop((30, 40)),  # windows larger than the image: padded, the padding dropped on return
        tta.ten_crop(0.75)[7].then(tta.flip_view("rot90")),
        tta.View("scale2+transpose", (tta.RescaleStep(2.0), tta.FlipStep("transpose")), cv2.INTER_NEAREST),
    ]


VIEWS = exact_views()
IDS = [v.name for v in VIEWS]


def block_prediction(channels: int = 3, seed: int = 0) -> np.ndarray:
    """A float map constant on 2x2 blocks, so a nearest 0.5 scale loses nothing."""
    rng = np.random.default_rng(seed)
    small = rng.random((H // 2, W // 2, channels)).astype(np.float32)
    return np.repeat(np.repeat(small, 2, axis=0), 2, axis=1)


@pytest.mark.parametrize("view", VIEWS, ids=IDS)
def test_dense_round_trip_is_exact(view: tta.View) -> None:
    pred = block_prediction()
    seen = view.apply(pred)
    assert seen.shape[:2] == view.output_shape((H, W))
    back, coverage = view.invert_dense(seen, (H, W), cv2.INTER_NEAREST)
    covered = coverage > 0
    assert covered.any()
    np.testing.assert_array_equal(back[covered], pred[covered])
    assert set(np.unique(coverage)) <= {0.0, 1.0}
    if not any(isinstance(s, tta.CropStep) for s in view.steps):
        assert covered.all()


@pytest.mark.parametrize("view", VIEWS, ids=IDS)
def test_label_mask_round_trip_is_exact(view: tta.View) -> None:
    mask = (block_prediction(1)[..., 0] * 5).astype(np.uint8)
    back, coverage = view.invert_dense(view.apply(mask[..., None])[..., 0], (H, W))
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back[coverage > 0], mask[coverage > 0])


BOXES = np.array([[5.0, 6.0, 12.0, 14.0], [10.0, 9.0, 15.0, 13.0]])  # inside every 16x20 / 0.75 crop


@pytest.mark.parametrize("view", VIEWS, ids=IDS)
def test_boxes_round_trip_is_exact(view: tta.View) -> None:
    seen = map_boxes(view.geometry((H, W)), BOXES)
    np.testing.assert_array_equal(view.invert_boxes(seen, (H, W)), BOXES)


@pytest.mark.parametrize("view", VIEWS, ids=IDS)
def test_keypoints_round_trip_is_exact(view: tta.View) -> None:
    points = np.array([[6.0, 7.0, 0.9], [11.5, 10.0, 0.4], [13.0, 12.0, 1.0]])
    internal = np.zeros((3, 4))
    internal[:, :2], internal[:, 3] = points[:, :2], 1.0
    seen = points.copy()
    seen[:, :2] = map_keypoints(view.geometry((H, W)), internal)[:, :2]
    np.testing.assert_array_equal(view.invert_keypoints(seen, (H, W)), points)


def test_named_views_are_the_expected_maps() -> None:
    img = np.arange(H * W, dtype=np.float32).reshape(H, W, 1)
    expected = {
        "identity": img,
        "hflip": img[:, ::-1],
        "vflip": img[::-1],
        "rot90": np.rot90(img),
        "rot180": img[::-1, ::-1],
        "rot270": np.rot90(img, 3),
        "transpose": img.transpose(1, 0, 2),
        "anti_transpose": np.rot90(img.transpose(1, 0, 2), 2),
    }
    for view in tta.d4_views():
        np.testing.assert_array_equal(view.apply(img), expected[view.name])
    crops = {v.name: v.apply(img) for v in tta.five_crop((10, 12))}
    np.testing.assert_array_equal(crops["crop_top_left"], img[:10, :12])
    np.testing.assert_array_equal(crops["crop_bottom_right"], img[-10:, -12:])
    np.testing.assert_array_equal(crops["crop_center"], img[7:17, 10:22])
    assert [v.name for v in tta.ten_crop(8)][5:] == [f"{n}+hflip" for n in crops]


# -- whole TTA runs with toy models that are exactly equivariant ----------------------------------


def toy_images(n: int = 2) -> np.ndarray:
    return np.stack([(block_prediction(3, seed) * 255).astype(np.uint8) for seed in range(n)])


def test_classify_invariant_model_recovers_its_scores() -> None:
    images = toy_images()

    def model(batch: np.ndarray) -> np.ndarray:
        return batch.reshape(len(batch), -1, 3).astype(np.float64).mean(axis=1)  # invariant under D4

    for method in tta.AGGREGATIONS[:3]:
        out = tta.TTA(tta.d4_views(), aggregation=method).classify(model, images)
        np.testing.assert_allclose(out, model(images), rtol=1e-12)
    votes = tta.TTA(tta.d4_views(), "vote").classify(model, images)
    np.testing.assert_array_equal(votes.argmax(1), model(images).argmax(1))


@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
def test_segment_identity_model_recovers_the_image(layout: str) -> None:
    images = toy_images()

    def model(batch: np.ndarray) -> np.ndarray:
        logits = batch.astype(np.float32) / 255
        return logits.transpose(0, 3, 1, 2) if layout == "NCHW" else logits

    engine = tta.TTA(exact_views())
    out = engine.segment(model, images, layout=layout, interpolation=cv2.INTER_NEAREST)
    expected = model(images)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    gmean = engine.segment(model, images, layout=layout, aggregation="max", interpolation=cv2.INTER_NEAREST)
    np.testing.assert_array_equal(gmean, expected)


def test_segment_label_masks_vote_and_stay_integer() -> None:
    images = toy_images()

    def model(batch: np.ndarray) -> np.ndarray:
        return (batch[..., 0] // 64).astype(np.int64)

    out = tta.TTA(tta.d4_views() + tta.five_crop(0.6)).segment(model, images, layout="NHW")
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, model(images))


def squares_image() -> np.ndarray:
    img = np.zeros((H, W, 3), np.uint8)
    img[6:14, 8:14, 0] = 255  # class 0 object, inside every 20x24 crop, on the 2x2 grid
    img[8:12, 16:22, 1] = 255  # class 1 object
    return img


def box_model(batch: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Boxes of the bright pixels in channels 0 and 1: equivariant by construction."""
    out = []
    for image in batch:
        boxes, labels = [], []
        for c in range(2):
            ys, xs = np.nonzero(image[..., c])
            if len(xs):
                boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
                labels.append(c)
        out.append(
            {"boxes": np.array(boxes, float), "scores": np.full(len(boxes), 0.9), "labels": np.array(labels)}
        )
    return out


@pytest.mark.parametrize("merge", ["nms", "wbf"])
def test_detect_recovers_boxes(merge: str) -> None:
    images = squares_image()[None]
    truth = box_model(images)[0]
    views = tta.d4_views() + tta.scale_views((2.0, 0.5), cv2.INTER_NEAREST) + tta.ten_crop((20, 24))
    (result,) = tta.TTA(views).detect(box_model, images, merge=merge)
    order = np.argsort(result["labels"])
    if merge == "nms":
        np.testing.assert_array_equal(result["boxes"][order], truth["boxes"])
    else:
        np.testing.assert_allclose(result["boxes"][order], truth["boxes"], atol=1e-9)
        np.testing.assert_allclose(result["scores"], 0.9)
    np.testing.assert_array_equal(result["labels"][order], [0, 1])


def test_keypoints_label_mapping_returns_left_as_left() -> None:
    img = np.zeros((1, H, W, 1), np.uint8)
    img[0, 10, 8] = img[0, 12, 22] = 255  # the subject's left eye (8, 10), right eye (22, 12)
    names = ["left_eye", "right_eye"]

    def model(batch: np.ndarray) -> np.ndarray:
        """Calls the marker with the smaller x 'left_eye', like a detector that only sees the image."""
        out = []
        for image in batch:
            ys, xs = np.nonzero(image[..., 0])
            order = np.argsort(xs)
            out.append(np.stack([xs[order], ys[order], np.ones(2)], axis=1).astype(float))
        return np.stack(out)

    swap = {"left_eye": "right_eye", "right_eye": "left_eye"}
    expected = [[[8.0, 10.0, 1.0], [22.0, 12.0, 1.0]]]
    views = tta.d4_views(["identity", "hflip"]) + tta.ten_crop((20, 28))
    for mapping in ({"hflip": swap}, {"HorizontalFlip": swap}, {"mirror": swap}):
        out = tta.TTA(views).keypoints(model, img, labels=names, label_mapping=mapping)
        np.testing.assert_array_equal(out, expected)
    wrong = tta.TTA(views).keypoints(model, img, labels=names)
    assert not np.array_equal(wrong, expected)  # without the mapping the eyes get mixed up
    with pytest.raises(A.ParameterError, match="labels"):
        tta.TTA(views).keypoints(model, img, label_mapping={"hflip": swap})


def test_torch_model_helper() -> None:
    torch = pytest.importorskip(
        "torch", reason="torch is optional: pip install -e '.[test,torch]' to run this test"
    )

    class Identity(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2

    images = toy_images()
    model = tta.TorchModel(Identity(), channels_last_output=True)
    out = tta.TTA(tta.d4_views()).segment(model, images)
    np.testing.assert_allclose(out, images / 255 * 2, rtol=1e-6)
    raw = tta.TorchModel(Identity())(images)
    assert raw.shape == (2, 3, H, W)


# -- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "transform",
    [
        A.Rotate(limit=30, p=1),
        A.Affine(scale=1.2),
        A.RandomRotate90(),
        A.RandomCrop(8, 8),
        A.RandomBrightnessContrast(),
    ],
    ids=lambda t: type(t).__name__,
)
def test_non_invertible_views_are_refused(transform: object) -> None:
    with pytest.raises(tta.NotInvertibleError, match=type(transform).__name__):
        tta.TTA([transform])
    assert issubclass(tta.NotInvertibleError, A.ParameterError)


def test_exact_transforms_become_views() -> None:
    views = tta.TTA(
        [A.HorizontalFlip(p=1), A.VerticalFlip(), A.Transpose(), A.CenterCrop(10, 12), "rot90"]
    ).views
    assert [v.name for v in views] == ["hflip", "vflip", "transpose", "crop_center", "rot90"]
    with pytest.raises(tta.NotInvertibleError, match="not an exact invertible step"):
        tta.View("rotated", (A.Rotate(limit=10),))  # type: ignore[arg-type]
    with pytest.raises(tta.NotInvertibleError, match="unknown view"):
        tta.as_view("rot45")
    with pytest.raises(A.ParameterError, match="factor"):
        tta.RescaleStep(0)
    with pytest.raises(A.ParameterError, match="aggregation"):
        tta.TTA(["hflip"], aggregation="median")


# -- aggregations, NMS and WBF on hand-made numbers ------------------------------------------------


def test_aggregations_by_hand() -> None:
    stack = np.array([[[0.2, 0.8]], [[0.6, 0.4]], [[0.1, 0.9]], [[0.7, 0.3]]])  # 4 views, 1 image, 2 classes
    np.testing.assert_allclose(tta.aggregate(stack, "mean"), [[0.4, 0.6]])
    np.testing.assert_allclose(
        tta.aggregate(stack, "gmean"), [[(0.2 * 0.6 * 0.1 * 0.7) ** 0.25, (0.8 * 0.4 * 0.9 * 0.3) ** 0.25]]
    )
    np.testing.assert_allclose(tta.aggregate(stack, "max"), [[0.7, 0.9]])
    np.testing.assert_allclose(tta.aggregate(stack, "vote"), [[0.5, 0.5]])
    np.testing.assert_allclose(tta.aggregate(stack[:3], "vote"), [[1 / 3, 2 / 3]])
    weights = np.array([1.0, 0.0, 1.0, 0.0])[:, None, None]
    np.testing.assert_allclose(tta.aggregate(stack, "mean", weights), [[0.15, 0.85]])
    np.testing.assert_allclose(tta.aggregate(stack, "max", weights), [[0.2, 0.9]])
    np.testing.assert_allclose(tta.aggregate(stack, "mean", np.zeros((4, 1, 1))), [[0.0, 0.0]])
    with pytest.raises(A.ParameterError, match="non-negative"):
        tta.aggregate(-stack, "gmean")


def test_nms_by_hand() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9], [2, 0, 12, 10]], float)
    scores = np.array([0.9, 0.8, 0.7, 0.95, 0.6])
    # IoU(3,0)=0.9, IoU(3,1)=IoU(3,4)=72/118=0.61, IoU(1,4)=81/119=0.68
    np.testing.assert_array_equal(tta.nms(boxes, scores, iou_threshold=0.5), [3, 2])
    np.testing.assert_array_equal(tta.nms(boxes, scores, iou_threshold=0.65), [3, 1, 2])
    np.testing.assert_array_equal(tta.nms(boxes, scores, iou_threshold=0.7), [3, 1, 2, 4])
    labels = np.array([0, 0, 0, 1, 0])
    np.testing.assert_array_equal(tta.nms(boxes, scores, labels, 0.5), [3, 0, 2])
    assert tta.box_iou(boxes[:1], boxes[1:2])[0, 0] == pytest.approx(81 / 119)


def test_weighted_box_fusion_by_hand() -> None:
    boxes = np.array([[0, 0, 10, 10], [2, 0, 12, 10], [20, 20, 30, 30]], float)
    scores = np.array([0.75, 0.25, 0.5])
    fused, fscores, flabels = tta.weighted_box_fusion(boxes, scores, iou_threshold=0.55, n_views=2)
    np.testing.assert_allclose(fused, [[0.5, 0, 10.5, 10], [20, 20, 30, 30]])
    np.testing.assert_allclose(fscores, [0.5, 0.25])  # (0.75+0.25)/2 * 2/2 ; 0.5 * 1/2
    np.testing.assert_array_equal(flabels, [0, 0])
    _, _, split = tta.weighted_box_fusion(boxes, scores, np.array([0, 1, 0]), 0.55, n_views=2)
    assert sorted(split.tolist()) == [0, 0, 1]  # different labels never fuse
