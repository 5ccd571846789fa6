"""More bad inputs (see tests/test_validation.py for the first table): each raises a clear error
naming the argument and what was expected, and some odd-but-valid inputs that must simply work.

``docs/scripts/bad_inputs_table.py`` prints both tables as the user-guide page docs/bad-inputs.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import invariance as A

IMG = np.zeros((20, 30, 3), np.uint8)
BOX = A.BboxParams(format="pascal_voc", label_fields=["labels"])
KP = A.KeypointParams(format="xy", label_fields=["kp_labels"])


def _policy(**changes: object) -> dict:
    data = json.loads(json.dumps(A.to_dict(A.Compose([A.HorizontalFlip(), A.Blur()]))))
    data.update(changes)
    return data


def _unknown_transform_policy() -> dict:
    data = _policy()
    data["transform"]["transforms"][1]["__class_fullname__"] = "SuperBlur"
    return data


def _load_text(tmp: Path, text: str) -> object:
    path = tmp / "policy.json"
    path.write_text(text)
    return A.load(path)


def _tmp() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="invariance-bad-"))


MORE_CALL_CASES = [
    ("inf in image", lambda: A.Compose([])(image=np.full((4, 4), np.inf, np.float32)), A.InputError, "inf"),
    (
        "float16 image",
        lambda: A.Compose([])(image=IMG.astype(np.float16)),
        A.InputTypeError,
        "dtype float16 is not supported",
    ),
    (
        "uint16 image into a uint8/float32 transform",
        lambda: A.Compose([A.HorizontalFlip(p=1)])(image=IMG.astype(np.uint16)),
        A.InputTypeError,
        "dtype uint16",
    ),
    (
        "negative float64 image",
        lambda: A.Compose([])(image=IMG.astype(np.float64) - 1),
        A.InputTypeError,
        r"\[0, 1\]",
    ),
    ("image is None", lambda: A.Compose([])(image=None), A.InputTypeError, "got NoneType"),
    ("1-d image", lambda: A.Compose([])(image=np.zeros(5, np.uint8)), A.InputError, r"shape \(5,\)"),
    ("zero-width image", lambda: A.Compose([])(image=np.zeros((5, 0), np.uint8)), A.InputError, "empty"),
    (
        "4-d mask",
        lambda: A.Compose([])(image=IMG, mask=np.zeros((20, 30, 1, 1), np.uint8)),
        A.InputError,
        r"mask: expected shape \(H, W\) or \(H, W, C\)",
    ),
    (
        "mask is a list",
        lambda: A.Compose([])(image=IMG, mask=[[0, 1]]),
        A.InputTypeError,
        "mask: expected a numpy array",
    ),
    (
        "one of masks has another size",
        lambda: A.Compose([])(image=IMG, masks=[np.zeros((20, 30), np.uint8), np.zeros((5, 5), np.uint8)]),
        A.InputError,
        r"masks\[1\] has height and width \(5, 5\)",
    ),
    (
        "inf in boxes",
        lambda: A.Compose([], bbox_params=BOX)(image=IMG, bboxes=[[0, 0, np.inf, 3]], labels=[0]),
        A.InputError,
        "finite",
    ),
    (
        "coco box with negative width",
        lambda: A.Compose([], bbox_params=A.BboxParams(format="coco"))(image=IMG, bboxes=[[1, 1, -2, 3]]),
        A.InputError,
        "x_max <= x_min",
    ),
    (
        "yolo box wider than the image",
        lambda: A.Compose([], bbox_params=A.BboxParams(format="yolo"))(
            image=IMG, bboxes=[[0.5, 0.5, 1.2, 0.2]]
        ),
        A.InputError,
        "outside the image",
    ),
    (
        "box 1e-6 outside the image without clip",
        lambda: A.Compose([], bbox_params=A.BboxParams(format="albumentations"))(
            image=IMG, bboxes=[[0.0, 0.0, 1.000001, 0.5]]
        ),
        A.InputError,
        "clip=True",
    ),
    (
        "boxes as a flat array",
        lambda: A.Compose([], bbox_params=A.BboxParams(format="pascal_voc"))(
            image=IMG, bboxes=np.array([1.0, 2.0, 3.0, 4.0])
        ),
        A.InputError,
        r"shape \(4,\)",
    ),
    (
        "label field not declared (strict)",
        lambda: A.Compose([], bbox_params=BOX, strict=True)(
            image=IMG, bboxes=[[0, 0, 3, 3]], labels=[0], classes=[1]
        ),
        A.InputError,
        "unknown input 'classes'",
    ),
    (
        "keypoint label length differs",
        lambda: A.Compose([], keypoint_params=KP)(image=IMG, keypoints=[[1, 1]], kp_labels=[1, 2]),
        A.InputError,
        "'kp_labels' has 2 entries but keypoints has 1 rows",
    ),
    (
        "keypoint with one number",
        lambda: A.Compose([], keypoint_params=A.KeypointParams(format="xy"))(image=IMG, keypoints=[[1]]),
        A.InputError,
        "at least 2 numbers",
    ),
    (
        "inf keypoint",
        lambda: A.Compose([], keypoint_params=A.KeypointParams(format="xy"))(
            image=IMG, keypoints=[[np.inf, 1]]
        ),
        A.InputError,
        "finite",
    ),
    (
        "center crop larger than the image",
        lambda: A.Compose([A.CenterCrop(40, 40)])(image=IMG),
        A.InputError,
        "pad_if_needed=True",
    ),
    (
        "RGB-only transform on 5 channels",
        lambda: A.Compose([A.HueSaturationValue(p=1)])(image=np.zeros((4, 4, 5), np.uint8)),
        A.InputError,
        "RGB|channels",
    ),
]

MORE_CONSTRUCTION_CASES = [
    ("p negative", lambda: A.Blur(p=-0.1), A.ParameterError, "'p' = -0.1"),
    ("p a string", lambda: A.Blur(p="a"), A.ParameterError, "'p' = 'a'"),
    ("zero max_pixel_value", lambda: A.Normalize(max_pixel_value=0), A.ParameterError, "max_pixel_value"),
    (
        "label_fields as a string",
        lambda: A.BboxParams(format="coco", label_fields="labels"),
        A.ParameterError,
        "label_fields must be a list",
    ),
    ("a class, not an instance, in OneOf", lambda: A.OneOf([A.Blur]), A.ParameterError, r"transforms\[0\]"),
    (
        "unknown transform name in a policy",
        lambda: A.from_dict(_unknown_transform_policy()),
        A.SerializationError,
        "unknown transform 'SuperBlur'",
    ),
    (
        "policy from a newer version",
        lambda: A.from_dict(_policy(__version__="99.0.0")),
        A.SerializationError,
        "newer than the installed",
    ),
    (
        "policy from a newer minor 0.x version",
        lambda: A.from_dict(_policy(__version__="0.99.0")),
        A.SerializationError,
        "upgrade invariance",
    ),
    ("policy not a mapping", lambda: A.from_dict([1, 2]), A.SerializationError, "must be a mapping"),
    (
        "policy without a transform",
        lambda: A.from_dict({"__version__": "0.1.0"}),
        A.SerializationError,
        "__class_fullname__",
    ),
    (
        "policy file missing",
        lambda: A.load("/nonexistent/policy.json"),
        A.SerializationError,
        "does not exist",
    ),
    (
        "policy file not JSON",
        lambda: _load_text(_tmp(), "{not json"),
        A.SerializationError,
        "cannot parse the policy as json",
    ),
]

CASES = MORE_CALL_CASES + MORE_CONSTRUCTION_CASES


@pytest.mark.parametrize(("name", "call", "error", "match"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(name, call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_tables_do_not_overlap_and_are_large_enough():
    from .test_validation import CALL_CASES, CONSTRUCTION_CASES

    first = {c[0] for c in CALL_CASES + CONSTRUCTION_CASES}
    assert not first & {c[0] for c in CASES}
    assert len(first) + len(CASES) >= 60


# -- odd but valid inputs: these must work ------------------------------------------------------


def _pipeline() -> A.Compose:
    return A.Compose(
        [
            A.Affine(rotate=(-20, 20), scale=(0.8, 1.2), p=1),
            A.RandomBrightnessContrast(p=1),
            A.CoarseDropout(p=1),
        ],
        bbox_params=BOX,
        keypoint_params=KP,
        seed=4,
    )


@pytest.mark.parametrize(
    "view",
    ["read-only", "negative strides", "fortran order", "channel slice", "every other pixel"],
)
def test_read_only_and_non_contiguous_arrays_work(view):
    base = np.random.default_rng(0).integers(0, 256, (40, 60, 4), dtype=np.uint8)
    image = {
        "read-only": base[:, :, :3].copy(),
        "negative strides": base[::-1, ::-1, :3],
        "fortran order": np.asfortranarray(base[:, :, :3]),
        "channel slice": base[:, :, 1:],
        "every other pixel": base[::2, ::2, :3],
    }[view]
    image.setflags(write=False)
    mask = np.ascontiguousarray(image[:, :, 0] > 128).astype(np.uint8)[::-1]
    mask.setflags(write=False)
    boxes = np.array([[2.0, 3.0, 20.0, 15.0], [0.0, 0.0, 10.0, 10.0]])
    boxes.setflags(write=False)
    data = {
        "image": image,
        "mask": mask,
        "bboxes": boxes,
        "labels": [1, 2],
        "keypoints": [[5, 6]],
        "kp_labels": [9],
    }
    out = _pipeline()(**data)
    reference = _pipeline()(
        **{
            **data,
            "image": np.ascontiguousarray(image),
            "mask": np.ascontiguousarray(mask),
            "bboxes": boxes.copy(),
        }
    )
    np.testing.assert_array_equal(out["image"], reference["image"])
    np.testing.assert_array_equal(out["mask"], reference["mask"])
    np.testing.assert_array_equal(out["bboxes"], reference["bboxes"])


def test_mask_with_channels_is_a_multi_channel_mask():
    """Decision: an (H, W, C) mask is a valid multi-channel mask (as in Albumentations): every
    channel moves with the image by nearest-neighbour and keeps only its own values; the channel
    count is kept. A one-channel (H, W, 1) mask keeps its trailing axis."""
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)
    mask = rng.choice(np.array([0, 3, 9], np.uint8), size=(32, 48, 3))
    for m in (mask, mask[:, :, :1]):
        out = A.Compose([A.Rotate(limit=(25, 25), p=1), A.RandomCrop(20, 30)], seed=0)(image=image, mask=m)
        assert out["mask"].shape == (20, 30, m.shape[2])
        assert set(np.unique(out["mask"]).tolist()) <= {0, 3, 9}
    flipped = A.Compose([A.HorizontalFlip(p=1)])(image=image, mask=mask)["mask"]
    np.testing.assert_array_equal(flipped, mask[:, ::-1])


def test_undeclared_label_field_passes_through_untouched_unless_strict():
    """Decision (as in Albumentations): a keyword that is neither a target nor a declared label
    field is passed through unchanged, so it is NOT filtered with the boxes; strict=True rejects it
    (the table above)."""
    classes = [5, 6]
    out = A.Compose([A.RandomCrop(10, 10, p=1)], bbox_params=BOX, seed=0)(
        image=IMG, bboxes=[[0, 0, 3, 3], [25, 15, 30, 20]], labels=[0, 1], classes=classes
    )
    assert out["classes"] is classes


def test_float32_image_outside_unit_range_is_accepted():
    """float32 images are taken as they are (Normalize's output is outside [0, 1]); only float64
    is range-checked, because it is converted to float32."""
    out = A.Compose([A.HorizontalFlip(p=1)])(image=np.full((4, 4, 3), 2.5, np.float32))
    assert out["image"].dtype == np.float32 and float(out["image"].max()) == 2.5


def test_user_guide_table_is_generated_from_these_cases():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "docs" / "scripts" / "bad_inputs_table.py"
    spec = importlib.util.spec_from_file_location("bad_inputs_table", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.page_table() == module.render(), (
        "docs/bad-inputs.md is out of date: run python docs/scripts/bad_inputs_table.py --write"
    )
