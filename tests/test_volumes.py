"""Volumes as targets: markers in the volume, its 3-D mask and xyz keypoints move together.

A marker is a small bright cube in the volume, the same cube in ``mask3d``, and a keypoint at
its centre. After each transform the three must still agree: the mask's cube is where the
volume's is, and the keypoint lies within one voxel of both centres.
"""

from __future__ import annotations

import numpy as np
import pytest

import invariance as A

MARKERS = [(7, 9, 3), (30, 20, 8), (15, 33, 12)]  # x, y, z


def _marked(shape: tuple[int, int, int] = (16, 40, 48), markers: list = MARKERS) -> dict:
    volume = np.zeros(shape, np.uint8)
    mask3d = np.zeros(shape, np.uint8)
    for label, (x, y, z) in enumerate(markers, start=1):
        volume[z - 1 : z + 2, y - 1 : y + 2, x - 1 : x + 2] = 50 * label
        mask3d[z - 1 : z + 2, y - 1 : y + 2, x - 1 : x + 2] = label
    return {
        "volume": volume,
        "mask3d": mask3d,
        "keypoints": np.array(markers, dtype=np.float64),
        "ids": list(range(1, len(markers) + 1)),
    }


def _centre(grid: np.ndarray, value: int) -> np.ndarray | None:
    where = np.argwhere(grid == value)
    return None if len(where) == 0 else where.mean(axis=0)[::-1]  # x, y, z


def _bright_centre(
    volume: np.ndarray, near: tuple[float, float, float], radius: int = 4
) -> np.ndarray | None:
    """Intensity-weighted centre of the volume within ``radius`` voxels of ``near`` (x, y, z):
    interpolation blurs a cube's edges, so its values are not searched for exactly."""
    x, y, z = (round(v) for v in near)
    lo = [max(c - radius, 0) for c in (z, y, x)]
    box = volume[lo[0] : z + radius + 1, lo[1] : y + radius + 1, lo[2] : x + radius + 1].astype(np.float64)
    if box.sum() == 0:
        return None
    grid = np.indices(box.shape).reshape(3, -1)
    centre = (grid * box.ravel()).sum(axis=1) / box.sum() + lo
    return centre[::-1]


def _check_markers(out: dict) -> int:
    """Every kept keypoint sits within one voxel of its cube in the volume and in the mask."""
    seen = 0
    for (x, y, z), label in zip(np.asarray(out["keypoints"]).reshape(-1, 3), out["ids"]):
        in_mask = _centre(out["mask3d"], label)
        in_volume = _bright_centre(out["volume"], (x, y, z))
        assert in_mask is not None and in_volume is not None, f"marker {label} vanished"
        assert np.abs(in_mask - in_volume).max() <= 1.0
        assert np.abs(in_mask - (x, y, z)).max() <= 1.0, (label, in_mask, (x, y, z))
        seen += 1
    return seen


def _pipeline(*transforms: A.BasicTransform, seed: int = 0) -> A.Compose:
    return A.Compose(
        list(transforms), keypoint_params=A.KeypointParams(format="xyz", label_fields=["ids"]), seed=seed
    )


