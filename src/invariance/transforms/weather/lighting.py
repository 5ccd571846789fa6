"""Lighting: illumination patterns, plasma brightness/contrast and shadows, H&E stain changes.

Pixel values change; masks, boxes and keypoints pass through. Plasma fields are regenerated from
a seed kept in the parameters.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from invariance.core.budget import Bounded
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import FloatRange, Probability, TransformSchema
from invariance.core.transform import PixelTransform
from invariance.kernels import weather as kw
from invariance.transforms.weather._common import UnitRange, check_channels, field_generator, new_seed


class Illumination(PixelTransform):
    """Multiply the image by a lighting pattern: ``out = img * (1 + s * intensity * pattern)``.

    ``linear``: a ramp from 0 to 1 along an angle drawn from ``angle_range`` (0 degrees: left to
    right, 90: top to bottom), rescaled to -1..1 (one side brighter, the other darker by the same
    amount). ``corner``: 1 at a random corner falling to 0 at the opposite one.
    ``gaussian``: a spot at a relative centre drawn from ``center_range`` for x and y, with a
    standard deviation of ``sigma`` times the larger side. ``s`` is +1 (``brighten``), -1
    (``darken``) or either (``both``).

    Args:
        mode: "linear", "corner" or "gaussian". Default: "linear".
        intensity_range: range of the strength, inside [0, 1]. Default: (0.01, 0.2).
        effect_type: "brighten", "darken" or "both". Default: "both".
        angle_range: range of the linear angle in degrees, inside [0, 360]. Default: (0, 360).
        center_range: range of the spot centre (relative), inside [0, 1]. Default: (0.1, 0.9).
        sigma_range: range of the spot size, inside [0, 1]. Default: (0.2, 1.0).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    family = "weather"

    mode: str
    intensity_range: tuple[float, float]
    effect_type: str
    angle_range: tuple[float, float]
    center_range: tuple[float, float]
    sigma_range: tuple[float, float]

    class InitSchema(TransformSchema):
        mode: Literal["linear", "corner", "gaussian"] = "linear"
        intensity_range: UnitRange = (0.01, 0.2)
        effect_type: Literal["brighten", "darken", "both"] = "both"
        angle_range: FloatRange = Field(default=(0, 360))
        center_range: UnitRange = (0.1, 0.9)
        sigma_range: UnitRange = (0.2, 1.0)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        intensity = float(uniform(rng, *self.intensity_range))
        sign = {"brighten": 1.0, "darken": -1.0}.get(self.effect_type)
        if sign is None:
            sign = 1.0 if rng.random() < 0.5 else -1.0
        params: dict[str, Any] = {"intensity": sign * intensity}
        if self.mode == "linear":
            params["angle"] = float(uniform(rng, *self.angle_range))
        elif self.mode == "corner":
            params["corner"] = int(rng.integers(0, 4))
        else:
            params["center"] = [
                float(uniform(rng, *self.center_range)),
                float(uniform(rng, *self.center_range)),
            ]
            params["sigma"] = float(uniform(rng, *self.sigma_range))
        return params

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        shape = img.shape[:2]
        if self.mode == "linear":
            pattern = kw.linear_pattern(shape, float(params["angle"])) * np.float32(2.0) - np.float32(1.0)
        elif self.mode == "corner":
            pattern = kw.corner_pattern(shape, int(params["corner"]))
        else:
            pattern = kw.gaussian_pattern(shape, params["center"], float(params["sigma"]))
        return kw.illuminate(img, pattern, float(params["intensity"]))


class _Plasma(PixelTransform):
    family = "weather"
    plasma_size: int
    roughness: float

    def _field(self, img: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        gen = field_generator(params)
        spectrum = kw.plasma_spectrum_shape(self.plasma_size)
        phases = gen.random(spectrum)
        magnitudes = gen.rayleigh(1.0, spectrum)
        return kw.plasma_for(img.shape[:2], self.plasma_size, self.roughness, phases, magnitudes)


class PlasmaBrightnessContrast(_Plasma):
    """Change brightness and contrast locally, weighted by a fractal plasma field ``f`` in [0, 1]:
    ``out = (img - mean) * (1 + contrast * f) + mean + brightness * f * white``.

    ``brightness`` and ``contrast`` are drawn from their ranges; the plasma is generated at
    ``plasma_size`` (square) from a stored seed and resized to the image. A larger ``roughness``
    keeps more fine detail in the field.

    Args:
        brightness_range: range of the brightness change, inside [-1, 1]. Default: (-0.3, 0.3).
        contrast_range: range of the contrast change, inside [-1, 1]. Default: (-0.3, 0.3).
        plasma_size: side of the generated field (>= 1). Default: 256.
        roughness: roughness of the field (> 0). Default: 3.0.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    brightness_range: tuple[float, float]
    contrast_range: tuple[float, float]

    class InitSchema(TransformSchema):
        brightness_range: FloatRange = (-0.3, 0.3)
        contrast_range: FloatRange = (-0.3, 0.3)
        plasma_size: Annotated[int, Field(ge=1), Bounded("side")] = 256
        roughness: float = Field(default=3.0, gt=0.0)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {
            "brightness": float(uniform(rng, *self.brightness_range)),
            "contrast": float(uniform(rng, *self.contrast_range)),
            "seed": new_seed(rng),
        }

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        field = self._field(img, params)
        return kw.plasma_brightness_contrast(
            img, field, float(params["brightness"]), float(params["contrast"])
        )


class PlasmaShadow(_Plasma):
    """Darken the image with an irregular plasma shadow: ``out = img * (1 - intensity * f)``.

    ``intensity`` is drawn from ``shadow_intensity_range``; ``f`` is a fractal plasma field in
    [0, 1] generated at ``plasma_size`` from a stored seed and resized to the image.

    Args:
        shadow_intensity_range: range of the darkening, inside [0, 1]. Default: (0.3, 0.7).
        plasma_size: side of the generated field (>= 1). Default: 256.
        roughness: roughness of the field (> 0). Default: 3.0.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    shadow_intensity_range: tuple[float, float]

    class InitSchema(TransformSchema):
        shadow_intensity_range: UnitRange = (0.3, 0.7)
        plasma_size: Annotated[int, Field(ge=1), Bounded("side")] = 256
        roughness: float = Field(default=3.0, gt=0.0)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"intensity": float(uniform(rng, *self.shadow_intensity_range)), "seed": new_seed(rng)}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        field = self._field(img, params)
        return kw.scale_pixels(img, 1.0 - np.float32(params["intensity"]) * field)


