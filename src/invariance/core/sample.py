"""The working state of one pipeline call, and the one code path per target kind.

A :class:`Sample` holds every target of a call in the internal layout. Transforms never touch
targets directly; they hand the sample an effect and the sample applies it to each kind:

* :meth:`Sample.apply_pixels` - a pixel function on every image and frame; masks, boxes and
  keypoints are left alone;
* :meth:`Sample.apply_geometry` - one :class:`~invariance.core.geometry.Geometry` on every target:
  images with the transform's interpolation, masks with the mask interpolation (nearest by
  default), boxes through their corners then clipped and filtered, keypoints with angle and scale;
* :meth:`Sample.apply_occlusion` - holes punched into images (and masks when a mask fill is given);
  boxes mostly hidden by holes and keypoints inside holes are removed.

Warp fusion: when ``fuse_warps`` is set (by :class:`~invariance.core.compose.Compose`), projective
geometries are buffered in ``pending`` and images and masks are resampled once, by
:meth:`Sample.flush_warps`, when anything needs the pixels (a pixel or occlusion effect, a geometry
without a matrix, a read of ``arrays`` / ``image`` / ``mask``, or :meth:`Sample.finish`). Boxes and
keypoints always move at once. See docs/fusion.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from typing import Any

import cv2
import numpy as np

from invariance.core.geometry import (
    Chain,
    CropWindow,
    Geometry,
    Resampling,
    Scale,
    Symmetry,
    apply_matrix,
    exact_geometry,
    fused_interpolation,
    interpolates,
    keeps_orientation,
    map_boxes,
    map_keypoints,
    product_of,
    reads_outside,
    rect_corners,
)
from invariance.core.targets import (
    BboxParams,
    BoxSet,
    KeypointParams,
    PointSet,
    filter_boxes,
    keypoints_visible,
)
from invariance.kernels import geometry as kg

IMAGE_KINDS = ("image", "images")
MASK_KINDS = ("mask", "masks")


class _PendingWarp:
    """A projective step waiting in the fusion buffer.

    Its matrix and its checks are computed on first use: a step that ends up resampled on its own
    (the common single-warp pipeline) never needs them.
    """

    __slots__ = ("__dict__", "geometry", "resampling")

    def __init__(self, geometry: Geometry, resampling: Resampling) -> None:
        self.geometry = geometry
        self.resampling = resampling

    @cached_property
    def values(self) -> list[float] | None:
        """The step's matrix as nine row-major floats, or None when it has none."""
        return self.geometry.matrix_values()

    @property
    def checked_matrix(self) -> np.ndarray:
        """The matrix of a step that joined a fused chain (checked then, so never None)."""
        values = self.values
        assert values is not None
        return np.array(values).reshape(3, 3)

    def fusable(self, mask_interpolation: int) -> bool:
        """True when the step can be multiplied into a fused warp with its neighbours."""
        if cv2.INTER_AREA in (self.resampling.interpolation, mask_interpolation):
            return False  # area averaging has no warp equivalent
        values = self.values
        if values is None:
            return False
        if values[6] == 0 and values[7] == 0:
            return values[8] > 1e-9  # affine: every point keeps the same (positive) weight
        return keeps_orientation(np.array(values).reshape(3, 3), self.geometry.in_shape)

    @cached_property
    def touches(self) -> bool:
        """The step makes a border: some output pixel reads outside the step's input."""
        return reads_outside(self.geometry)


