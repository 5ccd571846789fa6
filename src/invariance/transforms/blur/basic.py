"""Box, median, motion and generalized-Gaussian blurs."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import model_validator

from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import FloatRange, Probability, SymmetricRange, TransformSchema
from invariance.core.transform import PixelTransform
from invariance.kernels import blur as kb
from invariance.transforms.blur._types import NonNegativeRange, OddKernelRange, SigmaRange, random_odd


class Blur(PixelTransform):
    """Blur with a box filter (mean over a square window) of random odd size.

    Args:
        blur_limit: range of odd kernel sizes >= 3; a number ``k`` means ``(3, k)``. Default: (3, 7).
        p: probability of applying the transform. Default: 0.5.

    Masks, boxes and keypoints are unchanged. Borders reflect (101).

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    family = "blur"
    example_args = {"blur_limit": (3, 7)}

    blur_limit: tuple[int, int]

    class InitSchema(TransformSchema):
        blur_limit: OddKernelRange = (3, 7)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"kernel": random_odd(rng, *self.blur_limit)}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return kb.box_blur(img, int(params["kernel"]))


class MedianBlur(PixelTransform):
    """Replace each pixel by the median of a square window of random odd size.

    Removes impulse (salt-and-pepper) noise while keeping edges. Borders replicate. float32 images
    with windows larger than 5 are filtered at 256 levels (error <= 1/510), as OpenCV's float median
    stops at 5x5 and Albumentations 2.0.8 does the same.

    Args:
        blur_limit: range of odd kernel sizes >= 3; a number ``k`` means ``(3, k)``. Default: (3, 7).
        p: probability of applying the transform. Default: 0.5.

    Masks, boxes and keypoints are unchanged.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    family = "blur"
    example_args = {"blur_limit": (3, 7)}

    blur_limit: tuple[int, int]

    class InitSchema(TransformSchema):
        blur_limit: OddKernelRange = (3, 7)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"kernel": random_odd(rng, *self.blur_limit)}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return kb.median_blur(img, int(params["kernel"]))


class MotionBlur(PixelTransform):
    """Blur along a straight line, as a moving camera or object would.

    The kernel is a line through the kernel centre at a random angle, normalized to sum 1. Angles
    are in image coordinates (x right, y down): 0 degrees points right, 90 points down, the same
    kernel Albumentations 2.0.8 builds (the image content smears the opposite way, since the kernel
    is correlated). ``direction`` splits the line's length between the forward and backward sides
    of the centre; with ``allow_shifted`` the line is moved by a random offset that keeps it inside
    the kernel.

    Args:
        blur_limit: range of odd kernel sizes >= 3; a number ``k`` means ``(3, k)``. Default: (3, 7).
        allow_shifted: allow a random offset of the line from the kernel centre. Default: True.
        angle_range: range of the line's angle in degrees, within [0, 360]. Default: (0, 360).
        direction_range: range of the direction bias, within [-1, 1] (-1 backwards only, 0 both
            ways equally, 1 forwards only). Default: (-1.0, 1.0).
        p: probability of applying the transform. Default: 0.5.

    Masks, boxes and keypoints are unchanged.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    family = "blur"
    example_args = {"blur_limit": (3, 9)}

    blur_limit: tuple[int, int]
    allow_shifted: bool
    angle_range: tuple[float, float]
    direction_range: tuple[float, float]

    class InitSchema(TransformSchema):
        blur_limit: OddKernelRange = (3, 7)
        allow_shifted: bool = True
        angle_range: FloatRange = (0, 360)
        direction_range: FloatRange = (-1.0, 1.0)
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check_ranges(self) -> MotionBlur.InitSchema:
            if self.angle_range[0] < 0 or self.angle_range[1] > 360:
                raise ValueError(f"angle_range must lie in [0, 360], got {self.angle_range}")
            if self.direction_range[0] < -1 or self.direction_range[1] > 1:
                raise ValueError(f"direction_range must lie in [-1, 1], got {self.direction_range}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        ksize = random_odd(rng, *self.blur_limit)
        angle = float(uniform(rng, *self.angle_range))
        direction = float(uniform(rng, *self.direction_range))
        shift = (0.0, 0.0)
        if self.allow_shifted:
            room_x, room_y = kb.motion_shift_room(ksize, angle, direction)
            shift = (float(rng.uniform(-room_x, room_x)), float(rng.uniform(-room_y, room_y)))
        return {"ksize": ksize, "angle": angle, "direction": direction, "shift": shift}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        shift = params["shift"]
        kernel = kb.motion_kernel(
            int(params["ksize"]), float(params["angle"]), float(params["direction"]), (shift[0], shift[1])
        )
        return kb.convolve(img, kernel)


class AdvancedBlur(PixelTransform):
    """Blur with a random anisotropic generalized-Gaussian kernel, perturbed by multiplicative noise.

    The kernel is ``exp(-0.5 (d^T S^-1 d)^beta)`` with ``S`` built from ``sigma_x``, ``sigma_y`` and
    a rotation; ``beta`` < 1 gives heavy tails, 1 a Gaussian, > 1 a plateau (box-like). Each kernel
    element is multiplied by a factor from ``noise_limit`` and the kernel is normalized.

    Args:
        blur_limit: range of odd kernel sizes >= 3; a number ``k`` means ``(3, k)``. Default: (3, 7).
        sigma_x_limit: range of sigma along the kernel's first axis; a number ``s`` means ``(0, s)``.
            It and ``sigma_y_limit`` cannot both start at 0. Default: (0.2, 1.0).
        sigma_y_limit: range of sigma along the second axis. Default: (0.2, 1.0).
        rotate_limit: range of the kernel's rotation in degrees; a number ``a`` means ``(-a, a)``.
            Default: (-90, 90).
        beta_limit: range of the shape parameter (> 0) that includes 1 (Gaussian); a
            number ``b`` means ``(0, b)``. Default: (0.5, 8.0).
        noise_limit: range of the per-element multiplicative kernel noise (> 0); a number ``n``
            means ``(0, n)``. Default: (0.9, 1.1).
        p: probability of applying the transform. Default: 0.5.

    Masks, boxes and keypoints are unchanged.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    family = "blur"
    example_args = {"blur_limit": (3, 7)}

    blur_limit: tuple[int, int]
    sigma_x_limit: tuple[float, float]
    sigma_y_limit: tuple[float, float]
    rotate_limit: tuple[float, float]
    beta_limit: tuple[float, float]
    noise_limit: tuple[float, float]

    class InitSchema(TransformSchema):
        blur_limit: OddKernelRange = (3, 7)
        sigma_x_limit: SigmaRange = (0.2, 1.0)
        sigma_y_limit: SigmaRange = (0.2, 1.0)
        rotate_limit: SymmetricRange = (-90, 90)
        beta_limit: NonNegativeRange = (0.5, 8.0)
        noise_limit: NonNegativeRange = (0.9, 1.1)
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check_shape(self) -> AdvancedBlur.InitSchema:
            if self.sigma_x_limit[0] == 0 and self.sigma_y_limit[0] == 0:
                raise ValueError(
                    "sigma_x_limit and sigma_y_limit cannot both start at 0 (the kernel would collapse "
                    f"to a point); got {self.sigma_x_limit} and {self.sigma_y_limit}"
                )
            low, high = self.beta_limit
            if not low <= 1 <= high:
                raise ValueError(
                    f"beta_limit must include 1 (low <= 1 <= high), so that kernels range "
                    f"from heavy-tailed to plateau-shaped around the Gaussian; got {self.beta_limit}"
                )
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        ksize = random_odd(rng, *self.blur_limit)
        return {
            "ksize": ksize,
            "sigma_x": float(uniform(rng, *self.sigma_x_limit)),
            "sigma_y": float(uniform(rng, *self.sigma_y_limit)),
            "angle": float(uniform(rng, *self.rotate_limit)),
            "beta": float(uniform(rng, *self.beta_limit)),
            "kernel_noise": rng.uniform(*self.noise_limit, size=(ksize, ksize)).round(6).tolist(),
        }

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        kernel = kb.generalized_gaussian_kernel(
            int(params["ksize"]),
            float(params["sigma_x"]),
            float(params["sigma_y"]),
            float(params["angle"]),
            float(params["beta"]),
            np.asarray(params["kernel_noise"], dtype=np.float64),
        )
        return kb.convolve(img, kernel)