SPATIAL_3D = [
    pytest.param(A.Flip3D(flip_axes=(0,)), id="flip-depth"),
    pytest.param(A.Flip3D(flip_axes=(0, 1, 2)), id="flip-all"),
    pytest.param(A.Flip3D(), id="flip-random"),
    pytest.param(A.RandomRotate90_3D(axis_pair=(0, 1), group_element="r90"), id="rot90-depth-height"),
    pytest.param(A.RandomRotate90_3D(axis_pair=(0, 2), group_element="r270"), id="rot270-depth-width"),
    pytest.param(A.RandomRotate90_3D(axis_pair=(1, 2), group_element="r180"), id="rot180-plane"),
    pytest.param(A.RandomRotate90_3D(), id="rot90-random"),
    pytest.param(A.CubicSymmetry(), id="cubic"),
    pytest.param(A.CenterCrop3D(size=(12, 36, 40)), id="center-crop"),
    pytest.param(A.RandomCrop3D(size=(14, 36, 40)), id="random-crop"),
    pytest.param(A.RandomCrop3D(size=(20, 44, 50), pad_if_needed=True), id="random-crop-padded"),
    pytest.param(A.Pad3D(padding=(1, 2, 3, 4, 5, 6)), id="pad"),
    pytest.param(A.PadIfNeeded3D(min_zyx=(17, 41, 50), position="random"), id="pad-if-needed"),
    pytest.param(A.Resize3D(size=(24, 30, 64)), id="resize"),
    pytest.param(
        A.Affine3D(
            rotate_range={"x": (-20, 20), "y": (-20, 20), "z": (-45, 45)},
            scale_range={"x": (0.8, 1.2), "y": (0.8, 1.2), "z": (0.9, 1.1)},
            translate_percent_range={"x": (-0.05, 0.05), "y": (-0.05, 0.05), "z": (-0.05, 0.05)},
            p=1.0,
        ),
        id="affine",
    ),
    pytest.param(
        A.ElasticTransform3D(num_control_points=(3, 4, 4), max_displacement=(2, 5, 5), p=1), id="elastic"
    ),
    pytest.param(
        A.ElasticTransform3D(num_control_points=(5, 7, 7), max_displacement=(1, 1, 1), p=1), id="elastic-fine"
    ),
    pytest.param(
        A.RandomResizedCrop3D(size=(16, 40, 48), scale=(0.85, 1.0), ratio=(0.9, 1.1)), id="resized-crop"
    ),
    pytest.param(A.RandomResizedCrop3D(size=(20, 50, 40), scale=(0.8, 1.0)), id="resized-crop-stretch"),
]


@pytest.mark.parametrize("transform", SPATIAL_3D)
@pytest.mark.parametrize("seed", range(4))
def test_mask3d_and_keypoints_follow_the_volume(transform, seed):
    out = _pipeline(transform, seed=seed)(**_marked())
    assert out["mask3d"].shape == out["volume"].shape
    _check_markers(out)


@pytest.mark.parametrize(
    ("grid", "markers"),
    [
        ((2, 2, 2), [(7, 9, 3), (15, 33, 12), (40, 30, 10)]),
        ((3, 3, 5), [(4, 4, 2), (14, 20, 8), (45, 37, 13)]),
    ],
)
@pytest.mark.parametrize("seed", range(3))
def test_grid_shuffle3d_moves_markers_with_their_cells(grid, markers, seed):
    data = _marked(markers=markers)  # each marker cube lies inside one cell
    out = _pipeline(A.GridShuffle3D(grid_zyx=grid, p=1.0), seed=seed)(**data)
    assert _check_markers(out) == len(markers)
    assert sorted(np.unique(out["volume"]).tolist()) == sorted(np.unique(data["volume"]).tolist())


@pytest.mark.parametrize("seed", range(6))
def test_2d_warps_move_every_slice_and_xyz_keypoints_alike(seed):
    pipeline = _pipeline(
        A.Pad3D(padding=(2, 0, 0)),
        A.HorizontalFlip(p=0.5),
        A.RandomRotate90(p=1.0),
        A.Affine(rotate=(-30, 30), scale=(0.9, 1.1), p=1.0),
        A.RandomCrop3D(size=(16, 32, 32)),
        seed=seed,
    )
    out = pipeline(**_marked())
    assert out["volume"].shape == (16, 32, 32)
    for (x, y, z), label in zip(out["keypoints"], out["ids"]):
        # Interpolated cubes blur: compare with the mask (nearest), whose cube stays whole.
        centre = _centre(out["mask3d"], label)
        assert centre is not None
        assert np.abs(centre - (x, y, z)).max() <= 1.0


def test_cube_symmetries_are_48_distinct_maps():
    volume = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    seen = set()
    transform = A.CubicSymmetry()
    for index in range(48):
        geometry = transform.volume_geometry(
            {"index": index}, A.core.sample.Sample.of((3, 4), {"volume": volume})
        )
        seen.add(geometry.apply(volume, 0).tobytes() + bytes(geometry.out_shape))
    assert len(seen) == 48


