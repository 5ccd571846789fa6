"""``invariance ablate POLICY --out DIR``: the one-axis variants of a policy, ready for a sweep.

The reference article's protocol (step 3, one-axis ablations) changes one factor at a time:
"increase or decrease one transform probability; widen or narrow one magnitude range; add or
remove one transform family". From a base policy this writes

- one variant per step with that step removed (a whole ``OneOf`` block, or one of its choices);
- one with the step's ``p`` raised by ``p_step`` and one with it lowered (clipped to [0, 1]);
- for every magnitude range of a step (a ``[low, high]`` argument, or each axis of one such as
  ``Affine``'s ``scale.x``), one widened and one narrowed by ``factor`` of its half-width around its
  centre. When the symmetric widening leaves the transform's valid range (``scale`` of a crop past
  1.0), the range is widened on one side only, keeping the bound it touches;

each as a policy file with its fingerprint, and ``manifest.json`` listing every variant (file,
fingerprint, axis, what changed from what to what) and every variant that could not be built. Every
variant differs from the base in exactly one value or one removed step, and loads back.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import typer

import invariance as A
from invariance.core.errors import InvarianceError, ParameterError

#: Two-number arguments that are not magnitudes (output sizes, fill colours).
NOT_MAGNITUDES = frozenset({"size", "fill", "fill_mask", "p"})


@dataclass
class Variant:
    """One one-axis variant of a policy: what changed, and the built policy's description."""

    id: str
    axis: str  # "remove", "p" or "magnitude"
    direction: str  # "removed", "raised", "lowered", "widened", "narrowed"
    path: str  # the step, e.g. "transform.transforms[2]"
    transform: str  # its class name
    argument: str | None  # the argument changed ("p", "limit", "scale.x"); None for a removal
    before: Any
    after: Any
    fingerprint: str = ""
    file: str = ""
    body: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Skipped:
    """A variant that could not be built (its reason is the transform's own validation message)."""

    path: str
    transform: str
    axis: str
    direction: str
    argument: str | None
    reason: str


@dataclass
class Ablation:
    """The base policy and its variants (see :func:`ablations`)."""

    base: dict[str, Any]
    base_fingerprint: str
    variants: list[Variant]
    skipped: list[Skipped]
    p_step: float
    factor: float


def _steps(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any], list[Any], int]]:
    """``(path, step, parent list, index)`` of every step below ``node`` (depth first, in order)."""
    children = node.get("transforms")
    if not isinstance(children, list):
        return
    for index, child in enumerate(children):
        if isinstance(child, dict) and "__class_fullname__" in child:
            child_path = f"{path}.transforms[{index}]"
            yield child_path, child, children, index
            yield from _steps(child, child_path)


def _is_range(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        and value[0] < value[1]
    )


def _ranges(step: dict[str, Any]) -> Iterator[tuple[str, list[Any]]]:
    """``(argument, [low, high])`` of every magnitude range of a step (``key.sub`` inside a dict)."""
    for key, value in step.items():
        if key in NOT_MAGNITUDES or key in ("__class_fullname__", "transforms"):
            continue
        if _is_range(value):
            yield key, value
        elif isinstance(value, dict):
            yield from ((f"{key}.{sub}", inner) for sub, inner in value.items() if _is_range(inner))


def _value_at(body: dict[str, Any], path: str, argument: str | None) -> Any:
    """The value of one argument of the step at ``path``."""
    for step_path, step, _, _ in _steps(body, "transform"):
        if step_path == path and argument is not None:
            key, _, sub = argument.partition(".")
            return step[key][sub] if sub else step[key]
    raise KeyError(path)  # unreachable: paths come from the same structure


def _edit(body: dict[str, Any], path: str, argument: str | None, value: Any) -> None:
    """Remove the step at ``path`` (``argument`` None) or set one of its arguments to ``value``."""
    for step_path, step, parent, index in _steps(body, "transform"):
        if step_path != path:
            continue
        if argument is None:
            del parent[index]
        elif "." in argument:
            key, sub = argument.split(".", 1)
            step[key][sub] = value
        else:
            step[argument] = value
        return
    raise KeyError(path)  # unreachable: paths come from the same structure


