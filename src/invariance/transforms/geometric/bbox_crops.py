"""Crops whose window depends on the data: the boxes, a mask, or a box the caller passes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, Field, model_validator

from invariance.core.budget import Bounded
from invariance.core.errors import InputError
from invariance.core.geometry import CropWindow, Geometry
from invariance.core.sample import Sample
from invariance.core.schema import Probability, ResampleArgs, ResizeSchema, TransformSchema
from invariance.core.transform import SpatialTransform
from invariance.transforms.geometric.crops import crop_and_resize


def eroded(boxes: np.ndarray, rate: float) -> np.ndarray:
    """Boxes shrunk about their centres by ``rate`` of their width and height (half on each side)."""
    out = np.asarray(boxes, dtype=np.float64).copy()
    dw = (out[:, 2] - out[:, 0]) * rate / 2
    dh = (out[:, 3] - out[:, 1]) * rate / 2
    out[:, 0] += dw
    out[:, 2] -= dw
    out[:, 1] += dh
    out[:, 3] -= dh
    return out


def _start_containing(rng: np.random.Generator, low: float, high: float, size: int, length: int) -> int:
    """A window start in ``[0, size - length]`` whose window ``[s, s + length)`` covers ``[low, high]``.

    When no start covers the whole interval (it is longer than the window) the window is placed
    inside the interval instead.
    """
    first = math.ceil(high - 1e-9) - length
    last = math.floor(low + 1e-9)
    a, b = sorted((first, last))
    a = min(max(a, 0), size - length)
    b = min(max(b, 0), size - length)
    return int(rng.integers(a, b + 1))


def _check_fits(owner: str, height: int, width: int, shape: tuple[int, int]) -> None:
    if height > shape[0] or width > shape[1]:
        raise InputError(
            f"{owner}: crop size (height={height}, width={width}) is larger than the image "
            f"(height={shape[0]}, width={shape[1]})"
        )


def _safe_window(rng: np.random.Generator, sample: Sample, erosion_rate: float) -> tuple[int, int, int, int]:
    """A random window ``(x, y, w, h)`` containing the union of all boxes, shrunk by ``erosion_rate``."""
    h, w = sample.shape
    boxes = sample.bboxes
    if len(boxes) == 0:
        # No boxes to keep: a random window of the image's aspect, at least (1 - erosion) of its size.
        low = max(int(h * (1.0 - erosion_rate)), 1)
        ch = h if low >= h else int(rng.integers(low, h + 1))
        cw = max(min(round(ch * w / h), w), 1)
        return int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1)), cw, ch
    union = np.concatenate([boxes[:, :2].min(axis=0), boxes[:, 2:].max(axis=0)])[None]
    x0, y0, x1, y1 = eroded(union, erosion_rate)[0]
    x0, x1 = float(np.clip(x0, 0, w)), float(np.clip(x1, 0, w))
    y0, y1 = float(np.clip(y0, 0, h)), float(np.clip(y1, 0, h))
    left = math.floor(rng.uniform(0.0, x0))
    top = math.floor(rng.uniform(0.0, y0))
    right = math.ceil(rng.uniform(x1, w))
    bottom = math.ceil(rng.uniform(y1, h))
    right = min(max(right, left + 1), w)
    bottom = min(max(bottom, top + 1), h)
    return left, top, right - left, bottom - top


class BBoxSafeRandomCrop(SpatialTransform):
    """Crop a random window that keeps every bounding box whole.

    The window lies between the image border and the union of all boxes (first shrunk about its
    centre by ``erosion_rate`` of its size, which lets the crop cut into boxes). Without boxes a random window of
    the image's aspect ratio and at least ``1 - erosion_rate`` of its size is cut.

    Per target: image, mask: the window. bboxes: shifted; all kept (with ``erosion_rate=0``).
    keypoints: shifted; those outside are dropped if ``remove_invisible``.

    Args:
        erosion_rate: fraction in [0, 1] by which boxes may be cut. Default: 0.
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    example_args = {"erosion_rate": 0.0}

    erosion_rate: float

    class InitSchema(TransformSchema):
        erosion_rate: float = Field(default=0.0, ge=0.0, le=1.0)
        p: Probability = 1.0

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"crop": _safe_window(rng, sample, self.erosion_rate)}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        x, y, cw, ch = (int(v) for v in params["crop"])
        return CropWindow(x, y, sample.shape, (ch, cw))


