"""Name -> class registry for transforms and compositions.

Defining a subclass registers it under its class name, so a policy file can name it. Loading a
policy never imports modules on its own: a custom transform must be defined (imported by the
user's code) before a policy that names it is loaded.
"""

from __future__ import annotations

from typing import Any

_REGISTRY: dict[str, type[Any]] = {}


def register(cls: type[Any]) -> None:
    """Register ``cls`` under its class name (a later definition of the same name wins)."""
    _REGISTRY[cls.__name__] = cls


def lookup(name: str) -> type[Any] | None:
    """The class registered under ``name``; a dotted full name is reduced to its last part."""
    return _REGISTRY.get(name) or _REGISTRY.get(name.rsplit(".", 1)[-1])


def registered() -> dict[str, type[Any]]:
    """A copy of the registry."""
    return dict(_REGISTRY)
