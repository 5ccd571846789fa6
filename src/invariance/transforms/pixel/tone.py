"""Tone transforms: curves (gamma, tone curve, posterize, solarize, invert) and histogram operations.

Curves are applied to uint8 images through one 256-entry lookup table; float32 images get the
same curve evaluated on their values and stay in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BeforeValidator, Field, field_validator

from invariance.core.budget import Bounded
from invariance.core.errors import InputError
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import FloatRange, Probability, TransformSchema, _ordered, _pair
from invariance.core.transform import PixelTransform
from invariance.kernels import tone as kt
from invariance.transforms.pixel._checks import channels_of, require_rgb


def _from_one(value: Any) -> Any:
    """A single number ``x`` means the range between 1 and ``x``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (min(1.0, float(value)), max(1.0, float(value)))
    return _pair(value)


FromOneRange = Annotated[tuple[float, float], BeforeValidator(_from_one), AfterValidator(_ordered)]


class RandomGamma(PixelTransform):
    """Gamma correction ``out = img ** gamma`` (values scaled to [0, 1]), ``gamma = g / 100``.

    Args:
        gamma_limit: range of ``g`` (> 0), in percent; a number ``x`` means ``(1, x)``.
            Default: (80, 120).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    gamma_limit: tuple[float, float]

    class InitSchema(TransformSchema):
        gamma_limit: FromOneRange = (80, 120)
        p: Probability = 0.5

        @field_validator("gamma_limit")
        @classmethod
        def _positive(cls, value: tuple[float, float]) -> tuple[float, float]:
            if value[0] <= 0:
                raise ValueError(f"gamma_limit must be positive, got {value}")
            return value

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"gamma": float(uniform(rng, *self.gamma_limit)) / 100.0}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return kt.gamma(img, float(params["gamma"]))


class RandomToneCurve(PixelTransform):
    """Apply a random S-shaped tone curve.

    The curve maps ``x`` to the cubic Bezier ``B(t)`` with control values 0, ``y1``, ``y2``, 1 at
    ``t = x``, with ``y1 ~ N(0.25, scale)`` and ``y2 ~ N(0.75, scale)`` clipped to [0, 1].

    Args:
        scale: standard deviation of the control-point moves, in [0, 1]. Default: 0.1.
        per_channel: draw one curve per channel instead of one shared curve. Default: False.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    scale: float
    per_channel: bool

    class InitSchema(TransformSchema):
        scale: float = Field(default=0.1, ge=0.0, le=1.0)
        per_channel: bool = False
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        count = sample.num_channels if self.per_channel else 1
        low = np.clip(rng.normal(0.25, self.scale, count), 0.0, 1.0)
        high = np.clip(rng.normal(0.75, self.scale, count), 0.0, 1.0)
        return {"low_y": low.tolist(), "high_y": high.tolist()}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        low, high = list(params["low_y"]), list(params["high_y"])
        if len(low) > 1 and len(low) != channels_of(img):
            low, high = low[:1], high[:1]
        return kt.tone_curve(img, low, high)


class CLAHE(PixelTransform):
    """Contrast-limited adaptive histogram equalization (on the L channel of Lab for RGB).

    Float images are quantized to 256 levels for the histogram and returned as float32.

    Args:
        clip_limit: range of the contrast limit (>= 1); a number ``x`` means ``(1, x)``. Default: (1, 4).
        tile_grid_size: tiles along (rows, columns), each >= 1. Default: (8, 8).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    supported_channels = "rgb"

    clip_limit: tuple[float, float]
    tile_grid_size: tuple[int, int]

    class InitSchema(TransformSchema):
        clip_limit: FromOneRange = (1.0, 4.0)
        tile_grid_size: Annotated[Annotated[tuple[int, int], BeforeValidator(_pair)], Bounded("count")] = (
            8,
            8,
        )
        p: Probability = 0.5

        @field_validator("tile_grid_size")
        @classmethod
        def _tiles(cls, value: tuple[int, int]) -> tuple[int, int]:
            if min(value) < 1:
                raise ValueError(f"tile_grid_size values must be >= 1, got {value}")
            return value

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"clip_limit": float(uniform(rng, *self.clip_limit))}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        require_rgb(img, type(self).__name__)
        return kt.clahe(img, float(params["clip_limit"]), self.tile_grid_size)


MaskSource = np.ndarray | Callable[..., Any] | None


class Equalize(PixelTransform):
    """Histogram equalization, per channel or on the luma.

    ``mode='cv'`` follows OpenCV's ``equalizeHist`` (the first occupied level maps to 0 and the
    cumulative histogram is scaled to 255); ``mode='pil'`` follows Pillow's ``ImageOps.equalize``.
    With ``by_channels=False`` an RGB image is equalized on the Y channel of YCrCb. A ``mask``
    restricts which pixels are counted in the histogram (all pixels are remapped); it is an array
    of the image's height and width (one channel, or one per image channel) or a function called
    as ``mask(image, *values)`` with the call's data named by ``mask_params``. Float images are
    quantized to 256 levels and returned as float32.

    Args:
        mode: ``cv`` or ``pil``. Default: ``cv``.
        by_channels: equalize each channel (True) or the luma only. Default: True.
        mask: pixels to count, or a function making them. Default: None (all pixels).
        mask_params: keys of the call's data passed to a mask function. Default: ().
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    supported_channels = "rgb"

    mode: str
    by_channels: bool
    mask: Any
    mask_params: tuple[str, ...]

    class InitSchema(TransformSchema):
        mode: Literal["cv", "pil"] = "cv"
        by_channels: bool = True
        mask: MaskSource = None
        mask_params: Annotated[tuple[str, ...], BeforeValidator(_pair)] = ()
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        if not callable(self.mask):
            return {}
        image = sample.image
        values = [sample.data[name] for name in self.mask_params]
        return {"mask": np.asarray(self.mask(image, *values))}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        require_rgb(img, type(self).__name__)
        mask = params.get("mask", None if callable(self.mask) else self.mask)
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape[:2] != img.shape[:2]:
                raise InputError(f"Equalize: mask of shape {mask.shape} does not match image {img.shape}")
        return kt.equalize(img, self.mode, self.by_channels, mask)


