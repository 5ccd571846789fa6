"""Keypoints under an affine step turn by one linear part, and plain numeric rows are read in
one conversion: both shortcuts must agree with the general definitions."""

from __future__ import annotations

import numpy as np
import pytest

from invariance.core import geometry as g
from invariance.core.targets import as_rows


def numeric_reference(geometry: g.Geometry, keypoints: np.ndarray) -> np.ndarray:
    """Position mapped; angle turned and scale stretched by a finite-difference Jacobian."""
    points = keypoints[:, :2] + 0.5
    mapped = geometry.map_points(points) - 0.5
    eps = 1e-5
    dx = (geometry.map_points(points + [eps, 0]) - geometry.map_points(points - [eps, 0])) / (2 * eps)
    dy = (geometry.map_points(points + [0, eps]) - geometry.map_points(points - [0, eps])) / (2 * eps)
    jac = np.stack([dx, dy], axis=2)
    direction = np.stack([np.cos(keypoints[:, 2]), np.sin(keypoints[:, 2])], axis=1)
    turned = np.einsum("nij,nj->ni", jac, direction)
    out = keypoints.copy()
    out[:, :2] = mapped
    out[:, 2] = np.mod(np.arctan2(turned[:, 1], turned[:, 0]), 2 * np.pi)
    out[:, 3] = keypoints[:, 3] * np.linalg.svd(jac, compute_uv=False)[:, 0]
    return out


def assert_same_keypoints(actual: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_allclose(actual[:, [0, 1, 3]], expected[:, [0, 1, 3]], atol=1e-6)
    turn = np.abs(actual[:, 2] - expected[:, 2])
    assert np.minimum(turn, 2 * np.pi - turn).max() < 1e-6


@pytest.mark.parametrize("zero_angles", [False, True])
def test_affine_keypoints_match_the_jacobian_definition(zero_angles: bool) -> None:
    rng = np.random.default_rng(0)
    keypoints = np.column_stack(
        [rng.uniform(0, 100, (40, 2)), rng.uniform(0, 2 * np.pi, 40), rng.uniform(0.5, 2, 40)]
    )
    if zero_angles:
        keypoints[:, 2] = 0.0
    for _ in range(40):
        matrix = np.eye(3)
        matrix[:2, :2] = rng.normal(size=(2, 2))  # rotations, shears, mirrors, anisotropic scales
        matrix[:2, 2] = rng.normal(size=2) * 10
        matrix *= rng.uniform(0.5, 2.0)  # a homogeneous scale leaves the map unchanged
        geometry = g.Projective(matrix, (100, 120), (90, 80))
        assert_same_keypoints(g.map_keypoints(geometry, keypoints), numeric_reference(geometry, keypoints))
    for element in ("e", "h", "v", "r90", "r180", "r270", "t", "hvt"):
        geometry = g.Symmetry(element, (100, 120))
        assert_same_keypoints(g.map_keypoints(geometry, keypoints), numeric_reference(geometry, keypoints))
    # the exact geometries of resizes and crops, alone and chained (a random resized crop)
    for geometry in (
        g.Scale((100, 120), (37, 300)),
        g.CropWindow(-7, 12, (100, 120), (64, 90)),
        g.Chain((g.CropWindow(5, 9, (100, 120), (50, 60)), g.Scale((50, 60), (224, 224)))),
    ):
        assert_same_keypoints(g.map_keypoints(geometry, keypoints), numeric_reference(geometry, keypoints))


def test_a_flip_sends_keypoints_to_the_mirrored_pixel_exactly() -> None:
    keypoints = np.array([[0.0, 3.0, 0.0, 1.0], [119.0, 0.0, 0.0, 1.0], [17.25, 99.0, 0.0, 1.0]])
    flipped = g.map_keypoints(g.Symmetry("h", (100, 120)), keypoints)
    np.testing.assert_array_equal(flipped[:, 0], 119.0 - keypoints[:, 0])
    np.testing.assert_array_equal(flipped[:, 1], keypoints[:, 1])


def test_projective_keypoints_still_use_the_local_jacobian() -> None:
    rng = np.random.default_rng(1)
    keypoints = np.column_stack([rng.uniform(10, 90, (20, 2)), rng.uniform(0, 6, 20), np.ones(20)])
    matrix = np.array([[1.0, 0.1, 3.0], [0.05, 0.9, -2.0], [1e-3, -2e-3, 1.0]])
    geometry = g.Projective(matrix, (100, 100), (100, 100))
    assert_same_keypoints(g.map_keypoints(geometry, keypoints), numeric_reference(geometry, keypoints))


@pytest.mark.parametrize(
    "rows",
    [
        [[1, 2.5], [3.0, 4]],
        ((1.5, 2.0), (np.float32(3.25), np.int64(4))),
        [[1, 2], (3, 4)],
    ],
)
def test_plain_numeric_rows_read_like_the_row_by_row_reader(rows: list | tuple) -> None:
    coords, extras, layout = as_rows(rows, "keypoints", 2, "keypoints")
    np.testing.assert_array_equal(coords, np.array([[float(v) for v in r] for r in rows]))
    assert coords.dtype == np.float64 and [tuple(e) for e in extras] == [(), ()]
    assert layout.container == ("tuple" if isinstance(rows, tuple) else "list")


def test_rows_with_extras_or_odd_values_take_the_row_by_row_reader() -> None:
    coords, extras, _ = as_rows([[1, 2, "eye"], [3, 4, "nose"]], "keypoints", 2, "keypoints")
    np.testing.assert_array_equal(coords, [[1.0, 2.0], [3.0, 4.0]])
    assert [tuple(e) for e in extras] == [("eye",), ("nose",)]
    coords, _, _ = as_rows([[True, 2]], "keypoints", 2, "keypoints")  # bools count as numbers there
    np.testing.assert_array_equal(coords, [[1.0, 2.0]])
    with pytest.raises(Exception, match=r"keypoints\[1\]"):
        as_rows([[1, 2], [3]], "keypoints", 2, "keypoints")
