"""What a transform does to a sample, declared as data: the five kinds of effect.

A transform draws its parameters and returns one effect (or a sequence of them). It never
touches targets itself: the pipeline's call hands each effect to every target's handler
(:mod:`invariance.core.kinds`), and each handler knows what every kind of effect means for it.

* :class:`Pixels` - new pixel values for images (and, when asked, masks); geometry stays;
* :class:`Warp` - a :class:`~invariance.core.geometry.Geometry` with its resampling: every
  target moves through the one map;
* :class:`Occlusion` - pixels hidden where a boolean map is set: images (and masks) are filled,
  boxes mostly hidden and keypoints on hidden pixels are dropped;
* :class:`MoveRows` - new coordinates for boxes and keypoints without any pixel change (a
  morphological filter growing boxes, a user function);
* :class:`Paste` - placed items (this sample or others) composed into a canvas: Mosaic, CutMix,
  MixUp and CopyPaste.

Volumes (``volume``, ``mask3d`` and their stacks) take every effect above slice by slice, with
the one parameter draw; two more effects act in three dimensions:

* :class:`VolumeWarp` - an exact map of voxel grids (a 3-D window, an axis symmetry);
* :class:`VolumeHoles` - boxes of voxels filled (3-D dropout).

A :class:`Report` adds an output entry that is not a target (it touches nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Union

import numpy as np

from invariance.core.geometry import Geometry, Resampling

if TYPE_CHECKING:
    from invariance.core.targets import BoxSet, PointSet
    from invariance.core.volume import Geometry3D

ArrayFunction = Callable[[np.ndarray], Any]
_PLAIN = Resampling()  # linear images, nearest masks, constant border
Shape = tuple[int, int]


@dataclass(frozen=True, init=False)
class Pixels:
    """New pixel values: ``image`` runs on every image and frame, ``mask`` (when given) on every
    mask and instance mask. ``images`` / ``masks`` (when given) take a whole stack at once
    instead of one frame at a time. With ``reshapes`` the functions may change the arrays' size
    and the sample's shape is read back from them (user transforms only: a built-in transform
    that changes the size is a :class:`Warp`). ``volume`` / ``mask3d`` (when given) take whole
    voxel grids."""

    kind: ClassVar[str] = "pixels"
    image: ArrayFunction | None
    mask: ArrayFunction | None = None
    images: ArrayFunction | None = None
    masks: ArrayFunction | None = None
    reshapes: bool = False
    #: Whole-grid functions for ``volume`` / ``mask3d`` (and each grid of their stacks); without
    #: them volumes take ``image`` and 3-D masks ``mask`` slice by slice.
    volume: ArrayFunction | None = None
    mask3d: ArrayFunction | None = None

    def __init__(
        self,
        image: ArrayFunction | None,
        mask: ArrayFunction | None = None,
        images: ArrayFunction | None = None,
        masks: ArrayFunction | None = None,
        reshapes: bool = False,
        volume: ArrayFunction | None = None,
        mask3d: ArrayFunction | None = None,
    ) -> None:
        # Built on every pixel transform call: filling the instance dict directly costs a fraction
        # of a frozen dataclass's generated __init__ (which goes through object.__setattr__).
        fields = self.__dict__
        fields["image"], fields["mask"], fields["images"], fields["masks"] = image, mask, images, masks
        fields["reshapes"], fields["volume"], fields["mask3d"] = reshapes, volume, mask3d


class Warp(NamedTuple):
    """Every target through one geometry: images with ``resampling.interpolation``, masks with
    its ``mask_interpolation``, boxes through their outline, keypoints with angle and scale."""

    geometry: Geometry
    resampling: Resampling
    kind: str = "warp"


@dataclass(frozen=True)
class Occlusion:
    """Pixels hidden where the boolean ``(H, W)`` array ``hidden`` is True.

    Images are filled by ``image``; masks by ``mask`` when given (else untouched). Boxes whose
    visible part falls below BboxParams ``min_visibility`` / ``min_area`` are dropped; keypoints
    on a hidden pixel are removed when ``remove_invisible``. Geometry does not move.
    """

    kind: ClassVar[str] = "occlusion"
    hidden: np.ndarray
    image: ArrayFunction
    mask: ArrayFunction | None = None


@dataclass(frozen=True)
class MoveRows:
    """New coordinates for rows: ``boxes(rows, shape)`` / ``points(rows, shape)`` return the new
    rows (the same rows, or a subset whose labels follow). ``filter`` applies BboxParams and
    KeypointParams afterwards when they check after each transform."""

    kind: ClassVar[str] = "rows"
    boxes: Callable[[BoxSet, Shape], BoxSet] | None = None
    points: Callable[[PointSet, Shape], PointSet] | None = None
    filter: bool = True


@dataclass
class Item:
    """One sample's main targets in the internal layout: another sample given as metadata, or a
    selection of this one. ``masks`` are instance masks; when the pipeline pairs instance masks
    with boxes, ``masks[i]`` belongs to ``boxes[i]``."""

    image: np.ndarray
    mask: np.ndarray | None = None
    masks: list[np.ndarray] | None = None
    boxes: BoxSet | None = None
    points: PointSet | None = None

    @property
    def shape(self) -> Shape:
        return int(self.image.shape[0]), int(self.image.shape[1])


@dataclass(frozen=True)
class Piece:
    """One placed item of a :class:`Paste`.

    ``geometry`` maps the source onto the piece's own frame (``geometry.out_shape`` is the
    piece's size); the piece sits at ``offset = (x, y)`` in the canvas. ``region`` (a boolean
    array of the piece's size) says where it shows, None meaning everywhere. ``alpha`` None
    pastes it opaquely; a number blends it, keeping ``alpha`` of the canvas. ``source`` None is
    this sample itself (every key of it moves); an :class:`Item` contributes to the main key of
    each kind only.
    """

    source: Item | None
    geometry: Geometry
    offset: tuple[int, int] = (0, 0)
    region: np.ndarray | None = None
    alpha: float | None = None
    resampling: Resampling = _PLAIN

    @property
    def rect(self) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)`` of the piece in the canvas."""
        x0, y0 = self.offset
        h, w = self.geometry.out_shape
        return x0, y0, x0 + w, y0 + h

    def hidden(self, shape: Shape) -> np.ndarray:
        """Where an opaque piece covers a canvas of ``shape`` (boolean ``(H, W)``)."""
        out = np.zeros(shape, dtype=bool)
        x0, y0, x1, y1 = self.rect
        out[y0:y1, x0:x1] = True if self.region is None else self.region
        return out