class AutoContrast(PixelTransform):
    """Stretch each channel's levels to the full range.

    ``cutoff`` percent of the pixels are ignored at each end of the histogram; the level ``ignore``
    is neither counted nor changed. ``method='pil'`` maps the kept levels linearly (as Pillow's
    ``ImageOps.autocontrast``); ``method='cdf'`` maps them through their cumulative distribution.
    Channels with a single level are unchanged. Float images are quantized to 256 levels.

    Args:
        cutoff: percent of pixels cut at each end, in [0, 50). Default: 0.
        ignore: a level in [0, 255] to leave out, or None. Default: None.
        method: ``cdf`` or ``pil``. Default: ``cdf``.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    cutoff: float
    ignore: int | None
    method: str

    class InitSchema(TransformSchema):
        cutoff: float = Field(default=0, ge=0.0, lt=50.0)
        ignore: int | None = Field(default=None, ge=0, le=255)
        method: Literal["cdf", "pil"] = "cdf"
        p: Probability = 0.5

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return kt.autocontrast(img, self.cutoff, self.ignore, self.method)


def _bits(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    if isinstance(value, list) and value and isinstance(value[0], (list, tuple)):
        return [tuple(v) for v in value]
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value) and len(value) != 2:
        return [(v, v) for v in value]
    return _pair(value)


def _check_bits(value: Any) -> Any:
    ranges = value if isinstance(value, list) else [value]
    for low, high in ranges:
        if not 0 <= low <= high <= 8:
            raise ValueError(f"bit counts must satisfy 0 <= low <= high <= 8, got {value}")
    return value


BitsSpec = Annotated[
    tuple[int, int] | list[tuple[int, int]], BeforeValidator(_bits), AfterValidator(_check_bits)
]


class Posterize(PixelTransform):
    """Keep only the most significant bits of each channel: ``2 ** bits`` levels remain.

    Args:
        num_bits: bits to keep, in [0, 8]: a number, a range ``(low, high)`` drawn per call, or a
            list of ranges (or numbers), one per channel. Default: 4.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    num_bits: Any

    class InitSchema(TransformSchema):
        num_bits: BitsSpec = (4, 4)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        if isinstance(self.num_bits, list):
            return {"bits": [int(rng.integers(low, high + 1)) for low, high in self.num_bits]}
        low, high = self.num_bits
        return {"bits": [int(rng.integers(low, high + 1))]}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        bits: Sequence[int] = params["bits"]
        if len(bits) > 1 and len(bits) != channels_of(img):
            raise InputError(
                f"Posterize: num_bits has {len(bits)} ranges but the image has {channels_of(img)} channels"
            )
        return kt.posterize(img, bits)


class Solarize(PixelTransform):
    """Invert every value at or above a threshold (``white - x`` for ``x >= threshold``).

    Args:
        threshold_range: range of the threshold as a fraction of the white level, within [0, 1].
            Default: (0.5, 0.5).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    threshold_range: tuple[float, float]

    class InitSchema(TransformSchema):
        threshold_range: FloatRange = (0.5, 0.5)
        p: Probability = 0.5

        @field_validator("threshold_range")
        @classmethod
        def _unit(cls, value: tuple[float, float]) -> tuple[float, float]:
            if value[0] < 0 or value[1] > 1:
                raise ValueError(f"threshold_range must lie within [0, 1], got {value}")
            return value

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"threshold": float(uniform(rng, *self.threshold_range))}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return kt.solarize(img, float(params["threshold"]))


class InvertImg(PixelTransform):
    """Invert the image: ``white - img`` (255 for uint8, 1 for float32).

    Args:
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    class InitSchema(TransformSchema):
        p: Probability = 0.5

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return kt.invert(img)
