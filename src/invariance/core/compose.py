"""Compositions: the pipeline (:class:`Compose`) and the blocks that choose among transforms.

A composition runs its children on one :class:`~invariance.core.call.Call` with the Generator
handed down from the top-level pipeline, so a seeded pipeline reproduces as a whole.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol, runtime_checkable

import numpy as np

from invariance.core import registry
from invariance.core.basic import STANDALONE_CONFIG
from invariance.core.call import Call
from invariance.core.errors import InputError, ParameterError, describe
from invariance.core.inputs import BUILTIN_TARGETS, TargetConfig, prepare, target_kinds
from invariance.core.kinds import Frames, check_image
from invariance.core.nesting import running_call
from invariance.core.randomness import RandomStream
from invariance.core.sample import Sample
from invariance.core.short_path import run_on_image, run_step_on_image
from invariance.core.targets import BboxParams, KeypointParams
from invariance.core.transform import BasicTransform, ImageOnlyTransform


@runtime_checkable
class Runnable(Protocol):
    """What a composition runs: a transform or another composition."""

    p: float

    def run(self, call: Call, rng: np.random.Generator, force_apply: bool = False) -> None: ...

    def set_random_seed(self, seed: int | None) -> None: ...


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
        warnings.warn(
            f"{owner}: 'transforms' is a single transform ({type(transforms).__name__}); it was wrapped "
            "in a list. Pass a list of transforms",
            UserWarning,
            stacklevel=4,
        )
        transforms = [transforms]
    if not isinstance(transforms, (list, tuple)):
        raise ParameterError(
            f"{owner}: 'transforms' must be a list of transforms, got {type(transforms).__name__}"
        )
    for i, t in enumerate(transforms):
        if not is_transform_like(t):
            hint = " (did you forget the parentheses, e.g. HorizontalFlip()?)" if isinstance(t, type) else ""
            raise ParameterError(
                f"{owner}: transforms[{i}] = {describe(t)} is not a transform; expected an invariance "
                f"transform or composition instance, or an object called as t(**data) that returns the data{hint}"
            )
    return list(transforms)


def is_transform_like(t: Any) -> bool:
    """True for what a composition can run: an invariance transform or composition, or any other
    callable instance that takes the data as ``t(**data)`` (Albumentations' calling convention:
    user classes, test doubles). Classes, strings, numbers and other plain values are refused."""
    if isinstance(t, (BasicTransform, BaseCompose)):
        return True
    return callable(t) and not isinstance(t, (type, str, bytes, int, float, complex, np.generic, np.ndarray))


def run_node(t: Any, call: Call, rng: np.random.Generator, force_apply: bool = False) -> None:
    """Run one child on ``call``: invariance nodes directly, any other callable as ``t(**data)``."""
    if isinstance(t, (BasicTransform, BaseCompose)):
        t.run(call, rng, force_apply)
    else:
        from invariance.core.compat import run_foreign

        run_foreign(t, call, rng, force_apply)


def weight_of(t: Any) -> float:
    """A child's ``p`` as OneOf weighs it; a foreign callable without a numeric ``p`` weighs 1."""
    p = getattr(t, "p", 1.0)
    if isinstance(p, (int, float, np.integer, np.floating)) and not isinstance(p, bool):
        return float(p)
    return 1.0


