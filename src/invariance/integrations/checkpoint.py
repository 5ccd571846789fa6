"""The policy ships with the model: training policy, fingerprint and version inside a checkpoint.

A PyTorch checkpoint is usually a dict (``{"model": state_dict, "optimizer": ..., "epoch": ...}``).
:func:`attach_policy` adds one plain-data entry to it::

    checkpoint["invariance"] = {
        "policy": {...},          # to_dict(policy): the saved-policy document
        "fingerprint": "9f2c...", # fingerprint of the policy
        "version": "0.x.y",       # the invariance version that trained the model
    }

Plain data only (dicts, lists, strings, numbers), so ``torch.load(..., weights_only=True)`` reads
it. :func:`policy_from_checkpoint` rebuilds the Compose, and warns (``UserWarning``, both
fingerprints named) when the policy file you have now is not the one the model was trained with.
:func:`save_checkpoint` and :func:`load_checkpoint` wrap ``torch.save`` and ``torch.load``; the
other functions need no torch.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

from invariance._version import __version__
from invariance.core.errors import ParameterError, SerializationError
from invariance.core.serialization import fingerprint, from_dict, load, to_dict

#: The checkpoint key that holds the policy entry.
CHECKPOINT_KEY = "invariance"


def policy_entry(policy: Any) -> dict[str, Any]:
    """The plain-data entry describing ``policy``: its document, fingerprint and the library version."""
    document = json.loads(json.dumps(to_dict(policy)))  # plain types only, for weights_only loading
    return {"policy": document, "fingerprint": document["fingerprint"], "version": __version__}


def attach_policy(
    checkpoint: MutableMapping[str, Any], policy: Any, key: str = CHECKPOINT_KEY
) -> MutableMapping[str, Any]:
    """Write ``policy`` (its to_dict document, fingerprint and invariance version) into ``checkpoint``.

    Returns the same checkpoint, changed in place. Raises ParameterError when ``checkpoint`` is not
    a dict-like object, and SerializationError when the policy holds a function (Lambda).
    """
    if not isinstance(checkpoint, MutableMapping):
        raise ParameterError(
            f"attach_policy: checkpoint must be a dict (such as {{'model': model.state_dict()}}), "
            f"got {type(checkpoint).__name__}"
        )
    checkpoint[key] = policy_entry(policy)
    return checkpoint


def _current_fingerprint(current: Any) -> str:
    if isinstance(current, (str, Path)):
        current = load(current)
    return fingerprint(current)


def policy_from_checkpoint(
    checkpoint: Mapping[str, Any],
    current: Any = None,
    key: str = CHECKPOINT_KEY,
    lambda_transforms: Mapping[str, Any] | None = None,
) -> Any:
    """Rebuild the training policy stored by :func:`attach_policy`.

    Args:
        checkpoint: the loaded checkpoint dict.
        current: the policy you train or serve with now, to compare with: a policy file path, a
            Compose or a policy dict. When its fingerprint differs from the checkpoint's, a
            UserWarning names both.
        key: the checkpoint key of the entry.
        lambda_transforms: functions for Lambda transforms, by name (as for ``from_dict``).

    Raises:
        SerializationError: the checkpoint has no policy entry, or the entry is malformed.
    """
    if not isinstance(checkpoint, Mapping) or key not in checkpoint:
        found = sorted(map(str, checkpoint)) if isinstance(checkpoint, Mapping) else type(checkpoint).__name__
        raise SerializationError(
            f"the checkpoint has no {key!r} entry (found {found}); save it with attach_policy or save_checkpoint"
        )
    entry = checkpoint[key]
    if not isinstance(entry, Mapping) or not isinstance(entry.get("policy"), Mapping):
        raise SerializationError(f"checkpoint[{key!r}] is not a policy entry written by attach_policy")
    stored = str(entry.get("fingerprint") or fingerprint(entry["policy"]))
    if current is not None:
        now = _current_fingerprint(current)
        if now != stored:
            warnings.warn(
                f"the model was trained with policy {stored} (invariance {entry.get('version', '?')}), "
                f"but the current policy is {now}; compare them with `invariance diff`",
                UserWarning,
                stacklevel=2,
            )
    return from_dict(entry["policy"], lambda_transforms=lambda_transforms)


def save_checkpoint(path: str | Path, checkpoint: MutableMapping[str, Any], policy: Any) -> Path:
    """``torch.save`` of ``checkpoint`` with the policy attached; returns the path."""
    from invariance.integrations import require

    torch = require("torch", "torch")
    attach_policy(checkpoint, policy)
    torch.save(dict(checkpoint), str(path))
    return Path(path)


def load_checkpoint(
    path: str | Path,
    current: Any = None,
    map_location: Any = "cpu",
    weights_only: bool = True,
) -> tuple[dict[str, Any], Any]:
    """``torch.load`` a checkpoint and rebuild its policy: ``(checkpoint, policy)``.

    ``current`` (a policy file, a Compose or a dict) is compared as in :func:`policy_from_checkpoint`.
    """
    from invariance.integrations import require

    torch = require("torch", "torch")
    if not Path(path).is_file():
        raise ParameterError(f"load_checkpoint: {str(path)!r} is not a file")
    checkpoint = torch.load(str(path), map_location=map_location, weights_only=weights_only)
    if not isinstance(checkpoint, dict):
        raise SerializationError(f"{str(path)!r} holds a {type(checkpoint).__name__}, not a checkpoint dict")
    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        policy = policy_from_checkpoint(checkpoint, current)
    return checkpoint, policy


__all__ = [
    "CHECKPOINT_KEY",
    "attach_policy",
    "load_checkpoint",
    "policy_entry",
    "policy_from_checkpoint",
    "save_checkpoint",
]
