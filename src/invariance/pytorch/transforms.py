"""Conversion of pipeline outputs to torch tensors."""

from __future__ import annotations

from typing import Any

import numpy as np

from invariance.core.effects import Effects, Pixels
from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema
from invariance.core.transform import BasicTransform
from invariance.core.type_definitions import Targets


class ToTensorV2(BasicTransform):
    """Convert images to ``torch.Tensor`` in CHW layout (and masks to tensors).

    Per target: image: HWC -> CHW tensor (a grayscale HW image becomes 1HW), no scaling or dtype
    change. images: NHWC -> NCHW. mask: HW or HWC tensor (HWC -> CHW when ``transpose_mask``).
    masks: each converted likewise, stacked when they are an array. bboxes, keypoints: unchanged.
    Put it last: later transforms expect numpy arrays.

    Args:
        transpose_mask: move a mask's channel axis first. Default: False.
        p: probability of applying the transform. Default: 1.

    Targets: image, mask
    (each also as a stack: images, masks; bboxes and keypoints pass through). Dtypes: any.
    """

    family = "utility"
    transpose_mask: bool

    @property
    def _targets(self) -> tuple[Targets, ...]:
        # Volumes are ToTensor3D's: here they would come back as lists of per-slice tensors.
        return (Targets.IMAGE, Targets.MASK)

    class InitSchema(TransformSchema):
        transpose_mask: bool = False
        p: Probability = 1.0

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        import torch

        def image_to_tensor(img: np.ndarray) -> Any:
            chw = img[np.newaxis] if img.ndim == 2 else img.transpose(2, 0, 1)
            return torch.from_numpy(np.ascontiguousarray(chw))

        def mask_to_tensor(mask: np.ndarray) -> Any:
            if self.transpose_mask and mask.ndim == 3:
                mask = mask.transpose(2, 0, 1)
            return torch.from_numpy(np.ascontiguousarray(mask))

        def stacked(convert: Any) -> Any:
            # A stack passed as one array comes back as one tensor; a list stays a list.
            return lambda frames: torch.stack([convert(frame) for frame in frames])

        return Pixels(image_to_tensor, mask_to_tensor, stacked(image_to_tensor), stacked(mask_to_tensor))


class ToTensor3D(BasicTransform):
    """Convert volumes and 3-D masks to ``torch.Tensor`` with channels first.

    Per target: volume and mask3d: ``(D, H, W, C)`` -> ``(C, D, H, W)``, ``(D, H, W)`` ->
    ``(1, D, H, W)``, no scaling or dtype change; each grid of volumes / masks3d likewise.
    Keypoints pass through. Put it last: later transforms expect numpy arrays.

    Args:
        p: probability of applying the transform. Default: 1.

    Targets: volume, mask3d
    (each also as a stack: volumes, masks3d). Dtypes: any.
    """

    family = "utility"
    supported_targets = ("volume", "mask3d", "volumes", "masks3d")

    class InitSchema(TransformSchema):
        p: Probability = 1.0

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        import torch

        def grid_to_tensor(grid: np.ndarray) -> Any:
            cdhw = grid[np.newaxis] if grid.ndim == 3 else grid.transpose(3, 0, 1, 2)
            return torch.from_numpy(np.ascontiguousarray(cdhw))

        return Pixels(None, volume=grid_to_tensor, mask3d=grid_to_tensor)
