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
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

import cv2
import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ValidationError,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

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


@dataclass(frozen=True)
class Names:
    """Display names of a ``Literal`` of numbers, in the order of its values (OpenCV flags).

    Only the JSON schema sees them (as ``x-names``): forms show the names and send the numbers.
    """

    names: tuple[str, ...]

    def __get_pydantic_json_schema__(
        self, core: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core)
        schema["x-names"] = [self.names[value] for value in schema.get("enum", [])]
        return schema


@dataclass(frozen=True)
class Slider:
    """Where a form's slider for a number or a range runs, and its step.

    A hint for the explore page only (in the JSON schema as ``x-slider``): it does not limit the
    argument, whose valid values the validators decide; the page's number box takes any value.
    """

    low: float
    high: float
    step: float

    def __get_pydantic_json_schema__(
        self, core: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core)
        schema["x-slider"] = {"min": self.low, "max": self.high, "step": self.step}
        return schema


INTERPOLATION_NAMES = (
    "INTER_NEAREST",
    "INTER_LINEAR",
    "INTER_CUBIC",
    "INTER_AREA",
    "INTER_LANCZOS4",
    "INTER_LINEAR_EXACT",
    "INTER_NEAREST_EXACT",
)
BORDER_MODE_NAMES = (
    "BORDER_CONSTANT",
    "BORDER_REPLICATE",
    "BORDER_REFLECT",
    "BORDER_WRAP",
    "BORDER_REFLECT_101",
)

Interpolation = Annotated[Literal[0, 1, 2, 3, 4, 5, 6], Names(INTERPOLATION_NAMES)]
WarpInterpolation = Annotated[Literal[0, 1, 2, 3, 4], Names(INTERPOLATION_NAMES)]
BorderMode = Annotated[Literal[0, 1, 2, 3, 4], Names(BORDER_MODE_NAMES)]


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

    ``argument_order`` names every argument but ``p`` in constructor (positional) order, for a
    schema whose fields come partly from shared parts and interleave in Albumentations' order;
    empty means the default order of :func:`positional_order`.
    """

    model_config = ConfigDict(
        extra="forbid", arbitrary_types_allowed=True, validate_default=True, allow_inf_nan=False
    )

    argument_order: ClassVar[tuple[str, ...]] = ()

    p: Probability = 0.5

    @field_validator("*", mode="before")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        if _has_non_finite(value):
            raise ValueError(f"expected finite numbers, got {describe(value)} (NaN and infinity are refused)")
        return value


# -- shared parts: resampling and border arguments, declared once ------------------------------
#
# A transform's InitSchema inherits the parts it has (``class InitSchema(WarpSchema)``) and its
# class inherits the matching annotation-only ``*Args`` mixin, so ``self.border_mode`` is typed
# once too. A schema that needs another default redeclares the field with the part's own type.


class FillSchema(TransformSchema):
    """``fill`` and ``fill_mask``: the values written where a warp or pad has no source pixel."""

    fill: Fill = 0.0
    fill_mask: Fill = 0.0


class BorderSchema(FillSchema):
    """``border_mode`` (an OpenCV ``BORDER_*`` flag) with ``fill`` and ``fill_mask``."""

    border_mode: BorderMode = 0  # cv2.BORDER_CONSTANT


class InterpolationSchema(TransformSchema):
    """``interpolation`` alone, for transforms that resample images only (OpenCV flags 0..4)."""

    interpolation: WarpInterpolation = 1  # cv2.INTER_LINEAR


class ResampleSchema(TransformSchema):
    """``interpolation`` and ``mask_interpolation`` of a warp (OpenCV flags 0..4: warpAffine,
    warpPerspective and remap take no exact variants)."""

    interpolation: WarpInterpolation = 1  # cv2.INTER_LINEAR
    mask_interpolation: WarpInterpolation = 0  # cv2.INTER_NEAREST


class WarpSchema(ResampleSchema, BorderSchema):
    """Every resampling argument of a warp: interpolation, mask_interpolation, border_mode,
    fill, fill_mask."""


class ResizeSchema(TransformSchema):
    """``interpolation`` and ``mask_interpolation`` of a resize (every OpenCV flag 0..6)."""

    interpolation: Interpolation = 1  # cv2.INTER_LINEAR
    mask_interpolation: Interpolation = 0  # cv2.INTER_NEAREST


class AreaSchema(TransformSchema):
    """``area_for_downscale``: INTER_AREA when shrinking, for the image (``"image"``) or the image
    and masks (``"image_mask"``)."""

    area_for_downscale: Literal[None, "image", "image_mask"] = None


class DownscaleSchema(ResizeSchema, AreaSchema):
    """A resize's flags, then ``area_for_downscale``."""


class FillArgs:
    """Attribute types of :class:`FillSchema`'s arguments on a transform."""

    fill: float | tuple[float, ...]
    fill_mask: float | tuple[float, ...]


class BorderArgs(FillArgs):
    """Attribute types of :class:`BorderSchema`'s arguments on a transform."""

    border_mode: int


class InterpolationArgs:
    """Attribute type of :class:`InterpolationSchema`'s argument on a transform."""

    interpolation: int


class ResampleArgs(InterpolationArgs):
    """Attribute types of :class:`ResampleSchema`'s (or :class:`ResizeSchema`'s) arguments."""

    mask_interpolation: int


class WarpArgs(ResampleArgs, BorderArgs):
    """Attribute types of :class:`WarpSchema`'s arguments on a transform."""


class DownscaleArgs(ResampleArgs):
    """Attribute types of :class:`DownscaleSchema`'s arguments on a transform."""

    area_for_downscale: str | None


#: The shared parts, for the test that every resampling argument is declared through one.
SHARED_PARTS: tuple[type[TransformSchema], ...] = (
    FillSchema,
    BorderSchema,
    InterpolationSchema,
    ResampleSchema,
    WarpSchema,
    ResizeSchema,
    AreaSchema,
    DownscaleSchema,
)


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
    """Constructor argument order: the schema's ``argument_order`` when it sets one, else fields
    of the most derived schema first, inherited ones after (shared parts in base order); ``p``
    last (the order Albumentations' signatures use)."""
    if schema.argument_order:
        fields = [name for name in schema.model_fields if name != "p"]
        if sorted(schema.argument_order) != sorted(fields):
            raise TypeError(
                f"{schema.__qualname__}.argument_order {schema.argument_order} must name each of "
                f"its arguments but p once: {fields}"
            )
        return [*schema.argument_order, "p"]
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
        # Albumentations' words lead (code matches them); ours say what was expected.
        message = (
            f"Argument(s) '{', '.join(unknown)}' are not valid for transform {owner}: "
            f"unknown argument(s), valid arguments are {order}"
        )
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
