"""Sensor-like noise: ISONoise, ShotNoise, SaltAndPepper.

As in :mod:`invariance.transforms.noise.additive`, ``sample`` records a ``noise_seed`` and
``apply`` regenerates the noise from it; frames of ``images`` share the same noise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import FloatRange, Probability, TransformSchema
from invariance.core.transform import PixelTransform
from invariance.kernels import noise as kn
from invariance.transforms.noise._draw import poisson_scalar, standard_normal
from invariance.transforms.noise.additive import UnitRange
from invariance.transforms.pixel._checks import require_rgb


class ISONoise(PixelTransform):
    """Camera sensor noise at high ISO: hue jitter plus luminance noise, applied in HLS space.

    Per pixel, the hue moves by ``N(0, 360 * color_shift * intensity)`` degrees and the lightness
    ``L`` (in [0, 1]) becomes ``L + n (1 - L)`` with ``n = intensity * Poisson(std(L) * intensity)``
    (``std(L)`` over the whole image; this scaling agrees with Albumentations 2.0.8's output).
    Single-channel images get the lightness noise only.

    Args:
        color_shift: range of the hue jitter as a fraction of a full turn, within [0, 1].
            Default: (0.01, 0.05).
        intensity: range of the overall strength (>= 0). Default: (0.1, 0.5).
        p: probability of applying the transform. Default: 0.5.

    Masks, boxes and keypoints are unchanged. Frames of ``images`` share the same noise.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32. Channels: 3 (RGB) or 1.
    """

    family = "noise"
    supported_channels = "rgb"
    example_args = {"color_shift": (0.01, 0.05), "intensity": (0.1, 0.5)}

    color_shift: tuple[float, float]
    intensity: tuple[float, float]

    class InitSchema(TransformSchema):
        color_shift: UnitRange = (0.01, 0.05)
        intensity: FloatRange = (0.1, 0.5)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {
            "color_shift": float(uniform(rng, *self.color_shift)),
            "intensity": float(uniform(rng, *self.intensity)),
            "noise_seed": int(rng.integers(2**31)),
        }

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        require_rgb(img, "ISONoise")
        intensity = max(0.0, float(params["intensity"]))
        gen = np.random.default_rng(int(params["noise_seed"]))
        shape = img.shape[:2]
        lam = kn.lightness_std(img) * intensity
        luminance = poisson_scalar(gen, lam, shape)
        luminance *= np.float32(intensity)
        hue = standard_normal(gen, shape)
        hue *= np.float32(360.0 * float(params["color_shift"]) * intensity)
        return kn.iso_noise(img, hue, luminance)


class ShotNoise(PixelTransform):
    """Photon (Poisson) noise, simulated in linear light.

    The image is linearized (``(v / white) ** 2.2``), each value divided by ``scale`` is the
    expected photon count, counts are drawn from a Poisson distribution, multiplied back by
    ``scale`` and re-encoded with gamma 1 / 2.2. Bright areas get more absolute, less relative noise.

    Args:
        scale_range: range of ``scale``, the reciprocal of the photons per unit intensity (> 0);
            larger is noisier. Default: (0.1, 0.3).
        p: probability of applying the transform. Default: 0.5.

    Masks, boxes and keypoints are unchanged. Frames of ``images`` share the same seed.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    family = "noise"
    example_args = {"scale_range": (0.1, 0.3)}

    scale_range: tuple[float, float]

    class InitSchema(TransformSchema):
        scale_range: FloatRange = (0.1, 0.3)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"scale": float(uniform(rng, *self.scale_range)), "noise_seed": int(rng.integers(2**31))}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        scale = max(float(params["scale"]), 1e-6)
        gen = np.random.default_rng(int(params["noise_seed"]))
        counts = gen.poisson(kn.expected_photons(img, scale))
        return kn.shot_noise(img, counts, scale)


class SaltAndPepper(PixelTransform):
    """Impulse noise: set random pixels to white (salt) or black (pepper), on all channels at once.

    Exactly ``floor(H W amount ratio)`` distinct pixels become salt and
    ``floor(H W amount (1 - ratio))`` others become pepper, where ``amount`` and ``ratio`` are drawn
    from their ranges.

    Args:
        amount: range of the fraction of pixels changed, within [0, 1]. Default: (0.01, 0.06).
        salt_vs_pepper: range of the fraction of changed pixels that become salt, within [0, 1].
            Default: (0.4, 0.6).
        p: probability of applying the transform. Default: 0.5.

    Masks, boxes and keypoints are unchanged. Frames of ``images`` of one size share the pattern.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    family = "noise"
    example_args = {"amount": (0.01, 0.06), "salt_vs_pepper": (0.4, 0.6)}

    amount: tuple[float, float]
    salt_vs_pepper: tuple[float, float]

    class InitSchema(TransformSchema):
        amount: UnitRange = (0.01, 0.06)
        salt_vs_pepper: UnitRange = (0.4, 0.6)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {
            "amount": float(uniform(rng, *self.amount)),
            "salt_ratio": float(uniform(rng, *self.salt_vs_pepper)),
            "noise_seed": int(rng.integers(2**31)),
        }

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        pixels = img.shape[0] * img.shape[1]
        amount, ratio = float(params["amount"]), float(params["salt_ratio"])
        n_salt = math.floor(pixels * amount * ratio)
        n_pepper = min(pixels - n_salt, math.floor(pixels * amount * (1.0 - ratio)))
        gen = np.random.default_rng(int(params["noise_seed"]))
        chosen = gen.choice(pixels, size=n_salt + n_pepper, replace=False)
        return kn.salt_and_pepper(img, chosen[:n_salt], chosen[n_salt:])
