"""The whole-grid reordering kernel behind CubicSymmetry, Flip3D and 2-D symmetries of volumes.

It replaces numpy's strided copy with OpenCV flips and transposes of matrix views of the grid,
so every one of the 48 cube symmetries is checked against numpy's own flip + transpose for each
element type and channel layout, and a 2-D symmetry applied to a volume must equal the same
symmetry applied slice by slice.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import invariance as A
from invariance.kernels.geometry import D4_AXES, D4_OPS
from invariance.kernels.volume import reorder_grid

ORDERS = list(itertools.permutations(range(3)))
FLIPS = list(itertools.product((False, True), repeat=3))


def numpy_reference(array: np.ndarray, flips: tuple[bool, ...], order: tuple[int, ...]) -> np.ndarray:
    axes = tuple(i for i in range(3) if flips[i])
    moved = np.flip(array, axis=axes) if axes else array
    return np.transpose(moved, (*order, *range(3, array.ndim)))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.float32, np.float64, np.int64, np.bool_])
@pytest.mark.parametrize("channels", [(), (1,), (3,), (4,), (6,)])
def test_every_cube_symmetry_matches_numpy(dtype: type, channels: tuple[int, ...]) -> None:
    rng = np.random.default_rng(3)
    grid = (rng.random((5, 6, 7, *channels)) * 200).astype(dtype)
    before = grid.copy()
    for flips, order in itertools.product(FLIPS, ORDERS):
        out = reorder_grid(grid, flips, order)
        expected = numpy_reference(grid, flips, order)
        assert out.dtype == grid.dtype and out.shape == expected.shape, (flips, order)
        np.testing.assert_array_equal(out, expected, err_msg=f"flips={flips} order={order}")
        assert out.flags.c_contiguous
        assert not np.shares_memory(out, grid)
    np.testing.assert_array_equal(grid, before)  # the input is never written


def test_strided_input_and_repeated_calls_do_not_share_buffers() -> None:
    """Two-pass symmetries keep their first pass in a reused buffer: results of successive calls
    must stay independent, and a non-contiguous view must be read correctly."""
    rng = np.random.default_rng(4)
    base = (rng.random((8, 10, 12)) * 255).astype(np.uint8)
    view = base[1:7, ::2, 2:11]
    first = reorder_grid(view, (True, False, True), (2, 1, 0))
    second = reorder_grid(view[::-1], (False, True, True), (2, 1, 0))
    np.testing.assert_array_equal(first, numpy_reference(view, (True, False, True), (2, 1, 0)))
    np.testing.assert_array_equal(second, numpy_reference(view[::-1], (False, True, True), (2, 1, 0)))


@pytest.mark.parametrize("element", sorted(D4_AXES))
def test_d4_axes_describe_the_same_map_as_d4_ops(element: str) -> None:
    rng = np.random.default_rng(5)
    plane = (rng.random((4, 6, 3)) * 255).astype(np.uint8)
    rows, cols, swap = D4_AXES[element]
    grid = reorder_grid(plane[np.newaxis], (False, rows, cols), (0, 2, 1) if swap else (0, 1, 2))
    np.testing.assert_array_equal(grid[0], D4_OPS[element](plane))


@pytest.mark.parametrize(
    "transform",
    [A.HorizontalFlip(p=1), A.VerticalFlip(p=1), A.Transpose(p=1), A.RandomRotate90(p=1), A.D4(p=1)],
    ids=lambda t: type(t).__name__,
)
@pytest.mark.parametrize("shape", [(5, 8, 6), (4, 7, 9, 3), (3, 6, 5, 1)])
def test_2d_symmetry_of_a_volume_equals_the_symmetry_of_each_slice(
    transform: A.BasicTransform, shape: tuple[int, ...]
) -> None:
    rng = np.random.default_rng(6)
    volume = (rng.random(shape) * 255).astype(np.uint8)
    mask3d = (rng.random(shape[:3]) * 4).astype(np.uint8)
    for seed in range(8):
        out = A.Compose([transform], seed=seed)(volume=volume, mask3d=mask3d)
        per_slice = A.Compose([transform], seed=seed)(images=list(volume), masks=list(mask3d))
        np.testing.assert_array_equal(out["volume"], np.stack(per_slice["images"]))
        np.testing.assert_array_equal(out["mask3d"], np.stack(per_slice["masks"]))