class BaseCompose:
    """Base of every composition: a list of children and a probability ``p``."""

    #: True for a subclass whose ``__call__`` is user code (set when the class is defined).
    _user_call: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        registry.register(cls, composition=True)
        from invariance.core.compat import overrides_call

        cls._user_call = overrides_call(cls)

    def __call__(self, *args: Any, force_apply: bool = False, **data: Any) -> dict[str, Any]:
        """Run on ``data``: as a child of a user composition's ``__call__`` (``t(**data)``), on the
        pipeline's call; otherwise alone, like a one-step ``Compose`` without box or keypoint
        parameters (images and masks)."""
        inside = running_call()
        if inside is not None:
            return inside.run_child(self, data, force_apply)
        if args:
            raise InputError("pass data as named arguments, for example composition(image=image)")
        call = Call(prepare(data, STANDALONE_CONFIG), STANDALONE_CONFIG, fusing=True)
        self.run(call, self._own_generator(), force_apply)
        call.finish()
        return call.output(data)

    def _own_generator(self) -> np.random.Generator:
        """The Generator of a standalone call (seeded by ``set_random_seed``)."""
        stream = self.__dict__.get("_stream")
        if stream is None:
            stream = self._stream = RandomStream(None)
        return stream.generator()

    def __init__(self, transforms: Sequence[Runnable], p: float = 1.0) -> None:
        owner = type(self).__name__
        self.transforms = _check_transforms(owner, transforms)
        self.p = _check_probability(owner, p)
        self._every_child = [(i, False) for i in range(len(self.transforms))]

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

    def run(self, call: Call, rng: np.random.Generator, force_apply: bool = False) -> None:
        """Fire with probability ``p`` and run the chosen children (or replay a recorded call).

        A composition whose ``__call__`` comes from user code (an Albumentations-style custom
        ``BaseCompose``) is run through that ``__call__`` instead (see ``core/compat.py``).
        """
        if type(self)._user_call:
            from invariance.core.compat import run_custom_compose

            run_custom_compose(self, call, rng, force_apply)
            return
        self.run_own(call, rng, force_apply)

    def run_own(self, call: Call, rng: np.random.Generator, force_apply: bool = False) -> None:
        """What ``run`` does with this composition's own children, whoever defined ``__call__``
        (a user ``__call__`` that calls ``super().__call__`` ends up here, not in itself again)."""
        if call.replay is not None:
            node = call.replay.get(id(self))
            if not node or not node.get("applied"):
                return
            order = node.get("order")
            chosen = [(i, True) for i in (range(len(self.transforms)) if order is None else order)]
        else:
            if not force_apply and not self.should_fire(rng):
                return
            chosen = self.choose(rng)
            if call.record is not None:
                call.record[id(self)] = {"order": [i for i, _ in chosen]}
        self.run_children(call, rng, chosen)

    def run_children(self, call: Call, rng: np.random.Generator, chosen: list[tuple[int, bool]]) -> None:
        transforms = self.transforms
        for index, forced in chosen:
            child = transforms[index]
            if isinstance(child, (BasicTransform, BaseCompose)):
                child.run(call, rng, forced)
            else:
                run_node(child, call, rng, forced)

    def choose(self, rng: np.random.Generator) -> list[tuple[int, bool]]:
        """Which children run, in which order, and whether their own ``p`` is bypassed."""
        if len(self._every_child) != len(self.transforms):  # the list was edited in place
            self._every_child = [(i, False) for i in range(len(self.transforms))]
        return self._every_child

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
        self._stream = RandomStream(seed)
        for t in self.transforms:
            seeder = getattr(t, "set_random_seed", None)
            if callable(seeder):
                seeder(seed)

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
        weights = np.array([weight_of(t) for t in self.transforms], dtype=np.float64)
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
    """Run the first child with probability ``p``, otherwise the last (each forced).

    With one child, that child runs either way (as in Albumentations, where the first and the
    last child are the same one)."""

    def __init__(
        self,
        first: Runnable | None = None,
        second: Runnable | None = None,
        transforms: Sequence[Runnable] | None = None,
        p: float = 0.5,
    ) -> None:
        if transforms is None and isinstance(first, (list, tuple)) and second is None:
            transforms, first = first, None  # OneOrOther([a, b]): the list given positionally
        if transforms is None:
            if first is None and second is None:
                raise ParameterError(
                    "OneOrOther: pass 'first' and 'second', or 'transforms' with one or two entries"
                )
            transforms = [t for t in (first, second) if t is not None]
        if isinstance(transforms, (list, tuple)) and len(transforms) > 2:
            raise ParameterError(f"OneOrOther: expected at most two transforms, got {len(transforms)}")
        super().__init__(transforms, p)

    def should_fire(self, rng: np.random.Generator) -> bool:
        return True  # p chooses between the two children instead

    def choose(self, rng: np.random.Generator) -> list[tuple[int, bool]]:
        if not self.transforms:
            return []
        return [(0 if rng.random() < self.p else len(self.transforms) - 1, True)]


