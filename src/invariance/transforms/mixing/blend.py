"""MixUp and CutMix of one sample with another sample given through metadata.

Albumentations 2.0.8 has neither, so their parameters follow the papers and torchvision:
a mixing weight ``lambda ~ Beta(alpha, alpha)`` (``alpha = 1`` by default, i.e. uniform).
The weights actually used are reported in the output under ``weights_key``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import Field

from invariance.core.compat import DualTransform, Native
from invariance.core.effects import Effects, Item, Paste, Piece, Report
from invariance.core.geometry import Chain, CropWindow
from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema
from invariance.transforms.mixing.items import choose_item, fit, load_item, metadata_items


class _PairMix(Native, DualTransform):
    """Shared parts of MixUp and CutMix: pick the other sample, report the weights."""

    family = "mixing"
    alpha: float
    metadata_key: str
    label_key: str | None
    weights_key: str

    def _other(self, sample: Sample, index: int) -> Item | None:
        items = metadata_items(sample, self.metadata_key)
        if index < 0 or index >= len(items):
            return None
        return load_item(items[index], sample, self.metadata_key, index)

    def _report(self, sample: Sample, index: int, weight: float) -> Report:
        report: dict[str, Any] = {"weights": [weight] if index < 0 else [weight, 1.0 - weight]}
        if self.label_key is not None:
            labels = [sample.data.get(self.label_key)]
            if index >= 0:
                other = metadata_items(sample, self.metadata_key)[index]
                labels.append(other.get(self.label_key))
            report["labels"] = labels
        # An output-only entry: not a target kind, so later transforms leave it alone.
        return Report(self.weights_key, report)


_COMMON_DOC = """
        alpha: concentration of the Beta(alpha, alpha) distribution of the weight, > 0.
            Default: 1.0 (uniform).
        metadata_key: data key holding the other sample(s): a dict or a list of dicts with
            ``image`` and optionally ``mask``, ``masks``, ``bboxes``, ``keypoints`` and label
            fields, in the pipeline's formats. Default: "{key}".
        label_key: data key of a class label (in the call's data and in each other sample),
            reported with the weights; None to report weights only. Default: None.
        weights_key: output key of the report ``{{"weights": [w, 1 - w], "labels": [...]}}``
            (``weights`` sum to 1; with no other sample it is ``[1.0]``). Default: "mix_weights".
        p: probability of applying the transform. Default: 0.5.
"""


class MixUp(_PairMix):
    """Blend the image with another sample's image (*mixup*, Zhang et al.; YOLOX-style for detection).

    One other sample is drawn from the metadata and stretched to this sample's size.

    Per target: image: ``w * image + (1 - w) * other``, ``w ~ Beta(alpha, alpha)``. mask: the mask of
    the sample with the larger weight, completed by the other's mask where it is background (0).
    masks: the other sample's ``masks`` are appended. bboxes and keypoints: the union of both
    samples' rows, labels following their rows. Without metadata nothing changes but the report.

    Args:{doc}
    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"alpha": 0.4}

    class InitSchema(TransformSchema):
        alpha: float = Field(default=1.0, gt=0.0)
        metadata_key: str = "mixup_metadata"
        label_key: str | None = None
        weights_key: str = "mix_weights"
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        index = choose_item(rng, len(metadata_items(sample, self.metadata_key)))
        weight = float(rng.beta(self.alpha, self.alpha)) if index >= 0 else 1.0
        return {"index": index, "weight": weight}

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        index, weight = int(params["index"]), float(params["weight"])
        report = self._report(sample, index, weight)
        other = self._other(sample, index)
        if other is None:
            return report
        piece = Piece(other, fit(other.shape, sample.shape), alpha=weight)
        return report, Paste(sample.shape, (piece,))


class CutMix(_PairMix):
    """Paste a rectangle of another sample into this one (*CutMix*, Yun et al.).

    ``w ~ Beta(alpha, alpha)``; the rectangle has sides ``sqrt(1 - w)`` times the image's, a
    uniformly random centre, and is clipped to the image. The reported weight is the exact
    fraction of pixels kept from this sample.

    Per target: image: the rectangle comes from the other sample. mask: likewise (0 where the other
    sample has no mask). masks: zero inside the rectangle. bboxes: this sample's boxes are
    dropped when the rectangle hides them below BboxParams ``min_visibility`` / ``min_area``;
    the other sample's boxes are clipped to the rectangle (and filtered the same way) and added.
    keypoints: this sample's keypoints inside the rectangle are removed (``remove_invisible``);
    the other's inside it are added. Without metadata nothing changes but the report.

    Args:{doc}
    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    example_args = {"alpha": 1.0}

    class InitSchema(TransformSchema):
        alpha: float = Field(default=1.0, gt=0.0)
        metadata_key: str = "cutmix_metadata"
        label_key: str | None = None
        weights_key: str = "mix_weights"
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        index = choose_item(rng, len(metadata_items(sample, self.metadata_key)))
        if index < 0:
            return {"index": -1, "rect": [0, 0, 0, 0], "weight": 1.0}
        h, w = sample.shape
        cut = math.sqrt(1.0 - float(rng.beta(self.alpha, self.alpha)))
        cw, ch = int(w * cut), int(h * cut)
        cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
        x0, x1 = max(cx - cw // 2, 0), min(cx + cw - cw // 2, w)
        y0, y1 = max(cy - ch // 2, 0), min(cy + ch - ch // 2, h)
        weight = 1.0 - (x1 - x0) * (y1 - y0) / float(h * w)
        return {"index": index, "rect": [x0, y0, x1, y1], "weight": weight}

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        index, weight = int(params["index"]), float(params["weight"])
        report = self._report(sample, index, weight)
        other = self._other(sample, index)
        x0, y0, x1, y1 = (int(v) for v in params["rect"])
        if other is None or x1 <= x0 or y1 <= y0:
            return report
        # The other sample, stretched to this one's size, shows through the rectangle only.
        stretched = fit(other.shape, sample.shape)
        window = Chain((stretched, CropWindow(x0, y0, sample.shape, (y1 - y0, x1 - x0))))
        return report, Paste(sample.shape, (Piece(other, window, offset=(x0, y0)),))


MixUp.__doc__ = (MixUp.__doc__ or "").replace("{doc}", _COMMON_DOC.format(key="mixup_metadata"))
CutMix.__doc__ = (CutMix.__doc__ or "").replace("{doc}", _COMMON_DOC.format(key="cutmix_metadata"))
