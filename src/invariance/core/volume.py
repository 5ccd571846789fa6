"""Geometry of volumes: exact maps of voxel grids (windows, axis symmetries) and their points.

A volume is an array ``(D, H, W)`` or ``(D, H, W, C)``; axis 0 is depth (``z``), then rows
(``y``) and columns (``x``). A :class:`Geometry3D` maps a volume of ``in_shape`` ``(D, H, W)``
onto one of ``out_shape``: it resamples arrays (``apply``) and moves ``(N, 3)`` ``x, y, z``
points in the pixel-index frame (voxel centres on integers, as 2-D keypoints).

When a map keeps the depth axis where it is and acts on each slice the same way, ``plane``
gives that 2-D :class:`~invariance.core.geometry.Geometry`: 2-D targets of the same call
(images, masks, boxes) follow through it, and keypoint angles turn with it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from invariance.core.geometry import CropWindow, Geometry, Symmetry
from invariance.kernels.geometry import D4_AXES

if TYPE_CHECKING:
    from invariance.core.sample import Sample

Shape3 = tuple[int, int, int]

#: Target kinds that hold voxel grids, in the order their depth is read.
VOLUME_KINDS = ("volume", "mask3d", "volumes", "masks3d")


class Geometry3D:
    """A map of voxel grids from ``in_shape`` to ``out_shape`` (both ``(D, H, W)``)."""

    in_shape: Shape3
    out_shape: Shape3

    def apply(self, array: np.ndarray, fill: Any, interpolation: int = 0) -> np.ndarray:
        """The array ``(D, H, W[, C])`` through the map; voxels from outside take ``fill``.
        ``interpolation`` (``cv2.INTER_NEAREST`` 0 or ``cv2.INTER_LINEAR`` 1) matters only for
        maps that resample; exact maps move whole voxels."""
        raise NotImplementedError

    def map_points(self, points: np.ndarray) -> np.ndarray:
        """``(N, 3)`` ``x, y, z`` pixel-index points moved forward."""
        raise NotImplementedError

    @property
    def plane(self) -> Geometry | None:
        """The same map as a 2-D geometry of each slice, when depth stays the depth axis."""
        return None


def _fill_array(like: np.ndarray, shape: tuple[int, ...], fill: Any) -> np.ndarray:
    """A new array of ``shape`` with ``like``'s dtype (and channels) filled with ``fill``."""
    out = np.empty((*shape, *like.shape[3:]), dtype=like.dtype)
    values = np.asarray(fill, dtype=np.float64).reshape(-1)
    if np.issubdtype(like.dtype, np.integer):
        info = np.iinfo(like.dtype)
        values = np.clip(np.rint(values), info.min, info.max)
    if like.ndim == 4 and len(values) > 1:
        out[:] = np.resize(values, like.shape[3]).astype(like.dtype)
    else:
        out[:] = values[0] if len(values) else 0
    return out


@dataclass(frozen=True)
class Window3D(Geometry3D):
    """Cut the box starting at voxel ``(z0, y0, x0)`` with size ``out_shape``; outside, fill.

    Negative starts or ends past the volume pad: padding and cropping are both windows.
    """

    z0: int
    y0: int
    x0: int
    in_shape: Shape3
    out_shape: Shape3

    def apply(self, array: np.ndarray, fill: Any, interpolation: int = 0) -> np.ndarray:
        d, h, w = self.out_shape
        starts = (self.z0, self.y0, self.x0)
        inside = all(s >= 0 and s + n <= size for s, n, size in zip(starts, (d, h, w), array.shape))
        if inside:
            # A view, as the 2-D engine enters a crop window: later effects never write in place.
            return array[self.z0 : self.z0 + d, self.y0 : self.y0 + h, self.x0 : self.x0 + w]
        out = _fill_array(array, (d, h, w), fill)
        src: list[slice] = []
        dst: list[slice] = []
        for start, n, size in zip(starts, (d, h, w), array.shape):
            lo, hi = max(start, 0), min(start + n, size)
            if hi <= lo:
                return out
            src.append(slice(lo, hi))
            dst.append(slice(lo - start, hi - start))
        out[tuple(dst)] = array[tuple(src)]
        return out

    def map_points(self, points: np.ndarray) -> np.ndarray:
        return points - np.array([self.x0, self.y0, self.z0], dtype=np.float64)

    @property
    def plane(self) -> Geometry:
        _, h, w = self.out_shape
        return CropWindow(self.x0, self.y0, self.in_shape[1:], (h, w))


#: The planar symmetry (``Symmetry`` name) that reversing rows / columns, then swapping them, is.
_PLANE_ELEMENTS = {axes: element for element, axes in D4_AXES.items()}


