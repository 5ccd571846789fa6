"""Policies as files: round trips, fingerprints, Albumentations files, versions, unknown names."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

import invariance as A


def _policy(seed: int = 3) -> A.Compose:
    return A.Compose(
        [
            A.OneOf([A.HorizontalFlip(), A.Rotate(limit=10)], p=0.7),
            A.RandomResizedCrop(size=(40, 40), scale=(0.5, 1.0)),
            A.CoarseDropout(num_holes_range=(1, 3), fill="random"),
            A.Normalize(),
        ],
        bbox_params=A.BboxParams(format="coco", label_fields=["labels"], min_visibility=0.1),
        keypoint_params=A.KeypointParams(
            format="xy",
            label_fields=["kp_labels"],
            label_mapping={"HorizontalFlip": {"kp_labels": {1: 2, 2: 1}}},
        ),
        additional_targets={"depth": "mask"},
        seed=seed,
    )


@pytest.mark.parametrize("data_format", ["json", "yaml"])
def test_save_and_load_reproduce_outputs(tmp_path, data_format):
    policy = _policy()
    path = tmp_path / f"policy.{data_format}"
    A.save(policy, path, data_format=data_format)
    loaded = A.load(path, data_format=data_format)
    assert A.fingerprint(loaded) == A.fingerprint(policy)
    image = np.random.default_rng(0).integers(0, 256, (50, 60, 3), dtype=np.uint8)
    data = dict(
        image=image,
        depth=image[:, :, 0],
        bboxes=[[5, 5, 20, 20]],
        labels=[3],
        keypoints=[[10, 10], [30, 30]],
        kp_labels=[1, 2],
    )
    fresh = _policy()
    for _ in range(3):
        a, b = fresh(**data), loaded(**data)
        np.testing.assert_array_equal(a["image"], b["image"])
        assert a["bboxes"] == b["bboxes"] and a["kp_labels"] == b["kp_labels"]
    assert loaded.keypoint_params.label_mapping == {"HorizontalFlip": {"kp_labels": {1: 2, 2: 1}}}


def test_saved_file_carries_version_and_fingerprint():
    buffer = io.StringIO()
    A.save(_policy(), buffer)
    document = json.loads(buffer.getvalue())
    assert document["__version__"] == A.__version__ and document["__library__"] == "invariance"
    assert document["fingerprint"] == A.fingerprint(document)
    assert len(document["fingerprint"]) == 64


def test_fingerprint_changes_with_content_not_formatting():
    a, b = _policy(), _policy()
    assert A.fingerprint(a) == A.fingerprint(b)
    document = A.to_dict(a)
    reformatted = json.loads(json.dumps(document, indent=7))
    assert A.fingerprint(reformatted) == A.fingerprint(a)
    changed = _policy()
    changed.transforms[0].p = 0.8
    assert A.fingerprint(changed) != A.fingerprint(a)
    assert A.fingerprint(_policy(seed=4)) != A.fingerprint(a)


def test_diff_names_changes():
    a = A.Compose([A.HorizontalFlip(p=0.5), A.Rotate(limit=10)])
    b = A.Compose([A.HorizontalFlip(p=0.7), A.Rotate(limit=20), A.GaussianBlur()])
    changes = A.diff(a, b)
    assert any("p" in c and "0.5" in c and "0.7" in c for c in changes)
    assert any("limit" in c for c in changes)
    assert any("added GaussianBlur" in c for c in changes)
    assert A.diff(a, a) == []


ALBUMENTATIONS_FILE = {
    "__version__": "2.0.8",
    "transform": {
        "__class_fullname__": "Compose",
        "p": 1.0,
        "transforms": [
            {"__class_fullname__": "HorizontalFlip", "p": 0.5},
            {
                "__class_fullname__": "albumentations.augmentations.geometric.rotate.Rotate",
                "p": 0.5,
                "border_mode": 0,
                "crop_border": False,
                "fill": 0.0,
                "fill_mask": 0.0,
                "interpolation": 1,
                "limit": [-10.0, 10.0],
                "mask_interpolation": 0,
                "rotate_method": "largest_box",
            },
        ],
        "bbox_params": {
            "format": "coco",
            "label_fields": ["l"],
            "min_area": 0.0,
            "min_visibility": 0.0,
            "min_width": 0.0,
            "min_height": 0.0,
            "check_each_transform": True,
            "clip": False,
            "max_accept_ratio": None,
        },
        "keypoint_params": {
            "format": "xy",
            "label_fields": None,
            "remove_invisible": True,
            "angle_in_degrees": True,
            "check_each_transform": True,
        },
        "additional_targets": {},
        "is_check_shapes": True,
    },
}


def test_albumentations_policy_file_loads():
    pipeline = A.from_dict(ALBUMENTATIONS_FILE)
    assert isinstance(pipeline, A.Compose)
    assert [type(t).__name__ for t in pipeline.transforms] == ["HorizontalFlip", "Rotate"]
    assert pipeline.transforms[1].limit == (-10.0, 10.0)
    assert pipeline.bbox_params.format == "coco"


def test_albumentations_export_loads_when_installed():
    Al = pytest.importorskip("albumentations")
    theirs = Al.Compose(
        [
            Al.HorizontalFlip(p=0.3),
            Al.CoarseDropout(num_holes_range=(1, 6)),
            Al.RandomResizedCrop(size=(64, 64)),
        ]
    )
    ours = A.from_dict(Al.to_dict(theirs))
    assert [type(t).__name__ for t in ours.transforms] == [
        "HorizontalFlip",
        "CoarseDropout",
        "RandomResizedCrop",
    ]
    assert ours.transforms[2].size == (64, 64)


def test_unknown_transform_and_newer_version_are_refused():
    with pytest.raises(A.SerializationError, match="unknown transform 'Sparkle'"):
        A.from_dict({"transform": {"__class_fullname__": "Sparkle", "p": 1}})
    newer = A.to_dict(A.Compose([A.HorizontalFlip()]))
    newer["__version__"] = "99.0.0"
    with pytest.raises(A.SerializationError, match="newer"):
        A.from_dict(newer)
    with pytest.raises(A.SerializationError, match="'p'"):
        A.from_dict({"transform": {"__class_fullname__": "HorizontalFlip", "p": 7}})


def test_lambda_needs_its_function_back():
    policy = A.Compose([A.Lambda(image=lambda img, **_: img, name="identity")])
    document = A.to_dict(policy)
    with pytest.raises(A.SerializationError, match="lambda_transforms"):
        A.from_dict(document)
    replacement = A.Lambda(image=lambda img, **_: 255 - img, name="identity")
    loaded = A.from_dict(document, lambda_transforms={"identity": replacement})
    assert loaded.transforms[0] is replacement


def test_hand_edited_policy_warns_about_its_fingerprint():
    document = A.to_dict(A.Compose([A.HorizontalFlip(p=0.5)]))
    document["transform"]["transforms"][0]["p"] = 0.9
    with pytest.warns(UserWarning, match="fingerprint"):
        loaded = A.from_dict(document)
    assert loaded.transforms[0].p == 0.9
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A.from_dict(A.to_dict(A.Compose([A.HorizontalFlip(p=0.5)])))
