"""Run a model on every view of a batch and bring the predictions back to the original image."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from invariance.core.errors import ParameterError
from invariance.tta.aggregate import AGGREGATIONS, aggregate, nms, weighted_box_fusion
from invariance.tta.views import View, _as_batch, as_view

Model = Callable[[np.ndarray], Any]


class TTA:
    """Test-time augmentation over a fixed list of invertible views.

    The model is any callable taking a numpy batch ``(N, H, W, C)`` (the image dtype is kept) and
    returning numpy-convertible predictions; it is called once per view with the whole batch. Views
    that change the size (scales, crops, 90-degree turns of non-square images) give the model
    batches of another size.

    Args:
        views: :class:`View` objects, view names (``"hflip"``...) or exact transforms
            (``HorizontalFlip()``...); anything else raises :class:`NotInvertibleError`.
        aggregation: ``mean``, ``gmean``, ``max`` or ``vote`` (see :func:`aggregate`).

    Example:
        >>> tta = TTA(d4_views(["identity", "hflip"]))   # doctest: +SKIP
        >>> probs = tta.classify(model, images)          # doctest: +SKIP
    """

    def __init__(self, views: Iterable[View | str | Any], aggregation: str = "mean") -> None:
        self.views = [as_view(v) for v in views]
        if not self.views:
            raise ParameterError("TTA: views must name at least one view")
        if aggregation not in AGGREGATIONS:
            raise ParameterError(f"TTA: aggregation must be one of {AGGREGATIONS}, got {aggregation!r}")
        self.aggregation = aggregation

    def __repr__(self) -> str:
        return f"TTA(views={[v.name for v in self.views]}, aggregation={self.aggregation!r})"

    def augment(self, images: np.ndarray) -> list[np.ndarray]:
        """The batch seen through each view, in the order of ``views``."""
        return [view.apply(images) for view in self.views]

    def _run(self, model: Model, images: np.ndarray) -> tuple[np.ndarray, list[Any]]:
        batch, _ = _as_batch(images)
        return batch, [model(view.apply(batch)) for view in self.views]

    def classify(self, model: Model, images: np.ndarray, aggregation: str | None = None) -> np.ndarray:
        """Aggregated ``(N, C)`` class scores; views do not move class scores."""
        _, outputs = self._run(model, images)
        stack = np.stack([np.asarray(o) for o in outputs])
        return aggregate(stack, aggregation or self.aggregation)

    def deaugment_dense(
        self,
        outputs: Sequence[np.ndarray],
        shape: tuple[int, int],
        layout: str = "NHWC",
        interpolation: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Map per-view dense batches back: ``(V, N, H, W[, C])`` predictions and ``(V, N, H, W)`` coverage.

        ``layout`` is how the model returns them: ``NHWC`` (channels last), ``NCHW`` (channels
        first) or ``NHW`` (one value per pixel: an integer label mask or a single score map). The
        result is always channels last. ``interpolation`` resizes scaled views back (see
        :meth:`View.invert_dense`).
        """
        if layout not in ("NHWC", "NCHW", "NHW"):
            raise ParameterError(f"layout must be 'NHWC', 'NCHW' or 'NHW', got {layout!r}")
        preds, covers = [], []
        for view, out in zip(self.views, outputs, strict=True):
            out = np.asarray(out)
            if out.ndim != (3 if layout == "NHW" else 4):
                raise ParameterError(
                    f"view {view.name!r}: a {layout} prediction must be {len(layout)}-D, got {out.shape}"
                )
            if layout == "NCHW":
                out = np.moveaxis(out, 1, -1)
            backs = [view.invert_dense(p, shape, interpolation) for p in out]
            preds.append(np.stack([b[0] for b in backs]))
            covers.append(np.stack([b[1] for b in backs]))
        return np.stack(preds), np.stack(covers)

    def segment(
        self,
        model: Model,
        images: np.ndarray,
        layout: str = "NHWC",
        aggregation: str | None = None,
        interpolation: int | None = None,
    ) -> np.ndarray:
        """Aggregated dense predictions in the model's ``layout``, at the input size.

        Float predictions (logits, probabilities) are aggregated with ``aggregation`` per pixel
        among the views that covered it. Integer ``NHW`` label masks are always combined by vote
        (the most frequent label, ties to the lower label) and come back as integers; uncovered
        pixels (only possible with crop views) get 0.
        """
        batch, outputs = self._run(model, images)
        shape = batch.shape[1:3]
        stack, coverage = self.deaugment_dense(outputs, shape, layout, interpolation)
        method = aggregation or self.aggregation
        if stack.dtype.kind in "iub" and layout == "NHW":
            n_classes = int(stack.max()) + 1 if stack.size else 1
            onehot = np.eye(n_classes)[stack]
            votes = aggregate(onehot, "vote", coverage[..., None])
            return votes.argmax(axis=-1).astype(stack.dtype)
        if layout == "NHW":
            return aggregate(stack[..., None], method, coverage[..., None])[..., 0]
        result = aggregate(stack, method, coverage[..., None])
        return np.moveaxis(result, -1, 1) if layout == "NCHW" else result

    def detect(
        self,
        model: Model,
        images: np.ndarray,
        merge: str = "wbf",
        iou_threshold: float = 0.55,
        score_threshold: float = 0.0,
    ) -> list[dict[str, np.ndarray]]:
        """Boxes of all views mapped back and merged per image.

        The model returns, per image, a mapping with ``boxes`` (``(K, 4)`` pascal_voc pixels in the
        view), ``scores`` (``(K,)``) and optionally ``labels`` (``(K,)``). Boxes under
        ``score_threshold`` are dropped, the rest are mapped back (clipped to the image) and
        merged with ``nms`` or ``wbf`` (weighted box fusion, the default). Returns one dict with
        ``boxes``, ``scores``, ``labels`` per image.
        """
        if merge not in ("wbf", "nms"):
            raise ParameterError(f"merge must be 'wbf' or 'nms', got {merge!r}")
        batch, outputs = self._run(model, images)
        shape = batch.shape[1:3]
        results = []
        for n in range(len(batch)):
            per_view = [
                self.deaugment_boxes(view, out[n], shape)
                for view, out in zip(self.views, outputs, strict=True)
            ]
            boxes = np.concatenate([p["boxes"] for p in per_view])
            scores = np.concatenate([p["scores"] for p in per_view])
            labels = np.concatenate([p["labels"] for p in per_view])
            kept = scores >= score_threshold
            boxes, scores, labels = boxes[kept], scores[kept], labels[kept]
            if merge == "nms":
                keep = nms(boxes, scores, labels, iou_threshold)
                results.append({"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]})
            else:
                fb, fs, fl = weighted_box_fusion(
                    boxes, scores, labels, iou_threshold, n_views=len(self.views)
                )
                results.append({"boxes": fb, "scores": fs, "labels": fl})
        return results

    @staticmethod
    def deaugment_boxes(
        view: View, prediction: Mapping[str, Any], shape: tuple[int, int]
    ) -> dict[str, np.ndarray]:
        """One image's ``{boxes, scores, labels}`` from ``view`` mapped back to the original image."""
        if not isinstance(prediction, Mapping) or "boxes" not in prediction or "scores" not in prediction:
            raise ParameterError(
                f"view {view.name!r}: a detection must be a mapping with 'boxes' and 'scores' (and 'labels')"
            )
        boxes = np.asarray(prediction["boxes"], dtype=np.float64).reshape(-1, 4)
        scores = np.asarray(prediction["scores"], dtype=np.float64).reshape(-1)
        labels = np.asarray(prediction.get("labels", np.zeros(len(boxes), np.int64))).reshape(-1)
        return {"boxes": view.invert_boxes(boxes, shape), "scores": scores, "labels": labels}

    def keypoints(
        self,
        model: Model,
        images: np.ndarray,
        labels: Sequence[Any] | None = None,
        label_mapping: Mapping[str, Mapping[Any, Any]] | None = None,
        aggregation: str = "mean",
    ) -> np.ndarray:
        """Keypoints of all views mapped back, slot by slot, and averaged.

        The model returns ``(N, K, 2 + extra)`` arrays: ``x, y`` in the pixel-index frame, one row
        per slot (e.g. a skeleton joint), extra columns (confidence...) carried along.
        ``labels`` names the K slots; ``label_mapping`` (``{view_or_step_name: {old: new}}``, see
        :meth:`View.invert_keypoints`) swaps left and right slots for mirrored views. Rows are
        combined with ``mean`` or ``median`` over the views.
        """
        if aggregation not in ("mean", "median"):
            raise ParameterError(f"keypoint aggregation must be 'mean' or 'median', got {aggregation!r}")
        batch, outputs = self._run(model, images)
        shape = batch.shape[1:3]
        per_view = np.stack(
            [
                np.stack([view.invert_keypoints(p, shape, labels, label_mapping) for p in np.asarray(out)])
                for view, out in zip(self.views, outputs, strict=True)
            ]
        )
        return per_view.mean(axis=0) if aggregation == "mean" else np.median(per_view, axis=0)
