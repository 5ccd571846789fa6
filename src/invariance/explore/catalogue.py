"""The transform catalogue as the explorer sees it: families, docstrings and form fields.

Everything here is derived from each transform's own declaration (its ``InitSchema``, its
``example_args`` and its class attributes); no transform has a hand-written form.
"""

from __future__ import annotations

import inspect
import math
import warnings
from functools import cache
from typing import Annotated, Any

import numpy as np
from pydantic import TypeAdapter

from invariance.core.compose import BaseCompose
from invariance.core.registry import is_base, registered

#: Widgets the page knows how to draw; ``readonly`` fields are shown but cannot be edited.
#: ``axes`` is a per-axis dict of ranges (``{"x": [lo, hi], "y": [lo, hi]}``); ``numbers`` a
#: fixed-length tuple of numbers other than a pair (a region ``(x_min, y_min, x_max, y_max)``).
WIDGETS = ("number", "integer", "boolean", "enum", "range", "axes", "numbers", "text", "json", "readonly")


def _is_listed(name: str, cls: Any) -> bool:
    return (
        isinstance(cls, type)
        and not name.startswith("_")
        and not cls.__module__.startswith("invariance.core")
        and not issubclass(cls, BaseCompose)
        and not is_base(cls)
        and hasattr(cls, "InitSchema")
    )


def transform_classes() -> dict[str, type[Any]]:
    """Registered transforms the explorer offers, by name (compositions and internals left out)."""
    return {name: cls for name, cls in sorted(registered().items()) if _is_listed(name, cls)}


def plain(value: Any) -> Any:
    """``value`` as JSON data; raises ``TypeError`` for values a form cannot hold (arrays of pixels, functions)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            raise TypeError("not a finite number")
        return number
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray) and value.size <= 16:
        return plain(value.tolist())
    raise TypeError(f"{type(value).__name__} cannot be edited in a form")


def _model_schema(cls: type[Any]) -> dict[str, Any] | None:
    try:
        properties: dict[str, Any] = cls.InitSchema.model_json_schema()["properties"]
        return properties
    except Exception:
        return None


def _field_schema(cls: type[Any], name: str, whole: dict[str, Any] | None) -> dict[str, Any]:
    """The JSON schema of one field, or ``{}`` when pydantic cannot describe it (callables)."""
    if whole is not None:
        return dict(whole.get(name, {}))
    field = cls.InitSchema.model_fields[name]
    try:
        parts: tuple[Any, ...] = (field.annotation, *field.metadata)
        annotated: Any = Annotated[parts] if field.metadata else field.annotation
        adapter: TypeAdapter[Any] = TypeAdapter(annotated)
        return dict(adapter.json_schema())
    except Exception:
        return {}


def _widget(schema: dict[str, Any]) -> tuple[str, dict[str, Any], bool]:
    """The widget for a field's schema, the schema part it reads, and whether ``None`` is allowed."""
    nullable = False
    options = schema.get("anyOf")
    if options:
        rest = [s for s in options if s.get("type") != "null"]
        nullable = len(rest) < len(options)
        if len(rest) != 1:
            return "json", schema, nullable
        schema = rest[0]
    if "enum" in schema:
        return "enum", schema, nullable
    if "const" in schema:
        return "enum", {**schema, "enum": [schema["const"]]}, nullable
    kind = schema.get("type")
    if kind == "boolean":
        return "boolean", schema, nullable
    if kind in ("number", "integer"):
        return kind, schema, nullable
    if kind == "string":
        return "text", schema, nullable
    if _is_pair(schema):
        return "range", schema, nullable
    fixed = schema.get("prefixItems")
    if kind == "array" and fixed and all(i.get("type") in ("number", "integer") for i in fixed):
        return "numbers", schema, nullable
    extra = schema.get("additionalProperties")
    if kind == "object" and isinstance(extra, dict) and _is_pair(extra):
        return "axes", schema, nullable
    return "json", schema, nullable


def _is_pair(schema: dict[str, Any]) -> bool:
    """Whether ``schema`` is a ``(low, high)`` pair of numbers."""
    items = schema.get("prefixItems")
    return bool(
        schema.get("type") == "array"
        and items
        and len(items) == 2
        and all(i.get("type") in ("number", "integer") for i in items)
    )


