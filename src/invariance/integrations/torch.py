"""PyTorch: a ``Dataset`` that runs a policy on each sample, and collate functions for targets.

Importing this module imports torch (``pip install invariance[torch]``).

Seeding works without any ``worker_init_fn``: a :class:`~invariance.Compose` notices that it
runs inside a DataLoader worker and reseeds its stream from its own seed and PyTorch's worker
seed (see :mod:`invariance.core.randomness`), so workers differ, epochs differ, and a script that
calls ``torch.manual_seed`` reproduces exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from invariance.core.errors import InputError, ParameterError
from invariance.integrations import require
from invariance.pytorch import ToTensorV2

torch: Any = require("torch", "torch")
_data: Any = require("torch.utils.data", "torch")

__all__ = [
    "AugmentedDataset",
    "CachedDataset",
    "ToTensorV2",
    "collate_detection",
    "collate_padded",
    "image_folder",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def image_folder(root: str | Path) -> tuple[list[tuple[Path, int]], list[str]]:
    """``(path, class_index)`` pairs of the images under ``root/<class>/``, and the class names.

    Classes are the sorted names of the first-level folders; images directly under ``root`` get
    class ``-1`` when there are no class folders at all.
    """
    base = Path(root)
    if not base.is_dir():
        raise ParameterError(f"image_folder: {str(base)!r} is not a directory")
    classes = sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
    items: list[tuple[Path, int]] = []
    if classes:
        for index, name in enumerate(classes):
            items += [(p, index) for p in _images_under(base / name)]
    else:
        items = [(p, -1) for p in _images_under(base)]
    return items, classes


def _images_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def _read_rgb(path: Path) -> np.ndarray:
    from invariance.core.image_io import read_image

    return read_image(path)


class AugmentedDataset(_data.Dataset):  # type: ignore[misc]
    """A map-style ``torch.utils.data.Dataset`` that runs ``policy`` on every sample it returns.

    ``source`` is either a folder (``root/<class>/*.jpg``, read as RGB; items are
    ``(image, class_index)``) or any indexable sequence with ``len()``:

    - a dict sample is passed to the policy as keywords (``image``, ``mask``, ``bboxes``,
      ``labels``...) and the policy's output dict is returned (minus nothing: extra keys pass through);
    - an ``(image, target)`` pair has its image augmented and its target passed through;
    - an array is an image; the augmented image is returned;
    - a path (``str`` or ``Path``) is read as an RGB image first.

    Args:
        source: a folder path or an indexable sequence of samples.
        policy: a transform or a Compose (put ``ToTensorV2()`` last to get tensors), or None.
        loader: reads a path into an image array. Default: RGB uint8 through OpenCV.
        decode_aware: with the default loader and a policy, read each path with
            :func:`invariance.io.read_augmented`: a JPEG whose first crop or resize shrinks it is
            decoded at 1/2, 1/4 or 1/8 (same windows and targets for a seed; image pixels within
            the resampling difference of docs/loading.md). False decodes every image in full.
    """

    def __init__(
        self,
        source: str | Path | Sequence[Any],
        policy: Callable[..., Mapping[str, Any]] | None = None,
        loader: Callable[[Path], np.ndarray] | None = None,
        decode_aware: bool = True,
    ) -> None:
        self.classes: list[str] = []
        self.source: Sequence[Any]
        if isinstance(source, (str, Path)):
            self.source, self.classes = image_folder(source)
        else:
            if not hasattr(source, "__getitem__") or not hasattr(source, "__len__"):
                raise ParameterError(
                    f"AugmentedDataset: source must be a folder or an indexable sequence, got {type(source).__name__}"
                )
            self.source = source
        self.policy = policy
        self.loader = loader or _read_rgb
        self.decode_aware = bool(decode_aware) and loader is None

    def __len__(self) -> int:
        return len(self.source)

    def _image(self, value: Any) -> Any:
        return self.loader(Path(value)) if isinstance(value, (str, Path)) else value

    def _augment(self, data: dict[str, Any]) -> dict[str, Any]:
        """Read ``data["image"]`` when it is a path, and run the policy (decode-aware when on)."""
        image = data["image"]
        if self.policy is None:
            data["image"] = self._image(image)
            return data
        if self.decode_aware and isinstance(image, (str, Path)):
            from invariance.io import read_augmented

            rest = {key: value for key, value in data.items() if key != "image"}
            return read_augmented(image, self.policy, **rest)
        data["image"] = self._image(image)
        return dict(self.policy(**data))

    def __getitem__(self, index: int) -> Any:
        item = self.source[index]
        if isinstance(item, Mapping):
            data = dict(item)
            if "image" not in data:
                raise InputError(
                    f"AugmentedDataset: sample {index} has no 'image' key (keys: {sorted(data)})"
                )
            return self._augment(data)
        if isinstance(item, tuple) and len(item) == 2:
            image, target = item
            return self._augment({"image": image})["image"], target
        return self._augment({"image": item})["image"]


class CachedDataset(AugmentedDataset):
    """An :class:`AugmentedDataset` that decodes and runs the policy's deterministic head once.

    The policy is split by :func:`invariance.integrations.cache.split_policy`: the leading steps
    that draw no random numbers (``Resize``, ``CenterCrop``, ``LongestMaxSize`` with one size...,
    each with ``p=1``) form the head. The first time a sample is read, it is decoded and the head
    runs; the result is stored. Every later read, in any epoch, starts from the stored result and
    runs only the random tail, drawing from the same seeded stream as the full policy, so a seeded
    policy gives the same samples as the uncached path (see that module for the one exception,
    warp fusion across the cut).

    Samples and their return types are those of :class:`AugmentedDataset`. A changed head (other
    size, other interpolation, other invariance version) has another fingerprint, hence another
    cache; a changed source file (size or modification time) empties the cache on disk.

    Args:
        source: a folder path or an indexable sequence of samples (as for AugmentedDataset).
        policy: a transform or a Compose. Put ``ToTensorV2()`` last: it stays in the tail.
        cache: ``"memory"`` (per process: call :meth:`warm` before the DataLoader forks its
            workers, or use ``persistent_workers=True``), ``"disk"`` (``.npy`` files under
            ``cache_dir``, shared by workers and runs), or None (no storage: head and tail run on
            every read, the uncached reference).
        cache_dir: folder for ``cache="disk"``.
        loader: reads a path into an image array. Default: RGB uint8 through OpenCV.
    """

    def __init__(
        self,
        source: str | Path | Sequence[Any],
        policy: Any,
        cache: str | None = "memory",
        cache_dir: str | Path | None = None,
        loader: Callable[[Path], np.ndarray] | None = None,
    ) -> None:
        from invariance.integrations.cache import PrefixCache, source_signature, split_policy

        super().__init__(source, policy, loader)
        if cache not in ("memory", "disk", None):
            raise ParameterError(
                f"CachedDataset: cache={cache!r} is invalid: expected 'memory', 'disk' or None"
            )
        if cache == "disk" and cache_dir is None:
            raise ParameterError(
                "CachedDataset: cache='disk' needs cache_dir, the folder to keep the files in"
            )
        self.split = split_policy(policy)
        self.cache_mode = cache
        self.store: PrefixCache | None = None
        if cache is not None and self.split.head is not None:
            directory = cache_dir if cache == "disk" else None
            self.store = PrefixCache(self.split, directory, source_signature(self.source))

    def warm(self) -> int:
        """Run the head on every sample not yet stored; return how many were computed."""
        computed = 0
        for index in range(len(self)):
            if self.store is not None and self.store.get(index) is None:
                self._head_output(index)
                computed += 1
        return computed

    def _head_input(self, item: Any, index: int) -> dict[str, Any]:
        if isinstance(item, Mapping):
            data = dict(item)
            if "image" not in data:
                raise InputError(f"CachedDataset: sample {index} has no 'image' key (keys: {sorted(data)})")
            data["image"] = self._image(data["image"])
            return data
        image = item[0] if isinstance(item, tuple) and len(item) == 2 else item
        return {"image": self._image(image)}

    def _head_output(self, index: int) -> Any:
        """The head's output for sample ``index``: stored, or computed (and stored)."""
        from invariance.integrations.cache import run_head

        if self.store is not None:
            stored = self.store.get(index)
            if stored is not None:
                return stored
        item = self.source[index]
        out = run_head(self.split, self._head_input(item, index))
        value: Any = out if isinstance(item, Mapping) else out["image"]
        if self.store is not None:
            self.store.put(index, value)
        return value

    def __getitem__(self, index: int) -> Any:
        item = self.source[index]
        head = self._head_output(index)
        if isinstance(item, Mapping):
            return dict(self.split.tail(**head))
        image = self.split.tail(image=head)["image"]
        if isinstance(item, tuple) and len(item) == 2:
            return image, item[1]
        return image


def _as_tensor(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value
    array = np.asarray(value)
    if array.dtype == object:
        raise InputError("collate: cannot make a tensor of mixed-type values")
    return torch.from_numpy(np.ascontiguousarray(array))


def _stack_images(images: list[Any]) -> Any:
    tensors = [_as_tensor(image) for image in images]
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise InputError(f"collate: images have different shapes {sorted(shapes)}; resize or crop them first")
    return torch.stack(tensors)


def _rows(value: Any, width: int | None = None) -> Any:
    """A per-sample list of boxes or keypoints as a float32 ``(N, D)`` tensor (``(0, D)`` when empty)."""
    array = np.asarray(value, dtype=np.float32)
    if array.size == 0:
        return torch.zeros((0, width or 0), dtype=torch.float32)
    return torch.from_numpy(np.ascontiguousarray(array.reshape(len(array), -1)))


#: Keys stacked into one tensor by the collate functions; every other key stays a per-sample list.
STACKED_KEYS = ("image", "mask")
#: Keys whose rows become ``(N, D)`` float32 tensors.
ROW_KEYS = ("bboxes", "keypoints")


def collate_detection(batch: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Collate samples with different numbers of boxes and keypoints: stack images, keep lists.

    ``image`` (and ``mask`` when present) become one ``(B, ...)`` tensor; ``bboxes`` and
    ``keypoints`` become lists of ``(N_i, D)`` float32 tensors; any other key (labels, ids...)
    becomes a list with one entry per sample, as each sample gave it (labels as int64 tensors when
    they are numbers). Use as ``DataLoader(..., collate_fn=collate_detection)``.
    """
    if not batch:
        raise InputError("collate_detection: the batch is empty")
    out: dict[str, Any] = {}
    for key in batch[0]:
        values = [sample[key] for sample in batch]
        if key in STACKED_KEYS:
            out[key] = _stack_images(values)
        elif key in ROW_KEYS:
            out[key] = [_rows(v, 4 if key == "bboxes" else None) for v in values]
        elif all(_is_number_list(v) for v in values):
            out[key] = [torch.as_tensor(list(v), dtype=torch.int64) for v in values]
        else:
            out[key] = values
    return out


def _is_number_list(value: Any) -> bool:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray)):
        return False
    return all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)


def collate_padded(
    batch: Sequence[Mapping[str, Any]],
    pad_keys: Sequence[str] = ("bboxes", "keypoints", "labels"),
    pad_value: float = 0.0,
) -> dict[str, Any]:
    """Collate into fixed-size tensors: pad the per-sample rows of ``pad_keys`` to the longest.

    Each key in ``pad_keys`` becomes a ``(B, N_max, D)`` tensor (``(B, N_max)`` for labels) filled
    with ``pad_value`` (``-1`` for integer labels) past each sample's rows, plus a boolean
    ``<key>_mask`` of shape ``(B, N_max)`` that is True on real rows. Images and masks are stacked;
    other keys stay per-sample lists.
    """
    out = collate_detection(batch)
    for key in pad_keys:
        if key not in out:
            continue
        rows = out[key]
        count = max((len(r) for r in rows), default=0)
        first = next((r for r in rows if len(r)), rows[0])
        integer = first.dtype == torch.int64
        trailing = tuple(first.shape[1:])
        padded = torch.full(
            (len(rows), count, *trailing),
            -1 if integer else pad_value,
            dtype=first.dtype,
        )
        mask = torch.zeros((len(rows), count), dtype=torch.bool)
        for i, r in enumerate(rows):
            if len(r):
                padded[i, : len(r)] = r
                mask[i, : len(r)] = True
        out[key] = padded
        out[f"{key}_mask"] = mask
    return out