class RandomSizedBBoxSafeCrop(SpatialTransform, ResampleArgs):
    """Crop a random window that keeps every bounding box whole, then resize it to ``height x width``.

    The window is chosen as by :class:`BBoxSafeRandomCrop`.

    Per target: image, mask: cropped and resized (``interpolation`` / ``mask_interpolation``).
    bboxes: shifted and scaled; all kept. keypoints: shifted and scaled, ``scale`` multiplied by
    the resize factor.

    Args:
        height, width: output size in pixels (>= 1).
        erosion_rate: fraction in [0, 1] by which boxes may be cut. Default: 0.
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"height": 64, "width": 80}

    height: int
    width: int
    erosion_rate: float

    class InitSchema(ResizeSchema):
        height: Annotated[int, Bounded("height")] = Field(ge=1)
        width: Annotated[int, Bounded("width")] = Field(ge=1)
        erosion_rate: float = Field(default=0.0, ge=0.0, le=1.0)
        p: Probability = 1.0

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"crop": _safe_window(rng, sample, self.erosion_rate)}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        return crop_and_resize(params["crop"], sample.shape, (self.height, self.width))


class AtLeastOneBBoxRandomCrop(SpatialTransform):
    """Cut a random ``height x width`` window that contains at least one whole box.

    One box is chosen at random (shrunk first by ``erosion_factor``) and the window is placed at
    random among the positions that contain it; a box larger than the window is cut as little as
    possible. Without boxes the window is placed at random.

    Per target: image, mask: the window. bboxes: shifted, clipped and filtered; labels follow.
    keypoints: shifted; those outside are dropped if ``remove_invisible``.

    Args:
        height, width: crop size in pixels (>= 1), at most the image size.
        erosion_factor: fraction in [0, 1] by which the chosen box may be cut. Default: 0.
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    example_args = {"height": 48, "width": 56}

    height: int
    width: int
    erosion_factor: float

    class InitSchema(TransformSchema):
        height: Annotated[int, Bounded("height")] = Field(ge=1)
        width: Annotated[int, Bounded("width")] = Field(ge=1)
        erosion_factor: float = Field(default=0.0, ge=0.0, le=1.0)
        p: Probability = 1.0

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        _check_fits(type(self).__name__, self.height, self.width, sample.shape)
        boxes = sample.bboxes
        if len(boxes) == 0:
            x = int(rng.integers(0, w - self.width + 1))
            y = int(rng.integers(0, h - self.height + 1))
        else:
            box = eroded(boxes[int(rng.integers(0, len(boxes)))][None], self.erosion_factor)[0]
            x = _start_containing(rng, box[0], box[2], w, self.width)
            y = _start_containing(rng, box[1], box[3], h, self.height)
        return {"x_min": x, "y_min": y}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        return CropWindow(int(params["x_min"]), int(params["y_min"]), sample.shape, (self.height, self.width))


