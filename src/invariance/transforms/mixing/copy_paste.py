"""Copy-Paste: paste object instances, with their masks and boxes, from another sample."""

from __future__ import annotations

from typing import Annotated, Any

import cv2
import numpy as np
from pydantic import model_validator

from invariance.core.budget import Bounded
from invariance.core.compat import DualTransform, Native
from invariance.core.effects import Effects, Item, Paste, Piece
from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema
from invariance.kernels.mixing import masks_to_boxes
from invariance.transforms.mixing.items import choose_item, fit, load_item, metadata_items
from invariance.transforms.occlusion.holes import CountRange


class CopyPaste(Native, DualTransform):
    """Paste object instances from another sample (*Simple Copy-Paste*, Ghiasi et al.).

    The other sample comes from the metadata; it needs ``image`` and ``masks`` (one instance
    mask per object) and, for boxes, ``bboxes`` aligned with ``masks`` plus the label fields. It
    is stretched to this sample's size and a random subset of ``num_objects_range`` of its objects
    is pasted in place. A pasted object hides what lies under it.

    Per target: image: the objects' pixels replace this sample's. mask: the other sample's ``mask``
    values are pasted over the objects' pixels; where it has no ``mask``, the objects' pixels
    become 0 (whatever was there is hidden). masks: when this
    sample's ``masks`` are aligned with its ``bboxes`` (one instance mask per box), each instance
    loses its hidden pixels, and the pasted objects' masks are appended (as 0/1 masks); otherwise
    the hidden pixels are cleared. BboxParams ``instance_masks`` declares the pairing outright. bboxes: aligned instances get their box recomputed from the remaining mask, and
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

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
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

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        index = int(params["index"])
        objects = [int(i) for i in params["objects"]]
        if index < 0 or not objects:
            return None
        raw = metadata_items(sample, self.metadata_key)[index]
        item = load_item(raw, sample, self.metadata_key, index)
        assert item.masks is not None
        stretch = fit(item.shape, sample.shape)
        chosen = [np.asarray(item.masks[i]).reshape(item.shape) != 0 for i in objects]
        # Where the objects land, at this sample's size (nearest neighbour, as the masks move).
        pasted = np.any([stretch.warp(m.view(np.uint8), cv2.INTER_NEAREST, cv2.BORDER_CONSTANT, 0) != 0
                         for m in chosen], axis=0)  # fmt: skip
        if not pasted.any():
            return None
        boxes = None
        if item.boxes is not None and len(item.boxes) == len(item.masks):
            tight, _ = masks_to_boxes(chosen)
            boxes = item.boxes.take(np.asarray(objects, dtype=np.int64)).with_coords(tight)
        objects_only = Item(item.image, item.mask, [m.astype(np.uint8) for m in chosen], boxes, item.points)
        piece = Piece(objects_only, stretch, region=pasted)
        return Paste(sample.shape, (piece,), reboxes_instances=True)
