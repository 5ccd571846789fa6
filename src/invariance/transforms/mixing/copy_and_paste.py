"""CopyAndPaste: paste a list of donor objects at random places, shrunk to fit, on the Paste engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import cv2
import numpy as np
from pydantic import model_validator

from invariance.core.budget import Bounded
from invariance.core.compat import DualTransform, Native
from invariance.core.effects import Paste, Piece, Pixels
from invariance.core.errors import InputError
from invariance.core.geometry import Chain, CropWindow, Geometry, Scale
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema
from invariance.kernels.mixing import masks_to_boxes
from invariance.transforms.mixing.items import load_item, metadata_items

#: A box covering a whole ``(H, W)`` image in each box format (replaced by the mask's tight box).
_WHOLE = {
    "pascal_voc": lambda h, w: [0.0, 0.0, float(w), float(h)],
    "coco": lambda h, w: [0.0, 0.0, float(w), float(h)],
    "albumentations": lambda h, w: [0.0, 0.0, 1.0, 1.0],
    "yolo": lambda h, w: [0.5, 0.5, 1.0, 1.0],
}


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple, np.ndarray)):
        return list(value)
    return [value]


def _object_region(raw: Mapping[str, Any], where: str, sample: Sample) -> np.ndarray:
    """Where the donor object is, in its own image: its mask, else its box (grown to hold its
    keypoints)."""
    image = raw.get("image")
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise InputError(f"{where}['image']: expected a non-empty numpy array (H, W) or (H, W, C)")
    h, w = image.shape[:2]
    mask = raw.get("mask")
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape[:2] != (h, w):
            raise InputError(f"{where}['mask']: expected height and width {(h, w)}, got {mask.shape[:2]}")
        region: np.ndarray = (mask.reshape(h, w, -1) != 0).any(axis=2)
        return region
    if raw.get("bbox") is None or sample.bbox_params is None:
        raise InputError(
            f"{where}: a donor object needs a 'mask' (its pixels), or a 'bbox' with BboxParams set"
        )
    item = load_item(_donor(raw, sample, whole=False), sample, where, 0)
    assert item.boxes is not None
    x0, y0, x1, y1 = item.boxes.coords[0]
    if item.points is not None and len(item.points):
        xy = item.points.coords[:, :2]
        x0, y0 = min(x0, xy[:, 0].min()), min(y0, xy[:, 1].min())
        x1, y1 = max(x1, xy[:, 0].max() + 1), max(y1, xy[:, 1].max() + 1)
    region = np.zeros((h, w), dtype=bool)
    region[max(int(np.floor(y0)), 0) : int(np.ceil(y1)), max(int(np.floor(x0)), 0) : int(np.ceil(x1))] = True
    return region


def _donor(raw: Mapping[str, Any], sample: Sample, whole: bool) -> dict[str, Any]:
    """The object as an extra sample for :func:`load_item`: its box and labels as one row."""
    image = _channels_like(np.asarray(raw["image"]), sample)
    out: dict[str, Any] = {"image": image, "keypoints": raw.get("keypoints", [])}
    params = sample.bbox_params
    if params is not None:
        box = raw.get("bbox")
        if box is None:
            box = _WHOLE[params.format](*image.shape[:2]) if whole else None
        out["bboxes"] = [] if box is None else [list(box)]
        for name in params.label_fields:
            if name not in raw:
                raise InputError(f"donor object: label field {name!r} is missing (one label per object)")
            out[name] = _as_list(raw[name])[:1]
    if sample.keypoint_params is not None:
        for name in sample.keypoint_params.label_fields:
            out[name] = raw.get(name, [])
    return out


def _example_object() -> dict[str, Any]:
    """A donor for the docs and the contract tests: a gray disc with its mask and label."""
    mask = np.zeros((24, 30), np.uint8)
    cv2.circle(mask, (15, 12), 9, 1, -1)
    return {"image": np.where(mask > 0, 200, 40).astype(np.uint8), "mask": mask, "labels": 1}


def _channels_like(image: np.ndarray, sample: Sample) -> np.ndarray:
    """A one-channel donor repeated over the primary image's channels (a gray object on a
    colour image); other images are left for :func:`load_item` to check."""
    primary = sample.image
    if primary is None or primary.ndim == 2:
        return image
    if image.ndim == 2 or image.shape[2] == 1:
        return np.repeat(image.reshape(*image.shape[:2], 1), primary.shape[2], axis=2)
    return image


class CopyAndPaste(Native, DualTransform):
    """Paste donor objects onto this image, each shrunk to fit and placed at random
    (instance-segmentation training, as in *Simple Copy-Paste*, Ghiasi et al.).

    The caller chooses the donors: ``metadata_key`` holds a list of dicts, one per object, each
    with its ``image`` and a ``mask`` (the object's pixels) or a ``bbox`` (in the pipeline's box
    format, with BboxParams), its label fields (one label each) and optionally ``keypoints``
    with their labels. Every object is pasted, in order: it is cut to its mask's tight box (or
    its box, grown to hold its keypoints), shrunk to fit this image with its aspect kept (never
    enlarged to fit), scaled by a factor drawn from ``scale_range`` (still within the image),
    and stamped at a uniformly random place. An object smaller than ``min_paste_area`` pixels
    once placed is skipped. Built on the same paste engine as :class:`CopyPaste`.

    Per target: image: objects replace the pixels under them; with ``blend_mode="gaussian"`` an
    object's edge fades into the image (a Gaussian-blurred copy of its mask, sigma from
    ``blend_sigma_range``, as opacity inside the mask; every frame and volume slice alike).
    mask: the donor ``mask``'s values are written under the object. masks: this sample's
    instance masks lose the covered pixels and each object's mask is appended. bboxes: each
    object adds its box (the mask's tight box, placed) with its labels; existing instances
    left with less than ``min_visibility_after_paste`` of their pixels visible (or below
    BboxParams ``min_visibility``) are dropped, boxes paired with instance masks are re-boxed
    from what remains. keypoints: those under an object are removed (``remove_invisible``); an
    object's own keypoints come with it.

    Args:
        min_visibility_after_paste: fraction of an existing instance that must stay visible for
            it to be kept, in [0, 1]. Default: 0.05.
        blend_mode: ``"hard"`` (opaque objects) or ``"gaussian"`` (feathered edges).
            Default: ``"hard"``.
        blend_sigma_range: ``(min, max)`` Gaussian sigma in pixels of the feathering (> 0).
            Default: (1.0, 3.0).
        scale_range: ``(min, max)`` factor applied after the fit (> 0). Default: (1.0, 1.0).
        min_paste_area: smallest pasted object, in pixels (>= 1). Default: 1.
        metadata_key: data key of the list of donor objects. Default: ``"copy_paste_metadata"``.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    family = "mixing"
    example_args = {"blend_mode": "gaussian", "scale_range": (0.5, 1.0)}
    example_data = {"copy_paste_metadata": [_example_object()]}

    min_visibility_after_paste: float
    blend_mode: str
    blend_sigma_range: tuple[float, float]
    scale_range: tuple[float, float]
    min_paste_area: int
    metadata_key: str

    class InitSchema(TransformSchema):
        argument_order = (
            "min_visibility_after_paste",
            "blend_mode",
            "blend_sigma_range",
            "scale_range",
            "min_paste_area",
            "metadata_key",
        )

        min_visibility_after_paste: float = 0.05
        blend_mode: Literal["hard", "gaussian"] = "hard"
        blend_sigma_range: Annotated[tuple[float, float], Bounded("sigma")] = (1.0, 3.0)
        scale_range: tuple[float, float] = (1.0, 1.0)
        min_paste_area: int = 1
        metadata_key: str = "copy_paste_metadata"
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> CopyAndPaste.InitSchema:
            if not 0 <= self.min_visibility_after_paste <= 1:
                raise ValueError(
                    f"min_visibility_after_paste must lie in [0, 1], got {self.min_visibility_after_paste}"
                )
            for name in ("blend_sigma_range", "scale_range"):
                low, high = getattr(self, name)
                if not 0 < low <= high:
                    raise ValueError(f"{name} must satisfy 0 < min <= max, got {(low, high)}")
            if self.min_paste_area < 1:
                raise ValueError(f"min_paste_area must be >= 1, got {self.min_paste_area}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        placed = []
        for i, raw in enumerate(metadata_items(sample, self.metadata_key)):
            region = _object_region(raw, f"{self.metadata_key}[{i}]", sample)
            if not region.any():
                continue
            x0, y0, x1, y1 = (int(v) for v in masks_to_boxes([region])[0][0])
            oh, ow = y1 - y0, x1 - x0
            fit = min(1.0, h / oh, w / ow)
            scale = min(fit * uniform(rng, *self.scale_range), h / oh, w / ow)
            size = (min(h, max(1, round(oh * scale))), min(w, max(1, round(ow * scale))))
            offset = (int(rng.integers(0, w - size[1] + 1)), int(rng.integers(0, h - size[0] + 1)))
            sigma = uniform(rng, *self.blend_sigma_range) if self.blend_mode == "gaussian" else 0.0
            placed.append(
                {
                    "index": i,
                    "box": [x0, y0, x1, y1],
                    "size": list(size),
                    "offset": list(offset),
                    "sigma": sigma,
                }
            )
        return {"objects": placed}

    def effect(self, params: dict[str, Any], sample: Sample) -> Any:
        items = metadata_items(sample, self.metadata_key)
        pieces: list[Piece] = []
        opacity: list[tuple[tuple[int, int], np.ndarray]] = []
        for entry in params["objects"]:
            index = int(entry["index"])
            raw = items[index]
            where = f"{self.metadata_key}[{index}]"
            region = _object_region(raw, where, sample)
            donor = _donor(raw, sample, whole=True)
            mask = raw.get("mask")
            donor["mask"] = (region.astype(np.uint8) if mask is None else np.asarray(mask)).reshape(
                region.shape
            )
            donor["masks"] = [region.astype(np.uint8)]
            item = load_item(donor, sample, where, 0)
            if item.boxes is not None and raw.get("bbox") is None:
                tight, _ = masks_to_boxes([region])
                item = type(item)(
                    item.image, item.mask, item.masks, item.boxes.with_coords(tight), item.points
                )
            x0, y0, x1, y1 = (int(v) for v in entry["box"])
            size = (int(entry["size"][0]), int(entry["size"][1]))
            window = CropWindow(x0, y0, region.shape, (y1 - y0, x1 - x0))
            geometry: Geometry = (
                window if size == window.out_shape else Chain((window, Scale(window.out_shape, size)))
            )
            shown = geometry.warp(region.view(np.uint8), cv2.INTER_NEAREST, cv2.BORDER_CONSTANT, 0) != 0
            if int(shown.sum()) < self.min_paste_area:
                continue
            offset = (int(entry["offset"][0]), int(entry["offset"][1]))
            pieces.append(Piece(item, geometry, offset, region=shown))
            sigma = float(entry["sigma"])
            if sigma > 0:
                # The patch ends where the object does: blur as if zero outside it.
                blurred = cv2.GaussianBlur(
                    shown.astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_CONSTANT
                )
                soft = blurred * shown
                opacity.append((offset, soft))
        if not pieces:
            return None
        paste = Paste(
            sample.shape,
            tuple(pieces),
            reboxes_instances=True,
            min_visibility=self.min_visibility_after_paste,
        )
        if not opacity:
            return paste
        alpha = np.zeros(sample.shape, np.float32)
        for (ox, oy), soft in opacity:
            h, w = soft.shape
            alpha[oy : oy + h, ox : ox + w] = np.maximum(alpha[oy : oy + h, ox : ox + w], soft)
        # Every image, frame and volume slice is feathered against its own pixels from before the
        # paste: the first pass records them, the paste runs, the last pass blends in the same
        # order (targets are never written in place, so the records stay valid).
        before: list[np.ndarray] = []

        def record(array: np.ndarray) -> np.ndarray:
            before.append(array)
            return array

        def feather(pasted: np.ndarray) -> np.ndarray:
            original = before.pop(0)
            a = alpha.reshape(alpha.shape + (1,) * (pasted.ndim - 2))
            mixed = a * pasted.astype(np.float32) + (1 - a) * original.astype(np.float32)
            if pasted.dtype == np.uint8:
                return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
            return mixed.astype(pasted.dtype)

        return (Pixels(record), paste, Pixels(feather))


__all__ = ["CopyAndPaste"]