class SelectiveChannelTransform(BaseCompose):
    """Run pixel-level children on the selected channels of each image, leaving the others as they were."""

    def __init__(
        self, transforms: Sequence[Runnable], channels: Sequence[int] = (0, 1, 2), p: float = 1.0
    ) -> None:
        super().__init__(transforms, p)
        for t in _leaves(self.transforms):
            if not isinstance(t, ImageOnlyTransform):
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

    def run_children(self, call: Call, rng: np.random.Generator, chosen: list[tuple[int, bool]]) -> None:
        channels = self.channels
        call.flush()
        sample = call.sample
        keys = sample.keys_of("image", "images")

        def selected(key: str, frame: np.ndarray) -> np.ndarray:
            if frame.ndim != 3 or max(channels) >= frame.shape[2]:
                raise InputError(
                    f"SelectiveChannelTransform: channels {channels} do not exist in {key} of shape {frame.shape}"
                )
            return np.ascontiguousarray(frame[:, :, channels])

        values = {
            key: (
                selected(key, value)
                if isinstance(value, np.ndarray)
                else value.map(lambda f, k=key: selected(k, f))
            )
            for key, value in ((k, sample.values[k]) for k in keys)
        }
        config = TargetConfig(
            kinds={k: sample.kind_of(k) for k in keys}, bbox_params=None, keypoint_params=None
        )
        sub = Call(Sample(sample.shape, values, {k: sample.kinds[k] for k in keys}, config, sample.data),
                   config, applied=call.applied)  # fmt: skip
        sub.record, sub.replay = call.record, call.replay
        super().run_children(sub, rng, chosen)
        sub.finish()

        def merged(frame: np.ndarray, part: np.ndarray) -> np.ndarray:
            out = frame.copy()
            out[:, :, channels] = part.reshape(out.shape[0], out.shape[1], len(channels))
            return out

        for key in keys:
            value, part = sample.values[key], sub.sample.values[key]
            if isinstance(value, Frames):
                sample.values[key] = Frames(
                    [merged(f, p) for f, p in zip(value, part)], value.stacked, value.empty
                )
            else:
                sample.values[key] = merged(value, part)

    def init_args(self) -> dict[str, Any]:
        return {"channels": list(self.channels), "p": self.p}


def _checked_targets(owner: str, targets: Mapping[str, str], existing: Mapping[str, str]) -> dict[str, str]:
    """``additional_targets`` checked: known kinds, no built-in key redefined, no key re-kinded."""
    if not isinstance(targets, Mapping):
        raise ParameterError(
            f"{owner}: additional_targets must be a dict of key -> kind, got {type(targets).__name__}"
        )
    for key, kind in targets.items():
        if kind not in target_kinds():
            raise ParameterError(
                f"{owner}: additional_targets[{key!r}] = {kind!r} is not a target kind; expected one of {list(target_kinds())}"
            )
        if key in BUILTIN_TARGETS and BUILTIN_TARGETS[key] != kind:
            raise ParameterError(f"{owner}: additional_targets cannot redefine the built-in target {key!r}")
        if key in existing and existing[key] != kind:
            raise ParameterError(
                f"{owner}: additional target {key!r} is already declared as {existing[key]!r}; cannot overwrite "
                f"it with {kind!r}"
            )
    return dict(targets)


def _consumed_keys(transforms: Sequence[Runnable], has_rows: bool) -> frozenset[str]:
    """Input keys that are neither targets nor label fields but that the pipeline reads: each
    transform's ``metadata_key``, ``cropping_bbox_key`` and ``targets_as_params``, and ``labels`` (Albumentations' default
    label key) when boxes or keypoints are declared."""
    keys = {"labels"} if has_rows else set()
    for t in _leaves(transforms):
        for attribute in ("metadata_key", "cropping_bbox_key"):
            key = getattr(t, attribute, None)
            if isinstance(key, str):
                keys.add(key)
        wanted = getattr(t, "targets_as_params", ())
        if isinstance(wanted, (list, tuple, set, frozenset)):
            keys.update(k for k in wanted if isinstance(k, str))
    return frozenset(keys)


