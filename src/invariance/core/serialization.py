"""Policies as data: dicts, JSON and YAML files, fingerprints and structural diffs.

A saved policy looks like ``{"__version__", "__library__", "fingerprint", "transform"}``. The
fingerprint is the SHA-256 of the canonical JSON of ``transform`` (sorted keys, no whitespace),
so two files describing the same policy have the same fingerprint whatever their formatting.
Files written by Albumentations 2.x (``{"__version__", "transform": {"__class_fullname__"...}}``)
load when the transforms they name exist here.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

from invariance._version import __version__
from invariance.core import registry
from invariance.core.errors import ParameterError, SerializationError

LIBRARY = "invariance"


def _jsonable(value: Any) -> Any:
    import numpy as np

    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if callable(value):
        raise SerializationError(
            f"cannot serialize the callable {value!r}; transforms holding functions (Lambda) serialize "
            "by name only, and must be given their functions again with lambda_transforms= when loaded"
        )
    return value


def to_dict(transform: Any, with_version: bool = True, recurse: bool = True) -> dict[str, Any]:
    """Describe a transform or composition as plain data (JSON- and YAML-friendly)."""
    if hasattr(transform, "to_dict_private"):
        body = transform.to_dict_private()
    else:
        body = {"__class_fullname__": type(transform).__name__}
        body.update(_jsonable(transform.init_args()))
        if registry.is_composition(type(transform)):
            body["transforms"] = (
                [to_dict(t, with_version=False) for t in transform.transforms] if recurse else []
            )
    if not with_version:
        return body
    return {
        "__version__": __version__,
        "__library__": LIBRARY,
        "fingerprint": fingerprint(body),
        "transform": body,
    }


def fingerprint(policy: Any) -> str:
    """SHA-256 of the canonical JSON of a policy (a transform, or its dict)."""
    body = policy if isinstance(policy, Mapping) else to_dict(policy, with_version=False)
    if "transform" in body and "__class_fullname__" not in body:
        body = body["transform"]
    canonical = json.dumps(_jsonable(body), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in str(text).split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def from_dict(
    data: Mapping[str, Any], lambda_transforms: Mapping[str, Any] | None = None, strict: bool = False
) -> Any:
    """Build a transform or composition from :func:`to_dict` output (ours or Albumentations 2.x).

    An unknown transform argument (a typo such as ``limt`` for ``Rotate``'s ``limit``) is ignored
    with a ``UserWarning``, as in Albumentations 2.x, unless the policy is strict: ``strict=True``
    here, or ``strict: true`` on a ``Compose`` of the file (for every transform inside it). A
    strict policy refuses the argument with a :class:`SerializationError` naming it and its path.
    """
    if not isinstance(data, Mapping):
        raise SerializationError(f"a policy must be a mapping, got {type(data).__name__}")
    if "transform" in data and "__class_fullname__" not in data:
        if data.get("__library__") == LIBRARY and "__version__" in data:
            theirs = _version_tuple(data["__version__"])
            if theirs[:1] > _version_tuple(__version__)[:1] or (
                theirs[0] == 0
                and _version_tuple(__version__)[0] == 0
                and theirs[:2] > _version_tuple(__version__)[:2]
            ):
                raise SerializationError(
                    f"this policy was written by invariance {data['__version__']}, newer than the installed "
                    f"{__version__}; upgrade invariance to load it"
                )
        body = data["transform"]
        recorded = data.get("fingerprint")
        if recorded is not None and recorded != fingerprint(body):
            import warnings

            warnings.warn(
                "the policy's content does not match its recorded fingerprint (was it edited by hand?); "
                f"recorded {str(recorded)[:12]}..., content {fingerprint(body)[:12]}...",
                UserWarning,
                stacklevel=2,
            )
    else:
        body = data
    return _build(body, lambda_transforms or {}, path="transform", strict=bool(strict))


def _construct(cls: type[Any], args: dict[str, Any], strict: bool) -> Any:
    """``cls(**args)``; when ``strict``, the unknown-argument warning of the transform's own
    validation (``invariance.core.schema``, or a user ``InitSchema``) becomes an error."""
    if not strict:
        return cls(**args)
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*unknown argument", category=UserWarning)
        try:
            return cls(**args)
        except UserWarning as warning:
            raise ParameterError(str(warning).removesuffix(" (ignored)") + " (strict policy)") from None


def _build(body: Any, lambdas: Mapping[str, Any], path: str, strict: bool = False) -> Any:
    if not isinstance(body, Mapping) or "__class_fullname__" not in body:
        raise SerializationError(f"{path}: expected a mapping with '__class_fullname__', got {body!r:.80}")
    name = str(body["__class_fullname__"])
    cls = registry.lookup(name)
    if cls is None:
        raise SerializationError(
            f"{path}: unknown transform {name!r}. If it is a custom transform, define (import) its class "
            "before loading the policy; invariance never imports modules named in a policy file"
        )
    args = {
        k: v for k, v in body.items() if k not in ("__class_fullname__", "id", "params", "applied", "order")
    }
    if hasattr(cls, "from_dict_private"):
        return cls.from_dict_private(args, lambdas)
    if registry.is_composition(cls):
        strict = strict or args.get("strict") is True
        children = [
            _build(child, lambdas, f"{path}.transforms[{i}]", strict)
            for i, child in enumerate(args.pop("transforms", []))
        ]
        try:
            return cls(children, **args)
        except TypeError as error:
            raise SerializationError(f"{path}: {name} cannot be built from {sorted(args)}: {error}") from None
    try:
        return _construct(cls, args, strict)
    except ParameterError as error:
        raise SerializationError(f"{path}: {error}") from None
    except TypeError as error:
        raise SerializationError(f"{path}: {name} cannot be built from {sorted(args)}: {error}") from None


def save(
    transform: Any,
    filepath_or_buffer: str | Path | Any,
    data_format: Literal["json", "yaml"] = "json",
    on_not_implemented_error: str = "raise",
) -> None:
    """Write a policy to a JSON or YAML file (or an open text buffer)."""
    if data_format not in ("json", "yaml"):
        raise ParameterError(f"save: data_format={data_format!r} is invalid: expected 'json' or 'yaml'")
    document = to_dict(transform)
    text = (
        json.dumps(document, indent=2, sort_keys=False) + "\n"
        if data_format == "json"
        else yaml.safe_dump(document, sort_keys=False, default_flow_style=None)
    )
    if hasattr(filepath_or_buffer, "write"):
        filepath_or_buffer.write(text)
        return
    Path(filepath_or_buffer).write_text(text, encoding="utf-8")


def load(
    filepath_or_buffer: str | Path | Any,
    data_format: Literal["json", "yaml"] | None = None,
    lambda_transforms: Mapping[str, Any] | None = None,
    strict: bool = False,
) -> Any:
    """Read a policy written by :func:`save` (or by Albumentations 2.x) and build it.

    ``strict=True`` refuses unknown transform arguments (see :func:`from_dict`).
    """
    if hasattr(filepath_or_buffer, "read"):
        text = filepath_or_buffer.read()
        name = ""
    else:
        path = Path(filepath_or_buffer)
        if not path.exists():
            raise SerializationError(f"policy file {str(path)!r} does not exist")
        text = path.read_text(encoding="utf-8")
        name = path.name.lower()
    if data_format is None:
        data_format = "yaml" if name.endswith((".yaml", ".yml")) else "json"
    try:
        document = json.loads(text) if data_format == "json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise SerializationError(f"cannot parse the policy as {data_format}: {error}") from None
    return from_dict(document, lambda_transforms=lambda_transforms, strict=strict)


def diff(a: Any, b: Any) -> list[str]:
    """Human-readable structural differences between two policies (transforms, dicts or saved files).

    One line per change, with the path of the node: ``transform.transforms[2]<Rotate>.p: 0.3 -> 0.5``,
    ``transform.transforms[4]: added GaussianBlur(blur_limit=[3, 5], p=0.1)``. Transforms are matched
    by name in order (like a text diff), so an inserted step does not show every later step as
    changed. Two policies with the same fingerprint give an empty list.
    """
    left = a if isinstance(a, Mapping) else to_dict(a, with_version=False)
    right = b if isinstance(b, Mapping) else to_dict(b, with_version=False)
    if "transform" in left and "__class_fullname__" not in left:
        left = left["transform"]
    if "transform" in right and "__class_fullname__" not in right:
        right = right["transform"]
    changes: list[str] = []
    _diff_node(_jsonable(left), _jsonable(right), "transform", changes)
    return changes


def _summary(node: Any) -> str:
    if not isinstance(node, Mapping):
        return repr(node)
    args = ", ".join(
        f"{k}={v!r}" for k, v in node.items() if k not in ("__class_fullname__", "transforms", "id")
    )
    children = node.get("transforms")
    inner = f"[{len(children)} transforms]" if isinstance(children, list) else ""
    return f"{node.get('__class_fullname__')}({inner}{', ' if inner and args else ''}{args})"


def _diff_node(left: Any, right: Any, path: str, changes: list[str]) -> None:
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        lname, rname = left.get("__class_fullname__"), right.get("__class_fullname__")
        if lname != rname or (lname is None and left.keys() != right.keys()):
            changes.append(f"{path}: {_summary(left)} replaced by {_summary(right)}")
            return
        for key in sorted(set(left) | set(right)):
            if key == "transforms":
                continue
            if key not in left:
                changes.append(f"{path}.{key}: added = {right[key]!r}")
            elif key not in right:
                changes.append(f"{path}.{key}: removed (was {left[key]!r})")
            elif left[key] != right[key]:
                _diff_node(left[key], right[key], f"{path}.{key}", changes)
        lt, rt = left.get("transforms", []), right.get("transforms", [])
        _diff_lists(lt, rt, f"{path}.transforms", changes)
    elif left != right:
        changes.append(f"{path}: {left!r} -> {right!r}")


def _diff_lists(left: list[Any], right: list[Any], path: str, changes: list[str]) -> None:
    import difflib

    lnames = [str(x.get("__class_fullname__")) for x in left]
    rnames = [str(x.get("__class_fullname__")) for x in right]
    matcher = difflib.SequenceMatcher(a=lnames, b=rnames, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                _diff_node(left[i1 + k], right[j1 + k], f"{path}[{j1 + k}]<{rnames[j1 + k]}>", changes)
        else:
            changes.extend(f"{path}[{i}]: removed {_summary(left[i])}" for i in range(i1, i2))
            changes.extend(f"{path}[{j}]: added {_summary(right[j])}" for j in range(j1, j2))
