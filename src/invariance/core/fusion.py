"""The fusion buffer: consecutive warps resampled once.

A pipeline call with ``fuse_warps`` does not resample images and masks at every spatial step.
It buffers the steps' warps here; when something needs the pixels (a pixel, occlusion or paste
effect, a warp that cannot join, a transform that reads pixels, the end of the call) the call
flushes the buffer: the buffered matrices are multiplied and the product is resampled once (or
applied as one exact operation when it is a symmetry, a whole-pixel window or a plain resize).
Boxes and keypoints do not wait: they move at every step (see
:class:`invariance.core.kinds.BoxesKind` for how a fused chain keeps boxes tight).

This module knows geometry only. :meth:`FusionBuffer.take` returns a :class:`Resample` plan (a
window to enter, one warp, borders to paint) and the call applies it to every array target
through its kind's handler. See docs/fusion.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from invariance.core.effects import Warp
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
    keeps_orientation,
    product_of,
    rect_corners,
)
from invariance.kernels import geometry as kg


class _Step:
    """A buffered warp. Its matrix and checks are computed on first use: a step that ends up
    resampled on its own (the common single-warp pipeline) never needs them. (Plain lazy slots,
    not ``functools.cached_property``: that one takes a lock on every read, on the hot path.)"""

    __slots__ = ("_border", "_fusable", "_values", "geometry", "resampling")

    def __init__(self, geometry: Geometry, resampling: Resampling) -> None:
        self.geometry = geometry
        self.resampling = resampling
        self._values: list[float] | bool | None = False  # False: not computed yet
        self._fusable: bool | None = None
        self._border: bool | None = None

    @property
    def values(self) -> list[float] | None:
        """The step's matrix as nine row-major floats, or None when it has none."""
        if self._values is False:
            self._values = self.geometry.matrix_values()
        return self._values  # type: ignore[return-value]

    @property
    def checked_matrix(self) -> np.ndarray:
        """The matrix of a step that joined a fused chain (checked then, so never None)."""
        values = self.values
        assert values is not None
        return np.array(values).reshape(3, 3)

    @property
    def fusable(self) -> bool:
        """True when the step can be multiplied into a fused warp with its neighbours."""
        if self._fusable is None:
            self._fusable = self._check_fusable()
        return self._fusable

    def _check_fusable(self) -> bool:
        if cv2.INTER_AREA in (self.resampling.interpolation, self.resampling.mask_interpolation):
            return False  # area averaging has no warp equivalent
        values = self.values
        if values is None:
            return False
        if values[6] == 0 and values[7] == 0:
            return values[8] > 1e-9  # affine: every point keeps the same (positive) weight
        return keeps_orientation(np.array(values).reshape(3, 3), self.geometry.in_shape)

    @property
    def makes_border(self) -> bool:
        if self._border is None:
            self._border = self.geometry.makes_border()
        return self._border


@dataclass
class Resample:
    """What one flush does to every image and mask: enter ``window`` ``(y0, y1, x0, x1)`` as a
    view (when set), resample through ``warp``, then paint each ``(outside, resampling)`` border."""

    warp: Warp | None
    window: tuple[int, int, int, int] | None = None
    borders: list[tuple[np.ndarray, Resampling]] = field(default_factory=list)


class FusionBuffer:
    """The warps of a fused chain waiting to be resampled, owned by one pipeline call."""

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps: list[_Step] = []

    def __bool__(self) -> bool:
        return bool(self.steps)

    def push(self, warp: Warp) -> bool:
        """Add ``warp`` to the chain if it can join it (always, into an empty buffer); False when
        it cannot, and the buffer must be flushed first.

        A step alone in the buffer is not checked: if nothing follows, it is resampled on its own
        anyway. The checks (a matrix, no point sent to infinity, no area averaging) run when a
        second step arrives, for both.
        """
        steps = self.steps
        step = _Step(warp.geometry, warp.resampling)
        if steps and not (
            step.fusable
            and (len(steps) > 1 or steps[-1].fusable)
            # A reflected or replicated border would be made from the intermediate image: a step
            # that makes one starts a new chain, so its border comes from its own input.
            and not (warp.resampling.border_mode != cv2.BORDER_CONSTANT and step.makes_border)
        ):
            return False
        steps.append(step)
        return True

    def take(self) -> Resample | None:
        """Empty the buffer and return how to resample what it held (None when it was empty).

        The product of the buffered matrices is applied in one warp. The border comes from the
        first step (or from the first step that makes one, see :func:`_border_step`); every other
        step that reads outside its own input has its constant fill painted where its input does
        not reach, exactly as step-by-step application would.
        """
        steps, self.steps = self.steps, []
        if not steps:
            return None
        if len(steps) == 1:
            return Resample(Warp(steps[0].geometry, steps[0].resampling))
        window, steps = _enter_window(steps)
        if not steps:
            return Resample(None, window)
        if len(steps) == 1:
            return Resample(Warp(steps[0].geometry, steps[0].resampling), window)
        shortcut = _resize_then_symmetry(steps)
        if shortcut is not None:
            return Resample(shortcut, window)
        total = product_of([step.values for step in steps])  # type: ignore[misc]
        in_shape, out_shape = steps[0].geometry.in_shape, steps[-1].geometry.out_shape
        fused = exact_geometry(total, in_shape, out_shape)
        moving = [s for s in steps if s.geometry.interpolates()]
        bordered = _border_step(steps)
        resampling = _fused_resampling(
            fused_interpolation([s.resampling.interpolation for s in moving]),
            fused_interpolation([s.resampling.mask_interpolation for s in moving]),
            steps[bordered].resampling,
        )
        return Resample(Warp(fused, resampling), window, _borders(steps, bordered, out_shape))


