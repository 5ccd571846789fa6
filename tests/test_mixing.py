"""Mixing: MixUp, CutMix, Mosaic and CopyPaste keep every target right; batch mixing gives soft labels."""

from __future__ import annotations

import numpy as np
import pytest

import invariance as A
from invariance.transforms.mixing.batch import BatchCutMix, BatchMixUp, cutmix_batch, mixup_batch


def _pipe(transform, seed=0):
    return A.Compose(
        [transform],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        keypoint_params=A.KeypointParams(format="xy", label_fields=["kp_labels"]),
        seed=seed,
    )


def _flat(value, h=40, w=50, box=(5, 5, 20, 20), label="a", mask_value=1):
    image = np.full((h, w, 3), value, np.uint8)
    mask = np.zeros((h, w), np.uint8)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = mask_value
    return {
        "image": image,
        "mask": mask,
        "bboxes": [list(map(float, box))],
        "labels": [label],
        "keypoints": [[(x0 + x1) / 2, (y0 + y1) / 2]],
        "kp_labels": [label + "_kp"],
    }


def test_mixup_blends_images_unions_targets_and_reports_weights():
    primary = _flat(100, box=(5, 5, 20, 20), label="a", mask_value=1)
    other = _flat(200, box=(25, 20, 45, 35), label="b", mask_value=2)
    out = _pipe(A.MixUp(alpha=0.5, label_key="cls", p=1.0))(
        **primary, cls=3, mixup_metadata=[{**other, "cls": 8}]
    )
    report = out["mix_weights"]
    w = report["weights"][0]
    assert sum(report["weights"]) == pytest.approx(1.0) and report["labels"] == [3, 8]
    np.testing.assert_allclose(out["image"].astype(float), np.rint(100 * w + 200 * (1 - w)), atol=1)
    assert out["bboxes"] == [[5.0, 5.0, 20.0, 20.0], [25.0, 20.0, 45.0, 35.0]]
    assert out["labels"] == ["a", "b"] and out["kp_labels"] == ["a_kp", "b_kp"]
    # Masks composite: both objects, neither overwritten by the other's background.
    assert (out["mask"] == 1).sum() == 15 * 15 and (out["mask"] == 2).sum() == 20 * 15


def test_mixup_without_metadata_is_identity_with_weight_one():
    data = _flat(100)
    out = _pipe(A.MixUp(p=1.0))(**data)
    np.testing.assert_array_equal(out["image"], data["image"])
    assert out["mix_weights"] == {"weights": [1.0]}


def test_mixup_resizes_the_other_sample_and_converts_its_boxes():
    primary = _flat(100, h=40, w=50)
    other = _flat(200, h=80, w=100, box=(50, 40, 100, 80), label="b")
    out = _pipe(A.MixUp(p=1.0))(**primary, mixup_metadata=other)
    assert out["bboxes"][1] == [25.0, 20.0, 50.0, 40.0]


def test_cutmix_weight_is_the_kept_area_and_boxes_of_both_survive_where_visible():
    primary = _flat(100, box=(0, 0, 50, 40), label="a")  # a box covering everything
    other = _flat(200, box=(0, 0, 50, 40), label="b")
    for seed in range(5):
        out = _pipe(A.CutMix(p=1.0), seed=seed)(**primary, cutmix_metadata=[other])
        w_self, w_other = out["mix_weights"]["weights"]
        assert w_self + w_other == pytest.approx(1.0)
        pasted = np.all(out["image"] == 200, axis=2)
        assert pasted.mean() == pytest.approx(w_other)
        assert np.all(out["mask"][pasted] == 1)
        if pasted.any():
            ys, xs = np.nonzero(pasted)
            # The other sample's box is clipped to the pasted rectangle.
            assert [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)] in out[
                "bboxes"
            ]
        if w_self > 0:
            assert "a" in out["labels"]


