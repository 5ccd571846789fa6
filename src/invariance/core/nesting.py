"""The pipeline call a user composition's ``__call__`` is running inside, if any.

Albumentations-style custom compositions call their children as ``t(**data)``. While such a
``__call__`` runs inside a pipeline, the call it belongs to is set here, and a child called that
way runs on that call (with the pipeline's Generator) instead of starting a pipeline of its own.
A context variable, so threads and nested calls each see their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol


class NestedCall(Protocol):
    """What a child called as ``t(**data)`` inside a user composition runs on."""

    def run_child(self, child: Any, data: dict[str, Any], force_apply: bool) -> dict[str, Any]: ...


_RUNNING: ContextVar[NestedCall | None] = ContextVar("invariance_running_call", default=None)


def running_call() -> NestedCall | None:
    """The call of the user composition whose ``__call__`` is running, or None."""
    return _RUNNING.get()


@contextmanager
def inside(call: NestedCall | None) -> Iterator[None]:
    """Run a block with ``call`` as the running call (None: a fresh pipeline in a user's code)."""
    token = _RUNNING.set(call)
    try:
        yield
    finally:
        _RUNNING.reset(token)
