"""Target kinds: one class per kind, registered in one place, each applying every effect to itself.

A pipeline call holds its targets by key; each key has a kind (``image``, ``images``, ``mask``,
``masks``, ``bboxes``, ``keypoints``, or one added later). The call hands every effect
(:mod:`invariance.core.effects`) to each target through its kind's handler:
``handler.<effect.kind>(key, value, effect, call)`` returns the target's new value. A kind that
an effect does not concern returns the value unchanged (the base class's default), so a new kind
is one class here plus :func:`register_kind`, and no transform changes.

Handlers also read the caller's value at the pipeline's edge (``read``, where malformed input is
refused) and write the result back in the caller's layout (``write``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Protocol

import cv2
import numpy as np

from invariance.core.config import TargetConfig
from invariance.core.effects import (
    Item,
    MoveRows,
    Occlusion,
    Paste,
    Piece,
    Pixels,
    VolumeHoles,
    VolumeWarp,
    Warp,
)
from invariance.core.errors import InputError, InputTypeError
from invariance.core.geometry import Geometry, Resampling, box_outline, map_boxes, map_keypoints
from invariance.core.targets import (
    KEYPOINT_Z,
    BoxSet,
    PointSet,
    RowSet,
    box_drop_reasons,
    filter_boxes,
    keypoints_visible,
    labels_like,
    read_boxes,
    read_keypoints,
    write_boxes,
    write_keypoints,
)
from invariance.kernels import geometry as kg
from invariance.kernels.mixing import blend

Shape = tuple[int, int]

#: Hidden label column that pairs each box with its instance mask (see BboxParams.instance_masks).
INSTANCE = "__instance__"


class CallView(Protocol):
    """What handlers need from the pipeline call they serve (see :class:`invariance.core.call.Call`)."""

    config: TargetConfig
    fusing: bool
    outlines: dict[str, Any]

    @property
    def shape(self) -> Shape: ...

    @property
    def reports_drops(self) -> bool: ...

    def dropped(self, key: str, reason: str, count: int) -> None: ...

    def is_main(self, key: str) -> bool: ...

    def paired_masks(self) -> str | None: ...

    def instance_count(self) -> int: ...

    def instances_for(self, key: str, boxes: BoxSet) -> np.ndarray | None: ...


# ----------------------------------------------------------------------------------------------
# Frame stacks


class Frames:
    """A stack of frames (``images`` / ``masks``) as a list, whatever the caller passed.

    ``stacked`` remembers that the caller gave one array, so the output is one array again; the
    frames themselves are never written to.
    """

    __slots__ = ("empty", "frames", "stacked")

    def __init__(self, frames: list[Any], stacked: bool, empty: np.ndarray | None = None) -> None:
        self.frames = frames
        self.stacked = stacked
        self.empty = empty  # the caller's (0, ...) array, returned as a copy for an empty stack

    @classmethod
    def of(cls, value: Any) -> Frames:
        if isinstance(value, np.ndarray):
            return cls(list(value), True, value if len(value) == 0 else None)
        return cls(list(value), False)

    def map(self, func: Callable[[np.ndarray], Any]) -> Frames:
        return Frames([func(frame) for frame in self.frames], self.stacked, self.empty)

    def select(self, index: np.ndarray) -> Frames:
        return Frames([self.frames[int(i)] for i in index], self.stacked, self.empty)

    def as_array(self, shape: Shape) -> np.ndarray:
        if self.frames:
            return np.stack(self.frames)
        return self.empty.copy() if self.empty is not None else np.zeros((0, *shape), dtype=np.uint8)

    def output(self) -> Any:
        if not self.stacked:
            return list(self.frames)
        if not self.frames:
            return self.empty.copy() if self.empty is not None else np.zeros((0,))
        if not all(isinstance(f, np.ndarray) for f in self.frames):
            return self.frames  # converted by a last step (tensors): the step stacked them if it wanted
        return np.stack(self.frames)

    def __len__(self) -> int:
        return len(self.frames)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.frames)

    def __getitem__(self, index: int) -> Any:
        return self.frames[index]


# ----------------------------------------------------------------------------------------------
# The base class


class TargetKind:
    """Base of target handlers: every effect leaves the target unchanged unless overridden."""

    name: ClassVar[str]
    #: Array targets resampled by warps: they wait in the fusion buffer while a chain is fused.
    resampled: ClassVar[bool] = False
    #: Targets whose rows need the image size to be read (boxes, keypoints).
    needs_shape: ClassVar[bool] = False
    #: Targets that ``finish`` changes after the last transform (rows: clipped and filtered).
    final_pass: ClassVar[bool] = False

    def read(self, key: str, value: Any, data: Mapping[str, Any], config: TargetConfig, shape: Shape) -> Any:
        """The caller's value, validated, in the internal layout."""
        raise NotImplementedError

    def write(
        self, key: str, value: Any, call: CallView, out: dict[str, Any], data: Mapping[str, Any]
    ) -> None:
        """Put the result for ``key`` (and what travels with it) into ``out``."""
        out[key] = value

    def size(self, value: Any) -> Shape | None:
        """Height and width of an array target (None for rows or an empty stack)."""
        return None

    def pixels(self, key: str, value: Any, effect: Pixels, call: CallView) -> Any:
        return value

    def warp(self, key: str, value: Any, effect: Warp, call: CallView) -> Any:
        return value

    def occlusion(self, key: str, value: Any, effect: Occlusion, call: CallView) -> Any:
        return value

    def rows(self, key: str, value: Any, effect: MoveRows, call: CallView) -> Any:
        return value

    def paste(self, key: str, value: Any, effect: Paste, call: CallView) -> Any:
        return value

    def finish(self, key: str, value: Any, call: CallView) -> Any:
        """The final pass after the last transform (rows: clip and filter)."""
        return value

    def volume_warp(self, key: str, value: Any, effect: VolumeWarp, call: CallView) -> Any:
        """A 2-D target follows a volumetric map through its in-plane part, when it has one."""
        plane = effect.geometry.plane
        if plane is None:
            raise InputError(
                f"{key}: this volumetric transform moves the depth axis into the image plane, which a "
                f"2-D {self.name} cannot follow; pass 3-D targets (volume, mask3d, keypoints) only"
            )
        if plane.is_identity():
            return value
        return self.warp(
            key, value, Warp(plane, Resampling(fill=effect.fill, fill_mask=effect.fill_mask)), call
        )

    def volume_holes(self, key: str, value: Any, effect: VolumeHoles, call: CallView) -> Any:
        return value

    def depths(self, key: str, value: Any) -> list[tuple[str, int]]:
        """Depth of each voxel grid held (volumes: compared at the pipeline's edge)."""
        return []

    # Array targets (``resampled``) also take these two from the fusion buffer.

    def window(self, value: Any, y0: int, y1: int, x0: int, x1: int) -> Any:
        """A view of the window (fusion enters a leading crop without copying)."""
        return value

    def paint(self, value: Any, outside: np.ndarray, resampling: Resampling) -> Any:
        """The border fill painted where ``outside`` is set (fusion draws a later step's border)."""
        return value


_KINDS: dict[str, TargetKind] = {}
_BUILTIN = frozenset(
    {"image", "images", "mask", "masks", "bboxes", "keypoints", "volume", "volumes", "mask3d", "masks3d"}
)


