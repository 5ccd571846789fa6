"""Mosaic: tile this sample and others from metadata into a grid, then crop (YOLOv4)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import model_validator

from invariance.core.budget import Bounded
from invariance.core.compat import DualTransform, Native
from invariance.core.effects import Effects, Item, Paste, Piece
from invariance.core.geometry import Projective, Resampling
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import (
    FillArgs,
    FillSchema,
    FloatRange,
    Probability,
    ResampleArgs,
    ResizeSchema,
)
from invariance.transforms.mixing.items import load_item, metadata_items
from invariance.transforms.occlusion.holes import CountRange

Rect = tuple[int, int, int, int]


class Mosaic(Native, DualTransform, ResampleArgs, FillArgs):
    """Tile this sample and extra samples into a ``grid_yx`` grid of ``cell_shape`` cells, and
    crop a ``target_size`` window from it.

    The window's centre is drawn within ``center_range`` of the positions that keep the window
    inside the grid. Each visible cell receives one sample fitted to the cell: ``cover`` scales
    it to cover the cell and crops the centre, ``contain`` scales it to fit inside and pads with
    ``fill`` / ``fill_mask``. This sample fills the most visible cell; the others are drawn from
    the metadata without repetition, and when there are too few this sample is repeated.

    Per target: image: the mosaic. mask: the masks of the samples, tiled the same way (``fill_mask``
    where a sample has no mask). masks: every sample's instance masks, each on an empty canvas
    with its object in its cell (masks paired with boxes stay paired). Other images, frames and
    masks of this call: this sample's content in its own cell, ``fill`` / ``fill_mask`` elsewhere. bboxes: every sample's boxes,
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

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    family = "mixing"
    example_args = {"target_size": (64, 80), "cell_shape": (48, 56), "grid_yx": (2, 2)}

    grid_yx: tuple[int, int]
    target_size: tuple[int, int]
    cell_shape: tuple[int, int]
    center_range: tuple[float, float]
    fit_mode: str
    metadata_key: str

    class InitSchema(ResizeSchema, FillSchema):
        # Albumentations' positional order: the shared fields interleave with the own ones.
        argument_order = (
            "grid_yx",
            "target_size",
            "cell_shape",
            "center_range",
            "fit_mode",
            "interpolation",
            "mask_interpolation",
            "fill",
            "fill_mask",
            "metadata_key",
        )

        grid_yx: Annotated[CountRange, Bounded("repeat")] = (2, 2)
        target_size: Annotated[CountRange, Bounded("hw")] = (512, 512)
        cell_shape: Annotated[CountRange, Bounded("hw")] = (512, 512)
        center_range: FloatRange = (0.3, 0.7)
        fit_mode: Literal["cover", "contain"] = "cover"
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

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        x0, y0 = (int(v) for v in params["window"])
        sources = [int(s) for s in params["sources"]]
        raw_items = metadata_items(sample, self.metadata_key)
        loaded: dict[int, Item] = {}
        resampling = Resampling(
            self.interpolation, self.mask_interpolation, self._border, self.fill, self.fill_mask
        )
        pieces = []
        for (r, c, rect), source in zip(self._cells(x0, y0), sources):
            item: Item | None = None
            if source >= 0:
                if source not in loaded:
                    loaded[source] = load_item(raw_items[source], sample, self.metadata_key, source)
                item = loaded[source]
            shape = sample.shape if item is None else item.shape
            geometry = self._fit(shape, r, c, x0, y0, rect)
            pieces.append(Piece(item, geometry, offset=(rect[0], rect[1]), resampling=resampling))
        return Paste(
            self.target_size, tuple(pieces), keep_base=False, fill=self.fill, fill_mask=self.fill_mask
        )

    @property
    def _border(self) -> int:
        # "cover" fills its cell with the image: replicate its edge so that interpolation at the
        # cell border does not blend in the padding value. "contain" pads with fill.
        return 1 if self.fit_mode == "cover" else 0
