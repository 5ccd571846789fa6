"""Typed parameter declarations: one pydantic model per transform drives everything.

A transform declares its arguments once, as a nested ``InitSchema`` model. That model gives the
constructor's validation (with errors naming the argument, the value and what was expected),
its signature, its defaults, serialization, and the forms of the CLI and the explore page.

This module holds the base model, the reusable annotated types (ranges, interpolation flags,
border modes, fills) and :func:`parse_arguments`, which turns ``*args, **kwargs`` into validated
values, handling deprecated aliases and unknown arguments the way Albumentations 2.x users expect.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

import cv2
import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from invariance.core.budget import check_arguments
from invariance.core.errors import ParameterError, describe

Probability = Annotated[float, Field(ge=0.0, le=1.0)]

INTERPOLATIONS = (
    cv2.INTER_NEAREST,
    cv2.INTER_LINEAR,
    cv2.INTER_CUBIC,
    cv2.INTER_AREA,
    cv2.INTER_LANCZOS4,
    cv2.INTER_LINEAR_EXACT,
    cv2.INTER_NEAREST_EXACT,
)
BORDER_MODES = (
    cv2.BORDER_CONSTANT,
    cv2.BORDER_REPLICATE,
    cv2.BORDER_REFLECT,
    cv2.BORDER_WRAP,
    cv2.BORDER_REFLECT_101,
)

Interpolation = Literal[0, 1, 2, 3, 4, 5, 6]
WarpInterpolation = Literal[0, 1, 2, 3, 4]
BorderMode = Literal[0, 1, 2, 3, 4]


def _as_fill(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(float(v) for v in value)
    return value


Fill = Annotated[float | tuple[float, ...], BeforeValidator(_as_fill)]


def _pair(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    return value


def _ordered(pair: tuple[Any, Any]) -> tuple[Any, Any]:
    low, high = pair
    if low > high:
        raise ValueError(f"the range's lower bound {low} is greater than its upper bound {high}")
    return pair


def symmetric(value: Any) -> Any:
    """A single number ``x`` means the range ``(-x, x)``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (-abs(value), abs(value))
    return _pair(value)


def around(center: float) -> Callable[[Any], Any]:
    """A single number ``x`` means ``(center - x, center + x)``."""

    def convert(value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (center - value, center + value)
        return _pair(value)

    return convert


def from_zero(value: Any) -> Any:
    """A single number ``x`` means ``(0, x)``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return _pair(value)


def same(value: Any) -> Any:
    """A single number ``x`` means the degenerate range ``(x, x)``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (value, value)
    return _pair(value)


FloatRange = Annotated[tuple[float, float], BeforeValidator(_pair), AfterValidator(_ordered)]
IntRange = Annotated[tuple[int, int], BeforeValidator(_pair), AfterValidator(_ordered)]
SymmetricRange = Annotated[tuple[float, float], BeforeValidator(symmetric), AfterValidator(_ordered)]


def _has_non_finite(value: Any, depth: int = 0) -> bool:
    """True when ``value`` holds a NaN or an infinity anywhere (numbers, containers, arrays)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "fc" and not bool(np.all(np.isfinite(value)))
    if isinstance(value, np.floating):
        return not bool(np.isfinite(value))
    if depth > 32:
        return False
    if isinstance(value, Mapping):
        return any(_has_non_finite(v, depth + 1) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_non_finite(v, depth + 1) for v in value)
    return False


class TransformSchema(BaseModel):
    """Base of every transform's ``InitSchema``: the probability ``p``.

    Every field of every subclass refuses NaN and infinity, wherever it sits (a number, a range,
    a list of ranges, an array): no transform has a use for them, and they reach OpenCV as
    silently wrong results.
    """

    model_config = ConfigDict(
        extra="forbid", arbitrary_types_allowed=True, validate_default=True, allow_inf_nan=False
    )

    p: Probability = 0.5

    @field_validator("*", mode="before")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        if _has_non_finite(value):
            raise ValueError(f"expected finite numbers, got {describe(value)} (NaN and infinity are refused)")
        return value


# Old argument names that Albumentations 2.x users still write, mapped to the current name.
COMMON_ALIASES: dict[str, str] = {
    "value": "fill",
    "cval": "fill",
    "fill_value": "fill",
    "mask_value": "fill_mask",
    "cval_mask": "fill_mask",
    "mask_fill_value": "fill_mask",
    "mode": "border_mode",
}


def positional_order(schema: type[TransformSchema]) -> list[str]:
    """Constructor argument order: fields of the most derived schema first, inherited ones after,
    and ``p`` last (the order Albumentations' signatures use)."""
    names: list[str] = []
    for klass in schema.__mro__:
        for name in inspect.get_annotations(klass):
            if name in schema.model_fields and name != "p" and name not in names:
                names.append(name)
    names.extend(n for n in schema.model_fields if n not in names and n != "p")
    return [*names, "p"]


def _format_error(owner: str, error: ValidationError, given: Mapping[str, Any]) -> str:
    lines = []
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ())]
        name = loc[0] if loc else ""
        if name and name in given:
            where = f"argument {name!r} = {describe(given[name])}"
        elif name:
            where = f"argument {name!r}"
        else:
            where = "arguments"
        message = str(item.get("msg", "invalid value")).removeprefix("Value error, ")
        lines.append(f"{owner}: {where} is invalid: {message}")
    return "\n".join(lines)


