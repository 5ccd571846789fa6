"""Colour reduction and channel transforms: grayscale, gray to RGB, channel dropout and shuffle."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, Field, model_validator

from invariance.core.budget import Bounded
from invariance.core.errors import InputError
from invariance.core.sample import Sample
from invariance.core.schema import IntRange, Probability, TransformSchema
from invariance.core.transform import PixelTransform
from invariance.kernels import color as kc
from invariance.transforms.pixel._checks import channels_of

GrayMethod = Literal["weighted_average", "from_lab", "desaturation", "average", "max", "pca"]


class ToGray(PixelTransform):
    """Convert to grayscale, keeping ``num_output_channels`` identical channels.

    Methods: ``weighted_average`` (ITU-R 601 luma: 0.299 R + 0.587 G + 0.114 B), ``from_lab``
    (L of CIE Lab), ``desaturation`` ((max + min) / 2), ``average``, ``max``, and ``pca`` (the
    first principal component of the pixels, rescaled to the full range). ``weighted_average`` and
    ``from_lab`` need RGB input; the others accept any number of channels. A single-channel image
    is already gray and is returned unchanged (as Albumentations does).

    Args:
        num_output_channels: channels of the output (>= 1); 1 gives an ``(H, W)`` image. Default: 3.
        method: one of the methods above. Default: ``weighted_average``.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    supported_channels = "rgb"

    num_output_channels: int
    method: str

    class InitSchema(TransformSchema):
        num_output_channels: Annotated[int, Bounded("channels")] = Field(default=3, ge=1)
        method: GrayMethod = "weighted_average"
        p: Probability = 0.5

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        if channels_of(img) == 1:
            return img.copy()
        if self.method in ("weighted_average", "from_lab") and img.ndim == 3 and img.shape[2] not in (1, 3):
            raise InputError(
                f"ToGray(method={self.method!r}) needs an RGB (3-channel) or single-channel image, got "
                f"{img.shape[2]} channels; use method='average', 'max', 'desaturation' or 'pca' instead"
            )
        return kc.to_gray(img, self.method, self.num_output_channels)


class ToRGB(PixelTransform):
    """Turn a single-channel image into ``num_output_channels`` identical channels.

    A 3-channel image is returned unchanged (it already is RGB); other channel counts raise
    :class:`~invariance.InputError`.

    Args:
        num_output_channels: channels of the output (>= 1). Default: 3.
        p: probability of applying the transform. Default: 1.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    supported_channels = "rgb"

    num_output_channels: int

    class InitSchema(TransformSchema):
        num_output_channels: Annotated[int, Bounded("channels")] = Field(default=3, ge=1)
        p: Probability = 1.0

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        channels = channels_of(img)
        if channels == 3:
            return img.copy()
        if channels != 1:
            raise InputError(f"ToRGB needs a single-channel image, got {channels} channels")
        return kc.gray_to_rgb(img, self.num_output_channels)


class ChannelDropout(PixelTransform):
    """Set a random subset of channels to ``fill``.

    Between ``channel_drop_range[0]`` and ``channel_drop_range[1]`` channels are dropped, never all
    of them; a single-channel image is returned unchanged (there is nothing it could keep).

    Args:
        channel_drop_range: range of how many channels to drop (>= 1). Default: (1, 1).
        fill: value for the dropped channels (pixel units of the image's dtype; saturated to
            [0, 255] on uint8 images). Default: 0.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    channel_drop_range: tuple[int, int]
    fill: float

    class InitSchema(TransformSchema):
        channel_drop_range: IntRange = (1, 1)
        fill: float = 0
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> ChannelDropout.InitSchema:
            if self.channel_drop_range[0] < 1:
                raise ValueError(f"channel_drop_range must start at 1 or more, got {self.channel_drop_range}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        channels = sample.num_channels
        if channels == 1:
            return {"channels": []}
        if self.channel_drop_range[1] >= channels:
            raise InputError(
                f"ChannelDropout: channel_drop_range {self.channel_drop_range} would drop every one of "
                f"the image's {channels} channels"
            )
        count = int(rng.integers(self.channel_drop_range[0], self.channel_drop_range[1] + 1))
        return {"channels": sorted(rng.choice(channels, size=count, replace=False).tolist())}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        if img.ndim == 2 or not params["channels"]:
            return img.copy()
        fill = self.fill
        if img.dtype == np.uint8:  # saturate, as every other uint8 fill does (no overflow error)
            fill = min(max(fill, 0.0), 255.0)
        return kc.drop_channels(img, params["channels"], fill)


def _permutation(value: Any) -> Any:
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, tuple) and sorted(value) != list(range(len(value))):
        raise ValueError(f"channel_order must be a permutation of 0..{len(value) - 1}, got {value}")
    return value


#: A fixed permutation of channel indices.
ChannelOrder = Annotated[tuple[int, ...], BeforeValidator(_permutation)]


class ChannelShuffle(PixelTransform):
    """Permute the channels: at random (any number of channels), or in a fixed ``channel_order``.

    With ``channel_order`` None every ordering is equally likely on each call. With a fixed order
    (the AlbumentationsX argument), output channel ``i`` is input channel ``channel_order[i]``;
    the order needs one entry per channel of the image (a single-channel image has nothing to
    reorder and is returned unchanged).

    Args:
        channel_order: a permutation of ``0 .. C-1``, or None for a random one. Default: None.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    channel_order: tuple[int, ...] | None

    class InitSchema(TransformSchema):
        channel_order: ChannelOrder | None = None
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        if self.channel_order is not None:
            return {"order": list(self.channel_order)}
        return {"order": rng.permutation(sample.num_channels).tolist()}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        order = params["order"]
        channels = channels_of(img)
        if self.channel_order is not None and channels != len(order):
            if channels == 1:
                return img.copy()
            raise InputError(
                f"{type(self).__name__}: channel_order {tuple(order)} has {len(order)} entries: it "
                f"needs an image with that many channels (RGB (3 channels) for (2, 1, 0)) or 1 channel, "
                f"got {channels} channels"
            )
        return kc.shuffle_channels(img, order)


class ChannelSwap(ChannelShuffle):
    """Reorder the channels in a fixed order: output channel ``i`` is input channel
    ``channel_order[i]`` (``(2, 1, 0)`` turns RGB into BGR). ChannelShuffle with a fixed order.

    The order must have one entry per channel of the image; a single-channel image has nothing to
    reorder and is returned unchanged.

    Args:
        channel_order: a permutation of ``0 .. C-1``. Default: (2, 1, 0).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    # The default order is for 3 channels; an image of another channel count needs an order of
    # its own length (checked per image, with an InputError naming both counts).
    supported_channels = "rgb"

    channel_order: tuple[int, ...]

    class InitSchema(TransformSchema):
        channel_order: ChannelOrder = (2, 1, 0)
        p: Probability = 0.5
