"""Tints and lens colour effects: sepia, illuminant colour temperature, chromatic aberration."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import model_validator

from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import (
    Interpolation,
    IntRange,
    Probability,
    SymmetricRange,
    TransformSchema,
)
from invariance.core.transform import PixelTransform
from invariance.kernels import color as kc
from invariance.transforms.pixel._checks import channels_of, require_rgb


class ToSepia(PixelTransform):
    """Apply the classic sepia colour matrix to an RGB image.

    A single-channel image has no colour to tint and is returned unchanged (as Albumentations
    does). Results saturate.

    Args:
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    supported_channels = "rgb"

    class InitSchema(TransformSchema):
        p: Probability = 0.5

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        require_rgb(img, type(self).__name__)
        if channels_of(img) == 1:
            return img.copy()
        return kc.sepia(img)


PLANCKIAN_DEFAULTS = {"blackbody": (3000, 15000), "cied": (4000, 15000)}
DAYLIGHT = 6500.0


class PlanckianJitter(PixelTransform):
    """Recolour the image as if lit by an illuminant of a random colour temperature.

    Each channel is multiplied by the illuminant's gain relative to green: the linear-sRGB colour
    of a black body (``blackbody``, Planckian locus) or of the CIE D daylight series (``cied``) at
    the drawn temperature. Low temperatures warm the image (red), high ones cool it (blue).
    ``sampling_method='gaussian'`` draws around 6500 K: a side is picked with even odds and the
    distance from 6500 K is half-normal with a third of that side's span as deviation, clipped
    to the range. Single-channel images are returned unchanged.

    Args:
        mode: ``blackbody`` or ``cied``. Default: ``blackbody``.
        temperature_limit: range in kelvin; None means (3000, 15000) for blackbody and
            (4000, 15000) for cied. Values must lie in [3000, 15000] (cied: [4000, 15000]).
        sampling_method: ``uniform`` or ``gaussian``. Default: ``uniform``.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    supported_channels = "rgb"

    mode: str
    temperature_limit: tuple[int, int] | None
    sampling_method: str

    class InitSchema(TransformSchema):
        mode: Literal["blackbody", "cied"] = "blackbody"
        temperature_limit: IntRange | None = None
        sampling_method: Literal["uniform", "gaussian"] = "uniform"
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> PlanckianJitter.InitSchema:
            if self.temperature_limit is not None:
                low, high = PLANCKIAN_DEFAULTS[self.mode]
                if self.temperature_limit[0] < low or self.temperature_limit[1] > high:
                    raise ValueError(
                        f"temperature_limit must lie within [{low}, {high}] for mode={self.mode!r}, "
                        f"got {self.temperature_limit}"
                    )
                if self.sampling_method == "gaussian" and not (
                    self.temperature_limit[0] <= DAYLIGHT <= self.temperature_limit[1]
                ):
                    raise ValueError(
                        f"gaussian sampling needs 6500 K inside temperature_limit, got {self.temperature_limit}"
                    )
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        low, high = self.temperature_limit or PLANCKIAN_DEFAULTS[self.mode]
        if self.sampling_method == "uniform":
            temperature = float(rng.uniform(low, high))
        else:
            below = bool(rng.random() < 0.5)
            span = (DAYLIGHT - low) if below else (high - DAYLIGHT)
            distance = abs(float(rng.normal(0.0, span / 3.0))) if span > 0 else 0.0
            temperature = float(np.clip(DAYLIGHT - distance if below else DAYLIGHT + distance, low, high))
        return {"temperature": temperature}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        require_rgb(img, type(self).__name__)
        if channels_of(img) == 1:
            return img.copy()
        gains = kc.illuminant_gains(float(params["temperature"]), self.mode)
        return kc.multiply_per_channel(img, gains.tolist())


class ChromaticAberration(PixelTransform):
    """Lateral chromatic aberration: the red and blue channels get their own radial lens distortion.

    The lens model is OpenCV's radial one (``k1`` primary, ``k2`` secondary; camera focal lengths
    equal to the image size, centre in the middle); green is the reference and stays. The
    secondary coefficient takes the primary's sign. ``green_purple`` gives red and blue
    coefficients of the same sign (both move against green: green/purple fringes), ``red_blue``
    opposite signs (red and blue move apart), as Albumentations 2.0.8 samples them; ``random`` picks one of the two per
    call. Single-channel images are returned unchanged.

    Args:
        primary_distortion_limit: range of ``k1``; a number ``x`` means ``(-x, x)``.
            Default: (-0.02, 0.02).
        secondary_distortion_limit: range of ``k2``; a number ``x`` means ``(-x, x)``.
            Default: (-0.05, 0.05).
        mode: ``green_purple``, ``red_blue`` or ``random``. Default: ``green_purple``.
        interpolation: OpenCV interpolation flag for the resampling. Default: 1 (linear).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    supported_channels = "rgb"

    primary_distortion_limit: tuple[float, float]
    secondary_distortion_limit: tuple[float, float]
    mode: str
    interpolation: int

    class InitSchema(TransformSchema):
        primary_distortion_limit: SymmetricRange = (-0.02, 0.02)
        secondary_distortion_limit: SymmetricRange = (-0.05, 0.05)
        mode: Literal["green_purple", "red_blue", "random"] = "green_purple"
        interpolation: Interpolation = 1
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        red_k1 = float(uniform(rng, *self.primary_distortion_limit))
        red_k2 = float(uniform(rng, *self.secondary_distortion_limit))
        blue_k1 = float(uniform(rng, *self.primary_distortion_limit))
        blue_k2 = float(uniform(rng, *self.secondary_distortion_limit))
        red_k2 = float(np.copysign(abs(red_k2), red_k1))
        mode = self.mode
        if mode == "random":
            mode = "green_purple" if rng.random() < 0.5 else "red_blue"
        blue_sign = red_k1 if mode == "green_purple" else -red_k1
        blue_k1 = float(np.copysign(abs(blue_k1), blue_sign))
        blue_k2 = float(np.copysign(abs(blue_k2), blue_k1))
        return {"red": [red_k1, red_k2], "blue": [blue_k1, blue_k2]}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        require_rgb(img, type(self).__name__)
        if channels_of(img) == 1:
            return img.copy()
        red, blue = params["red"], params["blue"]
        # cv2.remap has no *_EXACT modes; the schema accepts them (as Albumentations does), so
        # they resample with their plain counterparts: LINEAR_EXACT (5) -> LINEAR, NEAREST_EXACT (6) -> NEAREST.
        flag = {5: 1, 6: 0}.get(self.interpolation, self.interpolation)
        return kc.chromatic_aberration(img, (red[0], red[1]), (blue[0], blue[1]), flag)