def parse_arguments(
    owner: str,
    schema: type[TransformSchema],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    aliases: Mapping[str, str],
    legacy: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Validate constructor arguments against ``schema`` and return the field values.

    Deprecated aliases are renamed with a ``DeprecationWarning``. Unknown arguments are ignored with
    a ``UserWarning`` (as Albumentations 2.x does) unless ``strict=True`` is passed, which makes them
    an error. Validation failures raise :class:`ParameterError` naming each bad argument.
    """
    strict = bool(kwargs.pop("strict", False))
    kwargs.pop("always_apply", None)  # removed in Albumentations 2.0; accepted and ignored
    order = positional_order(schema)
    if len(args) > len(order):
        raise ParameterError(f"{owner} takes at most {len(order)} positional arguments, got {len(args)}")
    given: dict[str, Any] = dict(zip(order, args))
    for name, value in kwargs.items():
        if name in given:
            raise ParameterError(f"{owner}: argument {name!r} given both positionally and by name")
        given[name] = value
    fields = schema.model_fields
    if legacy is not None:
        given = legacy(given)
    for old, new in aliases.items():
        if old in given and old not in fields and new in fields:
            value = given.pop(old)
            if new not in given:
                warnings.warn(
                    f"{owner}: argument {old!r} is deprecated; use {new!r} instead",
                    DeprecationWarning,
                    stacklevel=4,
                )
                given[new] = value
    unknown = [name for name in given if name not in fields]
    if unknown:
        message = f"{owner}: unknown argument(s) {', '.join(map(repr, unknown))}; valid arguments are {order}"
        if strict:
            raise ParameterError(message)
        warnings.warn(message + " (ignored)", UserWarning, stacklevel=4)
        for name in unknown:
            given.pop(name)
    try:
        model = schema(**given)
    except ValidationError as error:
        raise ParameterError(_format_error(owner, error, given)) from None
    values = {name: getattr(model, name) for name in fields}
    check_arguments(owner, schema, values)
    return values


def build_signature(schema: type[TransformSchema]) -> inspect.Signature:
    """An ``inspect.Signature`` that shows the schema's fields, for help() and IDEs."""
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    kind: inspect._ParameterKind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    seen_default = False
    for name in positional_order(schema):
        info = schema.model_fields[name]
        default = (
            inspect.Parameter.empty if info.is_required() else info.get_default(call_default_factory=True)
        )
        if default is inspect.Parameter.empty and seen_default:
            kind = inspect.Parameter.KEYWORD_ONLY
        seen_default = seen_default or default is not inspect.Parameter.empty
        params.append(inspect.Parameter(name, kind, default=default, annotation=info.annotation))
    return inspect.Signature(params)
