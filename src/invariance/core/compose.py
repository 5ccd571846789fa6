"""Compositions: the pipeline (:class:`Compose`) and the blocks that choose among transforms.

A composition runs its children on one :class:`~invariance.core.sample.Sample` with the Generator
handed down from the top-level pipeline, so a seeded pipeline reproduces as a whole.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from invariance.core import registry
from invariance.core.errors import InputError, ParameterError, describe
from invariance.core.inputs import BUILTIN_TARGETS, TARGET_KINDS, TargetConfig, collect, prepare
from invariance.core.randomness import RandomStream
from invariance.core.sample import Sample
from invariance.core.targets import BboxParams, KeypointParams
from invariance.core.transform import BasicTransform, PixelTransform

Runnable = Any  # BasicTransform or BaseCompose


def _check_probability(owner: str, p: Any) -> float:
    if (
        isinstance(p, bool)
        or not isinstance(p, (int, float, np.integer, np.floating))
        or not 0.0 <= float(p) <= 1.0
    ):
        raise ParameterError(f"{owner}: argument 'p' = {describe(p)} is invalid: expected a number in [0, 1]")
    return float(p)


def _check_transforms(owner: str, transforms: Any) -> list[Runnable]:
    if isinstance(transforms, (BasicTransform, BaseCompose)):
        transforms = [transforms]
    if not isinstance(transforms, (list, tuple)):
        raise ParameterError(
            f"{owner}: 'transforms' must be a list of transforms, got {type(transforms).__name__}"
        )
    for i, t in enumerate(transforms):
        if not isinstance(t, (BasicTransform, BaseCompose)):
            raise ParameterError(
                f"{owner}: transforms[{i}] = {describe(t)} is not a transform; expected an invariance "
                "transform or composition instance (did you forget the parentheses, e.g. HorizontalFlip()?)"
            )
    return list(transforms)


class BaseCompose:
    """Base of every composition: a list of children and a probability ``p``."""

    #: True for a subclass whose ``__call__`` is user code (set when the class is defined).
    _user_call: bool = False
    #: True for a subclass that runs every child in order (its ``choose`` and ``run_children`` are
    #: the base ones), which lets ``run`` skip building a plan (set when the class is defined).
    _runs_all: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        registry.register(cls)
        from invariance.core.compat import overrides_call

        cls._user_call = overrides_call(cls)
        cls._runs_all = cls.choose is BaseCompose.choose and cls.run_children is BaseCompose.run_children

    def __call__(self, *args: Any, force_apply: bool = False, **data: Any) -> dict[str, Any]:
        """Run as a child of a user composition's ``__call__`` (``t(**data)``), on the pipeline's sample."""
        from invariance.core.transform import CALL_KEY

        call = data.get(CALL_KEY)
        if call is None:
            raise InputError(
                f"{type(self).__name__} runs inside a pipeline: wrap it in Compose([...]) and call that"
            )
        result: dict[str, Any] = call.run_child(self, data, force_apply)
        return result

    def __init__(self, transforms: Sequence[Runnable], p: float = 1.0) -> None:
        owner = type(self).__name__
        self.transforms = _check_transforms(owner, transforms)
        self.p = _check_probability(owner, p)

    def __len__(self) -> int:
        return len(self.transforms)

    def __getitem__(self, index: int) -> Runnable:
        return self.transforms[index]

    def __iter__(self) -> Iterator[Runnable]:
        return iter(self.transforms)

    def should_fire(self, rng: np.random.Generator) -> bool:
        if self.p >= 1.0:
            return True
        if self.p <= 0.0:
            return False
        return bool(rng.random() < self.p)

    def run(self, sample: Sample, rng: np.random.Generator, force_apply: bool = False) -> None:
        """Fire with probability ``p`` and run the chosen children (or replay a recorded call).

        A composition whose ``__call__`` comes from user code (an Albumentations-style custom
        ``BaseCompose``) is run through that ``__call__`` instead (see ``core/compat.py``).
        """
        if type(self)._user_call:
            from invariance.core.compat import run_custom_compose

            run_custom_compose(self, sample, rng, force_apply)
            return
        if sample.replay is not None:
            node = sample.replay.get(id(self))
            if not node or not node.get("applied"):
                return
            order = node.get("order")
            chosen = [(i, True) for i in (range(len(self.transforms)) if order is None else order)]
        else:
            if not force_apply and not self.should_fire(rng):
                return
            if sample.record is None and type(self)._runs_all:
                # Every child in order, none forced: the common case, without building a plan.
                for child in self.transforms:
                    child.run(sample, rng)
                return
            chosen = self.choose(rng)
            if sample.record is not None:
                sample.record[id(self)] = {"order": [i for i, _ in chosen]}
        self.run_children(sample, rng, chosen)

    def run_children(self, sample: Sample, rng: np.random.Generator, chosen: list[tuple[int, bool]]) -> None:
        for index, forced in chosen:
            self.transforms[index].run(sample, rng, force_apply=forced)

    def choose(self, rng: np.random.Generator) -> list[tuple[int, bool]]:
        """Which children run, in which order, and whether their own ``p`` is bypassed."""
        return [(i, False) for i in range(len(self.transforms))]

    def init_args(self) -> dict[str, Any]:
        """Constructor arguments besides ``transforms``; user subclasses' own arguments are read
        from their ``__init__`` signatures and attributes."""
        args: dict[str, Any] = {}
        if type(self).__module__.startswith("invariance."):
            return {"p": self.p}
        for klass in type(self).__mro__:
            if klass.__module__.startswith("invariance."):
                break
            init = klass.__dict__.get("__init__")
            if init is None:
                continue
            for name, param in inspect.signature(init).parameters.items():
                named = param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)
                if named and name not in ("self", "transforms", "p") and hasattr(self, name):
                    args.setdefault(name, getattr(self, name))
        args["p"] = self.p
        return args

    def set_random_seed(self, seed: int | None) -> None:
        for t in self.transforms:
            t.set_random_seed(seed)

    def to_dict(self) -> dict[str, Any]:
        from invariance.core.serialization import to_dict

        return to_dict(self)

    def __repr__(self) -> str:
        inner = ",\n".join("  " + repr(t).replace("\n", "\n  ") for t in self.transforms)
        extra = ", ".join(f"{k}={v!r}" for k, v in self.init_args().items())
        return f"{type(self).__name__}([\n{inner}\n], {extra})"


class Sequential(BaseCompose):
    """Run every child in order, each with its own ``p``; the block itself fires with ``p``."""

    def __init__(self, transforms: Sequence[Runnable], p: float = 0.5) -> None:
        super().__init__(transforms, p)


class OneOf(BaseCompose):
    """Run exactly one child, chosen with probability proportional to the children's ``p``."""

    def __init__(self, transforms: Sequence[Runnable], p: float = 0.5) -> None:
        super().__init__(transforms, p)

    def choose(self, rng: np.random.Generator) -> list[tuple[int, bool]]:
        if not self.transforms:
            return []
        weights = np.array([t.p for t in self.transforms], dtype=np.float64)
        total = weights.sum()
        if total <= 0:
            return []
        return [(int(rng.choice(len(weights), p=weights / total)), True)]