class CropNonEmptyMaskIfExists(SpatialTransform):
    """Cut a ``height x width`` window around a random non-zero mask pixel, if the mask has one.

    Mask values in ``ignore_values`` and channels in ``ignore_channels`` count as empty. With no
    non-empty pixel (or no mask) the window is placed at random.

    Per target: image, mask: the window. bboxes: shifted, clipped and filtered; labels follow.
    keypoints: shifted; those outside are dropped if ``remove_invisible``.

    Args:
        height, width: crop size in pixels (>= 1), at most the image size.
        ignore_values: mask values treated as background. Default: None.
        ignore_channels: mask channels treated as background. Default: None.
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    example_args = {"height": 40, "width": 50}
    reads_pixels = True  # the window follows the mask's content

    height: int
    width: int
    ignore_values: list[int] | None
    ignore_channels: list[int] | None

    class InitSchema(TransformSchema):
        height: Annotated[int, Bounded("height")] = Field(ge=1)
        width: Annotated[int, Bounded("width")] = Field(ge=1)
        ignore_values: list[int] | None = None
        ignore_channels: list[int] | None = None
        p: Probability = 1.0

    def _foreground(self, sample: Sample) -> np.ndarray | None:
        mask = sample.mask
        if mask is None:
            for key in sample.keys_of("masks"):
                frames = sample.array(key)
                if len(frames):
                    mask = np.stack([np.asarray(m) for m in frames], axis=-1)
                    if mask.ndim == 4:
                        mask = mask.reshape(*mask.shape[:2], -1)
                break
        if mask is None:
            return None
        values = np.asarray(mask)
        if values.ndim == 3 and self.ignore_channels:
            keep = [c for c in range(values.shape[2]) if c not in set(self.ignore_channels)]
            values = values[:, :, keep]
        foreground = values != 0
        if self.ignore_values:
            foreground &= ~np.isin(values, self.ignore_values)
        return foreground.any(axis=2) if foreground.ndim == 3 else foreground

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        _check_fits(type(self).__name__, self.height, self.width, sample.shape)
        foreground = self._foreground(sample)
        if foreground is not None and foreground.any():
            ys, xs = np.nonzero(foreground)
            i = int(rng.integers(0, len(ys)))
            x = int(xs[i]) - int(rng.integers(0, self.width))
            y = int(ys[i]) - int(rng.integers(0, self.height))
            x = min(max(x, 0), w - self.width)
            y = min(max(y, 0), h - self.height)
        else:
            x = int(rng.integers(0, w - self.width + 1))
            y = int(rng.integers(0, h - self.height + 1))
        return {"x_min": x, "y_min": y}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        return CropWindow(int(params["x_min"]), int(params["y_min"]), sample.shape, (self.height, self.width))


def _xy_pair(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (value, value)
    return value


class RandomCropNearBBox(SpatialTransform):
    """Crop around a box the caller passes (``cropping_bbox_key``), its edges jittered at random.

    Each edge of the box moves by up to ``max_part_shift`` of the box's size (x for the left and
    right edges, y for top and bottom), outwards or inwards, and the result is clipped to the image.
    The box is read from the call's data, e.g. ``pipeline(image=img, cropping_bbox=[x0, y0, x1, y1])``
    (pixel ``pascal_voc``); without it the whole image is the box.

    Per target: image, mask: the window. bboxes: shifted, clipped and filtered; labels follow.
    keypoints: shifted; those outside are dropped if ``remove_invisible``.

    Args:
        max_part_shift: ``(x, y)`` largest edge shift as a fraction of the box size, each in
            [0, 1]; a number applies to both. Default: (0, 0.3).
        cropping_bbox_key: the data key holding the box. Default: ``"cropping_bbox"``.
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    example_args = {"max_part_shift": (0.1, 0.3)}

    max_part_shift: tuple[float, float]
    cropping_bbox_key: str

    class InitSchema(TransformSchema):
        max_part_shift: Annotated[tuple[float, float], BeforeValidator(_xy_pair)] = (0.0, 0.3)
        cropping_bbox_key: str = "cropping_bbox"
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> RandomCropNearBBox.InitSchema:
            if not all(0.0 <= v <= 1.0 for v in self.max_part_shift):
                raise ValueError(f"max_part_shift values must be in [0, 1], got {self.max_part_shift}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        given = sample.data.get(self.cropping_bbox_key)
        box = [0.0, 0.0, float(w), float(h)] if given is None else [float(v) for v in list(given)[:4]]
        if len(box) != 4:
            raise InputError(
                f"RandomCropNearBBox: {self.cropping_bbox_key!r} must be [x_min, y_min, x_max, y_max], got {given!r}"
            )
        shift_x = round((box[2] - box[0]) * self.max_part_shift[0])
        shift_y = round((box[3] - box[1]) * self.max_part_shift[1])
        x0 = box[0] - int(rng.integers(-shift_x, shift_x + 1))
        x1 = box[2] + int(rng.integers(-shift_x, shift_x + 1))
        y0 = box[1] - int(rng.integers(-shift_y, shift_y + 1))
        y1 = box[3] + int(rng.integers(-shift_y, shift_y + 1))
        left = min(max(math.floor(x0), 0), w - 1)
        top = min(max(math.floor(y0), 0), h - 1)
        right = min(max(math.ceil(x1), left + 1), w)
        bottom = min(max(math.ceil(y1), top + 1), h)
        return {"crop": (left, top, right - left, bottom - top)}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        x, y, cw, ch = (int(v) for v in params["crop"])
        return CropWindow(x, y, sample.shape, (ch, cw))


def _fraction_range(value: Any) -> Any:
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, tuple) and not (0.0 <= value[0] <= value[1] <= 1.0):
        raise ValueError(f"expected 0 <= low <= high <= 1, got {value}")
    return value


