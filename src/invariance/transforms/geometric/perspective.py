"""Four-point perspective: a random quadrilateral inside the image is mapped onto a rectangle."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, model_validator

from invariance.core.geometry import Geometry, Projective, apply_matrix, rect_corners
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import (
    FloatRange,
    Probability,
    WarpArgs,
    WarpSchema,
    from_zero,
)
from invariance.core.transform import SpatialTransform


def homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3x3 projective matrix sending the four ``src`` points to the four ``dst`` points."""
    rows = []
    rhs = []
    for (x, y), (u, v) in zip(src, dst):
        rows.append([x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y])
        rows.append([0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y])
        rhs.extend([u, v])
    h = np.linalg.solve(np.array(rows), np.array(rhs))
    return np.append(h, 1.0).reshape(3, 3)


class Perspective(SpatialTransform, WarpArgs):
    """Random four-point perspective: each image corner moves inwards, and that quadrilateral
    is stretched back onto a rectangle.

    Each corner moves by ``|N(0, sigma)|`` of the width (x) and height (y), with ``sigma`` drawn
    from ``scale``. With ``keep_size`` the quadrilateral fills the input size; otherwise it fills a
    rectangle as wide and tall as its longest sides. ``fit_output`` widens the output so that the
    whole transformed image stays visible (then resized to the input size when ``keep_size``).

    Per target: image (``interpolation``, ``border_mode`` / ``fill``), mask (``mask_interpolation``,
    ``fill_mask``). bboxes: corners mapped and re-boxed, clipped and filtered; labels follow.
    keypoints: mapped; angle turned and scale multiplied by the local stretch of the map.

    Args:
        scale: range of ``sigma``; a number ``x`` means ``(0, x)``. Default: (0.05, 0.1).
        keep_size: resize back to the input size. Default: True.
        fit_output: keep the whole image visible. Default: False.
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        border_mode, fill, fill_mask: how uncovered pixels are made. Defaults: constant, 0, 0.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"scale": (0.05, 0.1)}

    scale: tuple[float, float]
    keep_size: bool
    fit_output: bool

    class InitSchema(WarpSchema):
        scale: Annotated[FloatRange, BeforeValidator(from_zero)] = (0.05, 0.1)
        keep_size: bool = True
        fit_output: bool = False
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> Perspective.InitSchema:
            if self.scale[0] < 0:
                raise ValueError(f"scale must be >= 0, got {self.scale}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        sigma = float(uniform(rng, *self.scale))
        moves = np.abs(rng.normal(0.0, sigma, size=(4, 2)))
        # Keep each corner in its own half so the quadrilateral stays convex and non-degenerate.
        return {"moves": np.minimum(moves, 0.45).tolist()}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        h, w = sample.shape
        m = np.asarray(params["moves"], dtype=np.float64)
        # Corners tl, tr, br, bl moved inwards (continuous frame).
        quad = np.array(
            [
                [m[0, 0] * w, m[0, 1] * h],
                [w - m[1, 0] * w, m[1, 1] * h],
                [w - m[2, 0] * w, h - m[2, 1] * h],
                [m[3, 0] * w, h - m[3, 1] * h],
            ]
        )
        if self.keep_size:
            out_h, out_w = h, w
        else:
            out_w = max(round(max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3]))), 1)
            out_h = max(round(max(np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1]))), 1)
        matrix = homography(quad, rect_corners((out_h, out_w)))
        if self.fit_output:
            corners = apply_matrix(matrix, rect_corners(sample.shape))
            low, high = corners.min(axis=0), corners.max(axis=0)
            if self.keep_size:
                extent = np.maximum(high - low, 1e-9)
                sx, sy = w / extent[0], h / extent[1]
                fit = np.array([[sx, 0.0, -low[0] * sx], [0.0, sy, -low[1] * sy], [0.0, 0.0, 1.0]])
            else:
                fit = np.array([[1.0, 0.0, -low[0]], [0.0, 1.0, -low[1]], [0.0, 0.0, 1.0]])
                out_w = max(math.ceil(high[0] - low[0] - 1e-6), 1)
                out_h = max(math.ceil(high[1] - low[1] - 1e-6), 1)
            matrix = fit @ matrix
        return Projective(matrix, sample.shape, (out_h, out_w))
