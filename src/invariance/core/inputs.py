"""The pipeline edge: check the caller's data and build a Sample.

Everything malformed is rejected here, before any kernel runs, with an error that names the
argument and what was expected: each target is read by its kind's handler
(:mod:`invariance.core.kinds`). Inputs are never modified: arrays are only read. The way back
(the output dict) is :meth:`invariance.core.call.Call.output`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from invariance.core.config import TargetConfig
from invariance.core.errors import InputError
from invariance.core.kinds import Frames, TargetKind, check_image, check_mask, kind_names, kind_of
from invariance.core.sample import Sample

#: Input keys that name their own kind.
BUILTIN_TARGETS = {
    name: name
    for name in (
        "image",
        "images",
        "mask",
        "masks",
        "bboxes",
        "keypoints",
        "volume",
        "mask3d",
        "volumes",
        "masks3d",
    )
}


def target_kinds() -> tuple[str, ...]:
    """Every registered target kind (``additional_targets`` may name any of them)."""
    return kind_names()


__all__ = ["BUILTIN_TARGETS", "TargetConfig", "check_image", "prepare", "target_kinds"]


_IMAGE_ONLY = {"image": kind_of("image")}
_IMAGE_AND_MASK = {"image": kind_of("image"), "mask": kind_of("mask")}


def prepare(data: Mapping[str, Any], config: TargetConfig) -> Sample:
    """Validate ``data`` and convert it into a :class:`Sample` (each value read by its kind)."""
    if len(data) == 1 and "image" in data and config.kinds.get("image") == "image":
        # The common call, ``pipeline(image=img)``: one check, no size comparisons.
        image = check_image("image", data["image"])
        return Sample((int(image.shape[0]), int(image.shape[1])), {"image": image}, _IMAGE_ONLY, config, data)
    if (
        len(data) == 2
        and "image" in data
        and "mask" in data
        and config.kinds.get("image") == "image"
        and config.kinds.get("mask") == "mask"
        and (config.bbox_params is None or config.bbox_params.instance_masks is None)
    ):
        # The segmentation call, ``pipeline(image=img, mask=m)``: two checks, one size comparison.
        image = check_image("image", data["image"])
        mask = check_mask("mask", data["mask"])
        shape = (int(image.shape[0]), int(image.shape[1]))
        other = (int(mask.shape[0]), int(mask.shape[1]))
        if config.is_check_shapes and other != shape:
            (first, first_shape), (second, second_shape) = sorted(
                (("image", shape), ("mask", other)), key=lambda item: list(data).index(item[0])
            )
            raise InputError(
                f"{second} has height and width {second_shape} but {first} has {first_shape}; all images "
                "and masks of one call must have the same size (pass is_check_shapes=False to skip this check)"
            )
        return Sample(shape, {"image": image, "mask": mask}, _IMAGE_AND_MASK, config, data)
    values: dict[str, Any] = {}
    handlers: dict[str, TargetKind] = {}
    sizes: list[tuple[str, tuple[int, int]]] = []
    depths: list[tuple[str, int]] = []
    known = config.kinds
    rows: list[str] = []
    for key, value in data.items():
        name = known.get(key)
        if name is None:
            if config.strict and key not in config.label_names and key not in config.consumed:
                raise InputError(
                    f"unknown input {key!r}: strict mode accepts only {sorted(config.kinds)}, the label "
                    f"fields {sorted(config.label_names)} and the keys the transforms read "
                    f"{sorted(config.consumed)}; declare extra targets with additional_targets"
                )
            continue
        handler = kind_of(name)
        handlers[key] = handler
        if handler.needs_shape:
            rows.append(key)  # boxes and keypoints are read below, once the image size is known
            continue
        checked = values[key] = handler.read(key, value, data, config, (0, 0))
        depths.extend(handler.depths(key, checked))
        if isinstance(checked, Frames):
            sizes.extend(handler.frame_sizes(key, checked))  # type: ignore[attr-defined]
        else:
            size = handler.size(checked)
            if size is not None:
                sizes.append((key, size))
    if not sizes:
        raise InputError(
            "no image or mask was passed: call the pipeline with named arrays, for example "
            "pipeline(image=image) or pipeline(volume=volume), so that boxes and keypoints have an image size"
        )
    shape = sizes[0][1]
    if config.is_check_shapes:
        for name, other in sizes[1:]:
            if other != shape:
                raise InputError(
                    f"{name} has height and width {other} but {sizes[0][0]} has {shape}; all images "
                    "and masks of one call must have the same size (pass is_check_shapes=False to skip this check)"
                )
        for name, depth in depths[1:]:
            if depth != depths[0][1]:
                raise InputError(
                    f"{name} has depth {depth} but {depths[0][0]} has {depths[0][1]}; volumes and 3-D masks "
                    "of one call must have the same (D, H, W) (pass is_check_shapes=False to skip this check)"
                )
    for key in rows:
        values[key] = handlers[key].read(key, data[key], data, config, shape)
    _check_pairing(config, values)
    return Sample(shape, {key: values[key] for key in handlers}, handlers, config, data)


def _check_pairing(config: TargetConfig, values: Mapping[str, Any]) -> None:
    """BboxParams ``instance_masks``: one mask per box, from the first call on."""
    params = config.bbox_params
    if params is None or params.instance_masks is None:
        return
    key = params.instance_masks
    if config.kinds.get(key) != "masks":
        raise InputError(
            f"BboxParams(instance_masks={key!r}) names no masks target; pass masks=[...] "
            "(or declare the key with additional_targets={...: 'masks'})"
        )
    boxes, masks = values.get("bboxes"), values.get(key)
    if (boxes is None) != (masks is None):
        raise InputError(
            f"BboxParams(instance_masks={key!r}) pairs {key} with bboxes: pass both, one mask per box"
        )
    if boxes is not None and masks is not None and len(boxes) != len(masks):
        raise InputError(
            f"BboxParams(instance_masks={key!r}): {len(masks)} masks for {len(boxes)} boxes; "
            "expected one instance mask per box, in the same order"
        )
