"""Occlusion transforms: where holes go, what fills them, and what happens to boxes and keypoints."""

from __future__ import annotations

import numpy as np
import pytest

import invariance as A


def _pipe(transform, **kw):
    return A.Compose(
        [transform],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], **kw),
        keypoint_params=A.KeypointParams(format="xy", label_fields=["kp_labels"]),
        seed=3,
    )


def _two_objects():
    image = np.full((60, 80, 3), 200, np.uint8)
    mask = np.zeros((60, 80), np.uint8)
    mask[10:30, 10:30] = 1
    mask[35:55, 50:75] = 2
    return {
        "image": image,
        "mask": mask,
        "bboxes": [[10, 10, 30, 30], [50, 35, 75, 55]],
        "labels": ["cat", "dog"],
        "keypoints": [[20, 20], [60, 45]],
        "kp_labels": ["c", "d"],
    }


def test_random_erasing_is_erasing_and_area_follows_scale():
    assert A.RandomErasing is A.Erasing
    image = np.full((100, 100, 3), 255, np.uint8)
    t = A.Erasing(scale=(0.1, 0.1), ratio=(1.0, 1.0), fill=7, p=1.0)
    t.set_random_seed(0)
    out = t(image=image)["image"]
    erased = np.all(out == 7, axis=2)
    assert erased.sum() == 32 * 32  # a square of round(sqrt(0.1 * 100 * 100)) pixels a side
    ys, xs = np.nonzero(erased)
    assert np.ptp(ys) == 31 and np.ptp(xs) == 31


def test_erasing_fills_mask_only_with_fill_mask():
    data = _two_objects()
    out = A.Compose([A.Erasing(scale=(0.3, 0.3), fill=0, p=1.0)], seed=1)(
        image=data["image"], mask=data["mask"]
    )
    np.testing.assert_array_equal(out["mask"], data["mask"])
    out = A.Compose([A.Erasing(scale=(0.3, 0.3), fill=0, fill_mask=9, p=1.0)], seed=1)(
        image=data["image"], mask=data["mask"]
    )
    np.testing.assert_array_equal(out["mask"] == 9, np.all(out["image"] == 0, axis=2))


def test_grid_dropout_matches_albumentations_default_grid():
    Al = pytest.importorskip("albumentations")
    image = np.full((100, 120, 3), 200, np.uint8)
    ours = A.GridDropout(random_offset=False, p=1.0)(image=image)["image"]
    theirs = Al.GridDropout(random_offset=False, p=1.0)(image=image)["image"]
    np.testing.assert_array_equal(ours, theirs)
    assert (ours[..., 0] == 0).mean() == pytest.approx(0.25)


def test_grid_dropout_ratio_sets_the_dropped_fraction():
    image = np.full((100, 100), 100, np.uint8)
    out = A.GridDropout(ratio=0.3, unit_size_range=(20, 20), random_offset=False, p=1.0)(image=image)["image"]
    assert (out == 0).mean() == pytest.approx(0.09)


def test_xymasking_draws_full_stripes():
    image = np.full((40, 50, 3), 100, np.uint8)
    t = A.XYMasking(num_masks_x=2, mask_x_length=5, num_masks_y=0, fill=0, p=1.0)
    t.set_random_seed(2)
    out = t(image=image)["image"]
    columns = np.all(out[..., 0] == 0, axis=0)
    assert 5 <= columns.sum() <= 10
    np.testing.assert_array_equal(np.any(out[..., 0] == 0, axis=0), columns)  # every stripe spans the height


def test_mask_dropout_hides_whole_objects_and_their_boxes_and_keypoints():
    data = _two_objects()
    out = _pipe(A.MaskDropout(max_objects=1, fill=0, fill_mask=0, p=1.0))(**data)
    assert len(out["bboxes"]) == 1 and len(out["keypoints"]) == 1
    survivor = out["labels"][0]
    value = 1 if survivor == "cat" else 2
    assert set(np.unique(out["mask"])) == {0, value}
    hidden = (data["mask"] != 0) & (data["mask"] != value)
    assert np.all(out["image"][hidden] == 0) and np.all(out["image"][~hidden] == 200)
    assert out["kp_labels"] == ["c" if survivor == "cat" else "d"]