@dataclass(frozen=True)
class AxisMap(Geometry3D):
    """Flip some axes, then reorder them: one of the 48 symmetries of the cube (exact).

    ``flips[i]`` reverses input axis ``i`` (0 = z, 1 = y, 2 = x); ``order[j]`` is the input
    axis that becomes output axis ``j``.
    """

    flips: tuple[bool, bool, bool]
    order: tuple[int, int, int]
    in_shape: Shape3
    out_shape: Shape3 = field(init=False)

    def __post_init__(self) -> None:
        if sorted(self.order) != [0, 1, 2]:
            raise ValueError(f"order must be a permutation of (0, 1, 2), got {self.order}")
        shape = tuple(self.in_shape[i] for i in self.order)
        object.__setattr__(self, "out_shape", shape)

    def apply(self, array: np.ndarray, fill: Any, interpolation: int = 0) -> np.ndarray:
        from invariance.kernels.volume import reorder_grid

        return reorder_grid(array, self.flips, self.order)

    def map_points(self, points: np.ndarray) -> np.ndarray:
        zyx = points[:, ::-1].copy()
        for axis in range(3):
            if self.flips[axis]:
                zyx[:, axis] = self.in_shape[axis] - 1 - zyx[:, axis]
        moved = zyx[:, list(self.order)]
        return np.ascontiguousarray(moved[:, ::-1])

    @property
    def plane(self) -> Geometry | None:
        if self.order[0] != 0 or self.flips[0]:
            return None
        swapped = self.order[1:] == (2, 1)  # flips happen first (on input axes), then the swap
        return Symmetry(_PLANE_ELEMENTS[(self.flips[1], self.flips[2], swapped)], self.in_shape[1:])


@dataclass(frozen=True, eq=False)
class VoxelAffine(Geometry3D):
    """An affine map of voxel grids: ``matrix`` (4x4) sends an input voxel index ``(x, y, z, 1)``
    to its output position. Arrays are resampled once: each output slice gathers its source
    positions through the inverse map (trilinear, or nearest for masks) in one pass."""

    matrix: np.ndarray
    in_shape: Shape3
    out_shape: Shape3

    def apply(self, array: np.ndarray, fill: Any, interpolation: int = 0) -> np.ndarray:
        from invariance.kernels.volume import resample_affine

        inverse = np.linalg.inv(self.matrix)
        return resample_affine(
            array, inverse, self.out_shape, interpolation == 1, _fill_array(array, (1, 1, 1), fill)
        )

    def map_points(self, points: np.ndarray) -> np.ndarray:
        homogeneous = np.column_stack([points, np.ones(len(points))])
        return (homogeneous @ self.matrix.T)[:, :3]


