"""The policy ships with the model: policy, fingerprint and version inside a PyTorch checkpoint."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import invariance as A
from invariance._version import __version__
from invariance.integrations.checkpoint import (
    attach_policy,
    load_checkpoint,
    policy_from_checkpoint,
    save_checkpoint,
)


def _policy(limit: int = 10) -> A.Compose:
    return A.Compose([A.RandomResizedCrop(size=(32, 32), scale=(0.8, 1.0)), A.Rotate(limit=limit, p=0.3)])


def test_attach_and_rebuild_without_torch():
    checkpoint = attach_policy({"epoch": 3}, _policy())
    entry = checkpoint["invariance"]
    assert entry["fingerprint"] == A.fingerprint(_policy()) and entry["version"] == __version__
    rebuilt = policy_from_checkpoint(checkpoint)
    assert A.fingerprint(rebuilt) == entry["fingerprint"]
    image = np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    rebuilt.set_random_seed(1)
    original = _policy()
    original.set_random_seed(1)
    np.testing.assert_array_equal(rebuilt(image=image)["image"], original(image=image)["image"])


def test_a_different_current_policy_warns_with_both_fingerprints(tmp_path):
    checkpoint = attach_policy({}, _policy(limit=10))
    path = tmp_path / "policy.yaml"
    A.save(_policy(limit=90), path, data_format="yaml")
    with pytest.warns(UserWarning) as caught:
        policy_from_checkpoint(checkpoint, current=path)
    message = str(caught[0].message)
    assert A.fingerprint(_policy(limit=10)) in message and A.fingerprint(_policy(limit=90)) in message


def test_the_same_current_policy_is_silent(tmp_path):
    checkpoint = attach_policy({}, _policy())
    path = tmp_path / "policy.json"
    A.save(_policy(), path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        policy_from_checkpoint(checkpoint, current=path)
        policy_from_checkpoint(checkpoint, current=_policy())


def test_missing_or_bad_entries_are_named():
    with pytest.raises(A.SerializationError, match=r"no 'invariance' entry.*'model'"):
        policy_from_checkpoint({"model": {}})
    with pytest.raises(A.SerializationError, match="not a policy entry"):
        policy_from_checkpoint({"invariance": "Compose"})
    with pytest.raises(A.ParameterError, match="checkpoint must be a dict"):
        attach_policy([], _policy())  # type: ignore[arg-type]


def test_torch_save_and_load_with_weights_only(tmp_path):
    torch = pytest.importorskip("torch", reason="torch is not installed: pip install 'invariance[torch]'")
    model = torch.nn.Linear(3, 2)
    path = save_checkpoint(tmp_path / "model.pt", {"model": model.state_dict()}, _policy())
    raw = torch.load(str(path), weights_only=True)  # plain data: the safe loader reads it
    assert raw["invariance"]["fingerprint"] == A.fingerprint(_policy())
    checkpoint, policy = load_checkpoint(path, current=_policy())
    assert A.fingerprint(policy) == A.fingerprint(_policy())
    torch.testing.assert_close(checkpoint["model"]["weight"], model.state_dict()["weight"])
    with pytest.warns(UserWarning, match="trained with policy"):
        load_checkpoint(path, current=_policy(limit=45))
    with pytest.raises(A.ParameterError, match="is not a file"):
        load_checkpoint(tmp_path / "missing.pt")
