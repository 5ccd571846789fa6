"""Colour and tone transforms."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from pydantic import Field

from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import Probability, SymmetricRange, TransformSchema
from invariance.core.transform import PixelTransform
from invariance.kernels import color as kc
from invariance.transforms.pixel._checks import FactorRange, HueRange, require_rgb


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

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
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
        alpha = 1.0 + float(uniform(rng, *self.contrast_limit))
        beta = float(uniform(rng, *self.brightness_limit))
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


class ColorJitter(PixelTransform):
    """Randomly change brightness, contrast, saturation and hue, in a random order.

    Brightness multiplies the image by a factor; contrast blends it with its mean gray level;
    saturation blends it with its own grayscale version; hue rotates the HSV hue by a fraction of a
    full turn. Single-channel images get brightness and contrast only. Results saturate.

    Args:
        brightness: range of the brightness factor (>= 0); a number ``x`` means
            ``(max(0, 1 - x), 1 + x)``. Default: (0.8, 1.2).
        contrast: range of the contrast factor, same convention. Default: (0.8, 1.2).
        saturation: range of the saturation factor, same convention. Default: (0.8, 1.2).
        hue: range of the hue shift in turns, within [-0.5, 0.5]; a number ``x`` means ``(-x, x)``.
            Default: (-0.5, 0.5).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    supported_channels = "rgb"

    brightness: tuple[float, float]
    contrast: tuple[float, float]
    saturation: tuple[float, float]
    hue: tuple[float, float]

    class InitSchema(TransformSchema):
        brightness: FactorRange = (0.8, 1.2)
        contrast: FactorRange = (0.8, 1.2)
        saturation: FactorRange = (0.8, 1.2)
        hue: HueRange = (-0.5, 0.5)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        # One draw of five numbers: the four factors (each uniform over its range) and the order
        # (one of the 24 permutations, uniformly); a numpy draw per number costs ~0.5 us each.
        *units, pick = rng.random(5).tolist()
        ranges = (self.brightness, self.contrast, self.saturation, self.hue)
        factors = {
            name: low + (high - low) * unit for name, (low, high), unit in zip(_JITTER_NAMES, ranges, units)
        }
        return {"factors": factors, "order": list(_JITTER_ORDERS[int(pick * 24)])}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        require_rgb(img, type(self).__name__)
        factors = params["factors"]
        return kc.jitter(img, [(name, float(factors[name])) for name in params["order"]])


_JITTER_NAMES = tuple(kc.JITTER_OPS)  # brightness, contrast, saturation, hue
#: The 24 orders of ColorJitter's four steps.
_JITTER_ORDERS = tuple(itertools.permutations(_JITTER_NAMES))


class HueSaturationValue(PixelTransform):
    """Shift hue, saturation and value in HSV space.

    Shifts are in OpenCV's uint8 HSV units: hue in [0, 180) for a full turn (so 20 is 40 degrees),
    saturation and value in [0, 255]. uint8 images are converted once, shifted through one table
    per channel and converted back; float32 images use the same shifts (hue doubled to degrees,
    saturation and value divided by 255). A single-channel image gets the value shift only.

    Args:
        hue_shift_limit: range of the hue shift; a number ``x`` means ``(-x, x)``. Default: (-20, 20).
        sat_shift_limit: range of the saturation shift. Default: (-30, 30).
        val_shift_limit: range of the value shift. Default: (-20, 20).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    supported_channels = "rgb"

    hue_shift_limit: tuple[float, float]
    sat_shift_limit: tuple[float, float]
    val_shift_limit: tuple[float, float]

    class InitSchema(TransformSchema):
        hue_shift_limit: SymmetricRange = (-20, 20)
        sat_shift_limit: SymmetricRange = (-30, 30)
        val_shift_limit: SymmetricRange = (-20, 20)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {
            "hue_shift": float(uniform(rng, *self.hue_shift_limit)),
            "sat_shift": float(uniform(rng, *self.sat_shift_limit)),
            "val_shift": float(uniform(rng, *self.val_shift_limit)),
        }

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        require_rgb(img, type(self).__name__)
        return kc.shift_hsv(
            img, float(params["hue_shift"]), float(params["sat_shift"]), float(params["val_shift"])
        )


class RGBShift(PixelTransform):
    """Add a random shift to each of the red, green and blue channels.

    Shifts are in uint8 pixel units; on float32 images they are divided by 255. A single-channel
    image gets the red shift. Results saturate.

    Args:
        r_shift_limit: range of the red shift; a number ``x`` means ``(-x, x)``. Default: (-20, 20).
        g_shift_limit: range of the green shift. Default: (-20, 20).
        b_shift_limit: range of the blue shift. Default: (-20, 20).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    supported_channels = "rgb"

    r_shift_limit: tuple[float, float]
    g_shift_limit: tuple[float, float]
    b_shift_limit: tuple[float, float]

    class InitSchema(TransformSchema):
        r_shift_limit: SymmetricRange = (-20, 20)
        g_shift_limit: SymmetricRange = (-20, 20)
        b_shift_limit: SymmetricRange = (-20, 20)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        limits = (self.r_shift_limit, self.g_shift_limit, self.b_shift_limit)
        return {"shifts": [float(uniform(rng, *limit)) for limit in limits]}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        require_rgb(img, type(self).__name__)
        shifts = [float(v) for v in params["shifts"]]
        return kc.add_per_channel(img, shifts if img.dtype == np.uint8 else [v / 255.0 for v in shifts])


