"""Caching the deterministic prefix of a policy: decode and resize once, augment every epoch.

A training policy usually starts with steps whose output never changes from one epoch to the
next (decode the file, resize to the base resolution, a fixed crop) and continues with the random
augmentation. :func:`split_policy` cuts a policy into that **head** and the **tail**;
:class:`PrefixCache` stores the head's output once, in memory or as ``.npy``/``.npz`` files, under
a key made from the head's policy fingerprint and the invariance version. The PyTorch dataset that
uses both is :class:`invariance.integrations.torch.CachedDataset`. This module needs no torch.

The rule for the head (applied to the top-level steps, in order, stopping at the first that fails):

1. the policy is a plain :class:`~invariance.Compose` (or a single transform) with ``p == 1``;
2. the step is a leaf transform, not a composition (a ``OneOf`` draws a choice);
3. its ``p`` is 1, so the pipeline draws no number to decide whether it fires;
4. its exact class is in :data:`DETERMINISTIC` and its arguments pass that entry's check, which
   says the class draws no random number for those arguments (``LongestMaxSize`` with one
   ``max_size``, not a list; ``PadIfNeeded`` with any ``position`` but ``"random"``; ``CenterCrop``
   and ``Crop`` unless they pad at a random position). Subclasses are not trusted: they may
   override the draw.

Because the head draws nothing, the tail sees the same random stream as the full policy would,
so ``tail(**head(**x))`` with the policy's seed is the full policy's output. The cache checks this
at run time too: a head step that moves the head's random stream raises :class:`CacheError`.

One difference is by construction: the head's output is materialised, so when the first tail step
that fires is a warp (flip, rotation, crop...), it is resampled on its own instead of being fused
with the head's resize (``fuse_warps``, docs/fusion.md). The random draws are the same either way.
With ``fuse_warps=False`` the cached samples equal the full policy's bit for bit; with fusion they
equal ``tail(**head(**x))``, which is what the uncached path of a ``CachedDataset`` (``cache=None``)
runs, and differ from the fused full policy only by resampling rounding.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from invariance._version import __version__
from invariance.core.compose import BaseCompose, Compose
from invariance.core.errors import InvarianceError, ParameterError
from invariance.core.serialization import fingerprint
from invariance.core.transform import BasicTransform


class CacheError(InvarianceError):
    """The cache cannot store or trust a value (a head step drew random numbers, an unstorable key)."""


def _always(_: BasicTransform) -> bool:
    return True


def _single_size(transform: BasicTransform) -> bool:
    size = getattr(transform, "max_size", None)
    return size is None or isinstance(size, int)


def _fixed_position(transform: BasicTransform) -> bool:
    return getattr(transform, "position", "random") != "random"


def _fixed_crop_padding(transform: BasicTransform) -> bool:
    # a crop larger than the image pads first, at a random place when pad_position="random"
    return (
        not getattr(transform, "pad_if_needed", True)
        or getattr(transform, "pad_position", "random") != "random"
    )


#: Transform classes (by exact name) whose parameter draw uses no random numbers, each with a check
#: of the arguments for which that holds. Only these can form a cached head.
DETERMINISTIC: dict[str, Callable[[BasicTransform], bool]] = {
    "Resize": _always,
    "LongestMaxSize": _single_size,
    "SmallestMaxSize": _single_size,
    "CenterCrop": _fixed_crop_padding,
    "Crop": _fixed_crop_padding,
    "Pad": _always,
    "PadIfNeeded": _fixed_position,
    "ToGray": _always,
    "ToRGB": _always,
    "ToFloat": _always,
    "FromFloat": _always,
    "Normalize": _always,
}


def why_not_deterministic(step: Any) -> str | None:
    """None when ``step`` may join the cached head, else the reason it cannot (for reports)."""
    name = type(step).__name__
    if isinstance(step, BaseCompose):
        return f"{name} is a composition (it draws which children run)"
    if not isinstance(step, BasicTransform):
        return f"{name} is not a transform"
    if float(step.p) < 1.0:
        return f"{name} has p={step.p:g} < 1 (whether it fires is random)"
    check = DETERMINISTIC.get(name)
    if check is None or type(step).__module__.split(".")[0] != "invariance":
        return f"{name} is not one of the deterministic transforms (see invariance.integrations.cache)"
    if not check(step):
        return f"{name} draws random numbers with these arguments"
    return None


@dataclass(frozen=True)
class PolicySplit:
    """A policy cut into its deterministic head and random tail (see :func:`split_policy`).

    Attributes:
        head: a Compose of the head steps with the policy's target settings, or None when empty.
        tail: what runs on the head's output every time: a Compose of the remaining steps with the
            policy's settings and seed (the policy itself when the head is empty).
        head_names: the head's transform names, in order.
        stop: why the head ends where it does ("" when every step is in the head).
    """

    head: Compose | None
    tail: Compose
    head_names: tuple[str, ...]
    stop: str

    @property
    def key(self) -> str:
        """The cache key: SHA-256 of the head's fingerprint and the invariance version ("" if no head)."""
        if self.head is None:
            return ""
        return hashlib.sha256(f"{fingerprint(self.head)}:{__version__}".encode()).hexdigest()


