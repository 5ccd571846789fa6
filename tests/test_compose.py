"""Compositions: choice blocks, probabilities, frames, additional targets, replay."""

from __future__ import annotations

import numpy as np
import pytest

import invariance as A


@pytest.fixture()
def image() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)


def _flipped(out: np.ndarray, image: np.ndarray) -> bool:
    return bool(np.array_equal(out, image[:, ::-1]))


def test_oneof_runs_exactly_one_child_weighted_by_p(image):
    block = A.OneOf([A.HorizontalFlip(p=3 / 4), A.VerticalFlip(p=1 / 4)], p=1.0)
    pipeline = A.Compose([block], seed=0)
    counts = {"h": 0, "v": 0}
    for _ in range(400):
        out = pipeline(image=image)["image"]
        if _flipped(out, image):
            counts["h"] += 1
        elif np.array_equal(out, image[::-1]):
            counts["v"] += 1
    assert counts["h"] + counts["v"] == 400  # exactly one always fires (children are forced)
    assert 0.65 < counts["h"] / 400 < 0.85


def test_block_probability(image):
    pipeline = A.Compose([A.OneOf([A.HorizontalFlip(p=1)], p=0.3)], seed=1)
    fired = sum(_flipped(pipeline(image=image)["image"], image) for _ in range(500))
    assert 0.22 < fired / 500 < 0.38


def test_someof_picks_n_and_keeps_order(image):
    log = []
    recorder = [A.Lambda(image=lambda img, i=i, **_: (log.append(i), img)[1], p=1) for i in range(4)]
    pipeline = A.Compose([A.SomeOf(recorder, n=2)], seed=2)
    for _ in range(50):
        log.clear()
        pipeline(image=image)
        assert len(log) == 2 and log == sorted(log)


def test_random_order_changes_order(image):
    log = []
    recorder = [A.Lambda(image=lambda img, i=i, **_: (log.append(i), img)[1], p=1) for i in range(3)]
    pipeline = A.Compose([A.RandomOrder(recorder, n=3)], seed=3)
    orders = set()
    for _ in range(60):
        log.clear()
        pipeline(image=image)
        assert sorted(log) == [0, 1, 2]
        orders.add(tuple(log))
    assert len(orders) > 3


def test_sequential_and_one_or_other(image):
    seq = A.Compose([A.Sequential([A.HorizontalFlip(p=1), A.VerticalFlip(p=1)], p=1)])
    np.testing.assert_array_equal(seq(image=image)["image"], image[::-1, ::-1])
    either = A.Compose([A.OneOrOther(A.HorizontalFlip(), A.VerticalFlip(), p=1.0)])
    np.testing.assert_array_equal(either(image=image)["image"], image[:, ::-1])
    either = A.Compose([A.OneOrOther(A.HorizontalFlip(), A.VerticalFlip(), p=0.0)])
    np.testing.assert_array_equal(either(image=image)["image"], image[::-1])


def test_selective_channel_transform_touches_only_selected_channels(image):
    pipeline = A.Compose(
        [
            A.SelectiveChannelTransform(
                [A.RandomBrightnessContrast(brightness_limit=(0.3, 0.3), contrast_limit=0, p=1)], channels=[1]
            )
        ]
    )
    out = pipeline(image=image)["image"]
    np.testing.assert_array_equal(out[:, :, [0, 2]], image[:, :, [0, 2]])
    assert out[:, :, 1].mean() > image[:, :, 1].mean()
    with pytest.raises(A.ParameterError, match="pixel-level"):
        A.SelectiveChannelTransform([A.HorizontalFlip()])


def test_frames_share_one_draw_and_additional_targets_follow(image):
    pipeline = A.Compose(
        [A.RandomCrop(10, 12), A.HorizontalFlip(p=0.5)],
        additional_targets={"image2": "image", "mask2": "mask", "boxes2": "bboxes"},
        bbox_params=A.BboxParams(format="pascal_voc"),
        seed=4,
    )
    frames = np.stack([image, image, image])
    mask = image[:, :, 0]
    for _ in range(10):
        out = pipeline(
            image=image,
            images=frames,
            image2=image,
            mask2=mask,
            boxes2=[[0, 0, 30, 20]],
            bboxes=[[0, 0, 30, 20]],
        )
        for frame in out["images"]:
            np.testing.assert_array_equal(frame, out["image"])
        np.testing.assert_array_equal(out["image2"], out["image"])
        np.testing.assert_array_equal(out["mask2"], out["image"][:, :, 0])
        assert out["boxes2"] == out["bboxes"] == [[0.0, 0.0, 12.0, 10.0]]


def test_save_applied_params_and_replay(image):
    pipeline = A.ReplayCompose(
        [
            A.RandomCrop(10, 10),
            A.OneOf([A.HorizontalFlip(), A.Rotate(limit=30)], p=1),
            A.RandomBrightnessContrast(p=1),
        ],
        seed=5,
    )
    first = pipeline(image=image)
    replayed = A.ReplayCompose.replay(first["replay"], image=image)
    np.testing.assert_array_equal(first["image"], replayed["image"])
    other = image[::-1].copy()
    again = A.ReplayCompose.replay(first["replay"], image=other)
    reference = A.ReplayCompose.replay(first["replay"], image=other)
    np.testing.assert_array_equal(again["image"], reference["image"])

    recorded = A.Compose([A.HorizontalFlip(p=1), A.RandomCrop(5, 6)], save_applied_params=True)(image=image)
    names = [name for name, _ in recorded["applied_transforms"]]
    assert names == ["HorizontalFlip", "RandomCrop"]
    assert set(recorded["applied_transforms"][1][1]) == {"x_min", "y_min"}


def test_compose_probability_zero_returns_input(image):
    out = A.Compose([A.HorizontalFlip(p=1)], p=0.0)(image=image)
    np.testing.assert_array_equal(out["image"], image)
    out = A.Compose([A.HorizontalFlip(p=1)], p=0.0)(image=image, force_apply=True)
    np.testing.assert_array_equal(out["image"], image[:, ::-1])


def test_standalone_transform_call(image):
    out = A.HorizontalFlip(p=1)(image=image, mask=image[:, :, 0])
    np.testing.assert_array_equal(out["image"], image[:, ::-1])
    np.testing.assert_array_equal(out["mask"], image[:, ::-1, 0])


def test_mask_interpolation_override():
    mask = np.zeros((10, 10), np.float32)
    mask[:, 5:] = 1.0
    nearest = A.Compose([A.Resize(10, 23)])(image=np.zeros((10, 10), np.uint8), mask=mask)
    assert set(np.unique(nearest["mask"])) == {0.0, 1.0}
    linear = A.Compose([A.Resize(10, 23)], mask_interpolation=1)(
        image=np.zeros((10, 10), np.uint8), mask=mask
    )
    assert len(np.unique(linear["mask"])) > 2