class FancyPCA(PixelTransform):
    """AlexNet-style PCA lighting noise.

    The principal components of the image's pixel colours (values scaled to [0, 1]) are found, and
    each pixel gets ``sum_i alpha_i * lambda_i * v_i`` added (times the white level), with
    ``alpha_i ~ N(0, alpha)`` drawn per call. Works for any number of channels.

    Args:
        alpha: standard deviation of the component weights (>= 0). Default: 0.1.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    alpha: float

    class InitSchema(TransformSchema):
        alpha: float = Field(default=0.1, ge=0.0)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"alphas": rng.normal(0.0, self.alpha, size=sample.num_channels).tolist()}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return kc.fancy_pca(img, params["alphas"])


class PhotoMetricDistort(PixelTransform):
    """SSD-style photometric distortion (torchvision's ``RandomPhotometricDistort``).

    Each step fires on its own with probability ``p``: brightness (multiply), contrast (blend with
    the mean gray level; applied before or after the colour steps, chosen at random), saturation
    (blend with the gray image), hue (shift by a fraction of a turn), and finally a random
    permutation of the channels. Albumentations 2.0.8 has no such transform; the arguments follow
    torchvision. ``p`` is the per-step probability, so ``p=0`` leaves the image unchanged.

    Args:
        brightness: range of the brightness factor (>= 0). Default: (0.875, 1.125).
        contrast: range of the contrast factor (>= 0). Default: (0.5, 1.5).
        saturation: range of the saturation factor (>= 0). Default: (0.5, 1.5).
        hue: range of the hue shift in turns, within [-0.5, 0.5]. Default: (-0.05, 0.05).
        p: probability of each step. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    supported_channels = "rgb"

    brightness: tuple[float, float]
    contrast: tuple[float, float]
    saturation: tuple[float, float]
    hue: tuple[float, float]

    class InitSchema(TransformSchema):
        brightness: FactorRange = (0.875, 1.125)
        contrast: FactorRange = (0.5, 1.5)
        saturation: FactorRange = (0.5, 1.5)
        hue: HueRange = (-0.05, 0.05)
        p: Probability = 0.5

    def should_fire(self, rng: np.random.Generator) -> bool:
        return True  # p is the probability of each step, drawn in sample()

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name in ("brightness", "contrast", "saturation", "hue"):
            fires = bool(rng.random() < self.p)
            params[name] = float(uniform(rng, *getattr(self, name))) if fires else None
        params["contrast_first"] = bool(rng.random() < 0.5)
        fires = bool(rng.random() < self.p)
        params["permutation"] = rng.permutation(sample.num_channels).tolist() if fires else None
        return params

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        require_rgb(img, type(self).__name__)
        steps = ["brightness", "contrast", "saturation", "hue"]
        if not params["contrast_first"]:
            steps = ["brightness", "saturation", "hue", "contrast"]
        out = kc.jitter(img, [(name, float(params[name])) for name in steps if params[name] is not None])
        if params["permutation"] is not None:
            out = kc.shuffle_channels(out, params["permutation"])
        return out
