"""The image operations of the automated policies and their magnitude tables.

Each operation is named as in the papers (``ShearX``, ``Posterize``, ...). A *magnitude table*
maps a bin index to the operation's strength; the tables follow the published mappings (see the
policy classes for the citations) and are computed here from the number of bins and, for the
translations, the image size. Geometric operations become a :class:`Projective` map applied
through the sample, so masks, boxes and keypoints move with the image; the others are pixel
effects built on the library's tone and colour kernels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import cv2
import numpy as np

from invariance.core.effects import Effect, Pixels, Warp
from invariance.core.geometry import Projective, Resampling
from invariance.kernels import color as kc
from invariance.kernels import tone as kt
from invariance.transforms.geometric.affine import rotation_about

Shape = tuple[int, int]
#: ``(num_bins, (height, width)) -> magnitudes``; None for operations without a magnitude.
Table = Callable[[int, Shape], np.ndarray] | None

GEOMETRIC_OPS = ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate")


def _linear(high: float, low: float = 0.0) -> Callable[[int, Shape], np.ndarray]:
    def table(num_bins: int, shape: Shape) -> np.ndarray:
        return np.linspace(low, high, num_bins)

    return table


def _translate(fraction: float, axis: int) -> Callable[[int, Shape], np.ndarray]:
    """Shifts up to ``fraction`` of the image's width (axis 1) or height (axis 0), in pixels."""

    def table(num_bins: int, shape: Shape) -> np.ndarray:
        return np.linspace(0.0, fraction * shape[axis], num_bins)

    return table


def _fixed_translate(pixels: float) -> Callable[[int, Shape], np.ndarray]:
    def table(num_bins: int, shape: Shape) -> np.ndarray:
        return np.linspace(0.0, pixels, num_bins)

    return table


def _posterize(top_bits: int, levels: int) -> Callable[[int, Shape], np.ndarray]:
    """Bits kept: ``top_bits - round(i / ((num_bins - 1) / levels))`` for bin ``i``."""

    def table(num_bins: int, shape: Shape) -> np.ndarray:
        steps = np.round(np.arange(num_bins) / ((num_bins - 1) / levels))
        return (top_bits - steps).astype(np.int64)

    return table


_SOLARIZE = _linear(0.0, 1.0)  # threshold as a fraction of white: 1 (nothing) down to 0 (all)

#: name -> (table, signed). Signed magnitudes are negated with probability 1/2.
OpSpace = Mapping[str, tuple[Table, bool]]

RANDAUGMENT_SPACE: OpSpace = {
    "Identity": (None, False),
    "ShearX": (_linear(0.3), True),
    "ShearY": (_linear(0.3), True),
    "TranslateX": (_translate(150.0 / 331.0, 1), True),
    "TranslateY": (_translate(150.0 / 331.0, 0), True),
    "Rotate": (_linear(30.0), True),
    "Brightness": (_linear(0.9), True),
    "Color": (_linear(0.9), True),
    "Contrast": (_linear(0.9), True),
    "Sharpness": (_linear(0.9), True),
    "Posterize": (_posterize(8, 4), False),
    "Solarize": (_SOLARIZE, False),
    "AutoContrast": (None, False),
    "Equalize": (None, False),
}

TRIVIALAUGMENT_WIDE_SPACE: OpSpace = {
    "Identity": (None, False),
    "ShearX": (_linear(0.99), True),
    "ShearY": (_linear(0.99), True),
    "TranslateX": (_fixed_translate(32.0), True),
    "TranslateY": (_fixed_translate(32.0), True),
    "Rotate": (_linear(135.0), True),
    "Brightness": (_linear(0.99), True),
    "Color": (_linear(0.99), True),
    "Contrast": (_linear(0.99), True),
    "Sharpness": (_linear(0.99), True),
    "Posterize": (_posterize(8, 6), False),
    "Solarize": (_SOLARIZE, False),
    "AutoContrast": (None, False),
    "Equalize": (None, False),
}

AUTOAUGMENT_SPACE: OpSpace = {
    "ShearX": (_linear(0.3), True),
    "ShearY": (_linear(0.3), True),
    "TranslateX": (_translate(150.0 / 331.0, 1), True),
    "TranslateY": (_translate(150.0 / 331.0, 0), True),
    "Rotate": (_linear(30.0), True),
    "Brightness": (_linear(0.9), True),
    "Color": (_linear(0.9), True),
    "Contrast": (_linear(0.9), True),
    "Sharpness": (_linear(0.9), True),
    "Posterize": (_posterize(8, 4), False),
    "Solarize": (_SOLARIZE, False),
    "AutoContrast": (None, False),
    "Equalize": (None, False),
    "Invert": (None, False),
}

AUGMIX_SPACE: OpSpace = {
    "AutoContrast": (None, False),
    "Equalize": (None, False),
    "Posterize": (_posterize(4, 4), False),
    "Rotate": (_linear(30.0), True),
    "Solarize": (_SOLARIZE, False),
    "ShearX": (_linear(0.3), True),
    "ShearY": (_linear(0.3), True),
    "TranslateX": (_translate(1.0 / 3.0, 1), True),
    "TranslateY": (_translate(1.0 / 3.0, 0), True),
}
#: The colour operations AugMix adds with ``all_ops=True`` (left out by default in the paper,
#: because they overlap with the ImageNet-C corruptions it is evaluated on).
AUGMIX_EXTRA_SPACE: OpSpace = {
    "Brightness": (_linear(0.9), True),
    "Color": (_linear(0.9), True),
    "Contrast": (_linear(0.9), True),
    "Sharpness": (_linear(0.9), True),
}


