"""The catalogue's bases: pixel transforms and spatial transforms.

A transform is two small steps, kept apart (see :mod:`invariance.core.basic`): ``sample(rng,
sample) -> params`` draws the random numbers, ``effect(params, sample)`` says what they do, as
data. A :class:`PixelTransform` implements ``apply(img, **params)`` (a kernel call) and returns
pixels; a :class:`SpatialTransform` returns a warp built from ``geometry(params, sample)``.

Both are Albumentations kind bases too: every pixel transform is an
:class:`~invariance.core.compat.ImageOnlyTransform`, every spatial transform a
:class:`~invariance.core.compat.DualTransform`, so ``isinstance(t, A.DualTransform)`` answers
as user code expects. :class:`~invariance.core.compat.Native` comes first in their bases, so the
engine's protocol (schema constructor, ``sample``, ``effect``) is theirs, not the adapter's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from invariance.core.basic import BasicTransform
from invariance.core.compat import DualTransform, ImageOnlyTransform, Native
from invariance.core.effects import Effects, Pixels, Warp
from invariance.core.geometry import Geometry, Resampling
from invariance.core.sample import Sample


class PixelTransform(Native, ImageOnlyTransform):
    """A transform that changes pixel values only. Masks, boxes and keypoints pass through.

    Subclasses implement ``apply(img, **params)``, called once per image and per frame with the
    parameters drawn once for the whole call.
    """

    supported_targets = ("image", "images")
    family = "pixel"

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        return Pixels(lambda img: self.apply(img, **params))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._applies_to_image = cls.effect is PixelTransform.effect


_DEFAULT_RESAMPLING = Resampling()  # frozen: one instance serves every call
_new_tuple = tuple.__new__
_RESAMPLING_ARGUMENTS = (
    "interpolation",
    "mask_interpolation",
    "border_mode",
    "fill",
    "fill_mask",
    "rotate_method",
)


class SpatialTransform(Native, DualTransform):
    """A transform that moves geometry. It declares its effect once, as a Geometry.

    Subclasses implement ``geometry(params, sample)``; the call applies that one map to images
    (``interpolation``), masks (``mask_interpolation``, nearest by default), boxes and keypoints.
    """

    family = "geometric"
    reads_pixels = False

    #: True for a class without any resampling argument (flips, exact symmetries): every call
    #: then has the default resampling, without reading six attributes.
    _takes_no_resampling: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = cls.InitSchema.model_fields
        cls._takes_no_resampling = not any(name in fields for name in _RESAMPLING_ARGUMENTS)

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        raise NotImplementedError

    def resampling(self) -> Resampling:
        """Resampling settings taken from this transform's own arguments, where it has them.

        Read on every call (positionally: this is on the hot path), so a user who changes an
        argument attribute between calls gets the new value.
        """
        defaults = _DEFAULT_RESAMPLING
        if self._takes_no_resampling:
            return defaults
        get = self.__dict__.get  # arguments are instance attributes; a miss costs no exception
        # tuple.__new__ directly: the named tuple's generated __new__ parses keywords (a third
        # of this method's time); the fields are in Resampling's order.
        return _new_tuple(
            Resampling,
            (
                get("interpolation", defaults.interpolation),
                get("mask_interpolation", defaults.mask_interpolation),
                get("border_mode", defaults.border_mode),
                get("fill", defaults.fill),
                get("fill_mask", defaults.fill_mask),
                get("rotate_method", defaults.bbox_method),
            ),
        )

    def resampling_for(self, geometry: Geometry, params: Mapping[str, Any]) -> Resampling:
        """The resampling of one call: the transform's own, unless it depends on the call (a
        resize that averages areas when it shrinks)."""
        return self.resampling()

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        geometry = self.geometry(params, sample)
        return Warp(geometry, self.resampling_for(geometry, params))


__all__ = ["BasicTransform", "DualTransform", "ImageOnlyTransform", "PixelTransform", "SpatialTransform"]
