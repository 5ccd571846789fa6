"""Domain adaptation with reference images: FDA, HistogramMatching, PixelDistributionAdaptation.

Reference images come with each call, as in Albumentations 2.x: the call's data holds, under
``metadata_key``, a list of reference images (arrays, or paths read with ``read_fn``); one is
picked per call with the pipeline's Generator. The deprecated ``reference_images`` argument is
still honoured as a fallback when the call carries no metadata.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BeforeValidator

from invariance.core.effects import Effects, Pixels
from invariance.core.errors import ImageFileError, InputError
from invariance.core.image_io import read_image
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema, from_zero
from invariance.core.transform import PixelTransform
from invariance.kernels import domain as kd


def read_rgb_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as RGB uint8 (the default ``read_fn``), its size checked before decoding."""
    try:
        return read_image(path, color="rgb")
    except ImageFileError as error:
        raise InputError(f"cannot read the reference image {os.fspath(path)!r}: {error}") from None


def _ordered_unit(pair: tuple[float, float]) -> tuple[float, float]:
    low, high = pair
    if low > high:
        raise ValueError(f"the range's lower bound {low} is greater than its upper bound {high}")
    if not (low >= 0.0 and high <= 1.0):
        raise ValueError(f"both values must lie in [0, 1], got {pair}")
    return pair


BlendRange = Annotated[tuple[float, float], BeforeValidator(from_zero), AfterValidator(_ordered_unit)]


