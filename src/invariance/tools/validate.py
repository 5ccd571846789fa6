"""``invariance validate``: check a policy file before it reaches a training run.

Errors (non-zero exit): the file cannot be parsed, a transform is unknown, a parameter is unknown
or out of range. Warnings: deprecated argument names, label-breaking choices for the declared task
(flips of text or digits, colour shifts where colour is the label, crops that can drop every box,
flips of keypoints without a label mapping...) and any randomness in an evaluation policy (a file
with ``eval: true`` or ``purpose: eval`` at its top level, or ``--eval``).

Python API::

    from invariance.tools.validate import validate_policy
    report = validate_policy("policy.yaml", task="ocr")
    report.ok, report.findings
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import typer

import invariance as A
from invariance.core import registry
from invariance.core.compose import BaseCompose
from invariance.core.errors import ParameterError, SerializationError
from invariance.core.serialization import check_document, from_dict, read_policy

Level = Literal["error", "warning", "info"]

TASKS = (
    "classification",
    "detection",
    "segmentation",
    "keypoints",
    "pose",
    "ocr",
    "text",
    "documents",
    "digits",
    "color-label",
    "medical",
    "grayscale",
    "satellite",
)

#: Transforms that mirror or turn the image (any of them breaks text and digits).
FLIPS = {"HorizontalFlip", "VerticalFlip", "Transpose", "D4", "SquareSymmetry", "RandomRotate90"}
#: Transforms that change hue, channel balance or drop colour.
COLOR_SHIFTS = {
    "HueSaturationValue",
    "ColorJitter",
    "RGBShift",
    "ChannelShuffle",
    "ChannelDropout",
    "ToGray",
    "ToSepia",
    "FancyPCA",
    "PlanckianJitter",
    "RandomToneCurve",
    "InvertImg",
    "Solarize",
    "Posterize",
    "Equalize",
    "CLAHE",
    "RandomGamma",
    "HEStain",
    "FDA",
    "HistogramMatching",
    "PixelDistributionAdaptation",
    "PhotoMetricDistort",
    "ChromaticAberration",
}
#: Colour transforms harmless for the label when only their brightness/contrast parts are used.
HUE_ARGS = {"ColorJitter": "hue", "HueSaturationValue": "hue_shift_limit"}
#: Crops that keep every box (or at least one) by construction.
BOX_SAFE_CROPS = {
    "BBoxSafeRandomCrop",
    "RandomSizedBBoxSafeCrop",
    "AtLeastOneBBoxRandomCrop",
    "CropNonEmptyMaskIfExists",
}


@dataclass
class Finding:
    level: Level
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.path}: {self.message}"


@dataclass
class ValidationReport:
    """The outcome of :func:`validate_policy`: findings, and the policy when it could be built."""

    source: str
    findings: list[Finding] = field(default_factory=list)
    policy: Any = None
    fingerprint: str | None = None
    eval_policy: bool = False
    #: Every node that could be built, with its path (checked for task pitfalls even when a
    #: sibling failed, so one bad step does not hide the others' warnings).
    nodes: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, level: Level, path: str, message: str) -> None:
        self.findings.append(Finding(level, path, message))


# -- loading, node by node -------------------------------------------------------------------------


def _read_document(
    source: str | Path | Mapping[str, Any], report: ValidationReport
) -> Mapping[str, Any] | None:
    try:
        if isinstance(source, Mapping):
            doc: Any = source
            check_document(doc, "")
        else:
            doc = read_policy(source)
    except SerializationError as error:
        text = str(error)
        if text.startswith("cannot parse"):
            text = f"cannot be parsed: {text}"
        report.add("error", str(source) if not isinstance(source, Mapping) else "<dict>", text)
        return None
    if not isinstance(doc, Mapping):
        report.add("error", str(source), f"a policy must be a mapping, got {type(doc).__name__}")
        return None
    return doc


def _build_node(body: Any, path: str, report: ValidationReport) -> Any:
    """Build one node, recording every problem; return None when it cannot be built."""
    if not isinstance(body, Mapping) or "__class_fullname__" not in body:
        report.add("error", path, f"expected a mapping with '__class_fullname__', got {body!r:.80}")
        return None
    name = str(body["__class_fullname__"])
    cls = registry.lookup(name)
    label = f"{path} ({name})"
    if cls is None:
        report.add("error", label, f"unknown transform {name!r}")
        return None
    if issubclass(cls, BaseCompose):
        listed = body.get("transforms", [])
        if not isinstance(listed, list):
            report.add(
                "error", f"{path}.transforms", f"expected a list of transforms, got {type(listed).__name__}"
            )
            return None
        children = [_build_node(child, f"{path}.transforms[{i}]", report) for i, child in enumerate(listed)]
        if any(child is None for child in children):
            return None
        args = {
            k: v
            for k, v in body.items()
            if k not in ("__class_fullname__", "id", "params", "applied", "order", "transforms")
        }
        try:
            node = cls(children, **args)
        except (ParameterError, TypeError, ValueError, KeyError, AttributeError) as error:
            report.add(
                "error",
                label,
                f"{type(error).__name__}: {error}" if not isinstance(error, ParameterError) else str(error),
            )
            return None
        report.nodes.append((path, node))
        return node
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            node = from_dict(dict(body))
        except (SerializationError, ParameterError) as error:
            # from_dict names the node "transform"; the finding's label already says where it is.
            report.add(
                "error", label, re.sub(r"^transform(\.(\w+))? \(\w+\): ", r"\2: ", str(error)).lstrip(": ")
            )
            return None
    for warning in caught:
        text = str(warning.message)
        if issubclass(warning.category, DeprecationWarning):
            report.add("warning", label, f"deprecated: {text}")
        elif "unknown argument" in text:
            report.add("error", label, text.removesuffix(" (ignored)"))
        else:
            report.add("warning", label, text)
    report.nodes.append((path, node))
    return node


# -- walking a built policy ------------------------------------------------------------------------


def iter_transforms(node: Any, path: str = "transform") -> Iterator[tuple[str, Any]]:
    """Every transform and composition in a policy, with its path."""
    yield path, node
    if isinstance(node, BaseCompose):
        for i, child in enumerate(node.transforms):
            yield from iter_transforms(child, f"{path}.transforms[{i}]")


def _label(path: str, node: Any) -> str:
    return f"{path} ({type(node).__name__})"


def _nonzero(value: Any) -> bool:
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, (list, tuple)):
        return any(_nonzero(v) for v in value)
    return value is not None


def _angle_limit(node: Any) -> float:
    for arg in ("limit", "rotate"):
        value = getattr(node, arg, None)
        if isinstance(value, (int, float)):
            return abs(float(value))
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, float)) for v in value):
            return max(abs(float(v)) for v in value)
    return 0.0


def _task_checks(nodes: list[tuple[str, Any]], task: str, report: ValidationReport) -> None:
    task = task.lower()
    text_like = task in ("ocr", "text", "documents", "digits")
    color_label = task in ("color-label", "colour-label")
    grayscale = task in ("medical", "grayscale")
    top = next((node for path, node in nodes if path == "transform"), None)
    for path, node in nodes:
        name = type(node).__name__
        where = _label(path, node)
        if isinstance(node, BaseCompose):
            if task == "segmentation" and getattr(node, "mask_interpolation", None) not in (None, 0):
                report.add(
                    "warning", where, "mask_interpolation is not nearest: masks will get invalid class ids"
                )
            continue
        if getattr(node, "p", 1.0) <= 0:
            continue
        if text_like and name in FLIPS:
            report.add(
                "warning",
                where,
                f"{name} mirrors or turns the image: text and digits change meaning ('b'/'d', '6'/'9')",
            )
        if (
            text_like
            and name in ("Rotate", "Affine", "SafeRotate", "ShiftScaleRotate")
            and _angle_limit(node) > 15
        ):
            report.add(
                "warning",
                where,
                f"rotations up to {_angle_limit(node):g} degrees can turn characters into others",
            )
        if color_label and name in COLOR_SHIFTS:
            arg = HUE_ARGS.get(name)
            if arg is None or _nonzero(getattr(node, arg, 0)):
                report.add("warning", where, f"{name} shifts colours, but --task says colour is the label")
        if grayscale and name in COLOR_SHIFTS and name not in ("RandomGamma", "CLAHE", "Equalize"):
            report.add(
                "warning",
                where,
                f"{name} shifts hue or channels, which makes no physical sense on grayscale scans",
            )
        if task == "detection" and "Crop" in name and name not in BOX_SAFE_CROPS:
            scale = getattr(node, "scale", None)
            small = isinstance(scale, (list, tuple)) and scale and float(scale[0]) < 0.5
            if name not in ("RandomResizedCrop", "RandomSizedCrop") or small or scale is None:
                report.add(
                    "warning",
                    where,
                    f"{name} can cut every box out of the image (the sample then has no targets); "
                    "consider BBoxSafeRandomCrop, AtLeastOneBBoxRandomCrop or RandomSizedBBoxSafeCrop",
                )
        if task in ("keypoints", "pose") and name in FLIPS:
            params = getattr(top, "keypoint_params", None)
            mapping = getattr(params, "label_mapping", None) or {}
            if name not in mapping:
                report.add(
                    "warning",
                    where,
                    f"{name} swaps left and right: add KeypointParams(label_mapping={{'{name}': ...}}) so "
                    "'left eye' still means the left eye",
                )
        if task == "satellite" and name in ("Rotate", "Affine", "SafeRotate") and _angle_limit(node) >= 90:
            report.add(
                "info", where, "large rotations: fine unless north-up or sun direction carries the label"
            )


def _randomness_checks(policy: Any, report: ValidationReport) -> None:
    for path, node in iter_transforms(policy):
        p = float(getattr(node, "p", 1.0))
        if 0.0 < p < 1.0:
            report.add("warning", _label(path, node), f"p={p:g}: an eval policy must apply every step (p=1)")
        if type(node).__name__ in ("OneOf", "SomeOf", "RandomOrder", "OneOrOther"):
            report.add("warning", _label(path, node), f"{type(node).__name__} picks transforms at random")
    # Dynamic check: the same input under two seeds must give the same output.
    from invariance.data import sample_scene

    scene = sample_scene(96, 128)
    outputs = []
    for seed in (1, 2, 3):
        pipeline = A.Compose([policy], seed=seed)
        try:
            outputs.append(pipeline(image=scene["image"])["image"])
        except Exception as error:  # reported, not raised: validation must finish
            report.add("info", "transform", f"could not run on a sample image to test determinism: {error}")
            return
    if any(o.shape != outputs[0].shape or not np.array_equal(o, outputs[0]) for o in outputs[1:]):
        report.add(
            "warning", "transform", "output changes with the seed: this policy is random, not an eval policy"
        )


def is_eval_document(doc: Mapping[str, Any]) -> bool:
    """A policy file marked as an evaluation policy (``eval: true`` or ``purpose: eval``)."""
    purpose = str(doc.get("purpose", doc.get("mode", ""))).lower()
    return bool(doc.get("eval")) or purpose in (
        "eval",
        "evaluation",
        "test",
        "inference",
        "val",
        "validation",
    )


def validate_policy(
    source: str | Path | Mapping[str, Any], task: str | None = None, eval_policy: bool = False
) -> ValidationReport:
    """Check a policy file (or its dict) and return every finding (see the module docstring)."""
    report = ValidationReport(str(source) if not isinstance(source, Mapping) else "<dict>")
    if task is not None and task.lower() not in TASKS and task.lower() != "colour-label":
        report.add("error", "--task", f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
        return report
    doc = _read_document(source, report)
    if doc is None:
        return report
    report.eval_policy = eval_policy or is_eval_document(doc)
    body = doc["transform"] if "transform" in doc and "__class_fullname__" not in doc else doc
    version = doc.get("__version__")
    if doc.get("__library__") == "invariance" and version is not None:
        try:
            from_dict(
                {
                    "__version__": version,
                    "__library__": "invariance",
                    "transform": {"__class_fullname__": "NoOp"},
                }
            )
        except SerializationError as error:
            report.add("error", "__version__", str(error))
            return report
    policy = _build_node(body, "transform", report)
    if task is not None:
        _task_checks(report.nodes, task, report)
    if policy is None:
        return report
    report.policy = policy
    report.fingerprint = A.fingerprint(policy)
    recorded = doc.get("fingerprint")
    if recorded and recorded != report.fingerprint:
        report.add(
            "info", "fingerprint", "the recorded fingerprint differs from the policy's (edited by hand?)"
        )
    if report.eval_policy:
        _randomness_checks(policy, report)
    return report


def command(
    policy: Path = typer.Argument(..., help="Policy file (JSON or YAML)."),
    task: str = typer.Option(
        None, "--task", "-t", help=f"Warn about label-breaking choices for: {', '.join(TASKS)}."
    ),
    eval_policy: bool = typer.Option(
        False, "--eval", help="Treat as an evaluation policy: warn about any randomness."
    ),
    strict: bool = typer.Option(False, "--strict", help="Fail on warnings too."),
) -> None:
    """Check a policy file: unknown transforms or parameters, deprecated names, ranges, task pitfalls."""
    from invariance.tools.console import console, styled

    report = validate_policy(policy, task=task, eval_policy=eval_policy)
    styles = {"error": "bold red", "warning": "yellow", "info": "cyan"}
    for finding in report.findings:
        console.print(styled((finding.level, styles[finding.level]), f": {finding.path}: {finding.message}"))
    summary = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
    if report.fingerprint:
        summary += f"; fingerprint {report.fingerprint[:16]}"
    if report.eval_policy:
        summary += "; checked as an eval policy"
    console.print(styled(("OK", "bold green") if report.ok else ("FAILED", "bold red"), " ", summary))
    if not report.ok or (strict and report.warnings):
        raise typer.Exit(1)
