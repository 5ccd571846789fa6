"""Explicit randomness: one numpy Generator per pipeline, reseeded per data-loader worker.

Nothing here reads global random state. A pipeline built with ``seed=s`` draws from
``SeedSequence(s)``. Inside a PyTorch DataLoader worker the pipeline notices the worker (without
importing torch: only if torch is already loaded) and mixes the worker's seed into its stream.
PyTorch derives that worker seed from its base seed plus the worker id, and draws a fresh base
seed for every epoch, so workers get distinct streams, epochs differ, and everything reproduces
when the training script seeds torch.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

_MASK_64 = (1 << 64) - 1

#: Bumped in the child after every ``os.fork`` (DataLoader workers, multiprocessing pools): a
#: stream compares it with the value it last saw instead of asking the OS for the process id on
#: every draw (a system call). Spawned processes unpickle their streams, which re-reads anyway.
_FORK_EPOCH = 0


def _forked() -> None:
    global _FORK_EPOCH
    _FORK_EPOCH += 1


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forked)


def torch_worker_seed() -> int | None:
    """The current PyTorch DataLoader worker's seed, or None outside a worker."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        info = torch.utils.data.get_worker_info()
    except AttributeError:  # a partially imported or stub torch
        return None
    if info is None:
        return None
    return int(info.seed) & _MASK_64


def entropy_for(seed: int | None) -> int:
    """The root entropy of a pipeline: the seed itself, or fresh OS entropy when None."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


class RandomStream:
    """The Generator of one pipeline, aware of the process and DataLoader worker it runs in."""

    def __init__(self, seed: int | None) -> None:
        self.seed = seed
        self._entropy = entropy_for(seed)
        self._context: tuple[int, int | None] | None = None
        self._generator = np.random.default_rng(np.random.SeedSequence(self._entropy))
        self._context = self._current_context()
        self._epoch = _FORK_EPOCH

    @staticmethod
    def _current_context() -> tuple[int, int | None]:
        return os.getpid(), torch_worker_seed()

    def generator(self) -> np.random.Generator:
        """The Generator to draw from now; reseeded when the DataLoader worker changes.

        A worker is another process: the context (process id, worker seed) is read again only
        after a fork (``os.register_at_fork``) or when unpickled, not on every draw.
        """
        if self._context is not None and self._epoch == _FORK_EPOCH:
            return self._generator  # no fork since the context was read: the same process
        context = self._current_context()
        self._epoch = _FORK_EPOCH
        if context != self._context:
            _, worker_seed = context
            if worker_seed is not None:
                material = np.random.SeedSequence([self._entropy, worker_seed])
                self._generator = np.random.default_rng(material)
            elif self.seed is None:
                # A forked process without a worker seed: fresh entropy, never the parent's copy.
                self._entropy = entropy_for(None)
                self._generator = np.random.default_rng(np.random.SeedSequence(self._entropy))
            self._context = context
        return self._generator

    def use(self, generator: np.random.Generator) -> None:
        """Draw from ``generator`` from now on (a Generator the caller assigns)."""
        self._generator = generator
        self._context = self._current_context()
        self._epoch = _FORK_EPOCH

    def __getstate__(self) -> dict[str, Any]:
        return {"seed": self.seed, "entropy": self._entropy, "state": self._generator.bit_generator.state}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.seed = state["seed"]
        self._entropy = int(state["entropy"])
        self._generator = np.random.default_rng(np.random.SeedSequence(self._entropy))
        self._generator.bit_generator.state = state["state"]
        # Unknown until first use: a copy unpickled in a DataLoader worker must reseed there.
        self._context = None
        self._epoch = -1


def uniform(rng: np.random.Generator, low: float = 0.0, high: float = 1.0) -> float:
    """One draw from ``[low, high)``: bit-identical to ``rng.uniform(low, high)`` for scalar
    bounds (numpy computes ``low + (high - low) * next_double`` too), about 3x cheaper per call,
    which matters for transforms that draw several numbers per image."""
    return low + (high - low) * rng.random()


def integer(rng: np.random.Generator, low: int, high: int) -> int:
    """One integer drawn uniformly from ``[low, high)``, from a single ``rng.random()``.

    About 3x cheaper than ``rng.integers`` for one number (its per-call cost dominates a crop's
    parameter draw). The bias from mapping 2**53 doubles onto ``high - low`` values is below
    ``(high - low) / 2**53``, far under anything an image size can show. Not the same stream as
    ``rng.integers``: use it where a transform's draws are defined by it.
    """
    if high <= low:
        raise ValueError(f"empty range [{low}, {high})")
    return low + int(rng.random() * (high - low))