def test_mask_dropout_without_mask_changes_nothing():
    image = np.full((20, 20, 3), 9, np.uint8)
    np.testing.assert_array_equal(A.MaskDropout(p=1.0)(image=image)["image"], image)


def test_constrained_dropout_keeps_holes_inside_chosen_mask_class():
    data = _two_objects()
    t = A.ConstrainedCoarseDropout(
        num_holes_range=(3, 3),
        hole_height_range=(0.3, 0.3),
        hole_width_range=(0.3, 0.3),
        mask_indices=[2],
        p=1.0,
    )
    changed = np.zeros((60, 80), bool)
    for seed in range(5):
        out = A.Compose([t], seed=seed)(image=data["image"], mask=data["mask"])
        changed |= np.any(out["image"] != 200, axis=2)
    assert changed.any()
    # Holes are centred on pixels of class 2 and are at most 0.3 * sqrt(area) wide: near the object.
    ys, xs = np.nonzero(changed)
    assert ys.min() >= 35 - 4 and xs.min() >= 50 - 4 and not changed[:30, :40].any()


def test_constrained_dropout_by_box_label_stays_inside_the_box():
    data = _two_objects()
    t = A.ConstrainedCoarseDropout(
        num_holes_range=(2, 2),
        hole_height_range=(0.5, 0.5),
        hole_width_range=(0.5, 0.5),
        bbox_labels=["cat"],
        p=1.0,
    )
    out = _pipe(t)(**data)
    changed = np.any(out["image"] != 200, axis=2)
    assert changed.any() and not changed[:, 30:].any() and not changed[30:].any() and not changed[:10].any()


def test_constrained_dropout_needs_a_target():
    with pytest.raises(A.ParameterError, match="mask_indices or bbox_labels"):
        A.ConstrainedCoarseDropout()


def test_pixel_dropout_rate_and_mask_value():
    image = np.full((200, 200, 3), 100, np.uint8)
    mask = np.ones((200, 200), np.uint8)
    out = A.Compose([A.PixelDropout(dropout_prob=0.2, mask_drop_value=0, p=1.0)], seed=0)(
        image=image, mask=mask
    )
    dropped = np.all(out["image"] == 0, axis=2)
    assert dropped.mean() == pytest.approx(0.2, abs=0.01)
    np.testing.assert_array_equal(out["mask"] == 0, dropped)
    out = A.Compose([A.PixelDropout(dropout_prob=0.2, per_channel=True, p=1.0)], seed=0)(image=image)
    per_value = out["image"] == 0
    assert per_value.mean() == pytest.approx(0.2, abs=0.01)
    assert not np.array_equal(per_value[..., 0], per_value[..., 1])


@pytest.mark.parametrize("prob", [0.002, 0.01, 0.05])
@pytest.mark.parametrize("per_channel", [False, True])
def test_sparse_pixel_dropout_hides_each_element_independently_with_its_probability(prob, per_channel):
    # Sparse masks are drawn as a binomial count and distinct positions: the count must vary as a
    # binomial's, every position must be equally likely, and channels must drop independently.
    image = np.full((40, 50, 3), 100, np.uint8)
    transform = A.PixelDropout(dropout_prob=prob, per_channel=per_channel, p=1.0)
    draws = 600
    hidden = np.stack(
        [A.Compose([transform], seed=seed)(image=image)["image"] == 0 for seed in range(draws)]
    )  # (draws, 40, 50, 3)
    elements = hidden[..., 0] if not per_channel else hidden
    if not per_channel:
        np.testing.assert_array_equal(hidden[..., 0], hidden[..., 2])  # whole pixels
    per_draw = elements.reshape(draws, -1).sum(axis=1)
    size = elements[0].size
    assert per_draw.mean() == pytest.approx(size * prob, rel=4 / np.sqrt(draws * size * prob))
    assert per_draw.var() == pytest.approx(size * prob * (1 - prob), rel=0.25)
    by_row = elements.sum(axis=(0, 2) if not per_channel else (0, 2, 3))  # hits per image row
    expected = by_row.sum() / len(by_row)
    assert ((by_row - expected) ** 2 / expected).sum() < 40 + 4 * np.sqrt(80)  # chi-square, 39 dof
    if per_channel:
        both = (hidden[..., 0] & hidden[..., 1]).mean()
        assert both == pytest.approx(prob * prob, abs=4 * np.sqrt(prob * prob / hidden[..., 0].size) + 1e-4)


