"""Probes: any transform or policy, at the severities you choose, as a robustness stress test.

The reference article's evaluation protocol probes the invariances a model is assumed to have:
"if accuracy drops significantly when images are simply flipped horizontally, the model has not
learned the invariance you assumed; if metrics collapse under moderate brightness reduction, you
know exactly which augmentation to add to training next". A :class:`Probe` is one such test: a
name, the severities it is measured at, and for each severity the thing that alters the image (a
transform, a ``Compose``, a policy dict or file, or a plain ``image -> image`` callable).

The 18 ImageNet-C style corruptions (and ``darken``) are presets: ``Probe.corruption("fog")``.
Each probe also names its *failure class*, the row of the article's failure-to-family table it
probes, so a report can say which transform family to add to training when the probe fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from invariance.core.errors import ParameterError


@dataclass(frozen=True)
class FailureClass:
    """One row of the article's failure-to-family table: what failed, and what to add to training."""

    name: str
    families: str  # the article's words, e.g. "brightness, gamma, shadow"
    transforms: tuple[str, ...]  # catalogue transforms of those families


#: The article's map from a real-world failure pattern to the transform family that addresses it
#: ("illumination failures -> brightness, gamma, shadow", ...). ``weather`` and ``color`` are not
#: rows of that table; they come from its "transform families" section (weather effects; colour
#: and channel transforms), so probes of those kinds still get a recommendation.
FAILURE_CLASSES: dict[str, FailureClass] = {
    c.name: c
    for c in (
        FailureClass(
            "illumination",
            "brightness, gamma, shadow",
            ("RandomBrightnessContrast", "RandomGamma", "RandomShadow"),
        ),
        FailureClass("motion/focus", "motion blur, gaussian blur", ("MotionBlur", "GaussianBlur")),
        FailureClass("viewpoint", "rotate, affine, perspective", ("Rotate", "Affine", "Perspective")),
        FailureClass(
            "partial visibility", "coarse dropout, aggressive crop", ("CoarseDropout", "RandomResizedCrop")
        ),
        FailureClass(
            "sensor noise", "gaussian noise, compression artifacts", ("GaussNoise", "ImageCompression")
        ),
        FailureClass(
            "weather", "weather effects", ("RandomFog", "RandomRain", "RandomSnow", "RandomSunFlare")
        ),
        FailureClass("color", "colour jitter, hue/saturation", ("ColorJitter", "HueSaturationValue")),
    )
}

# Which failure class a probe built from these transforms tests (by class name, then by the class's
# catalogue family).
_BY_NAME: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("Brightness", "Gamma", "Shadow", "ToneCurve", "CLAHE", "Equalize", "Illumination", "Contrast"),
        "illumination",
    ),
    (("Blur", "Defocus"), "motion/focus"),
    (("Noise", "Compression", "Downscale", "SaltAndPepper"), "sensor noise"),
    (("Dropout", "Erasing", "GridMask", "Crop", "Cutout"), "partial visibility"),
    (("Fog", "Rain", "Snow", "SunFlare", "Spatter"), "weather"),
    (("ColorJitter", "HueSaturation", "RGBShift", "ToGray", "ChannelShuffle", "Sepia", "Saturat"), "color"),
    (
        ("Flip", "Rotate", "Affine", "Perspective", "Transpose", "D4", "Elastic", "Shift", "Scale"),
        "viewpoint",
    ),
)
_BY_FAMILY = {
    "geometric": "viewpoint",
    "distortion": "viewpoint",
    "blur": "motion/focus",
    "noise": "sensor noise",
    "occlusion": "partial visibility",
    "weather": "weather",
}

