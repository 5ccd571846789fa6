"""Shared argument types and input checks of the pixel transforms."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, BeforeValidator

from invariance.core.errors import InputError
from invariance.core.schema import SymmetricRange, _ordered, _pair


def channels_of(img: np.ndarray) -> int:
    return 1 if img.ndim == 2 else int(img.shape[2])


def require_rgb(img: np.ndarray, owner: str, allow_gray: bool = True) -> None:
    """Raise InputError unless ``img`` is RGB (or single-channel when ``allow_gray``)."""
    channels = channels_of(img)
    if channels == 3 or (allow_gray and channels == 1):
        return
    # The message starts with Albumentations' wording, which code may match on.
    also = " or single-channel ones" if allow_gray else ""
    raise InputError(
        f"This transformation expects 3-channel images (RGB){also}: {owner} got {channels} channels"
    )


def _factor_range(value: Any) -> Any:
    """A single number ``x`` means ``(max(0, 1 - x), 1 + x)`` (ColorJitter's convention)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"a single factor must be non-negative, got {value}")
        return (max(0.0, 1.0 - value), 1.0 + value)
    return _pair(value)


def _non_negative(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] < 0:
        raise ValueError(f"factors must be non-negative, got {pair}")
    return pair


FactorRange = Annotated[
    tuple[float, float],
    BeforeValidator(_factor_range),
    AfterValidator(_ordered),
    AfterValidator(_non_negative),
]


def _within_half_turn(value: tuple[float, float]) -> tuple[float, float]:
    if value[0] < -0.5 or value[1] > 0.5:
        raise ValueError(f"hue must lie within [-0.5, 0.5], got {value}")
    return value


#: A hue shift range in turns: a number ``x`` means ``(-x, x)``; within [-0.5, 0.5].
HueRange = Annotated[SymmetricRange, AfterValidator(_within_half_turn)]