@pytest.mark.parametrize("fill", ["random", "random_uniform", "inpaint_telea", "inpaint_ns", (1, 2, 3)])
def test_fills(fill):
    image = np.full((40, 40, 3), 128, np.uint8)
    out = A.Compose([A.Erasing(scale=(0.2, 0.2), fill=fill, p=1.0)], seed=0)(image=image)["image"]
    if fill == (1, 2, 3):
        assert np.any(np.all(out == (1, 2, 3), axis=2))
    elif fill.startswith("inpaint"):
        assert np.abs(out.astype(int) - 128).max() <= 2  # inpainting from a flat surround stays flat
    else:
        assert np.any(out != 128)


def test_hidden_boxes_are_dropped_by_min_visibility_and_keypoints_in_holes_removed():
    data = _two_objects()
    t = A.XYMasking(num_masks_x=1, mask_x_length=(75, 75), fill=0, p=1.0)  # hides x in [x0, x0 + 75)
    out = _pipe(t, min_visibility=0.5)(**data)
    assert len(out["bboxes"]) == len(out["labels"]) <= 1
    assert len(out["keypoints"]) <= 1


def test_coarse_dropout_seed_reproduces():
    image = np.random.default_rng(0).integers(0, 255, (50, 50, 3), dtype=np.uint8)
    a = A.Compose([A.CoarseDropout(num_holes_range=(3, 5), fill="random", p=1.0)], seed=4)(image=image)
    b = A.Compose([A.CoarseDropout(num_holes_range=(3, 5), fill="random", p=1.0)], seed=4)(image=image)
    np.testing.assert_array_equal(a["image"], b["image"])


def test_grid_mask_and_masked_fill_equal_one_slice_per_hole():
    from invariance.core.sample import Sample
    from invariance.kernels.dropout import fill_constant, fill_holes
    from invariance.transforms.occlusion.dropout import holes_to_mask

    rng = np.random.default_rng(5)
    for trial in range(60):
        h, w = (int(v) for v in rng.integers(5, 70, 2))
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        if trial % 2:
            image = image.astype(np.float32) / 255
        t = A.GridDropout(ratio=float(rng.uniform(0.1, 1.0)), unit_size_range=(2, min(h, w)), p=1.0)
        holes = t.sample(rng, Sample.of((h, w), {"image": image}))["holes"]
        if trial % 3 == 0:  # a repeated hole is not a grid: the general path must still agree
            holes = np.concatenate([holes, holes[:1]])
        expected = np.zeros((h, w), dtype=bool)
        for x0, y0, x1, y1 in holes:
            expected[y0:y1, x0:x1] = True
        hidden = holes_to_mask(holes, (h, w))
        np.testing.assert_array_equal(hidden, expected)
        fill = (7, 200, 3) if trial % 4 == 0 else 9
        np.testing.assert_array_equal(fill_constant(image, hidden, fill), fill_holes(image, holes, fill))


@pytest.mark.parametrize(
    "transform",
    [
        A.PixelDropout(dropout_prob=0.1, drop_value=None, p=1),
        A.PixelDropout(dropout_prob=0.1, per_channel=True, drop_value=None, p=1),
        A.CoarseDropout(num_holes_range=(3, 3), fill="random", p=1),
        A.CoarseDropout(num_holes_range=(3, 3), fill="random_uniform", p=1),
        A.GridDropout(ratio=0.3, fill="random", p=1),
    ],
    ids=["pixel", "pixel-per-channel", "coarse-random", "coarse-uniform", "grid-random"],
)
def test_random_fills_are_one_draw_for_every_frame_and_slice(transform):
    img = np.random.default_rng(0).integers(0, 256, (61, 67, 3), dtype=np.uint8)
    out = A.Compose([transform], seed=137)(image=img, images=np.stack([img] * 2), volume=np.stack([img] * 3))
    assert (out["image"] != img).any()  # something was dropped and filled
    for frame in (*out["images"], *out["volume"]):
        np.testing.assert_array_equal(frame, out["image"])