#: Failure class of each built-in corruption.
CORRUPTION_FAILURES = {
    "gaussian_noise": "sensor noise",
    "shot_noise": "sensor noise",
    "impulse_noise": "sensor noise",
    "speckle_noise": "sensor noise",
    "gaussian_blur": "motion/focus",
    "motion_blur": "motion/focus",
    "defocus_blur": "motion/focus",
    "zoom_blur": "motion/focus",
    "glass_blur": "motion/focus",
    "fog": "weather",
    "snow": "weather",
    "spatter": "weather",
    "brightness": "illumination",
    "darken": "illumination",
    "contrast": "illumination",
    "saturate": "color",
    "pixelate": "sensor noise",
    "jpeg_compression": "sensor noise",
    "elastic": "viewpoint",
}


def failure_class_of(transform: Any) -> str | None:
    """The failure class a transform (or the first leaf of a composition) probes, if one is known."""
    from invariance.core.compose import BaseCompose

    leaves: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, BaseCompose):
            for child in node.transforms:
                walk(child)
        else:
            leaves.append(node)

    walk(transform)
    for leaf in leaves:
        name = type(leaf).__name__
        for fragments, failure in _BY_NAME:
            if any(fragment in name for fragment in fragments):
                return failure
        family = getattr(type(leaf), "family", None)
        if family in _BY_FAMILY:
            return _BY_FAMILY[family]
    return None


def _load_policy(spec: str | Path) -> Any:
    from invariance.core.serialization import load
    from invariance.presets import available_presets, load_preset

    path = Path(spec)
    if path.is_file():
        return load(path)
    if str(spec) in available_presets():
        return load_preset(str(spec))
    raise ParameterError(f"probe policy {str(spec)!r} is neither a policy file nor a preset name")


ImageFn = Callable[[np.ndarray, int], np.ndarray]


def _as_image_fn(obj: Any, where: str) -> tuple[ImageFn, Any]:
    """``(fn(image, seed) -> image, the built transform or None)`` for anything a probe may hold."""
    from invariance.core.compose import BaseCompose, Compose
    from invariance.core.serialization import from_dict
    from invariance.core.transform import BasicTransform

    if isinstance(obj, (str, Path)):
        obj = _load_policy(obj)
    elif isinstance(obj, Mapping):
        obj = from_dict(obj)
    if isinstance(obj, (BasicTransform, BaseCompose)):
        pipeline = obj if isinstance(obj, Compose) else Compose([obj])

        def run(image: np.ndarray, seed: int) -> np.ndarray:
            pipeline.set_random_seed(seed)
            out: np.ndarray = pipeline(image=image)["image"]
            return out

        return run, obj
    if callable(obj):

        def call(image: np.ndarray, seed: int) -> np.ndarray:
            return np.asarray(obj(image))

        return call, None
    raise ParameterError(
        f"{where}: expected a transform, a Compose, a policy dict, a policy file or preset name, or a "
        f"callable image -> image; got {type(obj).__name__}"
    )


@dataclass(frozen=True)
class Probe:
    """One stress test: a name, its severities and what alters the image at each of them.

    Build one with :func:`probe` or :meth:`Probe.corruption`. ``family`` groups probes in tables
    and plots (``noise``, ``blur``, ``weather``, ``digital`` for the corruptions, ``custom``
    otherwise); ``failure`` is a key of :data:`FAILURE_CLASSES` (or None when unknown).
    """

    name: str
    severities: tuple[Any, ...]
    at: Callable[[Any], Any] = field(repr=False)
    family: str = "custom"
    failure: str | None = None
    seeded_like_corruption: bool = field(default=False, repr=False)

    @classmethod
    def corruption(cls, name: str, severities: Sequence[int] | None = None) -> Probe:
        """The built-in corruption ``name`` (see ``CORRUPTIONS``) at ``severities`` (1-5, default all)."""
        from invariance.robustness.corruptions import SEVERITIES, get_corruption

        corruption = get_corruption(name)
        chosen = tuple(SEVERITIES if severities is None else severities)
        for severity in chosen:
            if severity not in SEVERITIES:
                raise ParameterError(f"severities must be within {SEVERITIES}, got {severity!r}")
        return cls(
            name,
            chosen,
            corruption.build,
            family=corruption.family,
            failure=CORRUPTION_FAILURES.get(name),
            seeded_like_corruption=True,
        )

    def image_fn(self, severity: Any) -> ImageFn:
        """``fn(image, seed) -> image`` applying this probe at ``severity``."""
        fn, _ = _as_image_fn(self.at(severity), f"probe {self.name!r} at severity {severity!r}")
        return fn

    def seed_for(self, seed: int, severity: Any, index: int) -> int:
        """The pipeline seed of image ``index``: a pure function of the run seed, probe, severity and index."""
        if self.seeded_like_corruption:
            from invariance.robustness.corruptions import corruption_seed

            return corruption_seed(seed, self.name, int(severity), index)
        key = [ord(c) for c in f"{self.name}\x00{severity!r}"]
        return int(np.random.SeedSequence([seed, index, *key]).generate_state(1)[0])

    def recommendation(self) -> FailureClass | None:
        """The row of the failure-to-family table this probe tests."""
        return FAILURE_CLASSES.get(self.failure) if self.failure else None


