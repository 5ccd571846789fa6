"""Contract tests generated for every volumetric transform, on every volume target kind.

Each volumetric transform runs on ``volume``, ``mask3d``, ``volumes``, ``masks3d`` and ``xyz``
keypoints with labels, uint8 and float32, with and without channels: inputs stay untouched,
grids keep one shape, masks keep their values, keypoints stay inside the volume, seeds
reproduce, pickling and the to_dict/from_dict round trip keep the behaviour, and ``p=0`` is the
identity. A second contract runs the 2-D catalogue on volumes: slice by slice with one draw.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import invariance as A

from .conftest import catalogue, make

VOLUMETRIC = catalogue(volumetric=True)
PLANAR = catalogue()


def _volume_inputs(dtype: type, channels: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    shape = (6, 40, 48) if channels == 1 else (6, 40, 48, channels)
    volume = (
        rng.integers(0, 256, shape, dtype=np.uint8)
        if dtype == np.uint8
        else rng.random(shape, dtype=np.float32)
    )
    mask3d = np.zeros((6, 40, 48), np.uint8)
    mask3d[1:4, 5:20, 10:30] = 1
    mask3d[3:6, 25:38, 2:12] = 5
    data = {
        "volume": volume,
        "mask3d": mask3d,
        "volumes": np.stack([volume, volume[::-1].copy()]),
        "masks3d": [mask3d, (mask3d == 5).astype(np.uint8)],
        "keypoints": np.array([[12.0, 10.0, 2.0], [5.0, 30.0, 4.0], [47.0, 39.0, 5.0]]),
        "keypoint_labels": ["a", "b", "c"],
    }
    for value in data.values():
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    data["masks3d"][0].setflags(write=False)
    return data


def _pipeline(transform: A.BasicTransform, seed: int = 7) -> A.Compose:
    return A.Compose(
        [transform],
        keypoint_params=A.KeypointParams(format="xyz", label_fields=["keypoint_labels"]),
        seed=seed,
    )


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("cls", VOLUMETRIC, ids=[c.__name__ for c in VOLUMETRIC])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32], ids=["uint8", "float32"])
@pytest.mark.parametrize("channels", [1, 3])
def test_volumetric_transform_on_every_volume_target(cls, dtype, channels):
    data = _volume_inputs(dtype, channels)
    before = {
        k: (v.copy() if isinstance(v, np.ndarray) else pickle.loads(pickle.dumps(v))) for k, v in data.items()
    }
    out = _pipeline(make(cls))(**data)
    for key in ("volume", "mask3d", "volumes"):
        np.testing.assert_array_equal(data[key], before[key])  # inputs untouched

    volume, mask3d = out["volume"], out["mask3d"]
    assert isinstance(volume, np.ndarray) and volume.dtype == data["volume"].dtype
    assert volume.ndim == data["volume"].ndim and volume.shape[3:] == data["volume"].shape[3:]
    assert mask3d.shape == volume.shape[:3], "volume and mask3d keep one (D, H, W)"
    assert mask3d.dtype == np.uint8
    assert set(np.unique(mask3d)) <= {0, 1, 5}, "3-D masks keep only their values"
    assert out["volumes"].shape == (2, *volume.shape)
    assert all(m.shape == mask3d.shape for m in out["masks3d"])
    if dtype == np.float32:
        assert volume.min() >= 0.0 and volume.max() <= 1.0
    kps = np.asarray(out["keypoints"], dtype=np.float64).reshape(-1, 3)
    assert len(kps) == len(out["keypoint_labels"])
    d, h, w = volume.shape[:3]
    assert np.all((kps >= -0.5) & (kps < np.array([w, h, d]) - 0.5)), "keypoints stay inside the volume"
    # Each kept keypoint still sits on the voxel it marked, for maps that move whole voxels
    # (dropout may fill it; resampling maps are checked by the marker tests).
    if cls.__name__ not in (
        "CoarseDropout3D",
        "Affine3D",
        "Resize3D",
        "ElasticTransform3D",
        "RandomResizedCrop3D",
    ):
        for (x, y, z), label in zip(np.rint(kps).astype(int), out["keypoint_labels"]):
            sx, sy, sz = {"a": (12, 10, 2), "b": (5, 30, 4), "c": (47, 39, 5)}[label]
            np.testing.assert_array_equal(volume[z, y, x], data["volume"][sz, sy, sx])


@pytest.mark.parametrize("cls", VOLUMETRIC, ids=[c.__name__ for c in VOLUMETRIC])
def test_volumetric_seed_pickle_and_dict_round_trip(cls):
    data = _volume_inputs(np.uint8, 1, seed=1)
    first, second = _pipeline(make(cls), seed=11), _pipeline(make(cls), seed=11)
    for _ in range(3):
        _same(first(**data), second(**data))
    clone = pickle.loads(pickle.dumps(first))
    _same(first(**data), clone(**data))
    fresh = _pipeline(make(cls), seed=5)
    reloaded = A.from_dict(A.to_dict(fresh))
    assert A.fingerprint(reloaded) == A.fingerprint(fresh)
    _same(fresh(**data), reloaded(**data))


@pytest.mark.parametrize("cls", VOLUMETRIC, ids=[c.__name__ for c in VOLUMETRIC])
def test_volumetric_p_zero_is_identity_and_p_is_validated(cls):
    data = _volume_inputs(np.uint8, 1)
    out = _pipeline(cls(**{**cls.example_args, "p": 0.0}))(**data)
    np.testing.assert_array_equal(out["volume"], data["volume"])
    np.testing.assert_array_equal(out["keypoints"], data["keypoints"])
    with pytest.raises(A.ParameterError, match="'p'"):
        cls(**{**cls.example_args, "p": 1.5})


@pytest.mark.parametrize("cls", VOLUMETRIC, ids=[c.__name__ for c in VOLUMETRIC])
def test_volumetric_transform_without_a_volume_says_so(cls):
    with pytest.raises(A.InputError, match="volume"):
        make(cls)(image=np.zeros((8, 8), np.uint8))


@pytest.mark.parametrize("cls", PLANAR, ids=[c.__name__ for c in PLANAR])
def test_2d_transform_acts_on_each_slice_with_one_draw(cls):
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (72, 88, 3), dtype=np.uint8)
    mask = np.zeros((72, 88), np.uint8)
    mask[10:40, 20:60] = 1
    data = {"image": image, "mask": mask, "volume": np.stack([image] * 3), "mask3d": np.stack([mask] * 3)}
    data.update(cls.example_data)
    out = A.Compose([make(cls)], seed=4)(**data)
    if getattr(cls, "whole_volume", False):
        # A 3-D artefact (k-space of the volume, a field over its depth): one volume, not slices.
        assert out["volume"].shape == data["volume"].shape and out["volume"].dtype == np.uint8
        np.testing.assert_array_equal(out["mask3d"], data["mask3d"])
        return
    for i in range(3):
        np.testing.assert_array_equal(out["volume"][i], out["image"], err_msg=f"slice {i}")
        np.testing.assert_array_equal(out["mask3d"][i], out["mask"], err_msg=f"mask slice {i}")


@pytest.mark.parametrize("cls", PLANAR, ids=[c.__name__ for c in PLANAR])
def test_2d_transform_moves_xyz_keypoints_as_xy_and_keeps_z(cls):
    data = {"image": np.random.default_rng(0).integers(0, 256, (72, 88, 3), dtype=np.uint8)}
    data.update(cls.example_data)
    xy = np.array([[0.0, 0.0], [40.0, 30.0], [87.0, 71.0], [20.0, 60.0]])
    xyz = np.column_stack([xy, [1.0, 2.0, 3.0, 4.0]])
    out = {}
    for fmt, points in (("xy", xy), ("xyz", xyz)):
        pipeline = A.Compose([make(cls)], keypoint_params=A.KeypointParams(format=fmt), seed=137)
        out[fmt] = np.asarray(pipeline(**data, keypoints=points)["keypoints"]).reshape(-1, len(fmt))
    assert len(out["xy"]) == len(out["xyz"])
    np.testing.assert_allclose(out["xyz"][:, :2], out["xy"], atol=1e-9)
    assert set(out["xyz"][:, 2]) <= {1.0, 2.0, 3.0, 4.0}


WHOLE_VOLUME = [c for c in PLANAR if getattr(c, "whole_volume", False)]


@pytest.mark.parametrize("cls", WHOLE_VOLUME, ids=[c.__name__ for c in WHOLE_VOLUME])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32], ids=["uint8", "float32"])
@pytest.mark.parametrize("channels", [1, 3])
def test_whole_volume_artefact_on_every_volume_target(cls, dtype, channels):
    data = _volume_inputs(dtype, channels)
    data.pop("keypoints"), data.pop("keypoint_labels")
    data["volumes"] = np.stack([data["volume"], data["volume"]])
    first = A.Compose([make(cls)], seed=2)(**data)
    again = A.Compose([make(cls)], seed=2)(**data)
    volume = first["volume"]
    assert volume.shape == data["volume"].shape and volume.dtype == data["volume"].dtype
    if dtype == np.float32:
        assert volume.min() >= 0.0 and volume.max() <= 1.0
    np.testing.assert_array_equal(first["mask3d"], data["mask3d"])
    for grid in first["volumes"]:
        np.testing.assert_array_equal(grid, volume)  # one draw for every volume of the call
    np.testing.assert_array_equal(again["volume"], volume)
    assert not np.array_equal(volume, data["volume"])
    reloaded = A.from_dict(A.to_dict(A.Compose([make(cls)], seed=2)))
    np.testing.assert_array_equal(reloaded(**data)["volume"], volume)
