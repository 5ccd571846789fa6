"""Sharpening and filter transforms: Sharpen, UnsharpMask, Emboss, RingingOvershoot, Superpixels."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import cv2
import numpy as np
from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from invariance.core.budget import Bounded
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import FloatRange, Interpolation, Probability, TransformSchema, _ordered, _pair
from invariance.core.transform import PixelTransform
from invariance.kernels import filters as kf
from invariance.kernels._cv import restore_channel_axis
from invariance.transforms.blur._types import OddKernelRange, SigmaRange, UnitRange, random_odd


def _unit_pair(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] < 0 or pair[1] > 1:
        raise ValueError(f"values must lie in [0, 1], got {pair}")
    return pair


AlphaRange = Annotated[
    tuple[float, float], BeforeValidator(_pair), AfterValidator(_ordered), AfterValidator(_unit_pair)
]


def _positive_pair(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] < 0:
        raise ValueError(f"values must be non-negative, got {pair}")
    return pair


PositiveRange = Annotated[
    tuple[float, float], BeforeValidator(_pair), AfterValidator(_ordered), AfterValidator(_positive_pair)
]


class Sharpen(PixelTransform):
    """Sharpen with a Laplacian kernel, or by extrapolating away from a Gaussian blur.

    ``method="kernel"``: correlate with ``(1 - alpha) I + alpha (L + lightness I)`` where ``L`` is
    the 8-neighbour Laplacian (centre 8, neighbours -1) and ``I`` the identity kernel.
    ``method="gaussian"``: ``(1 + alpha) image - alpha gaussian(image)`` with ``kernel_size`` and
    ``sigma``. uint8 results saturate; float32 results are clipped to [0, 1].

    Args:
        alpha: range of the strength, within [0, 1]. Default: (0.2, 0.5).
        lightness: range of the lightness added to the kernel's centre (>= 0; kernel method).
            Default: (0.5, 1.0).
        method: ``"kernel"`` or ``"gaussian"``. Default: ``"kernel"``.
        kernel_size: odd Gaussian kernel size for the gaussian method (or 0: from sigma). Default: 5.
        sigma: Gaussian sigma for the gaussian method (> 0). Default: 1.0.
        p: probability of applying the transform. Default: 0.5.

    Masks, boxes and keypoints are unchanged.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    family = "filter"
    example_args = {"alpha": (0.2, 0.5), "lightness": (0.5, 1.0)}

    alpha: tuple[float, float]
    lightness: tuple[float, float]
    method: str
    kernel_size: int
    sigma: float

    class InitSchema(TransformSchema):
        alpha: AlphaRange = (0.2, 0.5)
        lightness: PositiveRange = (0.5, 1.0)
        method: Literal["kernel", "gaussian"] = "kernel"
        kernel_size: Annotated[int, Field(ge=0), Bounded("kernel")] = 5
        sigma: Annotated[float, Field(gt=0), Bounded("sigma")] = 1.0
        p: Probability = 0.5

        @model_validator(mode="after")
        def _odd_size(self) -> Sharpen.InitSchema:
            if self.kernel_size != 0 and self.kernel_size % 2 == 0:
                raise ValueError(f"kernel_size must be odd (or 0), got {self.kernel_size}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"alpha": float(uniform(rng, *self.alpha)), "lightness": float(uniform(rng, *self.lightness))}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        alpha = float(params["alpha"])
        if self.method == "gaussian":
            return kf.blend_with_blur(img, 1.0 + alpha, self.kernel_size, self.sigma)
        return kf.filter_kernel(img, kf.sharpen_kernel(alpha, float(params["lightness"])))


class UnsharpMask(PixelTransform):
    """Unsharp masking: add back the detail ``image - gaussian(image)`` where it is strong.

    ``sharp = clip(image + alpha * detail)``; pixels whose detail exceeds ``threshold`` (0..255
    scale) form a mask, softened by the same Gaussian, that blends ``sharp`` over the image.

    Args:
        blur_limit: range of odd Gaussian kernel sizes >= 3; a number ``k`` means ``(3, k)``.
            Default: (3, 7).
        sigma_limit: range of the Gaussian sigma (0: derived from the kernel size, as OpenCV does);
            a number ``s`` means ``(0, s)``. Default: 0.0.
        alpha: range of the sharpening strength, within [0, 1]; a number ``a`` means ``(0, a)``.
            Default: (0.2, 0.5).
        threshold: smallest detail (0..255 scale) that is sharpened, within [0, 255]. Default: 10.
        p: probability of applying the transform. Default: 0.5.

    Masks, boxes and keypoints are unchanged.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    family = "filter"
    example_args = {"blur_limit": (3, 7), "alpha": (0.2, 0.5)}

    blur_limit: tuple[int, int]
    sigma_limit: tuple[float, float]
    alpha: tuple[float, float]
    threshold: int

    class InitSchema(TransformSchema):
        blur_limit: OddKernelRange = (3, 7)
        sigma_limit: SigmaRange = 0.0  # type: ignore[assignment]
        alpha: UnitRange = (0.2, 0.5)
        threshold: int = Field(default=10, ge=0, le=255)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {
            "ksize": random_odd(rng, *self.blur_limit),
            "sigma": float(uniform(rng, *self.sigma_limit)),
            "alpha": float(uniform(rng, *self.alpha)),
        }

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return kf.unsharp_mask(
            img, int(params["ksize"]), float(params["sigma"]), float(params["alpha"]), float(self.threshold)
        )


class Emboss(PixelTransform):
    """Emboss (relief) effect: correlate with ``(1 - alpha) I + alpha E``.

    ``E = [[-1-s, -s, 0], [-s, 1, s], [0, s, 1+s]]`` with ``s`` the strength: light appears to come
    from the top left.

    Args:
        alpha: range of the visibility of the relief, within [0, 1]. Default: (0.2, 0.5).
        strength: range of the relief strength (>= 0). Default: (0.2, 0.7).
        p: probability of applying the transform. Default: 0.5.

    Masks, boxes and keypoints are unchanged.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    family = "filter"
    example_args = {"alpha": (0.2, 0.5), "strength": (0.2, 0.7)}

    alpha: tuple[float, float]
    strength: tuple[float, float]

    class InitSchema(TransformSchema):
        alpha: AlphaRange = (0.2, 0.5)
        strength: PositiveRange = (0.2, 0.7)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"alpha": float(uniform(rng, *self.alpha)), "strength": float(uniform(rng, *self.strength))}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return kf.filter_kernel(img, kf.emboss_kernel(float(params["alpha"]), float(params["strength"])))