def register_kind(handler: TargetKind) -> TargetKind:
    """Make a target kind known to every pipeline (``additional_targets`` may then name it)."""
    _KINDS[handler.name] = handler
    return handler


def unregister_kind(name: str) -> None:
    """Forget a kind added with :func:`register_kind` (the built-in kinds stay)."""
    if name in _BUILTIN:
        raise ValueError(f"{name!r} is a built-in target kind")
    _KINDS.pop(name, None)


def kind_of(name: str) -> TargetKind:
    return _KINDS[name]


def kind_names() -> tuple[str, ...]:
    return tuple(_KINDS)


# ----------------------------------------------------------------------------------------------
# Images and masks


_UINT8 = np.dtype(np.uint8)
_OVERSHOOTING = (cv2.INTER_CUBIC, cv2.INTER_LANCZOS4)


def check_image(key: str, value: Any) -> np.ndarray:
    """An image as the pipeline takes it: uint8, or float32 in [0, 1] (float64 in [0, 1] converted),
    C-contiguous (a strided view is copied, so every output is contiguous as in Albumentations)."""
    if (
        type(value) is np.ndarray
        and value.dtype is _UINT8
        and value.ndim in (2, 3)
        and value.size
        and value.flags.c_contiguous
    ):
        return value  # the common case, accepted as it is (all the checks below pass for it)
    if not isinstance(value, np.ndarray):
        raise InputTypeError(
            f"{key}: expected a numpy array of shape (H, W) or (H, W, C), got {type(value).__name__}"
        )
    if value.ndim not in (2, 3):
        raise InputError(f"{key}: expected shape (H, W) or (H, W, C), got shape {value.shape}")
    if value.shape[0] == 0 or value.shape[1] == 0 or (value.ndim == 3 and value.shape[2] == 0):
        raise InputError(
            f"{key}: the image is empty (shape {value.shape}); expected height, width and channels >= 1"
        )
    if value.dtype == np.float64:
        if value.size and (not np.all(np.isfinite(value)) or value.min() < 0.0 or value.max() > 1.0):
            raise InputTypeError(
                f"{key}: float64 images are accepted only with values in [0, 1] (they are converted to "
                "float32); expected uint8, or float32 in [0, 1]"
            )
        return np.ascontiguousarray(value, dtype=np.float32)
    if value.dtype not in (np.uint8, np.float32):
        raise InputTypeError(
            f"{key}: dtype {value.dtype} is not supported; expected uint8 (0..255) or float32 (0..1)"
        )
    if value.dtype == np.float32 and not np.all(np.isfinite(value)):
        raise InputError(f"{key}: the image contains NaN or inf values")
    return np.ascontiguousarray(value)


#: Mask dtypes the kernels cannot warp, mapped to the dtype they travel in through the pipeline.
#: The conversion is lossless (checked per call for the integer ones) and the output is cast back
#: to the caller's dtype in :func:`collect`.
_MASK_CARRIERS: dict[np.dtype, np.dtype] = {
    np.dtype(np.uint32): np.dtype(np.int32),
    np.dtype(np.uint64): np.dtype(np.int32),
    np.dtype(np.int64): np.dtype(np.int32),
    np.dtype(np.float16): np.dtype(np.float32),
}
MASK_DTYPES = "bool, uint8, int8, uint16, int16, int32, uint32, int64, uint64, float16, float32 or float64"
_INT32 = np.iinfo(np.int32)


def _carried_mask(key: str, value: np.ndarray) -> np.ndarray:
    """``value`` in a dtype every kernel warps, without losing a value (or an InputError)."""
    carrier = _MASK_CARRIERS[value.dtype]
    if carrier.kind == "i" and value.size:
        low, high = int(value.min()), int(value.max())
        if low < _INT32.min or high > _INT32.max:
            raise InputError(
                f"{key}: {value.dtype} mask values must lie in the int32 range [{_INT32.min}, {_INT32.max}] "
                f"to be warped without loss, got values in [{low}, {high}]; relabel the mask (for example "
                "with numpy.unique(mask, return_inverse=True))"
            )
    return value.astype(carrier)


def _restore_mask_dtype(result: Any, original: Any) -> Any:
    """Cast masks carried in a wider kernel dtype (see ``_MASK_CARRIERS``) back to the caller's.

    Frames a transform added (pasted instances) take the dtype of the caller's first frame.
    """
    if isinstance(original, np.ndarray):
        wanted = original.dtype
    elif isinstance(original, (list, tuple)) and original and isinstance(original[0], np.ndarray):
        wanted = original[0].dtype
    else:
        return result
    if wanted not in _MASK_CARRIERS:
        return result
    if isinstance(result, np.ndarray):
        return result.astype(wanted)
    return [np.asarray(frame).astype(wanted) for frame in result]


def check_mask(key: str, value: Any) -> np.ndarray:
    """A mask as the pipeline takes it: any numeric or boolean (H, W) or (H, W, C) array,
    C-contiguous; dtypes the kernels cannot warp travel in a wider one (restored on output)."""
    if not isinstance(value, np.ndarray):
        raise InputTypeError(
            f"{key}: expected a numpy array of shape (H, W) or (H, W, C), got {type(value).__name__}"
        )
    if value.ndim not in (2, 3):
        raise InputError(f"{key}: expected shape (H, W) or (H, W, C), got shape {value.shape}")
    if value.shape[0] == 0 or value.shape[1] == 0:
        raise InputError(f"{key}: the mask is empty (shape {value.shape})")
    if not (np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_) or np.iscomplexobj(value):
        raise InputTypeError(
            f"{key}: expected a numeric or boolean mask ({MASK_DTYPES}), got dtype {value.dtype}"
        )
    if value.dtype in _MASK_CARRIERS:
        return _carried_mask(key, value)
    if value.dtype.kind not in "biuf" or value.dtype.itemsize > 8:
        raise InputTypeError(f"{key}: mask dtype {value.dtype} is not supported; expected {MASK_DTYPES}")
    return np.ascontiguousarray(value)


def _blank(like: np.ndarray, shape: Shape, fill: Any) -> np.ndarray:
    """A new ``shape``-sized array like ``like`` (channels, dtype) filled with ``fill``."""
    out = np.zeros((*shape, *like.shape[2:]), dtype=like.dtype)
    values = np.asarray(fill, dtype=np.float64).reshape(-1)
    if like.dtype == np.uint8:
        values = np.clip(np.rint(values), 0, 255)
    if like.ndim == 3 and len(values) > 1:
        out[:] = np.resize(values, like.shape[2]).astype(like.dtype)
    else:
        out[:] = values[0]
    return out


