"""Boxes and keypoints: their parameters, formats, and the containers that carry them.

Boxes and keypoints are converted once, at the pipeline edge, into one internal layout and back:

* boxes: ``(N, 4)`` float64 ``x_min, y_min, x_max, y_max`` in pixels, continuous frame
  (the ``pascal_voc`` convention);
* keypoints: ``(N, 4)`` float64 ``x, y, angle, scale`` in the pixel-index frame, angle in radians.

Each row also carries the index of the input row it came from. Filtering and reordering only
touch that index, so extra columns and label fields (of any type) follow their box or keypoint
and come back exactly as they went in: ints stay ints, strings stay strings.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from typing_extensions import Self

from invariance.core.errors import InputError, InputTypeError, ParameterError, describe

BBOX_FORMATS = ("pascal_voc", "albumentations", "coco", "yolo")
KEYPOINT_FORMATS = ("xy", "yx", "xya", "xys", "xyas", "xysa", "xyz")
#: Hidden label column holding the depth ``z`` of ``xyz`` keypoints (it travels with its row;
#: only volumetric effects change it).
KEYPOINT_Z = "__z__"
#: How far past the image border (in units of the image size) a box edge may lie and still count
#: as on the border: the rounding of coordinates stored in float32 (one step near 1 is 1.2e-7).
EDGE_TOLERANCE = 5e-7


def _resolve_format(kind: str, format: str | None, coord_format: str | None, allowed: Sequence[str]) -> str:
    if format is not None and coord_format is not None and format != coord_format:
        raise ParameterError(
            f"{kind}: format={format!r} and coord_format={coord_format!r} disagree; pass only one of them"
        )
    chosen = format if format is not None else coord_format
    if chosen is None:
        raise ParameterError(
            f"{kind}: a format is required (format= or coord_format=), one of {list(allowed)}"
        )
    if chosen not in allowed:
        raise ParameterError(f"{kind}: format={chosen!r} is not supported; expected one of {list(allowed)}")
    return chosen


def _check_fraction(kind: str, name: str, value: float, upper: float | None = None) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not np.isfinite(value) or value < 0:
        raise ParameterError(f"{kind}: {name}={describe(value)} must be a finite number >= 0")
    if upper is not None and value > upper:
        raise ParameterError(f"{kind}: {name}={value} must be in [0, {upper}]")
    return float(value)


def _label_fields(kind: str, label_fields: Sequence[str] | None) -> list[str]:
    if label_fields is None:
        return []
    if isinstance(label_fields, str):
        raise ParameterError(f"{kind}: label_fields must be a list of names, got the string {label_fields!r}")
    fields = list(label_fields)
    for name in fields:
        if not isinstance(name, str) or not name:
            raise ParameterError(
                f"{kind}: label_fields entries must be non-empty strings, got {describe(name)}"
            )
    if len(set(fields)) != len(fields):
        raise ParameterError(f"{kind}: label_fields has duplicates: {fields}")
    return fields


class BboxParams:
    """How boxes are read, written and filtered.

    Args:
        format: ``pascal_voc`` (x_min, y_min, x_max, y_max in pixels), ``albumentations`` (the
            same normalized to [0, 1]), ``coco`` (x_min, y_min, width, height in pixels) or
            ``yolo`` (x_center, y_center, width, height normalized). ``coord_format`` is accepted
            as the newer name of the same argument.
        label_fields: names of call arguments holding one label per box; they follow the boxes.
        min_area: boxes smaller than this many square pixels after a transform are dropped.
        min_visibility: boxes keeping less than this fraction of their area inside the image
            after a transform are dropped.
        min_width, min_height: boxes narrower or lower than this many pixels are dropped.
        check_each_transform: filter after every spatial transform (else only at the end).
        clip: clip input boxes to the image before validating them.
        filter_invalid_bboxes: drop invalid input boxes (x_max <= x_min...) instead of raising.
        max_accept_ratio: drop boxes whose aspect ratio (long side / short side) exceeds this.
        instance_masks: the key of a ``masks`` target whose masks belong to the boxes, one per box
            (``masks[i]`` is the instance that ``bboxes[i]`` bounds). Every transform then keeps
            them paired: a box dropped by a crop or a filter drops its mask too, and mixing
            transforms add each pasted object's mask with its box. Default: None (no pairing).
    """

    def __init__(
        self,
        format: str | None = None,
        label_fields: Sequence[str] | None = None,
        min_area: float = 0.0,
        min_visibility: float = 0.0,
        min_width: float = 0.0,
        min_height: float = 0.0,
        check_each_transform: bool = True,
        clip: bool = False,
        filter_invalid_bboxes: bool = False,
        max_accept_ratio: float | None = None,
        *,
        coord_format: str | None = None,
        instance_masks: str | None = None,
    ) -> None:
        kind = "BboxParams"
        self.format = _resolve_format(kind, format, coord_format, BBOX_FORMATS)
        self.label_fields = _label_fields(kind, label_fields)
        self.min_area = _check_fraction(kind, "min_area", min_area)
        self.min_visibility = _check_fraction(kind, "min_visibility", min_visibility, 1.0)
        self.min_width = _check_fraction(kind, "min_width", min_width)
        self.min_height = _check_fraction(kind, "min_height", min_height)
        self.check_each_transform = bool(check_each_transform)
        self.clip = bool(clip)
        self.filter_invalid_bboxes = bool(filter_invalid_bboxes)
        if max_accept_ratio is not None:
            _check_fraction(kind, "max_accept_ratio", max_accept_ratio)
            if max_accept_ratio < 1:
                raise ParameterError(f"{kind}: max_accept_ratio={max_accept_ratio} must be >= 1 or None")
        self.max_accept_ratio = None if max_accept_ratio is None else float(max_accept_ratio)
        if instance_masks is not None and (not isinstance(instance_masks, str) or not instance_masks):
            raise ParameterError(
                f"{kind}: instance_masks={instance_masks!r} must be the key of a masks target, e.g. 'masks'"
            )
        self.instance_masks = instance_masks

    @property
    def coord_format(self) -> str:
        return self.format

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "label_fields": list(self.label_fields),
            "min_area": self.min_area,
            "min_visibility": self.min_visibility,
            "min_width": self.min_width,
            "min_height": self.min_height,
            "check_each_transform": self.check_each_transform,
            "clip": self.clip,
            "filter_invalid_bboxes": self.filter_invalid_bboxes,
            "max_accept_ratio": self.max_accept_ratio,
            **({"instance_masks": self.instance_masks} if self.instance_masks is not None else {}),
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"BboxParams({args})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BboxParams) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def _check_transform_name(name: str) -> None:
    """Refuse a ``label_mapping`` key that names no registered transform class.

    The mapping applies when a transform *of that class name* fires, so a typo such as
    ``'HorizontlFlip'`` would silently never swap left and right: the very bug the mapping prevents.
    """
    import difflib

    from invariance.core import registry

    known = registry.registered()
    if name in known:
        return
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise ParameterError(
        f"KeypointParams: label_mapping names the transform {name!r}, which is not a registered "
        f"transform class (the mapping applies when a transform of that class name fires){hint}"
    )


class KeypointParams:
    """How keypoints are read, written and filtered.

    Args:
        format: one of ``xy yx xya xys xyas xysa xyz`` (a: angle, s: scale, z: depth in a volume, in
            voxels, moved only by volumetric transforms). ``coord_format`` is
            accepted as the newer name of the same argument.
        label_fields: names of call arguments holding one label per keypoint.
        remove_invisible: drop keypoints that leave the image after a spatial transform.
        angle_in_degrees: angles are read and written in degrees (else radians).
        check_each_transform: drop invisible keypoints after every transform (else at the end).
        label_mapping: ``{transform_name: {label_field: {old: new}}}``. After the named transform
            fires, labels are renamed and the keypoints reordered so each index keeps its meaning
            (after a horizontal flip, the "left eye" slot holds the flipped person's left eye).
            Each transform name must be a registered transform class (define a custom transform
            before its mapping); a misspelled name is an error that suggests the close names.
    """

    def __init__(
        self,
        format: str | None = None,
        label_fields: Sequence[str] | None = None,
        remove_invisible: bool = True,
        angle_in_degrees: bool = True,
        check_each_transform: bool = True,
        label_mapping: Mapping[str, Mapping[str, Mapping[Any, Any]]] | None = None,
        *,
        coord_format: str | None = None,
    ) -> None:
        kind = "KeypointParams"
        if format is None and coord_format is None:
            format = "xy"
        self.format = _resolve_format(kind, format, coord_format, KEYPOINT_FORMATS)
        self.label_fields = _label_fields(kind, label_fields)
        self.remove_invisible = bool(remove_invisible)
        self.angle_in_degrees = bool(angle_in_degrees)
        self.check_each_transform = bool(check_each_transform)
        self.label_mapping = self._check_mapping(label_mapping)

    def _check_mapping(
        self, mapping: Mapping[str, Mapping[str, Mapping[Any, Any]]] | None
    ) -> dict[str, dict[str, dict[Any, Any]]]:
        if mapping is None:
            return {}
        if not isinstance(mapping, Mapping):
            raise ParameterError(
                "KeypointParams: label_mapping must be {transform_name: {label_field: {old: new}}}, "
                f"got {describe(mapping)}"
            )
        checked: dict[str, dict[str, dict[Any, Any]]] = {}
        for transform_name, per_field in mapping.items():
            if not isinstance(per_field, Mapping):
                raise ParameterError(
                    f"KeypointParams: label_mapping[{transform_name!r}] must map label fields to "
                    f"{{old: new}} dicts, got {describe(per_field)}"
                )
            _check_transform_name(str(transform_name))
            checked[str(transform_name)] = {}
            for field_name, table in per_field.items():
                if field_name not in self.label_fields:
                    raise ParameterError(
                        f"KeypointParams: label_mapping[{transform_name!r}] names the label field "
                        f"{field_name!r}, which is not in label_fields={self.label_fields}"
                    )
                if not isinstance(table, Mapping):
                    raise ParameterError(
                        f"KeypointParams: label_mapping[{transform_name!r}][{field_name!r}] must be a "
                        f"dict {{old: new}}, got {describe(table)}"
                    )
                checked[str(transform_name)][field_name] = dict(table)
        return checked

    @property
    def coord_format(self) -> str:
        return self.format

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "label_fields": list(self.label_fields),
            "remove_invisible": self.remove_invisible,
            "angle_in_degrees": self.angle_in_degrees,
            "check_each_transform": self.check_each_transform,
            "label_mapping": {
                t: {f: [[k, v] for k, v in table.items()] for f, table in per.items()}
                for t, per in self.label_mapping.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KeypointParams:
        args = dict(data)
        mapping = args.pop("label_mapping", None) or {}
        restored = {
            t: {
                # JSON stores {old: new} as [[old, new], ...] so that integer keys survive.
                f: dict(table.items() if isinstance(table, Mapping) else table)
                for f, table in per.items()
            }
            for t, per in mapping.items()
        }
        return cls(**args, label_mapping=restored or None)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"KeypointParams({args})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeypointParams) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


# ----------------------------------------------------------------------------------------------
# Containers


@dataclass(frozen=True)
class Layout:
    """How the caller passed rows, so results come back in the same container and dtype."""

    container: str  # "list", "tuple" or "ndarray"
    dtype: np.dtype | None
    width: int  # number of coordinate columns of the format


@dataclass
class RowSet:
    """Rows of boxes or keypoints with everything that travels with them, all aligned.

    ``coords`` is the internal geometry; ``extras`` holds the caller's extra columns per row (an
    object array of tuples for list input, a numeric ``(N, k)`` array for array input); ``labels``
    maps each label field to its aligned values. Filtering, reordering and concatenation keep the
    three aligned, so labels always follow their row.
    """

    coords: np.ndarray
    extras: np.ndarray
    labels: dict[str, np.ndarray]
    layout: Layout

    def __len__(self) -> int:
        return len(self.coords)

    def take(self, index: np.ndarray) -> Self:
        """Rows selected by a boolean mask or reordered by an index array."""
        return type(self)(
            self.coords[index],
            self.extras[index],
            {name: values[index] for name, values in self.labels.items()},
            self.layout,
        )

    def with_coords(self, coords: np.ndarray) -> Self:
        """The same rows with new coordinates (same count and order)."""
        if len(coords) != len(self.coords):
            raise ValueError(f"expected {len(self.coords)} rows of coordinates, got {len(coords)}")
        return type(self)(coords, self.extras, self.labels, self.layout)

    def concat(self, *others: Self) -> Self:
        """These rows followed by ``others`` (for mixing several samples); layouts must agree."""
        sets = (self, *others)
        names = set(self.labels)
        for other in others:
            if set(other.labels) != names:
                raise ValueError("cannot concatenate rows with different label fields")
        extras = _concat_extras([s.extras for s in sets])
        labels = {name: _concat_labels([s.labels[name] for s in sets]) for name in self.labels}
        return type(self)(np.concatenate([s.coords for s in sets]), extras, labels, self.layout)


class BoxSet(RowSet):
    """Boxes: ``coords`` is ``(N, 4)`` float64 ``x_min, y_min, x_max, y_max``, pixels, continuous frame."""


class PointSet(RowSet):
    """Keypoints: ``coords`` is ``(N, 4)`` float64 ``x, y, angle (rad), scale``, pixel-index frame."""


def _concat_extras(parts: list[np.ndarray]) -> np.ndarray:
    """Stack extra columns of several row sets: numeric blocks stay numeric (same width), and a
    mix of list-style (object) and array-style rows becomes one object array of tuples."""
    if all(p.dtype != object for p in parts):
        blocks = [p.reshape(len(p), p.shape[1] if p.ndim == 2 else 0).astype(np.float64) for p in parts]
        widths = {b.shape[1] for b in blocks if len(b)}
        if len(widths) > 1:
            raise ValueError(f"cannot concatenate rows with {sorted(widths)} extra columns")
        width = widths.pop() if widths else max(b.shape[1] for b in blocks)
        return np.concatenate([b if len(b) else np.zeros((0, width)) for b in blocks])
    rows: list[tuple[Any, ...]] = []
    for p in parts:
        rows.extend(p if p.dtype == object else (tuple(r) for r in p.reshape(len(p), -1).tolist()))
    return object_rows(rows)


def _concat_labels(parts: list[np.ndarray]) -> np.ndarray:
    if all(p.dtype != object for p in parts):
        return np.concatenate(parts)
    out = np.empty(sum(len(p) for p in parts), dtype=object)
    out[:] = [v for p in parts for v in p]
    return out


def object_rows(rows: list[tuple[Any, ...]]) -> np.ndarray:
    """An object array holding one tuple per row (numpy would otherwise make it 2-D)."""
    out = np.empty(len(rows), dtype=object)
    out[:] = rows
    return out


def as_rows(value: Any, key: str, min_width: int, what: str) -> tuple[np.ndarray, np.ndarray, Layout]:
    """Split the caller's rows into float coordinates and untouched extra columns."""
    if isinstance(value, np.ndarray):
        if value.size == 0:
            width = value.shape[1] if value.ndim == 2 else min_width
            extras = np.zeros((0, max(width - min_width, 0)))
            return np.zeros((0, min_width)), extras, Layout("ndarray", value.dtype, min_width)
        if value.ndim != 2 or value.shape[1] < min_width:
            raise InputError(
                f"{key}: expected an array of shape (N, >={min_width}) of {what}, got shape {value.shape}"
            )
        if not np.issubdtype(value.dtype, np.number) or np.issubdtype(value.dtype, np.complexfloating):
            raise InputTypeError(f"{key}: expected a real numeric array, got dtype {value.dtype}")
        coords = value[:, :min_width].astype(np.float64)
        return coords, value[:, min_width:].astype(np.float64), Layout("ndarray", value.dtype, min_width)
    if not isinstance(value, (list, tuple)):
        raise InputTypeError(f"{key}: expected a list or a numpy array of {what}, got {type(value).__name__}")
    container = "tuple" if isinstance(value, tuple) else "list"
    plain = _plain_numeric_rows(value, min_width)
    if plain is not None:  # rows of exactly ``min_width`` numbers: one conversion, no extras
        return plain, object_rows([()] * len(plain)), Layout(container, None, min_width)
    coords_list: list[list[float]] = []
    tails: list[tuple[Any, ...]] = []
    for i, row in enumerate(value):
        if isinstance(row, np.ndarray):
            row = row.tolist()
        if not isinstance(row, (list, tuple)) or len(row) < min_width:
            raise InputError(
                f"{key}[{i}]: expected a sequence of at least {min_width} numbers, got {describe(row)}"
            )
        head = row[:min_width]
        try:
            coords_list.append([float(v) for v in head])
        except (TypeError, ValueError):
            raise InputError(
                f"{key}[{i}]: the first {min_width} values must be numbers, got {describe(row)}"
            ) from None
        tails.append(tuple(row[min_width:]))
    coords = np.array(coords_list, dtype=np.float64).reshape(-1, min_width)
    return coords, object_rows(tails), Layout(container, None, min_width)


