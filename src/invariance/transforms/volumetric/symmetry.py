"""Exact symmetries of voxel grids: flips and quarter turns of the cube."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import model_validator

from invariance.core.errors import InputError
from invariance.core.randomness import integer
from invariance.core.sample import Sample
from invariance.core.schema import Probability
from invariance.core.volume import (
    AxisMap,
    CellShuffle3D,
    Geometry3D,
    Shape3,
    cell_boxes,
    cube_symmetries,
    require_volume,
)
from invariance.transforms.volumetric.base import Transform3D

_CUBE = cube_symmetries()


class CubicSymmetry(Transform3D):
    """One of the 48 symmetries of the cube, drawn uniformly: the axes of the volume are reordered
    and any of them reversed (24 rotations, and each with a mirror).

    A symmetry that swaps depth with height or width also swaps the volume's extents. Keypoints
    (``xyz``) move with the voxels. Use it where orientation carries no meaning (isotropic
    microscopy, material samples); medical scans with a fixed patient orientation usually want
    only some flips (:class:`~invariance.transforms.volumetric.Flip3D`).

    Args:
        p: probability of applying the transform. Default: 1.

    Targets: keypoints, volume, mask3d
    (each also as a stack: volumes, masks3d). Dtypes: uint8, float32.
    """

    class InitSchema(Transform3D.InitSchema):
        p: Probability = 1.0

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"index": integer(rng, 0, len(_CUBE))}

    def volume_geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry3D:
        flips, order = _CUBE[int(params["index"])]
        return AxisMap(flips, order, require_volume(sample, type(self).__name__))


Axis = Literal[0, 1, 2]


def _flip_map(axes: Sequence[int], shape: Shape3) -> AxisMap:
    flips = tuple(axis in axes for axis in range(3))
    return AxisMap(flips, (0, 1, 2), shape)  # type: ignore[arg-type]


def _quarter_turn(pair: Sequence[int], turns: int, shape: Shape3) -> AxisMap:
    """``turns`` counterclockwise quarter turns from axis ``pair[0]`` towards ``pair[1]``
    (as :func:`numpy.rot90` with ``axes=pair``), as flips of input axes then a reordering."""
    a, b = pair
    swapped = [0, 1, 2]
    swapped[a], swapped[b] = b, a
    turns %= 4
    if turns == 0:
        return AxisMap((False, False, False), (0, 1, 2), shape)
    if turns == 2:
        return _flip_map((a, b), shape)
    flipped = b if turns == 1 else a
    flips = tuple(axis == flipped for axis in range(3))
    return AxisMap(flips, tuple(swapped), shape)  # type: ignore[arg-type]


class Flip3D(Transform3D):
    """Reflect a volume across any of its depth, height and width axes (voxel indices).

    In random mode each axis of ``axes`` is reflected independently with probability 1/2 (the
    empty choice, the identity, included), which draws uniformly from the reflections those axes
    generate. ``flip_axes`` fixes the reflected axes instead, for test-time augmentation (a
    reflection undoes itself). The shape and channels stay; ``xyz`` keypoints move with the
    voxels.

    Args:
        axes: the axes (0 depth, 1 height, 2 width) random mode may reflect; non-empty.
            Default: (0, 1, 2).
        flip_axes: a fixed set of axes to reflect every time (``()`` for the identity), or None
            for random mode. Default: None.
        p: probability of applying the transform. Default: 1.

    Targets: keypoints, volume, mask3d
    (each also as a stack: volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"flip_axes": (0, 2)}

    axes: tuple[int, ...]
    flip_axes: tuple[int, ...] | None

    class InitSchema(Transform3D.InitSchema):
        axes: tuple[Axis, ...] = (0, 1, 2)
        flip_axes: tuple[Axis, ...] | None = None
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> Flip3D.InitSchema:
            if not self.axes or len(set(self.axes)) != len(self.axes):
                raise ValueError(
                    f"axes must name distinct axes among 0, 1, 2 (at least one), got {self.axes}"
                )
            if self.flip_axes is not None and len(set(self.flip_axes)) != len(self.flip_axes):
                raise ValueError(f"flip_axes must not repeat an axis, got {self.flip_axes}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        if self.flip_axes is not None:
            return {"flip_axes": sorted(self.flip_axes)}
        chosen = rng.random(len(self.axes)) < 0.5
        return {"flip_axes": sorted(a for a, c in zip(self.axes, chosen) if c)}

    def volume_geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry3D:
        return _flip_map(params["flip_axes"], require_volume(sample, type(self).__name__))


_TURNS = {"e": 0, "r90": 1, "r180": 2, "r270": 3}


class RandomRotate90_3D(Transform3D):  # noqa: N801 - the AlbumentationsX name
    """Turn a volume by a multiple of 90 degrees in one plane of two of its axes (no reflection).

    In random mode a plane is drawn from ``axis_pairs`` and a turn from the four quarter turns.
    A pair ``(a, b)`` turns from axis ``a`` towards axis ``b`` (``(1, 2)``: height with width,
    counterclockwise on screen); a quarter turn swaps the two extents, so a non-cubic volume
    changes shape. ``axis_pair`` with ``group_element`` fixes the turn (test-time augmentation).

    Args:
        axis_pairs: the planes random mode may draw, each two ascending axes among 0 (depth),
            1 (height), 2 (width). Default: ((0, 1), (0, 2), (1, 2)).
        axis_pair: a fixed plane, or None. Default: None.
        group_element: a fixed turn, ``"e"``, ``"r90"``, ``"r180"`` or ``"r270"``
            (counterclockwise), or None for a random one. Default: None.
        p: probability of applying the transform. Default: 1.

    Targets: keypoints, volume, mask3d
    (each also as a stack: volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"axis_pair": (1, 2), "group_element": "r90"}

    axis_pairs: tuple[tuple[int, int], ...]
    axis_pair: tuple[int, int] | None
    group_element: str | None

    class InitSchema(Transform3D.InitSchema):
        axis_pairs: tuple[tuple[Axis, Axis], ...] = ((0, 1), (0, 2), (1, 2))
        axis_pair: tuple[Axis, Axis] | None = None
        group_element: Literal["e", "r90", "r180", "r270"] | None = None
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> RandomRotate90_3D.InitSchema:
            if not self.axis_pairs:
                raise ValueError("axis_pairs must hold at least one pair of axes")
            for pair in (*self.axis_pairs, *([self.axis_pair] if self.axis_pair else [])):
                if pair[0] >= pair[1]:
                    raise ValueError(f"an axis pair lists two distinct axes in ascending order, got {pair}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        pair = self.axis_pair
        if pair is None:
            pair = self.axis_pairs[integer(rng, 0, len(self.axis_pairs))]
        turns = _TURNS[self.group_element] if self.group_element is not None else integer(rng, 0, 4)
        return {"axis_pair": list(pair), "turns": turns}

    def volume_geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry3D:
        shape = require_volume(sample, type(self).__name__)
        return _quarter_turn(params["axis_pair"], int(params["turns"]), shape)


class GridShuffle3D(Transform3D):
    """Split a volume into a ``grid_zyx`` grid of cells and shuffle the cells.

    Cells of the same shape trade places (when an axis does not divide evenly its first cells
    are one voxel larger, and those only trade among themselves), so the volume keeps its shape.
    3-D masks move cell by cell with it and ``xyz`` keypoints move with their cell.

    Args:
        grid_zyx: cells along depth, height and width (each >= 1). Default: (2, 2, 2).
        p: probability of applying the transform. Default: 0.5.

    Targets: keypoints, volume, mask3d
    (each also as a stack: volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"grid_zyx": (1, 2, 2)}

    grid_zyx: tuple[int, int, int]

    class InitSchema(Transform3D.InitSchema):
        grid_zyx: tuple[int, int, int] = (2, 2, 2)

        @model_validator(mode="after")
        def _check(self) -> GridShuffle3D.InitSchema:
            if min(self.grid_zyx) < 1:
                raise ValueError(f"grid_zyx must be >= 1 on every axis, got {self.grid_zyx}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        shape = require_volume(sample, type(self).__name__)
        if any(g > n for g, n in zip(self.grid_zyx, shape)):
            raise InputError(
                f"GridShuffle3D: grid_zyx={self.grid_zyx} has more cells than voxels along an axis of a "
                f"volume of shape {shape} (D, H, W)"
            )
        cells = cell_boxes(shape, self.grid_zyx)
        order = list(range(len(cells)))
        groups: dict[tuple[int, ...], list[int]] = {}
        for index, (z0, y0, x0, z1, y1, x1) in enumerate(cells):
            groups.setdefault((z1 - z0, y1 - y0, x1 - x0), []).append(index)
        for members in groups.values():
            for index, target in zip(members, rng.permutation(members)):
                order[index] = int(target)
        return {"order": order}

    def volume_geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry3D:
        shape = require_volume(sample, type(self).__name__)
        return CellShuffle3D(tuple(self.grid_zyx), tuple(params["order"]), shape)  # type: ignore[arg-type]


__all__ = ["CubicSymmetry", "Flip3D", "GridShuffle3D", "RandomRotate90_3D"]
