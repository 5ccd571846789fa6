"""Mosaic: tile this sample and others from metadata into a grid, then crop (YOLOv4)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import model_validator

from invariance.core.budget import Bounded
from invariance.core.geometry import Projective, map_boxes, map_keypoints
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import Fill, FloatRange, Interpolation, Probability, TransformSchema
from invariance.core.transform import BasicTransform
from invariance.transforms.mixing.items import (
    Item,
    boxes_in_region,
    concat_rows,
    load_item,
    metadata_items,
    move_item,
    points_in_region,
    primary_item,
    warp_image,
)
from invariance.transforms.occlusion.holes import CountRange

Rect = tuple[int, int, int, int]


class Mosaic(BasicTransform):
    """Tile this sample and extra samples into a ``grid_yx`` grid of ``cell_shape`` cells, and
    crop a ``target_size`` window from it.

    The window's centre is drawn within ``center_range`` of the positions that keep the window
    inside the grid. Each visible cell receives one sample fitted to the cell: ``cover`` scales
    it to cover the cell and crops the centre, ``contain`` scales it to fit inside and pads with
    ``fill`` / ``fill_mask``. This sample fills the most visible cell; the others are drawn from
    the metadata without repetition, and when there are too few this sample is repeated.

    Targets: image: the mosaic. mask: the masks of the samples, tiled the same way (``fill_mask``
    where a sample has no mask). Other images, frames and masks of this call: this sample's
    content in its own cell, ``fill`` / ``fill_mask`` elsewhere. bboxes: every sample's boxes,
    moved with their cell, clipped to it and filtered by BboxParams (visibility measured against
    the whole moved box); labels follow. keypoints: every sample's keypoints lying in its cell.

    Args:
        grid_yx: rows and columns of the grid. Default: (2, 2).
        target_size: output (height, width). Default: (512, 512).
        cell_shape: (height, width) of each cell. Default: (512, 512).
        center_range: range, in [0, 1], of the window centre's position within the allowed
            centres. Default: (0.3, 0.7).
        fit_mode: ``cover`` or ``contain``. Default: "cover".
        interpolation: OpenCV flag for resizing images. Default: 1 (linear).
        mask_interpolation: OpenCV flag for resizing masks. Default: 0 (nearest).
        fill: image padding value. Default: 0.
        fill_mask: mask padding value. Default: 0.
        metadata_key: data key of the list of extra samples (dicts with ``image`` and optionally
            ``mask``, ``bboxes``, ``keypoints`` and label fields, in the pipeline's formats).
            Default: "mosaic_metadata".
        p: probability of applying the transform. Default: 0.5.

    Targets: image, images, mask, masks, bboxes, keypoints. Dtypes: uint8, float32.
    """

    family = "mixing"
    example_args = {"target_size": (64, 80), "cell_shape": (48, 56), "grid_yx": (2, 2)}

    grid_yx: tuple[int, int]
    target_size: tuple[int, int]
    cell_shape: tuple[int, int]
    center_range: tuple[float, float]
    fit_mode: str
    interpolation: int
    mask_interpolation: int
    fill: Any
    fill_mask: Any
    metadata_key: str

    class InitSchema(TransformSchema):
        grid_yx: Annotated[CountRange, Bounded("repeat")] = (2, 2)
        target_size: Annotated[CountRange, Bounded("hw")] = (512, 512)
        cell_shape: Annotated[CountRange, Bounded("hw")] = (512, 512)
        center_range: FloatRange = (0.3, 0.7)
        fit_mode: Literal["cover", "contain"] = "cover"
        interpolation: Interpolation = 1
        mask_interpolation: Interpolation = 0
        fill: Fill = 0.0
        fill_mask: Fill = 0.0
        metadata_key: str = "mosaic_metadata"
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> Mosaic.InitSchema:
            for name in ("grid_yx", "target_size", "cell_shape"):
                if min(getattr(self, name)) < 1:
                    raise ValueError(f"{name} must hold two integers >= 1, got {getattr(self, name)}")
            if not 0.0 <= self.center_range[0] <= self.center_range[1] <= 1.0:
                raise ValueError(f"center_range must satisfy 0 <= low <= high <= 1, got {self.center_range}")
            return self

    def _cells(self, x0: int, y0: int) -> list[tuple[int, int, Rect]]:
        """Visible cells ``(row, col, rect in output coordinates)`` for a window at ``(x0, y0)``."""
        rows, cols = self.grid_yx
        ch, cw = self.cell_shape
        th, tw = self.target_size
        cells = []
        for r in range(rows):
            for c in range(cols):
                left, top = max(c * cw - x0, 0), max(r * ch - y0, 0)
                right, bottom = min((c + 1) * cw - x0, tw), min((r + 1) * ch - y0, th)
                if right > left and bottom > top:
                    cells.append((r, c, (left, top, right, bottom)))
        return cells

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        rows, cols = self.grid_yx
        ch, cw = self.cell_shape
        th, tw = self.target_size
        big_h, big_w = rows * ch, cols * cw
        fy, fx = uniform(rng, *self.center_range), uniform(rng, *self.center_range)
        cy = th / 2 + fy * (big_h - th) if big_h >= th else big_h / 2
        cx = tw / 2 + fx * (big_w - tw) if big_w >= tw else big_w / 2
        x0, y0 = round(cx - tw / 2), round(cy - th / 2)
        cells = self._cells(x0, y0)
        areas = [(rect[2] - rect[0]) * (rect[3] - rect[1]) for _, _, rect in cells]
        primary = int(np.argmax(areas))
        count = len(metadata_items(sample, self.metadata_key))
        picks = [int(i) for i in rng.permutation(count)[: len(cells) - 1]]
        sources = [-1 if i == primary or not picks else picks.pop(0) for i in range(len(cells))]
        return {"window": [x0, y0], "sources": sources}

    def _fit(self, shape: tuple[int, int], r: int, c: int, x0: int, y0: int, rect: Rect) -> Projective:
        """The map from a sample of ``shape`` into its cell, in the cell rectangle's own frame."""
        ih, iw = shape
        ch, cw = self.cell_shape
        scale = max(cw / iw, ch / ih) if self.fit_mode == "cover" else min(cw / iw, ch / ih)
        tx = c * cw - x0 + (cw - iw * scale) / 2 - rect[0]
        ty = r * ch - y0 + (ch - ih * scale) / 2 - rect[1]
        matrix = np.array([[scale, 0.0, tx], [0.0, scale, ty], [0.0, 0.0, 1.0]])
        return Projective(matrix, shape, (rect[3] - rect[1], rect[2] - rect[0]))

    def apply_params(self, sample: Sample, params: dict[str, Any]) -> None:
        x0, y0 = (int(v) for v in params["window"])
        sources = [int(s) for s in params["sources"]]
        cells = self._cells(x0, y0)
        raw_items = metadata_items(sample, self.metadata_key)
        th, tw = self.target_size
        image_key = next(iter(sample.keys_of("image")), None)
        mask_key = next(iter(sample.keys_of("mask")), None)
        boxes = sample.boxes.get("bboxes")
        points = sample.points.get("keypoints")
        canvases: dict[str, Any] = {}
        for key in sample.keys_of("image", "mask"):
            canvases[key] = self._blank(sample.arrays[key], key == image_key or sample.kinds[key] == "image")
        for key in sample.keys_of("images", "masks"):
            canvases[key] = [self._blank(f, sample.kinds[key] == "images") for f in sample.arrays[key]]
        box_parts = []
        point_parts = []
        loaded: dict[int, Item] = {}
        primary_place: tuple[Projective, Rect] | None = None
        for (r, c, rect), source in zip(cells, sources):
            if source < 0:
                item = primary_item(sample)
            else:
                if source not in loaded:
                    loaded[source] = load_item(raw_items[source], sample, self.metadata_key, source)
                item = loaded[source]
            geometry = self._fit(item.shape, r, c, x0, y0, rect)
            moved = move_item(
                item, geometry, self.interpolation, self.mask_interpolation, self.fill, self.fill_mask
            )
            left, top, right, bottom = rect
            if source < 0:
                primary_place = (geometry, rect)
                self._place_primary(sample, geometry, canvases, rect)
            else:
                if image_key is not None:
                    canvases[image_key][top:bottom, left:right] = moved.image.reshape(
                        canvases[image_key][top:bottom, left:right].shape
                    )
                if mask_key is not None and moved.mask is not None:
                    canvases[mask_key][top:bottom, left:right] = moved.mask.reshape(
                        canvases[mask_key][top:bottom, left:right].shape
                    )
            offset = np.array([left, top, left, top], dtype=np.float64)
            if boxes is not None and moved.boxes is not None:
                shifted = moved.boxes.with_coords(moved.boxes.coords + offset)
                box_parts.append(boxes_in_region(shifted, sample, rect))
            if points is not None and moved.points is not None:
                shifted_points = moved.points.with_coords(
                    moved.points.coords + np.array([left, top, 0.0, 0.0])
                )
                point_parts.append(points_in_region(shifted_points, rect))
        for key, value in canvases.items():
            if sample.kinds[key] in ("images", "masks") and isinstance(sample.arrays[key], np.ndarray):
                sample.arrays[key] = np.stack(value) if value else sample.arrays[key][:, :th, :tw].copy()
            else:
                sample.arrays[key] = value
        sample.shape = (th, tw)
        if boxes is not None:
            sample.boxes["bboxes"] = concat_rows(boxes.take(np.zeros(0, dtype=np.int64)), *box_parts)
        if points is not None:
            sample.points["keypoints"] = concat_rows(points.take(np.zeros(0, dtype=np.int64)), *point_parts)
        # Other box and keypoint targets belong to this sample: they follow it into its cell.
        for key in [k for k in sample.boxes if k != "bboxes"]:
            rows = sample.boxes[key].take(np.zeros(0, dtype=np.int64))
            if primary_place is not None:
                geometry, (left, top, right, bottom) = primary_place
                moved_boxes = map_boxes(geometry, sample.boxes[key].coords) + np.array([left, top, left, top])
                rows = boxes_in_region(sample.boxes[key].with_coords(moved_boxes), sample, primary_place[1])
            sample.boxes[key] = rows
        for key in [k for k in sample.points if k != "keypoints"]:
            kept = sample.points[key].take(np.zeros(0, dtype=np.int64))
            if primary_place is not None:
                geometry, (left, top, _, _) = primary_place
                moved_points = map_keypoints(geometry, sample.points[key].coords) + np.array(
                    [left, top, 0.0, 0.0]
                )
                kept = points_in_region(sample.points[key].with_coords(moved_points), primary_place[1])
            sample.points[key] = kept

    @property
    def _border(self) -> int:
        # "cover" fills its cell with the image: replicate its edge so that interpolation at the
        # cell border does not blend in the padding value. "contain" pads with fill.
        return 1 if self.fit_mode == "cover" else 0

    def _blank(self, like: np.ndarray, is_image: bool) -> np.ndarray:
        th, tw = self.target_size
        out = np.zeros((th, tw, *like.shape[2:]), dtype=like.dtype)
        fill = np.asarray(self.fill if is_image else self.fill_mask, dtype=np.float64).reshape(-1)
        if like.dtype == np.uint8:
            fill = np.clip(np.rint(fill), 0, 255)
        if like.ndim == 3 and len(fill) > 1:
            values = np.resize(fill, like.shape[2])
            out[:] = values.astype(like.dtype)
        else:
            out[:] = fill[0]
        return out

    def _place_primary(
        self, sample: Sample, geometry: Projective, canvases: dict[str, Any], rect: Rect
    ) -> None:
        left, top, right, bottom = rect
        mask_interp = (
            self.mask_interpolation if sample.mask_interpolation is None else sample.mask_interpolation
        )
        for key in sample.keys_of("image", "images", "mask", "masks"):
            kind = sample.kinds[key]
            is_image = kind in ("image", "images")
            interp = self.interpolation if is_image else mask_interp
            fill = self.fill if is_image else self.fill_mask
            value = sample.arrays[key]
            frames = [value] if kind in ("image", "mask") else list(value)
            targets = [canvases[key]] if kind in ("image", "mask") else canvases[key]
            for frame, canvas in zip(frames, targets):
                if is_image:
                    warped = warp_image(geometry, frame, interp, self._border, fill)
                else:
                    warped = geometry.warp(frame, interp, self._border, fill)
                canvas[top:bottom, left:right] = warped.reshape(canvas[top:bottom, left:right].shape)
