"""Crops: a window of the image, padded where it leaves the image if asked to."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from invariance.core.budget import Bounded
from invariance.core.errors import InputError
from invariance.core.geometry import Chain, CropWindow, Geometry, Resampling, Scale
from invariance.core.randomness import integer, uniform
from invariance.core.sample import Sample
from invariance.core.schema import (
    BorderArgs,
    BorderSchema,
    DownscaleArgs,
    DownscaleSchema,
    FloatRange,
    IntRange,
    Probability,
    TransformSchema,
)
from invariance.core.transform import SpatialTransform
from invariance.transforms.geometric.resize import area_resampling

PadPosition = Literal["center", "top_left", "top_right", "bottom_left", "bottom_right", "random"]


def split_padding(total: int, position: str, leading_side: bool, rng: np.random.Generator | None) -> int:
    """How much of ``total`` padding goes before the image (top or left) for a pad position."""
    if total <= 0:
        return 0
    if position == "center":
        return total // 2
    if position == "random":
        assert rng is not None
        return integer(rng, 0, total + 1)
    # "top_left" puts the image at the top-left, so all padding goes after it.
    image_first = position.startswith("top") if leading_side else position.endswith("left")
    return 0 if image_first else total


class _CropSchema(BorderSchema):
    pad_if_needed: bool = False
    pad_position: PadPosition = "center"
    p: Probability = 1.0


class _PaddedCrop(SpatialTransform, BorderArgs):
    """Shared logic: a crop of ``height x width``, with padding when the image is smaller."""

    height: int
    width: int
    pad_if_needed: bool
    pad_position: str

    def _padding(self, sample: Sample, rng: np.random.Generator | None) -> tuple[int, int, int, int]:
        """Padding (top, left, padded_h, padded_w) that makes the image at least the crop size."""
        h, w = sample.shape
        if self.height <= h and self.width <= w:
            return 0, 0, h, w
        if not self.pad_if_needed:
            raise InputError(
                f"{type(self).__name__}: crop size (height={self.height}, width={self.width}) is larger than "
                f"the image (height={h}, width={w}); pass pad_if_needed=True to pad the image first"
            )
        pad_h, pad_w = max(self.height - h, 0), max(self.width - w, 0)
        top = split_padding(pad_h, self.pad_position, True, rng)
        left = split_padding(pad_w, self.pad_position, False, rng)
        return top, left, h + pad_h, w + pad_w

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        return CropWindow(int(params["x_min"]), int(params["y_min"]), sample.shape, (self.height, self.width))


class RandomCrop(_PaddedCrop):
    """Cut a random ``height x width`` window.

    Per target: image, mask: the window (padded with ``fill`` / ``fill_mask`` where it leaves the image
    when ``pad_if_needed``). bboxes: shifted, clipped to the window and filtered by BboxParams;
    labels follow. keypoints: shifted; those outside the window are dropped if ``remove_invisible``.

    Args:
        height, width: crop size in pixels (>= 1).
        pad_if_needed: pad a smaller image up to the crop size instead of raising.
        pad_position: where the image sits in the padded canvas: center, a corner, or random.
        border_mode, fill, fill_mask: how padding is made.
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    example_args = {"height": 64, "width": 48}

    class InitSchema(_CropSchema):
        height: Annotated[int, Bounded("height")] = Field(ge=1)
        width: Annotated[int, Bounded("width")] = Field(ge=1)

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        top, left, ph, pw = self._padding(sample, rng)
        y = integer(rng, 0, ph - self.height + 1)
        x = integer(rng, 0, pw - self.width + 1)
        return {"x_min": x - left, "y_min": y - top}


