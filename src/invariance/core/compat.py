"""The one adapter between Albumentations-style custom transforms and the invariance engine.

Code written for Albumentations 2.x subclasses ``ImageOnlyTransform`` or ``DualTransform`` and
implements per-target methods (``apply``, ``apply_to_mask``, ``apply_to_bboxes``...) plus
``get_params`` / ``get_params_dependent_on_data``. Our engine speaks ``sample(rng, sample)`` and
``effect(params, sample)``. :class:`AdaptedTransform` translates between the two, in this
module only:

* ``sample`` calls ``get_params()``, adds ``shape`` (and ``interpolation`` / ``fill`` /
  ``fill_mask`` when the instance has them), then ``get_params_dependent_on_data(params, data)``
  where ``data`` is a view of the current targets in Albumentations' layout;
* ``effect`` looks up ``self.targets`` (kind -> method) and calls each method on its
  target. Boxes reach ``apply_to_bboxes`` as an ``(N, 4 + extras + labels)`` array of
  normalized ``x_min, y_min, x_max, y_max``; keypoints reach ``apply_to_keypoints`` as
  ``(N, 5 + extras + labels)`` ``x, y, z (0), angle (rad), scale`` in pixels, exactly as
  Albumentations 2.0.8 lays them out. Rows the method drops or reorders are matched back to
  their labels through those trailing columns.

``self.random_generator`` and ``self.py_random`` draw from the pipeline's Generator, so a seeded
pipeline reproduces. See docs/compat-adapter.md for the design and its limits.

``ImageOnlyTransform`` and ``DualTransform`` are also the bases of the catalogue: every pixel
transform is an ``ImageOnlyTransform``, every spatial (and occlusion, mixing) transform a
``DualTransform``. Which protocol a class follows is decided by its bases, not at run time: a
catalogue class lists :class:`Native` first, so the method resolution order gives it the
engine's own constructor, ``sample`` and ``effect``; a user class that derives from
``ImageOnlyTransform`` / ``DualTransform`` directly gets the adapter's. On a catalogue transform
the per-target methods user code calls (``apply``, ``apply_to_mask``, ``apply_to_bboxes``,
``apply_to_keypoints``, ``get_params_dependent_on_data``...) run its effect through the same
target handlers as a pipeline does (:func:`run_effect`), not through a second implementation.
"""

from __future__ import annotations

import functools
import inspect
import random
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ValidationError

from invariance.core.basic import BasicTransform
from invariance.core.call import Call
from invariance.core.config import TargetConfig
from invariance.core.effects import Effects, MoveRows, Pixels
from invariance.core.errors import InputError, ParameterError, SerializationError, describe
from invariance.core.inputs import BUILTIN_TARGETS
from invariance.core.kinds import INSTANCE, Frames, kind_of
from invariance.core.nesting import inside
from invariance.core.sample import Sample
from invariance.core.targets import BboxParams, BoxSet, KeypointParams, PointSet, RowSet, as_rows

_ARRAY_KINDS = ("image", "images", "mask", "masks")

#: Constructor names that are never transform arguments of their own.
_NOT_ARGS = frozenset({"self", "strict", "always_apply", "p"})


