"""Blur transforms."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, BeforeValidator

from invariance.core.budget import Bounded
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import FloatRange, Probability, TransformSchema, from_zero
from invariance.core.transform import PixelTransform
from invariance.kernels.blur import gaussian_blur


def _odd_or_zero(pair: tuple[int, int]) -> tuple[int, int]:
    low, high = pair
    if low < 0 or high < 0:
        raise ValueError(f"kernel sizes must be >= 0, got {pair}")
    for value in pair:
        if value != 0 and value % 2 == 0:
            raise ValueError(f"kernel sizes must be odd (or 0 to derive them from sigma), got {pair}")
    if low > high:
        raise ValueError(f"the lower kernel size {low} is greater than the upper {high}")
    return pair


KernelRange = Annotated[
    tuple[int, int], BeforeValidator(from_zero), AfterValidator(_odd_or_zero), Bounded("kernel")
]


class GaussianBlur(PixelTransform):
    """Blur with a Gaussian kernel of random size and sigma.

    The kernel size is an odd number drawn from ``blur_limit``; 0 derives it from sigma as
    ``2 * int(3.5 sigma) + 1``. Sigma is drawn from ``sigma_limit``. Borders reflect (101).

    Args:
        blur_limit: range of odd kernel sizes, or 0 (derive from sigma); a number ``k`` means
            ``(0, k)``. Default: 0.
        sigma_limit: range of sigma; a number ``s`` means ``(0, s)``. Default: (0.5, 3.0).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    blur_limit: tuple[int, int]
    sigma_limit: tuple[float, float]

    class InitSchema(TransformSchema):
        blur_limit: KernelRange = (0, 0)
        sigma_limit: Annotated[FloatRange, BeforeValidator(from_zero), Bounded("sigma")] = (0.5, 3.0)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        low, high = self.blur_limit
        sizes = [k for k in range(max(low, 3), high + 1) if k % 2 == 1]
        # No admissible odd size (e.g. the default 0): derive the size from sigma.
        ksize = int(sizes[int(rng.integers(0, len(sizes)))]) if sizes else 0
        return {"ksize": ksize, "sigma": float(uniform(rng, *self.sigma_limit))}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return gaussian_blur(img, int(params["ksize"]), float(params["sigma"]))