class CenterCrop(_PaddedCrop):
    """Cut the central ``height x width`` window.

    Per target: image, mask: the window (padded when ``pad_if_needed``). bboxes: shifted, clipped and
    filtered; labels follow. keypoints: shifted; those outside are dropped if ``remove_invisible``.

    Args:
        height, width: crop size in pixels (>= 1).
        pad_if_needed, pad_position, border_mode, fill, fill_mask: padding of smaller images.
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    example_args = {"height": 64, "width": 48}

    class InitSchema(_CropSchema):
        height: Annotated[int, Bounded("height")] = Field(ge=1)
        width: Annotated[int, Bounded("width")] = Field(ge=1)

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        top, left, ph, pw = self._padding(sample, rng)
        return {"x_min": (pw - self.width) // 2 - left, "y_min": (ph - self.height) // 2 - top}


class Crop(_PaddedCrop):
    """Cut the fixed window ``[x_min, x_max) x [y_min, y_max)``.

    Per target: image, mask: the window (padded when ``pad_if_needed`` and the window leaves the image).
    bboxes: shifted, clipped and filtered; labels follow. keypoints: shifted and filtered.

    Args:
        x_min, y_min, x_max, y_max: the window in pixels; ``x_max > x_min`` and ``y_max > y_min``.
        pad_if_needed, pad_position, border_mode, fill, fill_mask: padding when the window is larger
            than the image.
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    example_args = {"x_min": 10, "y_min": 5, "x_max": 70, "y_max": 60}

    x_min: int
    y_min: int
    x_max: int
    y_max: int

    class InitSchema(_CropSchema):
        x_min: int = Field(default=0, ge=0)
        y_min: int = Field(default=0, ge=0)
        x_max: Annotated[int, Bounded("width")] = Field(default=1024, gt=0)
        y_max: Annotated[int, Bounded("height")] = Field(default=1024, gt=0)

        @model_validator(mode="after")
        def _ordered(self) -> Crop.InitSchema:
            if self.x_max <= self.x_min:
                raise ValueError(f"x_max ({self.x_max}) must be greater than x_min ({self.x_min})")
            if self.y_max <= self.y_min:
                raise ValueError(f"y_max ({self.y_max}) must be greater than y_min ({self.y_min})")
            return self

    @property
    def height(self) -> int:  # type: ignore[override]
        return self.y_max - self.y_min

    @property
    def width(self) -> int:  # type: ignore[override]
        return self.x_max - self.x_min

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        if (self.x_max > w or self.y_max > h) and not self.pad_if_needed:
            raise InputError(
                f"Crop: the window x=[{self.x_min}, {self.x_max}) y=[{self.y_min}, {self.y_max}) leaves the "
                f"image (height={h}, width={w}); pass pad_if_needed=True to pad instead"
            )
        return {"x_min": self.x_min, "y_min": self.y_min}