_NUMBER_TYPES = (int, float, np.integer, np.floating)
_PLAIN_NUMBERS = frozenset((int, float))
_ROW_TYPES = frozenset((list, tuple))


def _plain_numeric_rows(value: list[Any] | tuple[Any, ...], width: int) -> np.ndarray | None:
    """The rows as a float ``(N, width)`` array when every row is a list or tuple of exactly
    ``width`` plain numbers (the common case, converted in one numpy call), else None (the
    row-by-row reader then validates, keeps extra columns and names a bad row)."""
    if not value:
        return None
    # Set-building over map() runs the per-item work in C: a few dozen rows cost about a
    # microsecond here instead of an isinstance test per number.
    if not set(map(type, value)) <= _ROW_TYPES or set(map(len, value)) != {width}:
        return None
    kinds = set(map(type, itertools.chain.from_iterable(value)))
    if not kinds <= _PLAIN_NUMBERS and not all(
        issubclass(kind, _NUMBER_TYPES) and not issubclass(kind, bool) for kind in kinds
    ):
        return None
    return np.array(value, dtype=np.float64)


def _to_output(coords: np.ndarray, rows: RowSet) -> Any:
    layout = rows.layout
    if layout.container == "ndarray":
        dtype = (
            layout.dtype
            if layout.dtype is not None and np.issubdtype(layout.dtype, np.floating)
            else np.float64
        )
        extras = np.asarray(rows.extras)
        if extras.dtype != object and extras.ndim == 2 and extras.shape[1] > 0:
            return np.concatenate([coords, extras], axis=1).astype(dtype)
        return coords.astype(dtype)
    rows_out: list[list[Any]] = coords.tolist()  # Python floats, as the caller's rows had
    for row, extra in zip(rows_out, rows.extras):
        if extra:
            row.extend(extra)
    return rows_out if layout.container == "list" else tuple(tuple(r) for r in rows_out)


