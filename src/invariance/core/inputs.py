"""The pipeline edge: check the caller's data, build a Sample, and give results back.

Everything malformed is rejected here, before any kernel runs, with an error that names the
argument and what was expected. Inputs are never modified: arrays are only read, and every
output array is new.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from invariance.core.errors import InputError, InputTypeError
from invariance.core.sample import Sample
from invariance.core.targets import (
    BboxParams,
    KeypointParams,
    labels_like,
    read_boxes,
    read_keypoints,
    write_boxes,
    write_keypoints,
)

BUILTIN_TARGETS = {
    "image": "image",
    "images": "images",
    "mask": "mask",
    "masks": "masks",
    "bboxes": "bboxes",
    "keypoints": "keypoints",
}
TARGET_KINDS = ("image", "images", "mask", "masks", "bboxes", "keypoints")
IMAGE_DTYPES = (np.uint8, np.float32)


@dataclass(frozen=True)
class TargetConfig:
    """What a Compose knows about the targets it will be called with."""

    kinds: Mapping[str, str]
    bbox_params: BboxParams | None
    keypoint_params: KeypointParams | None
    is_check_shapes: bool = True
    strict: bool = False
    mask_interpolation: int | None = None

    @cached_property
    def label_names(self) -> frozenset[str]:
        """Every declared label field (of boxes and of keypoints)."""
        names: set[str] = set()
        if self.bbox_params is not None:
            names.update(self.bbox_params.label_fields)
        if self.keypoint_params is not None:
            names.update(self.keypoint_params.label_fields)
        return frozenset(names)


_UINT8 = np.dtype(np.uint8)


def check_image(key: str, value: Any) -> np.ndarray:
    if type(value) is np.ndarray and value.dtype is _UINT8 and value.ndim in (2, 3) and value.size:
        return value  # the common case, accepted as it is (all the checks below pass for it)
    if not isinstance(value, np.ndarray):
        raise InputTypeError(
            f"{key}: expected a numpy array of shape (H, W) or (H, W, C), got {type(value).__name__}"
        )
    if value.ndim not in (2, 3):
        raise InputError(f"{key}: expected shape (H, W) or (H, W, C), got shape {value.shape}")
    if value.shape[0] == 0 or value.shape[1] == 0 or (value.ndim == 3 and value.shape[2] == 0):
        raise InputError(
            f"{key}: the image is empty (shape {value.shape}); expected height, width and channels >= 1"
        )
    if value.dtype == np.float64:
        if value.size and (not np.all(np.isfinite(value)) or value.min() < 0.0 or value.max() > 1.0):
            raise InputTypeError(
                f"{key}: float64 images are accepted only with values in [0, 1] (they are converted to "
                "float32); expected uint8, or float32 in [0, 1]"
            )
        return value.astype(np.float32)
    if value.dtype not in IMAGE_DTYPES:
        raise InputTypeError(
            f"{key}: dtype {value.dtype} is not supported; expected uint8 (0..255) or float32 (0..1)"
        )
    if value.dtype == np.float32 and not np.all(np.isfinite(value)):
        raise InputError(f"{key}: the image contains NaN or inf values")
    return value


#: Mask dtypes the kernels cannot warp, mapped to the dtype they travel in through the pipeline.
#: The conversion is lossless (checked per call for the integer ones) and the output is cast back
#: to the caller's dtype in :func:`collect`.
_MASK_CARRIERS: dict[np.dtype, np.dtype] = {
    np.dtype(np.uint32): np.dtype(np.int32),
    np.dtype(np.uint64): np.dtype(np.int32),
    np.dtype(np.int64): np.dtype(np.int32),
    np.dtype(np.float16): np.dtype(np.float32),
}
MASK_DTYPES = "bool, uint8, int8, uint16, int16, int32, uint32, int64, uint64, float16, float32 or float64"
_INT32 = np.iinfo(np.int32)


def _carried_mask(key: str, value: np.ndarray) -> np.ndarray:
    """``value`` in a dtype every kernel warps, without losing a value (or an InputError)."""
    carrier = _MASK_CARRIERS[value.dtype]
    if carrier.kind == "i" and value.size:
        low, high = int(value.min()), int(value.max())
        if low < _INT32.min or high > _INT32.max:
            raise InputError(
                f"{key}: {value.dtype} mask values must lie in the int32 range [{_INT32.min}, {_INT32.max}] "
                f"to be warped without loss, got values in [{low}, {high}]; relabel the mask (for example "
                "with numpy.unique(mask, return_inverse=True))"
            )
    return value.astype(carrier)


def _check_mask(key: str, value: Any) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise InputTypeError(
            f"{key}: expected a numpy array of shape (H, W) or (H, W, C), got {type(value).__name__}"
        )
    if value.ndim not in (2, 3):
        raise InputError(f"{key}: expected shape (H, W) or (H, W, C), got shape {value.shape}")
    if value.shape[0] == 0 or value.shape[1] == 0:
        raise InputError(f"{key}: the mask is empty (shape {value.shape})")
    if not (np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_) or np.iscomplexobj(value):
        raise InputTypeError(
            f"{key}: expected a numeric or boolean mask ({MASK_DTYPES}), got dtype {value.dtype}"
        )
    if value.dtype in _MASK_CARRIERS:
        return _carried_mask(key, value)
    if value.dtype.kind not in "biuf" or value.dtype.itemsize > 8:
        raise InputTypeError(f"{key}: mask dtype {value.dtype} is not supported; expected {MASK_DTYPES}")
    return value


def _check_stack(key: str, value: Any, check: Any) -> Any:
    if isinstance(value, np.ndarray):
        if value.ndim not in (3, 4):
            raise InputError(
                f"{key}: expected an array of shape (N, H, W) or (N, H, W, C), got shape {value.shape}"
            )
        checked = [check(f"{key}[{i}]", frame) for i, frame in enumerate(value)]
        if any(c is not f for c, f in zip(checked, value)):
            return np.stack(checked)
        return value
    if not isinstance(value, (list, tuple)):
        raise InputTypeError(
            f"{key}: expected a list of arrays or one stacked array, got {type(value).__name__}"
        )
    return [check(f"{key}[{i}]", frame) for i, frame in enumerate(value)]


def prepare(data: Mapping[str, Any], config: TargetConfig, record: bool) -> Sample:
    """Validate ``data`` and convert it into a :class:`Sample`."""
    arrays: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    shapes: list[tuple[str, tuple[int, int]]] = []
    known = config.kinds
    for key, value in data.items():
        kind = known.get(key)
        if kind is None:
            if config.strict and key not in config.label_names:
                raise InputError(
                    f"unknown input {key!r}: strict mode accepts only {sorted(config.kinds)} and the label "
                    f"fields {sorted(config.label_names)}; declare extra targets with additional_targets"
                )
            continue
        if kind == "image":
            checked = arrays[key] = check_image(key, value)
            shapes.append((key, checked.shape[:2]))
        elif kind == "mask":
            checked = arrays[key] = _check_mask(key, value)
            shapes.append((key, checked.shape[:2]))
        elif kind in ("images", "masks"):
            frames = arrays[key] = _check_stack(key, value, check_image if kind == "images" else _check_mask)
            shapes.extend((f"{key}[{i}]", frame.shape[:2]) for i, frame in enumerate(frames))
        else:  # boxes and keypoints are read below, once the image size is known
            continue
        kinds[key] = kind
    if not shapes:
        raise InputError(
            "no image or mask was passed: call the pipeline with named arrays, for example "
            "pipeline(image=image), so that boxes and keypoints have an image size"
        )
    shape = (int(shapes[0][1][0]), int(shapes[0][1][1]))
    if config.is_check_shapes:
        for name, other in shapes[1:]:
            if other != shape:
                raise InputError(
                    f"{name} has height and width {other} but {shapes[0][0]} has {shape}; all images "
                    "and masks of one call must have the same size (pass is_check_shapes=False to skip this check)"
                )
    sample = Sample(
        shape=shape,
        kinds=kinds,
        arrays=arrays,
        bbox_params=config.bbox_params,
        keypoint_params=config.keypoint_params,
        data=data,
        mask_interpolation=config.mask_interpolation,
        applied=[] if record else None,
    )
    if len(kinds) == len(data):
        return sample  # images and masks only: nothing more to read
    for key, value in data.items():
        kind = known.get(key)
        if kind == "bboxes":
            if config.bbox_params is None:
                raise InputError(
                    f"{key} were passed but the pipeline has no bbox_params; pass bbox_params=A.BboxParams(format=...) to Compose"
                )
            labels = None
            if key == "bboxes":
                _check_labels(key, _row_count(key, value), config.bbox_params.label_fields, data)
                labels = {name: data[name] for name in config.bbox_params.label_fields}
            sample.boxes[key] = read_boxes(value, key, config.bbox_params, shape, labels)
        elif kind == "keypoints":
            if config.keypoint_params is None:
                raise InputError(
                    f"{key} were passed but the pipeline has no keypoint_params; pass keypoint_params=A.KeypointParams(format=...) to Compose"
                )
            point_labels = None
            if key == "keypoints":
                _check_labels(key, _row_count(key, value), config.keypoint_params.label_fields, data)
                point_labels = {name: data[name] for name in config.keypoint_params.label_fields}
            sample.points[key] = read_keypoints(value, key, config.keypoint_params, point_labels)
    return sample


def _row_count(key: str, value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        raise InputTypeError(
            f"{key}: expected a list or a numpy array of rows, got {type(value).__name__}"
        ) from None


def _check_labels(key: str, count: int, fields: list[str], data: Mapping[str, Any]) -> None:
    for name in fields:
        if name not in data:
            raise InputError(
                f"label field {name!r} is declared for {key} but was not passed; call with {name}=[...] "
                f"holding one label per row of {key}"
            )
        values = data[name]
        try:
            length = len(values)
        except TypeError:
            raise InputTypeError(
                f"label field {name!r} must be a list or array, got {type(values).__name__}"
            ) from None
        if length != count:
            raise InputError(
                f"label field {name!r} has {length} entries but {key} has {count} rows; expected one label per row"
            )


def _restore_mask_dtype(result: Any, original: Any) -> Any:
    """Cast masks carried in a wider kernel dtype (see ``_MASK_CARRIERS``) back to the caller's.

    Frames a transform added (pasted instances) take the dtype of the caller's first frame.
    """
    if isinstance(original, np.ndarray):
        wanted = original.dtype
    elif isinstance(original, (list, tuple)) and original and isinstance(original[0], np.ndarray):
        wanted = original[0].dtype
    else:
        return result
    if wanted not in _MASK_CARRIERS:
        return result
    if isinstance(result, np.ndarray):
        return result.astype(wanted)
    return [np.asarray(frame).astype(wanted) for frame in result]


def collect(sample: Sample, data: Mapping[str, Any], config: TargetConfig) -> dict[str, Any]:
    """The output dict: every input key, with targets and label fields transformed."""
    out = dict(data)
    out.update(sample.arrays)
    for key, kind in sample.kinds.items():
        if kind in ("mask", "masks"):
            out[key] = _restore_mask_dtype(out[key], data[key])
    if config.bbox_params is not None:
        for key, boxes in sample.boxes.items():
            out[key] = write_boxes(boxes, config.bbox_params, sample.shape)
        main = sample.boxes.get("bboxes")
        if main is not None:
            for name in config.bbox_params.label_fields:
                out[name] = labels_like(main.labels[name], data[name])
    if config.keypoint_params is not None:
        for key, points in sample.points.items():
            out[key] = write_keypoints(points, config.keypoint_params)
        main_points = sample.points.get("keypoints")
        if main_points is not None:
            for name in config.keypoint_params.label_fields:
                out[name] = labels_like(main_points.labels[name], data[name])
    if sample.applied is not None:
        out["applied_transforms"] = sample.applied
    return out
