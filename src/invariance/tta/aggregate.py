"""Combine the predictions of several views: score aggregation, NMS and weighted box fusion."""

from __future__ import annotations

from typing import Literal

import numpy as np

from invariance.core.errors import ParameterError

Aggregation = Literal["mean", "gmean", "max", "vote"]
AGGREGATIONS = ("mean", "gmean", "max", "vote")


def aggregate(stack: np.ndarray, method: str = "mean", weights: np.ndarray | None = None) -> np.ndarray:
    """Combine per-view predictions stacked on axis 0, the class (or channel) axis last.

    Args:
        stack: ``(V, ..., C)`` predictions of V views.
        method: ``mean`` (weighted arithmetic mean), ``gmean`` (weighted geometric mean; values
            must be non-negative, such as probabilities), ``max`` (largest value among the views
            that count), or ``vote`` (each view votes for its arg-max class along the last axis;
            the result is the weighted fraction of votes per class, so its arg-max is the majority,
            ties going to the lower class index).
        weights: broadcastable to ``stack``; 0 where a view does not count (a crop that did not
            cover a pixel). Default: every view counts once. Where no view counts the result is 0.

    Returns:
        ``(..., C)`` float64 array.
    """
    if method not in AGGREGATIONS:
        raise ParameterError(f"aggregation must be one of {AGGREGATIONS}, got {method!r}")
    values = np.asarray(stack, dtype=np.float64)
    if values.ndim < 2:
        raise ParameterError(f"stack must have a view axis and a class axis, got shape {values.shape}")
    w = np.ones((1,) * values.ndim) if weights is None else np.asarray(weights, dtype=np.float64)
    w = np.broadcast_to(w, values.shape)
    total = w.sum(axis=0)
    safe_total = np.where(total > 0, total, 1.0)
    if method == "mean":
        return np.where(total > 0, (w * values).sum(axis=0) / safe_total, 0.0)
    if method == "gmean":
        if values.size and values.min() < 0:
            raise ParameterError(
                f"aggregation 'gmean' needs non-negative scores (probabilities), got a minimum of {values.min():g}"
            )
        with np.errstate(divide="ignore"):
            logs = np.log(values)
        weighted = np.where(w > 0, w * logs, 0.0)
        return np.where(total > 0, np.exp(weighted.sum(axis=0) / safe_total), 0.0)
    if method == "max":
        best = np.where(w > 0, values, -np.inf).max(axis=0)
        return np.where(np.isfinite(best), best, 0.0)
    winners = values.argmax(axis=-1)
    onehot = np.eye(values.shape[-1])[winners]
    return np.where(total > 0, (w * onehot).sum(axis=0) / safe_total, 0.0)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection over union of ``(N, 4)`` and ``(M, 4)`` pascal_voc boxes: ``(N, M)``."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(axis=1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def nms(
    boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray | None = None, iou_threshold: float = 0.5
) -> np.ndarray:
    """Greedy non-maximum suppression; returns the kept indices, best score first.

    A box is dropped when it overlaps an already kept box of the same label with IoU strictly
    above ``iou_threshold``. Equal scores keep the earlier box.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(scores) != len(boxes):
        raise ParameterError(f"nms: {len(boxes)} boxes but {len(scores)} scores")
    same = np.ones((len(boxes), len(boxes)), bool)
    if labels is not None:
        labels = np.asarray(labels)
        same = labels[:, None] == labels[None, :]
    order = np.argsort(-scores, kind="stable")
    suppressed = np.zeros(len(boxes), bool)
    iou = box_iou(boxes, boxes)
    keep: list[int] = []
    for i in order:
        if suppressed[i]:
            continue
        keep.append(int(i))
        suppressed |= (iou[i] > iou_threshold) & same[i]
    return np.asarray(keep, dtype=np.int64)


def weighted_box_fusion(
    boxes: np.ndarray,
    scores: np.ndarray,
    labels: np.ndarray | None = None,
    iou_threshold: float = 0.55,
    n_views: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted box fusion (Solovyev, Wang and Gabruseva, 2019, arXiv:1910.13302).

    Boxes are taken best score first. Each joins the first cluster of its label whose fused box it
    overlaps with IoU strictly above ``iou_threshold``, or starts a new cluster. A cluster's box is
    the score-weighted mean of its members; its score is the mean member score times
    ``min(members, n_views) / n_views``, so a box found by only some views is trusted less.

    Returns:
        ``(boxes (K, 4), scores (K,), labels (K,))`` of the fused clusters, best score first.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    labels = np.zeros(len(boxes), np.int64) if labels is None else np.asarray(labels)
    if not len(scores) == len(boxes) == len(labels):
        raise ParameterError(
            f"weighted_box_fusion: {len(boxes)} boxes, {len(scores)} scores, {len(labels)} labels"
        )
    if n_views < 1:
        raise ParameterError(f"weighted_box_fusion: n_views must be >= 1, got {n_views}")
    order = np.argsort(-scores, kind="stable")
    fused = np.zeros((0, 4))
    fused_labels: list[object] = []
    members: list[list[int]] = []
    for i in order:
        candidates = np.flatnonzero(np.asarray([lab == labels[i] for lab in fused_labels], bool))
        target = -1
        if len(candidates):
            ious = box_iou(boxes[i], fused[candidates])[0]
            above = np.flatnonzero(ious > iou_threshold)
            if len(above):
                target = int(candidates[above[0]])
        if target < 0:
            members.append([int(i)])
            fused_labels.append(labels[i])
            fused = np.vstack([fused, boxes[i]])
        else:
            members[target].append(int(i))
            idx = np.asarray(members[target])
            weight = scores[idx] if scores[idx].sum() > 0 else np.ones(len(idx))
            fused[target] = (weight[:, None] * boxes[idx]).sum(axis=0) / weight.sum()
    out_scores = np.asarray(
        [scores[m].mean() * min(len(m), n_views) / n_views for m in members], dtype=np.float64
    )
    rank = np.argsort(-out_scores, kind="stable")
    out_labels = np.asarray(fused_labels, dtype=labels.dtype) if fused_labels else labels[:0]
    return fused[rank], out_scores[rank], out_labels[rank]