def read_boxes(
    value: Any, key: str, params: BboxParams, shape: tuple[int, int], labels: Mapping[str, Any] | None = None
) -> BoxSet:
    """Validate boxes given in ``params.format`` and convert them to the internal layout.

    ``labels`` (one value per input row, per label field) are attached before invalid boxes are
    filtered, so they stay aligned.
    """
    raw, extras, layout = as_rows(value, key, 4, "boxes")
    if not np.all(np.isfinite(raw)):
        bad = int(np.argwhere(~np.isfinite(raw))[0, 0])
        raise InputError(f"{key}[{bad}]: box coordinates must be finite, got {raw[bad].tolist()}")
    h, w = shape
    scale = np.array([w, h, w, h], dtype=np.float64)
    fmt = params.format
    # Pixel formats are converted without a round trip through [0, 1], so they come back exactly.
    if fmt == "pascal_voc":
        pixels = raw.copy()
    elif fmt == "coco":
        pixels = np.concatenate([raw[:, :2], raw[:, :2] + raw[:, 2:]], axis=1)
    elif fmt == "albumentations":
        pixels = raw * scale
    else:  # yolo
        half = raw[:, 2:] / 2
        pixels = np.concatenate([raw[:, :2] - half, raw[:, :2] + half], axis=1) * scale
    if params.clip:
        pixels = np.clip(pixels, 0.0, scale)
    norm = pixels / scale
    keep = np.ones(len(norm), dtype=bool)
    beyond = (norm < 0.0) | (norm > 1.0)
    outside = beyond[:, 0]
    if beyond.any():
        # An edge stored in float32 may land a rounding error past the border (YOLO 0.999 +
        # 0.002 / 2): that is on the border, not outside it, and is snapped onto it.
        far = beyond & ((norm < -EDGE_TOLERANCE) | (norm > 1.0 + EDGE_TOLERANCE))
        outside = np.any(far, axis=1)
        if not far.all(where=beyond):
            near = beyond & ~far
            pixels = np.where(near, np.clip(pixels, 0.0, scale), pixels)
            norm = np.where(near, np.clip(norm, 0.0, 1.0), norm)
    invalid = (norm[:, 2] <= norm[:, 0]) | (norm[:, 3] <= norm[:, 1])
    for mask, reason in (
        (invalid, "has x_max <= x_min or y_max <= y_min"),
        (outside, "lies outside the image"),
    ):
        if not mask.any():
            continue
        if params.filter_invalid_bboxes:
            keep &= ~mask
            continue
        i = int(np.argmax(mask))
        raise InputError(
            f"{key}[{i}] = {raw[i].tolist()} ({fmt}) {reason} of size (h={h}, w={w}): expected "
            f"0 <= x_min < x_max <= width and 0 <= y_min < y_max <= height"
            + (" (normalized to [0, 1] for this format)" if fmt in ("albumentations", "yolo") else "")
            + "; pass BboxParams(clip=True) to clip or filter_invalid_bboxes=True to drop such boxes"
        )
    aligned = {name: labels_as_array(values) for name, values in (labels or {}).items()}
    return BoxSet(pixels, extras, aligned, layout).take(keep)