def test_flip3d_twice_is_identity_and_quarter_turns_compose():
    data = _marked()
    twice = _pipeline(A.Flip3D(flip_axes=(0, 2)), A.Flip3D(flip_axes=(0, 2)))(**data)
    np.testing.assert_array_equal(twice["volume"], data["volume"])
    np.testing.assert_allclose(twice["keypoints"], data["keypoints"])
    four = _pipeline(*[A.RandomRotate90_3D(axis_pair=(0, 2), group_element="r90") for _ in range(4)])(**data)
    np.testing.assert_array_equal(four["mask3d"], data["mask3d"])
    np.testing.assert_allclose(four["keypoints"], data["keypoints"])
    quarter = _pipeline(A.RandomRotate90_3D(axis_pair=(1, 2), group_element="r90"))(**data)
    np.testing.assert_array_equal(quarter["volume"], np.rot90(data["volume"], 1, axes=(1, 2)))


def test_crop_drops_keypoints_outside_and_keeps_labels():
    out = _pipeline(A.CenterCrop3D(size=(6, 40, 48)))(**_marked())
    # Depth 16 -> 6 keeps z in [5, 11): only the marker at z=8 stays.
    assert out["ids"] == [2]
    np.testing.assert_allclose(out["keypoints"], [[30.0, 20.0, 3.0]])


def test_coarse_dropout3d_fills_boxes_and_drops_hidden_keypoints():
    data = _marked()
    transform = A.CoarseDropout3D(
        num_holes_range=(1, 1),
        hole_depth_range=(1.0, 1.0),
        hole_height_range=(1.0, 1.0),
        hole_width_range=(1.0, 1.0),
        fill=9,
        fill_mask=0,
        p=1.0,
    )
    out = _pipeline(transform)(**data)
    assert np.all(out["volume"] == 9) and not out["mask3d"].any()
    assert len(out["keypoints"]) == 0
    kept = _pipeline(A.CoarseDropout3D(p=1.0))(**data)  # fill_mask None: masks untouched
    np.testing.assert_array_equal(kept["mask3d"], data["mask3d"])


def test_volumes_and_masks3d_stacks_move_like_their_first_grid():
    data = _marked()
    transform = A.Compose([A.CubicSymmetry(), A.Rotate(limit=(20, 20), p=1.0)], seed=3)
    out = transform(
        volume=data["volume"],
        mask3d=data["mask3d"],
        volumes=np.stack([data["volume"]] * 2),
        masks3d=[data["mask3d"], data["mask3d"]],
    )
    for grid in out["volumes"]:
        np.testing.assert_array_equal(grid, out["volume"])
    for grid in out["masks3d"]:
        np.testing.assert_array_equal(grid, out["mask3d"])


def test_2d_targets_follow_a_volumetric_crop_and_refuse_a_depth_turn():
    data = _marked()
    image = data["volume"][8].copy()
    out = A.Compose([A.CenterCrop3D(size=(4, 20, 24))])(image=image, volume=data["volume"])
    np.testing.assert_array_equal(out["image"], image[10:30, 12:36])
    with pytest.raises(A.InputError, match="depth axis"):
        A.Compose([A.RandomRotate90_3D(axis_pair=(0, 1), group_element="r90")])(
            image=image, volume=data["volume"]
        )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"volume": np.zeros((4, 5), np.uint8)}, "3D or 4D"),
        ({"volume": np.zeros((2, 4, 5, 3, 1), np.uint8)}, "3D or 4D"),
        ({"volume": np.zeros((0, 4, 5), np.uint8)}, "empty"),
        ({"volume": np.zeros((3, 4, 5), np.int64)}, "dtype"),
        ({"volume": np.zeros((3, 4, 5), np.uint8), "mask3d": np.zeros((2, 4, 5), np.uint8)}, "depth 2"),
        (
            {"volume": np.zeros((3, 4, 5), np.uint8), "mask3d": np.zeros((3, 4, 6), np.uint8)},
            "height and width",
        ),
        ({"volume": np.zeros((3, 4, 5), np.uint8), "volumes": np.zeros((2, 3, 4), np.uint8)}, "N, D, H, W"),
        ({"volume": "scan.nii"}, "numpy array"),
    ],
)
def test_bad_volume_inputs_say_what_was_expected(data, message):
    with pytest.raises((A.InputError, A.InputTypeError), match=message):
        A.Compose([A.Flip3D()])(**data)


