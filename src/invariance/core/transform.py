"""Base classes of the catalogue.

A transform is two small steps, kept apart:

* ``sample(rng, sample) -> params``: draw the random numbers once per call, from the Generator the
  pipeline hands down (never from global state). The returned dict is what
  ``save_applied_params`` records and what a replay feeds back.
* applying those params: a :class:`PixelTransform` runs ``apply(img, **params)`` (a kernel call) on
  every image; a :class:`SpatialTransform` returns a :class:`~invariance.core.geometry.Geometry`
  from ``geometry(params, sample)`` and the sample moves every target through it; an occlusion
  transform returns holes. No transform moves boxes or keypoints itself.

Parameters are declared once in a nested ``InitSchema`` (see :mod:`invariance.core.schema`).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from invariance.core import registry
from invariance.core.budget import check_call
from invariance.core.errors import InputError
from invariance.core.geometry import Geometry, Resampling
from invariance.core.inputs import check_image
from invariance.core.randomness import RandomStream
from invariance.core.sample import Sample, warp_image
from invariance.core.schema import COMMON_ALIASES, TransformSchema, build_signature, parse_arguments

#: The key under which a pipeline call travels through a custom composition's ``t(**data)`` calls
#: (see :func:`invariance.core.compat.run_custom_compose`).
CALL_KEY = "__invariance_call__"


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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        registry.register(cls)
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
        """Per-instance state that is not an argument: random streams and the standalone pipeline."""
        self._stream: RandomStream | None = None
        self._rng: np.random.Generator | None = None
        self._py_random: random.Random | None = None
        self._standalone: Any = None

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
        self._standalone = None

    # -- the pipeline protocol -----------------------------------------------------------------

    def run(self, sample: Sample, rng: np.random.Generator, force_apply: bool = False) -> None:
        """Fire with probability ``p``: draw parameters, apply them, record them if asked."""
        check_call(self, sample.shape)  # the resource budget, before any work (core/budget.py)
        if sample.replay is not None:
            node = sample.replay.get(id(self))
            if not node or not node.get("applied"):
                return
            params = dict(node.get("params") or {})
        else:
            if not force_apply and not self.should_fire(rng):
                return
            self._rng = rng
            self._py_random = None
            params = self.sample(rng, sample)
        self.apply_params(sample, params)
        if sample.applied is not None:
            sample.applied.append((type(self).__name__, _plain(params)))
        if sample.record is not None:
            sample.record[id(self)] = {"params": _plain(params)}
        sample.remap_keypoint_labels(type(self).__name__)

    def should_fire(self, rng: np.random.Generator) -> bool:
        if self.p >= 1.0:
            return True
        if self.p <= 0.0:
            return False
        return bool(rng.random() < self.p)

    def apply_params(self, sample: Sample, params: dict[str, Any]) -> None:
        """Apply already-drawn parameters to every target of the sample."""
        raise NotImplementedError

    def __call__(self, *args: Any, force_apply: bool = False, **data: Any) -> dict[str, Any]:
        """Run this transform alone, like a one-step ``Compose`` (images and masks only)."""
        if args:
            raise InputError("pass data as named arguments, for example transform(image=image)")
        call = data.get(CALL_KEY)
        if call is not None:
            # Called as ``t(**data)`` by a custom composition inside a pipeline: run on its sample.
            result: dict[str, Any] = call.run_child(self, data, force_apply)
            return result
        if len(data) == 1 and "image" in data and type(self).run is BasicTransform.run:
            return self._call_on_image(data, force_apply)
        if self._standalone is None:
            from invariance.core.compose import Compose

            self._standalone = Compose([self], p=1.0)
            self._standalone._stream = self._own_stream()
        output: dict[str, Any] = self._standalone(force_apply=force_apply, **data)
        return output

    def _call_on_image(self, data: dict[str, Any], force_apply: bool) -> dict[str, Any]:
        """``transform(image=img)``: what the one-step pipeline does, without its bookkeeping.

        With one image and nothing else there are no boxes, keypoints, labels, replays or
        parameter records to keep, and a lone geometry has nothing to fuse with, so the call is
        the input check, the draw and the effect. It draws from the same stream as the one-step
        ``Compose`` of the general path, so both give the same results for a seed (tested).
        """
        image = check_image("image", data["image"])
        check_call(self, image.shape[:2])
        rng = self._own_stream().generator()
        if not force_apply and not self.should_fire(rng):
            return {"image": image}
        self._rng = rng
        self._py_random = None
        shape = (int(image.shape[0]), int(image.shape[1]))
        sample = Sample(shape, {"image": "image"}, {"image": image}, data=data, fuse_warps=True)
        return {"image": self._apply_alone(sample, self.sample(rng, sample))}

    def _apply_alone(self, sample: Sample, params: dict[str, Any]) -> np.ndarray:
        """The image of a one-image sample after ``params`` are applied (the short path's effect).

        The general way here; the pixel and spatial bases skip the sample's dispatch when a
        subclass keeps their ``apply_params``.
        """
        self.apply_params(sample, params)
        sample.finish()
        image: np.ndarray = sample.arrays["image"]
        return image

    # -- description ---------------------------------------------------------------------------

    @property
    def targets(self) -> dict[str, Any]:
        """Target kinds this transform acts on (Albumentations-compatible property)."""
        return dict.fromkeys(self.supported_targets, True)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return tuple(name for name in self.InitSchema.model_fields if name != "p")

    def init_args(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this transform (serialization uses these)."""
        return {name: getattr(self, name) for name in self.InitSchema.model_fields}

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
        state["_standalone"] = None
        return state


class PixelTransform(BasicTransform):
    """A transform that changes pixel values only. Masks, boxes and keypoints pass through.

    Subclasses implement ``apply(img, **params)``, called once per image and per frame with the
    parameters drawn once for the whole call.
    """

    supported_targets = ("image", "images")
    family = "pixel"

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError

    def apply_params(self, sample: Sample, params: dict[str, Any]) -> None:
        sample.apply_pixels(lambda img: self.apply(img, **params))

    def _apply_alone(self, sample: Sample, params: dict[str, Any]) -> np.ndarray:
        if type(self).apply_params is not PixelTransform.apply_params:
            return super()._apply_alone(sample, params)
        return self.apply(sample.arrays["image"], **params)  # what apply_pixels does to one image


_DEFAULT_RESAMPLING = Resampling()  # frozen: one instance serves every call


class SpatialTransform(BasicTransform):
    """A transform that moves geometry. It declares its effect once, as a Geometry.

    Subclasses implement ``geometry(params, sample)``; the sample applies that one map to images
    (``interpolation``), masks (``mask_interpolation``, nearest by default), boxes and keypoints.
    """

    family = "geometric"

    def geometry(self, params: Mapping[str, Any], sample: Sample) -> Geometry:
        raise NotImplementedError

    def resampling(self) -> Resampling:
        """Resampling settings taken from this transform's own arguments, where it has them.

        Read on every call (positionally: this is on the hot path), so a user who changes an
        argument attribute between calls gets the new value.
        """
        defaults = _DEFAULT_RESAMPLING
        return Resampling(
            getattr(self, "interpolation", defaults.interpolation),
            getattr(self, "mask_interpolation", defaults.mask_interpolation),
            getattr(self, "border_mode", defaults.border_mode),
            getattr(self, "fill", defaults.fill),
            getattr(self, "fill_mask", defaults.fill_mask),
            getattr(self, "rotate_method", defaults.bbox_method),
        )

    def resampling_for(self, geometry: Geometry, params: Mapping[str, Any]) -> Resampling:
        """The resampling of one call: the transform's own, unless it depends on the call (a
        resize that averages areas when it shrinks)."""
        return self.resampling()

    def apply_params(self, sample: Sample, params: dict[str, Any]) -> None:
        geometry = self.geometry(params, sample)
        sample.apply_geometry(geometry, self.resampling_for(geometry, params))

    def _apply_alone(self, sample: Sample, params: dict[str, Any]) -> np.ndarray:
        if type(self).apply_params is not SpatialTransform.apply_params:
            return super()._apply_alone(sample, params)
        # What apply_geometry and the flush of a lone step do to one image.
        geometry = self.geometry(params, sample)
        if geometry.in_shape != sample.shape:
            return super()._apply_alone(sample, params)  # let the sample report the mismatch
        interpolation, _, border_mode, fill, _, _ = self.resampling_for(geometry, params)
        return warp_image(geometry, sample.arrays["image"], interpolation, border_mode, fill)


def _plain(value: Any) -> Any:
    """Make sampled parameters JSON-friendly (for saved and replayed parameters)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