def _resize_then_symmetry(steps: list[_Step]) -> Warp | None:
    """The fused warp of a resize followed by one square symmetry (a random resized crop and a
    flip, once the window is entered), built from the two geometries as they are.

    It is what the general path finds (the product matrix recognised as a resize and a
    symmetry, with the resize's resampling, no border), without the matrix product and the
    recognition, which cost several times the flip itself on a 224x224 output (tested equal).
    """
    if len(steps) != 2:
        return None
    head, tail = steps[0].geometry, steps[1].geometry
    if not (_resize_and_symmetry(head, tail) and steps[0].fusable):
        return None
    own = steps[0].resampling
    return Warp(Chain((head, tail)), _fused_resampling(own.interpolation, own.mask_interpolation, own))


def _resize_and_symmetry(head: Geometry, tail: Geometry) -> bool:
    """True for a resize to another size followed by a square symmetry other than the identity:
    the pair :func:`_resize_then_symmetry` plans as the resize, then the symmetry."""
    return (
        type(head) is Scale
        and head.in_shape != head.out_shape
        and type(tail) is Symmetry
        and tail.element != "e"
    )


def symmetry_after_resize(held: Warp, warp: Warp) -> bool:
    """True when a buffer holding ``held`` then ``warp`` would plan them as the resize, then the
    symmetry (:func:`_resize_then_symmetry`): ``held`` a resize to another size, alone or after
    a window inside the image (a random resized crop, entered as a view), ``warp`` a flip or
    another square symmetry, neither averaging areas (which would keep them out of a chain).
    The image short path holds such a pair without a buffer and resamples them in turn."""
    head = held.geometry
    if type(head) is Chain:
        window = head.steps[0]
        if len(head.steps) != 2 or type(window) is not CropWindow or window.touches_border():
            return False
        head = head.steps[1]
    area = cv2.INTER_AREA
    return _resize_and_symmetry(head, warp.geometry) and all(
        area not in (w.resampling.interpolation, w.resampling.mask_interpolation) for w in (held, warp)
    )


def _fused_resampling(interpolation: int, mask_interpolation: int, border: Resampling) -> Resampling:
    """The resampling of a fused warp: the chain's interpolations, and the border (mode and fills)
    of the step that draws it."""
    return Resampling(
        interpolation=interpolation,
        mask_interpolation=mask_interpolation,
        border_mode=border.border_mode,
        fill=border.fill,
        fill_mask=border.fill_mask,
    )


def _borders(
    steps: list[_Step], bordered: int, out_shape: tuple[int, int]
) -> list[tuple[np.ndarray, Resampling]]:
    """Later steps that sampled outside their input: where their fill goes, in step order so
    that the last step has the last word, as step by step."""
    painted = [i for i in range(1, len(steps)) if i != bordered and steps[i].makes_border]
    if not painted:
        return []
    borders: list[tuple[np.ndarray, Resampling]] = []
    after = np.eye(3)
    for index in range(len(steps) - 1, min(painted) - 1, -1):
        step = steps[index]
        after = after @ step.checked_matrix
        if index in painted:
            outline = apply_matrix(after, rect_corners(step.geometry.in_shape)) - 0.5
            reached = kg.inside_polygon(out_shape[0], out_shape[1], outline)
            if not reached.all():
                borders.append((~reached, step.resampling))
    borders.reverse()
    return borders


def _enter_window(steps: list[_Step]) -> tuple[tuple[int, int, int, int] | None, list[_Step]]:
    """Start a fused chain inside the window its first step cuts, when it cuts one.

    A chain that begins with a crop inside the image (RandomCrop, the window of a
    RandomResizedCrop) reads only that window: images and masks are replaced by views of it (no
    copy) and the crop leaves the chain. A later step that reads outside its input then reads
    outside the arrays, so the fused warp draws that border itself instead of bringing back
    pixels the crop discarded, and nothing has to be painted afterwards.
    """
    first = steps[0].geometry
    head, rest = (first.steps[0], first.steps[1:]) if isinstance(first, Chain) else (first, ())
    if not isinstance(head, CropWindow) or head.touches_border():
        return None, steps
    y0, x0 = head.y0, head.x0
    window = (y0, y0 + head.out_shape[0], x0, x0 + head.out_shape[1])
    if not rest:
        return window, steps[1:]
    remainder = rest[0] if len(rest) == 1 else Chain(tuple(rest))
    return window, [_Step(remainder, steps[0].resampling), *steps[1:]]


def _border_step(steps: list[_Step]) -> int:
    """The step of a fused chain whose border mode and fill the one fused warp uses.

    The first step, unless it and every step up to the first one that makes a border map their
    whole input onto their whole output (symmetries, resizes, a window that is the whole image),
    with a constant fill: then "this step read outside its input" and "the fused warp reads
    outside the original image" are the same pixels, so the fused warp draws that step's border
    itself and nothing needs painting afterwards (a resize, a flip, then a rotation: the common
    detection chain).
    """
    for index, step in enumerate(steps):
        if step.makes_border:
            constant = step.resampling.border_mode == cv2.BORDER_CONSTANT
            return index if constant else 0
        if not step.geometry.maps_onto():
            return 0
    return 0