class Native(BasicTransform):
    """First base of a catalogue class that is also an Albumentations kind base.

    ``ImageOnlyTransform`` and ``DualTransform`` carry the adapter's protocol for the user
    subclasses written for Albumentations. A catalogue class lists ``Native`` before them
    (``class PixelTransform(Native, ImageOnlyTransform)``), so by the method resolution order the
    engine's protocol is its own: the schema constructor, ``sample()`` and ``effect()``.

    The Albumentations per-target methods that user code calls on a catalogue transform are
    defined here. Each builds the transform's effect from the given parameters and runs it through
    the target handlers of :mod:`invariance.core.kinds` (:func:`run_effect`), as a pipeline does.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        BasicTransform.__init__(self, *args, **kwargs)

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return BasicTransform.sample(self, rng, sample)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return BasicTransform.get_transform_init_args_names(self)

    def get_transform_init_args(self) -> dict[str, Any]:
        """Constructor arguments other than ``p`` (Albumentations name)."""
        return {name: getattr(self, name) for name in self.get_transform_init_args_names()}

    def init_args(self) -> dict[str, Any]:
        return BasicTransform.init_args(self)

    def __repr__(self) -> str:
        return BasicTransform.__repr__(self)

    @property
    def targets(self) -> dict[str, Any]:
        """The per-target methods, by target kind (Albumentations' layout of this property)."""
        methods = {
            "image": self.apply,
            "images": self.apply_to_images,
            "mask": self.apply_to_mask,
            "masks": self.apply_to_masks,
            "bboxes": self.apply_to_bboxes,
            "keypoints": self.apply_to_keypoints,
        }
        return {kind: methods[kind] for kind in self.supported_targets if kind in methods}

    # -- Albumentations' parameter protocol, answered by sample() --------------------------------

    def get_params(self) -> dict[str, Any]:
        """Albumentations' data-independent draw: empty, because every parameter of a catalogue
        transform is drawn from the data by :meth:`get_params_dependent_on_data`."""
        return {}

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        """This transform's ``sample()`` on ``data`` (targets in Albumentations' layout; without an
        image, ``params["shape"]`` gives the size), drawn from ``self.random_generator``."""
        sample = engine_sample(data, params)
        drawn = {**params, **self.sample(self.random_generator, sample)}
        return {**drawn, **self.albumentations_params(drawn, sample)}

    def albumentations_params(self, params: Mapping[str, Any], sample: Sample) -> dict[str, Any]:
        """Entries Albumentations' ``get_params_dependent_on_data`` returns besides the drawn
        parameters, for code that inspects them (GaussNoise's ``noise_map``); none by default.
        They are derived from ``params``, so ``apply`` gives the same result with or without them."""
        return {}

    # -- per-target methods, through the engine ----------------------------------------------------

    def apply(self, img: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        """The effect of ``params`` on one image."""
        return np.asarray(run_effect(self, params, "image", img))

    def apply_to_images(self, images: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        return np.asarray(run_effect(self, params, "images", images))

    def apply_to_mask(self, mask: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        return np.asarray(run_effect(self, params, "mask", mask))

    def apply_to_masks(self, masks: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        return np.asarray(run_effect(self, params, "masks", masks))

    def apply_to_bboxes(self, bboxes: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        """Boxes as Albumentations lays them out: normalized ``x_min, y_min, x_max, y_max`` and
        extra columns; they are moved, not clipped or filtered (the pipeline's last step does that)."""
        return np.asarray(run_effect(self, params, "bboxes", bboxes))

    def apply_to_keypoints(self, keypoints: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        """Keypoints as Albumentations lays them out: ``x, y, z, angle (rad), scale`` in pixels and
        extra columns."""
        return np.asarray(run_effect(self, params, "keypoints", keypoints))


class AdaptedTransform(BasicTransform):
    """Base of the Albumentations-compatible ``ImageOnlyTransform`` and ``DualTransform``.

    Subclasses are written exactly as for Albumentations 2.x: an ``__init__`` that stores its
    arguments and calls ``super().__init__(p=p)``, ``get_params`` and/or
    ``get_params_dependent_on_data`` for randomness, and ``apply_*`` methods per target.
    """

    family = "custom"
    #: Shown for Albumentations code that reads it; the replay of recorded params uses it too.
    replay_mode: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if issubclass(cls, Native):
            return  # the catalogue validates through its own InitSchema (core.schema)
        schema = cls.__dict__.get("InitSchema")
        init = cls.__dict__.get("__init__")
        if isinstance(schema, type) and issubclass(schema, BaseModel) and init is not None:
            cls.__init__ = _validated_init(cls.__name__, schema, init)  # type: ignore[method-assign]

    def __init__(self, p: float = 0.5, always_apply: bool | None = None) -> None:
        if always_apply is not None:
            warnings.warn(
                f"{type(self).__name__}: 'always_apply' was removed in Albumentations 2.0 and is ignored; "
                "use p=1.0",
                DeprecationWarning,
                stacklevel=2,
            )
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 <= p <= 1:
            raise ParameterError(
                f"{type(self).__name__}: argument 'p' = {describe(p)} is invalid: expected a number in [0, 1]"
            )
        self.p = float(p)
        self._init_values = {}
        self._reset_runtime()

    # -- Albumentations' parameter protocol ------------------------------------------------------

    def get_params(self) -> dict[str, Any]:
        """Parameters that do not depend on the data (override; draw from ``self.random_generator``)."""
        return {}

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        """Parameters that depend on the data (override). ``data`` holds the targets."""
        return params

    @property
    def targets_as_params(self) -> list[str]:
        """Targets that must be present for ``get_params_dependent_on_data`` (override)."""
        return []

    def update_transform_params(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        """Add the entries Albumentations adds to every call's params (``shape`` and resampling)."""
        image = data.get("image")
        if image is None and len(data.get("images", ())):
            image = data["images"][0]
        return self._common_params(params, None if image is None else tuple(image.shape))

    def _common_params(self, params: dict[str, Any], shape: tuple[int, ...] | None) -> dict[str, Any]:
        if shape is not None:
            params["shape"] = shape
        for name in ("interpolation", "fill", "fill_mask"):
            if hasattr(self, name):
                params[name] = getattr(self, name)
        return params

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        """Constructor arguments, read from the ``__init__`` signatures along the class hierarchy."""
        names: list[str] = []
        for klass in type(self).__mro__:
            if klass is AdaptedTransform:
                break
            init = klass.__dict__.get("__init__")
            if init is None:
                continue
            for name, param in inspect.signature(init).parameters.items():
                is_named = param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)
                if is_named and name not in _NOT_ARGS and name not in names:
                    names.append(name)
        return tuple(names)

    def get_transform_init_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for name in self.get_transform_init_args_names():
            if not hasattr(self, name):
                raise SerializationError(
                    f"{type(self).__name__}: constructor argument {name!r} is not stored as an attribute; "
                    "store it (self.{0} = {0}) or override get_transform_init_args_names()".format(name)
                )
            args[name] = getattr(self, name)
        return args

    def init_args(self) -> dict[str, Any]:
        return {**self.get_transform_init_args(), "p": self.p}

    def __repr__(self) -> str:
        try:
            args = self.init_args()
        except SerializationError:
            args = {"p": self.p}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in args.items())})"

    # -- the engine protocol ----------------------------------------------------------------------

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        params = dict(self.get_params() or {})
        wanted = list(self.targets_as_params or [])
        cls = type(self)
        custom_update = cls.update_transform_params is not AdaptedTransform.update_transform_params
        needs_data = bool(wanted) or (
            cls.get_params_dependent_on_data is not AdaptedTransform.get_params_dependent_on_data
        )
        data = data_view(sample) if custom_update or needs_data else {}
        if custom_update:
            params = self.update_transform_params(params, data)
        else:
            image = sample.image
            params = self._common_params(params, tuple(image.shape) if image is not None else sample.shape)
        if needs_data:
            missing = set(wanted) - set(data)
            if missing and not (missing == {"image"} and "images" in data):
                raise InputError(
                    f"{type(self).__name__} needs the targets {wanted}; missing: {sorted(missing)}"
                )
            params.update(self.get_params_dependent_on_data(params, data) or {})
        return params

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        """The per-target methods, as effects: pixels (images and masks, whose size may change),
        then rows moved by ``apply_to_bboxes`` / ``apply_to_keypoints``."""
        targets = self.targets
        before = sample.shape

        def whole(func: Callable[..., Any]) -> Callable[[np.ndarray], Any]:
            def run(array: np.ndarray) -> np.ndarray:
                out = np.ascontiguousarray(result := func(np.ascontiguousarray(array), **params))
                if out.ndim < 2:  # not an image: say so here, not as a shape error much later
                    raise InputError(
                        f"{type(self).__name__}.{getattr(func, '__name__', 'apply')} returned "
                        f"{describe(result)}; expected an array of the target's layout, (H, W) or (H, W, C)"
                    )
                return out

            return run

        per_kind = {kind: whole(func) for kind, func in targets.items() if kind in _ARRAY_KINDS}
        pixels = Pixels(
            image=per_kind.get("image"),
            mask=per_kind.get("mask"),
            images=per_kind.get("images"),
            masks=per_kind.get("masks"),
            reshapes=True,
        )
        box_func, point_func = targets.get("bboxes"), targets.get("keypoints")
        with_scale = sample.keypoint_params is not None and "s" in sample.keypoint_params.format

        def boxes(rows: BoxSet, shape: tuple[int, int]) -> BoxSet:
            assert box_func is not None
            return _boxes_back(rows, box_func(_boxes_out(rows, before), **params), shape)

        def points(rows: PointSet, shape: tuple[int, int]) -> PointSet:
            assert point_func is not None
            return _points_back(rows, point_func(_points_out(rows, with_scale), **params), with_scale)

        moves = MoveRows(boxes if box_func is not None else None, points if point_func is not None else None)
        return (pixels, moves)

    # -- default per-target methods ----------------------------------------------------------------

    def apply(self, img: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement apply()")

    def apply_to_images(self, images: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        return np.stack([self.apply(image, **params) for image in images])


class ImageOnlyTransform(AdaptedTransform):
    """Albumentations-compatible base of a pixel-level custom transform.

    Implement ``apply(img, **params)`` (and optionally ``apply_to_images``). Masks, boxes and
    keypoints pass through untouched.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: whatever ``apply`` accepts.
    """

    supported_targets: ClassVar[tuple[str, ...]] = ("image", "images")
    family = "custom"

    @property
    def targets(self) -> dict[str, Any]:
        return {"image": self.apply, "images": self.apply_to_images}


class DualTransform(AdaptedTransform):
    """Albumentations-compatible base of a custom transform that also moves masks and annotations.

    Implement ``apply`` and, for the targets you use, ``apply_to_mask`` (default: ``apply``),
    ``apply_to_masks`` (default: ``apply_to_mask`` per mask), ``apply_to_bboxes`` and
    ``apply_to_keypoints`` (no default: calling with boxes or keypoints raises).

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: whatever ``apply`` accepts.
    """

    supported_targets: ClassVar[tuple[str, ...]] = ("image", "images", "mask", "masks", "bboxes", "keypoints")

    @property
    def targets(self) -> dict[str, Any]:
        return {
            "image": self.apply,
            "images": self.apply_to_images,
            "mask": self.apply_to_mask,
            "masks": self.apply_to_masks,
            "bboxes": self.apply_to_bboxes,
            "keypoints": self.apply_to_keypoints,
        }

    def apply_to_mask(self, mask: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        return self.apply(mask, *args, **params)

    def apply_to_masks(self, masks: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        return np.stack([self.apply_to_mask(mask, **params) for mask in masks])

    def apply_to_bboxes(self, bboxes: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement apply_to_bboxes()")

    def apply_to_keypoints(self, keypoints: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement apply_to_keypoints()")


# ----------------------------------------------------------------------------------------------
# Constructor validation with a user's pydantic InitSchema


def _validated_init(owner: str, schema: type[BaseModel], init: Callable[..., None]) -> Callable[..., None]:
    """Wrap a user ``__init__`` so its arguments are validated by ``schema`` first (as Albumentations does)."""
    signature = inspect.signature(init)
    names = [n for n in signature.parameters if n != "self"]

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        strict = bool(kwargs.pop("strict", False))
        given = dict(zip(names, args))
        for name, value in kwargs.items():
            if name in given:
                raise ParameterError(f"{owner}: argument {name!r} given both positionally and by name")
            given[name] = value
        unknown = [n for n in given if n not in signature.parameters]
        if unknown:
            message = (
                f"Argument(s) '{', '.join(unknown)}' are not valid for transform {owner}: "
                f"unknown argument(s), valid arguments are {names}"
            )
            if strict:
                raise ParameterError(message)
            warnings.warn(message + " (ignored)", UserWarning, stacklevel=2)
            for name in unknown:
                given.pop(name)
        for name, param in signature.parameters.items():
            if name != "self" and name not in given and param.default is not param.empty:
                given[name] = param.default
        fields = schema.model_fields
        try:
            model = schema(**{k: v for k, v in given.items() if k in fields})
        except ValidationError as error:
            problems = "; ".join(
                f"argument {'.'.join(map(str, e['loc']))!r} = "
                f"{describe(given.get(str(e['loc'][0]), '?')) if e['loc'] else '?'}: {e['msg']}"
                for e in error.errors()
            )
            raise ParameterError(f"{owner}: {problems}") from None
        for name in fields:
            if name in signature.parameters:
                given[name] = getattr(model, name)
        init(self, **given)

    return wrapper


# ----------------------------------------------------------------------------------------------
# Targets in Albumentations' layout, and back


def _codes(values: Any) -> np.ndarray:
    """Numeric values as floats; anything else as the index of its first appearance."""
    array = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if array.dtype != object and np.issubdtype(array.dtype, np.number):
        numbers = array.astype(np.float64)
        return numbers[:, None] if numbers.ndim == 1 else numbers.reshape(len(numbers), -1)
    seen: dict[Any, int] = {}
    out = [_number(v) for v in values]
    codes = [seen.setdefault(v, len(seen)) if x is None else x for v, x in zip(values, out)]
    return np.asarray(codes, dtype=np.float64).reshape(-1, 1)


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    return None


def _trailing(rows: RowSet) -> np.ndarray:
    """The extra columns and one column per label field, as Albumentations appends them."""
    n = len(rows)
    parts: list[np.ndarray] = []
    extras = rows.extras
    if extras.dtype == object:
        width = max((len(t) for t in extras), default=0)
        parts.extend(_codes([t[column] if column < len(t) else 0 for t in extras]) for column in range(width))
    elif extras.size:
        parts.append(extras.astype(np.float64).reshape(n, -1))
    parts.extend(_codes(values) for name, values in rows.labels.items() if name != INSTANCE)
    return np.concatenate(parts, axis=1) if parts else np.zeros((n, 0))


def _match_rows(rows: RowSet, out: np.ndarray, first: int, what: str) -> np.ndarray:
    """Index of the input row each returned row came from, found through the trailing columns."""
    n, m = len(rows), len(out)
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    trailing = _trailing(rows)
    if trailing.shape[1] == 0:
        if m > n:
            raise InputError(f"{what} returned {m} rows for {n}; adding rows is not supported")
        return np.arange(m)
    if out.shape[1] < first + trailing.shape[1]:
        if m == n:
            return np.arange(m)
        raise InputError(
            f"{what} returned {m} of {n} rows without their extra/label columns; keep the columns "
            "after the coordinates so labels can follow their rows"
        )
    returned = out[:, first : first + trailing.shape[1]].astype(np.float64)
    if m == n and np.allclose(returned, trailing, equal_nan=True):
        return np.arange(m)
    used = np.zeros(n, dtype=bool)
    index = np.empty(m, dtype=np.int64)
    for i, row in enumerate(returned):
        candidates = np.flatnonzero(~used & np.all(np.isclose(trailing, row, equal_nan=True), axis=1))
        if len(candidates) == 0:
            raise InputError(
                f"{what} returned a row whose extra/label columns {row.tolist()} match no input row; "
                "changing those columns or adding rows is not supported"
            )
        index[i] = candidates[0]
        used[candidates[0]] = True
    return index


def _as_table(out: Any, width: int) -> np.ndarray:
    """What an ``apply_to_*`` method returned, as a 2-D float table (empty results allowed)."""
    array = np.asarray(out, dtype=np.float64)
    if array.size == 0:
        return np.zeros((0, array.shape[-1] if array.ndim == 2 else width))
    return array.reshape(1, -1) if array.ndim == 1 else array


def _boxes_out(boxes: BoxSet, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    coords = boxes.coords / np.array([w, h, w, h], dtype=np.float64)
    return np.concatenate([coords, _trailing(boxes)], axis=1)


def _boxes_back(boxes: BoxSet, out: Any, shape: tuple[int, int]) -> BoxSet:
    array = _as_table(out, 4)
    if array.shape[1] < 4:
        raise InputError(f"apply_to_bboxes must return (N, 4+) rows, got shape {array.shape}")
    index = _match_rows(boxes, array, 4, "apply_to_bboxes")
    h, w = shape
    coords = array[:, :4] * np.array([w, h, w, h], dtype=np.float64)
    return boxes.take(index).with_coords(coords)


def _points_out(points: PointSet, with_scale: bool) -> np.ndarray:
    c = points.coords
    n = len(c)
    scale = c[:, 3] if with_scale else np.zeros(n)
    base = np.stack([c[:, 0], c[:, 1], np.zeros(n), c[:, 2], scale], axis=1)
    return np.concatenate([base, _trailing(points)], axis=1)


def _points_back(points: PointSet, out: Any, with_scale: bool) -> PointSet:
    array = _as_table(out, 5)
    if array.shape[1] < 2:
        raise InputError(f"apply_to_keypoints must return (N, 2+) rows, got shape {array.shape}")
    index = _match_rows(points, array, 5, "apply_to_keypoints")
    kept = points.take(index)
    coords = kept.coords.copy()
    coords[:, :2] = array[:, :2]
    if array.shape[1] >= 4:
        coords[:, 2] = np.mod(array[:, 3], 2 * np.pi)
    if with_scale and array.shape[1] >= 5:
        coords[:, 3] = array[:, 4]
    return kept.with_coords(coords)


def data_view(sample: Sample) -> dict[str, Any]:
    """The current targets as Albumentations hands them to ``get_params_dependent_on_data``."""
    label_fields: set[str] = set()
    if sample.bbox_params is not None:
        label_fields.update(sample.bbox_params.label_fields)
    if sample.keypoint_params is not None:
        label_fields.update(sample.keypoint_params.label_fields)
    data = {k: v for k, v in sample.data.items() if k not in sample.kinds and k not in label_fields}
    with_scale = sample.keypoint_params is not None and "s" in sample.keypoint_params.format
    for key, handler in sample.kinds.items():
        value = sample.values[key]
        if isinstance(value, Frames):
            data[key] = value.as_array(sample.shape)
        elif handler.name == "bboxes":
            data[key] = _boxes_out(value, sample.shape)
        elif handler.name == "keypoints":
            data[key] = _points_out(value, with_scale)
        else:
            data[key] = value
    return data


# ----------------------------------------------------------------------------------------------
# Catalogue transforms called per target (Native): one effect through the engine's handlers

_ALBU_BOXES = BboxParams(format="albumentations", clip=False, check_each_transform=False)
_ALBU_POINTS = KeypointParams(
    format="xyas", angle_in_degrees=False, remove_invisible=False, check_each_transform=False
)
_ROUTE_CONFIG = TargetConfig(kinds=BUILTIN_TARGETS, bbox_params=_ALBU_BOXES, keypoint_params=_ALBU_POINTS)


def _shape_of(data: Mapping[str, Any], params: Mapping[str, Any]) -> tuple[int, int]:
    for key in ("image", "mask"):
        if data.get(key) is not None:
            return int(np.shape(data[key])[0]), int(np.shape(data[key])[1])
    for key in ("images", "masks"):
        if data.get(key) is not None and len(data[key]):
            return int(np.shape(data[key][0])[0]), int(np.shape(data[key][0])[1])
    shape = params.get("shape")
    if shape is None:
        raise InputError("pass the image (or params['shape']) so the transform knows the image size")
    return int(shape[0]), int(shape[1])


def _read_rows(key: str, value: Any, shape: tuple[int, int]) -> RowSet:
    """Boxes or keypoints in Albumentations' layout, read into the internal one."""
    array = np.asarray(value, dtype=np.float64)
    if key == "bboxes":
        # Taken as they are, as Albumentations' apply_to_bboxes takes them: a box partly or wholly
        # outside the frame (an intermediate result) is moved too, not refused.
        array = array.reshape(-1, array.shape[-1] if array.ndim == 2 else 4)
        raw, extras, layout = as_rows(array, key, 4, "boxes")
        h, w = shape
        return BoxSet(raw * np.array([w, h, w, h], dtype=np.float64), extras, {}, layout)
    array = array.reshape(-1, array.shape[-1] if array.ndim == 2 else 5)
    if array.shape[1] < 2:
        raise InputError(f"keypoints must be (N, 2+) rows of x, y, z, angle, scale, got shape {array.shape}")
    full = np.zeros((len(array), max(array.shape[1], 5)))
    full[:, 4] = 1.0
    full[:, : array.shape[1]] = array
    # x, y, angle, scale, then z and the extra columns travel as extras
    reordered = np.concatenate([full[:, [0, 1, 3, 4]], full[:, 2:3], full[:, 5:]], axis=1)
    return kind_of("keypoints").read(key, reordered, {}, _ROUTE_CONFIG, shape)


def _write_rows(key: str, rows: RowSet, shape: tuple[int, int]) -> np.ndarray:
    """Internal boxes or keypoints back in Albumentations' layout."""
    raw = np.asarray(rows.extras, dtype=np.float64)
    extras = raw.reshape(len(rows), raw.shape[1] if raw.ndim == 2 else 0)
    if key == "bboxes":
        h, w = shape
        return np.concatenate([rows.coords / np.array([w, h, w, h], dtype=np.float64), extras], axis=1)
    c = rows.coords
    return np.concatenate([c[:, :2], extras[:, :1], c[:, 2:4], extras[:, 1:]], axis=1)


def engine_sample(data: Mapping[str, Any], params: Mapping[str, Any]) -> Sample:
    """A Sample of ``data`` in Albumentations' layout (arrays; boxes normalized, keypoints
    ``x, y, z, angle, scale``), for drawing or applying a catalogue transform outside a pipeline."""
    shape = _shape_of(data, params)
    values: dict[str, Any] = {}
    kinds: dict[str, Any] = {}
    for key in BUILTIN_TARGETS:
        value = data.get(key)
        if value is None:
            continue
        handler = kinds[key] = kind_of(key)
        if key in ("bboxes", "keypoints"):
            values[key] = _read_rows(key, value, shape)
        elif key in ("images", "masks"):
            values[key] = Frames.of(value)
        else:
            values[key] = handler.read(key, value, data, _ROUTE_CONFIG, shape)
    return Sample(shape, values, kinds, _ROUTE_CONFIG, data)


def run_effect(transform: BasicTransform, params: Mapping[str, Any], key: str, value: Any) -> Any:
    """``transform``'s effect for ``params`` on one target, through that target kind's handler.

    This is what the per-target methods of a catalogue transform do (``apply_to_mask`` on a
    flip, ``apply_to_bboxes`` on a rotation): the effect is built as in a pipeline and the call
    applies it; nothing is filtered afterwards.
    """
    sample = engine_sample({key: value}, params)
    call = Call(sample, _ROUTE_CONFIG, fusing=False)
    call.apply(transform.effect(dict(params), sample))
    call.flush()
    out = sample.values[key]
    if key in ("bboxes", "keypoints"):
        return _write_rows(key, out, sample.shape)
    if isinstance(out, Frames):
        return out.as_array(sample.shape)
    return out


def call_with_rows(transform: BasicTransform, data: Mapping[str, Any], force_apply: bool) -> dict[str, Any]:
    """A transform called alone with ``bboxes`` or ``keypoints`` (no Compose to give formats).

    As in Albumentations, they are taken in its internal layouts (boxes normalized ``x_min,
    y_min, x_max, y_max`` plus extra columns, keypoints ``x, y, z, angle (rad), scale`` plus
    extra columns), moved by the transform and returned as arrays, neither clipped nor filtered.
    """
    sample = engine_sample(data, {})
    call = Call(sample, _ROUTE_CONFIG, fusing=False)
    transform.run(call, transform._own_stream().generator(), force_apply)
    call.flush()
    out = dict(data)
    shape = call.sample.shape
    for key, value in call.sample.values.items():
        if key in ("bboxes", "keypoints"):
            out[key] = _write_rows(key, value, shape)
        elif isinstance(value, Frames):
            out[key] = value.output()
        else:
            out[key] = value
    out.update(call.outputs)
    return out


# ----------------------------------------------------------------------------------------------
# Custom compositions that override __call__


def overrides_call(cls: type) -> bool:
    """True for a composition class whose ``__call__`` comes from user code (not from invariance)."""
    for klass in cls.__mro__:
        if "__call__" in klass.__dict__:
            return not klass.__module__.startswith("invariance.")
    return False


class PipelineCall:
    """One pipeline call, handed through a custom composition's own ``__call__``.

    The composition receives the targets as a dict (Albumentations' layout, see
    :func:`data_view`). While its ``__call__`` runs, a child it calls as ``t(**data)`` runs on the
    pipeline's call with the pipeline's Generator (see :mod:`invariance.core.nesting`), and
    returns a fresh dict of the same kind. Images and masks the composition replaces itself are
    taken back; boxes and keypoints are only moved by the children.
    """

    def __init__(self, call: Call, rng: np.random.Generator) -> None:
        self.call = call
        self.rng = rng
        self._handed: dict[str, Any] = {}

    def view(self) -> dict[str, Any]:
        self.call.flush()
        data = data_view(self.call.sample)
        self._handed = {key: data[key] for key in self.call.sample.kinds}
        return data

    def absorb(self, data: Mapping[str, Any]) -> None:
        replaced = {
            key: data[key]
            for key in self.call.sample.kinds
            if key in data and data[key] is not self._handed.get(key)
        }
        if replaced:
            self.call.replace(replaced)

    def run_child(self, child: Any, data: Mapping[str, Any], force_apply: bool) -> dict[str, Any]:
        self.absorb(data)
        with inside(None):  # the child's own nested compositions run normally
            child.run(self.call, self.rng, force_apply)
        return self.view()


def run_custom_compose(compose: Any, call: Call, rng: np.random.Generator, force_apply: bool) -> None:
    """Run a composition whose own ``__call__`` decides what to do, inside a pipeline.

    The composition gets ``random_generator`` and ``py_random`` for this call (the way
    Albumentations hands them over with ``set_random_state``), both drawn from the pipeline's
    Generator, so a seeded pipeline reproduces.
    """
    for name, value in (
        ("random_generator", rng),
        ("py_random", random.Random(int(rng.integers(0, 2**63 - 1)))),
    ):
        if not isinstance(getattr(type(compose), name, None), property):
            setattr(compose, name, value)
    if not hasattr(compose, "replay_mode"):
        compose.replay_mode = False
    nested = PipelineCall(call, rng)
    with inside(nested):
        result = compose(force_apply=force_apply, **nested.view())
    if isinstance(result, Mapping):
        nested.absorb(result)


def run_foreign(child: Any, call: Call, rng: np.random.Generator, force_apply: bool) -> None:
    """Run a callable that is not an invariance node (a user object with ``__call__(**data)``, a
    test double) inside a pipeline, the way Albumentations calls children: ``child(**data)``.

    It gets the targets in Albumentations' layout; images and masks it returns replace the
    current ones. Transforms it calls itself run on the pipeline's call.
    """
    nested = PipelineCall(call, rng)
    data = nested.view()
    with inside(nested):
        result = child(force_apply=True, **data) if force_apply else child(**data)
    if isinstance(result, Mapping):
        nested.absorb(result)


__all__ = [
    "AdaptedTransform",
    "DualTransform",
    "ImageOnlyTransform",
    "Native",
    "PipelineCall",
    "call_with_rows",
    "data_view",
    "engine_sample",
    "overrides_call",
    "run_custom_compose",
    "run_effect",
    "run_foreign",
]
