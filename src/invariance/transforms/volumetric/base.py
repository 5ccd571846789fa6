"""The base of volumetric transforms: a voxel map, holes, or a whole-grid pixel change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from invariance.core import registry
from invariance.core.effects import Effects, Pixels, VolumeWarp
from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema
from invariance.core.transform import BasicTransform
from invariance.core.volume import Geometry3D

VOLUME_TARGETS = ("volume", "mask3d", "volumes", "masks3d", "keypoints")


@registry.base_class
class Transform3D(BasicTransform):
    """Base of transforms that act on voxel grids as a whole (``volume``, ``mask3d``, their stacks
    ``volumes`` / ``masks3d``, and keypoints with a ``z``: KeypointParams ``format="xyz"``).

    A volumetric map subclass implements ``volume_geometry(params, sample)`` returning a
    :class:`~invariance.core.volume.Geometry3D`; volumes and 3-D masks go through it exactly and
    keypoints move in ``x, y, z``. 2-D images, masks and boxes of the same call follow a map
    that keeps the depth axis (its in-plane part), and are refused by one that does not.

    Args:
        p: probability of applying the transform. Default: 0.5.

    Targets: keypoints, volume, mask3d
    (each also as a stack: volumes, masks3d). Dtypes: uint8, float32.
    """

    class InitSchema(TransformSchema):
        p: Probability = 0.5

    supported_targets: ClassVar[tuple[str, ...]] = VOLUME_TARGETS
    family = "volumetric"
    reads_pixels = False

    def volume_geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry3D:
        raise NotImplementedError(f"{type(self).__name__} must implement volume_geometry or effect")

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        geometry = self.volume_geometry(params, sample)
        return VolumeWarp(geometry, getattr(self, "fill", 0.0), getattr(self, "fill_mask", 0.0))


@registry.base_class
class VolumeOnlyTransform(BasicTransform):
    """Base of transforms that change volume intensities only (``volume`` and ``volumes``):
    3-D masks, keypoints and 2-D targets pass through. Subclasses draw parameters in
    ``sample`` and implement ``apply_to_volume(volume, **params)`` on one whole
    ``(D, H, W[, C])`` grid (each grid of a ``volumes`` stack gets the same parameters).

    Args:
        p: probability of applying the transform. Default: 0.5.

    Targets: volume
    (each also as a stack: volumes). Dtypes: uint8, float32.
    """

    class InitSchema(TransformSchema):
        p: Probability = 0.5

    supported_targets: ClassVar[tuple[str, ...]] = ("volume", "volumes")
    family = "volumetric"
    #: Volumes change as a whole; 2-D images of the same call do not (volume contract tests).
    whole_volume: ClassVar[bool] = True

    def apply_to_volume(self, volume: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement apply_to_volume")

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        return Pixels(None, volume=lambda grid: self.apply_to_volume(grid, **params))


__all__ = ["VOLUME_TARGETS", "Transform3D", "VolumeOnlyTransform"]
