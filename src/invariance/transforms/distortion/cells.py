"""Grid-cell shuffling (an exact permutation) and morphological dilation / erosion."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import cv2
import numpy as np
from pydantic import AfterValidator, BeforeValidator

from invariance.core.budget import Bounded
from invariance.core.compat import DualTransform, Native
from invariance.core.dense import CellShuffle
from invariance.core.effects import Effects, MoveRows, Pixels
from invariance.core.geometry import Geometry
from invariance.core.sample import Sample
from invariance.core.schema import IntRange, Probability, TransformSchema
from invariance.core.targets import BoxSet
from invariance.core.transform import SpatialTransform
from invariance.kernels import distortion as kd


def _grid(pair: tuple[int, int]) -> tuple[int, int]:
    if min(pair) < 1:
        raise ValueError(f"both grid sizes must be >= 1, got {pair}")
    return pair


def _list_to_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class RandomGridShuffle(SpatialTransform):
    """Cut the image into a ``grid = (rows, columns)`` of cells and shuffle the cells.

    Cell sizes differ by at most one pixel (which rows and columns get the extra pixel is random);
    a cell only trades places with cells of exactly its size, so pixels are copied, never
    resampled.

    Per target: image, mask: cells moved (exact copies). keypoints: each moves with the cell that
    holds it (angle and scale unchanged). bboxes: each box is cut by the cells it overlaps, every
    piece moves with its cell, and the box becomes the box around the moved pieces; a box inside
    one cell moves exactly (an edge on a cell boundary stays with the box's own cell).

    Args:
        grid: number of rows and columns, each >= 1. Default: (3, 3).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    family = "distortion"
    example_args = {"grid": (3, 3)}

    grid: tuple[int, int]

    class InitSchema(TransformSchema):
        grid: Annotated[
            Annotated[tuple[int, int], BeforeValidator(_list_to_tuple), AfterValidator(_grid)],
            Bounded("count"),
        ] = (3, 3)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        rows, cols = min(self.grid[0], h), min(self.grid[1], w)
        heights = kd.almost_equal_splits(h, rows)
        widths = kd.almost_equal_splits(w, cols)
        rng.shuffle(heights)
        rng.shuffle(widths)
        y_edges = np.concatenate([[0], np.cumsum(heights)])
        x_edges = np.concatenate([[0], np.cumsum(widths)])
        x0, y0 = np.meshgrid(x_edges[:-1], y_edges[:-1])
        x1, y1 = np.meshgrid(x_edges[1:], y_edges[1:])
        cells = np.stack([x0.ravel(), y0.ravel(), x1.ravel(), y1.ravel()], axis=1)
        order = np.arange(len(cells))
        sizes = cells[:, 2:] - cells[:, :2]
        # Shuffle within each group of equally sized cells (row-major order inside a group).
        for size in np.unique(sizes, axis=0):
            members = np.flatnonzero((sizes == size).all(axis=1))
            order[members] = rng.permutation(members)
        return {"cells": cells.tolist(), "order": order.tolist()}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        return CellShuffle(np.asarray(params["cells"]), np.asarray(params["order"]), sample.shape)


def _one_plus(value: Any) -> Any:
    """Albumentations' convention: a single size ``k`` means the kernel size ``(1, k)``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (1, value)
    return _list_to_tuple(value)


class Morphological(Native, DualTransform):
    """Dilate or erode the image with an elliptical structuring element (for document scans).

    The element is ``cv2.getStructuringElement(MORPH_ELLIPSE, scale)``: ``scale`` is its
    ``(width, height)`` (not a range to draw from). Dilation takes the local maximum (bright
    regions grow, dark text thins); erosion the local minimum.

    This changes pixel values and object extents, but moves nothing, so it is not a spatial
    transform: image and mask are filtered the same way (a label mask keeps only its labels);
    bboxes grow (dilation) or shrink (erosion) by the element's reach on each side, exactly as a
    filled rectangle would, and a box eroded away is dropped; keypoints are unchanged.

    Args:
        scale: element ``(width, height)`` in pixels, each >= 1; a number ``k`` means ``(1, k)``.
            Default: (2, 3).
        operation: ``dilation`` or ``erosion``. Default: dilation.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    family = "morphology"
    example_args = {"scale": (3, 3), "operation": "dilation"}

    scale: tuple[int, int]
    operation: str

    class InitSchema(TransformSchema):
        scale: Annotated[IntRange, BeforeValidator(_one_plus), AfterValidator(_grid), Bounded("kernel")] = (
            2,
            3,
        )
        operation: Literal["erosion", "dilation"] = "dilation"
        p: Probability = 0.5

    def kernel(self) -> np.ndarray:
        kernel: np.ndarray = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, tuple(self.scale))
        return kernel

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        kernel = self.kernel()

        def filter_pixels(array: np.ndarray) -> np.ndarray:
            return kd.morphology(array, kernel, self.operation)

        left, top, right, bottom = kd.morphology_box_reach(kernel)
        sign = 1.0 if self.operation == "dilation" else -1.0
        if self.operation == "erosion":  # erosion shrinks by the mirrored reach
            left, top, right, bottom = right, bottom, left, top
        grow = sign * np.array([-left, -top, right, bottom], dtype=np.float64)

        def follow(boxes: BoxSet, shape: tuple[int, int]) -> BoxSet:
            # Boxes follow the objects they bound. A box eroded to nothing collapses to zero size
            # (so later steps cannot flip it back) and is dropped by the final filter.
            if len(boxes) == 0:
                return boxes
            coords = boxes.coords + grow
            centre = (boxes.coords[:, :2] + boxes.coords[:, 2:]) / 2
            empty = coords[:, 2:] < coords[:, :2]
            coords[:, :2] = np.where(empty, centre, coords[:, :2])
            coords[:, 2:] = np.where(empty, centre, coords[:, 2:])
            return boxes.with_coords(coords)

        return Pixels(filter_pixels, filter_pixels), MoveRows(boxes=follow, filter=False)