def probe(
    name: str,
    transform: Any = None,
    *,
    at: Callable[[Any], Any] | None = None,
    severities: Sequence[Any] | None = None,
    failure: str | None = None,
    family: str = "custom",
) -> Probe:
    """A probe from your own transforms or policies.

    Three ways to say what happens at each severity:

    - ``probe("hflip", A.HorizontalFlip(p=1))``: one transform, policy (``Compose``, dict, file or
      preset name) or ``image -> image`` callable, measured at one severity (``severities`` may
      name it, default ``(1,)``);
    - ``probe("rotate", {5: A.Rotate(limit=(5, 5), p=1), 15: A.Rotate(limit=(15, 15), p=1)})``: a
      mapping from each severity to its transform or policy;
    - ``probe("darken", at=lambda s: A.RandomBrightnessContrast(brightness_limit=(s, s),
      contrast_limit=0, p=1), severities=[-0.1, -0.3, -0.5])``: a factory called with each severity.

    Severities are any labels you choose (numbers sort the curves). Use ``p=1`` and pinned ranges
    for a probe that measures one thing; random parts are seeded per image, so results reproduce.

    Args:
        name: the probe's name in reports.
        transform: a transform, policy or callable, or a mapping ``{severity: that}``.
        at: a factory ``severity -> transform or policy`` (instead of ``transform``).
        severities: the severities to measure (required with ``at``).
        failure: a key of :data:`FAILURE_CLASSES`; guessed from the transform when not given.
        family: a group name for tables and plots.
    """
    if not isinstance(name, str) or not name or name == "clean":
        raise ParameterError(f"probe: name must be a non-empty string other than 'clean', got {name!r}")
    if (transform is None) == (at is None):
        raise ParameterError(
            f"probe {name!r}: pass either a transform (or a mapping of them) or at=, not both"
        )
    if at is not None:
        if not callable(at):
            raise ParameterError(f"probe {name!r}: at= must be a callable severity -> transform, got {at!r}")
        if not severities:
            raise ParameterError(f"probe {name!r}: at= needs severities=[...]")
        factory, chosen = at, tuple(severities)
    elif isinstance(transform, Mapping) and not _is_policy_dict(transform):
        if not transform:
            raise ParameterError(f"probe {name!r}: the mapping of severities is empty")
        table = dict(transform)
        chosen = tuple(table) if severities is None else tuple(severities)
        missing = [s for s in chosen if s not in table]
        if missing:
            raise ParameterError(
                f"probe {name!r}: no transform for severities {missing}; it has {list(table)}"
            )
        factory = table.__getitem__
    else:
        chosen = (1,) if severities is None else tuple(severities)
        if len(chosen) != 1:
            raise ParameterError(
                f"probe {name!r}: one transform is one severity; pass a mapping or at= for {list(chosen)}"
            )
        fixed = transform
        factory = lambda _severity: fixed  # noqa: E731
    if len(set(map(repr, chosen))) != len(chosen):
        raise ParameterError(f"probe {name!r}: severities repeat: {list(chosen)}")
    built = None
    for severity in chosen:  # build every severity now: a bad one fails here, not mid-run
        _, built_here = _as_image_fn(factory(severity), f"probe {name!r} at severity {severity!r}")
        built = built if built is not None else built_here
    if failure is None and built is not None:
        failure = failure_class_of(built)
    if failure is not None and failure not in FAILURE_CLASSES:
        raise ParameterError(f"probe {name!r}: failure={failure!r} is not one of {sorted(FAILURE_CLASSES)}")
    return Probe(name, chosen, factory, family=family, failure=failure)


