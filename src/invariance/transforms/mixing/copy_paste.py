"""Copy-Paste: paste object instances, with their masks and boxes, from another sample."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import model_validator

from invariance.core.budget import Bounded
from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema
from invariance.core.transform import BasicTransform
from invariance.kernels.mixing import masks_to_boxes, paste
from invariance.transforms.mixing.items import (
    choose_item,
    concat_rows,
    load_item,
    metadata_items,
    points_on,
    resize_item,
)
from invariance.transforms.occlusion.holes import CountRange


class CopyPaste(BasicTransform):
    """Paste object instances from another sample (*Simple Copy-Paste*, Ghiasi et al.).

    The other sample comes from the metadata; it needs ``image`` and ``masks`` (one instance
    mask per object) and, for boxes, ``bboxes`` aligned with ``masks`` plus the label fields. It
    is stretched to this sample's size and a random subset of ``num_objects_range`` of its objects
    is pasted in place. A pasted object hides what lies under it.

    Targets: image: the objects' pixels replace this sample's. mask: the other sample's ``mask``
    values are pasted over the objects' pixels when it has one, else unchanged. masks: when this
    sample's ``masks`` are aligned with its ``bboxes`` (one instance mask per box), each instance
    loses its hidden pixels, and the pasted objects' masks are appended; otherwise the hidden pixels
    are cleared. bboxes: aligned instances get their box recomputed from the remaining mask, and
    are dropped when the remaining fraction of their pixels falls below BboxParams
    ``min_visibility`` or their remaining area below ``min_area`` (their masks go with them);
    without aligned masks, boxes hidden below those thresholds are dropped. The pasted objects'
    tight boxes are appended with their labels. keypoints: those on pasted pixels are removed
    (``remove_invisible``); the other sample's keypoints on its pasted objects are added.

    Args:
        num_objects_range: range of the number of objects pasted (capped at the number the
            other sample has). Default: (1, 4).
        metadata_key: data key of the other sample(s): a dict or a list of dicts, one chosen at
            random per call. Default: "copy_paste_metadata".
        p: probability of applying the transform. Default: 0.5.

    Targets: image, images, mask, masks, bboxes, keypoints. Dtypes: uint8, float32.
    """

    family = "mixing"
    example_args = {"num_objects_range": (1, 2)}

    num_objects_range: tuple[int, int]
    metadata_key: str

    class InitSchema(TransformSchema):
        num_objects_range: Annotated[CountRange, Bounded("count")] = (1, 4)
        metadata_key: str = "copy_paste_metadata"
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> CopyPaste.InitSchema:
            low, high = self.num_objects_range
            if low < 0 or low > high:
                raise ValueError(
                    f"num_objects_range must satisfy 0 <= low <= high, got {self.num_objects_range}"
                )
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        items = metadata_items(sample, self.metadata_key)
        index = choose_item(rng, len(items))
        if index < 0:
            return {"index": -1, "objects": []}
        available = len(items[index].get("masks") or [])
        wanted = min(int(rng.integers(self.num_objects_range[0], self.num_objects_range[1] + 1)), available)
        chosen = rng.choice(available, size=wanted, replace=False) if wanted else np.zeros(0, dtype=np.int64)
        return {"index": index, "objects": [int(i) for i in np.sort(chosen)]}

    def apply_params(self, sample: Sample, params: dict[str, Any]) -> None:
        index = int(params["index"])
        objects = [int(i) for i in params["objects"]]
        if index < 0 or not objects:
            return
        raw = metadata_items(sample, self.metadata_key)[index]
        item = resize_item(load_item(raw, sample, self.metadata_key, index), sample.shape)
        assert item.masks is not None
        shapes = sample.shape
        objs = np.stack([np.asarray(item.masks[i]).reshape(shapes) != 0 for i in objects])
        pasted: np.ndarray = np.any(objs, axis=0)
        if not pasted.any():
            return

        main = sample.boxes.get("bboxes")
        masks_key = next(iter(sample.keys_of("masks")), None)
        aligned = main is not None and masks_key is not None and len(sample.arrays[masks_key]) == len(main)
        kept_masks: list[np.ndarray] | None = None
        if aligned:
            assert main is not None and masks_key is not None
            originals = list(sample.arrays[masks_key])
            instances = (
                np.stack([np.asarray(m).reshape(shapes) != 0 for m in originals]) if originals else None
            )
            if instances is not None and sample.bbox_params is not None:
                before = instances.sum(axis=(1, 2))
                remaining = instances & ~pasted
                after = remaining.sum(axis=(1, 2))
                tight, _ = masks_to_boxes(remaining)
                had = before > 0
                coords = np.where(had[:, None], tight, main.coords)
                with np.errstate(divide="ignore", invalid="ignore"):
                    fraction = np.where(had, after / np.maximum(before, 1), 1.0)
                keep = ~had | (
                    (after > 0)
                    & (fraction >= sample.bbox_params.min_visibility)
                    & (after >= sample.bbox_params.min_area)
                )
                main = main.with_coords(coords).take(keep)
                kept_masks = [np.where(pasted, 0, m).astype(m.dtype) for m, k in zip(originals, keep) if k]
            sample.boxes.pop("bboxes")

        sample.apply_occlusion(pasted, lambda img: paste(img, item.image.reshape(img.shape), pasted), None)

        if item.mask is not None:
            for key in list(sample.keys_of("mask")):
                mine = sample.arrays[key]
                sample.arrays[key] = paste(mine, item.mask.reshape(mine.shape).astype(mine.dtype), pasted)
        for key in list(sample.keys_of("masks")):
            value = sample.arrays[key]
            if key == masks_key and kept_masks is not None:
                dtype = value[0].dtype if len(value) else np.uint8
                new = kept_masks + [o.astype(dtype) for o in objs]
            else:
                new = [np.where(pasted, 0, m).astype(m.dtype) for m in value]
            sample.arrays[key] = np.stack(new) if isinstance(value, np.ndarray) and new else new

        if main is not None:
            added = None
            if item.boxes is not None and len(item.boxes) == len(item.masks):
                tight, _ = masks_to_boxes(objs)
                added = item.boxes.take(np.asarray(objects, dtype=np.int64)).with_coords(tight)
            sample.boxes["bboxes"] = concat_rows(main, added)
        if "keypoints" in sample.points and item.points is not None and len(item.points):
            on_objects = item.points.take(points_on(item.points, pasted))
            sample.points["keypoints"] = concat_rows(sample.points["keypoints"], on_objects)
