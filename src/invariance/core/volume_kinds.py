"""Target kinds of voxel grids: ``volume``, ``mask3d`` and their stacks ``volumes`` / ``masks3d``.

A volume is ``(D, H, W)`` or ``(D, H, W, C)``. Two-dimensional effects act on it slice by
slice with the one parameter draw of the transform (a pixel change, the same warp for every
slice, the same holes through every slice); volumetric effects
(:class:`~invariance.core.effects.VolumeWarp`, :class:`~invariance.core.effects.VolumeHoles`)
act on the grid as a whole. 3-D masks behave like masks: nearest neighbour under warps, pixel
changes only when the effect says what they do to masks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import cv2
import numpy as np

from invariance.core.config import TargetConfig
from invariance.core.effects import Occlusion, Paste, Pixels, VolumeHoles, VolumeWarp, Warp
from invariance.core.errors import InputError, InputTypeError
from invariance.core.geometry import Resampling, Symmetry
from invariance.core.kinds import (
    CallView,
    Frames,
    ImageKind,
    MaskKind,
    TargetKind,
    _Plane,
    check_image,
    check_mask,
    read_stack,
)
from invariance.kernels.geometry import D4_AXES
from invariance.kernels.volume import reorder_grid

Shape = tuple[int, int]


def _check_grid(key: str, value: Any, what: str) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise InputTypeError(
            f"{key}: expected a numpy array of shape (D, H, W) or (D, H, W, C), got {type(value).__name__}"
        )
    if value.ndim not in (3, 4):
        # A TypeError, as Albumentations raises for it (its users catch that).
        raise InputTypeError(
            f"{key}: {what} must be 3D or 4D array, (D, H, W) or (D, H, W, C); got shape {value.shape} "
            f"({value.ndim} dimensions)"
        )
    if 0 in value.shape[:3]:
        raise InputError(f"{key}: the {what} is empty (shape {value.shape}); expected D, H and W >= 1")
    return value


def check_volume(key: str, value: Any) -> np.ndarray:
    """A volume as the pipeline takes it: uint8, or float32 in [0, 1] (float64 in [0, 1] converted)."""
    grid = _check_grid(key, value, "volume")
    # The dtype and value rules are those of images; checked on the grid seen as one tall image.
    flat = grid.reshape(grid.shape[0] * grid.shape[1], *grid.shape[2:])
    checked = check_image(key, flat)
    return checked.reshape(grid.shape) if checked is not flat else grid


def check_mask3d(key: str, value: Any) -> np.ndarray:
    """A 3-D mask: any numeric or boolean ``(D, H, W)`` or ``(D, H, W, C)`` array."""
    grid = _check_grid(key, value, "3-D mask")
    check_mask(key, grid[0])
    return grid


def _stack(slices: list[Any]) -> Any:
    if all(isinstance(s, np.ndarray) for s in slices):
        return np.stack(slices)
    return slices  # a last conversion step (tensors) decides its own layout


#: Slices of a single-channel grid resampled together as the channels of one image.
SLICES_PER_GROUP = 4


#: Interpolations whose four-channel results equal the one-channel ones (nearest, linear, area
#: and their exact variants; OpenCV's cubic resize rounds differently with four channels).
_GROUPED_INTERPOLATIONS = frozenset(
    {cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_AREA, cv2.INTER_LINEAR_EXACT, cv2.INTER_NEAREST_EXACT}
)


def _groups_slices(grid: np.ndarray, fill: Any, interpolation: int) -> bool:
    """True when the slices of ``grid`` can be resampled :data:`SLICES_PER_GROUP` at a time:
    at least that many single-channel uint8 slices, an interpolation that computes four channels
    as it computes one, and one fill value for all of them."""
    if interpolation not in _GROUPED_INTERPOLATIONS:
        return False
    if not isinstance(grid, np.ndarray) or grid.ndim != 3 or len(grid) < SLICES_PER_GROUP:
        return False
    if grid.dtype != np.uint8:  # float32 slices: a four-channel remap rounds 1 ulp apart, for no gain
        return False
    return fill is None or np.ndim(fill) == 0 or np.size(fill) == 1


def _in_groups_of_slices(grid: np.ndarray, resample: Any) -> np.ndarray:
    """``resample`` applied to every slice of a ``(D, H, W)`` grid, the slices taken
    :data:`SLICES_PER_GROUP` at a time as the channels of one image.

    OpenCV's warps, remaps and resizes compute every channel of a one- or four-channel image
    with the same arithmetic and the same map, so a group gives each slice's own result; but the
    map (or the coordinate blocks a warp computes) is made once per group, and a four-channel
    remap costs 1.6x a one-channel one, not 4x (a 64-slice uint8 volume: Affine 2.8 -> 1.7 ms,
    ElasticTransform 4.3 -> 2.3 ms). Two or three channels take other code paths
    that round differently, so the slices left over after the last full group go alone. An
    OpenCV merge and split are the only extra passes (each slice written straight into the
    output).
    """
    depth = len(grid)
    grouped = depth - depth % SLICES_PER_GROUP  # at least one group (see _groups_slices)
    out: np.ndarray | None = None
    for start in range(0, grouped, SLICES_PER_GROUP):
        merged = resample(cv2.merge(list(grid[start : start + SLICES_PER_GROUP])))
        if out is None:
            out = np.empty((depth, *merged.shape[:2]), merged.dtype)
        targets = list(out[start : start + SLICES_PER_GROUP])
        written = cv2.split(merged, targets)
        if not all(np.shares_memory(a, b) for a, b in zip(written, targets, strict=True)):
            out[start : start + SLICES_PER_GROUP] = np.stack(written)  # OpenCV chose new arrays
    assert out is not None
    for index in range(grouped, depth):
        out[index] = resample(grid[index])
    return out


def _fill_value(grid: np.ndarray, fill: Any) -> np.ndarray | Any:
    """``fill`` as what a hole of ``grid`` is set to: one scalar, or a per-channel row (values
    rounded and clipped to an integer dtype's range)."""
    values = np.asarray(fill, dtype=np.float64).reshape(-1)
    if grid.dtype.kind in "iu":
        info = np.iinfo(grid.dtype)
        values = np.clip(np.rint(values), info.min, info.max)
    if grid.ndim == 4 and len(values) > 1:
        return np.resize(values, grid.shape[3]).astype(grid.dtype)
    return grid.dtype.type(values[0])


def _fill_box(grid: np.ndarray, hole: Sequence[int], value: Any) -> None:
    z0, y0, x0, z1, y1, x1 = hole
    grid[max(z0, 0) : z1, max(y0, 0) : y1, max(x0, 0) : x1] = value


class _Grid(TargetKind):
    """One voxel grid: the shared part of volumes and 3-D masks."""

    resampled = True
    plane: ClassVar[_Plane]
    is_image: ClassVar[bool]

    def check(self, key: str, value: Any) -> np.ndarray:
        raise NotImplementedError

    def read(self, key: str, value: Any, data: Mapping[str, Any], config: TargetConfig, shape: Shape) -> Any:
        return self.check(key, value)

    def size(self, value: Any) -> Shape | None:
        return int(value.shape[1]), int(value.shape[2])

    def depths(self, key: str, value: Any) -> list[tuple[str, int]]:
        return [(key, int(value.shape[0]))]

    def slices(self, value: np.ndarray, func: Any) -> Any:
        return _stack([func(s) for s in value])

    def warp(self, key: str, value: Any, effect: Warp, call: CallView) -> Any:
        geometry = effect.geometry
        if type(geometry) is Symmetry:
            # A flip or quarter turn of every slice is one reordering of the whole grid.
            rows, cols, swap = D4_AXES[geometry.element]
            return reorder_grid(value, (False, rows, cols), (0, 2, 1) if swap else (0, 1, 2))
        resampling = effect.resampling
        interpolation = resampling.interpolation if self.is_image else resampling.mask_interpolation
        if _groups_slices(value, self.plane.fill_of(resampling), interpolation):
            return _in_groups_of_slices(value, lambda group: self.plane.resample(group, geometry, resampling))
        return self.slices(value, lambda s: self.plane.resample(s, geometry, resampling))

    def window(self, value: Any, y0: int, y1: int, x0: int, x1: int) -> Any:
        return value[:, y0:y1, x0:x1]

    def paint(self, value: Any, outside: np.ndarray, resampling: Resampling) -> Any:
        return self.slices(value, lambda s: self.plane.paint(s, outside, resampling))

    def paste(self, key: str, value: Any, effect: Paste, call: CallView) -> Any:
        # Each slice of the main volume acts as the image (mask3d as the mask): placed items
        # (mixed samples, overlaid elements) land on every slice, as a 2-D effect does.
        main = call.is_main(key)
        return self.slices(value, lambda s: self.plane.paste_array(s, effect, main))

    def fill_of(self, effect: VolumeWarp | VolumeHoles) -> Any:
        return effect.fill if self.is_image else effect.fill_mask

    def volume_warp(self, key: str, value: Any, effect: VolumeWarp, call: CallView) -> Any:
        fill = self.fill_of(effect)
        interpolation = effect.interpolation if self.is_image else effect.mask_interpolation
        return effect.geometry.apply(value, 0 if fill is None else fill, interpolation)

    def volume_holes(self, key: str, value: Any, effect: VolumeHoles, call: CallView) -> Any:
        fill = self.fill_of(effect)
        if fill is None or len(effect.holes) == 0:
            return value
        out = value.copy()
        filled = _fill_value(out, fill)
        for hole in effect.holes.tolist():
            _fill_box(out, hole, filled)
        return out


class VolumeKind(_Grid):
    """``volume``: ``(D, H, W[, C])`` pixels, resampled slice by slice with the transform's
    interpolation; volumetric maps move whole slices and voxels exactly."""

    name = "volume"
    plane = ImageKind()
    is_image = True

    def check(self, key: str, value: Any) -> np.ndarray:
        return check_volume(key, value)

    def pixels(self, key: str, value: Any, effect: Pixels, call: CallView) -> Any:
        if effect.volume is not None:
            return effect.volume(value)
        if effect.image is None:
            return value
        return self.slices(value, effect.image)

    def occlusion(self, key: str, value: Any, effect: Occlusion, call: CallView) -> Any:
        return self.slices(value, effect.image)


class Mask3DKind(_Grid):
    """``mask3d``: a ``(D, H, W[, C])`` label grid: nearest neighbour (or the mask interpolation)
    under warps; pixel effects only when they say what they do to masks."""

    name = "mask3d"
    plane = MaskKind()
    is_image = False

    def check(self, key: str, value: Any) -> np.ndarray:
        return check_mask3d(key, value)

    def pixels(self, key: str, value: Any, effect: Pixels, call: CallView) -> Any:
        if effect.mask3d is not None:
            return effect.mask3d(value)
        if effect.mask is None:
            return value
        return self.slices(value, effect.mask)

    def occlusion(self, key: str, value: Any, effect: Occlusion, call: CallView) -> Any:
        if effect.mask is None:
            return value
        return self.slices(value, effect.mask)


class _GridStack(TargetKind):
    """A stack of grids of one kind (``(N, D, H, W[, C])`` or a list): each grid alike."""

    resampled = True
    single: ClassVar[_Grid]

    def read(self, key: str, value: Any, data: Mapping[str, Any], config: TargetConfig, shape: Shape) -> Any:
        return read_stack(key, value, (4, 5), "(N, D, H, W) or (N, D, H, W, C)", "volumes", self.single.check)

    def write(
        self, key: str, value: Any, call: CallView, out: dict[str, Any], data: Mapping[str, Any]
    ) -> None:
        out[key] = value.output() if isinstance(value, Frames) else value

    def size(self, value: Any) -> Shape | None:
        return self.single.size(value[0]) if len(value) else None

    def frame_sizes(self, key: str, value: Frames) -> list[tuple[str, Shape]]:
        return [(f"{key}[{i}]", (int(g.shape[1]), int(g.shape[2]))) for i, g in enumerate(value)]

    def depths(self, key: str, value: Any) -> list[tuple[str, int]]:
        return [(f"{key}[{i}]", int(g.shape[0])) for i, g in enumerate(value)]

    def pixels(self, key: str, value: Any, effect: Pixels, call: CallView) -> Any:
        return value.map(lambda g: self.single.pixels(key, g, effect, call))

    def warp(self, key: str, value: Any, effect: Warp, call: CallView) -> Any:
        return value.map(lambda g: self.single.warp(key, g, effect, call))

    def window(self, value: Any, y0: int, y1: int, x0: int, x1: int) -> Any:
        return value.map(lambda g: g[:, y0:y1, x0:x1])

    def paint(self, value: Any, outside: np.ndarray, resampling: Resampling) -> Any:
        return value.map(lambda g: self.single.paint(g, outside, resampling))

    def occlusion(self, key: str, value: Any, effect: Occlusion, call: CallView) -> Any:
        return value.map(lambda g: self.single.occlusion(key, g, effect, call))

    def paste(self, key: str, value: Any, effect: Paste, call: CallView) -> Any:
        return value.map(lambda g: self.single.paste(key, g, effect, call))

    def volume_warp(self, key: str, value: Any, effect: VolumeWarp, call: CallView) -> Any:
        return value.map(lambda g: self.single.volume_warp(key, g, effect, call))

    def volume_holes(self, key: str, value: Any, effect: VolumeHoles, call: CallView) -> Any:
        return value.map(lambda g: self.single.volume_holes(key, g, effect, call))


class VolumesKind(_GridStack):
    """``volumes``: several volumes of one sample (scans of one patient), each a ``volume``."""

    name = "volumes"
    single = VolumeKind()


class Masks3DKind(_GridStack):
    """``masks3d``: several 3-D masks (one per structure), each a ``mask3d``."""

    name = "masks3d"
    single = Mask3DKind()


__all__ = [
    "Mask3DKind",
    "Masks3DKind",
    "VolumeKind",
    "VolumesKind",
    "check_mask3d",
    "check_volume",
]
