"""Policies as data: dicts, JSON and YAML files, fingerprints and structural diffs.

A saved policy looks like ``{"__version__", "__library__", "fingerprint", "transform"}``. The
fingerprint is the SHA-256 of the canonical JSON of ``transform`` (sorted keys, no whitespace),
so two files describing the same policy have the same fingerprint whatever their formatting.
Files written by Albumentations 2.x (``{"__version__", "transform": {"__class_fullname__"...}}``)
load when the transforms they name exist here.

Policy files are data from anywhere (a colleague, a paper's repository), so they are read under
limits, checked before anything is built: at most :data:`MAX_POLICY_BYTES` bytes of UTF-8,
nesting at most :data:`MAX_DEPTH` levels deep, at most :data:`MAX_NODES` values after YAML
aliases are expanded (a 500-byte "billion laughs" file is refused before it is expanded), and
integers within 64 bits. Every malformed document is answered with a :class:`SerializationError`
naming the path of the offending value (``transform.transforms[2].blur_limit``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml

from invariance._version import __version__
from invariance.core import registry
from invariance.core.errors import ParameterError, SerializationError

LIBRARY = "invariance"

#: The largest policy file read, in bytes.
MAX_POLICY_BYTES = 2 * 1024 * 1024
#: The deepest nesting of mappings and lists in a policy (every real policy needs far fewer).
MAX_DEPTH = 100
#: The most values (mappings, lists and scalars) a policy may hold after YAML aliases are expanded.
MAX_NODES = 100_000
#: Integers in a policy must satisfy ``abs(n) < INT_LIMIT`` (64-bit range).
INT_LIMIT = 2**63
#: Integer literals longer than this are refused before Python converts them.
_MAX_INT_CHARS = 40
_INT_TAG = "tag:yaml.org,2002:int"


def _where(path: str) -> str:
    """A path for an error message, shortened in the middle when absurdly long."""
    return path if len(path) <= 160 else f"{path[:100]}...{path[-50:]}"


def check_document(data: Any, path: str = "transform") -> None:
    """Refuse a policy document (parsed data) that exceeds the limits of this module.

    Walks ``data`` without recursion: nesting deeper than :data:`MAX_DEPTH`, more than
    :data:`MAX_NODES` values, integers outside the 64-bit range and values that are not plain
    data (mappings, lists, strings, numbers, booleans, None) raise :class:`SerializationError`
    naming the path of the value.
    """
    stack: list[tuple[Any, str, int]] = [(data, path, 1)]
    seen = 0
    while stack:
        value, where, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise SerializationError(f"the policy holds more than {MAX_NODES} values; refused")
        if depth > MAX_DEPTH:
            raise SerializationError(f"{_where(where)}: nested deeper than {MAX_DEPTH} levels; refused")
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    raise SerializationError(f"{_where(where)}: the key {key!r:.60} is not a plain value")
                stack.append((key, f"{where}.<key>", depth + 1))
                stack.append((item, f"{where}.{key}" if where else str(key), depth + 1))
        elif isinstance(value, (list, tuple)):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))
        elif isinstance(value, (bool, np.bool_)) or value is None:
            continue
        elif isinstance(value, (int, np.integer)):
            if not -INT_LIMIT < int(value) < INT_LIMIT:
                raise SerializationError(
                    f"{_where(where)}: the integer of {int(value).bit_length()} bits is outside the 64-bit range"
                )
        elif not isinstance(value, (str, float, np.floating, np.ndarray)):
            raise SerializationError(f"{_where(where)}: {type(value).__name__} is not plain policy data")


class _PolicyLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a depth limit while composing (no RecursionError)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise SerializationError(
                    f"nested deeper than {MAX_DEPTH} levels (line {mark.line + 1}); refused"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expanded_size(root: yaml.Node) -> None:
    """Refuse a composed YAML graph whose expansion (aliases copied out) is too big or too deep."""
    sizes: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def visit(node: yaml.Node) -> tuple[int, int]:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise SerializationError("a YAML alias contains itself; refused")
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _INT_TAG and len(str(node.value)) > _MAX_INT_CHARS:
                raise SerializationError(
                    f"line {node.start_mark.line + 1}: the integer {str(node.value)[:20]}... has "
                    f"{len(str(node.value))} characters; integers must fit in 64 bits"
                )
            sizes[key] = (1, 1)
            return sizes[key]
        active.add(key)
        children: list[yaml.Node] = (
            [part for pair in node.value for part in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
        )
        count, depth = 1, 1
        for child in children:
            child_count, child_depth = visit(child)
            count += child_count
            depth = max(depth, child_depth + 1)
            if count > MAX_NODES:
                raise SerializationError(f"expands to more than {MAX_NODES} values (YAML aliases); refused")
            if depth > MAX_DEPTH:
                raise SerializationError(f"expands deeper than {MAX_DEPTH} levels (YAML aliases); refused")
        active.discard(key)
        sizes[key] = (count, depth)
        return sizes[key]

    visit(root)


def _json_depth(text: str) -> int:
    """The deepest bracket nesting of a JSON text (strings skipped), without parsing it."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', "", text).encode("utf-8", "replace")
    raw = np.frombuffer(bare, np.uint8)
    steps = np.zeros(raw.shape, np.int64)
    steps[(raw == ord("[")) | (raw == ord("{"))] = 1
    steps[(raw == ord("]")) | (raw == ord("}"))] = -1
    return int(np.cumsum(steps).max()) if steps.size else 0


