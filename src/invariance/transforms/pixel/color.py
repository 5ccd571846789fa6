"""Colour and tone transforms."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from invariance.core.errors import InputError
from invariance.core.sample import Sample
from invariance.core.schema import Probability, SymmetricRange, TransformSchema
from invariance.core.transform import PixelTransform
from invariance.kernels import color as kc


class RandomBrightnessContrast(PixelTransform):
    """Change brightness and contrast: ``out = img * (1 + contrast) + brightness * white``.

    ``white`` is 255 for uint8 and 1 for float32 (or the image mean when ``brightness_by_max`` is
    False). Results saturate to the dtype's range. uint8 images go through one lookup table.

    Args:
        brightness_limit: range of the brightness shift as a fraction of ``white``; a number ``x``
            means ``(-x, x)``. Default: (-0.2, 0.2).
        contrast_limit: range of the contrast change; a number ``x`` means ``(-x, x)``.
            Default: (-0.2, 0.2).
        brightness_by_max: scale brightness by the dtype's maximum (else by the image mean).
        ensure_safe_range: shrink the change so no pixel saturates.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, images (masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    brightness_limit: tuple[float, float]
    contrast_limit: tuple[float, float]
    brightness_by_max: bool
    ensure_safe_range: bool

    class InitSchema(TransformSchema):
        brightness_limit: SymmetricRange = (-0.2, 0.2)
        contrast_limit: SymmetricRange = (-0.2, 0.2)
        brightness_by_max: bool = True
        ensure_safe_range: bool = False
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        alpha = 1.0 + float(rng.uniform(*self.contrast_limit))
        beta = float(rng.uniform(*self.brightness_limit))
        image = sample.image
        white = kc.max_value(image.dtype) if image is not None else 255.0
        if self.brightness_by_max or image is None:
            beta *= white
        else:
            beta *= float(np.mean(image))
        if self.ensure_safe_range:
            alpha, beta = kc.safe_brightness_contrast(alpha, beta, white)
        # beta is stored in units of the white level so the same params fit uint8 and float frames.
        return {"alpha": alpha, "beta": beta / white}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return kc.multiply_add(img, float(params["alpha"]), float(params["beta"]) * kc.max_value(img.dtype))


GrayMethod = Literal["weighted_average", "from_lab", "desaturation", "average", "max", "pca"]


class ToGray(PixelTransform):
    """Convert to grayscale, keeping ``num_output_channels`` identical channels.

    Methods: ``weighted_average`` (ITU-R 601 luma: 0.299 R + 0.587 G + 0.114 B), ``from_lab``
    (L of CIE Lab), ``desaturation`` ((max + min) / 2), ``average``, ``max``, and ``pca`` (the
    first principal component of the pixels, rescaled to the full range). ``weighted_average`` and
    ``from_lab`` need RGB input; the others accept any number of channels. A single-channel image
    is only repeated.

    Args:
        num_output_channels: channels of the output (>= 1). Default: 3.
        method: one of the methods above. Default: ``weighted_average``.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, images. Dtypes: uint8, float32.
    """

    supported_channels = "rgb"

    num_output_channels: int
    method: str

    class InitSchema(TransformSchema):
        num_output_channels: int = Field(default=3, ge=1)
        method: GrayMethod = "weighted_average"
        p: Probability = 0.5

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        if self.method in ("weighted_average", "from_lab") and img.ndim == 3 and img.shape[2] not in (1, 3):
            raise InputError(
                f"ToGray(method={self.method!r}) needs an RGB (3-channel) or single-channel image, got "
                f"{img.shape[2]} channels; use method='average', 'max', 'desaturation' or 'pca' instead"
            )
        return kc.to_gray(img, self.method, self.num_output_channels)