def _is_policy_dict(value: Mapping[Any, Any]) -> bool:
    return "__class_fullname__" in value or "transform" in value


def probes_from_config(document: Any, base: str | Path = ".") -> list[Probe]:
    """Probes described in a YAML/JSON document (``invariance robustness --probes FILE``).

    ``document`` is ``{"probes": [entry, ...]}`` or the list itself. Each entry has a ``name``, an
    optional ``failure`` (a key of :data:`FAILURE_CLASSES`) and ``family``, and one of:

    - ``policy``: a policy (inline dict, file or preset name) measured at one severity;
    - ``severities: {label: policy, ...}``: a policy per severity;
    - ``transform: Name``, ``argument: arg``, ``severities: [v, ...]`` and optional ``args``:
      the catalogue transform ``Name(**args, arg=(v, v), p=1)`` at each value ``v`` (``pin: false``
      passes ``v`` itself instead of the pinned range ``(v, v)``).

    Relative policy paths are read from ``base`` (the folder of the probes file).
    """
    entries = document.get("probes") if isinstance(document, Mapping) else document
    if not isinstance(entries, list) or not entries:
        raise ParameterError("a probes file must hold a non-empty list 'probes: [...]'")
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise ParameterError(f"probes[{i}] must be a mapping with a 'name', got {entry!r:.80}")
        out.append(_probe_from_entry(dict(entry), Path(base), f"probes[{i}] ({entry['name']!r})"))
    return out


def _resolve(spec: Any, base: Path) -> Any:
    if isinstance(spec, str) and not Path(spec).is_absolute() and (base / spec).is_file():
        return str(base / spec)
    return spec


def _probe_from_entry(entry: dict[str, Any], base: Path, where: str) -> Probe:
    import invariance as A

    name = entry.pop("name")
    common = {"failure": entry.pop("failure", None), "family": str(entry.pop("family", "custom"))}
    if "transform" in entry:
        cls_name = entry.pop("transform")
        cls = getattr(A, str(cls_name), None)
        if not isinstance(cls, type):
            raise ParameterError(f"{where}: transform {cls_name!r} is not in the catalogue")
        argument = entry.pop("argument", None)
        values = entry.pop("severities", None)
        args = dict(entry.pop("args", None) or {})
        pin = bool(entry.pop("pin", True))
        if not isinstance(argument, str) or not isinstance(values, list) or not values:
            raise ParameterError(f"{where}: 'transform' needs 'argument: name' and 'severities: [values]'")
        _no_extra(entry, where)

        def build(value: Any) -> Any:
            return cls(**{**args, argument: (value, value) if pin else value, "p": 1.0})

        return probe(name, at=build, severities=values, **common)
    if "policy" in entry:
        spec = entry.pop("policy")
        _no_extra(entry, where)
        return probe(name, _resolve(spec, base), **common)
    table = entry.pop("severities", None)
    if not isinstance(table, Mapping) or not table:
        raise ParameterError(
            f"{where}: give 'policy', 'severities: {{label: policy}}', or 'transform' with 'argument' "
            "and 'severities'"
        )
    _no_extra(entry, where)
    return probe(name, {label: _resolve(spec, base) for label, spec in table.items()}, **common)


def _no_extra(entry: Mapping[str, Any], where: str) -> None:
    if entry:
        raise ParameterError(f"{where}: unknown key(s) {sorted(entry)}")