class SomeOf(BaseCompose):
    """Pick ``n`` children uniformly at random; each then runs with its own ``p``, in list order."""

    def __init__(
        self, transforms: Sequence[Runnable], n: int = 1, replace: bool = False, p: float = 1.0
    ) -> None:
        super().__init__(transforms, p)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ParameterError(
                f"{type(self).__name__}: argument 'n' = {describe(n)} is invalid: expected an integer >= 0"
            )
        self.n = int(n)
        self.replace = bool(replace)

    def _pick(self, rng: np.random.Generator) -> np.ndarray:
        count = len(self.transforms)
        if count == 0:
            return np.zeros(0, dtype=np.int64)
        n = self.n if self.replace else min(self.n, count)
        return rng.choice(count, size=n, replace=self.replace)

    def choose(self, rng: np.random.Generator) -> list[tuple[int, bool]]:
        return [(int(i), False) for i in np.sort(self._pick(rng))]

    def init_args(self) -> dict[str, Any]:
        return {"n": self.n, "replace": self.replace, "p": self.p}


class RandomOrder(SomeOf):
    """Like :class:`SomeOf`, but the chosen children run in a random order."""

    def choose(self, rng: np.random.Generator) -> list[tuple[int, bool]]:
        return [(int(i), False) for i in self._pick(rng)]


