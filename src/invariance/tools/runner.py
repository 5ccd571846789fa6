"""Run a policy on dataset records: policy loading, per-file seeds, targets in and out.

Shared by ``preview`` and ``augment``. A record's boxes, instance masks (from COCO polygons),
semantic mask and keypoints are all passed through one pipeline call, so they stay in lockstep
with the image; the results are turned back into a record in the same vocabulary.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

import invariance as A
from invariance.core.image_io import read_image
from invariance.tools.annotations import (
    ImageRecord,
    ObjectAnnotation,
    mask_to_polygons,
    polygons_to_mask,
)

#: The reference article's starter pipeline, used when no policy is given.
STARTER = "starter"


def starter_policy() -> A.Compose:
    """The reference article's starter pipeline (the one ``invariance demo`` shows)."""
    from invariance.tools.demo import starter_pipeline

    return starter_pipeline()


def load_policy(spec: str | Path | None) -> Any:
    """A policy from a file (JSON/YAML), a preset name (``detection/medium``) or the starter."""
    if spec is None or str(spec) == STARTER:
        return starter_policy()
    path = Path(spec)
    if path.is_file():
        return A.load(path)
    from invariance.presets import available_presets, load_preset

    if str(spec) in available_presets():
        return load_preset(str(spec))
    raise A.SerializationError(
        f"policy {str(spec)!r} is neither a file nor a preset; presets: {', '.join(available_presets())}"
    )


def derive_seed(base_seed: int, key: str, variant: int = 0) -> int:
    """A seed for one (file, variant): from the base seed and a stable id of the file, not from order."""
    file_id = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "little")
    state = np.random.SeedSequence([int(base_seed), file_id, int(variant)]).generate_state(2, np.uint32)
    return int(state[0]) | (int(state[1]) << 32)


def _slot_mapping(policy: Any, keypoint_names: Sequence[str]) -> dict[str, dict[str, dict[int, int]]]:
    """The policy's keypoint ``label_mapping`` (by name or index) as a mapping of keypoint slots."""
    params = getattr(policy, "keypoint_params", None)
    if params is None or not params.label_mapping:
        return {}

    def slot(value: Any) -> int | None:
        text = str(value)
        if text.lstrip("-").isdigit():
            return int(text)
        return list(keypoint_names).index(text) if text in keypoint_names else None

    mapping: dict[str, dict[str, dict[int, int]]] = {}
    for transform_name, fields in params.label_mapping.items():
        for table in fields.values():
            pairs = {slot(old): slot(new) for old, new in table.items()}
            mapping[transform_name] = {
                "keypoint_slot": {o: n for o, n in pairs.items() if o is not None and n is not None}
            }
            break
    return mapping


def dataset_pipeline(policy: Any, keypoint_names: Sequence[str] = ()) -> A.Compose:
    """Wrap ``policy`` in a Compose that carries dataset targets (boxes, keypoints with their owners).

    When ``policy`` is a Compose, its transforms, its box filtering options (min_visibility,
    min_area...) and its keypoint ``label_mapping`` are kept (the mapping may name keypoints by
    index or by the dataset's ``keypoint_names``, so a flip swaps left and right slots); the
    formats and label fields are the ones the dataset tools need.
    """
    box_options: dict[str, Any] = {}
    transforms = [policy]
    p = 1.0
    if isinstance(policy, A.Compose):
        transforms = list(policy.transforms)
        p = policy.p
        if policy.bbox_params is not None:
            box_options = {
                k: v for k, v in policy.bbox_params.to_dict().items() if k not in ("format", "label_fields")
            }
    return A.Compose(
        transforms,
        bbox_params=A.BboxParams(
            format="pascal_voc", label_fields=["object_index"], **{"clip": True, **box_options}
        ),
        keypoint_params=A.KeypointParams(
            format="xy",
            label_fields=["keypoint_owner", "keypoint_slot"],
            remove_invisible=False,
            label_mapping=_slot_mapping(policy, keypoint_names) or None,
        ),
        p=p,
    )


@dataclass
class Loaded:
    """A record's pixels: image, semantic mask (or None) and one 0/1 mask per polygon object."""

    image: np.ndarray
    mask: np.ndarray | None
    instance_masks: list[np.ndarray]


def load_record(record: ImageRecord) -> Loaded:
    """Read a record's image and mask through the safe reader (sizes checked before decoding)."""
    image = read_image(record.image_path)
    mask = read_image(record.mask_path) if record.mask_path is not None else None
    height, width = image.shape[:2]
    instance = [
        polygons_to_mask(obj.polygons, height, width) for obj in record.objects if obj.polygons is not None
    ]
    return Loaded(image, mask, instance)