def _half(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[1] > 0.5:
        raise ValueError(f"beta must lie in [0, 0.5], got {pair}")
    return pair


BetaRange = Annotated[
    tuple[float, float], BeforeValidator(from_zero), AfterValidator(_ordered_unit), AfterValidator(_half)
]


def _as_images(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.ndim in (2, 3) and value.dtype != object:
        return [value]
    if isinstance(value, (list, tuple)):
        return [np.asarray(v) if isinstance(v, (list, tuple)) else v for v in value]
    raise ValueError(f"expected a list of images or paths, got {type(value).__name__}")


class _ReferenceTransform(PixelTransform):
    """Picks a reference image per call from the call's metadata (or the deprecated argument)."""

    family = "domain"

    reference_images: list[Any] | None
    read_fn: Callable[[Any], np.ndarray] | None
    metadata_key: str

    @classmethod
    def legacy(cls, given: dict[str, Any]) -> dict[str, Any]:
        if given.get("reference_images") is not None:
            warnings.warn(
                f"{cls.__name__}: 'reference_images' is deprecated; pass the references with the call "
                f"under metadata_key (default {cls.InitSchema.model_fields['metadata_key'].default!r})",
                DeprecationWarning,
                stacklevel=5,
            )
        return given

    def init_args(self) -> dict[str, Any]:
        args = super().init_args()
        if args.get("read_fn") is read_rgb_image:
            args.pop("read_fn")  # the default reader: nothing to serialize
        return args

    def _references(self, sample: Sample) -> list[Any]:
        key = self.metadata_key
        if key in sample.data:
            refs = sample.data[key]
            if isinstance(refs, np.ndarray) and refs.ndim in (2, 3):
                refs = [refs]
            if not isinstance(refs, (list, tuple)) or not refs:
                raise InputError(
                    f"{type(self).__name__}: data[{key!r}] must be a non-empty list of reference images, "
                    f"got {type(refs).__name__}"
                )
            return list(refs)
        if self.reference_images:
            return list(self.reference_images)
        raise InputError(
            f"{type(self).__name__} needs reference images: pass them with the call as {key}=[image, ...] "
            f"(metadata_key={key!r})"
        )

    def _load(self, item: Any) -> np.ndarray:
        if isinstance(item, (str, os.PathLike)):
            reader = self.read_fn or read_rgb_image
            item = reader(item)
        image = np.asarray(item)
        if image.ndim not in (2, 3) or image.size == 0:
            raise InputError(
                f"{type(self).__name__}: a reference image must be an (H, W) or (H, W, C) array, "
                f"got shape {image.shape}"
            )
        if image.dtype != np.uint8:
            # Integer arrays (a reference read back from a saved policy) hold 0..255 values.
            integer = np.issubdtype(image.dtype, np.integer)
            image = np.clip(image, 0, 255).astype(np.uint8) if integer else image.astype(np.float32)
        return image

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        refs = self._references(sample)
        params = self.draw(rng)
        params["index"] = int(rng.integers(len(refs)))
        return params

    def draw(self, rng: np.random.Generator) -> dict[str, Any]:
        raise NotImplementedError

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        refs = self._references(sample)
        reference = self._load(refs[int(params["index"]) % len(refs)])
        return Pixels(lambda img: self.apply(img, reference=reference, **params))


class FDA(_ReferenceTransform):
    """Fourier Domain Adaptation: give the image the low-frequency amplitude spectrum (global
    colour and illumination "style") of a reference image, keeping its phase (content).

    ``beta`` is drawn from ``beta_limit``; the amplitude inside the centred square of half-side
    ``floor(beta * min(H, W))`` around the zero frequency is taken from the reference (resized to
    the image). References come with the call: ``transform(image=img, fda_metadata=[ref, ...])``.

    Args:
        reference_images: deprecated; references used when the call carries none. Default: None.
        beta_limit: range of ``beta`` inside [0, 0.5]; a number ``x`` means ``(0, x)``. Default: (0, 0.1).
        read_fn: reads a reference given as a path (default: RGB via OpenCV).
        metadata_key: key of the call's data holding the references. Default: "fda_metadata".
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    beta_limit: tuple[float, float]

    class InitSchema(TransformSchema):
        reference_images: Annotated[Any, BeforeValidator(_as_images)] = None
        beta_limit: BetaRange = (0, 0.1)
        read_fn: Callable[[Any], np.ndarray] | None = read_rgb_image
        metadata_key: str = "fda_metadata"
        p: Probability = 0.5

    def draw(self, rng: np.random.Generator) -> dict[str, Any]:
        return {"beta": float(uniform(rng, *self.beta_limit))}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return kd.fda(img, params["reference"], float(params["beta"]))


class HistogramMatching(_ReferenceTransform):
    """Match the histogram of each channel to a reference image's, then blend with the original:
    ``out = r * matched + (1 - r) * img`` with ``r`` drawn from ``blend_ratio``.

    References come with the call: ``transform(image=img, hm_metadata=[ref, ...])``.

    Args:
        reference_images: deprecated; references used when the call carries none. Default: None.
        blend_ratio: range of ``r`` inside [0, 1]. Default: (0.5, 1.0).
        read_fn: reads a reference given as a path (default: RGB via OpenCV).
        metadata_key: key of the call's data holding the references. Default: "hm_metadata".
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    blend_ratio: tuple[float, float]

    class InitSchema(TransformSchema):
        reference_images: Annotated[Any, BeforeValidator(_as_images)] = None
        blend_ratio: BlendRange = (0.5, 1.0)
        read_fn: Callable[[Any], np.ndarray] | None = read_rgb_image
        metadata_key: str = "hm_metadata"
        p: Probability = 0.5

    def draw(self, rng: np.random.Generator) -> dict[str, Any]:
        return {"blend_ratio": float(uniform(rng, *self.blend_ratio))}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return kd.histogram_matching(img, params["reference"], float(params["blend_ratio"]))


class PixelDistributionAdaptation(_ReferenceTransform):
    """Move the image's pixel distribution onto a reference image's, then blend with the original.

    Pixels are points in channel space. ``standard`` matches each channel's mean and standard
    deviation, ``minmax`` its range, ``pca`` the mean and covariance (whiten along the image's
    principal axes, recolour along the reference's). The result is blended with the original by
    ``r`` drawn from ``blend_ratio``. References come with the call:
    ``transform(image=img, pda_metadata=[ref, ...])``.

    Args:
        reference_images: deprecated; references used when the call carries none. Default: None.
        blend_ratio: range of ``r`` inside [0, 1]. Default: (0.25, 1.0).
        read_fn: reads a reference given as a path (default: RGB via OpenCV).
        transform_type: "pca", "standard" or "minmax". Default: "pca".
        metadata_key: key of the call's data holding the references. Default: "pda_metadata".
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    blend_ratio: tuple[float, float]
    transform_type: str

    class InitSchema(TransformSchema):
        reference_images: Annotated[Any, BeforeValidator(_as_images)] = None
        blend_ratio: BlendRange = (0.25, 1.0)
        read_fn: Callable[[Any], np.ndarray] | None = read_rgb_image
        transform_type: Literal["pca", "standard", "minmax"] = "pca"
        metadata_key: str = "pda_metadata"
        p: Probability = 0.5

    def draw(self, rng: np.random.Generator) -> dict[str, Any]:
        return {"blend_ratio": float(uniform(rng, *self.blend_ratio))}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return kd.pixel_distribution_adaptation(
            img, params["reference"], float(params["blend_ratio"]), self.transform_type
        )


def _example_reference() -> list[np.ndarray]:
    ramp = np.linspace(40, 220, 12, dtype=np.float32)
    ref = np.stack(np.broadcast_arrays(ramp[None, :], ramp[:, None], np.full((12, 12), 90.0)), axis=2)
    return [ref.astype(np.uint8)]


for _cls in (FDA, HistogramMatching, PixelDistributionAdaptation):
    _cls.example_args = {"reference_images": _example_reference()}