def _ratio_range(value: Any) -> Any:
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, tuple) and not (0.0 < value[0] <= value[1]):
        raise ValueError(f"expected 0 < low <= high, got {value}")
    return value


class BBoxSubsetSafeRandomCrop(SpatialTransform):
    """Crop a random window that keeps a random subset of the boxes whole.

    A number of boxes between ``subset_fraction_range[0]`` and ``[1]`` of the total (at least one)
    is chosen without repetition; the union of only those boxes, shrunk about its centre by
    ``erosion_rate``, must lie inside the crop. The crop's width, height and position are integers
    drawn uniformly among those that contain it and, when ``aspect_ratio_range`` is given, whose
    width / height lies in that range (up to ten draws; if none fits, the whole image is kept).
    Boxes outside the subset may stay whole, be clipped or be dropped by BboxParams. Without boxes
    it behaves as :class:`BBoxSafeRandomCrop`. The output size varies from call to call.

    Per target: image, mask: the window. bboxes: shifted, clipped to the window, filtered by
    BboxParams; the sampled subset is kept whole. keypoints: shifted; those outside are dropped
    when ``remove_invisible``.

    Args:
        subset_fraction_range: range of the share of boxes to keep whole, in [0, 1].
            Default: (0.0, 1.0).
        erosion_rate: fraction in [0, 1] by which the kept union may be cut. Default: 0.
        aspect_ratio_range: allowed crop width / height, or None for any. Default: None.
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    subset_fraction_range: tuple[float, float]
    erosion_rate: float
    aspect_ratio_range: tuple[float, float] | None

    class InitSchema(TransformSchema):
        subset_fraction_range: Annotated[tuple[float, float], BeforeValidator(_fraction_range)] = (0.0, 1.0)
        erosion_rate: float = Field(default=0.0, ge=0.0, le=1.0)
        aspect_ratio_range: Annotated[tuple[float, float], BeforeValidator(_ratio_range)] | None = None
        p: Probability = 1.0

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        boxes = sample.bboxes
        if len(boxes) == 0:
            return {"crop": _safe_window(rng, sample, self.erosion_rate), "subset": []}
        n = len(boxes)
        low = min(max(math.ceil(self.subset_fraction_range[0] * n - 1e-9), 1), n)
        high = min(max(math.floor(self.subset_fraction_range[1] * n + 1e-9), low), n)
        count = int(rng.integers(low, high + 1))
        subset = np.sort(rng.choice(n, size=count, replace=False))
        chosen = boxes[subset]
        union = np.concatenate([chosen[:, :2].min(axis=0), chosen[:, 2:4].max(axis=0)])[None]
        return {
            "crop": self._window(rng, sample.shape, eroded(union, self.erosion_rate)[0]),
            "subset": subset.tolist(),
        }

    def _window(
        self, rng: np.random.Generator, shape: tuple[int, int], union: np.ndarray
    ) -> tuple[int, int, int, int]:
        h, w = shape
        x0 = min(max(math.floor(union[0] + 1e-9), 0), w - 1)
        y0 = min(max(math.floor(union[1] + 1e-9), 0), h - 1)
        x1 = max(min(math.ceil(union[2] - 1e-9), w), x0 + 1)
        y1 = max(min(math.ceil(union[3] - 1e-9), h), y0 + 1)
        need_w, need_h = x1 - x0, y1 - y0
        for _ in range(10):
            cw = int(rng.integers(need_w, w + 1))
            ch_low, ch_high = need_h, h
            if self.aspect_ratio_range is not None:
                ch_low = max(ch_low, math.ceil(cw / self.aspect_ratio_range[1] - 1e-9))
                ch_high = min(ch_high, math.floor(cw / self.aspect_ratio_range[0] + 1e-9))
            if ch_low > ch_high:
                continue
            ch = int(rng.integers(ch_low, ch_high + 1))
            left = int(rng.integers(max(0, x1 - cw), min(x0, w - cw) + 1))
            top = int(rng.integers(max(0, y1 - ch), min(y0, h - ch) + 1))
            return left, top, cw, ch
        return 0, 0, w, h

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        x, y, cw, ch = (int(v) for v in params["crop"])
        return CropWindow(x, y, sample.shape, (ch, cw))
