"""The base of every transform: parameters, randomness and the pipeline protocol.

A transform is two small steps, kept apart:

* ``sample(rng, sample) -> params``: draw the random numbers once per call, from the Generator the
  pipeline hands down (never from global state). The returned dict is what
  ``save_applied_params`` records and what a replay feeds back.
* ``effect(params, sample) -> effect``: what those params do, as data
  (:mod:`invariance.core.effects`). The call moves every target through the effect: no transform
  touches a target itself.

Parameters are declared once in a nested ``InitSchema`` (see :mod:`invariance.core.schema`).
The catalogue bases built on this one (:class:`~invariance.core.transform.PixelTransform`,
:class:`~invariance.core.transform.SpatialTransform`) live in :mod:`invariance.core.transform`;
the Albumentations kind bases in :mod:`invariance.core.compat`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from invariance.core import registry
from invariance.core.budget import bounded_fields, check_call
from invariance.core.call import Call
from invariance.core.config import TargetConfig
from invariance.core.effects import Effects
from invariance.core.errors import InputError, ParameterError
from invariance.core.inputs import BUILTIN_TARGETS, prepare
from invariance.core.kinds import check_image
from invariance.core.nesting import running_call
from invariance.core.randomness import RandomStream
from invariance.core.sample import Sample
from invariance.core.schema import (
    COMMON_ALIASES,
    TransformSchema,
    build_signature,
    parse_arguments,
    positional_order,
)
from invariance.core.short_path import run_step_on_image
from invariance.core.type_definitions import Targets, targets_of


class BasicTransform:
    """Base of every transform. Subclasses declare ``InitSchema`` and implement the effect."""

    InitSchema: ClassVar[type[TransformSchema]] = TransformSchema
    #: Old argument names accepted with a DeprecationWarning, mapped to the current name.
    aliases: ClassVar[Mapping[str, str]] = COMMON_ALIASES
    #: The target kinds this transform changes or reads; the rest pass through untouched.
    supported_targets: ClassVar[tuple[str, ...]] = ("image", "images", "mask", "masks", "bboxes", "keypoints")
    #: The image dtypes this transform accepts.
    supported_dtypes: ClassVar[tuple[str, ...]] = ("uint8", "float32")
    #: Catalogue family, for listings and docs.
    family: ClassVar[str] = "other"
    #: True when the output image dtype may differ from the input's (Normalize, ToFloat, FromFloat).
    changes_dtype: ClassVar[bool] = False
    #: Channel counts accepted: "any", or "rgb" (1 or 3 channels only; others raise InputError).
    supported_channels: ClassVar[str] = "any"
    #: Arguments that make a representative instance (required args filled in). Used by the contract
    #: tests, the generated docs pictures and the explore page's starting values.
    example_args: ClassVar[Mapping[str, Any]] = {}
    #: Extra call data a representative call needs (metadata such as reference images or text),
    #: merged into the call by the contract tests, the docs pictures and the explore page.
    example_data: ClassVar[Mapping[str, Any]] = {}

    p: float

    #: True when the arguments carry resource-budget markers (set when the class is defined).
    _budgeted: ClassVar[bool] = False

    #: True for a class that keeps ``BasicTransform.run`` (set per class): the image short path
    #: (core/short_path.py) may then draw and apply it itself.
    _runs_plain: ClassVar[bool] = True

    #: True for a pixel transform whose effect is ``apply`` on each image (set by
    #: ``PixelTransform``): called alone on one image, it runs ``apply`` without the effect object.
    _applies_to_image: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        registry.register(cls)
        cls._budgeted = bool(bounded_fields(cls.InitSchema))
        cls._runs_plain = cls.run is BasicTransform.run
        if "InitSchema" in cls.__dict__ and "__init__" not in cls.__dict__:
            cls.__signature__ = build_signature(cls.InitSchema)  # type: ignore[attr-defined]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        values = parse_arguments(
            type(self).__name__, self.InitSchema, args, kwargs, self.aliases, self.legacy
        )
        for name, value in values.items():
            setattr(self, name, value)
        self._init_values = values
        self._reset_runtime()

    def _reset_runtime(self) -> None:
        """Per-instance state that is not an argument: the random streams."""
        self._stream: RandomStream | None = None
        self._rng: np.random.Generator | None = None
        self._py_random: random.Random | None = None

    @classmethod
    def legacy(cls, given: dict[str, Any]) -> dict[str, Any]:
        """Translate deprecated argument combinations; the default passes arguments through."""
        return given

    # -- randomness ----------------------------------------------------------------------------

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        """Draw this call's parameters. The default draws nothing."""
        return {}

    @property
    def random_generator(self) -> np.random.Generator:
        """The numpy Generator of the current call (Albumentations-compatible name)."""
        if self._rng is None:
            self._rng = self._own_stream().generator()
        return self._rng

    @random_generator.setter
    def random_generator(self, generator: np.random.Generator) -> None:
        """Assign the Generator a standalone call draws from (Albumentations lets user code do this)."""
        if not isinstance(generator, np.random.Generator):
            raise ParameterError(
                f"{type(self).__name__}.random_generator must be a numpy.random.Generator, got {type(generator).__name__}"
            )
        self._own_stream().use(generator)
        self._rng = generator
        self._py_random = None

    @property
    def py_random(self) -> random.Random:
        """A ``random.Random`` for the current call (Albumentations name).

        It is seeded once per call from the call's Generator, so code that draws from it several
        times gets one stream, and a seeded pipeline reproduces.
        """
        if self._py_random is None:
            self._py_random = random.Random(int(self.random_generator.integers(0, 2**63 - 1)))
        return self._py_random

    def _own_stream(self) -> RandomStream:
        if self._stream is None:
            self._stream = RandomStream(None)
        return self._stream

    def set_random_seed(self, seed: int | None) -> None:
        """Seed this transform's own stream, used when it is called outside a pipeline."""
        self._stream = RandomStream(seed)
        self._rng = None
        self._py_random = None

    # -- the pipeline protocol -----------------------------------------------------------------

    #: True when ``sample()`` or ``effect()`` reads pixel values (images or masks): the call then
    #: resamples buffered warps first. Spatial transforms read only shapes and rows.
    reads_pixels: ClassVar[bool] = True

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        """What already-drawn parameters do to the sample: one effect, several, or None."""
        raise NotImplementedError

    def run(self, call: Call, rng: np.random.Generator, force_apply: bool = False) -> None:
        """Fire with probability ``p``: draw parameters, hand the call their effect, log them."""
        if self._budgeted:  # the resource budget, before any work (core/budget.py)
            check_call(self, call.sample.shape)
        if call.replay is not None:
            params = call.replayed(self)
            if params is None:
                return
            if self.reads_pixels and call.buffer.steps:
                call.flush()
        else:
            if not force_apply and not self.should_fire(rng):
                return
            if self.reads_pixels and call.buffer.steps:
                call.flush()
            params = self.draw_params(rng, call.sample)
        name = call.step = type(self).__name__
        call.apply(self.effect(params, call.sample))
        if call.logs:
            call.fired(name, self, params)

    def fires(self, rng: np.random.Generator, shape: tuple[int, int], forced: bool = False) -> bool:
        """Whether this transform fires on a call whose image is ``shape`` (height, width): the
        resource budget is checked first, before any draw (core/budget.py), then ``p`` unless
        ``forced``. The call and the image short path spell this out inline (it is their hot
        path); every other runner (the decode-aware reader) asks this, so all of them draw the
        same numbers in the same order."""
        if self._budgeted:
            check_call(self, shape)
        return forced or self.should_fire(rng)

    def draw_params(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        """This call's parameters, drawn from ``rng``; ``random_generator`` and ``py_random``
        give this call's streams meanwhile (for transforms that read them)."""
        self._rng = rng
        self._py_random = None
        return self.sample(rng, sample)

    def should_fire(self, rng: np.random.Generator) -> bool:
        if self.p >= 1.0:
            return True
        if self.p <= 0.0:
            return False
        return bool(rng.random() < self.p)

    def __call__(self, *args: Any, force_apply: bool = False, **data: Any) -> dict[str, Any]:
        """Run this transform alone, like a one-step ``Compose``."""
        if args:
            raise InputError("pass data as named arguments, for example transform(image=image)")
        inside = running_call()
        if inside is not None:
            # Called as ``t(**data)`` by a user composition inside a pipeline: run on its call.
            return inside.run_child(self, data, force_apply)
        if len(data) == 1 and "image" in data:
            # One image and nothing else: the short path (core/short_path.py), drawing from the
            # same stream as the one-step Compose, so both give the same results for a seed.
            image = check_image("image", data["image"])
            rng = (self._stream or self._own_stream()).generator()
            return run_step_on_image(self, force_apply, image, rng, _PLAIN_CONFIG, data, _run)
        if "bboxes" in data or "keypoints" in data:
            # Boxes and keypoints without a Compose to give their formats: Albumentations' layouts.
            from invariance.core.compat import call_with_rows

            return call_with_rows(self, data, force_apply)
        # A one-step pipeline: images, masks and their stacks.
        config = self.__dict__.get("_standalone_config", STANDALONE_CONFIG)
        call = Call(prepare(data, config), config, fusing=True)
        self.run(call, self._own_stream().generator(), force_apply)
        call.finish()
        return call.output(data)

    def add_targets(self, additional_targets: Mapping[str, str]) -> None:
        """Declare extra input keys and their kind for calls of this transform alone
        (Albumentations' ``add_targets``): ``t.add_targets({"image2": "image"})`` then
        ``t(image=a, image2=b)`` moves both. Inside a pipeline, ``Compose(additional_targets=...)``
        says it instead."""
        from invariance.core.inputs import target_kinds

        config = self.__dict__.get("_standalone_config", STANDALONE_CONFIG)
        kinds = dict(config.kinds)
        for key, kind in additional_targets.items():
            if kind not in target_kinds():
                raise ParameterError(
                    f"{type(self).__name__}.add_targets: {key!r} = {kind!r} is not a target kind; "
                    f"expected one of {list(target_kinds())}"
                )
            if kinds.get(key, kind) != kind:
                raise ParameterError(
                    f"{type(self).__name__}.add_targets: {key!r} is already a {kinds[key]!r} target; "
                    f"cannot make it {kind!r}"
                )
            kinds[key] = kind
        self._standalone_config = TargetConfig(kinds=kinds, bbox_params=None, keypoint_params=None)

    # -- description ---------------------------------------------------------------------------

    @property
    def targets(self) -> dict[str, Any]:
        """Target kinds this transform acts on (Albumentations-compatible property)."""
        return dict.fromkeys(self.supported_targets, True)

    @property
    def _targets(self) -> tuple[Targets, ...]:
        """Albumentations' ``_targets``: :attr:`supported_targets` as :class:`Targets` (read by
        code written for Albumentations; nothing in the engine uses it)."""
        return targets_of(self.supported_targets)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return tuple(name for name in self.InitSchema.model_fields if name != "p")

    def init_args(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this transform (serialization uses these):
        ``p``, then the others in the constructor's order."""
        order = [name for name in positional_order(self.InitSchema) if name != "p"]
        names = ["p", *order] if "p" in self.InitSchema.model_fields else order
        return {name: getattr(self, name) for name in names}

    def to_dict(self) -> dict[str, Any]:
        from invariance.core.serialization import to_dict

        return to_dict(self)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.init_args().items())
        return f"{type(self).__name__}({args})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_rng"] = None
        state["_py_random"] = None
        return state


def _run(node: Any, call: Call, rng: np.random.Generator, forced: bool) -> None:
    node.run(call, rng, forced)


_PLAIN_CONFIG = TargetConfig(kinds={"image": "image"}, bbox_params=None, keypoint_params=None)
#: What a transform or composition called alone knows: the built-in keys, no box or keypoint formats.
STANDALONE_CONFIG = TargetConfig(kinds=BUILTIN_TARGETS, bbox_params=None, keypoint_params=None)