def test_crop_larger_than_volume_without_padding_says_so():
    with pytest.raises(A.InputError, match="pad_if_needed"):
        A.RandomCrop3D(size=(20, 4, 4))(volume=np.zeros((10, 8, 8), np.uint8))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"padding": -1}, "padding"),
        ({"padding": (1, 2)}, "padding"),
    ],
)
def test_pad3d_bad_arguments(kwargs, message):
    with pytest.raises(A.ParameterError, match=message):
        A.Pad3D(**kwargs)


def test_other_bad_arguments_are_named():
    with pytest.raises(A.ParameterError, match="min_zyx"):
        A.PadIfNeeded3D()
    with pytest.raises(A.ParameterError, match="hole_depth_range"):
        A.CoarseDropout3D(hole_depth_range=(0.5, 1.5))
    with pytest.raises(A.ParameterError, match="axes"):
        A.Flip3D(axes=())
    with pytest.raises(A.ParameterError, match="axis"):
        A.RandomRotate90_3D(axis_pair=(2, 1))


def test_replay_and_saved_params_reproduce_a_volumetric_call():
    data = _marked()
    replay = A.ReplayCompose(
        [A.CubicSymmetry(), A.RandomCrop3D(size=(8, 12, 12)), A.CoarseDropout3D(p=1.0)],
        keypoint_params=A.KeypointParams(format="xyz", label_fields=["ids"]),
        seed=5,
    )
    first = replay(**data)
    again = A.ReplayCompose.replay(first["replay"], **data)
    np.testing.assert_array_equal(first["volume"], again["volume"])
    np.testing.assert_allclose(first["keypoints"], again["keypoints"])


def test_to_tensor3d_is_channels_first():
    torch = pytest.importorskip("torch", reason="ToTensor3D needs torch (the torch extra)")
    out = A.Compose([A.ToTensor3D()])(
        volume=np.zeros((4, 5, 6, 3), np.uint8), mask3d=np.zeros((4, 5, 6), np.uint8)
    )
    assert isinstance(out["volume"], torch.Tensor) and tuple(out["volume"].shape) == (3, 4, 5, 6)
    assert tuple(out["mask3d"].shape) == (1, 4, 5, 6)


BIG_MARKERS = [(12, 14, 6), (40, 20, 16), (22, 50, 24), (52, 48, 10)]


@pytest.mark.parametrize("seed", range(4))
def test_elastic3d_markers_follow_a_visible_deformation(seed):
    data = _marked(shape=(32, 64, 64), markers=BIG_MARKERS)
    transform = A.ElasticTransform3D(num_control_points=(3, 3, 3), max_displacement=(4, 8, 8), p=1)
    out = _pipeline(transform, seed=seed)(**data)
    assert _check_markers(out) == len(BIG_MARKERS)
    moved = np.abs(np.asarray(out["keypoints"]) - np.asarray(BIG_MARKERS, float)).max()
    assert moved > 1.0, "the deformation must be large enough for the marker check to mean something"


def test_elastic3d_point_map_inverts_the_voxel_map():
    from invariance.core.volume import VoxelField

    rng = np.random.default_rng(0)
    field = VoxelField(rng.uniform(-2, 2, (3, 4, 4, 3)), (32, 64, 64))
    points = rng.uniform(0, 30, (50, 3))
    moved = field.map_points(points)
    # The voxel map sends output position q to input q + u(q): the forward point map inverts it.
    np.testing.assert_allclose(moved + field.displacement(moved), points, atol=1e-5)