class OneOrOther(BaseCompose):
    """Run the first child with probability ``p``, otherwise the second (each forced)."""

    def __init__(
        self,
        first: Runnable | None = None,
        second: Runnable | None = None,
        transforms: Sequence[Runnable] | None = None,
        p: float = 0.5,
    ) -> None:
        if transforms is None:
            if first is None or second is None:
                raise ParameterError(
                    "OneOrOther: pass both 'first' and 'second', or 'transforms' with two entries"
                )
            transforms = [first, second]
        if len(transforms) != 2:
            raise ParameterError(f"OneOrOther: expected exactly two transforms, got {len(transforms)}")
        super().__init__(transforms, p)

    def should_fire(self, rng: np.random.Generator) -> bool:
        return True  # p chooses between the two children instead

    def choose(self, rng: np.random.Generator) -> list[tuple[int, bool]]:
        return [(0 if rng.random() < self.p else 1, True)]


class SelectiveChannelTransform(BaseCompose):
    """Run pixel-level children on the selected channels of each image, leaving the others as they were."""

    def __init__(
        self, transforms: Sequence[Runnable], channels: Sequence[int] = (0, 1, 2), p: float = 1.0
    ) -> None:
        super().__init__(transforms, p)
        for t in _leaves(self.transforms):
            if not isinstance(t, PixelTransform):
                raise ParameterError(
                    f"SelectiveChannelTransform: {type(t).__name__} is not a pixel-level transform; only "
                    "transforms that leave geometry alone can act on a subset of channels"
                )
        channel_list = [int(c) for c in channels]
        if not channel_list or any(c < 0 for c in channel_list):
            raise ParameterError(
                f"SelectiveChannelTransform: 'channels' must be non-negative indices, got {list(channels)}"
            )
        self.channels = channel_list

    def run_children(self, sample: Sample, rng: np.random.Generator, chosen: list[tuple[int, bool]]) -> None:
        channels = self.channels
        sub_arrays: dict[str, Any] = {}
        sub_kinds: dict[str, str] = {}
        for key in sample.keys_of("image", "images"):
            value = sample.arrays[key]
            frames = [value] if sample.kinds[key] == "image" else list(value)
            for i, frame in enumerate(frames):
                if frame.ndim != 3 or max(channels) >= frame.shape[2]:
                    raise InputError(
                        f"SelectiveChannelTransform: channels {channels} do not exist in {key} of shape {frame.shape}"
                    )
                sub_arrays[f"{key}\0{i}"] = np.ascontiguousarray(frame[:, :, channels])
                sub_kinds[f"{key}\0{i}"] = "image"
        sub = Sample(
            shape=sample.shape, kinds=sub_kinds, arrays=sub_arrays, data=sample.data, applied=sample.applied
        )
        sub.record, sub.replay = sample.record, sample.replay
        super().run_children(sub, rng, chosen)
        for key in list(sample.keys_of("image", "images")):
            value = sample.arrays[key]
            frames = [value] if sample.kinds[key] == "image" else list(value)
            merged = []
            for i, frame in enumerate(frames):
                out = frame.copy()
                out[:, :, channels] = sub.arrays[f"{key}\0{i}"].reshape(
                    out.shape[0], out.shape[1], len(channels)
                )
                merged.append(out)
            if sample.kinds[key] == "image":
                sample.arrays[key] = merged[0]
            else:
                sample.arrays[key] = np.stack(merged) if isinstance(value, np.ndarray) else merged

    def init_args(self) -> dict[str, Any]:
        return {"channels": list(self.channels), "p": self.p}


def _leaves(transforms: Sequence[Runnable]) -> Iterator[BasicTransform]:
    for t in transforms:
        if isinstance(t, BaseCompose):
            yield from _leaves(t.transforms)
        else:
            yield t


