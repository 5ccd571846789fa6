"""Batch-level MixUp and CutMix for classification training loops (soft labels).

Each image of a batch is mixed with its neighbour in the batch (the batch rolled by one, as
torchvision.transforms.v2 does) using one weight ``lam ~ Beta(alpha, alpha)`` per batch; the
labels become ``lam * one_hot(y) + (1 - lam) * one_hot(y_rolled)``, rows summing to 1.

Works on numpy batches ``(N, H, W, C)`` or ``(N, H, W)`` (uint8 or float) and on torch tensors
``(N, C, H, W)`` (torch is imported only when a tensor is passed)::

    mix = BatchMixUp(num_classes=10, alpha=0.2, seed=0)
    images, soft_labels = mix(images, labels)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from invariance.core.errors import InputError, ParameterError
from invariance.core.randomness import RandomStream

__all__ = ["BatchCutMix", "BatchMixUp", "cutmix_batch", "mixup_batch", "one_hot"]


def _is_torch(value: Any) -> bool:
    return type(value).__module__.split(".")[0] == "torch"


def one_hot(labels: Any, num_classes: int) -> Any:
    """Integer labels ``(N,)`` as float one-hot rows ``(N, num_classes)``; soft ``(N, K)`` labels
    pass through as floats."""
    if _is_torch(labels):
        import torch

        if labels.ndim == 2:
            return labels.float()
        return torch.nn.functional.one_hot(labels.long(), num_classes).float()
    array = np.asarray(labels)
    if array.ndim == 2:
        return array.astype(np.float32)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise InputError(f"labels: expected integer class ids of shape (N,), got {array.dtype} {array.shape}")
    if len(array) and (array.min() < 0 or array.max() >= num_classes):
        raise InputError(
            f"labels: class ids must lie in [0, {num_classes}), got {array.min()}..{array.max()}"
        )
    out = np.zeros((len(array), num_classes), dtype=np.float32)
    out[np.arange(len(array)), array] = 1.0
    return out


def _check(images: Any, labels: Any, num_classes: int) -> None:
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ParameterError(f"num_classes = {num_classes!r} is invalid: expected an integer >= 1")
    if len(images) != len(labels):
        raise InputError(f"images has {len(images)} entries but labels has {len(labels)}")


def _roll(value: Any) -> Any:
    if _is_torch(value):
        return value.roll(1, 0)
    return np.roll(value, 1, axis=0)


def mixup_batch(images: Any, labels: Any, num_classes: int, lam: float) -> tuple[Any, Any]:
    """MixUp a batch with its roll by one, with the given weight ``lam`` (no randomness)."""
    _check(images, labels, num_classes)
    target = one_hot(labels, num_classes)
    mixed_labels = target * lam + _roll(target) * (1.0 - lam)
    if _is_torch(images):
        source = images if images.is_floating_point() else images.float()
        mixed = source * lam + _roll(source) * (1.0 - lam)
        if not images.is_floating_point():
            mixed = mixed.round().clamp(0, 255).to(images.dtype)
        return mixed, mixed_labels
    array = np.asarray(images)
    mixed_f = array.astype(np.float32) * np.float32(lam) + _roll(array).astype(np.float32) * np.float32(
        1.0 - lam
    )
    if array.dtype == np.uint8:
        return np.clip(np.rint(mixed_f), 0, 255).astype(np.uint8), mixed_labels
    return mixed_f.astype(array.dtype), mixed_labels


def cutmix_batch(
    images: Any, labels: Any, num_classes: int, rect: tuple[int, int, int, int]
) -> tuple[Any, Any, float]:
    """CutMix a batch with its roll by one inside ``rect = (x0, y0, x1, y1)`` (no randomness).

    Returns the images, the soft labels and the weight of the original images (kept area).
    """
    _check(images, labels, num_classes)
    torch_layout = _is_torch(images)
    h, w = (images.shape[-2], images.shape[-1]) if torch_layout else (images.shape[1], images.shape[2])
    x0, y0, x1, y1 = rect
    lam = 1.0 - (x1 - x0) * (y1 - y0) / float(h * w)
    target = one_hot(labels, num_classes)
    mixed_labels = target * lam + _roll(target) * (1.0 - lam)
    rolled = _roll(images)
    out = images.clone() if torch_layout else np.array(images, copy=True)
    if torch_layout:
        out[..., y0:y1, x0:x1] = rolled[..., y0:y1, x0:x1]
    else:
        out[:, y0:y1, x0:x1] = rolled[:, y0:y1, x0:x1]
    return out, mixed_labels, lam


class _BatchMix:
    def __init__(self, num_classes: int, alpha: float = 1.0, p: float = 1.0, seed: int | None = None) -> None:
        name = type(self).__name__
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ParameterError(
                f"{name}: argument 'num_classes' = {num_classes!r} is invalid: expected an integer >= 1"
            )
        if not isinstance(alpha, (int, float)) or not alpha > 0:
            raise ParameterError(f"{name}: argument 'alpha' = {alpha!r} is invalid: expected a number > 0")
        if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ParameterError(f"{name}: argument 'p' = {p!r} is invalid: expected a number in [0, 1]")
        self.num_classes = num_classes
        self.alpha = float(alpha)
        self.p = float(p)
        self._stream = RandomStream(seed)

    def set_random_seed(self, seed: int | None) -> None:
        self._stream = RandomStream(seed)


class BatchMixUp(_BatchMix):
    """MixUp a batch: ``x = lam x + (1 - lam) x_rolled``, labels mixed the same way.

    Args:
        num_classes: number of classes of the one-hot labels.
        alpha: Beta(alpha, alpha) concentration of ``lam``, > 0. Default: 1.0.
        p: probability of mixing a batch (else labels only become one-hot). Default: 1.0.
        seed: seed of the batch mixer's own Generator. Default: None.
    """

    def __call__(self, images: Any, labels: Any) -> tuple[Any, Any]:
        rng = self._stream.generator()
        if rng.random() >= self.p:
            return images, one_hot(labels, self.num_classes)
        return mixup_batch(images, labels, self.num_classes, float(rng.beta(self.alpha, self.alpha)))


class BatchCutMix(_BatchMix):
    """CutMix a batch: a rectangle of each image comes from its neighbour in the batch; labels
    are weighted by the exact kept area.

    Args: as :class:`BatchMixUp`.
    """

    def __call__(self, images: Any, labels: Any) -> tuple[Any, Any]:
        rng = self._stream.generator()
        if rng.random() >= self.p:
            return images, one_hot(labels, self.num_classes)
        torch_layout = _is_torch(images)
        h, w = (images.shape[-2], images.shape[-1]) if torch_layout else (images.shape[1], images.shape[2])
        cut = math.sqrt(1.0 - float(rng.beta(self.alpha, self.alpha)))
        cw, ch = int(w * cut), int(h * cut)
        cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
        rect = (
            max(cx - cw // 2, 0),
            max(cy - ch // 2, 0),
            min(cx + cw - cw // 2, w),
            min(cy + ch - ch // 2, h),
        )
        mixed, soft, _ = cutmix_batch(images, labels, self.num_classes, rect)
        return mixed, soft