class _Plane(TargetKind):
    """One array of the image's size: the shared part of images and masks."""

    resampled = True
    is_image: ClassVar[bool]

    def size(self, value: Any) -> Shape | None:
        return int(value.shape[0]), int(value.shape[1])

    def resample(self, value: np.ndarray, geometry: Geometry, resampling: Resampling) -> np.ndarray:
        raise NotImplementedError

    def fill_of(self, resampling: Resampling) -> Any:
        return resampling.fill if self.is_image else resampling.fill_mask

    def warp(self, key: str, value: Any, effect: Warp, call: CallView) -> Any:
        return self.resample(value, effect.geometry, effect.resampling)

    def window(self, value: Any, y0: int, y1: int, x0: int, x1: int) -> Any:
        return value[y0:y1, x0:x1]

    def paint(self, value: Any, outside: np.ndarray, resampling: Resampling) -> Any:
        return kg.fill_where(value, outside, self.fill_of(resampling))

    def piece_source(self, item: Item) -> np.ndarray | None:
        raise NotImplementedError

    def paste(self, key: str, value: Any, effect: Paste, call: CallView) -> Any:
        return self.paste_array(value, effect, call.is_main(key))

    def paste_array(self, value: np.ndarray, effect: Paste, main: bool) -> np.ndarray:
        """The canvas of one array. ``main``: the key other samples contribute to; elsewhere an
        opaque piece of another sample covers with the fill (there is nothing of it to show)."""
        fill = effect.fill if self.is_image else effect.fill_mask
        canvas = value.copy() if effect.keep_base else _blank(value, effect.shape, fill)
        for piece in effect.pieces:
            if piece.source is None:
                source: np.ndarray | None = value
            elif main:
                source = self.piece_source(piece.source)
            elif piece.alpha is None:
                source = None
            else:
                continue  # a blend of nothing
            x0, y0, x1, y1 = piece.rect
            target = canvas[y0:y1, x0:x1]
            if source is None:  # nothing to show there (another sample without a mask)
                placed = _blank(target, target.shape[:2], fill)
            elif piece.geometry.is_identity():
                placed = source.reshape(target.shape)
            else:
                placed = self.resample(source, piece.geometry, piece.resampling).reshape(target.shape)
            if placed.dtype != target.dtype:
                placed = placed.astype(target.dtype)
            canvas[y0:y1, x0:x1] = self.combine(target, placed, piece)
        return canvas

    def combine(self, under: np.ndarray, placed: np.ndarray, piece: Piece) -> np.ndarray:
        if piece.alpha is not None:
            return self.blend(under, placed, piece.alpha)
        if piece.region is None:
            return placed
        out = under.copy()
        out[piece.region] = placed[piece.region]
        return out

    def blend(self, under: np.ndarray, placed: np.ndarray, alpha: float) -> np.ndarray:
        raise NotImplementedError


class ImageKind(_Plane):
    """``image``: pixels change, geometry resamples with the transform's interpolation."""

    name = "image"
    is_image = True

    def read(self, key: str, value: Any, data: Mapping[str, Any], config: TargetConfig, shape: Shape) -> Any:
        return check_image(key, value)

    def resample(self, value: np.ndarray, geometry: Geometry, resampling: Resampling) -> np.ndarray:
        out = geometry.warp(value, resampling.interpolation, resampling.border_mode, resampling.fill)
        if resampling.interpolation in _OVERSHOOTING and out.dtype == np.float32:
            # Cubic and Lanczos kernels ring past the input's range; float images stay in [0, 1].
            np.clip(out, 0.0, 1.0, out=out)
        return out

    def pixels(self, key: str, value: Any, effect: Pixels, call: CallView) -> Any:
        return value if effect.image is None else effect.image(value)

    def occlusion(self, key: str, value: Any, effect: Occlusion, call: CallView) -> Any:
        return effect.image(value)

    def piece_source(self, item: Item) -> np.ndarray | None:
        return item.image

    def blend(self, under: np.ndarray, placed: np.ndarray, alpha: float) -> np.ndarray:
        return blend(under, placed, alpha)


class MaskKind(_Plane):
    """``mask``: nearest-neighbour (or the mask interpolation) under geometry; pixel effects only
    when they say what they do to masks."""

    name = "mask"
    is_image = False

    def read(self, key: str, value: Any, data: Mapping[str, Any], config: TargetConfig, shape: Shape) -> Any:
        return check_mask(key, value)

    def write(
        self, key: str, value: Any, call: CallView, out: dict[str, Any], data: Mapping[str, Any]
    ) -> None:
        out[key] = _restore_mask_dtype(value, data[key])

    def resample(self, value: np.ndarray, geometry: Geometry, resampling: Resampling) -> np.ndarray:
        return geometry.warp(
            value, resampling.mask_interpolation, resampling.border_mode, resampling.fill_mask
        )

    def pixels(self, key: str, value: Any, effect: Pixels, call: CallView) -> Any:
        return value if effect.mask is None else effect.mask(value)

    def occlusion(self, key: str, value: Any, effect: Occlusion, call: CallView) -> Any:
        return value if effect.mask is None else effect.mask(value)

    def piece_source(self, item: Item) -> np.ndarray | None:
        return item.mask

    def blend(self, under: np.ndarray, placed: np.ndarray, alpha: float) -> np.ndarray:
        # Labels do not blend: the sample with the larger weight wins where it is not background.
        top, bottom = (under, placed) if alpha >= 0.5 else (placed, under)
        return np.where(top != 0, top, bottom)


def read_stack(
    key: str, value: Any, ndims: tuple[int, ...], layout: str, items: str, check: Callable[[str, Any], Any]
) -> Frames:
    """A stack given as one array (of ``ndims`` dimensions, ``layout``) or a list of ``items``,
    each checked by ``check(where, item)``, as :class:`Frames`."""
    if isinstance(value, np.ndarray):
        if value.ndim not in ndims:
            raise InputError(f"{key}: expected an array of shape {layout}, got shape {value.shape}")
    elif not isinstance(value, (list, tuple)):
        raise InputTypeError(
            f"{key}: expected a list of {items} or one stacked array, got {type(value).__name__}"
        )
    frames = Frames.of(value)
    frames.frames = [check(f"{key}[{i}]", item) for i, item in enumerate(frames)]
    return frames


class _Stack(TargetKind):
    """A stack of frames of one plane kind: every effect applies frame by frame."""

    resampled = True
    plane: ClassVar[_Plane]

    def read(self, key: str, value: Any, data: Mapping[str, Any], config: TargetConfig, shape: Shape) -> Any:
        return read_stack(
            key, value, (3, 4), "(N, H, W) or (N, H, W, C)", "arrays",
            lambda where, frame: self.plane.read(where, frame, data, config, shape),
        )  # fmt: skip

    def write(
        self, key: str, value: Any, call: CallView, out: dict[str, Any], data: Mapping[str, Any]
    ) -> None:
        out[key] = value.output() if isinstance(value, Frames) else value

    def size(self, value: Any) -> Shape | None:
        return self.plane.size(value[0]) if isinstance(value, Frames) and len(value) else None

    def frame_sizes(self, key: str, value: Frames) -> list[tuple[str, Shape]]:
        return [(f"{key}[{i}]", (int(f.shape[0]), int(f.shape[1]))) for i, f in enumerate(value)]

    def warp(self, key: str, value: Any, effect: Warp, call: CallView) -> Any:
        return value.map(lambda frame: self.plane.resample(frame, effect.geometry, effect.resampling))

    def window(self, value: Any, y0: int, y1: int, x0: int, x1: int) -> Any:
        return value.map(lambda frame: frame[y0:y1, x0:x1])

    def paint(self, value: Any, outside: np.ndarray, resampling: Resampling) -> Any:
        return value.map(lambda frame: self.plane.paint(frame, outside, resampling))

    def occlusion(self, key: str, value: Any, effect: Occlusion, call: CallView) -> Any:
        return value.map(lambda frame: self.plane.occlusion(key, frame, effect, call))

    def paste(self, key: str, value: Any, effect: Paste, call: CallView) -> Any:
        # Frames belong to this sample: other samples have none to give.
        return value.map(lambda frame: self.plane.paste_array(frame, effect, False))


