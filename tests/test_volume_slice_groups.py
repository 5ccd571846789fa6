"""Single-channel volumes are resampled four slices at a time (as the channels of one image):
every slice must come out exactly as resampling it alone gives it, for every kind of 2-D map."""

from __future__ import annotations

import numpy as np
import pytest

import invariance as A
from invariance.core import volume_kinds

TRANSFORMS = [
    lambda: A.Affine(rotate=(-30, 30), scale=(0.8, 1.2), shear=(-10, 10), translate_percent=(-0.1, 0.1), p=1),
    lambda: A.Rotate(limit=40, border_mode=0, fill=7, fill_mask=3, p=1),
    lambda: A.SafeRotate(limit=40, p=1),
    lambda: A.Perspective(scale=(0.05, 0.1), p=1),
    lambda: A.ElasticTransform(alpha=30, sigma=5, p=1),
    lambda: A.GridDistortion(p=1),
    lambda: A.OpticalDistortion(distort_limit=0.3, p=1),
    lambda: A.PiecewiseAffine(scale=(0.03, 0.05), p=1),
    lambda: A.RandomResizedCrop(size=(40, 36), p=1),
    lambda: A.Resize(20, 24, interpolation=3, p=1),  # area, shrinking
    lambda: A.Resize(90, 70, interpolation=2, p=1),  # cubic, growing: resampled slice by slice
    lambda: A.Resize(90, 70, interpolation=1, p=1),
    lambda: A.Resize(30, 70, interpolation=0, p=1),
    lambda: A.RandomScale(scale_limit=0.3, p=1),
    lambda: A.Compose([A.RandomCrop(40, 40), A.HorizontalFlip(p=1), A.Affine(rotate=(10, 20), p=1)]),
]


def _run(make, depth: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(depth)
    volume = rng.integers(0, 256, (depth, 48, 44)).astype(np.uint8)  # grouped: uint8 only
    mask3d = (rng.random((depth, 48, 44)) < 0.3).astype(np.uint8) * 5
    transform = make()
    pipeline = transform if isinstance(transform, A.Compose) else A.Compose([transform])
    pipeline.set_random_seed(seed)
    before = volume.copy()
    out = pipeline(volume=volume, mask3d=mask3d)
    np.testing.assert_array_equal(volume, before)
    return out


@pytest.mark.parametrize("make", TRANSFORMS)
def test_slices_resampled_in_groups_equal_slices_resampled_alone(make, monkeypatch) -> None:
    for depth in (4, 5, 7, 8):  # full groups, then one or three slices left over
        grouped = _run(make, depth, seed=depth)
        monkeypatch.setattr(volume_kinds, "SLICES_PER_GROUP", 1)
        alone = _run(make, depth, seed=depth)
        monkeypatch.undo()
        for key in ("volume", "mask3d"):
            assert grouped[key].dtype == alone[key].dtype
            np.testing.assert_array_equal(grouped[key], alone[key], err_msg=f"{key}, depth {depth}")


def test_grouping_is_taken_only_where_it_is_exact() -> None:
    grey = np.zeros((6, 8, 8), np.uint8)
    linear = 1
    assert volume_kinds._groups_slices(grey, 0, linear)
    assert volume_kinds._groups_slices(grey, (5,), 0)
    assert not volume_kinds._groups_slices(grey, 0, 2)  # cubic: four channels round differently
    assert not volume_kinds._groups_slices(grey.astype(np.float32), 0, linear)  # 1 ulp apart in groups
    assert not volume_kinds._groups_slices(grey, (1, 2, 3), linear)  # a fill per channel: slices alone
    assert not volume_kinds._groups_slices(np.zeros((6, 8, 8, 3), np.uint8), 0, linear)  # colour slices
    assert not volume_kinds._groups_slices(grey.astype(bool), 0, linear)
    assert not volume_kinds._groups_slices(grey[:3], 0, linear)  # no full group of four
