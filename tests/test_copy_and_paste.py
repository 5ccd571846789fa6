"""CopyAndPaste: donor objects cut to their mask, shrunk to fit, stamped at random, annotated."""

from __future__ import annotations

import numpy as np
import pytest

import invariance as A


def _pipeline(**kwargs: object) -> A.Compose:
    return A.Compose(
        [A.CopyAndPaste(p=1, **kwargs)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        keypoint_params=A.KeypointParams(format="xy", label_fields=["names"]),
        seed=0,
    )


def _donor(h: int, w: int, value: int = 200, label: int = 9) -> dict:
    mask = np.zeros((h + 10, w + 6), np.uint8)
    mask[4 : 4 + h, 2 : 2 + w] = 3
    image = np.where(mask[..., None] > 0, value, 0).repeat(3, axis=2).astype(np.uint8)
    return {
        "image": image,
        "mask": mask,
        "labels": label,
        "keypoints": [[2 + w / 2, 4 + h / 2]],
        "names": ["k"],
    }


def _call(pipeline: A.Compose, shape: tuple[int, int], donors: list, **extra: object) -> dict:
    data = {
        "image": np.zeros((*shape, 3), np.uint8),
        "mask": np.zeros(shape, np.uint8),
        "bboxes": [],
        "labels": [],
        "keypoints": [],
        "names": [],
        "copy_paste_metadata": donors,
    }
    data.update(extra)
    return pipeline(**data)


@pytest.mark.parametrize("seed", range(5))
def test_large_objects_shrink_to_fit_with_their_aspect_and_small_ones_are_not_enlarged(seed):
    pipeline = _pipeline()
    pipeline.set_random_seed(seed)
    out = _call(pipeline, (40, 60), [_donor(100, 50), _donor(8, 12)])
    (big, small) = np.asarray(out["bboxes"])
    assert big[3] - big[1] == 40 and big[2] - big[0] == 20, "100x50 fits 40 rows: 40x20"
    assert small[3] - small[1] == 8 and small[2] - small[0] == 12, "never enlarged to fit"
    assert out["labels"] == [9, 9] and out["names"] == ["k", "k"]
    for (x0, y0, x1, y1), (kx, ky) in zip(out["bboxes"], out["keypoints"]):
        assert x0 <= kx <= x1 and y0 <= ky <= y1, "an object's keypoints come with it"
    assert set(np.unique(out["mask"])) == {0, 3}, "the donor mask's values are written under the object"
    assert out["image"].max() == 200


def test_scale_range_jitters_the_fitted_size():
    out = _call(_pipeline(scale_range=(0.5, 0.5)), (64, 64), [_donor(20, 30)])
    x0, y0, x1, y1 = out["bboxes"][0]
    assert (y1 - y0, x1 - x0) == (10, 15)


@pytest.mark.parametrize(("threshold", "kept"), [(0.6, False), (0.0, True)])
def test_existing_instances_hidden_below_min_visibility_after_paste_are_dropped(threshold, kept):
    # The instance is the left half; a 32x24 object lands at x in [0, 8], leaving at most half of it.
    instance = np.zeros((32, 32), np.uint8)
    instance[:, :16] = 1
    pipeline = _pipeline(min_visibility_after_paste=threshold)
    pipeline.set_random_seed(3)  # an offset > 0: some of the instance stays visible
    out = _call(pipeline, (32, 32), [_donor(32, 24)], masks=[instance], bboxes=[[0, 0, 16, 32]], labels=[1])
    assert (1 in out["labels"]) is kept
    assert out["labels"].count(9) == 1


def test_gaussian_blend_feathers_the_object_edge_and_hard_does_not():
    hard = _call(_pipeline(), (48, 48), [_donor(20, 20)])["image"]
    soft = _call(_pipeline(blend_mode="gaussian", blend_sigma_range=(2.0, 2.0)), (48, 48), [_donor(20, 20)])[
        "image"
    ]
    assert set(np.unique(hard)) == {0, 200}
    between = np.unique(soft[(soft > 0) & (soft < 200)])
    assert len(between) > 3, "edge pixels fade between the object and the background"
    np.testing.assert_array_equal(soft == 0, hard == 0)  # feathering stays inside the object's mask


def test_objects_below_min_paste_area_are_skipped_and_no_donors_is_the_identity():
    out = _call(_pipeline(min_paste_area=500), (48, 48), [_donor(10, 10)])
    assert out["bboxes"] == [] and out["image"].max() == 0
    out = _call(_pipeline(), (48, 48), [])
    assert out["bboxes"] == [] and out["image"].max() == 0


def test_a_box_only_donor_is_cut_to_its_box_grown_to_its_keypoints():
    donor = {"image": np.full((30, 30, 3), 90, np.uint8), "bbox": [5, 5, 15, 15], "labels": 4,
             "keypoints": [[20, 10]], "names": ["tip"]}  # fmt: skip
    out = _call(_pipeline(), (64, 64), [donor])
    x0, y0, x1, y1 = out["bboxes"][0]
    assert (x1 - x0, y1 - y0) == (10, 10)
    ((kx, ky),) = out["keypoints"]
    assert x0 < kx <= x0 + 16 and y0 <= ky <= y1, "the keypoint outside the box lands inside the patch"
    assert (out["image"][..., 0] == 90).sum() == 16 * 10, "the patch: columns 5..21, rows 5..15"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_visibility_after_paste": 1.5}, "min_visibility_after_paste"),
        ({"blend_mode": "soft"}, "blend_mode"),
        ({"blend_sigma_range": (0.0, 1.0)}, "blend_sigma_range"),
        ({"scale_range": (2.0, 1.0)}, "scale_range"),
        ({"min_paste_area": 0}, "min_paste_area"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(A.ParameterError, match=message):
        A.CopyAndPaste(**kwargs)


def test_bad_donors_say_what_is_missing():
    with pytest.raises(A.InputError, match="'mask'"):
        _call(_pipeline(), (32, 32), [{"image": np.zeros((8, 8, 3), np.uint8), "labels": 1}])
    donor = _donor(8, 8)
    del donor["labels"]
    with pytest.raises(A.InputError, match="labels"):
        _call(_pipeline(), (32, 32), [donor])