def _whole_stack(value: Frames, func: Callable[[np.ndarray], Any], shape: Shape) -> Any:
    """A stack-level function's result: frames again when it returns an array; anything else (a
    tensor from a conversion step) is kept whole when the caller passed one stacked array."""
    out = func(value.as_array(shape))
    if isinstance(out, np.ndarray) or not value.stacked:
        return Frames(list(out), value.stacked, value.empty)
    return out


class ImagesKind(_Stack):
    """``images``: frames of a video or a multi-view sample, each treated as an ``image``."""

    name = "images"
    plane = ImageKind()

    def pixels(self, key: str, value: Any, effect: Pixels, call: CallView) -> Any:
        if effect.images is not None and len(value):
            return _whole_stack(value, effect.images, call.shape)
        return value if effect.image is None else value.map(effect.image)


class MasksKind(_Stack):
    """``masks``: several masks (instance masks, or one per class), each treated as a ``mask``.

    Under a :class:`~invariance.core.effects.Paste` the main ``masks`` target holds instances:
    the masks of every placed sample are appended in order, so masks paired with boxes stay paired.
    """

    name = "masks"
    plane = MaskKind()

    def write(
        self, key: str, value: Any, call: CallView, out: dict[str, Any], data: Mapping[str, Any]
    ) -> None:
        out[key] = _restore_mask_dtype(value.output() if isinstance(value, Frames) else value, data[key])

    def pixels(self, key: str, value: Any, effect: Pixels, call: CallView) -> Any:
        if effect.masks is not None and len(value):
            return _whole_stack(value, effect.masks, call.shape)
        return value if effect.mask is None else value.map(effect.mask)

    def paste(self, key: str, value: Any, effect: Paste, call: CallView) -> Any:
        if not call.is_main(key):
            return super().paste(key, value, effect, call)
        frames: list[np.ndarray] = []
        if effect.keep_base:
            hidden = _opaque_cover(effect)
            frames = [f if hidden is None else kg.fill_where(f, hidden, 0) for f in value]
        dtype = value[0].dtype if len(value) else None
        for piece in effect.pieces:
            if piece.source is None:
                if effect.keep_base:
                    continue  # the base's own masks are in already
                sources = list(value)
            else:
                sources = list(piece.source.masks or [])
            frames.extend(self._placed(np.asarray(m), piece, effect.shape, dtype) for m in sources)
        return Frames(frames, value.stacked, value.empty)

    def _placed(self, source: np.ndarray, piece: Piece, shape: Shape, dtype: np.dtype | None) -> np.ndarray:
        """One instance mask of a piece on an empty canvas of ``shape``."""
        canvas = _blank(source if dtype is None else source.astype(dtype, copy=False), shape, 0)
        x0, y0, x1, y1 = piece.rect
        target = canvas[y0:y1, x0:x1]
        moved = (
            source
            if piece.geometry.is_identity()
            else self.plane.resample(source, piece.geometry, piece.resampling)
        )
        moved = moved.reshape(target.shape)
        if piece.region is not None:
            region = piece.region.reshape(piece.region.shape + (1,) * (moved.ndim - 2))
            moved = np.where(region, moved, 0)
        canvas[y0:y1, x0:x1] = moved.astype(canvas.dtype, copy=False)
        return canvas


def _opaque_cover(effect: Paste) -> np.ndarray | None:
    """Where the opaque pieces of a paste cover the base (None when nothing is covered)."""
    covers = [p.hidden(effect.shape) for p in effect.pieces if p.alpha is None and p.source is not None]
    if not covers:
        return None
    return np.logical_or.reduce(covers) if len(covers) > 1 else covers[0]


# ----------------------------------------------------------------------------------------------
# Rows: boxes and keypoints


def _label_data(key: str, fields: list[str], data: Mapping[str, Any], count: int) -> dict[str, Any] | None:
    """The label fields of the main rows target, checked against its row count."""
    if key not in ("bboxes", "keypoints"):
        return None
    for name in fields:
        if name not in data:
            raise InputError(
                f"label field {name!r} is declared for {key} but was not passed; call with {name}=[...] "
                f"holding one label per row of {key}"
            )
        values = data[name]
        try:
            length = len(values)
        except TypeError:
            raise InputTypeError(
                f"label field {name!r} must be a list or array, got {type(values).__name__}"
            ) from None
        if length != count:
            raise InputError(
                f"label field {name!r} has {length} entries but {key} has {count} rows; expected one label per row"
            )
    return {name: data[name] for name in fields}