def _scaled(low: float, high: float, factor: float, integer: bool) -> list[list[Any]]:
    """Candidate ranges: symmetric around the centre first, then one-sided (keeping each end).

    A range that does not cross zero never does after the change, and odd integer ranges (kernel
    sizes) stay odd.
    """
    centre, half = (low + high) / 2, (high - low) / 2
    width = half * factor
    if factor > 0:  # widen: symmetric, then keep the high end, then keep the low end
        candidates = [
            (centre - half - width, centre + half + width),
            (low - 2 * width, high),
            (low, high + 2 * width),
        ]
    else:
        candidates = [(centre - half - width, centre + half + width)]
    odd = integer and low % 2 == 1 and high % 2 == 1  # kernel sizes: stay odd
    out: list[list[Any]] = []
    for lo, hi in candidates:
        if integer:
            lo, hi = (math.floor(lo), math.ceil(hi)) if factor > 0 else (math.ceil(lo), math.floor(hi))
            if odd:
                lo, hi = (
                    (lo - (lo % 2 == 0), hi + (hi % 2 == 0))
                    if factor > 0
                    else (lo + (lo % 2 == 0), hi - (hi % 2 == 0))
                )
            value: list[Any] = [int(lo), int(hi)]
        else:
            value = [round(lo, 6), round(hi, 6)]
        if value[0] > value[1] or (low >= 0 > value[0]) or (high <= 0 < value[1]):
            continue  # empty, or a magnitude that changed sign (a sigma below zero)
        if value != [low, high] and value not in out:
            out.append(value)
    return out


