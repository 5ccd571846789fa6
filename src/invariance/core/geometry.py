"""What a spatial transform does to the plane, declared once and applied to every target.

A spatial transform does not touch arrays itself. It returns a :class:`Geometry`: an exact
operation (a square symmetry, a crop window, a resize), a projective matrix, or a chain of those.
The pipeline then moves every target through that one object (see :mod:`invariance.core.apply`):
images with the transform's interpolation, masks with nearest neighbour, box corners, and
keypoints with their angle and scale. Pixels and annotations therefore cannot drift apart.

Coordinates here are *continuous*: pixel column ``x`` covers ``[x, x + 1)``, so an image of
width ``W`` spans ``[0, W]``. Boxes live in this frame directly. Keypoints use the pixel-index
frame (pixel centres at integers, the convention of Albumentations and OpenCV) and are shifted by
half a pixel on the way in and out. Kernels receive matrices converted to OpenCV's index frame.

Every geometry can say whether it is a projective map (:meth:`Geometry.matrix`); consecutive
projective geometries can be multiplied together and resampled once (warp fusion).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import cv2
import numpy as np

from invariance.kernels import geometry as kg

Shape = tuple[int, int]  # (height, width)


def _translation(tx: float, ty: float) -> np.ndarray:
    return np.array([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]])


_HALF = _translation(0.5, 0.5)
_MINUS_HALF = _translation(-0.5, -0.5)


def to_index_frame(matrix: np.ndarray) -> np.ndarray:
    """Express a continuous-frame matrix in OpenCV's pixel-index frame."""
    return _MINUS_HALF @ matrix @ _HALF