# -- H&E stain -----------------------------------------------------------------------------------

#: Reference H&E stain matrices (optical-density rows: haematoxylin, eosin).
STAIN_MATRICES: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "ruifrok": ((0.644211, 0.716556, 0.266844), (0.092789, 0.954111, 0.283111)),
    "macenko": ((0.5626, 0.7201, 0.4062), (0.2159, 0.8012, 0.5581)),
    "standard": ((0.65, 0.70, 0.29), (0.07, 0.99, 0.11)),
    "high_contrast": ((0.55, 0.88, 0.11), (0.12, 0.86, 0.49)),
    "h_heavy": ((0.75, 0.61, 0.32), (0.04, 0.93, 0.36)),
    "e_heavy": ((0.60, 0.75, 0.28), (0.17, 0.95, 0.25)),
    "dark": ((0.78, 0.55, 0.28), (0.09, 0.97, 0.21)),
    "light": ((0.57, 0.71, 0.38), (0.15, 0.89, 0.42)),
}
Preset = Literal["ruifrok", "macenko", "standard", "high_contrast", "h_heavy", "e_heavy", "dark", "light"]


class HEStain(PixelTransform):
    """Vary haematoxylin and eosin staining of histology images.

    The image is converted to optical density and unmixed into H and E concentrations with a stain
    matrix: a named ``preset`` (``method="preset"``; ``ruifrok`` when None), a preset drawn at
    random (``random_preset``), or one estimated from the image (``macenko``; ``vahadane`` uses the
    same estimate here). Each concentration is multiplied by a factor drawn from
    ``intensity_scale_range`` and shifted by one from ``intensity_shift_range``, then mixed back.
    Bright background pixels are kept unless ``augment_background``. A single-channel image is
    treated as grey RGB and returned as its mean.

    Args:
        method: "preset", "random_preset", "vahadane" or "macenko". Default: "random_preset".
        preset: preset name for ``method="preset"``, or None. Default: None.
        intensity_scale_range: range of the concentration factors (> 0). Default: (0.7, 1.3).
        intensity_shift_range: range of the concentration shifts. Default: (-0.2, 0.2).
        augment_background: also change bright background pixels. Default: False.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    family = "weather"
    supported_channels = "rgb"

    method: str
    preset: str | None
    intensity_scale_range: tuple[float, float]
    intensity_shift_range: tuple[float, float]
    augment_background: bool

    class InitSchema(TransformSchema):
        method: Literal["preset", "random_preset", "vahadane", "macenko"] = "random_preset"
        preset: Preset | None = None
        intensity_scale_range: FloatRange = (0.7, 1.3)
        intensity_shift_range: FloatRange = (-0.2, 0.2)
        augment_background: bool = False
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        if self.method == "preset":
            matrix = np.asarray(STAIN_MATRICES[self.preset or "ruifrok"])
        elif self.method == "random_preset":
            names = sorted(STAIN_MATRICES)
            matrix = np.asarray(STAIN_MATRICES[names[int(rng.integers(len(names)))]])
        else:
            image = sample.image
            matrix = np.asarray(STAIN_MATRICES["ruifrok"])
            if image is not None:
                check_channels(image, "HEStain")
                # A single pixel has no covariance to estimate stains from: keep the reference.
                if image.shape[0] * image.shape[1] >= 2:
                    estimate = kw.macenko_matrix(_as_rgb(image))
                    if np.all(np.isfinite(estimate)):
                        matrix = estimate
        return {
            "stain_matrix": matrix.tolist(),
            "scale": rng.uniform(*self.intensity_scale_range, 2).tolist(),
            "shift": rng.uniform(*self.intensity_shift_range, 2).tolist(),
        }

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        check_channels(img, "HEStain")
        rgb = _as_rgb(img)
        out = kw.he_stain(
            rgb, np.asarray(params["stain_matrix"]), params["scale"], params["shift"], self.augment_background
        )
        if rgb is img:
            return out
        grey = out.astype(np.float32).mean(axis=2)
        return kw.to_dtype(grey.reshape(img.shape), img.dtype)


def _as_rgb(img: np.ndarray) -> np.ndarray:
    if img.ndim == 3 and img.shape[2] == 3:
        return img
    grey = img.reshape(img.shape[:2])
    return np.repeat(grey[..., None], 3, axis=2)