def _build(body: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The canonical description of ``body`` built as a policy, or ``(None, reason)``."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            # A transform may adjust a value with a warning (kernel sizes 1 -> 3); the variant
            # records the value it was built with.
            warnings.simplefilter("ignore", UserWarning)
            built = A.from_dict(body, strict=True)
    except (InvarianceError, ValueError, TypeError) as error:
        return None, str(error)
    return A.to_dict(built, with_version=False), ""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def ablations(policy: Any, p_step: float = 0.2, factor: float = 0.5) -> Ablation:
    """Every one-axis variant of ``policy`` (a Compose, a policy dict, a file or a preset name).

    Args:
        policy: the base policy.
        p_step: how much each ``p`` is raised and lowered (results are clipped to [0, 1]).
        factor: how much each range's half-width grows (widened) and shrinks (narrowed), in (0, 1).

    Raises:
        ParameterError: ``p_step`` or ``factor`` out of range, or a policy that is not a composition.
    """
    if not 0 < p_step <= 1:
        raise ParameterError(f"p_step must be in (0, 1], got {p_step!r}")
    if not 0 < factor < 1:
        raise ParameterError(f"factor must be in (0, 1), got {factor!r}")
    if isinstance(policy, (str, Path)):
        from invariance.tools.runner import load_policy

        policy = load_policy(str(policy))
    elif isinstance(policy, dict):
        policy = A.from_dict(policy)
    base = A.to_dict(policy, with_version=False)
    if not isinstance(base.get("transforms"), list):
        raise ParameterError(
            f"ablate needs a composition (a Compose of steps), got a single {base.get('__class_fullname__')}"
        )
    base_fingerprint = A.fingerprint(base)
    variants: list[Variant] = []
    skipped: list[Skipped] = []

    def attempt(
        path: str, name: str, axis: str, direction: str, argument: str | None, before: Any, afters: list[Any]
    ) -> None:
        """Try each new value in turn; keep the first that builds into another policy."""
        reason = "no change"
        for after in afters:
            body = copy.deepcopy(base)
            _edit(body, path, None if axis == "remove" else argument, after)
            built, reason = _build(body)
            if built is None:
                continue
            fingerprint = A.fingerprint(built)
            if fingerprint == base_fingerprint:
                reason = "the change does not alter the built policy"
                continue
            if axis != "remove":
                after = _value_at(built, path, argument)
            label = f"{name}-{argument}-{direction}" if argument else f"{name}-{direction}"
            variants.append(
                Variant(
                    f"{len(variants) + 1:02d}-{_slug(label)}",
                    axis,
                    direction,
                    path,
                    name,
                    argument,
                    before,
                    after,
                    fingerprint,
                    body=built,
                )
            )
            return
        skipped.append(Skipped(path, name, axis, direction, argument, reason))

    for path, step, _, _ in list(_steps(base, "transform")):
        name = str(step["__class_fullname__"])
        attempt(path, name, "remove", "removed", None, name, [None])
        p = float(step.get("p", 1.0))
        for direction, new in (("raised", min(1.0, p + p_step)), ("lowered", max(0.0, p - p_step))):
            if round(new, 6) == p:
                skipped.append(Skipped(path, name, "p", direction, "p", f"p is already {p:g}"))
                continue
            attempt(path, name, "p", direction, "p", p, [round(new, 6)])
        for argument, (low, high) in list(_ranges(step)):
            integer = all(isinstance(v, int) for v in (low, high))
            for direction, signed in (("widened", factor), ("narrowed", -factor)):
                candidates = _scaled(low, high, signed, integer)
                attempt(path, name, "magnitude", direction, argument, [low, high], candidates)
    return Ablation(base, base_fingerprint, variants, skipped, p_step, factor)


def write_ablations(
    policy: Any, out: str | Path, p_step: float = 0.2, factor: float = 0.5, data_format: str = "yaml"
) -> dict[str, Any]:
    """Write the base, every variant and ``manifest.json`` to ``out``; return the manifest.

    Files are ``base.<ext>`` and ``<NN>-<transform>-<argument>-<direction>.<ext>``; the manifest
    names each variant's file, fingerprint and change, relative to ``out``, and the skipped ones.
    """
    if data_format not in ("yaml", "json"):
        raise ParameterError(f"format must be 'yaml' or 'json', got {data_format!r}")
    result = ablations(policy, p_step=p_step, factor=factor)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"--out {str(folder)!r} exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    ext = "yaml" if data_format == "yaml" else "json"
    fmt: Any = data_format
    A.save(A.from_dict(result.base), folder / f"base.{ext}", fmt)
    for variant in result.variants:
        variant.file = f"{variant.id}.{ext}"
        A.save(A.from_dict(variant.body), folder / variant.file, fmt)
    manifest = {
        "base": {
            "file": f"base.{ext}",
            "fingerprint": result.base_fingerprint,
            "source": str(policy) if isinstance(policy, (str, Path)) else type(policy).__name__,
        },
        "settings": {"p_step": p_step, "factor": factor},
        "variants": [
            {k: v for k, v in asdict(variant).items() if k != "body"} for variant in result.variants
        ],
        "skipped": [asdict(s) for s in result.skipped],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def command(
    policy: str = typer.Argument(..., help="Policy file (JSON/YAML) or a preset name."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the variants and manifest.json."),
    p_step: float = typer.Option(0.2, help="How much each p is raised and lowered."),
    factor: float = typer.Option(0.5, help="How much each magnitude range's half-width grows and shrinks."),
    data_format: str = typer.Option("yaml", "--format", help="Policy files as 'yaml' or 'json'."),
) -> None:
    """Write the one-axis variants of a policy (each step removed, each p raised and lowered, each
    magnitude widened and narrowed), each with its fingerprint, and a manifest for a sweep."""
    from invariance.tools.console import console, fail

    try:
        manifest = write_ablations(policy, out, p_step=p_step, factor=factor, data_format=data_format)
    except (InvarianceError, OSError) as error:
        fail(str(error))
    for v in manifest["variants"]:
        change = "removed" if v["axis"] == "remove" else f"{v['argument']}: {v['before']} -> {v['after']}"
        console.print(f"{v['file']}  {v['fingerprint'][:12]}  {v['path']}<{v['transform']}> {change}")
    for s in manifest["skipped"]:
        console.print(
            f"skipped {s['path']}<{s['transform']}> {s['argument'] or ''} {s['direction']}: {s['reason']}"
        )
    console.print(
        f"{len(manifest['variants'])} variant(s) of {manifest['base']['source']} "
        f"(fingerprint {manifest['base']['fingerprint'][:12]}), {len(manifest['skipped'])} skipped; "
        f"manifest: {Path(out) / 'manifest.json'}"
    )
