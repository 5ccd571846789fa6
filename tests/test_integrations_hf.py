"""Hugging Face datasets: set_transform on an in-memory image dataset and a COCO-style one."""

from __future__ import annotations

import numpy as np
import pytest

datasets = pytest.importorskip("datasets")

import invariance as A  # noqa: E402
from invariance.integrations.hf import make_transform, set_transform  # noqa: E402


def _images(n=3):
    out = []
    for i in range(n):
        img = np.zeros((24, 32, 3), np.uint8)
        img[:, : 4 + i] = (200, 10, 10)
        out.append(img)
    return out


def _image_dataset():
    features = datasets.Features({"image": datasets.Image(), "label": datasets.Value("int64")})
    return datasets.Dataset.from_dict({"image": _images(), "label": [0, 1, 2]}, features=features)


def test_image_dataset_is_augmented_on_access():
    ds = set_transform(_image_dataset(), A.HorizontalFlip(p=1.0))
    row = ds[1]
    assert row["label"] == 1
    image = np.asarray(row["image"])
    assert image.shape == (24, 32, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image, _images()[1][:, ::-1])
    batch = ds[0:2]
    assert len(batch["image"]) == 2 and batch["label"] == [0, 1]


def test_objects_follow_the_image_and_dropped_boxes_take_their_fields():
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "objects": {
                "bbox": datasets.Sequence(datasets.Sequence(datasets.Value("float32"), length=4)),
                "category": datasets.Sequence(datasets.Value("int64")),
                "area": datasets.Sequence(datasets.Value("float32")),
                "id": datasets.Sequence(datasets.Value("int64")),
            },
        }
    )
    objects = {"bbox": [[2.0, 3.0, 4.0, 5.0], [26.0, 10.0, 4.0, 4.0]], "category": [7, 9], "area": [20.0, 16.0],
               "id": [100, 101]}  # fmt: skip
    ds = datasets.Dataset.from_dict({"image": _images(1), "objects": [objects]}, features=features)
    set_transform(ds, A.Compose([A.HorizontalFlip(p=1.0), A.Crop(0, 0, 16, 24)]), objects_column="objects")
    row = ds[0]
    assert np.asarray(row["image"]).shape == (24, 16, 3)
    # flip (W=32): box 2 -> x 2..6 is kept by the crop; box 1 -> x 26..30 leaves it with its fields
    assert row["objects"]["bbox"] == [[2.0, 10.0, 4.0, 4.0]]
    assert row["objects"]["category"] == [9] and row["objects"]["id"] == [101]
    assert row["objects"]["area"] == [16.0]


def test_seeded_transform_reproduces_and_leaves_the_batch_alone():
    batch = {"image": _images(2), "label": [0, 1]}
    before = [img.copy() for img in batch["image"]]
    first = make_transform(A.RandomBrightnessContrast(p=1.0), seed=4)(batch)
    second = make_transform(A.RandomBrightnessContrast(p=1.0), seed=4)(batch)
    for a, b in zip(first["image"], second["image"]):
        np.testing.assert_array_equal(a, b)
    for img, old in zip(batch["image"], before):
        np.testing.assert_array_equal(img, old)
    with pytest.raises(A.InputError, match="no column 'pixels'"):
        make_transform(A.NoOp(), image_column="pixels")(batch)
