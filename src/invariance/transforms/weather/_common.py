"""Shared pieces of the weather, scene and lighting transforms."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, BeforeValidator

from invariance.core.errors import InputError
from invariance.core.schema import from_zero

SEED_HIGH = 2**31 - 1


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _roi(value: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = value
    if not all(0.0 <= v <= 1.0 for v in value):
        raise ValueError(f"all values must lie in [0, 1], got {value}")
    if x0 > x1 or y0 > y1:
        raise ValueError(f"expected x_min <= x_max and y_min <= y_max, got {value}")
    return value


def _ordered(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] > pair[1]:
        raise ValueError(f"the range's lower bound {pair[0]} is greater than its upper bound {pair[1]}")
    return pair


def _unit(pair: tuple[float, float]) -> tuple[float, float]:
    if not (0.0 <= pair[0] <= 1.0 and 0.0 <= pair[1] <= 1.0):
        raise ValueError(f"both values must lie in [0, 1], got {pair}")
    return pair


def _colour(value: tuple[float, ...]) -> tuple[float, ...]:
    if not value or not all(0 <= v <= 255 for v in value):
        raise ValueError(f"expected colour values in [0, 255], got {value}")
    return value


#: ``(x_min, y_min, x_max, y_max)`` as fractions of the image size.
Roi = Annotated[tuple[float, float, float, float], BeforeValidator(_tuple), AfterValidator(_roi)]
#: An ordered pair inside [0, 1].
UnitRange = Annotated[
    tuple[float, float], BeforeValidator(_tuple), AfterValidator(_ordered), AfterValidator(_unit)
]
#: A number ``x`` means ``(0, x)``; a pair is an ordered range.
ZeroRange = Annotated[tuple[float, float], BeforeValidator(from_zero), AfterValidator(_ordered)]
#: An RGB colour with values in 0..255.
Colour = Annotated[tuple[float, ...], BeforeValidator(_tuple), AfterValidator(_colour)]


def check_channels(img: np.ndarray, owner: str, allow_gray: bool = True) -> None:
    """Raise InputError unless ``img`` has 3 channels (or 1 when ``allow_gray``)."""
    channels = 1 if img.ndim == 2 else img.shape[2]
    if channels == 3 or (allow_gray and channels == 1):
        return
    # The message starts with Albumentations' wording, which code may match on.
    also = " or single-channel ones" if allow_gray else ""
    raise InputError(
        f"This transformation expects 3-channel images (RGB){also}: {owner} got {channels} channels"
    )


def new_seed(rng: np.random.Generator) -> int:
    """A seed for a random field, redrawn at apply time by :func:`field_generator` (fields are never
    stored in params)."""
    return int(rng.integers(0, SEED_HIGH))


def field_generator(params: dict[str, Any]) -> np.random.Generator:
    """The Generator that redraws a call's random field from the seed recorded in ``params``."""
    return np.random.default_rng(int(params["seed"]))