def _cutoff_range(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] < 0 or pair[1] > math.pi:
        raise ValueError(f"cutoff must lie in [0, pi], got {pair}")
    return pair


class RingingOvershoot(PixelTransform):
    """Ringing and overshoot artifacts: filter with a truncated 2-D sinc (ideal low-pass) kernel.

    Args:
        blur_limit: range of odd kernel sizes >= 3; a number ``k`` means ``(3, k)``. Default: (7, 15).
        cutoff: range of the cutoff frequency in radians per pixel, within [0, pi].
            Default: (pi / 4, pi / 2).
        p: probability of applying the transform. Default: 0.5.

    Masks, boxes and keypoints are unchanged.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    family = "filter"
    example_args = {"blur_limit": (7, 11)}

    blur_limit: tuple[int, int]
    cutoff: tuple[float, float]

    class InitSchema(TransformSchema):
        blur_limit: OddKernelRange = (7, 15)
        cutoff: Annotated[FloatRange, AfterValidator(_cutoff_range)] = (math.pi / 4, math.pi / 2)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"ksize": random_odd(rng, *self.blur_limit), "cutoff": float(uniform(rng, *self.cutoff))}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return kf.filter_kernel(img, kf.sinc_kernel(int(params["ksize"]), float(params["cutoff"])))


def _segments_from_one(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    return _pair(value)


def _at_least_one(pair: tuple[int, int]) -> tuple[int, int]:
    if pair[0] < 1:
        raise ValueError(f"n_segments must be >= 1, got {pair}")
    return pair


SegmentsRange = Annotated[
    tuple[int, int],
    BeforeValidator(_segments_from_one),
    AfterValidator(_ordered),
    AfterValidator(_at_least_one),
]


class Superpixels(PixelTransform):
    """Replace some SLIC superpixels by their mean colour (a cartoon/posterized look).

    The image is segmented into about ``n_segments`` superpixels (SLIC: k-means on colour and
    position; computed on a copy shrunk so its longer side is at most ``max_size``, with
    ``interpolation``). Each superpixel is replaced, with probability ``p_replace``, by its mean
    colour computed at full resolution; the others keep their pixels exactly.

    Args:
        p_replace: range of the probability of replacing a superpixel, within [0, 1]; a number
            ``x`` means ``(0, x)``. Default: (0, 0.1).
        n_segments: range of the target number of superpixels (>= 1); a number ``n`` means
            ``(1, n)``. Default: (100, 100).
        max_size: longest side at which segmentation runs (None: full size). Default: 128.
        interpolation: OpenCV flag used to shrink the image for segmentation. Default: 1 (linear).
        p: probability of applying the transform. Default: 0.5.

    Masks, boxes and keypoints are unchanged.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    family = "filter"
    example_args = {"p_replace": (0.3, 0.6), "n_segments": (20, 40), "max_size": 64}

    p_replace: tuple[float, float]
    n_segments: tuple[int, int]
    max_size: int | None
    interpolation: int

    class InitSchema(TransformSchema):
        p_replace: UnitRange = (0, 0.1)
        n_segments: Annotated[SegmentsRange, Bounded("count")] = (100, 100)
        max_size: int | None = Field(default=128, ge=1)
        interpolation: Interpolation = 1  # cv2.INTER_LINEAR
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {
            "n_segments": int(rng.integers(self.n_segments[0], self.n_segments[1] + 1)),
            "replace_p": float(uniform(rng, *self.p_replace)),
            "noise_seed": int(rng.integers(2**31)),
        }

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        height, width = img.shape[:2]
        small = img
        if self.max_size is not None and max(height, width) > self.max_size:
            scale = self.max_size / max(height, width)
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = restore_channel_axis(cv2.resize(img, size, interpolation=self.interpolation), img)
        labels = kf.slic_labels(small, int(params["n_segments"]))
        if labels.shape != (height, width):
            labels = cv2.resize(labels, (width, height), interpolation=cv2.INTER_NEAREST)
        count = int(labels.max()) + 1
        gen = np.random.default_rng(int(params["noise_seed"]))
        replace = gen.random(count) < float(params["replace_p"])
        return kf.superpixels(img, labels, replace)