def test_cutmix_drops_a_box_the_rectangle_hides():
    primary = _flat(100, box=(20, 15, 30, 25), label="a")
    other = _flat(200, box=(0, 0, 5, 5), label="b")
    transform = A.CutMix(p=1.0)

    class Fixed(A.CutMix):
        def sample(self, rng, sample):
            return {"index": 0, "rect": [10, 10, 40, 30], "weight": 1 - 600 / 2000}

    out = _pipe(Fixed(p=1.0))(**primary, cutmix_metadata=other)
    assert out["labels"] == [] and out["keypoints"] == []
    assert transform.metadata_key == "cutmix_metadata"


def test_mosaic_without_metadata_repeats_the_primary():
    data = _flat(100, h=40, w=50, box=(0, 0, 50, 40))
    out = _pipe(A.Mosaic(target_size=(60, 70), cell_shape=(40, 50), p=1.0))(**data)
    assert out["image"].shape == (60, 70, 3) and out["mask"].shape == (60, 70)
    assert len(out["bboxes"]) == len(out["labels"]) >= 2  # the window shows several copies


def test_mosaic_places_each_sample_in_its_cell_with_its_boxes_and_mask():
    colors = [10, 60, 110, 160]
    primary = _flat(colors[0], h=32, w=32, box=(0, 0, 32, 32), mask_value=1, label="s0")
    others = [
        _flat(c, h=32, w=32, box=(0, 0, 32, 32), mask_value=i + 2, label=f"s{i + 1}")
        for i, c in enumerate(colors[1:])
    ]
    t = A.Mosaic(grid_yx=(2, 2), target_size=(64, 64), cell_shape=(32, 32), center_range=(0.5, 0.5), p=1.0)
    out = _pipe(t)(**primary, mosaic_metadata=others)
    # With the window exactly on the grid each cell holds one whole sample.
    for row in range(2):
        for col in range(2):
            cell_image = out["image"][row * 32 : (row + 1) * 32, col * 32 : (col + 1) * 32, 0]
            cell_mask = out["mask"][row * 32 : (row + 1) * 32, col * 32 : (col + 1) * 32]
            source = colors.index(int(cell_image[0, 0]))
            assert np.all(cell_image == colors[source]) and np.all(cell_mask == source + 1)
            box = [col * 32.0, row * 32.0, col * 32.0 + 32, row * 32.0 + 32]
            assert out["labels"][out["bboxes"].index(box)] == f"s{source}"
    assert sorted(out["labels"]) == ["s0", "s1", "s2", "s3"] and len(out["keypoints"]) == 4


def test_mosaic_metadata_errors_are_clear():
    data = _flat(100)
    with pytest.raises(A.InputError, match="image"):
        _pipe(A.Mosaic(target_size=(40, 40), cell_shape=(20, 20), p=1.0))(
            **data, mosaic_metadata=[{"mask": data["mask"]}]
        )
    gray = {"image": np.zeros((40, 50), np.uint8)}
    with pytest.raises(A.InputError, match="channel"):
        _pipe(A.MixUp(p=1.0))(**data, mixup_metadata=[gray])


def _instances():
    image = np.full((80, 80, 3), 50, np.uint8)
    m1 = np.zeros((80, 80), np.uint8)
    m1[10:30, 10:30] = 1
    m2 = np.zeros((80, 80), np.uint8)
    m2[50:70, 50:70] = 1
    s1 = np.zeros((80, 80), np.uint8)
    s1[5:35, 0:20] = 1  # hides the left half of the first object
    s2 = np.zeros((80, 80), np.uint8)
    s2[45:75, 45:75] = 1  # hides the whole second object
    source = {
        "image": np.full((80, 80, 3), 200, np.uint8),
        "masks": [s1, s2],
        "bboxes": [[0, 5, 20, 35], [45, 45, 75, 75]],
        "labels": ["p", "q"],
    }
    primary = {
        "image": image,
        "masks": [m1, m2],
        "bboxes": [[10, 10, 30, 30], [50, 50, 70, 70]],
        "labels": ["a", "b"],
    }
    return primary, source


