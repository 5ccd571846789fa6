"""Conversion of pipeline outputs to torch tensors."""

from __future__ import annotations

from typing import Any

import numpy as np

from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema
from invariance.core.transform import BasicTransform


class ToTensorV2(BasicTransform):
    """Convert images to ``torch.Tensor`` in CHW layout (and masks to tensors).

    Targets: image: HWC -> CHW tensor (a grayscale HW image becomes 1HW), no scaling or dtype
    change. images: NHWC -> NCHW. mask: HW or HWC tensor (HWC -> CHW when ``transpose_mask``).
    masks: each converted likewise, stacked when they are an array. bboxes, keypoints: unchanged.
    Put it last: later transforms expect numpy arrays.

    Args:
        transpose_mask: move a mask's channel axis first. Default: False.
        p: probability of applying the transform. Default: 1.

    Targets: image, images, mask, masks. Dtypes: any.
    """

    family = "utility"
    transpose_mask: bool

    class InitSchema(TransformSchema):
        transpose_mask: bool = False
        p: Probability = 1.0

    def apply_params(self, sample: Sample, params: dict[str, Any]) -> None:
        import torch

        def image_to_tensor(img: np.ndarray) -> Any:
            chw = img[np.newaxis] if img.ndim == 2 else img.transpose(2, 0, 1)
            return torch.from_numpy(np.ascontiguousarray(chw))

        def mask_to_tensor(mask: np.ndarray) -> Any:
            if self.transpose_mask and mask.ndim == 3:
                mask = mask.transpose(2, 0, 1)
            return torch.from_numpy(np.ascontiguousarray(mask))

        for key in list(sample.arrays):
            kind = sample.kinds[key]
            value = sample.arrays[key]
            if kind == "image":
                sample.arrays[key] = image_to_tensor(value)
            elif kind == "images":
                frames = [image_to_tensor(f) for f in value]
                sample.arrays[key] = torch.stack(frames) if isinstance(value, np.ndarray) else frames
            elif kind == "mask":
                sample.arrays[key] = mask_to_tensor(value)
            elif kind == "masks":
                masks = [mask_to_tensor(m) for m in value]
                sample.arrays[key] = torch.stack(masks) if isinstance(value, np.ndarray) and masks else masks
