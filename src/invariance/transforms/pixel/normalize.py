"""Normalization to float32 network input."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import model_validator

from invariance.core.errors import ParameterError
from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema
from invariance.core.transform import PixelTransform
from invariance.kernels import color as kc

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Normalization = Literal["standard", "image", "image_per_channel", "min_max", "min_max_per_channel"]


class Normalize(PixelTransform):
    """Normalize pixel values to float32.

    ``standard``: ``(img / max_pixel_value - mean) / std`` (uint8 through one per-channel lookup
    table). ``mean`` and ``std`` each hold one value (used for every channel) or one value per
    channel. A count that fits neither raises ``ParameterError`` naming the argument and the
    image's channel count (Albumentations silently uses the first value there). Two exceptions
    keep Albumentations' fallback to the first value: a single-channel image, and the default
    ImageNet statistics on an image that is not RGB. ``image``: zero mean and unit variance over the whole image. ``image_per_channel``: the
    same per channel. ``min_max``: rescale to [0, 1] by the image's minimum and maximum.
    ``min_max_per_channel``: the same per channel.

    Args:
        mean, std: per-channel (or single) values for ``standard``. Defaults: ImageNet statistics.
        max_pixel_value: the white level for ``standard``. Default: 255.
        normalization: one of the modes above. Default: ``standard``.
        p: probability of applying the transform. Default: 1.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32 in; float32 out.
    """

    changes_dtype = True

    mean: Any
    std: Any
    max_pixel_value: float | None
    normalization: str

    class InitSchema(TransformSchema):
        mean: tuple[float, ...] | float | None = IMAGENET_MEAN
        std: tuple[float, ...] | float | None = IMAGENET_STD
        max_pixel_value: float | None = 255.0
        normalization: Normalization = "standard"
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> Normalize.InitSchema:
            if self.normalization == "standard":
                if self.mean is None or self.std is None or self.max_pixel_value is None:
                    raise ValueError(
                        "mean, std and max_pixel_value are required for normalization='standard'"
                    )
                stds = np.atleast_1d(np.asarray(self.std, dtype=np.float64))
                if np.any(stds == 0):
                    raise ValueError(f"std must not contain zeros, got {self.std}")
                if self.max_pixel_value <= 0:
                    raise ValueError(f"max_pixel_value must be > 0, got {self.max_pixel_value}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        if self.normalization == "standard":
            self._check_channels(sample.num_channels)
        return {}

    def _check_channels(self, channels: int) -> None:
        """Refuse ``mean`` / ``std`` whose value count fits neither one value nor the channel count."""
        if channels == 1:
            return
        for name, default in (("mean", IMAGENET_MEAN), ("std", IMAGENET_STD)):
            value = getattr(self, name)
            count = len(value) if isinstance(value, (tuple, list)) else int(np.asarray(value).size)
            if count not in (1, channels) and tuple(np.atleast_1d(value).tolist()) != default:
                raise ParameterError(
                    f"Normalize: argument {name!r} = {getattr(self, name)!r} has {count} values but the "
                    f"image has {channels} channels; expected 1 value or {channels} (one per channel)"
                )

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        if self.normalization == "standard":
            assert self.mean is not None and self.std is not None and self.max_pixel_value is not None
            return kc.normalize_standard(img, self.mean, self.std, self.max_pixel_value)
        return kc.normalize_by_statistics(img, self.normalization)