def write_boxes(boxes: BoxSet, params: BboxParams, shape: tuple[int, int]) -> Any:
    """Convert internal boxes back to ``params.format`` with their extra columns."""
    h, w = shape
    scale = np.array([w, h, w, h], dtype=np.float64)
    c = boxes.coords
    fmt = params.format
    if fmt == "pascal_voc":
        out = c.copy()
    elif fmt == "albumentations":
        out = c / scale
    elif fmt == "coco":
        out = np.concatenate([c[:, :2], c[:, 2:] - c[:, :2]], axis=1)
    else:
        n = c / scale
        out = np.concatenate([(n[:, :2] + n[:, 2:]) / 2, n[:, 2:] - n[:, :2]], axis=1)
    return _to_output(out, boxes)


def filter_boxes(
    coords: np.ndarray, shape: tuple[int, int], params: BboxParams
) -> tuple[np.ndarray, np.ndarray]:
    """Clip mapped boxes to the image and say which survive the params' thresholds.

    Visibility is the fraction of the mapped box's area that lies inside the image.
    Returns ``(clipped_coords, keep)``.
    """
    h, w = shape
    clipped = coords.copy()
    clipped[:, 0::2] = np.clip(coords[:, 0::2], 0, w)  # slices: no fancy-index copies
    clipped[:, 1::2] = np.clip(coords[:, 1::2], 0, h)
    width = clipped[:, 2] - clipped[:, 0]
    height = clipped[:, 3] - clipped[:, 1]
    area = width * height
    full_area = (coords[:, 2] - coords[:, 0]) * (coords[:, 3] - coords[:, 1])
    keep = (width > 0) & (height > 0)
    keep &= area >= params.min_area
    keep &= width >= params.min_width
    keep &= height >= params.min_height
    if params.min_visibility > 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            visibility = np.where(full_area > 0, area / full_area, 0.0)
        keep &= visibility >= params.min_visibility
    if params.max_accept_ratio is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.maximum(width / height, height / width)
        keep &= ratio <= params.max_accept_ratio
    return clipped, keep


