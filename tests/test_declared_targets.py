"""What a transform says it acts on (``_targets``, the docstring's ``Targets:`` line) is what it does.

``_targets`` is Albumentations' spelling of :attr:`supported_targets` (code written for
Albumentations reads it); the docstring's first ``Targets:`` line is what users read. Both come
from one declaration, and kinds a transform does not declare come out of a call unchanged.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import invariance as A
from invariance.core.type_definitions import ALL_TARGETS, Targets, targets_of

from .conftest import catalogue, make

PLANAR = catalogue()
VOLUMETRIC = catalogue(volumetric=True)

_WORDS = {
    "image": Targets.IMAGE,
    "mask": Targets.MASK,
    "bboxes": Targets.BBOXES,
    "keypoints": Targets.KEYPOINTS,
    "volume": Targets.VOLUME,
    "mask3d": Targets.MASK3D,
}


def _documented(cls: type) -> set[Targets]:
    """The kinds named on the first ``Targets:`` line of the class's own docstring."""
    found = re.search(r"Targets:[ \t]*([^\n]*)", cls.__dict__.get("__doc__") or "")
    assert found, f"{cls.__name__}: the docstring has no 'Targets:' line"
    words = [w for w in re.split(r"[,\s]+", found.group(1)) if w]
    unknown = [w for w in words if w not in _WORDS]
    assert not unknown, f"{cls.__name__}: 'Targets:' line names {unknown}, not target kinds"
    return {_WORDS[w] for w in words}


def _all_documented() -> list[type]:
    import invariance.pytorch as pt

    return [*PLANAR, *VOLUMETRIC, A.Lambda, pt.ToTensorV2, pt.ToTensor3D]


@pytest.mark.parametrize("cls", _all_documented(), ids=lambda c: c.__name__)
def test_docstring_targets_line_names_exactly_the_declared_kinds(cls):
    declared = targets_of(cls.supported_targets) if "_targets" not in vars(cls) else None
    instance = cls.__new__(cls)  # ``_targets`` reads the class declaration only
    assert declared is None or instance._targets == declared
    assert _documented(cls) == set(instance._targets)


@pytest.mark.parametrize("cls", PLANAR, ids=lambda c: c.__name__)
def test_kinds_a_transform_does_not_declare_come_out_unchanged(cls):
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    mask = np.zeros((64, 80), np.uint8)
    mask[8:40, 16:56] = 3
    data = {"image": image, "mask": mask, "volume": np.stack([image] * 2), "mask3d": np.stack([mask] * 2)}
    data.update(cls.example_data)
    declared = make(cls)._targets
    # A 2-D transform reaches volumes slice by slice: image and volume go together, mask and mask3d.
    assert Targets.IMAGE not in declared or Targets.VOLUME in declared
    assert Targets.MASK not in declared or Targets.MASK3D in declared
    out = A.Compose([make(cls)], seed=11)(**data)
    if Targets.MASK not in declared:
        np.testing.assert_array_equal(out["mask"], data["mask"])
        np.testing.assert_array_equal(out["mask3d"], data["mask3d"])


def test_pixel_and_spatial_transforms_declare_the_albumentations_sets():
    assert A.Blur()._targets == (Targets.IMAGE, Targets.VOLUME)
    assert A.HorizontalFlip()._targets == ALL_TARGETS
    assert A.OverlayElements()._targets == (Targets.IMAGE, Targets.MASK, Targets.VOLUME, Targets.MASK3D)


def test_to_tensor_v2_does_not_claim_volumes_it_would_return_as_slice_lists():
    pytest.importorskip("torch", reason="ToTensorV2 needs torch (the torch extra)")
    import invariance.pytorch as pt

    volume = np.zeros((3, 8, 8, 3), np.uint8)
    out = A.Compose([pt.ToTensorV2()])(image=volume[0], volume=volume)
    assert not hasattr(out["volume"], "shape")  # per-slice tensors: not a converted volume
    assert Targets.VOLUME not in pt.ToTensorV2()._targets
    assert Targets.VOLUME in pt.ToTensor3D()._targets


def test_a_custom_transform_may_declare_its_own_targets():
    class Stamp(A.ImageOnlyTransform):
        _targets = (Targets.IMAGE,)

        def apply(self, img, **params):
            return img

    assert Stamp()._targets == (Targets.IMAGE,)
    assert A.ImageOnlyTransform()._targets == (Targets.IMAGE, Targets.VOLUME)
    assert Targets("Mask3D") is Targets.MASK3D  # Albumentations' values