@dataclass(frozen=True, eq=False)
class VoxelField(Geometry3D):
    """A smooth dense deformation of voxel grids: output voxel ``p`` takes the input at
    ``p + u(p)``, where the displacement ``u`` (``x, y, z`` components, in voxels) is a cubic
    B-spline through ``control`` (``(kz, ky, kx, 3)`` values on a regular grid over the volume).

    Arrays are resampled once: each output slice gathers its source positions in one pass
    (trilinear, or nearest for masks). Points move forward by inverting ``p + u(p)`` with a
    fixed-point iteration, exact while the map does not fold (``ElasticTransform3D`` bounds the
    control values so that it cannot)."""

    control: np.ndarray
    in_shape: Shape3

    @property
    def out_shape(self) -> Shape3:  # type: ignore[override]
        return self.in_shape

    def _weights(self, axis: int, positions: np.ndarray) -> np.ndarray:
        from invariance.kernels.volume import bspline_weights

        return bspline_weights(positions, self.in_shape[axis], self.control.shape[axis])

    def apply(self, array: np.ndarray, fill: Any, interpolation: int = 0) -> np.ndarray:
        from invariance.kernels.volume import resample_sources

        d, h, w = self.in_shape
        wz = self._weights(0, np.arange(d))
        wy = self._weights(1, np.arange(h))
        wx = self._weights(2, np.arange(w))
        # Each control plane's in-plane field, once: (kz, H, W, 3).
        planes = np.einsum("yj,xk,ijkc->iyxc", wy, wx, self.control)
        ys, xs = np.mgrid[0:h, 0:w]
        grid = np.stack([xs.ravel(), ys.ravel(), np.zeros(h * w)], axis=1).astype(np.float64)

        def source(z: int) -> np.ndarray:
            shift = np.tensordot(wz[z], planes, axes=1).reshape(h * w, 3)
            out = grid + shift
            out[:, 2] += z
            return out

        return resample_sources(
            array, source, self.in_shape, interpolation == 1, _fill_array(array, (1, 1, 1), fill)
        )

    def displacement(self, points: np.ndarray) -> np.ndarray:
        """``u`` at ``(N, 3)`` ``x, y, z`` points (any positions, not only voxel centres)."""
        wx = self._weights(2, points[:, 0])
        wy = self._weights(1, points[:, 1])
        wz = self._weights(0, points[:, 2])
        return np.einsum("ni,nj,nk,ijkc->nc", wz, wy, wx, self.control)

    def map_points(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        if not len(points):
            return points.copy()
        moved = points.copy()
        for _ in range(50):
            step = points - self.displacement(moved)
            if np.abs(step - moved).max() < 1e-6:
                moved = step
                break
            moved = step
        return moved


def cell_boxes(shape: Shape3, grid: Shape3) -> list[tuple[int, int, int, int, int, int]]:
    """The cells of a ``grid`` over a volume of ``shape``: ``(z0, y0, x0, z1, y1, x1)`` in C
    order; an axis that does not divide evenly gives its first cells one voxel more."""
    bounds = []
    for n, parts in zip(shape, grid):
        sizes = [n // parts + (1 if i < n % parts else 0) for i in range(parts)]
        edges = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        bounds.append([(int(a), int(b)) for a, b in itertools.pairwise(edges)])
    return [(z[0], y[0], x[0], z[1], y[1], x[1]) for z in bounds[0] for y in bounds[1] for x in bounds[2]]


@dataclass(frozen=True, eq=False)
class CellShuffle3D(Geometry3D):
    """Cells of a grid moved to other cells of the same shape: cell ``i`` goes to where cell
    ``order[i]`` was. Exact: voxels move whole, points move with their cell."""

    grid: Shape3
    order: tuple[int, ...]
    in_shape: Shape3

    @property
    def out_shape(self) -> Shape3:  # type: ignore[override]
        return self.in_shape

    def apply(self, array: np.ndarray, fill: Any, interpolation: int = 0) -> np.ndarray:
        cells = cell_boxes(self.in_shape, self.grid)
        out = np.empty_like(array)
        for source, target in zip(cells, (cells[i] for i in self.order)):
            z0, y0, x0, z1, y1, x1 = source
            tz, ty, tx = target[:3]
            out[tz : tz + z1 - z0, ty : ty + y1 - y0, tx : tx + x1 - x0] = array[z0:z1, y0:y1, x0:x1]
        return out

    def map_points(self, points: np.ndarray) -> np.ndarray:
        cells = np.array(cell_boxes(self.in_shape, self.grid), dtype=np.float64)
        voxel = np.floor(points + 0.5)[:, ::-1]  # z, y, x
        inside = np.all(
            (voxel[:, None, :] >= cells[None, :, :3]) & (voxel[:, None, :] < cells[None, :, 3:]), axis=2
        )
        out = points.copy()
        found = inside.any(axis=1)
        which = np.argmax(inside, axis=1)
        shift = cells[np.asarray(self.order)[which], :3] - cells[which, :3]
        out[found] += shift[found][:, ::-1]
        return out


def cube_symmetries() -> list[tuple[tuple[bool, bool, bool], tuple[int, int, int]]]:
    """The 48 symmetries of the cube as ``(flips, order)`` pairs, in a fixed order."""
    import itertools

    flips = list(itertools.product((False, True), repeat=3))
    return [(f, o) for o in itertools.permutations(range(3)) for f in flips]  # type: ignore[misc]


def volume_shape(sample: Sample) -> Shape3 | None:
    """``(D, H, W)`` of the first volume-like target of a sample, or None when it has none."""
    for key in sample.keys_of(*VOLUME_KINDS):
        value = sample.values[key]
        if sample.kind_of(key) in ("volumes", "masks3d"):
            if not len(value):
                continue
            value = value[0]
        return int(value.shape[0]), int(value.shape[1]), int(value.shape[2])
    return None


def require_volume(sample: Sample, name: str) -> Shape3:
    """``(D, H, W)`` of the sample's volume; a clear error when the call passed none."""
    from invariance.core.errors import InputError

    shape = volume_shape(sample)
    if shape is None:
        raise InputError(
            f"{name} is a volumetric transform: pass volume=(D, H, W[, C]) or mask3d=(D, H, W) "
            "(or the stacks volumes / masks3d)"
        )
    return shape


def as_zyx_padding(padding: int | Sequence[int]) -> tuple[int, int, int, int, int, int]:
    """``(z_front, z_back, y_top, y_bottom, x_left, x_right)`` from an int, 3 or 6 numbers."""
    if isinstance(padding, int):
        return (padding,) * 6
    values = tuple(int(v) for v in padding)
    if len(values) == 3:
        d, h, w = values
        return d, d, h, h, w, w
    return values  # type: ignore[return-value]


__all__ = [
    "VOLUME_KINDS",
    "AxisMap",
    "CellShuffle3D",
    "Geometry3D",
    "VoxelAffine",
    "VoxelField",
    "Window3D",
    "as_zyx_padding",
    "cell_boxes",
    "cube_symmetries",
    "require_volume",
    "volume_shape",
]