def _row_count(key: str, value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        raise InputTypeError(
            f"{key}: expected a list or a numpy array of rows, got {type(value).__name__}"
        ) from None


def _shifted(rows: RowSet, dx: float, dy: float, is_box: bool) -> Any:
    if dx == 0 and dy == 0:
        return rows
    offset = np.array([dx, dy, dx, dy] if is_box else [dx, dy, 0.0, 0.0], dtype=np.float64)
    return rows.with_coords(rows.coords + offset)


def concat_rows(first: RowSet, others: Sequence[RowSet]) -> Any:
    """``first`` followed by ``others``; empty sets are left out (labels follow their rows)."""
    parts = [rows for rows in (first, *others) if len(rows)]
    if not parts:
        return first
    if parts[0] is not first:
        # Keep the primary's layout (the output container and dtypes are the caller's).
        parts[0] = type(first)(parts[0].coords, parts[0].extras, parts[0].labels, first.layout)
    return parts[0].concat(*parts[1:]) if len(parts) > 1 else parts[0]


class BoxesKind(TargetKind):
    """``bboxes``: boxes in the continuous frame, clipped and filtered by BboxParams; labels follow.

    Under a warp the box outline (corners, a dense border for curved maps, or the inscribed
    ellipse) moves through the map. In a fused chain the outline is carried from step to step
    and re-boxed once per step from the carried points, so boxes do not grow loose through a
    chain of rotations.
    """

    name = "bboxes"
    needs_shape = True
    final_pass = True

    def read(self, key: str, value: Any, data: Mapping[str, Any], config: TargetConfig, shape: Shape) -> Any:
        params = config.bbox_params
        if params is None:
            raise InputError(
                f"{key} were passed but the pipeline has no bbox_params; pass bbox_params=A.BboxParams(format=...) to Compose"
            )
        labels = _label_data(key, params.label_fields, data, _row_count(key, value))
        boxes = read_boxes(value, key, params, shape, labels)
        if key == "bboxes" and params.instance_masks is not None:
            boxes.labels[INSTANCE] = np.arange(len(boxes))
        return boxes

    def write(
        self, key: str, value: Any, call: CallView, out: dict[str, Any], data: Mapping[str, Any]
    ) -> None:
        params = call.config.bbox_params
        assert params is not None
        out[key] = write_boxes(value, params, call.shape)
        if key == "bboxes":
            for name in params.label_fields:
                out[name] = labels_like(value.labels[name], data[name])

    # -- filtering ---------------------------------------------------------------------------

    def keep(
        self, key: str, coords: np.ndarray, shape: Shape, call: CallView
    ) -> tuple[np.ndarray, np.ndarray]:
        """Boxes clipped to ``shape`` and which of them pass BboxParams (drops are reported)."""
        params = call.config.bbox_params
        assert params is not None
        clipped, keep = filter_boxes(coords, shape, params)
        if call.reports_drops and not keep.all():
            for reason, count in box_drop_reasons(coords, clipped, keep, params).items():
                call.dropped(key, reason, count)
        return clipped, keep

    def _checks_each(self, call: CallView) -> bool:
        params = call.config.bbox_params
        return params is not None and params.check_each_transform

    def finish(self, key: str, boxes: BoxSet, call: CallView) -> BoxSet:
        clipped, keep = self.keep(key, boxes.coords, call.shape, call)
        return boxes.with_coords(clipped).take(keep)

    # -- effects -----------------------------------------------------------------------------

    def warp(self, key: str, value: Any, effect: Warp, call: CallView) -> Any:
        geometry, method = effect.geometry, effect.resampling.bbox_method
        out_shape = geometry.out_shape
        outline = call.outlines.get(key)
        if isinstance(outline, DeferredOutline):
            outline = outline.materialized()
        mirrored = reflects(effect, value)
        if not call.fusing or outline is None:
            # Step by step, or the first warp of a chain: the box is the image of its outline
            # (exact for maps that keep boxes upright; analytic bounds for affine maps).
            originals = len(value)
            if mirrored:  # the border shows mirror images: their boxes come too, where visible
                value, _, originals = mirrored_boxes(
                    value, None, effect.resampling.border_mode, geometry.in_shape
                )
            before = value.coords
            coords = map_boxes(geometry, before, method)
            boxes = value.with_coords(coords)
            if mirrored:
                seen = _seen(coords, out_shape, originals)
                boxes, coords, before = boxes.take(seen), coords[seen], before[seen]
            frame = None
            if self._checks_each(call):
                clipped, keep = self.keep(key, coords, out_shape, call)
                boxes = boxes.with_coords(clipped).take(keep)
                before, frame = before[keep], out_shape
            if call.fusing and not geometry.keeps_boxes_upright():
                # A turn starts the outline, built only if another warp follows in the chain.
                call.outlines[key] = DeferredOutline(before, geometry, method, frame)
            return boxes
        # A fused chain: carry each box's outline polygon from step to step (mapped exactly, cut
        # by each frame it crosses) and re-box it from those points. The cut to this step's frame
        # waits until another warp comes: at the end of a chain the box is the clipped bounds of
        # the polygon (as step by step), and the polygon work is only done where it tightens.
        if outline is None or len(outline) != len(value):
            outline = Outline.of(value.coords, method)
        else:
            outline = outline.cut()
        if mirrored:
            value, carried, originals = mirrored_boxes(
                value, outline, effect.resampling.border_mode, geometry.in_shape
            )
            assert carried is not None
            outline = carried
        if not geometry.preserves_lines:
            outline = outline.densified()
        moved = outline.mapped(geometry)
        coords = moved.bounds() if len(value) else value.coords
        if mirrored:
            seen = _seen(coords, out_shape, originals)
            value, coords, moved = value.take(seen), coords[seen], Outline(moved.points[seen], moved.dense)
        boxes = value.with_coords(coords)
        if self._checks_each(call) and len(value):
            clipped, keep = self.keep(key, coords, out_shape, call)
            boxes = boxes.with_coords(clipped).take(keep)
            moved = moved.take(keep, cut_to=out_shape)
        call.outlines[key] = moved
        return boxes

    def occlusion(self, key: str, value: Any, effect: Occlusion, call: CallView) -> Any:
        if call.config.bbox_params is None or len(value) == 0 or not effect.hidden.any():
            return value
        return value.take(self._visible(key, value.coords, effect.hidden, call))

    def _visible(
        self, key: str, coords: np.ndarray, hidden: np.ndarray, call: CallView, floor: float = 0.0
    ) -> np.ndarray:
        """Which boxes keep enough visible area (at least ``floor`` too) when ``hidden`` is covered."""
        params = call.config.bbox_params
        assert params is not None
        h, w = hidden.shape
        # Summed-area table with a zero first row and column (OpenCV's layout), int32 counts.
        integral = cv2.integral(hidden.view(np.uint8))
        c = np.round(coords).astype(np.int64)
        c[:, [0, 2]] = np.clip(c[:, [0, 2]], 0, w)
        c[:, [1, 3]] = np.clip(c[:, [1, 3]], 0, h)
        x0, y0, x1, y1 = c.T
        covered = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
        area = (x1 - x0) * (y1 - y0)
        remaining = area - covered
        with np.errstate(divide="ignore", invalid="ignore"):
            visible = np.where(area > 0, remaining / area, 1.0)
        seen = (remaining > 0) | (area == 0)
        enough = visible >= max(params.min_visibility, floor)
        large = remaining >= params.min_area
        for reason, failed in (("occluded", ~seen), ("min_visibility", seen & ~enough),
                               ("min_area", seen & enough & ~large)):  # fmt: skip
            if failed.any():
                call.dropped(key, reason, int(failed.sum()))
        keep: np.ndarray = seen & enough & large
        return keep

    def rows(self, key: str, value: Any, effect: MoveRows, call: CallView) -> Any:
        if effect.boxes is None:
            return value
        boxes = effect.boxes(value, call.shape)
        if effect.filter and self._checks_each(call):
            clipped, keep = self.keep(key, boxes.coords, call.shape, call)
            boxes = boxes.with_coords(clipped).take(keep)
        return boxes

    def paste(self, key: str, value: Any, effect: Paste, call: CallView) -> Any:
        params = call.config.bbox_params
        paired = key == "bboxes" and call.paired_masks() is not None
        own_masks = call.instance_count() if paired else 0
        # Instance ids follow the order in which MasksKind.paste lays out the masks: the base's,
        # then each piece's.
        next_id = own_masks if effect.keep_base else 0
        base = (
            self._under_pieces(key, value, effect, call)
            if effect.keep_base
            else value.take(np.zeros(0, dtype=np.int64))
        )
        parts: list[BoxSet] = []
        for piece in effect.pieces:
            if piece.source is None:
                if effect.keep_base:
                    continue
                rows, count = value, own_masks
            else:
                count = len(piece.source.masks or [])
                if piece.source.boxes is None or not call.is_main(key):
                    next_id += count
                    continue
                rows = piece.source.boxes
                if paired:
                    rows = _with_ids(rows, np.arange(len(rows)))
            if paired:
                rows = _with_ids(rows, rows.labels[INSTANCE] + next_id)
            next_id += count
            moved = rows.with_coords(map_boxes(piece.geometry, rows.coords, piece.resampling.bbox_method))
            x0, y0, x1, y1 = piece.rect
            if params is not None and len(moved):
                clipped, keep = self.keep(key, moved.coords, (y1 - y0, x1 - x0), call)
                moved = moved.with_coords(clipped).take(keep)
            parts.append(_shifted(moved, x0, y0, True))
        return concat_rows(base, parts)

    def _under_pieces(self, key: str, value: BoxSet, effect: Paste, call: CallView) -> BoxSet:
        """The base boxes once opaque pieces cover part of them."""
        hidden = _opaque_cover(effect)
        if hidden is None or len(value) == 0 or call.config.bbox_params is None:
            return value
        params = call.config.bbox_params
        instances = call.instances_for(key, value)
        if instances is None:
            return value.take(self._visible(key, value.coords, hidden, call, effect.min_visibility))
        # Boxes follow what is left of their instance masks.
        from invariance.kernels.mixing import masks_to_boxes

        before = instances.sum(axis=(1, 2))
        remaining = instances & ~hidden
        after = remaining.sum(axis=(1, 2))
        tight, _ = masks_to_boxes(remaining)
        had = before > 0
        coords = np.where(had[:, None], tight, value.coords)
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.where(had, after / np.maximum(before, 1), 1.0)
        seen = ~had | (after > 0)
        enough = ~had | (fraction >= max(params.min_visibility, effect.min_visibility))
        large = ~had | (after >= params.min_area)
        for reason, failed in (("occluded", ~seen), ("min_visibility", seen & ~enough),
                               ("min_area", seen & enough & ~large)):  # fmt: skip
            if failed.any():
                call.dropped(key, reason, int(failed.sum()))
        return value.with_coords(coords).take(seen & enough & large)


class Outline:
    """Box outlines carried through a fused chain: ``points`` is ``(N, K, 2)``, one polygon per
    box with its vertices in order (a polygon with fewer than K vertices repeats its last one).

    Points are mapped exactly by each step, so no looseness builds up; a polygon that crosses a
    frame is cut to it (Sutherland-Hodgman against the frame's four sides), so content a step
    lost does not come back into the box when a later step zooms out. ``dense`` outlines sample
    each edge finely, for maps that bend lines. Everything is vectorized over the boxes.
    """

    __slots__ = ("dense", "frame", "points")

    def __init__(self, points: np.ndarray, dense: bool, frame: Shape | None = None) -> None:
        self.points = points
        self.dense = dense
        self.frame = frame  # a frame the polygons still have to be cut to (see cut)

    def __len__(self) -> int:
        return len(self.points)

    def take(self, keep: np.ndarray, cut_to: Shape) -> Outline:
        """The kept polygons, to be cut to the frame ``cut_to`` before they move again."""
        return Outline(self.points[keep], self.dense, cut_to)

    def cut(self) -> Outline:
        """The polygons cut to their pending frame (themselves when none is pending)."""
        if self.frame is None:
            return self
        return self._cut_to(self.frame)

    @classmethod
    def of(cls, boxes: np.ndarray, method: str) -> Outline:
        if method == "ellipse":
            return cls(box_outline(boxes, "ellipse", True), True)
        x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
        corners = np.stack([x0, y0, x1, y0, x1, y1, x0, y1], axis=1).reshape(-1, 4, 2)
        return cls(corners, False)

    def densified(self) -> Outline:
        """Each straight edge sampled at 16 points (before a map that bends lines)."""
        if self.dense:
            return self
        t = np.linspace(0.0, 1.0, 16, endpoint=False)[None, None, :, None]
        ends = np.roll(self.points, -1, axis=1)
        dense = self.points[:, :, None, :] + (ends - self.points)[:, :, None, :] * t
        n, k, _ = self.points.shape
        return Outline(dense.reshape(n, k * 16, 2), True)

    def mapped(self, geometry: Geometry) -> Outline:
        n, k, _ = self.points.shape
        if n == 0:
            return self
        return Outline(geometry.map_points(self.points.reshape(n * k, 2)).reshape(n, k, 2), self.dense)

    def bounds(self) -> np.ndarray:
        return np.concatenate([self.points.min(axis=1), self.points.max(axis=1)], axis=1)

    def _cut_to(self, shape: Shape) -> Outline:
        """The polygons, each cut to the frame ``[0, W] x [0, H]``."""
        h, w = shape
        points = self.points
        x, y = points[..., 0], points[..., 1]
        crossing = ((x < 0) | (x > w) | (y < 0) | (y > h)).any(axis=1)
        if not crossing.any():
            return Outline(points, self.dense)
        if points.shape[1] == 4:
            # An axis-aligned rectangle (every edge horizontal or vertical: a box so far moved by
            # flips, quarter turns, crops and resizes) cut to the frame is its clamped corners.
            edges = np.roll(points, -1, axis=1) - points
            upright = crossing & ((edges[..., 0] == 0) | (edges[..., 1] == 0)).all(axis=1)
            if upright.any():
                points = points.copy()
                points[upright, :, 0] = np.clip(points[upright, :, 0], 0, w)
                points[upright, :, 1] = np.clip(points[upright, :, 1], 0, h)
                crossing = crossing & ~upright
                if not crossing.any():
                    return Outline(points, self.dense)
        cut = points[crossing]
        for axis, limit, sign in ((0, 0.0, 1.0), (0, float(w), -1.0), (1, 0.0, 1.0), (1, float(h), -1.0)):
            cut = _cut(cut, axis, limit, sign)
        width = max(points.shape[1], cut.shape[1])
        out = np.empty((len(points), width, 2))
        out[~crossing] = _padded(points[~crossing], width)
        out[crossing] = _padded(cut, width)
        return Outline(out, self.dense)


class DeferredOutline:
    """The outline a chain's first turn would carry, not built yet: the boxes before the turn,
    the turn and the frame to cut to. Most chains end at their first turn, and then the boxes of
    that step (analytic bounds) are all anyone needs."""

    __slots__ = ("before", "frame", "geometry", "method")

    def __init__(self, before: np.ndarray, geometry: Geometry, method: str, frame: Shape | None) -> None:
        self.before = before
        self.geometry = geometry
        self.method = method
        self.frame = frame

    def __len__(self) -> int:
        return len(self.before)

    def materialized(self) -> Outline:
        outline = Outline.of(self.before, self.method)
        if not self.geometry.preserves_lines:
            outline = outline.densified()
        moved = outline.mapped(self.geometry)
        return Outline(moved.points, moved.dense, self.frame)


def _padded(points: np.ndarray, width: int) -> np.ndarray:
    """``(M, K, 2)`` polygons widened to ``width`` vertices by repeating each one's last vertex."""
    k = points.shape[1]
    if k == width:
        return points
    return np.concatenate([points, np.repeat(points[:, -1:], width - k, axis=1)], axis=1)


def _cut(polygons: np.ndarray, axis: int, limit: float, sign: float) -> np.ndarray:
    """Each polygon's part where ``sign * (p[axis] - limit) >= 0``: one Sutherland-Hodgman pass,
    for ``(M, K, 2)`` polygons at once. A polygon cut away entirely collapses to the origin."""
    side = sign * (polygons[..., axis] - limit)
    inside = side >= 0
    if inside.all():
        return polygons
    following = np.roll(polygons, -1, axis=1)
    side_next = np.roll(side, -1, axis=1)
    crosses = inside != (side_next >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(crosses, side / (side - side_next), 0.0)
    crossing = polygons + (following - polygons) * t[..., None]
    # Each vertex contributes itself (when inside) then the crossing of its outgoing edge.
    m, k, _ = polygons.shape
    candidates = np.stack([polygons, crossing], axis=2).reshape(m, 2 * k, 2)
    chosen = np.stack([inside, crosses], axis=2).reshape(m, 2 * k)
    counts = chosen.sum(axis=1)
    order = np.argsort(~chosen, axis=1, kind="stable")
    ordered = np.take_along_axis(candidates, order[..., None], axis=1)
    width = max(int(counts.max()), 1)
    ordered = ordered[:, :width]
    # Rows with fewer vertices repeat their last one; an empty row collapses to the origin.
    column = np.arange(width)[None, :]
    last = np.maximum(counts - 1, 0)[:, None]
    ordered = np.take_along_axis(ordered, np.minimum(column, last)[..., None], axis=1)
    ordered[counts == 0] = 0.0
    return ordered


# -- reflected copies under a reflective border ---------------------------------------------------

#: Border modes that fill the outside with mirror images of the input (OpenCV flags).
_REFLECTIVE = {cv2.BORDER_REFLECT: 0.0, cv2.BORDER_REFLECT_101: 1.0}


def reflects(effect: Warp, rows: RowSet) -> bool:
    """True when a warp's border shows mirror images of the input, so objects near an edge have
    visible mirrored copies. Rows paired with instance masks are left alone (a mirrored copy
    would need a mask of its own)."""
    return effect.resampling.border_mode in _REFLECTIVE and len(rows) > 0 and INSTANCE not in rows.labels


def _mirror_maps(
    border_mode: int, shape: Shape, pixel_index: bool
) -> list[tuple[float, float, float, float]]:
    """The eight mirror images around a frame, as ``(sx, tx, sy, ty)``: ``x -> sx * x + tx``.

    OpenCV's ``BORDER_REFLECT`` mirrors about the frame's edge lines (the edge pixel repeats),
    ``BORDER_REFLECT_101`` about the centres of the edge pixels. In the continuous frame (boxes)
    the left mirror is ``x -> a - x`` and the right one ``x -> 2 w - a - x``, with ``a`` 0 or 1;
    keypoints (pixel indices, centres at integers) are half a pixel to the left of that.
    """
    h, w = shape
    a = _REFLECTIVE[border_mode]
    shift = -1.0 if pixel_index else 0.0
    xs = [(1.0, 0.0), (-1.0, a + shift), (-1.0, 2.0 * w - a + shift)]
    ys = [(1.0, 0.0), (-1.0, a + shift), (-1.0, 2.0 * h - a + shift)]
    return [(sx, tx, sy, ty) for sx, tx in xs for sy, ty in ys if (sx, sy) != (1.0, 1.0)]


def mirrored_boxes(
    boxes: BoxSet, outline: Outline | None, border_mode: int, shape: Shape
) -> tuple[BoxSet, Outline | None, int]:
    """``boxes`` followed by their eight mirror images (same labels), and the outline likewise;
    also returns how many originals lead the result."""
    n = len(boxes)
    maps = _mirror_maps(border_mode, shape, pixel_index=False)
    coords = [boxes.coords]
    outlines = [outline.points] if outline is not None else []
    for sx, tx, sy, ty in maps:
        x0, x1 = sx * boxes.coords[:, 0] + tx, sx * boxes.coords[:, 2] + tx
        y0, y1 = sy * boxes.coords[:, 1] + ty, sy * boxes.coords[:, 3] + ty
        coords.append(
            np.stack([np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1), np.maximum(y0, y1)], 1)
        )
        if outline is not None:
            points = outline.points.copy()
            points[..., 0] = sx * points[..., 0] + tx
            points[..., 1] = sy * points[..., 1] + ty
            outlines.append(points)
    copies = boxes.take(np.tile(np.arange(n), len(maps) + 1)).with_coords(np.concatenate(coords))
    carried = Outline(np.concatenate(outlines), outline.dense) if outline is not None else None
    return copies, carried, n


def mirrored_points(points: PointSet, border_mode: int, shape: Shape) -> tuple[PointSet, int]:
    """``points`` followed by their eight mirror images; a mirror turns the angle with it."""
    n = len(points)
    maps = _mirror_maps(border_mode, shape, pixel_index=True)
    coords = [points.coords]
    for sx, tx, sy, ty in maps:
        c = points.coords.copy()
        c[:, 0] = sx * c[:, 0] + tx
        c[:, 1] = sy * c[:, 1] + ty
        # A mirror across a vertical line sends angle a to pi - a; across a horizontal one, to -a.
        angle = c[:, 2]
        if sx < 0:
            angle = np.pi - angle
        if sy < 0:
            angle = -angle
        c[:, 2] = np.mod(angle, 2 * np.pi)
        coords.append(c)
    return points.take(np.tile(np.arange(n), len(maps) + 1)).with_coords(np.concatenate(coords)), n


def _seen(coords: np.ndarray, shape: Shape, originals: int) -> np.ndarray:
    """Keep every original box, and each mirrored copy that overlaps the frame with some area."""
    h, w = shape
    overlap = (np.minimum(coords[:, 2], w) > np.maximum(coords[:, 0], 0)) & (
        np.minimum(coords[:, 3], h) > np.maximum(coords[:, 1], 0)
    )
    overlap[:originals] = True
    return overlap


def _with_ids(rows: BoxSet, ids: np.ndarray) -> BoxSet:
    """The same rows with new instance ids (a new labels dict: rows are shared, never edited)."""
    out = rows.with_coords(rows.coords)
    out.labels = {**rows.labels, INSTANCE: ids}
    return out


class KeypointsKind(TargetKind):
    """``keypoints``: position, angle and scale move with geometry; those leaving the image (or
    hidden) are removed when KeypointParams ``remove_invisible``; labels follow."""

    name = "keypoints"
    needs_shape = True
    final_pass = True

    def read(self, key: str, value: Any, data: Mapping[str, Any], config: TargetConfig, shape: Shape) -> Any:
        params = config.keypoint_params
        if params is None:
            raise InputError(
                f"{key} were passed but the pipeline has no keypoint_params; pass keypoint_params=A.KeypointParams(format=...) to Compose"
            )
        labels = _label_data(key, params.label_fields, data, _row_count(key, value))
        return read_keypoints(value, key, params, labels)

    def write(
        self, key: str, value: Any, call: CallView, out: dict[str, Any], data: Mapping[str, Any]
    ) -> None:
        params = call.config.keypoint_params
        assert params is not None
        out[key] = write_keypoints(value, params)
        if key == "keypoints":
            for name in params.label_fields:
                out[name] = labels_like(value.labels[name], data[name])

    def _removes(self, call: CallView) -> bool:
        params = call.config.keypoint_params
        return params is not None and params.remove_invisible

    def visible(self, key: str, points: PointSet, shape: Shape, call: CallView) -> PointSet:
        """The keypoints inside an image of ``shape`` (all of them unless ``remove_invisible``)."""
        if not self._removes(call) or len(points) == 0:
            return points
        inside = keypoints_visible(points.coords, shape)
        if not inside.all():
            call.dropped(key, "out_of_frame", int((~inside).sum()))
            return points.take(inside)
        return points

    def finish(self, key: str, points: PointSet, call: CallView) -> PointSet:
        return self.visible(key, points, call.shape, call)

    def warp(self, key: str, value: Any, effect: Warp, call: CallView) -> Any:
        if reflects(effect, value):
            # The border shows mirror images: their keypoints come too, where they land inside.
            value, originals = mirrored_points(value, effect.resampling.border_mode, effect.geometry.in_shape)
            points = value.with_coords(map_keypoints(effect.geometry, value.coords))
            inside = keypoints_visible(points.coords, effect.geometry.out_shape)
            inside[:originals] = True
            points = points.take(inside)
        else:
            points = value.with_coords(map_keypoints(effect.geometry, value.coords))
        params = call.config.keypoint_params
        if params is not None and params.check_each_transform:
            points = self.visible(key, points, effect.geometry.out_shape, call)
        return points

    def occlusion(self, key: str, value: Any, effect: Occlusion, call: CallView) -> Any:
        if not self._removes(call) or len(value) == 0:
            return value
        hit = points_on(value, effect.hidden)
        if hit.any():
            call.dropped(key, "occluded", int(hit.sum()))
            return value.take(~hit)
        return value

    def rows(self, key: str, value: Any, effect: MoveRows, call: CallView) -> Any:
        if effect.points is None:
            return value
        points = effect.points(value, call.shape)
        params = call.config.keypoint_params
        if effect.filter and params is not None and params.check_each_transform:
            points = self.visible(key, points, call.shape, call)
        return points

    def paste(self, key: str, value: Any, effect: Paste, call: CallView) -> Any:
        base = value.take(np.zeros(0, dtype=np.int64))
        if effect.keep_base:
            hidden = _opaque_cover(effect)
            base = value
            if hidden is not None and self._removes(call) and len(value):
                hit = points_on(value, hidden)
                if hit.any():
                    call.dropped(key, "occluded", int(hit.sum()))
                    base = value.take(~hit)
        parts: list[PointSet] = []
        for piece in effect.pieces:
            if piece.source is None:
                if effect.keep_base:
                    continue
                rows = value
            elif call.is_main(key) and piece.source.points is not None:
                rows = piece.source.points
            else:
                continue
            moved = rows.with_coords(map_keypoints(piece.geometry, rows.coords))
            x0, y0, x1, y1 = piece.rect
            local = moved.coords
            inside = keypoints_visible(local, (y1 - y0, x1 - x0))
            if piece.region is not None:
                inside &= points_on(moved, piece.region)
            moved = _shifted(moved.take(inside), x0, y0, False)
            parts.append(moved)
        return concat_rows(base, parts)

    def volume_warp(self, key: str, value: Any, effect: VolumeWarp, call: CallView) -> Any:
        """``x, y`` (and ``z`` of ``xyz`` keypoints) through the voxel map; angle and scale turn
        with its in-plane part. Keypoints leaving the volume go when ``remove_invisible``."""
        if len(value) == 0:
            return value
        geometry = effect.geometry
        z = value.labels.get(KEYPOINT_Z)
        xyz = np.column_stack([value.coords[:, :2], np.zeros(len(value)) if z is None else z])
        moved = geometry.map_points(xyz)
        plane = geometry.plane
        if plane is not None:
            coords = map_keypoints(plane, value.coords)
        else:
            coords = value.coords.copy()
            coords[:, :2] = moved[:, :2]
        points = value.with_coords(coords)
        if z is not None:
            points.labels = {**value.labels, KEYPOINT_Z: moved[:, 2]}
        params = call.config.keypoint_params
        if self._removes(call) and params is not None and params.check_each_transform:
            d, h, w = geometry.out_shape
            inside = keypoints_visible(points.coords, (h, w))
            if z is not None:
                inside &= (moved[:, 2] >= -0.5) & (moved[:, 2] < d - 0.5)
            if not inside.all():
                call.dropped(key, "out_of_frame", int((~inside).sum()))
                points = points.take(inside)
        return points

    def volume_holes(self, key: str, value: Any, effect: VolumeHoles, call: CallView) -> Any:
        z = value.labels.get(KEYPOINT_Z)
        if z is None or not self._removes(call) or len(value) == 0 or len(effect.holes) == 0:
            return value
        voxel = np.floor(np.column_stack([z, value.coords[:, 1], value.coords[:, 0]]) + 0.5)
        holes = np.asarray(effect.holes)
        inside: np.ndarray = (voxel[:, None, :] >= holes[None, :, :3]) & (
            voxel[:, None, :] < holes[None, :, 3:]
        )
        hit = np.any(np.all(inside, axis=2), axis=1)
        if hit.any():
            call.dropped(key, "occluded", int(hit.sum()))
            return value.take(~hit)
        return value

    @staticmethod
    def remap_labels(points: PointSet, tables: Mapping[str, Mapping[Any, Any]]) -> PointSet:
        """Rename labels through ``tables`` (label field -> {old: new}) and reorder the keypoints
        so that the slot that held label ``L`` now holds the keypoint whose new label is ``L``:
        every index keeps its meaning. Keypoints whose new label matches no slot keep their new
        label and fill the remaining slots in their original order."""
        if len(points) == 0:
            return points
        for field_name, table in tables.items():
            if field_name not in points.labels:
                continue
            old = list(points.labels[field_name])
            new = [table.get(v, v) for v in old]
            slots: dict[Any, list[int]] = {}
            for position, label in enumerate(new):
                slots.setdefault(label, []).append(position)
            order: list[int] = []
            for label in old:
                candidates = slots.get(label)
                if candidates:
                    order.append(candidates.pop(0))
            used = set(order)
            order.extend(p for p in range(len(new)) if p not in used)
            perm = np.asarray(order, dtype=np.int64)
            renamed = np.empty(len(new), dtype=object)
            renamed[:] = new
            labels = {name: values[perm] for name, values in points.labels.items()}
            original = points.labels[field_name]
            labels[field_name] = (
                renamed[perm].astype(original.dtype) if original.dtype != object else renamed[perm]
            )
            points = points.take(perm)
            points.labels = labels
        return points


def points_on(points: PointSet, where: np.ndarray) -> np.ndarray:
    """True for keypoints whose pixel is set in the boolean ``(H, W)`` array ``where``."""
    h, w = where.shape
    xi = np.floor(points.coords[:, 0] + 0.5).astype(np.int64)
    yi = np.floor(points.coords[:, 1] + 0.5).astype(np.int64)
    inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    hit = np.zeros(len(xi), dtype=bool)
    hit[inside] = where[yi[inside], xi[inside]]
    return hit


from invariance.core.volume_kinds import Mask3DKind, Masks3DKind, VolumeKind, VolumesKind  # noqa: E402

for _handler in (
    ImageKind(),
    ImagesKind(),
    MaskKind(),
    MasksKind(),
    BoxesKind(),
    KeypointsKind(),
    VolumeKind(),
    Mask3DKind(),
    VolumesKind(),
    Masks3DKind(),
):
    register_kind(_handler)

__all__ = [
    "INSTANCE",
    "BoxesKind",
    "Frames",
    "ImageKind",
    "ImagesKind",
    "KeypointsKind",
    "Mask3DKind",
    "MaskKind",
    "Masks3DKind",
    "MasksKind",
    "TargetKind",
    "VolumeKind",
    "VolumesKind",
    "check_image",
    "check_mask",
    "concat_rows",
    "kind_names",
    "kind_of",
    "points_on",
    "register_kind",
]
