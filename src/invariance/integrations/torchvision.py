"""torchvision: ``tv_tensors`` adapters and a ``transforms.v2`` transform running an invariance policy.

Importing this module imports torch and torchvision (``pip install invariance[torchvision]``).

``InvarianceTransform(policy)`` sits anywhere in a ``torchvision.transforms.v2`` pipeline. It
finds the sample's image (a ``tv_tensors.Image``, or the first plain tensor), its masks
(``tv_tensors.Mask``), boxes (``tv_tensors.BoundingBoxes`` in XYXY, XYWH or CXCYWH) and
keypoints (``tv_tensors.KeyPoints``) anywhere in the input structure (tuples, dicts, nested),
runs the policy on all of them together, and puts the results back in the same structure and
types, with the new ``canvas_size``. As in torchvision, the number of boxes does not change: a
box the policy drops (moved off the image, filtered) comes back as an all-zero degenerate box,
which ``v2.SanitizeBoundingBoxes`` removes together with its label. Keypoints are never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from invariance.core.compose import BaseCompose, Compose
from invariance.core.errors import InputError, ParameterError
from invariance.core.targets import BboxParams, KeypointParams
from invariance.integrations import require

torch: Any = require("torch", "torchvision")
tv_tensors: Any = require("torchvision.tv_tensors", "torchvision")
_v2: Any = require("torchvision.transforms.v2", "torchvision")
_pytree: Any = require("torch.utils._pytree", "torchvision")

__all__ = [
    "InvarianceTransform",
    "boxes_from_numpy",
    "boxes_to_numpy",
    "image_from_numpy",
    "image_to_numpy",
    "keypoints_from_numpy",
    "keypoints_to_numpy",
    "mask_from_numpy",
    "mask_to_numpy",
    "sample_from_tv",
]

_INDEX_FIELD = "__tv_box_index__"


def image_to_numpy(image: Any) -> np.ndarray:
    """A ``(C, H, W)`` image tensor as an ``(H, W, C)`` numpy array (``(H, W)`` for one channel)."""
    if image.ndim != 3:
        raise InputError(f"expected one (C, H, W) image, got a tensor of shape {tuple(image.shape)}")
    array = image.detach().cpu().numpy()
    if array.shape[0] == 1:
        return np.ascontiguousarray(array[0])
    return np.ascontiguousarray(array.transpose(1, 2, 0))


def image_from_numpy(array: np.ndarray, like: Any = None) -> Any:
    """An ``(H, W[, C])`` array as a ``tv_tensors.Image`` (on ``like``'s device when given)."""
    chw = array[np.newaxis] if array.ndim == 2 else array.transpose(2, 0, 1)
    tensor = torch.from_numpy(np.ascontiguousarray(chw))
    if like is not None:
        tensor = tensor.to(like.device)
    return tv_tensors.Image(tensor)


def mask_to_numpy(mask: Any) -> np.ndarray:
    """A ``(H, W)`` or ``(N, H, W)`` mask as ``(H, W)`` or ``(H, W, N)``."""
    array = mask.detach().cpu().numpy()
    if array.ndim == 2:
        return np.ascontiguousarray(array)
    if array.ndim == 3:
        return np.ascontiguousarray(array.transpose(1, 2, 0))
    raise InputError(f"expected a (H, W) or (N, H, W) mask, got shape {tuple(array.shape)}")


def mask_from_numpy(array: np.ndarray, like: Any) -> Any:
    """The inverse of :func:`mask_to_numpy`, with ``like``'s layout and device."""
    data = (
        array if like.ndim == 2 else (array[..., np.newaxis] if array.ndim == 2 else array).transpose(2, 0, 1)
    )
    return tv_tensors.Mask(torch.from_numpy(np.ascontiguousarray(data)).to(like.device))


def _format_name(boxes: Any) -> str:
    return str(getattr(boxes.format, "name", boxes.format)).upper()


def boxes_to_numpy(boxes: Any) -> np.ndarray:
    """``tv_tensors.BoundingBoxes`` (XYXY, XYWH or CXCYWH) as ``(N, 4)`` float64 ``x_min, y_min, x_max, y_max``."""
    fmt = _format_name(boxes)
    array = boxes.detach().cpu().to(torch.float64).numpy().reshape(-1, 4)
    if fmt == "XYXY":
        return array.copy()
    if fmt == "XYWH":
        return np.concatenate([array[:, :2], array[:, :2] + array[:, 2:]], axis=1)
    if fmt == "CXCYWH":
        half = array[:, 2:] / 2.0
        return np.concatenate([array[:, :2] - half, array[:, :2] + half], axis=1)
    raise InputError(f"bounding box format {fmt} is not supported (XYXY, XYWH and CXCYWH are)")


def boxes_from_numpy(xyxy: np.ndarray, like: Any, canvas_size: tuple[int, int]) -> Any:
    """``(N, 4)`` ``x_min, y_min, x_max, y_max`` as BoundingBoxes in ``like``'s format and dtype."""
    fmt = _format_name(like)
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    if fmt == "XYWH":
        data = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
    elif fmt == "CXCYWH":
        data = np.concatenate([(xyxy[:, :2] + xyxy[:, 2:]) / 2.0, xyxy[:, 2:] - xyxy[:, :2]], axis=1)
    else:
        data = xyxy
    tensor = torch.from_numpy(data)
    tensor = tensor.round() if not like.dtype.is_floating_point else tensor
    return tv_tensors.BoundingBoxes(
        tensor.to(like.dtype).to(like.device), format=like.format, canvas_size=tuple(canvas_size)
    )


def keypoints_to_numpy(points: Any) -> np.ndarray:
    """``tv_tensors.KeyPoints`` of shape ``[..., 2]`` as ``(M, 2)`` float64 ``x, y``."""
    return points.detach().cpu().to(torch.float64).numpy().reshape(-1, 2).copy()


def keypoints_from_numpy(xy: np.ndarray, like: Any, canvas_size: tuple[int, int]) -> Any:
    """``(M, 2)`` points as KeyPoints with ``like``'s shape, dtype and device."""
    tensor = torch.from_numpy(np.asarray(xy, dtype=np.float64).reshape(tuple(like.shape)))
    return tv_tensors.KeyPoints(tensor.to(like.dtype).to(like.device), canvas_size=tuple(canvas_size))


def _transforms_of(policy: Any) -> tuple[list[Any], float]:
    if isinstance(policy, Compose):
        return list(policy.transforms), float(policy.p)
    if isinstance(policy, (list, tuple)):
        return list(policy), 1.0
    return [policy], 1.0


class InvarianceTransform(_v2.Transform):  # type: ignore[misc]
    """A ``torchvision.transforms.v2`` transform that runs an invariance policy on a whole sample.

    Args:
        policy: a transform, a list of transforms, or a Compose (its transforms and ``p`` are
            used; its box and keypoint formats are replaced by the tv_tensors' own).
        seed: seed of the policy's stream (reseeded per DataLoader worker). Default: None.
        min_visibility, min_area: box filtering, as in ``BboxParams``. Default: 0.
    """

    def __init__(
        self, policy: Any, seed: int | None = None, min_visibility: float = 0.0, min_area: float = 0.0
    ) -> None:
        super().__init__()
        transforms, p = _transforms_of(policy)
        if not transforms:
            raise ParameterError("InvarianceTransform: policy has no transforms")
        self.pipeline: BaseCompose = Compose(
            transforms,
            bbox_params=BboxParams(
                format="pascal_voc",
                label_fields=[_INDEX_FIELD],
                clip=True,
                min_visibility=min_visibility,
                min_area=min_area,
            ),
            keypoint_params=KeypointParams(format="xy", remove_invisible=False),
            p=p,
            seed=seed,
        )

    def extra_repr(self) -> str:
        return f"policy={self.pipeline!r}"

    def forward(self, *inputs: Any) -> Any:
        structure = inputs if len(inputs) > 1 else inputs[0]
        flat, spec = _pytree.tree_flatten(structure)
        image_at = self._find_image(flat)
        mask_at = [i for i, x in enumerate(flat) if isinstance(x, tv_tensors.Mask)]
        boxes_at = [i for i, x in enumerate(flat) if isinstance(x, tv_tensors.BoundingBoxes)]
        points_at = [i for i, x in enumerate(flat) if isinstance(x, tv_tensors.KeyPoints)]
        if any(isinstance(x, tv_tensors.Video) for x in flat):
            raise InputError("InvarianceTransform: videos are not supported; pass one image per sample")
        if len(boxes_at) > 1 or len(points_at) > 1:
            raise InputError(
                "InvarianceTransform: a sample holds at most one BoundingBoxes and one KeyPoints"
            )
        data: dict[str, Any] = {"image": image_to_numpy(flat[image_at])}
        if mask_at:
            data["masks"] = [mask_to_numpy(flat[i]) for i in mask_at]
        count = 0
        if boxes_at:
            boxes = boxes_to_numpy(flat[boxes_at[0]])
            count = len(boxes)
            data["bboxes"] = boxes
            data[_INDEX_FIELD] = list(range(count))
        else:
            data["bboxes"], data[_INDEX_FIELD] = np.zeros((0, 4)), []
        if points_at:
            data["keypoints"] = keypoints_to_numpy(flat[points_at[0]])
        result = self.pipeline(**data)
        out = list(flat)
        image = np.asarray(result["image"])
        canvas = (int(image.shape[0]), int(image.shape[1]))
        original = flat[image_at]
        new_image = image_from_numpy(image, like=original)
        out[image_at] = (
            new_image if isinstance(original, tv_tensors.Image) else new_image.as_subclass(torch.Tensor)
        )
        for i, mask in zip(mask_at, result.get("masks", [])):
            out[i] = mask_from_numpy(np.asarray(mask), flat[i])
        if boxes_at:
            kept = np.zeros((count, 4))
            moved = np.asarray(result["bboxes"], dtype=np.float64).reshape(-1, 4)
            kept[np.asarray(result[_INDEX_FIELD], dtype=np.int64)] = moved
            out[boxes_at[0]] = boxes_from_numpy(kept, flat[boxes_at[0]], canvas)
        if points_at:
            out[points_at[0]] = keypoints_from_numpy(result["keypoints"], flat[points_at[0]], canvas)
        return _pytree.tree_unflatten(out, spec)

    @staticmethod
    def _find_image(flat: Sequence[Any]) -> int:
        for i, x in enumerate(flat):
            if isinstance(x, tv_tensors.Image):
                return i
        for i, x in enumerate(flat):
            if isinstance(x, torch.Tensor) and not isinstance(x, tv_tensors.TVTensor):
                return i
        raise InputError(
            "InvarianceTransform: no image found (a tv_tensors.Image or a plain (C, H, W) tensor)"
        )


def sample_from_tv(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Convert a dict of tv_tensors to invariance's numpy call data (image, masks, bboxes, keypoints)."""
    out: dict[str, Any] = {}
    for key, value in inputs.items():
        if isinstance(value, tv_tensors.BoundingBoxes):
            out[key] = boxes_to_numpy(value)
        elif isinstance(value, tv_tensors.KeyPoints):
            out[key] = keypoints_to_numpy(value)
        elif isinstance(value, tv_tensors.Mask):
            out[key] = mask_to_numpy(value)
        elif isinstance(value, torch.Tensor):
            out[key] = image_to_numpy(value)
        else:
            out[key] = value
    return out