def test_elastic3d_resamples_each_grid_once_in_one_pass_per_slice(monkeypatch):
    import invariance.kernels.volume as kernels

    calls: list[int] = []
    real = kernels.resample_sources

    def counting(array, source_of_slice, out_shape, linear, fill):
        slices: list[int] = []

        def spy(z):
            slices.append(z)
            return source_of_slice(z)

        out = real(array, spy, out_shape, linear, fill)
        calls.append(len(slices))
        return out

    monkeypatch.setattr(kernels, "resample_sources", counting)
    data = _marked()
    _pipeline(A.ElasticTransform3D(p=1))(**data)
    assert calls == [16, 16], "volume and mask3d: each resampled once, one gather per output slice"


@pytest.mark.parametrize("seed", range(20))
def test_random_resized_crop3d_box_fraction_is_within_scale(seed):
    transform = A.RandomResizedCrop3D(size=(8, 8, 8), scale=(0.2, 0.5), ratio=(0.5, 2.0))
    out = A.Compose([transform], seed=seed, save_applied_params=True)(volume=np.zeros((30, 60, 80), np.uint8))
    ((_name, params),) = out["applied_transforms"]
    z0, y0, x0, d, h, w = params["box"]
    assert out["volume"].shape == (8, 8, 8)
    assert 0.17 <= d * h * w / (30 * 60 * 80) <= 0.55
    assert z0 + d <= 30 and y0 + h <= 60 and x0 + w <= 80


def test_elastic_and_resized_crop_bad_arguments_are_named():
    with pytest.raises(A.ParameterError, match="num_control_points"):
        A.ElasticTransform3D(num_control_points=(1, 4, 4))
    with pytest.raises(A.ParameterError, match="max_displacement"):
        A.ElasticTransform3D(max_displacement=(-1, 2, 2))
    with pytest.raises(A.ParameterError, match="interpolation"):
        A.ElasticTransform3D(interpolation=2)
    with pytest.raises(A.ParameterError, match="scale"):
        A.RandomResizedCrop3D(size=(4, 4, 4), scale=(0.0, 1.0))
    with pytest.raises(A.ParameterError, match="ratio"):
        A.RandomResizedCrop3D(size=(4, 4, 4), ratio=(2.0, 1.0))
    with pytest.raises(A.InputError, match="volume"):
        A.ElasticTransform3D(p=1)(image=np.zeros((8, 8), np.uint8))


def test_elastic3d_control_points_are_capped_at_the_volume_size():
    transform = A.ElasticTransform3D(num_control_points=(10**6, 10**6, 10**6), p=1)
    out = A.Compose([transform], seed=0, save_applied_params=True)(volume=np.zeros((3, 8, 9), np.uint8))
    ((_name, params),) = out["applied_transforms"]
    assert np.asarray(params["control"]).shape == (3, 8, 9, 3)


@pytest.mark.parametrize("channels", [(), (2,)])
def test_trilinear_resampling_matches_a_point_by_point_reference(channels):
    from invariance.kernels.volume import resample_sources

    rng = np.random.default_rng(0)
    grid = rng.random((4, 5, 6, *channels), dtype=np.float32)
    points = rng.uniform(-1.5, 6.5, (3 * 2 * 2, 3))  # many fall partly or wholly outside
    fill = np.full((1, 1, 1, *channels), 0.25, np.float32)
    out = resample_sources(grid, lambda z: points[z * 4 : z * 4 + 4], (3, 2, 2), True, fill)

    def at(x: int, y: int, z: int) -> np.ndarray:
        inside = 0 <= x < 6 and 0 <= y < 5 and 0 <= z < 4
        return grid[z, y, x] if inside else fill.reshape(-1)[0] * np.ones(channels or ())

    expected = []
    for x, y, z in points:
        x0, y0, z0 = int(np.floor(x)), int(np.floor(y)), int(np.floor(z))
        fx, fy, fz = x - x0, y - y0, z - z0
        value = 0.0
        for dx, dy, dz in np.ndindex(2, 2, 2):
            weight = (fx if dx else 1 - fx) * (fy if dy else 1 - fy) * (fz if dz else 1 - fz)
            value = value + weight * at(x0 + dx, y0 + dy, z0 + dz)
        expected.append(value)
    np.testing.assert_allclose(out.reshape(12, *channels), np.array(expected), atol=1e-5)
