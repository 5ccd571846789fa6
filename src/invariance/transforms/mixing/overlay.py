"""OverlayElements: paste elements (stickers, logos, cut-out objects) given with the call."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np

from invariance.core.compat import DualTransform, Native
from invariance.core.effects import Effects, Item, Paste, Piece
from invariance.core.errors import InputError
from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema
from invariance.transforms.mixing.items import _conform_image, fit, metadata_items


def _pixel_rect(metadata: Mapping[str, Any], where: str, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The element's rectangle ``x0, y0, x1, y1`` in pixels, from its normalized ``bbox``."""
    bbox = metadata["bbox"]
    try:
        x0n, y0n, x1n, y1n = (float(v) for v in list(bbox)[:4])
    except (TypeError, ValueError):
        raise InputError(
            f"{where}['bbox']: expected x_min, y_min, x_max, y_max (normalized), got {bbox!r}"
        ) from None
    if not (0 <= x0n < x1n <= 1 and 0 <= y0n < y1n <= 1):
        raise InputError(
            f"{where}['bbox'] = {list(bbox)[:4]}: expected normalized x_min < x_max and y_min < y_max, "
            "all in [0, 1]"
        )
    h, w = shape
    x0, y0, x1, y1 = int(x0n * w), int(y0n * h), int(x1n * w), int(y1n * h)
    if x1 <= x0 or y1 <= y0:
        raise InputError(f"{where}['bbox'] = {list(bbox)[:4]} covers less than one pixel of a {w}x{h} image")
    return x0, y0, x1, y1


def _element(metadata: Mapping[str, Any], where: str) -> np.ndarray:
    image = metadata.get("image") if isinstance(metadata, Mapping) else None
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise InputError(f"{where}: expected a dict with 'image', a non-empty (H, W) or (H, W, C) array")
    return image


def _channels_like(element: np.ndarray, sample: Sample) -> np.ndarray:
    """A single-channel element repeated over the image's channels (a gray logo on RGB)."""
    image = sample.image
    if image is None or image.ndim == 2 or (element.ndim == 3 and element.shape[2] != 1):
        return element
    plane = element.reshape(element.shape[:2])
    return np.repeat(plane[:, :, None], image.shape[2], axis=2)


def _free_size(element: np.ndarray, shape: tuple[int, int]) -> tuple[int, int]:
    """An element without ``bbox`` keeps its size, or takes the image's when it is larger."""
    eh, ew = element.shape[:2]
    if eh > shape[0] or ew > shape[1]:
        return shape
    return eh, ew


