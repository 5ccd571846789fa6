"""The fast kernel paths give exactly what the plain ones give.

Speed work swaps one kernel for another (OpenCV's tiled transpose for numpy's strided copy, a
four-channel warp for a three-channel one). Each swap must be invisible in the output: these tests
compare against the straightforward numpy / OpenCV call, bit for bit, over the dtypes and channel
counts that take each path and those that do not.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from invariance.kernels import geometry as kg
from invariance.kernels._cv import cv_scalar, fill_tuple

SHAPES = [(5, 7), (5, 7, 1), (5, 7, 3), (5, 7, 4), (5, 7, 6)]
DTYPES = [np.uint8, np.float32, np.bool_, np.int32, np.float64]


def _array(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    values = np.random.default_rng(0).uniform(0, 200, shape)
    return (values > 100) if dtype is np.bool_ else values.astype(dtype)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_square_symmetries_match_numpy(shape: tuple[int, ...], dtype: type) -> None:
    array = _array(shape, dtype)
    swapped = np.swapaxes(array, 0, 1)
    out = kg.transpose(array)
    assert out.dtype == array.dtype and out.shape == swapped.shape
    assert np.array_equal(out, swapped)
    for k in range(4):
        assert np.array_equal(kg.rot90(array, k), np.rot90(array, k)), k
    expected = {
        "e": array,
        "r90": np.rot90(array, 1),
        "r180": np.rot90(array, 2),
        "r270": np.rot90(array, 3),
        "v": array[::-1],
        "h": array[:, ::-1],
        "t": swapped,
        "hvt": np.rot90(swapped, 2),
    }
    for element, want in expected.items():
        got = kg.d4(array, element)
        assert got.shape == want.shape and np.array_equal(got, want), element
        assert not np.shares_memory(got, array), element


def _maps(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    map_x, map_y = np.meshgrid(
        np.linspace(-5, width + 5, width, dtype=np.float32),
        np.linspace(-3, height + 4, height, dtype=np.float32),
    )
    return map_x, map_y


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("border_mode", [cv2.BORDER_CONSTANT, cv2.BORDER_REPLICATE, cv2.BORDER_REFLECT_101])
@pytest.mark.parametrize("interpolation", [cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_AREA])
def test_warps_match_opencv_on_the_array_itself(channels: int, border_mode: int, interpolation: int) -> None:
    image = np.random.default_rng(1).integers(0, 256, (64, 80, channels), dtype=np.uint8)
    affine = cv2.getRotationMatrix2D((30, 30), 20, 1.1)
    projective = np.vstack([affine, [1e-3, 2e-4, 1.0]])
    fill = (10, 20, 30, 40)[:channels]
    border = cv_scalar(fill_tuple(fill, channels))
    map_x, map_y = _maps(60, 70)
    expected = {
        "affine": cv2.warpAffine(
            image, affine, (70, 60), flags=interpolation, borderMode=border_mode, borderValue=border
        ),
        "perspective": cv2.warpPerspective(
            image, projective, (70, 60), flags=interpolation, borderMode=border_mode, borderValue=border
        ),
        "remap": cv2.remap(image, map_x, map_y, interpolation, borderMode=border_mode, borderValue=border),
    }
    got = {
        "affine": kg.warp_affine(image, affine, 60, 70, interpolation, border_mode, fill),
        "perspective": kg.warp_perspective(image, projective, 60, 70, interpolation, border_mode, fill),
        "remap": kg.remap(image, map_x, map_y, interpolation, border_mode, fill),
    }
    for name, want in expected.items():
        want = want.reshape(60, 70, channels)
        assert got[name].shape == want.shape and got[name].dtype == np.uint8, name
        assert np.array_equal(got[name], want), name


def test_affine_boxes_are_bounded_by_their_mapped_corners() -> None:
    """The shortcut for affine maps equals mapping the four corners and taking their bounds."""
    from invariance.core.geometry import Projective, apply_matrix, map_boxes

    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 80, (50, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(1, 30, (50, 2))], axis=1)
    for _ in range(20):
        linear = rng.normal(size=(2, 2))
        matrix = np.array([[*linear[0], rng.normal() * 10], [*linear[1], rng.normal() * 10], [0, 0, 1.0]])
        corners = np.stack(
            [boxes[:, [0, 1]], boxes[:, [2, 1]], boxes[:, [2, 3]], boxes[:, [0, 3]]], axis=1
        ).reshape(-1, 2)
        mapped = apply_matrix(matrix, corners).reshape(-1, 4, 2)
        expected = np.concatenate([mapped.min(axis=1), mapped.max(axis=1)], axis=1)
        got = map_boxes(Projective(matrix, (100, 100), (100, 100)), boxes)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


def test_a_transform_called_alone_on_an_image_equals_its_one_step_pipeline() -> None:
    """``t(image=img)`` takes a short path; it must give what ``Compose([t])`` gives for a seed."""
    import invariance as A

    image = np.random.default_rng(5).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    cases = [
        A.HorizontalFlip(p=1),
        A.RandomCrop(20, 30, p=1),
        A.Rotate(limit=30, p=1),
        A.Affine(scale=(0.8, 1.2), rotate=(-20, 20), p=0.5),
        A.RandomBrightnessContrast(p=0.7),
        A.CoarseDropout(p=1),
        A.ColorJitter(p=1),
        A.GaussNoise(p=1),
        A.RandomToneCurve(scale=0.3, per_channel=True, p=1),  # its draw reads the channel count
        A.RandomResizedCrop(size=(32, 32), p=1),
    ]
    for transform in cases:
        transform.set_random_seed(11)
        alone = [transform(image=image)["image"] for _ in range(4)]
        transform.set_random_seed(11)
        pipeline = A.Compose([transform], p=1.0)
        pipeline._stream = transform._own_stream()  # the stream a standalone call draws from
        piped = [pipeline(image=image)["image"] for _ in range(4)]
        for a, b in zip(alone, piped):
            assert a.shape == b.shape and np.array_equal(a, b), type(transform).__name__


def test_cheap_uniform_draw_is_numpys_draw() -> None:
    """``uniform(rng, a, b)`` must give exactly ``rng.uniform(a, b)``: seeded outputs depend on it."""
    from invariance.core.randomness import uniform

    bounds = np.random.default_rng(0).uniform(-50, 50, (2000, 2))
    ours, theirs = np.random.default_rng(9), np.random.default_rng(9)
    for low, high in np.sort(bounds, axis=1).tolist():
        assert uniform(ours, low, high) == theirs.uniform(low, high)
    assert uniform(ours) == theirs.uniform()


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_warps_read_a_window_view_in_place_with_the_same_result(channels: int) -> None:
    image = np.random.default_rng(2).integers(0, 256, (90, 100, channels), dtype=np.uint8)
    window = image[7:70, 11:93]  # rows at the parent's stride
    affine = cv2.getRotationMatrix2D((40, 30), 15, 0.9)
    map_x, map_y = _maps(50, 60)
    for view, copy in ((window, np.ascontiguousarray(window)), (window[:, ::-1], window[:, ::-1].copy())):
        assert np.array_equal(kg.warp_affine(view, affine, 50, 60), kg.warp_affine(copy, affine, 50, 60))
        assert np.array_equal(kg.remap(view, map_x, map_y), kg.remap(copy, map_x, map_y))
    assert np.array_equal(
        image, np.random.default_rng(2).integers(0, 256, (90, 100, channels), dtype=np.uint8)
    )


def test_a_transform_called_alone_sees_the_image_when_drawing() -> None:
    """Draws that read the image (its channels, its size) see it on the short path too."""
    from invariance.core.sample import Sample

    image = np.zeros((6, 9, 3), np.uint8)
    sample = Sample.of((6, 9), {"image": image})
    assert sample.image is image and sample.num_channels == 3
    assert list(sample.keys_of("image")) == ["image"] and list(sample.keys_of("mask", "masks")) == []
    assert list(sample.keys_of("image", "images")) == ["image"]


def test_cheap_integer_draw_covers_its_range_uniformly() -> None:
    from invariance.core.randomness import integer

    rng = np.random.default_rng(4)
    draws = np.array([integer(rng, 3, 10) for _ in range(70_000)])
    assert draws.min() == 3 and draws.max() == 9
    counts = np.bincount(draws - 3, minlength=7)
    assert np.all(np.abs(counts - 10_000) < 400)  # about 4 standard deviations
    assert integer(rng, 5, 6) == 5
    with pytest.raises(ValueError, match="empty range"):
        integer(rng, 4, 4)


@pytest.mark.parametrize("shape", [(9, 7), (9, 7, 1), (9, 7, 3), (9, 7, 4), (9, 7, 5)])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.bool_])
@pytest.mark.parametrize(
    ("border", "numpy_mode"),
    [
        (cv2.BORDER_CONSTANT, "constant"),
        (cv2.BORDER_REPLICATE, "edge"),
        (cv2.BORDER_REFLECT, "symmetric"),
        (cv2.BORDER_REFLECT_101, "reflect"),
    ],
)
def test_pad_gives_numpys_padding_for_every_layout(shape, dtype, border, numpy_mode):
    # One OpenCV call for the common layouts, chunks of four channels (and a uint8 view of bools)
    # otherwise: both must be numpy's padding, with one fill number for every channel.
    from invariance.kernels.geometry import pad

    rng = np.random.default_rng(len(shape))
    image = (rng.random(shape) * 200).astype(dtype)
    widths = ((2, 3), (4, 1)) + (((0, 0),) if len(shape) == 3 else ())
    fill = True if dtype == np.bool_ else 7
    options = {"constant_values": fill} if numpy_mode == "constant" else {}
    expected = np.pad(image, widths, mode=numpy_mode, **options)
    got = pad(image, 2, 3, 4, 1, border, fill)
    assert got.dtype == image.dtype
    np.testing.assert_array_equal(got, expected)