def _leaves(transforms: Sequence[Runnable]) -> Iterator[BasicTransform]:
    for t in transforms:
        if isinstance(t, BaseCompose):
            yield from _leaves(t.transforms)
        elif isinstance(t, BasicTransform):
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
        strict: reject unknown input keys. In a policy file, ``strict: true`` on a Compose also
            makes every unknown transform argument inside it an error when the file is loaded;
            in Python, pass ``strict=True`` to each transform for that.
        mask_interpolation: OpenCV flag overriding every transform's mask interpolation.
        seed: seed of the pipeline's own Generator; the same seed reproduces the same results.
        save_applied_params: add ``applied_transforms``, the list of ``(name, params)`` that fired.
        fuse_warps: resample images and masks once for each run of consecutive projective
            transforms (flips, rotations, affine maps, resizes, crops, perspective) instead of once
            per transform: faster and sharper. Box outlines are carried through the whole chain
            and re-boxed from exactly mapped points, so boxes stay tight. Set False for exact
            step-by-step resampling and re-boxing (see docs/fusion.md).
        report_drops: add ``dropped`` to the output: one entry per step and target that removed
            rows, with the count and the reason (``out_of_frame``, ``min_visibility``,
            ``min_area``, ``min_width``, ``min_height``, ``max_accept_ratio``, ``occluded``).
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
        report_drops: bool = False,
    ) -> None:
        super().__init__(transforms, p)
        owner = type(self).__name__
        self.fuse_warps = bool(fuse_warps)
        self.report_drops = bool(report_drops)
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
        self.additional_targets = _checked_targets(owner, additional_targets or {}, {})
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
            consumed=_consumed_keys(self.transforms, bbox_params is not None or keypoint_params is not None),
        )

    def add_targets(self, additional_targets: Mapping[str, str]) -> None:
        """Declare more extra inputs and their kind (Albumentations' ``add_targets``).

        Re-declaring a key with the kind it already has is allowed; giving it another kind
        raises ``ParameterError`` (a ``ValueError``)."""
        added = _checked_targets(type(self).__name__, additional_targets, self.additional_targets)
        self.additional_targets = {**self.additional_targets, **added}
        self._config = replace(self._config, kinds={**BUILTIN_TARGETS, **self.additional_targets})

    def set_random_seed(self, seed: int | None) -> None:
        """Restart the pipeline's Generator from ``seed``."""
        self.seed = seed
        self._stream = RandomStream(seed)

    @property
    def random_generator(self) -> np.random.Generator:
        return self._stream.generator()

    def run(self, call: Call, rng: np.random.Generator, force_apply: bool = False) -> None:
        """Run as a block, buffering warps for fusion when ``fuse_warps`` is set (nested too)."""
        outer = call.set_fusing(self.fuse_warps)
        try:
            super().run(call, rng, force_apply)
        finally:
            call.set_fusing(outer)

    def run_own(self, call: Call, rng: np.random.Generator, force_apply: bool = False) -> None:
        outer = call.set_fusing(self.fuse_warps)
        try:
            super().run_own(call, rng, force_apply)
        finally:
            call.set_fusing(outer)

    def begin(self, data: Mapping[str, Any]) -> Call:
        """Check ``data`` and open a call on it (what ``__call__`` runs the transforms on)."""
        return Call(
            prepare(data, self._config),
            self._config,
            fusing=self.fuse_warps,
            applied=[] if self.save_applied_params else None,
            drops=[] if self.report_drops else None,
        )

    def __call__(self, *args: Any, force_apply: bool = False, **data: Any) -> dict[str, Any]:
        if args:
            raise InputError(
                "pass data to the pipeline as named arguments, for example pipeline(image=image)"
            )
        if len(data) == 1 and "image" in data and self._image_calls_short():
            return self._call_on_image(data, force_apply)
        call = self.begin(data)
        self.run_own(call, self._stream.generator(), force_apply=force_apply)
        call.finish()
        return call.output(data)

    def _image_calls_short(self) -> bool:
        """True when ``pipeline(image=img)`` may take the short path: nothing to log or report,
        and ``image`` is an image (see :mod:`invariance.core.short_path`)."""
        return not (
            self.save_applied_params
            or self.report_drops
            or type(self)._user_call
            or type(self).run is not Compose.run
            or self._config.kinds.get("image") != "image"
        )

    def _call_on_image(self, data: Mapping[str, Any], force_apply: bool) -> dict[str, Any]:
        """What ``run`` does for one image, on the short path: fire, choose, run the children."""
        image = check_image("image", data["image"])
        rng = self._stream.generator()
        if not force_apply and not self.should_fire(rng):
            return {"image": image}
        transforms = self.transforms
        steps = [(transforms[index], forced) for index, forced in self.choose(rng)]
        if len(steps) == 1:
            step, forced = steps[0]
            return run_step_on_image(step, forced, image, rng, self._config, data, run_node, self.fuse_warps)
        return run_on_image(steps, image, rng, self._config, data, self.fuse_warps, run_node)

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
            # Written only when set, so the fingerprints of existing policies do not change.
            **({"report_drops": True} if self.report_drops else {}),
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
        call = self.begin(data)
        log: dict[int, Any] = {}
        call.start_recording(log)
        self.run_own(call, self._stream.generator(), force_apply=force_apply)
        call.finish()
        out = call.output(data)
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
        call = Call(prepare(data, pipeline._config), pipeline._config, fusing=pipeline.fuse_warps)
        call.replay = plan
        pipeline.run(call, pipeline._stream.generator(), force_apply=True)
        call.finish()
        return call.output(data)

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