class Sample:
    """Every target of one call, in the internal layout.

    A plain class with slots rather than a dataclass: one is built per pipeline call, and the
    hand-written constructor is about three times faster. The arguments keep the field names.
    """

    __slots__ = (
        "_arrays",
        "_key_cache",
        "applied",
        "bbox_params",
        "boxes",
        "data",
        "fuse_warps",
        "keypoint_params",
        "kinds",
        "mask_interpolation",
        "pending",
        "points",
        "record",
        "replay",
        "shape",
    )

    def __init__(
        self,
        shape: tuple[int, int],
        kinds: dict[str, str],
        arrays: dict[str, Any],
        boxes: dict[str, BoxSet] | None = None,
        points: dict[str, PointSet] | None = None,
        bbox_params: BboxParams | None = None,
        keypoint_params: KeypointParams | None = None,
        data: Mapping[str, Any] | None = None,
        mask_interpolation: int | None = None,
        applied: list[tuple[str, dict[str, Any]]] | None = None,
        record: dict[int, Any] | None = None,
        replay: dict[int, Any] | None = None,
        fuse_warps: bool = False,
    ) -> None:
        self.shape = shape
        self.kinds = kinds  # key -> target kind of the arrays below; fixed for the whole call
        self._arrays = arrays  # image / images / mask / masks values (read through ``arrays``)
        self.boxes: dict[str, BoxSet] = {} if boxes is None else boxes
        self.points: dict[str, PointSet] = {} if points is None else points
        self.bbox_params = bbox_params
        self.keypoint_params = keypoint_params
        self.data: Mapping[str, Any] = {} if data is None else data  # the caller's data (metadata lookups)
        self.mask_interpolation = mask_interpolation  # Compose-level override
        self.applied = applied
        self.record = record  # ReplayCompose: what each node did in this call
        self.replay = replay  # ReplayCompose.replay: what each node must do again
        self.fuse_warps = fuse_warps  # set by Compose: buffer projective geometries and resample once
        self.pending: list[_PendingWarp] = []
        # The key lists per kind are looked up constantly; ``kinds`` does not change in a call.
        self._key_cache: dict[tuple[str, ...], list[str]] = {}

    @property
    def arrays(self) -> dict[str, Any]:
        """Image and mask arrays by key. Any read sees the buffered warps applied, so code that
        reads them directly (a tensor conversion, a channel selection) never gets stale pixels."""
        if self.pending:
            self.flush_warps()
        return self._arrays

    @arrays.setter
    def arrays(self, value: dict[str, Any]) -> None:
        self._arrays = value

    def __repr__(self) -> str:
        return f"Sample(shape={self.shape}, kinds={self.kinds}, boxes={list(self.boxes)}, points={list(self.points)})"

    # -- read access for parameter sampling -------------------------------------------------

    @property
    def height(self) -> int:
        return self.shape[0]

    @property
    def width(self) -> int:
        return self.shape[1]

    def keys_of(self, *kinds: str) -> Iterator[str]:
        return iter(self._keys(kinds))

    def _keys(self, kinds: tuple[str, ...]) -> list[str]:
        """The keys holding the given kinds, in call order (cached: ``kinds`` is fixed per call)."""
        keys = self._key_cache.get(kinds)
        if keys is None:
            keys = self._key_cache[kinds] = [key for key, kind in self.kinds.items() if kind in kinds]
        return keys

    @property
    def image(self) -> np.ndarray | None:
        """The primary image (or first frame), for transforms whose parameters depend on it."""
        for key in self.keys_of("image"):
            value: np.ndarray = self.arrays[key]
            return value
        for key in self.keys_of("images"):
            frames = self.arrays[key]
            if len(frames):
                first: np.ndarray = frames[0]
                return first
        return None

    @property
    def num_channels(self) -> int:
        img = self.image
        if img is None or img.ndim == 2:
            return 1
        return int(img.shape[2])

    @property
    def dtype(self) -> np.dtype | None:
        img = self.image
        return None if img is None else img.dtype

    @property
    def mask(self) -> np.ndarray | None:
        for key in self.keys_of("mask"):
            value: np.ndarray = self.arrays[key]
            return value
        return None

    @property
    def bboxes(self) -> np.ndarray:
        """Boxes of the main ``bboxes`` target as ``(N, 4)`` pixel ``pascal_voc`` coordinates."""
        boxes = self.boxes.get("bboxes")
        return np.zeros((0, 4)) if boxes is None else boxes.coords

    @property
    def keypoints(self) -> np.ndarray:
        """Keypoints of the main target as ``(N, 4)`` ``x, y, angle (rad), scale``."""
        points = self.points.get("keypoints")
        return np.zeros((0, 4)) if points is None else points.coords

    # -- effects ----------------------------------------------------------------------------

    def _map_arrays(self, kinds: tuple[str, ...], func: Callable[[np.ndarray], np.ndarray]) -> None:
        store: dict[str, Any] = self._arrays
        for key in self._keys(kinds):
            store[key] = self._mapped(key, store[key], func)

    def _mapped(self, key: str, value: Any, func: Callable[[np.ndarray], np.ndarray]) -> Any:
        """``func`` applied to one target's array, or to each frame of a stack (kept a stack)."""
        if self.kinds[key] not in ("images", "masks"):
            return func(value)
        results = [func(frame) for frame in value]
        if isinstance(value, np.ndarray):
            return np.stack(results) if results else value.copy()
        return results

    def apply_pixels(self, func: Callable[[np.ndarray], np.ndarray]) -> None:
        """Apply a pixel-level function to every image and frame; other targets are unchanged."""
        self.flush_warps()
        self._map_arrays(IMAGE_KINDS, func)

    def apply_mask_pixels(self, func: Callable[[np.ndarray], np.ndarray]) -> None:
        """Apply a function to every mask (used by occlusion with a mask fill)."""
        self.flush_warps()
        self._map_arrays(MASK_KINDS, func)

    def apply_geometry(self, geometry: Geometry, resampling: Resampling) -> None:
        """Move every target through ``geometry``: pixels, masks, boxes and keypoints in lockstep.

        With ``fuse_warps`` a projective geometry is buffered instead of resampled at once; boxes
        and keypoints still move (and are filtered) now, so later transforms see them, and the
        buffered pixels are resampled once by :meth:`flush_warps`.
        """
        if geometry.in_shape != self.shape:
            raise RuntimeError(
                f"geometry built for {geometry.in_shape} applied to a sample of shape {self.shape}"
            )
        if self.fuse_warps:
            self._buffer(_PendingWarp(geometry, resampling))
        else:
            self._warp_arrays(geometry, resampling)
        self.shape = geometry.out_shape
        for key, boxes in self.boxes.items():
            self.boxes[key] = boxes.with_coords(map_boxes(geometry, boxes.coords, resampling.bbox_method))
            if self.bbox_params is not None and self.bbox_params.check_each_transform:
                self._filter_boxes(key)
        for key, points in self.points.items():
            self.points[key] = points.with_coords(map_keypoints(geometry, points.coords))
            if self.keypoint_params is not None and self.keypoint_params.check_each_transform:
                self._filter_points(key)

    # -- warp fusion ----------------------------------------------------------------------------

    def _mask_interpolation(self, resampling: Resampling) -> int:
        if self.mask_interpolation is not None:
            return self.mask_interpolation
        return resampling.mask_interpolation

    def _warp_arrays(self, geometry: Geometry, resampling: Resampling) -> None:
        interpolation, _, border_mode, fill, fill_mask, _ = resampling
        self._map_arrays(IMAGE_KINDS, lambda a: warp_image(geometry, a, interpolation, border_mode, fill))
        if self._keys(MASK_KINDS):
            mask_interpolation = self._mask_interpolation(resampling)
            self._map_arrays(
                MASK_KINDS, lambda a: geometry.warp(a, mask_interpolation, border_mode, fill_mask)
            )

    def _buffer(self, step: _PendingWarp) -> None:
        """Add a step to the fusion buffer, or resample what is buffered first when it cannot join.

        A step alone in the buffer is not checked: if nothing follows, it is resampled on its own
        anyway. The checks (a matrix, no point sent to infinity, no area averaging) run when a
        second step arrives, for both.
        """
        pending = self.pending
        if pending:
            last = pending[-1]
            joins = (
                step.fusable(self._mask_interpolation(step.resampling))
                and (len(pending) > 1 or last.fusable(self._mask_interpolation(last.resampling)))
                # A reflected or replicated border would be made from the intermediate image: a
                # step that makes one starts a new buffer, so its border comes from its own input.
                and not (step.resampling.border_mode != cv2.BORDER_CONSTANT and step.touches)
            )
            if not joins:
                self.flush_warps()
        self.pending.append(step)

    def flush_warps(self) -> None:
        """Resample the buffered geometries of a fused chain, once, into images and masks.

        The product of the buffered matrices is applied in one warp (or one exact operation when
        the product is a symmetry, a whole-pixel window or a plain resize). The border comes from
        the first step (or from the first step that makes one, see :func:`_border_step`); every
        other step that reads outside its own input has its constant fill painted where its input
        does not reach, exactly as step-by-step application would.
        """
        steps, self.pending = self.pending, []
        if not steps:
            return
        if len(steps) > 1:
            steps = self._enter_window(steps)
        if len(steps) == 1:
            self._warp_arrays(steps[0].geometry, steps[0].resampling)
            return
        total = product_of([step.values for step in steps])  # type: ignore[misc]
        in_shape, out_shape = steps[0].geometry.in_shape, steps[-1].geometry.out_shape
        fused = exact_geometry(total, in_shape, out_shape)
        moving = [s for s in steps if interpolates(s.geometry)]
        bordered = _border_step(steps)
        border = steps[bordered].resampling
        resampling = Resampling(
            interpolation=fused_interpolation([s.resampling.interpolation for s in moving]),
            mask_interpolation=fused_interpolation([self._mask_interpolation(s.resampling) for s in moving]),
            border_mode=border.border_mode,
            fill=border.fill,
            fill_mask=border.fill_mask,
        )
        saved = self.mask_interpolation
        self.mask_interpolation = None
        try:
            self._warp_arrays(fused, resampling)
        finally:
            self.mask_interpolation = saved
        # Later steps that sampled outside their input: paint their fill where it does not reach,
        # in step order so that the last step has the last word, as step by step.
        painted = [i for i in range(1, len(steps)) if i != bordered and steps[i].touches]
        if not painted:
            return
        borders: list[tuple[np.ndarray, Resampling]] = []
        after = np.eye(3)
        for index in range(len(steps) - 1, min(painted, default=len(steps)) - 1, -1):
            step = steps[index]
            after = after @ step.checked_matrix
            if index in painted:
                outline = apply_matrix(after, rect_corners(step.geometry.in_shape)) - 0.5
                reached = kg.inside_polygon(out_shape[0], out_shape[1], outline)
                if not reached.all():
                    borders.append((~reached, step.resampling))
        for outside, step_resampling in reversed(borders):
            self._paint(outside, step_resampling)

    def _enter_window(self, steps: list[_PendingWarp]) -> list[_PendingWarp]:
        """Start a fused chain inside the window its first step cuts, when it cuts one.

        A chain that begins with a crop inside the image (RandomCrop, the window of a
        RandomResizedCrop) reads only that window: the images and masks are replaced by views of
        it (no copy) and the crop leaves the chain. A later step that reads outside its input
        then reads outside the arrays, so the fused warp draws that border itself instead of
        bringing back pixels the crop discarded, and nothing has to be painted afterwards.
        """
        first = steps[0].geometry
        head, rest = (first.steps[0], first.steps[1:]) if isinstance(first, Chain) else (first, ())
        if not isinstance(head, CropWindow) or head.touches_border():
            return steps
        y0, x0 = head.y0, head.x0
        y1, x1 = y0 + head.out_shape[0], x0 + head.out_shape[1]
        store = self._arrays
        for key in (*self._keys(IMAGE_KINDS), *self._keys(MASK_KINDS)):
            value = store[key]
            if self.kinds[key] in ("image", "mask"):
                store[key] = value[y0:y1, x0:x1]
            elif isinstance(value, np.ndarray):
                store[key] = value[:, y0:y1, x0:x1]
            else:
                store[key] = [frame[y0:y1, x0:x1] for frame in value]
        if not rest:
            return steps[1:]
        remainder = rest[0] if len(rest) == 1 else Chain(tuple(rest))
        return [_PendingWarp(remainder, steps[0].resampling), *steps[1:]]

    def _paint(self, outside: np.ndarray, resampling: Resampling) -> None:
        self._map_arrays(IMAGE_KINDS, lambda a: kg.fill_where(a, outside, resampling.fill))
        self._map_arrays(MASK_KINDS, lambda a: kg.fill_where(a, outside, resampling.fill_mask))

    def apply_occlusion(
        self,
        hidden: np.ndarray,
        fill_image: Callable[[np.ndarray], np.ndarray],
        fill_mask: Callable[[np.ndarray], np.ndarray] | None,
    ) -> None:
        """Occlude the pixels where the boolean ``(H, W)`` array ``hidden`` is True.

        Images are filled by ``fill_image``; masks by ``fill_mask`` when given, else untouched.
        Boxes whose visible (uncovered) fraction falls below ``min_visibility``, or whose visible
        area falls below ``min_area``, are dropped with their labels; keypoints on a hidden pixel
        are removed when ``remove_invisible`` is set. Geometry does not move.
        """
        self.apply_pixels(fill_image)
        if fill_mask is not None:
            self.apply_mask_pixels(fill_mask)
        if not hidden.any():
            return
        if self.bbox_params is not None:
            # Summed-area table with a zero first row and column (OpenCV's layout), int32 counts.
            integral = cv2.integral(hidden.view(np.uint8))
            for key, boxes in self.boxes.items():
                if len(boxes.coords) == 0:
                    continue
                c = np.round(boxes.coords).astype(np.int64)
                c[:, [0, 2]] = np.clip(c[:, [0, 2]], 0, self.width)
                c[:, [1, 3]] = np.clip(c[:, [1, 3]], 0, self.height)
                x0, y0, x1, y1 = c.T
                covered = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
                area = (x1 - x0) * (y1 - y0)
                remaining = area - covered
                with np.errstate(divide="ignore", invalid="ignore"):
                    visible = np.where(area > 0, remaining / area, 1.0)
                keep = (remaining > 0) | (area == 0)
                keep &= visible >= self.bbox_params.min_visibility
                keep &= remaining >= self.bbox_params.min_area
                self.boxes[key] = boxes.take(keep)
        if self.keypoint_params is not None and self.keypoint_params.remove_invisible:
            for key, points in self.points.items():
                if len(points.coords) == 0:
                    continue
                xi = np.floor(points.coords[:, 0] + 0.5).astype(np.int64)
                yi = np.floor(points.coords[:, 1] + 0.5).astype(np.int64)
                inside = (xi >= 0) & (xi < self.width) & (yi >= 0) & (yi < self.height)
                hit = np.zeros(len(xi), dtype=bool)
                hit[inside] = hidden[yi[inside], xi[inside]]
                self.points[key] = points.take(~hit)

    # -- filtering ----------------------------------------------------------------------------

    def _filter_boxes(self, key: str) -> None:
        assert self.bbox_params is not None
        boxes = self.boxes[key]
        clipped, keep = filter_boxes(boxes.coords, self.shape, self.bbox_params)
        self.boxes[key] = boxes.with_coords(clipped).take(keep)

    def _filter_points(self, key: str) -> None:
        assert self.keypoint_params is not None
        if not self.keypoint_params.remove_invisible:
            return
        points = self.points[key]
        self.points[key] = points.take(keypoints_visible(points.coords, self.shape))

    def finish(self) -> None:
        """The final filtering pass, run once after the last transform (fused warps land first)."""
        self.flush_warps()
        for key in self.boxes:
            if self.bbox_params is not None:
                self._filter_boxes(key)
        for key in self.points:
            if self.keypoint_params is not None:
                self._filter_points(key)

    def remap_keypoint_labels(self, transform_name: str) -> None:
        """Apply ``KeypointParams.label_mapping`` for a transform that just fired.

        Each keypoint's label is renamed through the mapping; then the keypoints are reordered so
        that the slot which held label ``L`` before now holds the keypoint whose new label is ``L``.
        Every index therefore keeps its meaning. Keypoints whose new label matches no slot keep
        their renamed label and fill the remaining slots in their original order.
        """
        params = self.keypoint_params
        if params is None or transform_name not in params.label_mapping:
            return
        points = self.points.get("keypoints")
        if points is None or len(points) == 0:
            return
        for field_name, table in params.label_mapping[transform_name].items():
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
        self.points["keypoints"] = points


