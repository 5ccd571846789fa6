"""Shared fixtures: real photographs when scikit-image is installed, synthetic scenes otherwise."""

from __future__ import annotations

import numpy as np
import pytest

import invariance as A
from invariance.core import registry
from invariance.core.compose import BaseCompose
from invariance.core.transform import BasicTransform


def catalogue(volumetric: bool = False) -> list[type[BasicTransform]]:
    """Every registered public transform class of invariance (compositions excluded).

    Volumetric transforms need a volume to act on: they are listed only with ``volumetric=True``
    (and then only they are), and their contract tests live in ``test_volume_contract.py``.
    """
    import invariance.pytorch  # noqa: F401  (registers ToTensorV2 when torch is present)

    out = []
    for name, cls in sorted(registry.registered().items()):
        if not isinstance(cls, type) or not issubclass(cls, BasicTransform) or issubclass(cls, BaseCompose):
            continue
        if (
            name.startswith("_")
            or not cls.__module__.startswith("invariance.")
            or cls.__module__.startswith("invariance.core")
        ):
            continue
        if registry.is_base(cls):
            continue  # a base class (OcclusionTransform, Transform3D, VolumeOnlyTransform)
        if name in ("Lambda", "ToTensorV2", "ToTensor3D"):
            continue  # need functions / torch; covered by their own tests
        if (cls.family == "volumetric") != volumetric:
            continue
        out.append(cls)
    return out


def make(cls: type[BasicTransform], **overrides: object) -> BasicTransform:
    args = {**cls.example_args, "p": 1.0, **overrides}
    return cls(**args)


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    try:
        from skimage import data

        return np.ascontiguousarray(data.astronaut()[::4, ::4])  # 128x128x3 uint8
    except ImportError:  # pragma: no cover - the test extra installs scikit-image
        return A.data.sample_scene(128, 128)["image"]


@pytest.fixture()
def scene() -> dict:
    from invariance.data import sample_scene

    return sample_scene(96, 128)
