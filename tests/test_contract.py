"""Contract tests generated for every registered transform.

Each transform runs on every target kind, uint8 and float32, 1, 3 and 5 channels; inputs are
read-only (an in-place write raises); outputs must be consistent across targets, reproducible
from the seed, and survive pickling and the to_dict/from_dict round trip.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import invariance as A
from invariance.core.transform import PixelTransform

from .conftest import catalogue, make

CLASSES = catalogue()
IDS = [c.__name__ for c in CLASSES]


def _inputs(dtype: np.dtype, channels: int, seed: int = 0, cls: type | None = None) -> dict:
    rng = np.random.default_rng(seed)
    shape = (72, 88) if channels == 1 else (72, 88, channels)
    if dtype == np.uint8:
        image = rng.integers(0, 256, shape, dtype=np.uint8)
    else:
        image = rng.random(shape, dtype=np.float32)
    mask = np.zeros((72, 88), np.uint8)
    mask[10:40, 20:60] = 1
    mask[50:70, 5:30] = 7
    data = {
        "image": image,
        "mask": mask,
        "masks": [mask, (mask == 7).astype(np.uint8)],
        "images": np.stack([image, image[::-1].copy()]),
        "bboxes": [[20.0, 10.0, 60.0, 40.0], [5.0, 50.0, 30.0, 70.0], [0.0, 0.0, 88.0, 72.0]],
        "labels": [1, 7, 0],
        "keypoints": [[30.0, 20.0, 45.0, 1.0], [10.5, 60.25, 90.0, 2.0], [87.0, 71.0, 0.0, 1.0]],
        "keypoint_labels": ["a", "b", "c"],
    }
    if cls is not None:
        data.update(cls.example_data)
    for value in list(data.values()):
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    data["masks"][0].setflags(write=False)
    return data


def _pipeline(transform: A.BasicTransform, seed: int = 7) -> A.Compose:
    return A.Compose(
        [transform],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        keypoint_params=A.KeypointParams(format="xyas", label_fields=["keypoint_labels"]),
        seed=seed,
    )


def _snapshot(data: dict) -> dict:
    return {
        k: (v.copy() if isinstance(v, np.ndarray) else pickle.loads(pickle.dumps(v))) for k, v in data.items()
    }


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        _assert_same_value(a[key], b[key], key)


def _assert_same_value(va: object, vb: object, key: str) -> None:
    """Equal values, looking into lists and dicts (metadata holds arrays inside dicts)."""
    if isinstance(va, np.ndarray) or isinstance(vb, np.ndarray):
        np.testing.assert_array_equal(np.asarray(va), np.asarray(vb), err_msg=key)
    elif isinstance(va, dict) and isinstance(vb, dict):
        assert va.keys() == vb.keys(), key
        for name in va:
            _assert_same_value(va[name], vb[name], f"{key}.{name}")
    elif isinstance(va, (list, tuple)) and isinstance(vb, (list, tuple)):
        assert len(va) == len(vb), key
        for i, (x, y) in enumerate(zip(va, vb)):
            _assert_same_value(x, y, f"{key}[{i}]")
    else:
        assert va == vb, key


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32], ids=["uint8", "float32"])
@pytest.mark.parametrize("channels", [1, 3, 5])
def test_every_target_dtype_and_channel_count(cls, dtype, channels):
    transform = make(cls)
    data = _inputs(dtype, channels, cls=cls)
    before = _snapshot(data)
    pipeline = _pipeline(transform)
    if cls.supported_channels == "rgb" and channels not in (1, 3):
        with pytest.raises(A.InputError):
            pipeline(**data)
        return
    out = pipeline(**data)
    _assert_same(before, data)  # inputs untouched (they are read-only too)

    image, mask = out["image"], out["mask"]
    assert isinstance(image, np.ndarray)
    assert image.shape[:2] == mask.shape[:2], "image and mask must keep the same size"
    assert mask.dtype == data["mask"].dtype
    assert set(np.unique(mask)) <= set(np.unique(data["mask"])), "masks may only hold their original values"
    for frame in out["images"]:
        assert frame.shape == image.shape
    for m in out["masks"]:
        assert m.shape == mask.shape
    h, w = image.shape[:2]
    boxes = np.asarray(out["bboxes"], dtype=np.float64).reshape(-1, 4)
    assert len(boxes) == len(out["labels"])
    assert (
        np.all(boxes[:, 0] >= 0)
        and np.all(boxes[:, 2] <= w)
        and np.all(boxes[:, 1] >= 0)
        and np.all(boxes[:, 3] <= h)
    )
    assert np.all(boxes[:, 2] > boxes[:, 0]) and np.all(boxes[:, 3] > boxes[:, 1])
    assert set(out["labels"]) <= {0, 1, 7} and all(type(v) is int for v in out["labels"])
    kps = np.asarray(out["keypoints"], dtype=np.float64).reshape(-1, 4)
    assert len(kps) == len(out["keypoint_labels"])
    assert np.all((kps[:, 0] >= -0.5) & (kps[:, 0] < w - 0.5) & (kps[:, 1] >= -0.5) & (kps[:, 1] < h - 0.5))

    if issubclass(cls, PixelTransform):
        assert image.shape[:2] == data["image"].shape[:2]
        np.testing.assert_array_equal(out["mask"], data["mask"])
        assert out["bboxes"] == data["bboxes"]
        assert out["keypoints"] == data["keypoints"]
    if not cls.changes_dtype:
        assert image.dtype == data["image"].dtype
        if dtype == np.float32:
            assert image.min() >= 0.0 and image.max() <= 1.0


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_seed_reproduces_and_pickle_and_dict_round_trip_keep_behaviour(cls):
    data = _inputs(np.uint8, 3, seed=1, cls=cls)
    first = _pipeline(make(cls), seed=11)
    second = _pipeline(make(cls), seed=11)
    runs_a = [first(**data) for _ in range(3)]
    runs_b = [second(**data) for _ in range(3)]
    for a, b in zip(runs_a, runs_b):
        _assert_same(a, b)

    clone = pickle.loads(pickle.dumps(first))
    _assert_same(first(**data), clone(**data))

    rebuilt = A.from_dict(A.to_dict(second))
    assert A.fingerprint(rebuilt) == A.fingerprint(second)
    fresh = _pipeline(make(cls), seed=11)
    reloaded = A.from_dict(A.to_dict(fresh))
    _assert_same(fresh(**data), reloaded(**data))


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_p_zero_is_identity_and_p_is_validated(cls):
    transform = cls(**{**cls.example_args, "p": 0.0})
    data = _inputs(np.uint8, 3, cls=cls)
    out = _pipeline(transform)(**data)
    np.testing.assert_array_equal(out["image"], data["image"])
    assert out["bboxes"] == data["bboxes"]
    with pytest.raises(A.ParameterError, match="'p'"):
        cls(**{**cls.example_args, "p": 1.5})