@dataclass(frozen=True)
class Paste:
    """Items composed into a canvas of ``shape``.

    With ``keep_base`` the canvas starts as this sample (of the same shape) and the pieces go on
    top: opaque pieces hide what they cover, as an :class:`Occlusion` would. Without it the
    canvas starts blank (``fill`` for images, ``fill_mask`` for masks, no rows) and only the
    pieces appear. The rows of each piece are moved with it, clipped to its rectangle and
    filtered by the pipeline's parameters; instance masks of the main ``masks`` key follow their
    pieces, so masks paired with boxes stay paired.
    """

    kind: ClassVar[str] = "paste"
    shape: Shape
    pieces: tuple[Piece, ...]
    keep_base: bool = True
    fill: Any = 0.0
    fill_mask: Any = 0.0
    #: Base boxes hidden by a piece are re-boxed from their instance masks (CopyPaste) rather than
    #: judged by the hidden share of their box. Always so when masks are declared paired with boxes.
    reboxes_instances: bool = False
    #: Base instances left with less than this fraction visible are dropped even when BboxParams
    #: ``min_visibility`` is lower (CopyAndPaste's ``min_visibility_after_paste``).
    min_visibility: float = 0.0


@dataclass(frozen=True)
class Report:
    """An entry for the output dict that is not a target (MixUp's mixing weights, for example).
    Later transforms leave it alone; it does not touch any target."""

    kind: ClassVar[str] = "report"
    key: str
    value: Any


@dataclass(frozen=True)
class VolumeWarp:
    """Every volume through one :class:`~invariance.core.volume.Geometry3D` (exact maps move
    whole voxels; resampling maps use ``interpolation``, and ``mask_interpolation`` for 3-D
    masks), masks filled with ``fill_mask`` and volumes with ``fill`` where the map reaches
    outside; keypoints move in ``x, y, z``. 2-D targets follow through ``geometry.plane`` when the
    map has one, and are refused otherwise."""

    kind: ClassVar[str] = "volume_warp"
    geometry: Geometry3D
    fill: Any = 0.0
    fill_mask: Any = 0.0
    #: OpenCV flags (``INTER_NEAREST`` or ``INTER_LINEAR``) for maps that resample voxels.
    interpolation: int = 1
    mask_interpolation: int = 0


@dataclass(frozen=True)
class VolumeHoles:
    """Boxes of voxels filled: ``holes`` is ``(N, 6)`` ``z0, y0, x0, z1, y1, x1`` (ends excluded).
    Volumes take ``fill``; 3-D masks take ``fill_mask`` unless it is None; keypoints inside a
    hole are removed when KeypointParams ``remove_invisible``."""

    kind: ClassVar[str] = "volume_holes"
    holes: np.ndarray
    fill: Any = 0.0
    fill_mask: Any = None


Effect = Union[Pixels, Warp, Occlusion, MoveRows, Paste, Report, VolumeWarp, VolumeHoles]
Effects = Union[Effect, Sequence[Effect], None]


def as_sequence(effects: Effects) -> Sequence[Effect]:
    """One effect, several or none, as a sequence."""
    if effects is None:
        return ()
    if isinstance(effects, (Pixels, Warp, Occlusion, MoveRows, Paste, Report, VolumeWarp, VolumeHoles)):
        return (effects,)
    return effects
