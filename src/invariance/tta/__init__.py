"""Test-time augmentation with exact, invertible views.

Run a model on several views of a batch (square symmetries, scales, crops), map every prediction
back to the original image exactly, and combine them::

    from invariance import tta

    engine = tta.TTA(tta.d4_views(["identity", "hflip"]), aggregation="mean")
    probs = engine.classify(model, images)            # (N, C)
    logits = engine.segment(model, images)            # (N, H, W, C)
    dets = engine.detect(model, images, merge="wbf")  # per image: boxes, scores, labels
    points = engine.keypoints(model, images, labels=names, label_mapping={"mirror": swap})

See docs/tta.md.
"""

from invariance.tta.aggregate import AGGREGATIONS, aggregate, box_iou, nms, weighted_box_fusion
from invariance.tta.runner import TTA
from invariance.tta.torch import TorchModel
from invariance.tta.views import (
    CROP_POSITIONS,
    D4_NAMES,
    CropStep,
    FlipStep,
    NotInvertibleError,
    RescaleStep,
    View,
    as_view,
    d4_views,
    five_crop,
    flip_view,
    scale_views,
    ten_crop,
)

__all__ = [
    "AGGREGATIONS",
    "CROP_POSITIONS",
    "D4_NAMES",
    "TTA",
    "CropStep",
    "FlipStep",
    "NotInvertibleError",
    "RescaleStep",
    "TorchModel",
    "View",
    "aggregate",
    "as_view",
    "box_iou",
    "d4_views",
    "five_crop",
    "flip_view",
    "nms",
    "scale_views",
    "ten_crop",
    "weighted_box_fusion",
]