def apply_matrix(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map ``(N, 2)`` points through a 3x3 projective matrix."""
    if len(points) == 0:
        return points.astype(np.float64, copy=True)
    homogeneous = points @ matrix[:2, :2].T + matrix[:2, 2]
    if matrix[2, 0] == 0 and matrix[2, 1] == 0 and matrix[2, 2] == 1:
        return homogeneous
    w = points @ matrix[2, :2] + matrix[2, 2]
    w = np.where(np.abs(w) < 1e-12, 1e-12, w)
    return homogeneous / w[:, None]


class Resampling(NamedTuple):
    """How pixels are resampled when a geometry is applied (immutable).

    ``mask_interpolation`` defaults to nearest neighbour so masks keep only their original values.
    ``bbox_method`` is how boxes are mapped: ``largest_box`` (transform the corners) or ``ellipse``
    (transform the ellipse inscribed in the box, which keeps boxes tight under rotation).
    A named tuple rather than a frozen dataclass: one is built per spatial transform call, and a
    tuple is built in a third of the time.
    """

    interpolation: int = cv2.INTER_LINEAR
    mask_interpolation: int = cv2.INTER_NEAREST
    border_mode: int = cv2.BORDER_CONSTANT
    fill: float | tuple[float, ...] = 0.0
    fill_mask: float | tuple[float, ...] = 0.0
    bbox_method: str = "largest_box"


class Geometry:
    """A map of the plane from an input image of ``in_shape`` to an output of ``out_shape``."""

    in_shape: Shape
    out_shape: Shape

    def matrix(self) -> np.ndarray | None:
        """The 3x3 continuous-frame projective matrix of this map, or None when it has none."""
        return None

    def matrix_values(self) -> list[float] | None:
        """:meth:`matrix` as nine row-major floats (what warp fusion multiplies, in plain Python:
        numpy's per-call cost on 3x3 arrays is several times the arithmetic)."""
        matrix = self.matrix()
        return None if matrix is None else matrix.ravel().tolist()

    def warp(
        self, array: np.ndarray, interpolation: int, border_mode: int, fill: float | Sequence[float]
    ) -> np.ndarray:
        """Resample an image-like array (image, frame or mask) through the map."""
        raise NotImplementedError

    def map_points(self, points: np.ndarray) -> np.ndarray:
        """Map ``(N, 2)`` continuous-frame points forward."""
        matrix = self.matrix()
        if matrix is None:
            raise NotImplementedError
        return apply_matrix(matrix, points)

    def jacobian(self, points: np.ndarray) -> np.ndarray:
        """The ``(N, 2, 2)`` local linear part of the map at ``points`` (for keypoint angle and scale)."""
        matrix = self.matrix()
        if matrix is not None and matrix[2, 0] == 0 and matrix[2, 1] == 0:
            return np.broadcast_to(matrix[:2, :2] / matrix[2, 2], (len(points), 2, 2)).copy()
        eps = 1e-3
        ex, ey = np.array([eps, 0.0]), np.array([0.0, eps])
        dx = (self.map_points(points + ex) - self.map_points(points - ex)) / (2 * eps)
        dy = (self.map_points(points + ey) - self.map_points(points - ey)) / (2 * eps)
        return np.stack([dx, dy], axis=2)

    @property
    def preserves_lines(self) -> bool:
        """True when straight lines stay straight, so a box's corners bound its image."""
        return self.matrix() is not None

    def map_boxes_exact(self, boxes: np.ndarray, method: str) -> np.ndarray | None:
        """Boxes mapped by a rule exact for this geometry, or None to map their outline instead."""
        return None

    # -- what warp fusion needs to know ------------------------------------------------------

    def makes_border(self) -> bool:
        """True when some output pixel comes from outside the input: the map draws a border
        (``border_mode`` / ``fill``). Symmetries and resizes never do; a window does when it
        leaves the image; otherwise the matrix decides (a map without one is assumed to)."""
        matrix = self.matrix()
        return True if matrix is None else samples_outside(matrix, self.in_shape, self.out_shape)

    def interpolates(self) -> bool:
        """True when the map resamples pixels (False for symmetries and whole-pixel windows)."""
        return True

    def maps_onto(self) -> bool:
        """True for a map of the whole input rectangle onto the whole output rectangle."""
        return False

    def is_identity(self) -> bool:
        """True when the map changes nothing (same shape, every pixel in place)."""
        return False

    def inner_view(self, array: np.ndarray) -> np.ndarray | None:
        """The map's result as a view of ``array`` when it is a window inside it, else None."""
        return None

    def keeps_boxes_upright(self) -> bool:
        """True when every axis-aligned rectangle maps onto an axis-aligned rectangle (flips,
        quarter turns, crops, resizes, translations): re-boxing then loses nothing."""
        m = self.matrix_values()
        if m is None or m[6] != 0 or m[7] != 0:
            return False
        return (m[1] == 0 and m[3] == 0) or (m[0] == 0 and m[4] == 0)

    def describe(self) -> dict[str, object]:
        """A JSON-friendly description, for saved parameters and debugging."""
        matrix = self.matrix()
        info: dict[str, object] = {
            "kind": type(self).__name__,
            "in_shape": self.in_shape,
            "out_shape": self.out_shape,
        }
        if matrix is not None:
            info["matrix"] = np.round(matrix, 10).tolist()
        return info


#: Rows of each symmetry's matrix; the translation is given as coefficients of (w, h).
_SYMMETRY_ROWS: dict[str, tuple[tuple[int, int, tuple[int, int]], tuple[int, int, tuple[int, int]]]] = {
    "e": ((1, 0, (0, 0)), (0, 1, (0, 0))),
    "h": ((-1, 0, (1, 0)), (0, 1, (0, 0))),
    "v": ((1, 0, (0, 0)), (0, -1, (0, 1))),
    "r180": ((-1, 0, (1, 0)), (0, -1, (0, 1))),
    "t": ((0, 1, (0, 0)), (1, 0, (0, 0))),
    "r90": ((0, 1, (0, 0)), (-1, 0, (1, 0))),
    "r270": ((0, -1, (0, 1)), (1, 0, (0, 0))),
    "hvt": ((0, -1, (0, 1)), (-1, 0, (1, 0))),
}


@dataclass(frozen=True)
class Symmetry(Geometry):
    """One of the eight exact symmetries of the square (``e r90 r180 r270 v hvt h t``)."""

    element: str
    in_shape: Shape
    out_shape: Shape = field(init=False)

    def __post_init__(self) -> None:
        if self.element not in kg.D4_ELEMENTS:
            raise ValueError(f"unknown D4 element {self.element!r}")
        h, w = self.in_shape
        swapped = self.element in ("r90", "r270", "t", "hvt")
        object.__setattr__(self, "out_shape", (w, h) if swapped else (h, w))

    def matrix(self) -> np.ndarray:
        return np.array(self.matrix_values(), dtype=np.float64).reshape(3, 3)

    def matrix_values(self) -> list[float]:
        return _symmetry_matrix(self.element, self.in_shape)

    def warp(
        self, array: np.ndarray, interpolation: int, border_mode: int, fill: float | Sequence[float]
    ) -> np.ndarray:
        return kg.D4_OPS[self.element](array)

    def makes_border(self) -> bool:
        return False

    def interpolates(self) -> bool:
        return False

    def maps_onto(self) -> bool:
        return True

    def is_identity(self) -> bool:
        return self.element == "e"


@lru_cache(maxsize=1024)
def symmetry(element: str, shape: Shape) -> Symmetry:
    """``Symmetry(element, shape)``, built once per element and shape (flips call this per
    image; the geometry is immutable, so one instance serves every call on that shape)."""
    return Symmetry(element, shape)


@dataclass(frozen=True, init=False)
class CropWindow(Geometry):
    """Cut the window with top-left ``(x0, y0)`` and size ``out_shape``; outside the image, pad.

    The padding uses the transform's border mode and fill. The map is a pure translation.
    """

    x0: int
    y0: int
    in_shape: Shape
    out_shape: Shape

    def __init__(self, x0: int, y0: int, in_shape: Shape, out_shape: Shape) -> None:
        # Built on every crop call: writing the fields straight into the instance dict costs a
        # third of a frozen dataclass's generated __init__ (which goes through object.__setattr__).
        fields = self.__dict__
        fields["x0"], fields["y0"], fields["in_shape"], fields["out_shape"] = x0, y0, in_shape, out_shape

    def matrix(self) -> np.ndarray:
        return _translation(-self.x0, -self.y0)

    def matrix_values(self) -> list[float]:
        return [1.0, 0.0, float(-self.x0), 0.0, 1.0, float(-self.y0), 0.0, 0.0, 1.0]

    def warp(
        self, array: np.ndarray, interpolation: int, border_mode: int, fill: float | Sequence[float]
    ) -> np.ndarray:
        inside = self.inner_view(array)
        if inside is not None:
            return inside.copy()  # the common case: a plain copy of the window
        h, w = self.out_shape
        return kg.crop_pad(array, self.x0, self.y0, w, h, border_mode, fill)

    def touches_border(self) -> bool:
        """True when the window leaves the image (the part outside is padding)."""
        h, w = self.in_shape
        oh, ow = self.out_shape
        return not (self.x0 >= 0 and self.y0 >= 0 and self.x0 + ow <= w and self.y0 + oh <= h)

    def makes_border(self) -> bool:
        return self.touches_border()

    def interpolates(self) -> bool:
        return False

    def maps_onto(self) -> bool:
        return self.x0 == self.y0 == 0 and self.in_shape == self.out_shape

    def is_identity(self) -> bool:
        return self.maps_onto()

    def inner_view(self, array: np.ndarray) -> np.ndarray | None:
        """The window as a view of ``array`` when it lies inside it (None when it needs padding)."""
        h, w = self.out_shape
        ah, aw = array.shape[:2]
        if self.x0 < 0 or self.y0 < 0 or self.x0 + w > aw or self.y0 + h > ah:
            return None
        return array[self.y0 : self.y0 + h, self.x0 : self.x0 + w]


@dataclass(frozen=True)
class Scale(Geometry):
    """Resize to ``out_shape``; every coordinate is multiplied by the size ratio."""

    in_shape: Shape
    out_shape: Shape

    def matrix(self) -> np.ndarray:
        return np.array(self.matrix_values()).reshape(3, 3)

    def matrix_values(self) -> list[float]:
        (ih, iw), (oh, ow) = self.in_shape, self.out_shape
        return [ow / iw, 0.0, 0.0, 0.0, oh / ih, 0.0, 0.0, 0.0, 1.0]

    def warp(
        self, array: np.ndarray, interpolation: int, border_mode: int, fill: float | Sequence[float]
    ) -> np.ndarray:
        oh, ow = self.out_shape
        return kg.resize(array, oh, ow, interpolation)

    def makes_border(self) -> bool:
        return False

    def maps_onto(self) -> bool:
        return True

    def is_identity(self) -> bool:
        return self.in_shape == self.out_shape


@dataclass(frozen=True, eq=False)
class Projective(Geometry):
    """A general 3x3 continuous-frame matrix (affine when its last row is ``0 0 1``)."""

    forward: np.ndarray
    in_shape: Shape
    out_shape: Shape

    def matrix(self) -> np.ndarray:
        return self.forward

    def matrix_values(self) -> list[float]:
        values: list[float] = self.forward.ravel().tolist()
        return values

    @property
    def is_affine(self) -> bool:
        g, h, i = self.forward[2].tolist()
        return abs(g) <= 1e-8 and abs(h) <= 1e-8 and abs(i - 1.0) <= 1e-5 + 1e-8

    def warp(
        self, array: np.ndarray, interpolation: int, border_mode: int, fill: float | Sequence[float]
    ) -> np.ndarray:
        oh, ow = self.out_shape
        index_matrix = to_index_frame(self.forward)
        if self.is_affine:
            return kg.warp_affine(array, index_matrix, oh, ow, interpolation, border_mode, fill)
        return kg.warp_perspective(array, index_matrix, oh, ow, interpolation, border_mode, fill)


@dataclass(frozen=True)
class Chain(Geometry):
    """Several geometries applied one after another (for example crop, then resize)."""

    steps: tuple[Geometry, ...]
    in_shape: Shape = field(init=False)
    out_shape: Shape = field(init=False)

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("a Chain needs at least one step")
        object.__setattr__(self, "in_shape", self.steps[0].in_shape)
        object.__setattr__(self, "out_shape", self.steps[-1].out_shape)

    def matrix(self) -> np.ndarray | None:
        values = self.matrix_values()
        return None if values is None else np.array(values).reshape(3, 3)

    def matrix_values(self) -> list[float] | None:
        total: list[float] | None = None
        for step in self.steps:
            values = step.matrix_values()
            if values is None:
                return None
            total = values if total is None else _product3(values, total)
        return total

    def warp(
        self, array: np.ndarray, interpolation: int, border_mode: int, fill: float | Sequence[float]
    ) -> np.ndarray:
        last = len(self.steps) - 1
        for i, step in enumerate(self.steps):
            if i < last:
                view = step.inner_view(array)
                if view is not None:
                    array = view  # the next step makes a new array: no copy of the window
                    continue
            array = step.warp(array, interpolation, border_mode, fill)
        return array

    def map_points(self, points: np.ndarray) -> np.ndarray:
        for step in self.steps:
            points = step.map_points(points)
        return points

    @property
    def preserves_lines(self) -> bool:
        return all(step.preserves_lines for step in self.steps)

    def makes_border(self) -> bool:
        return any(step.makes_border() for step in self.steps)

    def interpolates(self) -> bool:
        return any(step.interpolates() for step in self.steps)

    def maps_onto(self) -> bool:
        return all(step.maps_onto() for step in self.steps)

    def is_identity(self) -> bool:
        return all(step.is_identity() for step in self.steps)

    def describe(self) -> dict[str, object]:
        return {"kind": "Chain", "steps": [s.describe() for s in self.steps]}


def box_outline(boxes: np.ndarray, method: str, preserves_lines: bool) -> np.ndarray:
    """Points ``(N, K, 2)`` whose image bounds each box's image under a map.

    Corners suffice for maps that keep lines straight; curved maps sample the border densely.
    ``ellipse`` samples the ellipse inscribed in the box instead.
    """
    x0, y0, x1, y1 = (boxes[:, i : i + 1] for i in range(4))
    if method == "ellipse":
        t = np.linspace(0, 2 * np.pi, 64, endpoint=False)[None, :]
        cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
        return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=2)
    steps = 2 if preserves_lines else 17
    t = np.linspace(0.0, 1.0, steps)[None, :]
    xs = x0 + (x1 - x0) * t
    ys = y0 + (y1 - y0) * t
    ones = np.ones_like(t)
    edges = [
        np.stack([xs, y0 * ones], axis=2),
        np.stack([xs, y1 * ones], axis=2),
        np.stack([x0 * ones, ys], axis=2),
        np.stack([x1 * ones, ys], axis=2),
    ]
    return np.concatenate(edges, axis=1)


def map_boxes(geometry: Geometry, boxes: np.ndarray, method: str = "largest_box") -> np.ndarray:
    """Map ``(N, 4)`` continuous-frame ``x_min, y_min, x_max, y_max`` boxes, ordered; no clipping here.

    A geometry with an exact box rule of its own (``Geometry.map_boxes_exact``) is asked first;
    otherwise the box outline is mapped.
    """
    if len(boxes) == 0:
        return boxes.copy()
    exact = geometry.map_boxes_exact(boxes, method)
    if exact is not None:
        # A mirror in the rule may swap min and max; keep them ordered.
        return np.concatenate(
            [np.minimum(exact[:, :2], exact[:, 2:]), np.maximum(exact[:, :2], exact[:, 2:])], axis=1
        )
    if method != "ellipse":
        matrix = geometry.matrix()
        if matrix is not None and matrix[2, 0] == 0 and matrix[2, 1] == 0:
            return _affine_box_bounds(matrix[:2] / matrix[2, 2], boxes)
    outline = box_outline(boxes, method, geometry.preserves_lines)
    n, k, _ = outline.shape
    mapped = geometry.map_points(outline.reshape(n * k, 2)).reshape(n, k, 2)
    return np.concatenate([mapped.min(axis=1), mapped.max(axis=1)], axis=1)


def _affine_box_bounds(m: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The bounds of each box's four corners under the affine ``m`` (2x3), without the corners.

    Each output coordinate is a sum of one term in ``x`` and one in ``y``, so its extremes over
    the corners are the sums of the terms' extremes.
    """
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    out = np.empty((len(boxes), 4))
    for row in (0, 1):
        a, b, c = m[row]
        ax0, ax1, by0, by1 = a * x0, a * x1, b * y0, b * y1
        out[:, row] = np.minimum(ax0, ax1) + np.minimum(by0, by1) + c
        out[:, row + 2] = np.maximum(ax0, ax1) + np.maximum(by0, by1) + c
    return out


def map_keypoints(geometry: Geometry, keypoints: np.ndarray) -> np.ndarray:
    """Map ``(N, 4)`` index-frame keypoints ``x, y, angle (rad), scale`` through a geometry.

    The angle turns with the local linear part of the map (a mirror sends ``a`` to ``pi - a``);
    the scale is multiplied by its largest stretch.
    """
    if len(keypoints) == 0:
        return keypoints.copy()
    by_matrix = type(geometry).map_points is Geometry.map_points  # points move by the matrix alone
    if by_matrix:
        values = geometry.matrix_values()
        if values is not None and values[6] == 0 and values[7] == 0 and values[8] != 0:
            return _affine_keypoints(keypoints, values)
    points = keypoints[:, :2] + 0.5
    matrix = geometry.matrix()
    if matrix is not None and by_matrix:
        mapped = apply_matrix(matrix, points) - 0.5  # what map_points does, without a second matrix()
    else:
        mapped = geometry.map_points(points) - 0.5
    if matrix is not None and matrix[2, 0] == 0 and matrix[2, 1] == 0:
        return _turned_by_linear(keypoints, mapped, matrix[:2, :2] / matrix[2, 2])
    jac = geometry.jacobian(points)
    direction = np.stack([np.cos(keypoints[:, 2]), np.sin(keypoints[:, 2])], axis=1)
    turned = np.einsum("nij,nj->ni", jac, direction)
    angle = np.mod(np.arctan2(turned[:, 1], turned[:, 0]), 2 * np.pi)
    stretch = np.linalg.svd(jac, compute_uv=False)[:, 0]
    out = keypoints.copy()
    out[:, :2] = mapped
    out[:, 2] = angle
    out[:, 3] = keypoints[:, 3] * stretch
    return out


def _affine_keypoints(keypoints: np.ndarray, values: list[float]) -> np.ndarray:
    """``map_keypoints`` through an affine matrix given as nine floats (last row ``0 0 s``).

    The same map as the general path (positions through the matrix in the continuous frame,
    angles turned and scales stretched by its linear part), with the entries as Python floats and
    the frame shift folded into the offset (one 2x2 product and one add): building 3x3 arrays and
    slicing them cost more than the arithmetic on a few dozen keypoints, and every spatial step
    of a keypoint pipeline maps them (about 20 -> 8 us per step for 16 keypoints).
    """
    a, b, tx, c, d, ty, _, _, s = values
    if s != 1:
        a, b, tx, c, d, ty = a / s, b / s, tx / s, c / s, d / s, ty / s
    out = np.empty_like(keypoints)
    # In the index frame: p' = L (p + 0.5) + t - 0.5 = L p + (L 0.5 + t - 0.5).
    offset = ((a + b) * 0.5 + tx - 0.5, (c + d) * 0.5 + ty - 0.5)
    np.add(np.matmul(keypoints[:, :2], np.array(((a, c), (b, d)))), offset, out=out[:, :2])
    _turn(keypoints, out, a, b, c, d)
    return out


def _turn(keypoints: np.ndarray, out: np.ndarray, a: float, b: float, c: float, d: float) -> None:
    """Write into ``out`` the angles (column 2) and scales (column 3) of ``keypoints`` after the
    linear map ``[[a, b], [c, d]]``: each direction turned through it, each scale multiplied by its
    largest singular value (closed form)."""
    angles = keypoints[:, 2]
    if not np.count_nonzero(angles):  # every angle 0 (formats without one): the turned x axis, for all
        out[:, 2] = math.atan2(c, a) % (2 * math.pi)
    else:
        cos, sin = np.cos(angles), np.sin(angles)
        out[:, 2] = np.mod(np.arctan2(c * cos + d * sin, a * cos + b * sin), 2 * np.pi)
    squares = a * a + b * b + c * c + d * d
    determinant = a * d - b * c
    stretch = math.sqrt(
        max(squares + math.sqrt(max(squares * squares - 4 * determinant * determinant, 0.0)), 0.0) / 2
    )
    np.multiply(keypoints[:, 3], stretch, out=out[:, 3])


def _turned_by_linear(keypoints: np.ndarray, mapped: np.ndarray, linear: np.ndarray) -> np.ndarray:
    """``map_keypoints`` for an affine map, whose local linear part is the same 2x2 ``linear``
    everywhere: the angles turn through it and the scales take its largest singular value (closed
    form), without a per-point Jacobian."""
    (a, b), (c, d) = linear.tolist()
    out = np.empty_like(keypoints)
    out[:, :2] = mapped
    _turn(keypoints, out, a, b, c, d)
    return out


# -- warp fusion ------------------------------------------------------------------------------

_D4_LINEAR = {
    "e": (1, 0, 0, 1),
    "h": (-1, 0, 0, 1),
    "v": (1, 0, 0, -1),
    "r180": (-1, 0, 0, -1),
    "t": (0, 1, 1, 0),
    "r90": (0, 1, -1, 0),
    "r270": (0, -1, 1, 0),
    "hvt": (0, -1, -1, 0),
}

#: Interpolation order used to pick one flag for a fused warp (nearest < linear < cubic < lanczos).
_INTERPOLATION_RANK = {
    cv2.INTER_NEAREST: 0,
    cv2.INTER_NEAREST_EXACT: 0,
    cv2.INTER_LINEAR: 1,
    cv2.INTER_LINEAR_EXACT: 1,
    cv2.INTER_CUBIC: 2,
    cv2.INTER_LANCZOS4: 3,
}


def rect_corners(shape: Shape) -> np.ndarray:
    """The four corners of an image of ``shape`` in the continuous frame."""
    h, w = shape
    return np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]])


def keeps_orientation(matrix: np.ndarray, shape: Shape) -> bool:
    """True when the whole image stays in front of the projective map (no point sent to infinity)."""
    if matrix[2, 0] == 0 and matrix[2, 1] == 0:
        return bool(matrix[2, 2] > 1e-9)  # affine: every point has the same w
    corners = rect_corners(shape)
    w = corners @ matrix[2, :2] + matrix[2, 2]
    return bool(np.all(w > 1e-9))


def samples_outside(matrix: np.ndarray, in_shape: Shape, out_shape: Shape) -> bool:
    """True when some output pixel centre of the map comes from outside the input image.

    Such a map makes a border (``border_mode`` / ``fill``); a map that only reads inside its input
    (a symmetry, a resize, a crop inside the image) makes none. Plain Python on nine numbers:
    numpy's per-call cost on a 3x3 matrix is several times the arithmetic.
    """
    inverse = _inverse3(matrix.ravel().tolist())
    if inverse is None:
        return True
    a, b, c, d, e, f, g, h, i = inverse
    oh, ow = out_shape
    height, width = in_shape
    eps = 1e-6
    for x, y in ((0.5, 0.5), (ow - 0.5, 0.5), (ow - 0.5, oh - 0.5), (0.5, oh - 0.5)):
        w = g * x + h * y + i
        if abs(w) < 1e-12:
            w = 1e-12
        bx, by = (a * x + b * y + c) / w, (d * x + e * y + f) / w
        if not (-eps <= bx <= width + eps and -eps <= by <= height + eps):
            return True
    return False


def _inverse3(m: list[float]) -> list[float] | None:
    """The inverse of a row-major 3x3 matrix given as nine floats (None when singular)."""
    a, b, c, d, e, f, g, h, i = m
    co_a, co_b, co_c = e * i - f * h, f * g - d * i, d * h - e * g
    det = a * co_a + b * co_b + c * co_c
    if abs(det) < 1e-300:
        return None
    r = 1.0 / det
    return [
        co_a * r, (c * h - b * i) * r, (b * f - c * e) * r,
        co_b * r, (a * i - c * g) * r, (c * d - a * f) * r,
        co_c * r, (b * g - a * h) * r, (a * e - b * d) * r,
    ]  # fmt: skip


def _product3(left: list[float], right: list[float]) -> list[float]:
    """``left @ right`` for row-major 3x3 matrices given as nine floats (unrolled: hot path)."""
    a0, a1, a2, a3, a4, a5, a6, a7, a8 = left
    b0, b1, b2, b3, b4, b5, b6, b7, b8 = right
    return [
        a0 * b0 + a1 * b3 + a2 * b6, a0 * b1 + a1 * b4 + a2 * b7, a0 * b2 + a1 * b5 + a2 * b8,
        a3 * b0 + a4 * b3 + a5 * b6, a3 * b1 + a4 * b4 + a5 * b7, a3 * b2 + a4 * b5 + a5 * b8,
        a6 * b0 + a7 * b3 + a8 * b6, a6 * b1 + a7 * b4 + a8 * b7, a6 * b2 + a7 * b5 + a8 * b8,
    ]  # fmt: skip


def product_of(matrices: Sequence[list[float]]) -> list[float]:
    """``matrices[-1] @ ... @ matrices[0]`` (nine floats each): the map of applying them in order."""
    total = matrices[0]
    for matrix in matrices[1:]:
        total = _product3(matrix, total)
    return total


def fused_interpolation(flags: Sequence[int]) -> int:
    """One interpolation flag for a fused warp: the highest-order one among the steps."""
    if not flags:
        return cv2.INTER_NEAREST
    return max(flags, key=lambda f: _INTERPOLATION_RANK.get(f, 1))


_D4_PATTERNS = {element: tuple(float(v) for v in pattern) for element, pattern in _D4_LINEAR.items()}


def _near(left: Sequence[float], right: Sequence[float], atol: float) -> bool:
    """``np.allclose(left, right, atol=atol)`` for short sequences of finite floats."""
    return all(abs(x - y) <= atol + 1e-5 * abs(y) for x, y in zip(left, right))


def _symmetry_matrix(element: str, in_shape: Shape) -> list[float]:
    """The continuous-frame matrix of a square symmetry of an image of ``in_shape``, nine floats."""
    h, w = in_shape
    (a, b, c), (d, e, f) = _SYMMETRY_ROWS[element]
    return [a, b, c[0] * w + c[1] * h, d, e, f[0] * w + f[1] * h, 0.0, 0.0, 1.0]


def exact_geometry(matrix: np.ndarray | list[float], in_shape: Shape, out_shape: Shape) -> Geometry:
    """The cheapest exact geometry for a composed matrix.

    A product of maps can collapse into something exact: a square symmetry (flip then rotate 90),
    a whole-pixel window (shift then crop), a plain resize, a window then a resize then a
    symmetry (crop-and-resize, then flips), or the identity. Anything else is a
    :class:`Projective` warp. The tests run in plain Python on the nine entries (this is on the
    hot path of every fused chain, and numpy's per-call cost on 3x3 arrays dominates there).
    """
    values = matrix if isinstance(matrix, list) else matrix.ravel().tolist()
    scale = values[8]
    m = [v / scale for v in values]
    if abs(m[6]) <= 1e-12 and abs(m[7]) <= 1e-12:
        # np.round(v, 9) in plain Python: rint(v * 1e9) / 1e9, the same float operations.
        linear = tuple(round(v * 1e9) / 1e9 for v in (m[0], m[1], m[3], m[4]))
        for element, pattern in _D4_PATTERNS.items():
            if linear == pattern:
                candidate = symmetry(element, in_shape)
                if candidate.out_shape == out_shape and _near(_symmetry_matrix(element, in_shape), m, 1e-7):
                    return candidate
                if element == "e":
                    tx, ty = -m[2], -m[5]
                    if abs(tx - round(tx)) < 1e-7 and abs(ty - round(ty)) < 1e-7:
                        return CropWindow(round(tx), round(ty), in_shape, out_shape)
                break
        (ih, iw), (oh, ow) = in_shape, out_shape
        if _near([ow / iw, 0.0, 0.0, 0.0, oh / ih, 0.0], m[:6], 1e-9):
            return Scale(in_shape, out_shape)
        resized = _window_resize_symmetry(m, in_shape, out_shape)
        if resized is not None:
            return resized
    return Projective(np.array(m).reshape(3, 3), in_shape, out_shape)


def _window_resize_symmetry(m: list[float], in_shape: Shape, out_shape: Shape) -> Geometry | None:
    """``m`` (nine floats, affine) as a whole-pixel window inside the image, a resize and a square
    symmetry, if it is one.

    This is what a crop-and-resize followed by flips or quarter turns multiplies out to; a slice,
    ``cv2.resize`` and a flip are several times faster than one general warp, and equal to the
    steps applied one by one.
    """
    a, b, tx, c, d, ty = m[:6]
    oh, ow = out_shape
    if b == 0 and c == 0 and a != 0 and d != 0:
        element = {(1, 1): "e", (-1, 1): "h", (1, -1): "v", (-1, -1): "r180"}[(_sign(a), _sign(d))]
        xs, ys = ((0 - tx) / a, (ow - tx) / a), ((0 - ty) / d, (oh - ty) / d)
        sized = out_shape
    elif a == 0 and d == 0 and b != 0 and c != 0:
        element = {(1, 1): "t", (1, -1): "r90", (-1, 1): "r270", (-1, -1): "hvt"}[(_sign(b), _sign(c))]
        xs, ys = ((0 - ty) / c, (oh - ty) / c), ((0 - tx) / b, (ow - tx) / b)
        sized = (ow, oh)
    else:
        return None
    edges = (min(xs), min(ys), max(xs), max(ys))
    if any(abs(e - round(e)) > 1e-7 for e in edges):
        return None
    ix0, iy0, ix1, iy1 = (round(e) for e in edges)
    h, w = in_shape
    if ix0 < 0 or iy0 < 0 or ix1 > w or iy1 > h or ix1 <= ix0 or iy1 <= iy0:
        return None
    window = (iy1 - iy0, ix1 - ix0)
    steps: list[Geometry] = []
    product = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    if window != in_shape:
        steps.append(CropWindow(ix0, iy0, in_shape, window))
        product = [1.0, 0.0, -ix0, 0.0, 1.0, -iy0, 0.0, 0.0, 1.0]
    if sized != window:
        steps.append(Scale(window, sized))
        sx, sy = sized[1] / window[1], sized[0] / window[0]
        product = _product3([sx, 0.0, 0.0, 0.0, sy, 0.0, 0.0, 0.0, 1.0], product)
    if element != "e":
        steps.append(symmetry(element, sized))
        product = _product3(_symmetry_matrix(element, sized), product)
    if not steps:
        return None
    candidate = steps[0] if len(steps) == 1 else Chain(tuple(steps))
    # The decomposition must multiply back to ``m`` (a guard against a wrong case above).
    if candidate.out_shape != out_shape or not _near(product, m, 1e-9):
        return None
    return candidate


def _sign(value: float) -> int:
    return 1 if value > 0 else -1