def _json_int(text: str) -> int:
    if len(text) > _MAX_INT_CHARS:
        raise SerializationError(
            f"the integer {text[:20]}... has {len(text)} digits; integers must fit in 64 bits"
        )
    return int(text)


def parse_policy(text: str | bytes, data_format: Literal["json", "yaml"], source: str = "the policy") -> Any:
    """Parse policy text (JSON or YAML) under the limits of this module, without building it.

    Raises:
        SerializationError: Over :data:`MAX_POLICY_BYTES`, not UTF-8, not parseable, nested too
            deep, too many values after alias expansion, or an integer beyond 64 bits.
    """
    if data_format not in ("json", "yaml"):
        raise SerializationError(f"data_format={data_format!r} is invalid: expected 'json' or 'yaml'")
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_POLICY_BYTES:
            raise SerializationError(f"{source} is {len(text)} bytes; the limit is {MAX_POLICY_BYTES} bytes")
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise SerializationError(
                f"{source} is not UTF-8 text (byte {error.start} is 0x{text[error.start]:02x})"
            ) from None
    if not isinstance(text, str):
        raise SerializationError(f"{source}: expected text, got {type(text).__name__}")
    if len(text) > MAX_POLICY_BYTES:
        raise SerializationError(f"{source} is {len(text)} characters; the limit is {MAX_POLICY_BYTES}")
    try:
        if data_format == "json":
            if _json_depth(text) > MAX_DEPTH:
                raise SerializationError(f"nested deeper than {MAX_DEPTH} levels; refused")
            return json.loads(text, parse_int=_json_int)
        loader = _PolicyLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _expanded_size(node)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except SerializationError as error:
        raise SerializationError(f"{source}: {error}") from None
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise SerializationError(
            f"cannot parse the policy as {data_format}{_named(source)}: {error}"
        ) from None
    except (ValueError, RecursionError) as error:  # int() digit limit, a deep structure missed above
        raise SerializationError(
            f"cannot parse the policy as {data_format}{_named(source)}: {error}"
        ) from None


def _named(source: str) -> str:
    """`` (file name)`` for a file's source label (name only: messages stay the same wherever the
    file lives), nothing for an in-memory policy."""
    prefix = "the policy file "
    if not source.startswith(prefix):
        return ""
    return f" ({Path(source.removeprefix(prefix).strip(chr(39) + chr(34))).name})"