def magnitude_of(space: OpSpace, name: str, bin_index: int, num_bins: int, shape: Shape) -> float:
    """The (unsigned) magnitude of ``name`` at ``bin_index``; 0 for operations without one."""
    table, _ = space[name]
    if table is None:
        return 0.0
    return float(table(num_bins, shape)[bin_index])


def draw_op(
    rng: np.random.Generator, space: OpSpace, name: str, bin_index: int, num_bins: int, shape: Shape
) -> dict[str, Any]:
    """One operation with its signed magnitude, as recorded in the policy's parameters."""
    value = magnitude_of(space, name, bin_index, num_bins, shape)
    if space[name][1] and rng.random() < 0.5:
        value = -value
    return {"name": name, "value": value}


def _sharpness(img: np.ndarray, factor: float) -> np.ndarray:
    """Blend with a smoothed copy (3x3 kernel 1 1 1 / 1 5 1 / 1 1 1, over 13); border pixels kept."""
    if factor == 1.0:
        return img.copy()
    kernel = np.ones((3, 3), np.float32)
    kernel[1, 1] = 5.0
    kernel /= 13.0
    smooth = cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REPLICATE)
    if smooth.ndim < img.ndim:
        smooth = smooth.reshape(img.shape)
    # The border keeps its original pixels (only the interior is filtered).
    smooth[0, :] = img[0, :]
    smooth[-1, :] = img[-1, :]
    smooth[:, 0] = img[:, 0]
    smooth[:, -1] = img[:, -1]
    blended = cv2.addWeighted(img, factor, smooth, 1.0 - factor, 0.0)
    if blended.ndim < img.ndim:
        blended = blended.reshape(img.shape)
    return blended if img.dtype == np.uint8 else np.clip(blended, 0.0, 1.0)


def pixel_op(name: str, value: float) -> Callable[[np.ndarray], np.ndarray]:
    """The pixel function of a non-geometric operation at a signed magnitude."""
    if name == "Identity":
        return lambda img: img
    if name == "Brightness":
        return lambda img: kc.adjust_brightness(img, 1.0 + value)
    if name == "Color":
        return lambda img: kc.adjust_saturation(img, 1.0 + value)
    if name == "Contrast":
        return lambda img: kc.adjust_contrast(img, 1.0 + value)
    if name == "Sharpness":
        return lambda img: _sharpness(img, 1.0 + value)
    if name == "Posterize":
        return lambda img: kt.posterize(img, [int(value)])
    if name == "Solarize":
        return lambda img: kt.solarize(img, float(value))
    if name == "AutoContrast":
        return lambda img: kt.autocontrast(img, 0.0, None, "pil")
    if name == "Equalize":
        return lambda img: kt.equalize(img, "pil", True, None)
    if name == "Invert":
        return kt.invert
    raise KeyError(name)


def op_matrix(name: str, value: float, shape: Shape) -> np.ndarray:
    """The continuous-frame 3x3 matrix of a geometric operation.

    Shears are about the top-left corner (``x' = x + m y`` for ShearX), as Pillow's affine
    transform in the reference implementations; rotation is about the image centre
    (counter-clockwise for positive degrees); translations are whole pixels.
    """
    h, w = shape
    if name == "ShearX":
        return np.array([[1.0, value, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    if name == "ShearY":
        return np.array([[1.0, 0.0, 0.0], [value, 1.0, 0.0], [0.0, 0.0, 1.0]])
    if name == "TranslateX":
        return np.array([[1.0, 0.0, float(int(value))], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    if name == "TranslateY":
        return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, float(int(value))], [0.0, 0.0, 1.0]])
    if name == "Rotate":
        return rotation_about(value, w / 2.0, h / 2.0)
    raise KeyError(name)


def op_effect(op: Mapping[str, Any], shape: tuple[int, int], resampling: Resampling) -> Effect | None:
    """What one recorded operation does to every target of a sample of ``shape``."""
    name, value = str(op["name"]), float(op["value"])
    if name in GEOMETRIC_OPS:
        if value == 0.0:
            return None
        return Warp(Projective(op_matrix(name, value, shape), shape, shape), resampling)
    if name == "Identity":
        return None
    return Pixels(pixel_op(name, value))


def apply_op_to_image(img: np.ndarray, name: str, value: float, resampling: Resampling) -> np.ndarray:
    """Apply one operation to a lone image (AugMix's chains, which have no other targets)."""
    if name in GEOMETRIC_OPS:
        shape = (img.shape[0], img.shape[1])
        geometry = Projective(op_matrix(name, value, shape), shape, shape)
        out = geometry.warp(img, resampling.interpolation, resampling.border_mode, resampling.fill)
        return out.reshape(img.shape) if out.ndim < img.ndim else out
    return pixel_op(name, value)(img)