def test_copy_paste_shrinks_covered_boxes_and_drops_hidden_ones():
    primary, source = _instances()
    pipe = A.Compose(
        [A.CopyPaste(num_objects_range=(2, 2), p=1.0)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        seed=0,
    )
    out = pipe(**primary, copy_paste_metadata=source)
    assert out["labels"] == ["a", "p", "q"]
    assert out["bboxes"] == [[20.0, 10.0, 30.0, 30.0], [0.0, 5.0, 20.0, 35.0], [45.0, 45.0, 75.0, 75.0]]
    assert [int(m.sum()) for m in out["masks"]] == [200, 600, 900]
    assert np.all(out["image"][5:35, 0:20] == 200) and np.all(out["image"][10:30, 20:30] == 50)


def test_copy_paste_min_visibility_drops_mostly_hidden_instances():
    primary, source = _instances()
    pipe = A.Compose(
        [A.CopyPaste(num_objects_range=(2, 2), p=1.0)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], min_visibility=0.6),
        seed=0,
    )
    out = pipe(**primary, copy_paste_metadata=source)
    assert out["labels"] == ["p", "q"] and len(out["masks"]) == 2


def test_batch_mixup_and_cutmix_give_soft_labels_summing_to_one():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (6, 16, 16, 3), dtype=np.uint8)
    labels = np.array([0, 1, 2, 3, 4, 0])
    for mixer in (BatchMixUp(num_classes=5, seed=1), BatchCutMix(num_classes=5, seed=1)):
        mixed, soft = mixer(images, labels)
        assert mixed.shape == images.shape and mixed.dtype == images.dtype
        np.testing.assert_allclose(soft.sum(axis=1), 1.0, rtol=1e-6)
        assert np.all(soft[np.arange(6), labels] > 0)
    mixed, soft = mixup_batch(images.astype(np.float32), labels, 5, 0.25)
    np.testing.assert_allclose(mixed[1], 0.25 * images[1] + 0.75 * images[0], rtol=1e-5)
    assert soft[1, 1] == pytest.approx(0.25) and soft[1, 0] == pytest.approx(0.75)
    mixed, soft, lam = cutmix_batch(images, labels, 5, (0, 0, 8, 8))
    assert lam == pytest.approx(0.75) and soft[1, 0] == pytest.approx(0.25)
    np.testing.assert_array_equal(mixed[1, :8, :8], images[0, :8, :8])
    np.testing.assert_array_equal(mixed[1, 8:], images[1, 8:])


def test_batch_mixing_on_torch_tensors():
    torch = pytest.importorskip(
        "torch", reason="torch is optional: pip install -e '.[test,torch]' to run this test"
    )
    images = torch.rand(4, 3, 8, 8)
    labels = torch.tensor([0, 1, 2, 1])
    mixed, soft = BatchCutMix(num_classes=3, seed=0)(images, labels)
    assert mixed.shape == images.shape
    torch.testing.assert_close(soft.sum(dim=1), torch.ones(4))


def test_batch_mixing_validates_arguments():
    with pytest.raises(A.ParameterError, match="num_classes"):
        BatchMixUp(num_classes=0)
    with pytest.raises(A.ParameterError, match="alpha"):
        BatchCutMix(num_classes=3, alpha=0)


def _array_sample(value, label, h=32, w=32):
    return {
        "image": np.full((h, w, 3), value, np.uint8),
        "mask": np.full((h, w), value // 10, np.uint8),
        "bboxes": np.array([[0, 0, w, h]], np.float32),
        "labels": [label],
    }


@pytest.mark.parametrize(("target", "fit_mode"), [((48, 40), "cover"), ((64, 64), "contain")])
def test_mosaic_geometry_matches_albumentations(target, fit_mode):
    Al = pytest.importorskip("albumentations")
    primary = _array_sample(10, "a", h=40, w=20)
    others = [_array_sample(60, "b"), _array_sample(110, "c"), _array_sample(160, "d")]
    results = []
    for lib in (Al, A):
        t = lib.Mosaic(
            grid_yx=(2, 2),
            target_size=target,
            cell_shape=(32, 32),
            center_range=(0.5, 0.5),
            fit_mode=fit_mode,
            p=1.0,
        )
        pipe = lib.Compose(
            [t], bbox_params=lib.BboxParams(format="pascal_voc", label_fields=["labels"]), seed=0
        )
        out = pipe(**primary, mosaic_metadata=others)
        results.append((out["image"].shape, sorted(map(tuple, np.asarray(out["bboxes"]).round(3).tolist()))))
    assert results[0] == results[1]


def test_mixing_keeps_array_boxes_with_empty_parts():
    data = _array_sample(10, "a")
    pipe = A.Compose([A.MixUp(p=1.0)], bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]))
    out = pipe(**data, mixup_metadata={"image": data["image"]})
    assert isinstance(out["bboxes"], np.ndarray) and out["bboxes"].tolist() == [[0.0, 0.0, 32.0, 32.0]]
    empty = {**data, "bboxes": np.zeros((0, 4), np.float32), "labels": []}
    out = pipe(**empty, mixup_metadata=data)
    assert out["bboxes"].tolist() == [[0.0, 0.0, 32.0, 32.0]] and out["labels"] == ["a"]


