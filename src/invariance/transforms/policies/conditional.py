"""Conditional policies: choose a pipeline by a value of the call's data (class, domain, ...)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from invariance.core.call import Call
from invariance.core.compose import BaseCompose, Sequential, _check_probability, _check_transforms
from invariance.core.errors import InputError, ParameterError, describe
from invariance.core.transform import BasicTransform

Runnable = Any
BranchKey = str | int | float | bool


def _as_branch(owner: str, where: str, value: Any) -> Runnable:
    """A branch is a transform, a composition, or a list of them (run in order)."""
    if isinstance(value, (list, tuple)):
        return Sequential(_check_transforms(f"{owner}: {where}", list(value)), p=1.0)
    if not isinstance(value, (BasicTransform, BaseCompose)):
        raise ParameterError(
            f"{owner}: {where} = {describe(value)} is not a transform; expected a transform instance, a "
            "composition or a list of them (did you forget the parentheses, e.g. HorizontalFlip()?)"
        )
    checked = _check_transforms(f"{owner}: {where}", value)
    if len(checked) != 1:  # pragma: no cover - _check_transforms wraps a single transform
        raise ParameterError(f"{owner}: {where} must be a transform or a list of transforms")
    return checked[0]


def _check_key(owner: str, value: Any) -> BranchKey:
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, (str, int, float, bool)) or (
        isinstance(value, float) and not np.isfinite(value)
    ):
        raise ParameterError(
            f"{owner}: branch value {describe(value)} is invalid: expected a string, an integer, a finite "
            "number or a boolean (so that the policy serializes to JSON and YAML)"
        )
    return value


class ConditionalCompose(BaseCompose):
    """Run the branch chosen by the value of ``key`` in the call's data.

    ``ConditionalCompose(key="domain", branches={"night": [...], "day": [...]}, default=[...])``
    runs the ``night`` transforms on ``pipeline(image=..., domain="night")``. The value is looked up
    among the call's named inputs (any extra keyword passed to the pipeline, e.g. a class label or
    a domain tag); when it is missing or matches no branch, ``default`` runs (nothing when None).
    Each branch is a transform, a composition or a list of transforms (run in order, each with its
    own ``p``).

    It is an ordinary composition: it nests in any pipeline, serializes to JSON/YAML with its
    branches, and its fingerprint does not depend on the order the branches were written in.

    Args:
        key: name of the data entry whose value picks the branch.
        branches: mapping from values (strings, integers, numbers or booleans) to branches.
        default: branch for any other value, or None. Default: None.
        p: probability of running at all. Default: 1.0.
    """

    def __init__(
        self,
        key: str,
        branches: Mapping[BranchKey, Any],
        default: Any = None,
        p: float = 1.0,
    ) -> None:
        owner = type(self).__name__
        if not isinstance(key, str) or not key:
            raise ParameterError(
                f"{owner}: argument 'key' = {describe(key)} is invalid: expected a non-empty string"
            )
        if not isinstance(branches, Mapping) or not branches:
            raise ParameterError(
                f"{owner}: argument 'branches' = {describe(branches)} is invalid: expected a non-empty "
                "mapping {value: transforms}"
            )
        entries = [(_check_key(owner, value), branch) for value, branch in branches.items()]
        entries.sort(key=lambda entry: json.dumps(entry[0]))
        seen: set[str] = set()
        for value, _ in entries:
            token = json.dumps(value)
            if token in seen:
                raise ParameterError(f"{owner}: branch value {value!r} is given twice")
            seen.add(token)
        self.key = key
        self.values: list[BranchKey] = [value for value, _ in entries]
        children = [_as_branch(owner, f"branches[{value!r}]", branch) for value, branch in entries]
        self.has_default = default is not None
        if default is not None:
            children.append(_as_branch(owner, "default", default))
        super().__init__(children, _check_probability(owner, p))

    @property
    def branches(self) -> dict[BranchKey, Runnable]:
        return dict(zip(self.values, self.transforms))

    @property
    def default(self) -> Runnable | None:
        return self.transforms[-1] if self.has_default else None

    def branch_index(self, data: Mapping[str, Any]) -> int | None:
        """Index of the child chosen for ``data`` (None when nothing should run)."""
        value = data.get(self.key)
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, (list, tuple, dict, set, np.ndarray)):
            raise InputError(
                f"{type(self).__name__}: data[{self.key!r}] must be a single value (a class, a domain...), "
                f"got {type(value).__name__}"
            )
        if value is not None:
            for i, candidate in enumerate(self.values):
                # True == 1 in Python; a boolean branch only matches a boolean value.
                if isinstance(value, bool) == isinstance(candidate, bool) and value == candidate:
                    return i
        return len(self.values) if self.has_default else None

    def run(self, call: Call, rng: np.random.Generator, force_apply: bool = False) -> None:
        if call.replay is not None:
            super().run(call, rng, force_apply)
            return
        if not force_apply and not self.should_fire(rng):
            return
        index = self.branch_index(call.sample.data)
        chosen = [] if index is None else [(index, False)]
        if call.record is not None:
            call.record[id(self)] = {"order": [i for i, _ in chosen]}
        self.run_children(call, rng, chosen)

    def init_args(self) -> dict[str, Any]:
        return {"key": self.key, "values": list(self.values), "has_default": self.has_default, "p": self.p}

    def to_dict_private(self) -> dict[str, Any]:
        from invariance.core.serialization import to_dict

        return {
            "__class_fullname__": type(self).__name__,
            **self.init_args(),
            "transforms": [to_dict(t, with_version=False) for t in self.transforms],
        }

    @classmethod
    def from_dict_private(cls, args: Mapping[str, Any], lambdas: Mapping[str, Any]) -> ConditionalCompose:
        from invariance.core.errors import SerializationError
        from invariance.core.serialization import _build

        values = list(args.get("values", []))
        has_default = bool(args.get("has_default", False))
        children = [
            _build(child, lambdas, f"ConditionalCompose.transforms[{i}]")
            for i, child in enumerate(args.get("transforms", []))
        ]
        if len(children) != len(values) + int(has_default):
            raise SerializationError(
                f"ConditionalCompose: {len(values)} branch values and default={has_default} do not match "
                f"{len(children)} transforms"
            )
        try:
            return cls(
                key=args["key"],
                branches=dict(zip(values, children)),
                default=children[-1] if has_default else None,
                p=args.get("p", 1.0),
            )
        except (KeyError, ParameterError) as error:
            raise SerializationError(f"ConditionalCompose: {error}") from None

    def __repr__(self) -> str:
        parts = ", ".join(f"{v!r}: {t!r}" for v, t in self.branches.items())
        return f"ConditionalCompose(key={self.key!r}, branches={{{parts}}}, default={self.default!r}, p={self.p})"