def read_policy(path: str | Path, data_format: Literal["json", "yaml"] | None = None) -> Any:
    """Read and parse a policy file under the limits (format from the suffix unless given)."""
    file = Path(path)
    source = f"the policy file {str(file)!r}"
    try:
        if not file.is_file():
            raise SerializationError(f"policy file {str(file)!r} does not exist")
        size = file.stat().st_size
        if size > MAX_POLICY_BYTES:
            raise SerializationError(f"{source} is {size} bytes; the limit is {MAX_POLICY_BYTES} bytes")
        with file.open("rb") as handle:
            raw = handle.read(MAX_POLICY_BYTES + 1)
    except OSError as error:
        raise SerializationError(f"cannot read {source}: {error.strerror or error}") from None
    if data_format is None:
        data_format = "yaml" if file.suffix.lower() in (".yaml", ".yml") else "json"
    return parse_policy(raw, data_format, source)


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
    if isinstance(policy, Mapping):
        check_document(body)
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
    wrapped = "transform" in data and "__class_fullname__" not in data
    check_document(data, "" if wrapped else "transform")
    if wrapped:
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
        if recorded is not None and not isinstance(recorded, str):
            raise SerializationError(f"fingerprint: expected a string, got {type(recorded).__name__}")
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
    name = body["__class_fullname__"]
    if not isinstance(name, str):
        raise SerializationError(
            f"{path}.__class_fullname__: expected a transform name, got {type(name).__name__}"
        )
    bad_keys = [key for key in body if not isinstance(key, str)]
    if bad_keys:
        raise SerializationError(f"{path}: argument names must be strings, got {bad_keys[0]!r:.60}")
    cls = registry.lookup(name)
    if cls is None:
        raise SerializationError(
            f"{path}: unknown transform {name!r}. If it is a custom transform, define (import) its class "
            "before loading the policy; invariance never imports modules named in a policy file"
        )
    args = {
        k: v for k, v in body.items() if k not in ("__class_fullname__", "id", "params", "applied", "order")
    }
    if "transforms" in args and not isinstance(args["transforms"], list):
        raise SerializationError(
            f"{path}.transforms: expected a list of transforms, got {type(args['transforms']).__name__}"
        )
    try:
        if hasattr(cls, "from_dict_private"):
            return cls.from_dict_private(args, lambdas)
        if registry.is_composition(cls):
            strict = strict or args.get("strict") is True
            children = [
                _build(child, lambdas, f"{path}.transforms[{i}]", strict)
                for i, child in enumerate(args.pop("transforms", []))
            ]
            return cls(children, **args)
        return _construct(cls, args, strict)
    except SerializationError:
        raise
    except ParameterError as error:
        raise SerializationError(f"{path} ({name}): {error}") from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError) as error:
        # Whatever the constructor tripped on, the caller gets the node's path, the argument the
        # error names (when it names one) and the arguments it was given.
        text = str(error)
        field = next((k for k in args if k != "transforms" and re.search(rf"\b{re.escape(k)}\b", text)), None)
        where = f"{path}.{field}" if field else path
        raise SerializationError(
            f"{where} ({name}): cannot be built from {_arguments(args)}: {type(error).__name__}: {text}"
        ) from None


def _arguments(args: Mapping[str, Any]) -> str:
    shown = ", ".join(f"{k}={v!r:.40}" for k, v in args.items() if k != "transforms")
    return f"({shown})" if len(shown) <= 300 else f"({shown[:300]}...)"


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
        text = filepath_or_buffer.read(MAX_POLICY_BYTES + 1)
        document = parse_policy(text, data_format or "json", "the policy")
    else:
        document = read_policy(filepath_or_buffer, data_format)
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
    check_document(left)
    check_document(right)
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

    if not isinstance(left, list) or not isinstance(right, list):
        if left != right:
            changes.append(f"{path}: {left!r:.200} -> {right!r:.200}")
        return
    lnames = [str(x.get("__class_fullname__")) if isinstance(x, Mapping) else repr(x) for x in left]
    rnames = [str(x.get("__class_fullname__")) if isinstance(x, Mapping) else repr(x) for x in right]
    matcher = difflib.SequenceMatcher(a=lnames, b=rnames, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                _diff_node(left[i1 + k], right[j1 + k], f"{path}[{j1 + k}]<{rnames[j1 + k]}>", changes)
        else:
            changes.extend(f"{path}[{i}]: removed {_summary(left[i])}" for i in range(i1, i2))
            changes.extend(f"{path}[{j}]: added {_summary(right[j])}" for j in range(j1, j2))