def _border_step(steps: list[_PendingWarp]) -> int:
    """The step of a fused chain whose border mode and fill the one fused warp uses.

    The first step, unless it and every step up to the first one that makes a border map their
    whole input onto their whole output (symmetries, resizes, a window that is the whole image),
    with a constant fill: then "this step read outside its input" and "the fused warp reads outside
    the original image" are the same pixels, so the fused warp draws that step's border itself and
    nothing needs painting afterwards (a resize, a flip, then a rotation: the common detection chain).
    """
    for index, step in enumerate(steps):
        if step.touches:
            constant = step.resampling.border_mode == cv2.BORDER_CONSTANT
            return index if constant else 0
        if not _onto(step.geometry):
            return 0
    return 0


def _onto(geometry: Geometry) -> bool:
    """True for a map of the whole input rectangle onto the whole output rectangle."""
    if isinstance(geometry, (Symmetry, Scale)):
        return True
    return (
        isinstance(geometry, CropWindow)
        and geometry.x0 == geometry.y0 == 0
        and geometry.in_shape == geometry.out_shape
    )


_OVERSHOOTING = (cv2.INTER_CUBIC, cv2.INTER_LANCZOS4)


def warp_image(
    geometry: Geometry, image: np.ndarray, interpolation: int, border_mode: int, fill: Any
) -> np.ndarray:
    """One image through ``geometry`` with the given resampling (float images kept in [0, 1])."""
    out = geometry.warp(image, interpolation, border_mode, fill)
    if interpolation in _OVERSHOOTING and out.dtype == np.float32:
        # Cubic and Lanczos kernels ring past the input's range; float images stay in [0, 1].
        np.clip(out, 0.0, 1.0, out=out)
    return out