class RandomResizedCrop(SpatialTransform, DownscaleArgs):
    """Cut a random window of random area and aspect ratio, then resize it to ``size``.

    The window's area is a fraction in ``scale`` of the image area and its aspect ratio (w / h) is
    drawn log-uniformly from ``ratio``; after 10 failed tries the largest central window with an
    admissible ratio is used (the torchvision algorithm).

    Per target: image, mask: cropped and resized (``interpolation`` / ``mask_interpolation``).
    bboxes: shifted, scaled, clipped and filtered; labels follow. keypoints: shifted and scaled,
    their ``scale`` multiplied by the resize factor; those outside are dropped.

    Args:
        size: output ``(height, width)``.
        scale: range of the window area as a fraction of the image area. Default: (0.08, 1.0).
        ratio: range of the window aspect ratio w / h. Default: (3/4, 4/3).
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        area_for_downscale: use INTER_AREA when shrinking: for the image (``"image"``) or for both
            image and masks (``"image_mask"``).
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"size": (64, 80), "scale": (0.3, 1.0)}

    size: tuple[int, int]
    scale: tuple[float, float]
    ratio: tuple[float, float]

    class InitSchema(DownscaleSchema):
        size: Annotated[tuple[int, int], Bounded("hw")]
        scale: FloatRange = (0.08, 1.0)
        ratio: FloatRange = (0.75, 1.3333333333333333)
        p: Probability = 1.0

        @model_validator(mode="before")
        @classmethod
        def _square_size(cls, data: Any) -> Any:
            if (
                isinstance(data, dict)
                and isinstance(data.get("size"), int)
                and not isinstance(data["size"], bool)
            ):
                data = {**data, "size": (data["size"], data["size"])}
            return data

        @model_validator(mode="after")
        def _check(self) -> RandomResizedCrop.InitSchema:
            if min(self.size) < 1:
                raise ValueError(f"size must be positive (height, width), got {self.size}")
            if not 0 < self.scale[0] <= self.scale[1] <= 1:
                raise ValueError(f"scale must satisfy 0 < low <= high <= 1, got {self.scale}")
            if not 0 < self.ratio[0] <= self.ratio[1]:
                raise ValueError(f"ratio must satisfy 0 < low <= high, got {self.ratio}")
            return self

    @classmethod
    def legacy(cls, given: dict[str, Any]) -> dict[str, Any]:
        if "size" not in given and ("height" in given or "width" in given):
            import warnings

            height, width = given.pop("height", None), given.pop("width", None)
            if height is not None and width is not None:
                warnings.warn(
                    "RandomResizedCrop: 'height' and 'width' are deprecated; use size=(height, width)",
                    DeprecationWarning,
                    stacklevel=5,
                )
                given["size"] = (height, width)
        return given

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        area = h * w
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target_area = area * uniform(rng, *self.scale)
            aspect = math.exp(uniform(rng, *log_ratio))
            cw = round(math.sqrt(target_area * aspect))
            ch = round(math.sqrt(target_area / aspect))
            if 0 < cw <= w and 0 < ch <= h:
                y = integer(rng, 0, h - ch + 1)
                x = integer(rng, 0, w - cw + 1)
                return {"crop": (x, y, cw, ch)}
        in_ratio = w / h
        if in_ratio < self.ratio[0]:
            cw, ch = w, round(w / self.ratio[0])
        elif in_ratio > self.ratio[1]:
            ch, cw = h, round(h * self.ratio[1])
        else:
            cw, ch = w, h
        cw, ch = max(min(cw, w), 1), max(min(ch, h), 1)
        return {"crop": ((w - cw) // 2, (h - ch) // 2, cw, ch)}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        x, y, cw, ch = (int(v) for v in params["crop"])
        window = CropWindow(x, y, sample.shape, (ch, cw))
        return Chain((window, Scale((ch, cw), tuple(self.size))))  # type: ignore[arg-type]

    def resampling_for(self, geometry: Geometry, params: Mapping[str, Any]) -> Resampling:
        _, _, cw, ch = (int(v) for v in params["crop"])
        return area_resampling(self, (ch, cw), self.size)


class RandomSizedCrop(SpatialTransform, DownscaleArgs):
    """Cut a random window of random height and fixed aspect ratio, then resize it to ``size``.

    The window height is drawn from ``min_max_height`` (inclusive) and its width is
    ``int(height * w2h_ratio)``; both are limited to the image.

    Per target: image, mask: cropped and resized (``interpolation`` / ``mask_interpolation``).
    bboxes: shifted, scaled, clipped and filtered; labels follow. keypoints: shifted and scaled,
    their ``scale`` multiplied by the resize factor; those outside are dropped.

    Args:
        min_max_height: range of the window height in pixels.
        size: output ``(height, width)``.
        w2h_ratio: width / height of the window. Default: 1.
        interpolation, mask_interpolation: OpenCV flags. Defaults: linear, nearest.
        area_for_downscale: use INTER_AREA when shrinking (``"image"`` or ``"image_mask"``).
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"min_max_height": (30, 60), "size": (64, 80)}

    min_max_height: tuple[int, int]
    size: tuple[int, int]
    w2h_ratio: float

    class InitSchema(DownscaleSchema):
        min_max_height: IntRange
        size: Annotated[tuple[int, int], Bounded("hw")]
        w2h_ratio: float = Field(default=1.0, gt=0)
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> RandomSizedCrop.InitSchema:
            if self.min_max_height[0] < 1:
                raise ValueError(f"min_max_height must be >= 1, got {self.min_max_height}")
            if min(self.size) < 1:
                raise ValueError(f"size must be positive (height, width), got {self.size}")
            return self

    @classmethod
    def legacy(cls, given: dict[str, Any]) -> dict[str, Any]:
        if "size" not in given and "height" in given and "width" in given:
            import warnings

            warnings.warn(
                "RandomSizedCrop: 'height' and 'width' are deprecated; use size=(height, width)",
                DeprecationWarning,
                stacklevel=5,
            )
            given["size"] = (given.pop("height"), given.pop("width"))
        return given

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        ch = min(integer(rng, self.min_max_height[0], self.min_max_height[1] + 1), h)
        cw = min(max(int(ch * self.w2h_ratio), 1), w)
        y = integer(rng, 0, h - ch + 1)
        x = integer(rng, 0, w - cw + 1)
        return {"crop": (x, y, cw, ch)}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        return crop_and_resize(params["crop"], sample.shape, tuple(self.size))  # type: ignore[arg-type]

    def resampling_for(self, geometry: Geometry, params: Mapping[str, Any]) -> Resampling:
        _, _, cw, ch = (int(v) for v in params["crop"])
        return area_resampling(self, (ch, cw), self.size)