def box_drop_reasons(
    coords: np.ndarray, clipped: np.ndarray, keep: np.ndarray, params: BboxParams
) -> dict[str, int]:
    """Why :func:`filter_boxes` dropped the boxes it did: each dropped box counts once, under
    the first rule it fails (``out_of_frame``, ``min_area``, ``min_width``, ``min_height``,
    ``min_visibility``, ``max_accept_ratio``)."""
    width = clipped[:, 2] - clipped[:, 0]
    height = clipped[:, 3] - clipped[:, 1]
    area = width * height
    full_area = (coords[:, 2] - coords[:, 0]) * (coords[:, 3] - coords[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        visibility = np.where(full_area > 0, area / full_area, 0.0)
        ratio = np.maximum(width / height, height / width)
    rules = [
        ("out_of_frame", (width <= 0) | (height <= 0)),
        ("min_area", area < params.min_area),
        ("min_width", width < params.min_width),
        ("min_height", height < params.min_height),
        ("min_visibility", visibility < params.min_visibility),
        ("max_accept_ratio", ratio > (params.max_accept_ratio or np.inf)),
    ]
    pending = ~keep
    counts: dict[str, int] = {}
    for reason, failed in rules:
        hit = pending & failed
        if hit.any():
            counts[reason] = int(hit.sum())
            pending &= ~hit
    return counts


def read_keypoints(
    value: Any, key: str, params: KeypointParams, labels: Mapping[str, Any] | None = None
) -> PointSet:
    """Validate keypoints given in ``params.format`` and convert them to the internal layout."""
    fmt = params.format
    raw, extras, layout = as_rows(value, key, len(fmt), "keypoints")
    if not np.all(np.isfinite(raw)):
        bad = int(np.argwhere(~np.isfinite(raw))[0, 0])
        raise InputError(
            f"{key}[{bad}]: keypoint values must be finite (no NaN or inf), got {raw[bad].tolist()}"
        )
    coords = np.zeros((len(raw), 4), dtype=np.float64)
    coords[:, 3] = 1.0
    if fmt == "xy":  # the common format: positions only (angle 0, scale 1)
        coords[:, :2] = raw
    else:
        for column, letter in enumerate(fmt):
            if letter != "z":
                coords[:, {"x": 0, "y": 1, "a": 2, "s": 3}[letter]] = raw[:, column]
        if "a" in fmt and params.angle_in_degrees:
            coords[:, 2] = np.deg2rad(coords[:, 2])
        coords[:, 2] = np.mod(coords[:, 2], 2 * np.pi)
    aligned = {name: labels_as_array(values) for name, values in (labels or {}).items()}
    if "z" in fmt:
        aligned[KEYPOINT_Z] = raw[:, fmt.index("z")].copy()
    return PointSet(coords, extras, aligned, layout)


def write_keypoints(points: PointSet, params: KeypointParams) -> Any:
    """Convert internal keypoints back to ``params.format`` with their extra columns."""
    fmt = params.format
    c = points.coords
    if fmt == "xy":  # the common format: the position columns as they are
        return _to_output(c[:, :2], points)
    columns = []
    for letter in fmt:
        if letter == "a":
            full = 360.0 if params.angle_in_degrees else 2 * np.pi
            angle = np.rad2deg(c[:, 2]) if params.angle_in_degrees else c[:, 2]
            # A tiny negative angle wraps to 2*pi - tiny, which rounds to exactly one full turn:
            # written angles stay in [0, 360) degrees / [0, 2*pi) radians.
            columns.append(np.where(angle >= full, angle - full, angle))
        elif letter == "z":
            columns.append(np.asarray(points.labels[KEYPOINT_Z], dtype=np.float64))
        else:
            columns.append(c[:, {"x": 0, "y": 1, "s": 3}[letter]])
    out = np.stack(columns, axis=1) if columns else np.zeros((len(c), 0))
    return _to_output(out.reshape(len(c), len(fmt)), points)


def keypoints_visible(coords: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """True for keypoints whose pixel lies inside the image area.

    In the pixel-index frame the image covers ``[-0.5, W - 0.5) x [-0.5, H - 0.5)``.
    """
    h, w = shape
    x, y = coords[:, 0], coords[:, 1]
    return (x >= -0.5) & (x < w - 0.5) & (y >= -0.5) & (y < h - 0.5)


def labels_as_array(values: Any) -> np.ndarray:
    """Label values as a 1-D array: numeric arrays stay numeric, anything else becomes objects."""
    if isinstance(values, np.ndarray):
        return values
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def labels_like(values: np.ndarray, template: Any) -> Any:
    """Give labels back in the container type the caller used (list, tuple or array)."""
    if isinstance(template, np.ndarray):
        return values
    items = list(values)
    return tuple(items) if isinstance(template, tuple) else items