class Compose(BaseCompose):
    """The pipeline: run transforms in order and keep image, masks, boxes and keypoints in sync.

    Call it with named targets: ``pipeline(image=img, mask=m, bboxes=b, keypoints=k, labels=l)``.
    It returns a new dict with the same keys; inputs are never modified.

    Args:
        transforms: the transforms and compositions to run, in order.
        bbox_params: how boxes are read and filtered (:class:`BboxParams` or a dict of its args).
        keypoint_params: how keypoints are read and filtered (:class:`KeypointParams` or a dict).
        additional_targets: extra inputs and their kind, e.g. ``{"image2": "image", "mask2": "mask"}``.
        p: probability of running the pipeline at all.
        is_check_shapes: check that all images and masks share height and width.
        strict: reject unknown input keys (and unknown transform arguments, at construction).
        mask_interpolation: OpenCV flag overriding every transform's mask interpolation.
        seed: seed of the pipeline's own Generator; the same seed reproduces the same results.
        save_applied_params: add ``applied_transforms``, the list of ``(name, params)`` that fired.
        fuse_warps: resample images and masks once for each run of consecutive projective
            transforms (flips, rotations, affine maps, resizes, crops, perspective) instead of once
            per transform: faster and sharper. Boxes and keypoints are unaffected. Set False for
            exact step-by-step resampling (see docs/fusion.md).
    """

    def __init__(
        self,
        transforms: Sequence[Runnable],
        bbox_params: BboxParams | Mapping[str, Any] | None = None,
        keypoint_params: KeypointParams | Mapping[str, Any] | None = None,
        additional_targets: Mapping[str, str] | None = None,
        p: float = 1.0,
        is_check_shapes: bool = True,
        strict: bool = False,
        mask_interpolation: int | None = None,
        seed: int | None = None,
        save_applied_params: bool = False,
        fuse_warps: bool = True,
    ) -> None:
        super().__init__(transforms, p)
        owner = type(self).__name__
        self.fuse_warps = bool(fuse_warps)
        if isinstance(bbox_params, Mapping):
            bbox_params = BboxParams(**bbox_params)
        if isinstance(keypoint_params, Mapping):
            keypoint_params = KeypointParams.from_dict(keypoint_params)
        if bbox_params is not None and not isinstance(bbox_params, BboxParams):
            raise ParameterError(
                f"{owner}: bbox_params must be BboxParams or a dict, got {type(bbox_params).__name__}"
            )
        if keypoint_params is not None and not isinstance(keypoint_params, KeypointParams):
            raise ParameterError(
                f"{owner}: keypoint_params must be KeypointParams or a dict, got {type(keypoint_params).__name__}"
            )
        self.bbox_params = bbox_params
        self.keypoint_params = keypoint_params
        self.additional_targets = dict(additional_targets or {})
        for key, kind in self.additional_targets.items():
            if kind not in TARGET_KINDS:
                raise ParameterError(
                    f"{owner}: additional_targets[{key!r}] = {kind!r} is not a target kind; expected one of {list(TARGET_KINDS)}"
                )
            if key in BUILTIN_TARGETS and BUILTIN_TARGETS[key] != kind:
                raise ParameterError(
                    f"{owner}: additional_targets cannot redefine the built-in target {key!r}"
                )
        if bbox_params is not None and keypoint_params is not None:
            shared = set(bbox_params.label_fields) & set(keypoint_params.label_fields)
            if shared:
                raise ParameterError(
                    f"{owner}: label fields {sorted(shared)} are declared for both boxes and keypoints; use distinct names"
                )
        if mask_interpolation is not None and mask_interpolation not in (0, 1, 2, 3, 4, 5, 6):
            raise ParameterError(
                f"{owner}: mask_interpolation={mask_interpolation!r} is not an OpenCV interpolation flag (0..6)"
            )
        self.is_check_shapes = bool(is_check_shapes)
        self.strict = bool(strict)
        self.mask_interpolation = mask_interpolation
        self.save_applied_params = bool(save_applied_params)
        self.seed = seed
        self._stream = RandomStream(seed)
        self._config = TargetConfig(
            kinds={**BUILTIN_TARGETS, **self.additional_targets},
            bbox_params=bbox_params,
            keypoint_params=keypoint_params,
            is_check_shapes=self.is_check_shapes,
            strict=self.strict,
            mask_interpolation=mask_interpolation,
        )

    def set_random_seed(self, seed: int | None) -> None:
        """Restart the pipeline's Generator from ``seed``."""
        self.seed = seed
        self._stream = RandomStream(seed)

    @property
    def random_generator(self) -> np.random.Generator:
        return self._stream.generator()

    def run(self, sample: Sample, rng: np.random.Generator, force_apply: bool = False) -> None:
        """Run as a block, buffering warps for fusion when ``fuse_warps`` is set (nested too)."""
        outer = sample.fuse_warps
        sample.fuse_warps = self.fuse_warps
        try:
            super().run(sample, rng, force_apply)
        finally:
            sample.fuse_warps = outer

    def __call__(self, *args: Any, force_apply: bool = False, **data: Any) -> dict[str, Any]:
        if args:
            raise InputError(
                "pass data to the pipeline as named arguments, for example pipeline(image=image)"
            )
        sample = prepare(data, self._config, record=self.save_applied_params)
        self.run(sample, self._stream.generator(), force_apply=force_apply)
        sample.finish()
        return collect(sample, data, self._config)

    def init_args(self) -> dict[str, Any]:
        return {
            "bbox_params": None if self.bbox_params is None else self.bbox_params.to_dict(),
            "keypoint_params": None if self.keypoint_params is None else self.keypoint_params.to_dict(),
            "additional_targets": dict(self.additional_targets),
            "p": self.p,
            "is_check_shapes": self.is_check_shapes,
            "strict": self.strict,
            "mask_interpolation": self.mask_interpolation,
            "seed": self.seed,
            "save_applied_params": self.save_applied_params,
            "fuse_warps": self.fuse_warps,
        }