def run_record(pipeline: Any, record: ImageRecord, decode_aware: bool = True) -> dict[str, Any]:
    """Run ``pipeline`` on ``record`` (its image, mask, boxes, keypoints and polygons).

    With ``decode_aware`` the image is read by :func:`invariance.io.decode_augmented`: its size
    comes from the file's header, and a JPEG whose first crop or resize shrinks it is decoded at
    1/2, 1/4 or 1/8. Annotations are built at the full size either way, so they come out the same
    for a seed; only the image pixels differ, by the resampling difference of docs/loading.md.
    """
    if not decode_aware:
        return dict(pipeline(**pipeline_inputs(record, load_record(record))))
    from invariance.core.errors import ImageFileError
    from invariance.core.image_io import check_header, max_pixels_default, read_header
    from invariance.io import decode_augmented

    name = f"the image {str(record.image_path)!r}"
    try:
        data = Path(record.image_path).read_bytes()
    except OSError as error:
        raise ImageFileError(f"cannot read {name}: {error.strerror or error}") from None
    header = read_header(data, name)
    check_header(header, name, max_pixels_default())
    height, width = header.height, header.width
    mask = read_image(record.mask_path) if record.mask_path is not None else None
    instance = [
        polygons_to_mask(obj.polygons, height, width) for obj in record.objects if obj.polygons is not None
    ]
    # Only the size of the image is read here: a stand-in of that size (its pixels are never read).
    standin = np.empty((height, width), np.uint8)
    inputs = pipeline_inputs(record, Loaded(standin, mask, instance))
    del inputs["image"]
    return decode_augmented(data, pipeline, name=name, **inputs)[0]


def pipeline_inputs(record: ImageRecord, loaded: Loaded) -> dict[str, Any]:
    """The named arguments of one pipeline call for ``record``."""
    height, width = loaded.image.shape[:2]
    boxes, owners = [], []
    for index, obj in enumerate(record.objects):
        x0, y0, x1, y1 = obj.bbox
        x0, x1 = max(0.0, min(x0, width)), max(0.0, min(x1, width))
        y0, y1 = max(0.0, min(y0, height)), max(0.0, min(y1, height))
        if x1 > x0 and y1 > y0:
            boxes.append([x0, y0, x1, y1])
            owners.append(index)
    keypoints, kp_owner, kp_slot = [], [], []
    for index, obj in enumerate(record.objects):
        for slot, (x, y, _v) in enumerate(obj.keypoints or []):
            keypoints.append([x, y])
            kp_owner.append(index)
            kp_slot.append(slot)
    data: dict[str, Any] = {
        "image": loaded.image,
        "bboxes": boxes,
        "object_index": owners,
        "keypoints": keypoints,
        "keypoint_owner": kp_owner,
        "keypoint_slot": kp_slot,
    }
    if loaded.mask is not None:
        data["mask"] = loaded.mask
    if loaded.instance_masks:
        data["masks"] = loaded.instance_masks
    return data


def augmented_record(
    record: ImageRecord, out: dict[str, Any], key: str
) -> tuple[ImageRecord, np.ndarray | None, list[np.ndarray]]:
    """Turn a pipeline output back into a record (objects whose box was dropped are dropped)."""
    image = out["image"]
    height, width = image.shape[:2]
    kept = {int(i): box for i, box in zip(out["object_index"], out["bboxes"])}
    polygon_objects = [i for i, obj in enumerate(record.objects) if obj.polygons is not None]
    masks_by_object = dict(zip(polygon_objects, out.get("masks", [])))
    points: dict[int, dict[int, tuple[float, float]]] = {}
    for (x, y), owner, slot in zip(out["keypoints"], out["keypoint_owner"], out["keypoint_slot"]):
        points.setdefault(int(owner), {})[int(slot)] = (float(x), float(y))
    objects = []
    for index, obj in enumerate(record.objects):
        if index not in kept:
            continue
        box = tuple(float(v) for v in list(kept[index])[:4])
        polygons = None
        if obj.polygons is not None:
            polygons = mask_to_polygons(np.asarray(masks_by_object[index]))
        keypoints = None
        if obj.keypoints is not None:
            keypoints = []
            for slot, (_x, _y, vis) in enumerate(obj.keypoints):
                x, y = points.get(index, {}).get(slot, (0.0, 0.0))
                inside = -0.5 <= x < width - 0.5 and -0.5 <= y < height - 0.5
                keypoints.append((x, y, vis) if vis > 0 and inside else (0.0, 0.0, 0))
        objects.append(
            ObjectAnnotation(
                (box[0], box[1], box[2], box[3]), obj.label, keypoints, polygons, dict(obj.extra)
            )
        )
    new = replace(record, key=key, width=width, height=height, objects=objects, meta=dict(record.meta))
    return new, out.get("mask"), [np.asarray(out["masks"][i]) for i in range(len(out.get("masks", [])))]


def overlay(
    record: ImageRecord,
    image: np.ndarray,
    mask: np.ndarray | None,
    instance_masks: list[np.ndarray],
    skeleton: list[tuple[int, int]] | None = None,
) -> np.ndarray:
    """Draw a record's targets on ``image`` with :func:`invariance.viz.draw_targets`."""
    from invariance.viz import draw_targets

    keypoints: list[tuple[float, float]] = []
    visible: list[bool] = []
    names: list[int] = []
    edges: list[tuple[int, int]] = []
    for obj in record.objects:
        offset = len(keypoints)
        for slot, (x, y, vis) in enumerate(obj.keypoints or []):
            keypoints.append((x, y))
            visible.append(vis > 0)
            names.append(slot)
        if obj.keypoints and skeleton:
            edges.extend((a + offset, b + offset) for a, b in skeleton)
    return draw_targets(
        image,
        mask=mask,
        masks=instance_masks or None,
        bboxes=[obj.bbox for obj in record.objects],
        labels=[obj.label for obj in record.objects],
        keypoints=keypoints or None,
        keypoint_labels=names or None,
        keypoint_visible=visible or None,
        skeleton=edges or None,
    )