def _like(policy: Compose, steps: Sequence[Any], seed: int | None, save_applied_params: bool) -> Compose:
    return Compose(
        list(steps),
        bbox_params=policy.bbox_params,
        keypoint_params=policy.keypoint_params,
        additional_targets=policy.additional_targets,
        p=1.0,
        is_check_shapes=policy.is_check_shapes,
        strict=policy.strict,
        mask_interpolation=policy.mask_interpolation,
        seed=seed,
        save_applied_params=save_applied_params,
        fuse_warps=policy.fuse_warps,
    )


def split_policy(policy: Any) -> PolicySplit:
    """Cut ``policy`` (a Compose or one transform) into its deterministic head and random tail.

    The head is the longest run of leading steps that follow the rule in this module's docstring.
    Raises ParameterError when ``policy`` is neither a transform nor a composition.
    """
    if isinstance(policy, BasicTransform) or (
        isinstance(policy, BaseCompose) and not isinstance(policy, Compose)
    ):
        policy = Compose([policy])
    if not isinstance(policy, Compose):
        raise ParameterError(
            f"split_policy: policy must be an invariance transform or Compose, got {type(policy).__name__}"
        )
    if type(policy) is not Compose:
        return PolicySplit(None, policy, (), f"{type(policy).__name__} is not a plain Compose")
    if policy.p < 1.0:
        return PolicySplit(None, policy, (), f"the policy has p={policy.p:g} < 1")
    steps = list(policy.transforms)
    count, stop = 0, ""
    for step in steps:
        reason = why_not_deterministic(step)
        if reason is not None:
            stop = reason
            break
        count += 1
    if count == 0:
        return PolicySplit(None, policy, (), stop)
    head = _like(policy, steps[:count], seed=None, save_applied_params=False)
    tail = _like(policy, steps[count:], seed=policy.seed, save_applied_params=policy.save_applied_params)
    return PolicySplit(head, tail, tuple(type(s).__name__ for s in steps[:count]), stop)


def run_head(split: PolicySplit, data: Mapping[str, Any]) -> dict[str, Any]:
    """The head's output for ``data`` (``data`` itself when the head is empty).

    Raises CacheError if the head moved its random stream: its result would not be reproducible.
    """
    if split.head is None:
        return dict(data)
    generator = split.head.random_generator
    before = generator.bit_generator.state
    out = dict(split.head(**data))
    if generator.bit_generator.state != before:
        raise CacheError(
            f"the cached head {list(split.head_names)} drew random numbers, so its output would change "
            "between epochs; remove the step from DETERMINISTIC or move it after the first random step"
        )
    return out


# -- storage ---------------------------------------------------------------------------------------


