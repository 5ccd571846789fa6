"""Argument types shared by the blur and filter transforms."""

from __future__ import annotations

import warnings
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, BeforeValidator

from invariance.core.budget import Bounded
from invariance.core.schema import _ordered, _pair, from_zero


def _from_three(value: Any) -> Any:
    """A single number ``k`` means the kernel-size range ``(3, k)``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (3, value)
    return _pair(value)


def _odd_at_least_three(pair: tuple[int, int]) -> tuple[int, int]:
    """Raise sizes below 3 to 3 and even sizes to the next odd one, with a warning (as Albumentations)."""
    adjusted = tuple(max(3, v) + (1 if max(3, v) % 2 == 0 else 0) for v in pair)
    if adjusted != tuple(pair):
        warnings.warn(
            f"kernel sizes must be odd and >= 3; {tuple(pair)} was changed to {adjusted}",
            UserWarning,
            stacklevel=2,
        )
    return adjusted[0], adjusted[1]


def _non_negative(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] < 0:
        raise ValueError(f"values must be non-negative, got {pair}")
    return pair


def _unit(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] < 0 or pair[1] > 1:
        raise ValueError(f"values must lie in [0, 1], got {pair}")
    return pair


#: Range of odd kernel sizes >= 3; a number ``k`` means ``(3, k)``.
OddKernelRange = Annotated[
    tuple[int, int],
    BeforeValidator(_from_three),
    AfterValidator(_odd_at_least_three),
    AfterValidator(_ordered),
    Bounded("kernel"),
]
#: Non-negative float range; a number ``x`` means ``(0, x)``.
NonNegativeRange = Annotated[
    tuple[float, float], BeforeValidator(from_zero), AfterValidator(_ordered), AfterValidator(_non_negative)
]
#: Range of Gaussian sigmas in pixels (non-negative, bounded by the image's longer side).
SigmaRange = Annotated[NonNegativeRange, Bounded("sigma")]
#: Float range inside [0, 1]; a number ``x`` means ``(0, x)``.
UnitRange = Annotated[
    tuple[float, float], BeforeValidator(from_zero), AfterValidator(_ordered), AfterValidator(_unit)
]


def random_odd(rng: np.random.Generator, low: int, high: int) -> int:
    """A uniformly drawn odd integer in ``[low, high]`` (``low`` is made odd first)."""
    low = low if low % 2 == 1 else low + 1
    count = (high - low) // 2 + 1
    if count <= 1:
        return low
    return low + 2 * int(rng.integers(0, count))
