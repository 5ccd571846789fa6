"""Name -> class registry for transforms and compositions.

Defining a subclass registers it under its class name, so a policy file can name it. Loading a
policy never imports modules on its own: a custom transform must be defined (imported by the
user's code) before a policy that names it is loaded.
"""

from __future__ import annotations

from typing import Any, TypeVar

_REGISTRY: dict[str, type[Any]] = {}
_COMPOSITIONS: set[type[Any]] = set()
_BASES: set[type[Any]] = set()

T = TypeVar("T", bound=type[Any])


def register(cls: type[Any], composition: bool = False) -> None:
    """Register ``cls`` under its class name (a later definition of the same name wins).

    ``composition`` marks a class whose instances hold child transforms (``transforms``), so
    serialization can describe and rebuild it without importing the composition module.
    """
    _REGISTRY[cls.__name__] = cls
    if composition:
        _COMPOSITIONS.add(cls)


def is_composition(cls: type[Any]) -> bool:
    """True for a registered composition class (or a subclass of one)."""
    return any(issubclass(cls, known) for known in _COMPOSITIONS)


def lookup(name: str) -> type[Any] | None:
    """The class registered under ``name``; a dotted full name is reduced to its last part."""
    return _REGISTRY.get(name) or _REGISTRY.get(name.rsplit(".", 1)[-1])


def registered() -> dict[str, type[Any]]:
    """A copy of the registry."""
    return dict(_REGISTRY)


def base_class(cls: T) -> T:
    """Mark ``cls`` as a base for other transforms (class decorator).

    A base stays registered and importable, for subclassing, but it is no transform to use:
    catalogues (``invariance list``, the explore page, the generated docs, the contract tests)
    leave it out, and constructing it raises ``TypeError``.
    """
    _BASES.add(cls)
    return cls


def is_base(cls: Any) -> bool:
    """True for a class marked with :func:`base_class` (not for its subclasses)."""
    return cls in _BASES
