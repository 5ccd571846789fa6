"""Lens-like blurs: glass, defocus and zoom."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BeforeValidator, Field

from invariance.core.budget import Bounded, check_output
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema, _ordered, _pair
from invariance.core.transform import PixelTransform
from invariance.kernels import blur as kb
from invariance.transforms.blur._types import NonNegativeRange, SigmaRange

# ZoomBlur averages at most this many zoomed copies (a tiny step would otherwise ask for thousands).
MAX_ZOOM_STEPS = 256


class GlassBlur(PixelTransform):
    """Frosted-glass look: Gaussian blur, random local pixel displacement, Gaussian blur again.

    Each of ``iterations`` rounds moves every pixel's value from a random neighbour at most
    ``max_delta`` pixels away (clamped to the image). The displacements are drawn from a seed that
    is recorded in the parameters, so replays give the same picture; frames of ``images`` share it.

    Args:
        sigma: sigma of the Gaussian blurs (>= 0). Default: 0.7.
        max_delta: largest displacement in pixels (>= 1). Default: 4.
        iterations: rounds of displacement (>= 1). Default: 2.
        mode: ``"fast"`` or ``"exact"``; both use the same vectorized displacement here.
            Default: ``"fast"``.
        p: probability of applying the transform. Default: 0.5.

    Masks, boxes and keypoints are unchanged.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    family = "blur"
    example_args = {"sigma": 0.7, "max_delta": 3, "iterations": 2}

    sigma: float
    max_delta: int
    iterations: int
    mode: str

    class InitSchema(TransformSchema):
        sigma: Annotated[float, Field(ge=0), Bounded("sigma")] = 0.7
        max_delta: Annotated[int, Field(ge=1), Bounded("length")] = 4
        iterations: Annotated[int, Field(ge=1), Bounded("repeat")] = 2
        mode: Literal["fast", "exact"] = "fast"
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"noise_seed": int(rng.integers(2**31))}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        gen = np.random.default_rng(int(params["noise_seed"]))
        height, width = img.shape[:2]
        offsets = gen.integers(
            -self.max_delta, self.max_delta + 1, size=(self.iterations, height, width, 2), dtype=np.int16
        )
        return kb.glass_blur(img, self.sigma, offsets)


def _from_one(value: Any) -> Any:
    """A single number ``r`` means ``(1, r)``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    return _pair(value)


def _at_least_one(pair: tuple[Any, Any]) -> tuple[Any, Any]:
    if pair[0] < 1:
        raise ValueError(f"values must be >= 1, got {pair}")
    return pair


RadiusRange = Annotated[
    tuple[int, int], BeforeValidator(_from_one), AfterValidator(_ordered), AfterValidator(_at_least_one)
]
ZoomRange = Annotated[
    tuple[float, float], BeforeValidator(_from_one), AfterValidator(_ordered), AfterValidator(_at_least_one)
]


class Defocus(PixelTransform):
    """Out-of-focus blur: convolve with a disc of random radius, its edge softened by a small Gaussian.

    Args:
        radius: range of the disc radius in pixels (>= 1); a number ``r`` means ``(1, r)``.
            Default: (3, 10).
        alias_blur: range of sigma of the Gaussian that softens the disc's edge (>= 0); a number
            ``s`` means ``(0, s)``. Default: (0.1, 0.5).
        p: probability of applying the transform. Default: 0.5.

    Masks, boxes and keypoints are unchanged.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    family = "blur"
    example_args = {"radius": (2, 5)}

    radius: tuple[int, int]
    alias_blur: tuple[float, float]

    class InitSchema(TransformSchema):
        radius: Annotated[RadiusRange, Bounded("length")] = (3, 10)
        alias_blur: SigmaRange = (0.1, 0.5)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {
            "radius": int(rng.integers(self.radius[0], self.radius[1] + 1)),
            "alias_blur": float(uniform(rng, *self.alias_blur)),
        }

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return kb.convolve(img, kb.disc_kernel(int(params["radius"]), float(params["alias_blur"])))


class ZoomBlur(PixelTransform):
    """Radial blur of a zooming camera: the average of the image and copies zoomed about its centre.

    The zoom factors are ``1, 1 + step, 1 + 2 step, ...`` below ``max_factor`` (both drawn per call);
    the result is ``(image + sum of zoomed copies) / (count + 1)``. At most 256 copies are used
    (the step is enlarged if needed).

    Args:
        max_factor: range of the largest zoom factor (>= 1); a number ``x`` means ``(1, x)``.
            Default: (1, 1.31).
        step_factor: range of the step between zoom factors (> 0); a number ``x`` means
            ``(0, x)``. Default: (0.01, 0.03).
        p: probability of applying the transform. Default: 0.5.

    Masks, boxes and keypoints are unchanged.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    family = "blur"
    example_args = {"max_factor": (1.05, 1.2), "step_factor": (0.02, 0.04)}

    max_factor: tuple[float, float]
    step_factor: tuple[float, float]

    class InitSchema(TransformSchema):
        max_factor: ZoomRange = (1, 1.31)
        step_factor: NonNegativeRange = (0.01, 0.03)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        # Each zoomed copy is drawn at up to max_factor times the image size: the budget's output limit.
        height, width = sample.shape
        check_output("ZoomBlur", "max_factor", height * self.max_factor[1], width * self.max_factor[1])
        max_factor = float(uniform(rng, *self.max_factor))
        step = float(uniform(rng, *self.step_factor))
        return {"max_factor": max_factor, "step": max(step, (max_factor - 1.0) / MAX_ZOOM_STEPS, 1e-6)}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        factors = np.arange(1.0, float(params["max_factor"]), float(params["step"]))
        return kb.zoom_blur(img, factors)