def _numbers(value: Any) -> list[float]:
    """Every number inside ``value`` (nested lists and dicts), booleans left out."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, (list, tuple)):
        return [n for v in value for n in _numbers(v)]
    return []


def _nice(value: float) -> float:
    """The smallest of 1, 2, 5 times a power of ten that is at least ``value`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(value))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if factor * power >= value * (1 - 1e-9):
            return factor * power
    return 10.0 * power


def _item_schema(widget: str, part: dict[str, Any]) -> dict[str, Any]:
    """The schema of one number of a widget: the field, a range's first item, an axis's first item."""
    if widget == "axes":
        part = part.get("additionalProperties") or {}
    if widget in ("range", "axes"):
        first: dict[str, Any] = (part.get("prefixItems") or [{}])[0]
        return first
    return part


def _slider(
    widget: str, part: dict[str, Any], outer: dict[str, Any], values: list[Any]
) -> dict[str, Any] | None:
    """Slider bounds and step for a number, range or per-axis field.

    Taken from the declaration: an explicit ``x-slider`` hint, else the schema's own minimum and
    maximum. A side the declaration leaves open is derived from the start and default values (a
    round number past twice the largest magnitude; zero when nothing is negative), so the slider
    covers them with room to move; the number box beside it still takes any valid value.
    """
    hint = part.get("x-slider") or outer.get("x-slider")
    item = _item_schema(widget, part)
    integer = item.get("type") == "integer"
    if hint:
        return {"min": hint["min"], "max": hint["max"], "step": hint["step"], "declared": True}
    bounds = _bounds(item)
    if widget in ("number", "integer") and not ("min" in bounds and "max" in bounds):
        return None
    numbers = [n for v in values for n in _numbers(v)]
    largest = max([abs(n) for n in numbers] + [1.0 if not integer else 10.0])
    high = bounds.get("max", _nice(2 * largest))
    low = bounds.get("min", 0.0 if min(numbers, default=0.0) >= 0 else -high)
    if high <= low:
        high = low + _nice(2 * largest)
    step = 1 if integer else min(_nice((high - low) / 200), 1.0)
    if integer:
        low, high = math.floor(low), math.ceil(high)
    return {"min": low, "max": high, "step": step, "declared": "min" in bounds and "max" in bounds}


def _bounds(schema: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("minimum", "exclusiveMinimum"):
        if key in schema:
            out["min"] = schema[key]
    for key in ("maximum", "exclusiveMaximum"):
        if key in schema:
            out["max"] = schema[key]
    return out


def _start_instance(cls: type[Any]) -> Any:
    """An instance built from ``example_args`` (over the defaults), or ``None`` when that fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _build_quietly(cls)


def _build_quietly(cls: type[Any]) -> Any:
    try:
        return cls(**dict(cls.example_args))
    except Exception:
        try:
            return cls()
        except Exception:
            return None


def _describe_value(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array {'x'.join(map(str, value.shape))} {value.dtype}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)}: " + ", ".join(_describe_value(v) for v in value[:3])
    if callable(value):
        return f"function {getattr(value, '__name__', type(value).__name__)}"
    return type(value).__name__


def summary_line(cls: type[Any]) -> str:
    doc = inspect.getdoc(cls) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


@cache
def describe(name: str) -> dict[str, Any]:
    """Everything the page needs to show one transform and draw its form."""
    cls = transform_classes()[name]
    instance = _start_instance(cls)
    fields: list[dict[str, Any]] = []
    needs_metadata = instance is None or "metadata_key" in cls.InitSchema.model_fields
    whole = _model_schema(cls)
    for field_name, field in cls.InitSchema.model_fields.items():
        schema = _field_schema(cls, field_name, whole)
        widget, part, nullable = _widget(schema)
        entry: dict[str, Any] = {"name": field_name, "widget": widget, "nullable": nullable}
        entry.update(_bounds(part))
        if widget == "enum":
            entry["options"] = list(part["enum"])
            if "x-names" in part:
                entry["option_names"] = list(part["x-names"])
        if widget in ("range", "axes"):
            entry["item_type"] = _item_schema(widget, part).get("type", "number")
        if widget == "numbers":
            entry["item_type"] = part["prefixItems"][0].get("type", "number")
            entry["length"] = len(part["prefixItems"])
        entry["required"] = field.is_required()
        try:
            entry["default"] = (
                None if field.is_required() else plain(field.get_default(call_default_factory=True))
            )
        except TypeError:
            entry["default"] = None
        try:
            entry["value"] = (
                plain(getattr(instance, field_name)) if instance is not None else entry["default"]
            )
        except (TypeError, AttributeError):
            entry["widget"] = "readonly"
            entry["value"] = _describe_value(getattr(instance, field_name, None))
            needs_metadata = True
        if not schema and entry["widget"] != "readonly":
            entry["widget"] = "readonly" if entry["value"] is not None or field.is_required() else "json"
        if entry["widget"] == "readonly" and field.is_required():
            needs_metadata = True
        if entry["widget"] == "axes":
            shown = entry["value"] if isinstance(entry["value"], dict) else entry["default"]
            entry["axes"] = list(shown) if isinstance(shown, dict) and shown else ["x", "y"]
        if entry["widget"] in ("number", "integer", "range", "axes"):
            slider = _slider(entry["widget"], part, schema, [entry["value"], entry["default"]])
            if slider is not None:
                entry["slider"] = slider
        fields.append(entry)
    return {
        "name": name,
        "family": cls.family,
        "summary": summary_line(cls),
        "doc": inspect.getdoc(cls) or "",
        "targets": list(cls.supported_targets),
        "dtypes": list(cls.supported_dtypes),
        "needs_metadata": needs_metadata,
        "fields": fields,
    }


def catalogue() -> list[dict[str, Any]]:
    """Short entries for every listed transform, ordered by family then name."""
    entries = []
    for name, cls in transform_classes().items():
        full = describe(name)
        entries.append(
            {
                "name": name,
                "family": cls.family,
                "summary": full["summary"],
                "targets": full["targets"],
                "needs_metadata": full["needs_metadata"],
            }
        )
    return sorted(entries, key=lambda e: (e["family"], e["name"]))


def editable_args(name: str, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` with read-only fields dropped (they keep their start values)."""
    readonly = {f["name"] for f in describe(name)["fields"] if f["widget"] == "readonly"}
    return {k: v for k, v in given.items() if k not in readonly}
