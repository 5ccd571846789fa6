"""Spectrogram-style transforms (SpecAugment): time reversal and time / frequency masking.

A spectrogram image has time along the width (x) and frequency along the height (y).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema
from invariance.transforms.geometric.flips import HorizontalFlip
from invariance.transforms.occlusion.dropout import OcclusionTransform


class TimeReverse(HorizontalFlip):
    """Reverse the time axis of a spectrogram: a horizontal flip.

    Per target: image, mask: columns reversed. bboxes: ``x_min, x_max -> W - x_max, W - x_min``.
    keypoints: ``x -> W - 1 - x``, angle ``a -> pi - a``.

    Args:
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    family = "sequence"

    class InitSchema(TransformSchema):
        p: Probability = 0.5


class _StripeMasking(OcclusionTransform):
    """Zero at most one full-height (``axis = 1``) or full-width (``axis = 0``) stripe."""

    family = "sequence"
    fill = 0.0
    fill_mask = 0.0
    axis = 1

    def max_length(self) -> int:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        extent = w if self.axis == 1 else h
        count = int(rng.integers(0, 2))  # zero or one stripe, as Albumentations draws it
        holes = []
        for _ in range(count):
            length = min(int(rng.integers(0, self.max_length() + 1)), extent)
            start = int(rng.integers(0, extent - length + 1))
            if length == 0:
                continue
            if self.axis == 1:
                holes.append([start, 0, start + length, h])
            else:
                holes.append([0, start, w, start + length])
        return {"holes": holes}


class TimeMasking(_StripeMasking):
    """SpecAugment time masking: zero one random band of columns (time steps), or none.

    With probability 1/2 a band of ``L`` consecutive columns, ``L`` uniform in
    ``[0, time_mask_param]``, is set to 0 over the full height.

    Per target: image: the band is set to 0. mask: the band is set to 0. bboxes: dropped when the
    band hides more than BboxParams ``min_visibility`` / ``min_area`` allow, else unchanged.
    keypoints: those in the band are removed when ``remove_invisible``.

    Args:
        time_mask_param: largest band width in pixels, >= 1. Default: 40.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    axis = 1
    example_args = {"time_mask_param": 30}

    time_mask_param: int

    class InitSchema(TransformSchema):
        time_mask_param: int = Field(default=40, ge=1)
        p: Probability = 0.5

    def max_length(self) -> int:
        return self.time_mask_param


class FrequencyMasking(_StripeMasking):
    """SpecAugment frequency masking: zero one random band of rows (frequencies), or none.

    With probability 1/2 a band of ``L`` consecutive rows, ``L`` uniform in
    ``[0, freq_mask_param]``, is set to 0 over the full width.

    Per target: image: the band is set to 0. mask: the band is set to 0. bboxes: dropped when the
    band hides more than BboxParams ``min_visibility`` / ``min_area`` allow, else unchanged.
    keypoints: those in the band are removed when ``remove_invisible``.

    Args:
        freq_mask_param: largest band height in pixels, >= 1. Default: 30.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    axis = 0
    example_args = {"freq_mask_param": 30}

    freq_mask_param: int

    class InitSchema(TransformSchema):
        freq_mask_param: int = Field(default=30, ge=1)
        p: Probability = 0.5

    def max_length(self) -> int:
        return self.freq_mask_param