class ReplayCompose(Compose):
    """A Compose that also returns what it did (under ``save_key``), so it can be replayed exactly.

    ``ReplayCompose.replay(result["replay"], image=other)`` applies the same transforms with the
    same parameters to other data (for example a second image of a stereo pair).
    """

    def __init__(
        self,
        transforms: Sequence[Runnable],
        bbox_params: BboxParams | Mapping[str, Any] | None = None,
        keypoint_params: KeypointParams | Mapping[str, Any] | None = None,
        additional_targets: Mapping[str, str] | None = None,
        p: float = 1.0,
        is_check_shapes: bool = True,
        save_key: str = "replay",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            transforms, bbox_params, keypoint_params, additional_targets, p, is_check_shapes, **kwargs
        )
        self.save_key = save_key

    def __call__(self, *args: Any, force_apply: bool = False, **data: Any) -> dict[str, Any]:
        if args:
            raise InputError(
                "pass data to the pipeline as named arguments, for example pipeline(image=image)"
            )
        sample = prepare(data, self._config, record=self.save_applied_params)
        log: dict[int, Any] = {}
        sample.record = log
        self.run(sample, self._stream.generator(), force_apply=force_apply)
        sample.finish()
        out = collect(sample, data, self._config)
        out[self.save_key] = _annotate(self, log)
        return out

    @staticmethod
    def replay(saved_augmentations: Mapping[str, Any], **data: Any) -> dict[str, Any]:
        """Apply the recorded transforms and parameters of a previous call to new data."""
        from invariance.core.serialization import from_dict

        pipeline = from_dict({"transform": _strip(saved_augmentations)})
        if not isinstance(pipeline, Compose):
            raise InputError("replay expects the dict a ReplayCompose stored under its save_key")
        plan: dict[int, Any] = {}
        _link(pipeline, saved_augmentations, plan)
        sample = prepare(data, pipeline._config, record=False)
        sample.replay = plan
        pipeline.run(sample, pipeline._stream.generator(), force_apply=True)
        sample.finish()
        return collect(sample, data, pipeline._config)

    def init_args(self) -> dict[str, Any]:
        args = super().init_args()
        args["save_key"] = self.save_key
        return args


def _annotate(node: Runnable, log: Mapping[int, Any]) -> dict[str, Any]:
    from invariance.core.serialization import to_dict

    entry = to_dict(node, with_version=False, recurse=False)
    record = log.get(id(node))
    entry["applied"] = record is not None
    entry["params"] = None if record is None else record.get("params")
    if isinstance(node, BaseCompose):
        entry["transforms"] = [_annotate(child, log) for child in node.transforms]
        if record is not None:
            entry["order"] = record.get("order")
    return entry


def _strip(saved: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in saved.items() if k not in ("applied", "params", "order")}
    if "transforms" in out:
        out["transforms"] = [_strip(child) for child in out["transforms"]]
    return out


def _link(node: Runnable, saved: Mapping[str, Any], plan: dict[int, Any]) -> None:
    plan[id(node)] = saved
    if isinstance(node, BaseCompose):
        for child, child_saved in zip(node.transforms, saved.get("transforms", [])):
            _link(child, child_saved, plan)


__all__ = [
    "BaseCompose",
    "Compose",
    "OneOf",
    "OneOrOther",
    "RandomOrder",
    "ReplayCompose",
    "SelectiveChannelTransform",
    "Sequential",
    "SomeOf",
]