def _contract_like(dtype, channels, seed, as_array):
    rng = np.random.default_rng(seed)
    shape = (72, 88) if channels == 1 else (72, 88, channels)
    image = (
        rng.integers(0, 256, shape, dtype=np.uint8)
        if dtype == np.uint8
        else rng.random(shape, dtype=np.float32)
    )
    mask = np.zeros((72, 88), np.uint8)
    mask[10:40, 20:60] = 1
    mask[50:70, 5:30] = 7
    boxes = [[20.0, 10.0, 60.0, 40.0], [5.0, 50.0, 30.0, 70.0]]
    return {
        "image": image,
        "mask": mask,
        "masks": [(mask == 1).astype(np.uint8), (mask == 7).astype(np.uint8)],
        "bboxes": np.array(boxes) if as_array else boxes,
        "labels": [1, 7],
        "keypoints": [[30.0, 20.0], [10.5, 60.25]],
        "keypoint_labels": ["a", "b"],
    }


@pytest.mark.parametrize("name", ["MixUp", "CutMix", "Mosaic", "CopyPaste"])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32], ids=["uint8", "float32"])
@pytest.mark.parametrize("channels", [1, 3, 5])
@pytest.mark.parametrize("as_array", [False, True], ids=["list", "array"])
def test_mixing_with_metadata_keeps_every_target_consistent(name, dtype, channels, as_array):
    cls = getattr(A, name)
    transform = cls(**{**cls.example_args, "p": 1.0})
    data = _contract_like(dtype, channels, 0, as_array)
    others = [_contract_like(dtype, channels, s, as_array) for s in (1, 2, 3)]
    for other in others:
        other["labels"] = [2, 9]
        other["keypoint_labels"] = ["c", "d"]
    pipe = A.Compose(
        [transform],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        keypoint_params=A.KeypointParams(format="xy", label_fields=["keypoint_labels"]),
        seed=5,
    )
    out = pipe(**data, **{transform.metadata_key: others})
    again = pipe.__class__(
        [cls(**{**cls.example_args, "p": 1.0})], **{k: v for k, v in pipe.init_args().items() if k != "p"}
    )(**data, **{transform.metadata_key: others})
    np.testing.assert_array_equal(out["image"], again["image"])
    image = out["image"]
    h, w = image.shape[:2]
    assert image.dtype == dtype and out["mask"].shape == (h, w)
    assert set(np.unique(out["mask"])) <= {0, 1, 7}
    if dtype == np.float32:
        assert image.min() >= 0.0 and image.max() <= 1.0
    boxes = np.asarray(out["bboxes"], dtype=np.float64).reshape(-1, 4)
    assert isinstance(out["bboxes"], np.ndarray) == as_array
    assert len(boxes) == len(out["labels"]) and set(out["labels"]) <= {1, 7, 2, 9}
    assert np.all(boxes[:, :2] >= 0) and np.all(boxes[:, 2] <= w) and np.all(boxes[:, 3] <= h)
    assert np.all(boxes[:, 2:] > boxes[:, :2])
    assert len(out["keypoints"]) == len(out["keypoint_labels"])
    for m in out["masks"]:
        assert m.shape == (h, w)
    if name in ("MixUp", "Mosaic"):
        assert {2, 9} & set(out["labels"])  # the other samples' boxes are there
