"""Invertible test-time views and the exact maps that bring predictions back.

A :class:`View` is a short chain of exact steps: a square symmetry (one of the eight elements
of D4), a resize by a factor, or a crop window. Each step is expressed with the library's own
geometry (:class:`~invariance.core.geometry.Symmetry`, :class:`~invariance.core.geometry.Scale`,
:class:`~invariance.core.geometry.CropWindow`), so the image, and every prediction made on it,
are moved by one source of truth:

- the image is warped forward through the chain;
- dense predictions (logits, probabilities, label masks) come back through the inverse of each
  step, last step first: the inverse symmetry, a resize back, or a paste into a canvas of the
  original size together with a coverage map (1 where the view saw the image, 0 elsewhere);
- boxes and keypoints come back through the inverse maps (exact: every inverse has integer or
  dyadic entries for the usual factors).

Only views whose predictions can be mapped back are accepted. :func:`as_view` turns the
deterministic transforms that are such maps (``HorizontalFlip``, ``VerticalFlip``,
``Transpose``, ``CenterCrop``) into views and refuses everything else with
:class:`NotInvertibleError`: random geometric transforms (``Rotate``, ``Affine``,
``RandomRotate90``, ``RandomCrop``...) because the drawn map is not known to the caller, and
pixel transforms because a test-time *view* here is a map of the plane; photometric test-time
changes belong in the model's preprocessing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from invariance.core.errors import ParameterError
from invariance.core.geometry import (
    Chain,
    CropWindow,
    Geometry,
    Scale,
    Shape,
    Symmetry,
    map_boxes,
    map_keypoints,
)
from invariance.kernels import geometry as kg


class NotInvertibleError(ParameterError):
    """A transform or view whose predictions cannot be mapped back to the original image."""


#: View names of the eight square symmetries, with their D4 element names in the geometry module.
D4_NAMES: dict[str, str] = {
    "identity": "e",
    "hflip": "h",
    "vflip": "v",
    "rot90": "r90",
    "rot180": "r180",
    "rot270": "r270",
    "transpose": "t",
    "anti_transpose": "hvt",
}
_INVERSE_ELEMENT = {
    "e": "e",
    "h": "h",
    "v": "v",
    "r90": "r270",
    "r180": "r180",
    "r270": "r90",
    "t": "t",
    "hvt": "hvt",
}
_MIRRORS = frozenset({"h", "v", "t", "hvt"})
#: Albumentations transform names that are the same map as a view step (for ``label_mapping``).
_TRANSFORM_ALIASES = {"h": "HorizontalFlip", "v": "VerticalFlip", "t": "Transpose"}
CROP_POSITIONS = ("center", "top_left", "top_right", "bottom_left", "bottom_right")


@dataclass(frozen=True)
class FlipStep:
    """One exact square symmetry, by its view name (``hflip``, ``rot90``...; see ``D4_NAMES``)."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in D4_NAMES:
            raise ParameterError(f"FlipStep: name must be one of {sorted(D4_NAMES)}, got {self.name!r}")

    @property
    def element(self) -> str:
        return D4_NAMES[self.name]

    @property
    def mirrors(self) -> bool:
        """True for the four reflections (they swap left and right)."""
        return self.element in _MIRRORS

    def geometry(self, shape: Shape) -> Geometry:
        return Symmetry(self.element, shape)

    def inverse(self, geometry: Geometry) -> Geometry:
        return Symmetry(_INVERSE_ELEMENT[self.element], geometry.out_shape)


@dataclass(frozen=True)
class RescaleStep:
    """Resize by ``factor`` (both sides, rounded to whole pixels, at least 1)."""

    factor: float

    def __post_init__(self) -> None:
        if not np.isfinite(self.factor) or self.factor <= 0:
            raise ParameterError(f"RescaleStep: factor must be a positive number, got {self.factor!r}")

    @property
    def name(self) -> str:
        return f"scale{self.factor:g}"

    mirrors = False

    def geometry(self, shape: Shape) -> Geometry:
        h, w = shape
        return Scale(shape, (max(1, round(h * self.factor)), max(1, round(w * self.factor))))

    def inverse(self, geometry: Geometry) -> Geometry:
        return Scale(geometry.out_shape, geometry.in_shape)