def _resized(array: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    h, w = size
    if array.shape[:2] == (h, w):
        return array
    return np.asarray(cv2.resize(array, (w, h), interpolation=interpolation)).reshape(
        (h, w, *array.shape[2:])
    )


def _shown(metadata: Mapping[str, Any], size: tuple[int, int], where: str) -> np.ndarray:
    """Where the element shows (non-zero ``mask``, resized with nearest neighbour; all by default)."""
    mask = metadata.get("mask")
    if mask is None:
        return np.ones(size, dtype=bool)
    mask = np.asarray(mask)
    if mask.ndim not in (2, 3) or mask.size == 0:
        raise InputError(f"{where}['mask']: expected a non-empty (H, W) array, got shape {mask.shape}")
    region = _resized(mask.astype(np.uint8) if mask.dtype == bool else mask, size, cv2.INTER_NEAREST) != 0
    return region.any(axis=2) if region.ndim == 3 else region


class OverlayElements(Native, DualTransform):
    """Paste elements given with the call (stickers, logos, cut-out objects) onto the image.

    The call passes them under ``metadata_key`` (default ``overlay_metadata``): one dict or a list
    of dicts, each with

    * ``image``: the element, with as many channels as the image (or one, repeated);
    * ``bbox`` (optional): where it goes, normalized ``x_min, y_min, x_max, y_max``; the element
      is resized to that rectangle (area interpolation). Without it the element keeps its size
      (shrunk to the image's when larger) at a uniformly random position;
    * ``mask`` (optional): which of its pixels show (non-zero), resized with it; default: all;
    * ``mask_id`` (optional): the label written into the mask where the element shows. Without
      it the mask is unchanged.

    An element is opaque: it replaces the pixels it covers. Boxes and keypoints do not move; a
    box hidden by elements is judged by its visible share, as under other mixing (BboxParams'
    ``min_visibility``, ``min_area``).

    Args:
        metadata_key: data key of the elements. Default: ``overlay_metadata``.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, volume, mask3d
    Dtypes: uint8, float32.
    """

    family = "mixing"
    supported_targets = ("image", "mask")
    example_data = {"overlay_metadata": [{"image": np.full((8, 10), 255, np.uint8), "mask_id": 1}]}

    metadata_key: str

    class InitSchema(TransformSchema):
        metadata_key: str = "overlay_metadata"
        p: Probability = 0.5

    @property
    def targets_as_params(self) -> list[str]:
        """The data key this transform reads (Albumentations name)."""
        return [self.metadata_key]

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        placements = []
        for i, metadata in enumerate(metadata_items(sample, self.metadata_key)):
            where = f"{self.metadata_key}[{i}]"
            element = _element(metadata, where)
            if "bbox" in metadata:
                placements.append(list(_pixel_rect(metadata, where, sample.shape)))
                continue
            h, w = _free_size(element, sample.shape)
            x0 = int(rng.integers(0, sample.shape[1] - w + 1))
            y0 = int(rng.integers(0, sample.shape[0] - h + 1))
            placements.append([x0, y0, x0 + w, y0 + h])
        return {"placements": placements}

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        entries = metadata_items(sample, self.metadata_key)
        current = sample.mask
        pieces = []
        for i, (metadata, rect) in enumerate(zip(entries, params["placements"])):
            where = f"{self.metadata_key}[{i}]"
            x0, y0, x1, y1 = (int(v) for v in rect)
            size = (y1 - y0, x1 - x0)
            element = _resized(_conform_image(_channels_like(_element(metadata, where), sample), where, sample),
                               size, cv2.INTER_AREA)  # fmt: skip
            mask = None
            if current is not None:
                mask_id = metadata.get("mask_id")
                if mask_id is None:  # the mask is left as it is
                    mask = current[y0:y1, x0:x1].copy()
                else:
                    mask = np.full(current[y0:y1, x0:x1].shape, mask_id, dtype=current.dtype)
            piece = Piece(
                Item(element, mask), fit(size, size), offset=(x0, y0), region=_shown(metadata, size, where)
            )
            pieces.append(piece)
        return Paste(sample.shape, tuple(pieces)) if pieces else None

    @staticmethod
    def preprocess_metadata(
        metadata: dict[str, Any], img_shape: Sequence[int], random_state: random.Random
    ) -> dict[str, Any]:
        """One element resolved for an image of ``img_shape``, in Albumentations' layout.

        Returns ``overlay_image`` and ``overlay_mask`` (at the placed size), ``offset`` as
        ``(y, x)``, ``bbox`` in pixels (with ``bbox_id``, or the extra values of the given
        ``bbox``, appended) and ``mask_id`` when given. Without ``bbox`` the position is drawn
        from ``random_state``.
        """
        shape = (int(img_shape[0]), int(img_shape[1]))
        element = _element(metadata, "metadata")
        bbox: list[Any]
        if "bbox" in metadata:
            x0, y0, x1, y1 = _pixel_rect(metadata, "metadata", shape)
            size = (y1 - y0, x1 - x0)
            element = _resized(element, size, cv2.INTER_AREA)
            overlay_mask = _resized(np.asarray(metadata["mask"]), size, cv2.INTER_NEAREST) if "mask" in metadata \
                else np.ones(size, dtype=np.uint8)  # fmt: skip
            given = list(metadata["bbox"])
            extra = [metadata["bbox_id"]] if len(given) == 4 and "bbox_id" in metadata else given[4:]
            bbox = [x0, y0, x1, y1, *extra]
        else:
            size = _free_size(element, shape)
            element = _resized(element, size, cv2.INTER_AREA)
            overlay_mask = (
                np.asarray(metadata["mask"]) if "mask" in metadata else np.ones_like(element, dtype=np.uint8)
            )
            x0 = random_state.randint(0, shape[1] - size[1])
            y0 = random_state.randint(0, shape[0] - size[0])
            bbox = [x0, y0, x0 + size[1], y0 + size[0]]
            if "bbox_id" in metadata:
                bbox.append(metadata["bbox_id"])
        result: dict[str, Any] = {
            "overlay_image": element,
            "overlay_mask": overlay_mask,
            "offset": (y0, x0),
            "bbox": bbox,
        }
        if "mask_id" in metadata:
            result["mask_id"] = metadata["mask_id"]
        return result


__all__ = ["OverlayElements"]
