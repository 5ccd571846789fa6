"""Image quality transforms: lossy compression and down-then-up resampling."""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

import cv2
import numpy as np
from pydantic import BeforeValidator, field_validator

from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import FloatRange, Interpolation, IntRange, Probability, TransformSchema
from invariance.core.transform import PixelTransform
from invariance.kernels import quality as kq


@functools.cache
def codec_available(kind: str) -> bool:
    """Whether this OpenCV build encodes and decodes ``kind`` (``jpeg`` or ``webp``): probed once,
    on a tiny image, so that a missing codec is an argument error and not a failure mid-pipeline."""
    try:
        ok, encoded = cv2.imencode(kq.EXTENSIONS[kind], np.zeros((8, 8), np.uint8))
        return bool(ok) and cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE) is not None
    except cv2.error:
        return False


class ImageCompression(PixelTransform):
    """Encode the image as JPEG or WebP at a random quality and decode it again.

    RGB images are coded as colour images (converted to OpenCV's BGR order for the codec, so the
    codec's luma is the true luma); other channel counts are coded channel by channel as grayscale.
    Float images are quantized to 256 levels for the codec and returned as float32.

    Args:
        compression_type: ``jpeg`` or ``webp``. Default: ``jpeg``.
        quality_range: range of the codec quality, within [1, 100]. Default: (99, 100).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    compression_type: str
    quality_range: tuple[int, int]

    class InitSchema(TransformSchema):
        compression_type: Literal["jpeg", "webp"] = "jpeg"
        quality_range: IntRange = (99, 100)
        p: Probability = 0.5

        @field_validator("compression_type")
        @classmethod
        def _codec(cls, value: str) -> str:
            if not codec_available(value):
                raise ValueError(f"this OpenCV build cannot encode and decode {value}")
            return value

        @field_validator("quality_range")
        @classmethod
        def _bounds(cls, value: tuple[int, int]) -> tuple[int, int]:
            if value[0] < 1 or value[1] > 100:
                raise ValueError(f"quality_range must lie within [1, 100], got {value}")
            return value

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"quality": int(rng.integers(self.quality_range[0], self.quality_range[1] + 1))}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return kq.compress(img, self.compression_type, int(params["quality"]))


def _pair_dict(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


class Downscale(PixelTransform):
    """Lower the resolution: resize by a random factor, then back to the original size.

    The image is resized to ``round(size * scale)`` (at least one pixel) with the ``downscale``
    interpolation and back with the ``upscale`` one.

    Args:
        scale_range: range of the scale factor, within (0, 1). Default: (0.25, 0.25).
        interpolation_pair: ``{"downscale": flag, "upscale": flag}`` OpenCV interpolation flags.
            Default: both nearest (0).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    scale_range: tuple[float, float]
    interpolation_pair: dict[str, int]

    class InitSchema(TransformSchema):
        scale_range: FloatRange = (0.25, 0.25)
        interpolation_pair: Annotated[
            dict[Literal["downscale", "upscale"], Interpolation], BeforeValidator(_pair_dict)
        ] = {"upscale": 0, "downscale": 0}
        p: Probability = 0.5

        @field_validator("scale_range")
        @classmethod
        def _bounds(cls, value: tuple[float, float]) -> tuple[float, float]:
            if value[0] <= 0 or value[1] >= 1:
                raise ValueError(f"scale_range must lie within (0, 1), got {value}")
            return value

        @field_validator("interpolation_pair")
        @classmethod
        def _both(cls, value: dict[str, int]) -> dict[str, int]:
            if set(value) != {"downscale", "upscale"}:
                raise ValueError(
                    f"interpolation_pair needs the keys 'downscale' and 'upscale', got {sorted(value)}"
                )
            return value

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"scale": float(uniform(rng, *self.scale_range))}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        pair = self.interpolation_pair
        return kq.downscale(img, float(params["scale"]), int(pair["downscale"]), int(pair["upscale"]))