@dataclass(frozen=True)
class CropStep:
    """A ``height x width`` window at one of ``CROP_POSITIONS``.

    Sizes are pixels (int) or fractions of the image side (float in ``(0, 1]``). A window larger
    than the image is padded with zeros; predictions on the padding are dropped on the way back.
    """

    position: str
    height: int | float
    width: int | float

    def __post_init__(self) -> None:
        if self.position not in CROP_POSITIONS:
            raise ParameterError(f"CropStep: position must be one of {CROP_POSITIONS}, got {self.position!r}")
        for arg in ("height", "width"):
            value = getattr(self, arg)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ParameterError(f"CropStep: {arg} must be a positive int or a fraction, got {value!r}")
            if isinstance(value, float) and value > 1:
                raise ParameterError(f"CropStep: {arg} as a fraction must be in (0, 1], got {value!r}")

    @property
    def name(self) -> str:
        return f"crop_{self.position}"

    mirrors = False

    def size(self, shape: Shape) -> Shape:
        def side(value: int | float, full: int) -> int:
            return max(1, round(value * full)) if isinstance(value, float) else int(value)

        return side(self.height, shape[0]), side(self.width, shape[1])

    def geometry(self, shape: Shape) -> Geometry:
        h, w = shape
        ch, cw = self.size(shape)
        x0 = {"center": (w - cw) // 2, "top_left": 0, "bottom_left": 0}.get(self.position, w - cw)
        y0 = {"center": (h - ch) // 2, "top_left": 0, "top_right": 0}.get(self.position, h - ch)
        return CropWindow(x0, y0, shape, (ch, cw))

    def inverse(self, geometry: Geometry) -> Geometry:
        assert isinstance(geometry, CropWindow)
        return CropWindow(-geometry.x0, -geometry.y0, geometry.out_shape, geometry.in_shape)


Step = FlipStep | RescaleStep | CropStep


def _as_batch(images: np.ndarray) -> tuple[np.ndarray, bool]:
    images = np.asarray(images)
    if images.ndim == 3:
        return images[None], True
    if images.ndim != 4:
        raise ParameterError(
            f"images must be a (N, H, W, C) batch or one (H, W, C) image, got shape {images.shape}"
        )
    return images, False


@dataclass(frozen=True)
class View:
    """A named chain of exact steps, applied to the image in order.

    Args:
        name: a label for reports and for ``label_mapping`` (see :meth:`invert_keypoints`).
        steps: :class:`FlipStep`, :class:`RescaleStep` and :class:`CropStep` steps, first applied first.
        interpolation: OpenCV flag used to resize the image for :class:`RescaleStep` steps.
    """

    name: str
    steps: tuple[Step, ...]
    interpolation: int = cv2.INTER_LINEAR

    def __post_init__(self) -> None:
        for step in self.steps:
            if not isinstance(step, (FlipStep, RescaleStep, CropStep)):
                raise NotInvertibleError(
                    f"View {self.name!r}: step {step!r} is not an exact invertible step (FlipStep, RescaleStep or CropStep)"
                )

    def then(self, other: View) -> View:
        """This view followed by ``other`` (for example a crop, then a horizontal flip)."""
        return View(f"{self.name}+{other.name}", self.steps + other.steps, self.interpolation)

    # -- forward -------------------------------------------------------------------------------

    def geometries(self, shape: Shape) -> list[Geometry]:
        """The geometry of each step for an image of ``shape`` (height, width)."""
        out: list[Geometry] = []
        for step in self.steps:
            geometry = step.geometry(shape)
            out.append(geometry)
            shape = geometry.out_shape
        return out

    def geometry(self, shape: Shape) -> Geometry:
        """The whole view as one geometry (the identity has an empty chain: a ``Symmetry('e')``)."""
        steps = self.geometries(shape)
        return Chain(tuple(steps)) if steps else Symmetry("e", shape)

    def inverse_geometry(self, shape: Shape) -> Geometry:
        """The exact map from view coordinates back to the original image of ``shape``."""
        forward = self.geometries(shape)
        back = [step.inverse(g) for step, g in zip(reversed(self.steps), reversed(forward), strict=True)]
        return Chain(tuple(back)) if back else Symmetry("e", shape)

    def output_shape(self, shape: Shape) -> Shape:
        return self.geometry(shape).out_shape

    def apply(self, images: np.ndarray) -> np.ndarray:
        """Warp an ``(N, H, W, C)`` batch (or one ``(H, W, C)`` image) into this view."""
        batch, single = _as_batch(images)
        chain = self.geometries(batch.shape[1:3])
        out = []
        for image in batch:
            for g in chain:
                image = g.warp(image, self.interpolation, cv2.BORDER_CONSTANT, 0)
            out.append(image)
        result = np.stack(out) if out else batch.copy()
        return result[0] if single else result

    # -- back ----------------------------------------------------------------------------------

    def invert_dense(
        self, prediction: np.ndarray, shape: Shape, interpolation: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Map one dense prediction made on this view back onto the original image of ``shape``.

        Args:
            prediction: ``(h, w)`` or ``(h, w, C)`` in view coordinates (channels last).
            shape: ``(H, W)`` of the original image.
            interpolation: used for :class:`RescaleStep` steps. Default: linear for float predictions,
                nearest neighbour for integer ones (label masks keep their labels).

        Returns:
            ``(prediction, coverage)``: the prediction in original coordinates, ``(H, W[, C])``, and a
            float ``(H, W)`` map that is 1 where the view saw the image and 0 elsewhere (crops).
        """
        prediction = np.asarray(prediction)
        forward = self.geometries(shape)
        expected = forward[-1].out_shape if forward else tuple(shape)
        if prediction.shape[:2] != expected:
            raise ParameterError(
                f"View {self.name!r}: a dense prediction must be (h, w[, C]) = {expected} in view "
                f"coordinates, got shape {prediction.shape}"
            )
        if interpolation is None:
            interpolation = cv2.INTER_NEAREST if prediction.dtype.kind in "iub" else cv2.INTER_LINEAR
        coverage = np.ones(prediction.shape[:2], np.float32)
        for step, g in zip(reversed(self.steps), reversed(forward), strict=True):
            if isinstance(step, FlipStep):
                element = _INVERSE_ELEMENT[step.element]
                prediction, coverage = kg.d4(prediction, element), kg.d4(coverage, element)
            elif isinstance(step, RescaleStep):
                h, w = g.in_shape
                prediction = kg.resize(prediction, h, w, interpolation)
                coverage = kg.resize(coverage, h, w, cv2.INTER_NEAREST)
            else:
                assert isinstance(g, CropWindow)
                prediction, coverage = _paste(prediction, coverage, g)
        return prediction, coverage

    def invert_boxes(self, boxes: np.ndarray, shape: Shape, clip: bool = True) -> np.ndarray:
        """Map ``(K, 4)`` pascal_voc pixel boxes from view coordinates back; clipped to the image."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        back = map_boxes(self.inverse_geometry(shape), boxes)
        if clip and len(back):
            h, w = shape
            back = np.clip(back, 0.0, [w, h, w, h])
        return back

    def mirrors(self) -> bool:
        """True when the view reflects the plane (an odd number of mirror steps): left becomes right."""
        return sum(step.mirrors for step in self.steps) % 2 == 1

    def invert_keypoints(
        self,
        points: np.ndarray,
        shape: Shape,
        labels: Sequence[Any] | None = None,
        label_mapping: Mapping[str, Mapping[Any, Any]] | None = None,
    ) -> np.ndarray:
        """Map ``(K, 2 + extra)`` pixel-index ``x, y`` keypoints back; extra columns are carried.

        With ``labels`` (one name per slot, e.g. ``["left_eye", "right_eye"]``) and a
        ``label_mapping`` of ``{name: {old: new}}``, the slots are renamed and reordered so each
        slot keeps its meaning, as ``KeypointParams.label_mapping`` does after a transform: on a
        horizontally flipped view the model's "left eye" is the person's right eye, so it comes back
        in the right-eye slot. A mapping applies to a view when its key is the view's name; else,
        step by step (last step first), when it names a step (``hflip``, ``vflip``, ``transpose``...
        or the Albumentations transform name ``HorizontalFlip``, ``VerticalFlip``, ``Transpose``),
        or is ``"mirror"`` and the step is a reflection.
        """
        points = np.asarray(points, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] < 2:
            raise ParameterError(f"keypoints must be (K, 2 + extra) x, y rows, got shape {points.shape}")
        internal = np.zeros((len(points), 4))
        internal[:, :2] = points[:, :2]
        internal[:, 3] = 1.0
        out = points.copy()
        out[:, :2] = map_keypoints(self.inverse_geometry(shape), internal)[:, :2]
        if not label_mapping:
            return out
        if labels is None or len(labels) != len(points):
            raise ParameterError("label_mapping needs labels: one name per keypoint slot")
        for table in self._tables(label_mapping):
            out = _remap_slots(out, list(labels), table)
        return out

    def _tables(self, label_mapping: Mapping[str, Mapping[Any, Any]]) -> list[Mapping[Any, Any]]:
        if self.name in label_mapping:
            return [label_mapping[self.name]]
        tables: list[Mapping[Any, Any]] = []
        for step in reversed(self.steps):
            keys = [step.name]
            if isinstance(step, FlipStep) and step.element in _TRANSFORM_ALIASES:
                keys.append(_TRANSFORM_ALIASES[step.element])
            if step.mirrors:
                keys.append("mirror")
            for key in keys:
                if key in label_mapping:
                    tables.append(label_mapping[key])
                    break
        return tables


def _paste(prediction: np.ndarray, coverage: np.ndarray, window: CropWindow) -> tuple[np.ndarray, np.ndarray]:
    """Put a crop's prediction back at its window in a zero canvas of the window's input size."""
    h, w = window.in_shape
    ch, cw = window.out_shape
    canvas = np.zeros((h, w, *prediction.shape[2:]), prediction.dtype)
    cover = np.zeros((h, w), coverage.dtype)
    x0, y0 = max(window.x0, 0), max(window.y0, 0)
    x1, y1 = min(window.x0 + cw, w), min(window.y0 + ch, h)
    if x1 > x0 and y1 > y0:
        src = np.s_[y0 - window.y0 : y1 - window.y0, x0 - window.x0 : x1 - window.x0]
        canvas[y0:y1, x0:x1] = prediction[src]
        cover[y0:y1, x0:x1] = coverage[src]
    return canvas, cover


def _remap_slots(points: np.ndarray, labels: list[Any], table: Mapping[Any, Any]) -> np.ndarray:
    """Rename slot labels through ``table`` and reorder rows so slot ``i`` holds label ``labels[i]``."""
    renamed = [table.get(label, label) for label in labels]
    free: dict[Any, list[int]] = {}
    for position, label in enumerate(renamed):
        free.setdefault(label, []).append(position)
    order: list[int] = []
    for label in labels:
        candidates = free.get(label)
        if candidates:
            order.append(candidates.pop(0))
    used = set(order)
    order.extend(p for p in range(len(labels)) if p not in used)
    return points[np.asarray(order, dtype=np.int64)]


# -- constructors ------------------------------------------------------------------------------


def flip_view(name: str) -> View:
    """One square-symmetry view by name: ``identity hflip vflip rot90 rot180 rot270 transpose
    anti_transpose`` (``rot90`` turns the image a quarter counter-clockwise, as ``np.rot90``)."""
    return View(name, () if name == "identity" else (FlipStep(name),))


def d4_views(names: Iterable[str] = tuple(D4_NAMES)) -> list[View]:
    """The square-symmetry views (all eight by default). Non-square images give swapped shapes
    for the rotations by 90 and the transposes; the model must accept them."""
    return [flip_view(n) for n in names]


def scale_views(
    factors: Iterable[float] = (1.0, 0.75, 1.25), interpolation: int = cv2.INTER_LINEAR
) -> list[View]:
    """Multi-scale views: the image resized by each factor (``1`` is the identity)."""
    return [
        View("identity", (), interpolation)
        if f == 1
        else View(f"scale{f:g}", (RescaleStep(float(f)),), interpolation)
        for f in factors
    ]


def five_crop(size: int | float | tuple[int | float, int | float]) -> list[View]:
    """The centre and four corner crops of ``size`` (pixels, or fractions of the sides)."""
    h, w = size if isinstance(size, tuple) else (size, size)
    return [View(f"crop_{p}", (CropStep(p, h, w),)) for p in CROP_POSITIONS]


def ten_crop(size: int | float | tuple[int | float, int | float]) -> list[View]:
    """The five crops and their horizontal mirrors (``crop_center+hflip``...)."""
    crops = five_crop(size)
    return crops + [c.then(flip_view("hflip")) for c in crops]


def as_view(obj: View | str | Any) -> View:
    """A view from a :class:`View`, a view name, or a transform that is an exact invertible map.

    Raises:
        NotInvertibleError: for random geometric transforms and pixel transforms (see the module
            docstring), naming the transform and what to use instead.
    """
    if isinstance(obj, View):
        return obj
    if isinstance(obj, str):
        if obj in D4_NAMES:
            return flip_view(obj)
        raise NotInvertibleError(f"unknown view name {obj!r}; expected one of {sorted(D4_NAMES)}")
    name = type(obj).__name__
    named = {"HorizontalFlip": "hflip", "VerticalFlip": "vflip", "Transpose": "transpose"}
    if name in named:
        return flip_view(named[name])
    if name == "CenterCrop":
        return View("crop_center", (CropStep("center", int(obj.height), int(obj.width)),))
    from invariance.core.transform import ImageOnlyTransform

    if isinstance(obj, ImageOnlyTransform):
        raise NotInvertibleError(
            f"{name} changes pixels, not coordinates: it is not a test-time view. TTA views are exact "
            "maps of the plane (d4_views, scale_views, five_crop, ten_crop); apply photometric "
            "changes in the model's preprocessing instead"
        )
    raise NotInvertibleError(
        f"{name} cannot be a test-time view: its map is drawn at random or has no exact inverse, so "
        "predictions made on it cannot be mapped back. Use HorizontalFlip, VerticalFlip, Transpose, "
        "CenterCrop, or the views from d4_views, scale_views, five_crop and ten_crop"
    )
