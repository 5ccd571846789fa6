"""Name -> class registry for transforms and compositions.

Defining a subclass registers it under its class name, so a policy file can name it. Loading a
policy never imports modules on its own: a custom transform must be defined (imported by the
user's code) before a policy that names it is loaded.
"""

from __future__ import annotations

from typing import Any

_REGISTRY: dict[str, type[Any]] = {}
_COMPOSITIONS: set[type[Any]] = set()


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
