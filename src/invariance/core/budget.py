"""The resource budget: every argument that scales work or memory has a documented bound.

A transform argument that makes a call slower or larger without limit (a kernel size, a sigma, a
number of holes, an output size, a repeat count) carries a :class:`Bounded` marker in its
``InitSchema`` annotation. The marker says which rule applies; the rules are checked

* at construction, for the bounds that do not depend on the image (output sizes, repeats,
  channels), and
* at every call, before the transform draws or computes anything, for the bounds relative to
  the image (kernels, sigmas and counts) and again for the absolute ones (the limits may have
  been changed since).

A violation raises :class:`~invariance.core.errors.ParameterError` naming the transform, the
argument, its value and the bound. The rules (docs/reliability.md, "Resource budget"):

=========  =====================================================================================
kind       bound
=========  =====================================================================================
kernel     a kernel size (window side, in pixels) <= max(255, 2 * the image's longer side + 1)
sigma      a Gaussian sigma (pixels) <= max(64, the image's longer side)
count      a number of holes, patches, cells or objects <= max(1024, the image's pixel count)
length     a length in pixels <= max(255, 2 * the image's longer side + 1) (absolute sizes only)
height     an output height; with the output width, height * width <= ``max_output_pixels``
width      an output width (see height)
hw         an ``(height, width)`` output size (see height)
side       an output side that bounds both height and width (``max_size``)
channels   a number of output channels <= ``max_output_channels``
repeat     a repeat or iteration count <= ``max_repeats``
=========  =====================================================================================

The absolute limits are process-wide settings (:func:`set_limits`, :func:`get_limits`). Worker
processes started with ``spawn`` import the defaults: set the limits in the worker initializer
too when you raise them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from invariance.core.errors import ParameterError, describe

BoundKind = Literal[
    "kernel", "sigma", "count", "length", "height", "width", "hw", "side", "channels", "repeat"
]

_OUTPUT_KINDS = ("height", "width", "hw", "side")

#: Floors of the bounds relative to the image: on a tiny image the default arguments (a 7-pixel
#: kernel on a 2x2 image) stay valid, and the work they allow stays small.
KERNEL_FLOOR = 255
SIGMA_FLOOR = 64
COUNT_FLOOR = 1024


@dataclass(frozen=True)
class Bounded:
    """Annotation metadata: the argument scales work or memory, bounded by the rule ``kind``."""

    kind: BoundKind


@dataclass(frozen=True)
class Limits:
    """The absolute limits of the resource budget (see :func:`set_limits`).

    Attributes:
        max_output_pixels: the largest output image, in pixels (height * width). Default:
            ``2**28`` (16384 x 16384).
        max_output_channels: the most channels a transform may produce. Default: 1024.
        max_repeats: the largest repeat or iteration count (GlassBlur iterations, RandAugment
            operations, AugMix chains). Default: 1000.
    """

    max_output_pixels: int = 1 << 28
    max_output_channels: int = 1024
    max_repeats: int = 1000


_lock = threading.Lock()
_limits = Limits()


def get_limits() -> Limits:
    """The current absolute limits of the resource budget."""
    return _limits


def set_limits(**changes: int) -> Limits:
    """Change absolute limits of the resource budget for this process; return the previous ones.

    Example::

        previous = invariance.set_limits(max_output_pixels=40_000 * 40_000)
        ...
        invariance.set_limits(**dataclasses.asdict(previous))

    Raises:
        ParameterError: an unknown limit name, or a value that is not a positive integer.
    """
    global _limits
    known = {f.name for f in fields(Limits)}
    for name, value in changes.items():
        if name not in known:
            raise ParameterError(f"set_limits: unknown limit {name!r}; known limits are {sorted(known)}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ParameterError(f"set_limits: {name} must be a positive integer, got {describe(value)}")
    with _lock:
        previous = _limits
        _limits = replace(previous, **changes)
    return previous


# -- reading the markers ------------------------------------------------------------------------


_MARKED: dict[type[Any], tuple[tuple[str, BoundKind], ...]] = {}


def bounded_fields(schema: type[Any]) -> tuple[tuple[str, BoundKind], ...]:
    """The ``(argument, kind)`` pairs of ``schema`` (a pydantic model) that carry a marker."""
    marked = _MARKED.get(schema)
    if marked is None:
        marked = _MARKED[schema] = tuple(
            (name, item.kind)
            for name, info in getattr(schema, "model_fields", {}).items()
            for item in info.metadata
            if isinstance(item, Bounded)
        )
    return marked


def _numbers(value: Any) -> Iterator[float]:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, (int, float)):
        yield float(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _numbers(item)


def _largest(value: Any) -> float | None:
    numbers = list(_numbers(value))
    return max(numbers) if numbers else None


def _refuse(owner: str, name: str, value: Any, bound: str) -> ParameterError:
    return ParameterError(
        f"{owner}: argument {name!r} = {describe(value)} exceeds the resource budget: {bound} "
        "(see 'Resource budget' in docs/reliability.md)"
    )


def _output_size(
    values: Mapping[str, Any], marked: tuple[tuple[str, BoundKind], ...]
) -> tuple[float, float, str]:
    height = width = 0.0
    names: list[str] = []
    for name, kind in marked:
        value = values.get(name)
        if kind not in _OUTPUT_KINDS or value is None:
            continue
        if kind == "hw":
            pairs = value if value and isinstance(value[0], (list, tuple)) else [value]
            height = max(height, *(float(p[0]) for p in pairs))
            width = max(width, *(float(p[1]) for p in pairs))
        else:
            largest = _largest(value)
            if largest is None:
                continue
            if kind in ("height", "side"):
                height = max(height, largest)
            if kind in ("width", "side"):
                width = max(width, largest)
        names.append(name)
    return height, width, " and ".join(repr(n) for n in names)


def check_arguments(owner: str, schema: type[Any], values: Mapping[str, Any]) -> None:
    """Check the bounds that do not depend on the image (called at construction and per call)."""
    marked = bounded_fields(schema)
    if not marked:
        return
    limits = _limits
    for name, kind in marked:
        value = values.get(name)
        largest = _largest(value)
        if largest is None:
            continue
        if kind == "repeat" and largest > limits.max_repeats:
            raise _refuse(owner, name, value, f"at most {limits.max_repeats} repeats (max_repeats)")
        if kind == "channels" and largest > limits.max_output_channels:
            raise _refuse(
                owner, name, value, f"at most {limits.max_output_channels} channels (max_output_channels)"
            )
    height, width, names = _output_size(values, marked)
    if height and width and height * width > limits.max_output_pixels:
        raise ParameterError(
            f"{owner}: argument(s) {names} ask for an output of {int(height)} x {int(width)} = "
            f"{int(height * width):,} pixels, over the resource budget of {limits.max_output_pixels:,} "
            "pixels; raise it with invariance.set_limits(max_output_pixels=...) if you mean it "
            "(see 'Resource budget' in docs/reliability.md)"
        )


_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _names(schema: type[Any], marked: tuple[tuple[str, BoundKind], ...]) -> tuple[str, ...]:
    names = _NAMES.get(schema)
    if names is None:
        names = _NAMES[schema] = tuple(name for name, _ in marked)
    return names


def check_call(transform: Any, shape: tuple[int, int]) -> None:
    """Check ``transform``'s bounded arguments against an image of ``shape`` (height, width).

    Runs before the transform draws its parameters; a transform without markers costs one
    cached lookup.
    """
    # The same arguments, limits and image size as the last call that passed: nothing to check
    # again (the arguments are compared, so changing an attribute between calls is seen). The
    # record keeps the argument names too, so this common case reads nothing else.
    state = transform.__dict__
    passed = state.get("_budget_passed")
    if passed is not None and passed[0] == shape and passed[1] is _limits:
        try:
            if passed[2] == tuple(map(state.get, passed[3])):
                return
        except ValueError:  # arrays among the values: compare the long way
            pass
    schema = type(transform).InitSchema
    marked = bounded_fields(schema)
    if not marked:
        return
    names = _names(schema, marked)
    current = tuple(map(state.get, names))
    owner = type(transform).__name__
    height, width = int(shape[0]), int(shape[1])
    longer = max(height, width)
    kernel = max(KERNEL_FLOOR, 2 * longer + 1)
    sigma = max(SIGMA_FLOOR, longer)
    count = max(COUNT_FLOOR, height * width)
    size = f"a {height}x{width} image"
    values = {name: getattr(transform, name, None) for name, _ in marked}
    for name, kind in marked:
        largest = _largest(values[name])
        if largest is None:
            continue
        if kind == "kernel" and largest > kernel:
            raise _refuse(owner, name, values[name], f"a kernel of at most {kernel} pixels for {size}")
        if kind == "length" and largest > kernel:
            raise _refuse(owner, name, values[name], f"a length of at most {kernel} pixels for {size}")
        if kind == "sigma" and largest > sigma:
            raise _refuse(owner, name, values[name], f"a sigma of at most {sigma} pixels for {size}")
        if kind == "count" and largest > count:
            raise _refuse(owner, name, values[name], f"a count of at most {count} for {size}")
    check_arguments(owner, schema, values)
    transform.__dict__["_budget_passed"] = (tuple(shape), _limits, current, names)


def check_output(owner: str, argument: str, height: float, width: float) -> None:
    """Refuse an output size computed from the arguments and the image (a scale, a padding)."""
    limits = _limits
    if not (math.isfinite(height) and math.isfinite(width)) or height * width > limits.max_output_pixels:
        raise ParameterError(
            f"{owner}: argument {argument!r} gives an output of {height:.0f} x {width:.0f} pixels, over "
            f"the resource budget of {limits.max_output_pixels:,} pixels; raise it with "
            "invariance.set_limits(max_output_pixels=...) if you mean it "
            "(see 'Resource budget' in docs/reliability.md)"
        )