def _encode(values: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Arrays to store and a JSON description that restores the original Python types."""
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, np.ndarray) and value.dtype != object:
            arrays[key], meta[key] = value, {"kind": "array"}
            continue
        if isinstance(value, (list, tuple)):
            array = np.asarray(value) if len(value) else None
            if array is not None and array.dtype != object:
                arrays[key], meta[key] = array, {"kind": "list"}
                continue
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise CacheError(
                f"cannot store the value of {key!r} ({type(value).__name__}) on disk; "
                "use cache='memory' for samples that hold Python objects"
            ) from None
        meta[key] = {"kind": "json", "value": value}
    return arrays, meta


def _decode(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, entry in meta.items():
        kind = entry["kind"]
        if kind == "array":
            out[key] = arrays[key]
        elif kind == "list":
            out[key] = arrays[key].tolist()
        else:
            out[key] = entry["value"]
    return out


def _write_atomic(path: Path, payload: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(payload)
    os.replace(temporary, path)


class PrefixCache:
    """Head outputs by sample index, in memory or on disk.

    On disk the entries live in ``directory/<key[:16]>/``: ``<index>.npy`` for a bare image,
    ``<index>.npz`` for a dict of targets, and ``manifest.json`` with the full key, the head's steps
    and a signature of the source (file paths, sizes and modification times). A different head or
    invariance version gives a different key, hence a different folder; a different source
    signature empties the folder. Writes are atomic, so DataLoader workers can fill one cache.

    Args:
        split: the policy split whose head output is stored.
        directory: where to keep the files; None keeps the entries in memory (per process).
        source_signature: a string that changes when the source data change.
    """

    def __init__(self, split: PolicySplit, directory: str | Path | None, source_signature: str = "") -> None:
        self.split = split
        self.memory: dict[int, Any] = {}
        self.folder: Path | None = None
        if directory is not None:
            self.folder = Path(directory) / (split.key[:16] or "no-head")
            self._open(source_signature)

    def _open(self, signature: str) -> None:
        assert self.folder is not None
        manifest = {
            "key": self.split.key,
            "invariance": __version__,
            "head": list(self.split.head_names),
            "source": hashlib.sha256(signature.encode()).hexdigest(),
        }
        path = self.folder / "manifest.json"
        if path.is_file():
            try:
                if json.loads(path.read_text(encoding="utf-8")) == manifest:
                    return
            except (OSError, json.JSONDecodeError):
                pass
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, json.dumps(manifest, indent=1).encode())

    def get(self, index: int) -> Any | None:
        """The stored head output of sample ``index`` (an image or a dict), or None."""
        if self.folder is None:
            return self.memory.get(index)
        image = self.folder / f"{index:08d}.npy"
        if image.is_file():
            return np.load(image, allow_pickle=False)
        bundle = self.folder / f"{index:08d}.npz"
        if bundle.is_file():
            with np.load(bundle, allow_pickle=False) as stored:
                meta = json.loads(str(stored["__meta__"]))
                return _decode({k: stored[k] for k in stored.files if k != "__meta__"}, meta)
        return None

    def put(self, index: int, value: Any) -> None:
        """Store the head output of sample ``index``: an image array or a dict of targets."""
        if self.folder is None:
            self.memory[index] = value
            return
        buffer = io.BytesIO()
        if isinstance(value, np.ndarray):
            np.save(buffer, value, allow_pickle=False)
            _write_atomic(self.folder / f"{index:08d}.npy", buffer.getvalue())
            return
        arrays, meta = _encode(value)
        if "__meta__" in arrays:
            raise CacheError("a sample key named '__meta__' cannot be cached on disk")
        arrays["__meta__"] = np.asarray(json.dumps(meta))
        np.savez(buffer, **arrays)  # type: ignore[arg-type]
        _write_atomic(self.folder / f"{index:08d}.npz", buffer.getvalue())


def source_signature(items: Sequence[Any]) -> str:
    """A string that changes when the files behind ``items`` change (paths, sizes, mtimes).

    Items that are not paths (arrays, dicts) count by position only: replace the cache folder (or
    call with a new ``directory``) when in-memory data change.
    """
    parts = [str(len(items))]
    for item in items:
        value = item[0] if isinstance(item, tuple) and len(item) == 2 else item
        if isinstance(value, Mapping):
            value = value.get("image")
        if isinstance(value, (str, Path)):
            try:
                stat = os.stat(value)
                parts.append(f"{value}:{stat.st_size}:{stat.st_mtime_ns}")
            except OSError:
                parts.append(f"{value}:missing")
        else:
            parts.append(type(value).__name__)
    return "\n".join(parts)


__all__ = [
    "DETERMINISTIC",
    "CacheError",
    "PolicySplit",
    "PrefixCache",
    "run_head",
    "source_signature",
    "split_policy",
    "why_not_deterministic",
]