def crop_and_resize(crop: Any, shape: tuple[int, int], size: tuple[int, int]) -> Geometry:
    """The window ``(x, y, width, height)`` of an image of ``shape``, resized to ``size`` if it differs."""
    x, y, cw, ch = (int(v) for v in crop)
    window = CropWindow(x, y, shape, (ch, cw))
    if (ch, cw) == tuple(size):
        return window
    return Chain((window, Scale((ch, cw), (int(size[0]), int(size[1])))))


class RandomCropFromBorders(SpatialTransform):
    """Crop a random amount from each side, up to a fraction of the size.

    The left edge moves in by up to ``crop_left * W`` pixels, the right edge by up to
    ``crop_right * W``, and so on; at least one pixel always remains.

    Per target: image, mask: the window. bboxes: shifted, clipped and filtered; labels follow.
    keypoints: shifted; those outside are dropped if ``remove_invisible``.

    Args:
        crop_left, crop_right, crop_top, crop_bottom: largest fraction cut from each side, in
            [0, 1]. Default: 0.1 each.
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    example_args = {"crop_left": 0.2, "crop_right": 0.2, "crop_top": 0.3, "crop_bottom": 0.1}

    crop_left: float
    crop_right: float
    crop_top: float
    crop_bottom: float

    class InitSchema(TransformSchema):
        crop_left: float = Field(default=0.1, ge=0.0, le=1.0)
        crop_right: float = Field(default=0.1, ge=0.0, le=1.0)
        crop_top: float = Field(default=0.1, ge=0.0, le=1.0)
        crop_bottom: float = Field(default=0.1, ge=0.0, le=1.0)
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> RandomCropFromBorders.InitSchema:
            if self.crop_left + self.crop_right > 1.0:
                raise ValueError("crop_left + crop_right must be <= 1")
            if self.crop_top + self.crop_bottom > 1.0:
                raise ValueError("crop_top + crop_bottom must be <= 1")
            return self

    @staticmethod
    def _edges(rng: np.random.Generator, size: int, before: float, after: float) -> tuple[int, int]:
        start = integer(rng, 0, int(before * size) + 1)
        start = min(start, size - 1)
        low_end = max(start + 1, size - int(after * size))
        end = integer(rng, low_end, size + 1)
        return start, end

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        x0, x1 = self._edges(rng, w, self.crop_left, self.crop_right)
        y0, y1 = self._edges(rng, h, self.crop_top, self.crop_bottom)
        return {"crop": (x0, y0, x1 - x0, y1 - y0)}

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        x, y, cw, ch = (int(v) for v in params["crop"])
        return CropWindow(x, y, sample.shape, (ch, cw))
