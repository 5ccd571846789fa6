"""``Targets``: the target kinds as Albumentations 2.x names them, at Albumentations' import path.

Code written for Albumentations reads which targets a transform acts on from
``transform._targets`` (a tuple of :class:`Targets`) and imports the enum from
``albumentations.core.type_definitions``; after ``import invariance as A`` the same import from
``invariance.core.type_definitions`` works. invariance itself describes a transform by its
``supported_targets`` (our kind names, such as ``"image"`` or ``"masks"``); :func:`targets_of`
turns those into :class:`Targets`.

A 2-D transform also acts on volumes: its effect is applied slice by slice with one draw
(:mod:`invariance.core.volume_kinds`). So a transform that changes images changes volumes
(``VOLUME``), and one that changes masks changes 3-D masks (``MASK3D``).
"""

from __future__ import annotations

import functools
from enum import Enum


class Targets(Enum):
    """A kind of data a transform can act on; the values are Albumentations' spellings."""

    IMAGE = "Image"
    MASK = "Mask"
    BBOXES = "BBoxes"
    KEYPOINTS = "Keypoints"
    VOLUME = "Volume"
    MASK3D = "Mask3D"


#: Every kind, in Albumentations' order (the ``_targets`` of a transform that moves everything).
ALL_TARGETS: tuple[Targets, ...] = (
    Targets.IMAGE,
    Targets.MASK,
    Targets.BBOXES,
    Targets.KEYPOINTS,
    Targets.VOLUME,
    Targets.MASK3D,
)

#: What each of our kind names contributes. Stacks count as their single kind; a 2-D image or
#: mask kind brings its 3-D counterpart, which the engine moves slice by slice.
_KIND_TARGETS: dict[str, tuple[Targets, ...]] = {
    "image": (Targets.IMAGE, Targets.VOLUME),
    "images": (Targets.IMAGE, Targets.VOLUME),
    "mask": (Targets.MASK, Targets.MASK3D),
    "masks": (Targets.MASK, Targets.MASK3D),
    "bboxes": (Targets.BBOXES,),
    "keypoints": (Targets.KEYPOINTS,),
    "volume": (Targets.VOLUME,),
    "volumes": (Targets.VOLUME,),
    "mask3d": (Targets.MASK3D,),
    "masks3d": (Targets.MASK3D,),
}


@functools.cache
def targets_of(kinds: tuple[str, ...]) -> tuple[Targets, ...]:
    """The :class:`Targets` of a transform whose ``supported_targets`` are ``kinds``, in the order
    of :data:`ALL_TARGETS`. Kind names this table does not know (user-registered kinds) add none."""
    found = {target for kind in kinds for target in _KIND_TARGETS.get(kind, ())}
    return tuple(target for target in ALL_TARGETS if target in found)


__all__ = ["ALL_TARGETS", "Targets", "targets_of"]
