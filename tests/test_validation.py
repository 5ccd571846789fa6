"""Bad input fails early with an error that names the argument and what was expected."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import invariance as A

IMG = np.zeros((20, 30, 3), np.uint8)
BOX = A.BboxParams(format="pascal_voc", label_fields=["labels"])
KP = A.KeypointParams(format="xy")


def box_pipeline(**kwargs):
    return A.Compose([A.HorizontalFlip()], bbox_params=BOX, **kwargs)


CALL_CASES = [
    ("int64 image", lambda: A.Compose([])(image=IMG.astype(np.int64)), A.InputTypeError, "dtype int64"),
    ("bool image", lambda: A.Compose([])(image=IMG.astype(bool)), A.InputTypeError, "dtype bool"),
    (
        "float64 outside [0, 1]",
        lambda: A.Compose([])(image=IMG.astype(np.float64) + 2),
        A.InputTypeError,
        r"\[0, 1\]",
    ),
    ("NaN in image", lambda: A.Compose([])(image=np.full((4, 4), np.nan, np.float32)), A.InputError, "NaN"),
    ("empty image", lambda: A.Compose([])(image=np.zeros((0, 5, 3), np.uint8)), A.InputError, "empty"),
    ("image not an array", lambda: A.Compose([])(image=[[1, 2]]), A.InputTypeError, "numpy array"),
    ("4-d image", lambda: A.Compose([])(image=np.zeros((2, 2, 2, 2), np.uint8)), A.InputError, "shape"),
    (
        "mask size mismatch",
        lambda: A.Compose([])(image=IMG, mask=np.zeros((21, 30), np.uint8)),
        A.InputError,
        "same size",
    ),
    (
        "frames size mismatch",
        lambda: A.Compose([])(image=IMG, images=[IMG, IMG[:10]]),
        A.InputError,
        r"images\[1\]",
    ),
    ("positional data", lambda: A.Compose([])(IMG), A.InputError, "named arguments"),
    (
        "boxes without bbox_params",
        lambda: A.Compose([])(image=IMG, bboxes=[[0, 0, 1, 1]]),
        A.InputError,
        "bbox_params",
    ),
    (
        "keypoints without keypoint_params",
        lambda: A.Compose([])(image=IMG, keypoints=[[0, 0]]),
        A.InputError,
        "keypoint_params",
    ),
    (
        "x_min > x_max",
        lambda: box_pipeline()(image=IMG, bboxes=[[5, 1, 2, 4]], labels=[0]),
        A.InputError,
        "x_max <= x_min",
    ),
    (
        "NaN in boxes",
        lambda: box_pipeline()(image=IMG, bboxes=[[np.nan, 1, 2, 4]], labels=[0]),
        A.InputError,
        "finite",
    ),
    (
        "box outside image",
        lambda: box_pipeline()(image=IMG, bboxes=[[0, 0, 31, 4]], labels=[0]),
        A.InputError,
        "outside the image",
    ),
    (
        "box with 3 numbers",
        lambda: box_pipeline()(image=IMG, bboxes=[[0, 0, 3]], labels=[0]),
        A.InputError,
        "at least 4",
    ),
    (
        "box with text coordinate",
        lambda: box_pipeline()(image=IMG, bboxes=[["a", 0, 3, 4]], labels=[0]),
        A.InputError,
        "must be numbers",
    ),
    (
        "label field missing",
        lambda: box_pipeline()(image=IMG, bboxes=[[0, 0, 3, 4]]),
        A.InputError,
        "'labels' is declared",
    ),
    (
        "label length differs",
        lambda: box_pipeline()(image=IMG, bboxes=[[0, 0, 3, 4]], labels=[1, 2]),
        A.InputError,
        "2 entries",
    ),
    (
        "NaN keypoint",
        lambda: A.Compose([], keypoint_params=KP)(image=IMG, keypoints=[[np.nan, 1]]),
        A.InputError,
        "NaN",
    ),
    (
        "keypoints not a list",
        lambda: A.Compose([], keypoint_params=KP)(image=IMG, keypoints=5),
        A.InputTypeError,
        "list",
    ),
    (
        "crop larger than image",
        lambda: A.Compose([A.RandomCrop(40, 40)])(image=IMG),
        A.InputError,
        "pad_if_needed",
    ),
    ("strict unknown key", lambda: A.Compose([], strict=True)(image=IMG, foo=1), A.InputError, "'foo'"),
    (
        "ToGray on 4 channels",
        lambda: A.Compose([A.ToGray(p=1)])(image=np.zeros((4, 4, 4), np.uint8)),
        A.InputError,
        "RGB",
    ),
]

CONSTRUCTION_CASES = [
    ("p = 1.5", lambda: A.HorizontalFlip(p=1.5), A.ParameterError, "'p' = 1.5"),
    ("negative size", lambda: A.Resize(-1, 10), A.ParameterError, "'height' = -1"),
    ("zero crop", lambda: A.RandomCrop(0, 10), A.ParameterError, "'height' = 0"),
    ("unknown box format", lambda: A.BboxParams(format="xyxy"), A.ParameterError, "format='xyxy'"),
    ("unknown keypoint format", lambda: A.KeypointParams(format="xyzw"), A.ParameterError, "format='xyzw'"),
    (
        "min_visibility above 1",
        lambda: A.BboxParams(format="coco", min_visibility=2),
        A.ParameterError,
        "min_visibility",
    ),
    (
        "format and coord_format disagree",
        lambda: A.BboxParams(format="coco", coord_format="yolo"),
        A.ParameterError,
        "disagree",
    ),
    ("crop window inverted", lambda: A.Crop(x_min=10, x_max=5), A.ParameterError, "x_max"),
    ("reversed range", lambda: A.Rotate(limit=(10, -10)), A.ParameterError, "'limit'"),
    (
        "bad interpolation",
        lambda: A.Resize(10, 10, interpolation=42),
        A.ParameterError,
        "'interpolation' = 42",
    ),
    (
        "not a transform in Compose",
        lambda: A.Compose([A.HorizontalFlip]),
        A.ParameterError,
        "transforms\\[0\\]",
    ),
    (
        "unknown target kind",
        lambda: A.Compose([], additional_targets={"x": "depth"}),
        A.ParameterError,
        "'depth'",
    ),
    ("bad Compose p", lambda: A.Compose([], p=-0.1), A.ParameterError, "'p'"),
    (
        "strict unknown argument",
        lambda: A.HorizontalFlip(p=1, flavour=2, strict=True),
        A.ParameterError,
        "'flavour'",
    ),
    ("std with zero", lambda: A.Normalize(std=(0.1, 0.0, 0.2)), A.ParameterError, "std"),
]


@pytest.mark.parametrize(
    ("name", "call", "error", "match"),
    CALL_CASES + CONSTRUCTION_CASES,
    ids=[c[0] for c in CALL_CASES + CONSTRUCTION_CASES],
)
def test_bad_input_raises_a_clear_error(name, call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_errors_are_builtin_subclasses():
    assert issubclass(A.ParameterError, ValueError)
    assert issubclass(A.InputError, ValueError)
    assert issubclass(A.InputTypeError, TypeError)


def test_read_only_and_non_contiguous_inputs_work():
    base = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    view = base[::2, ::2]
    view.setflags(write=False)
    assert not view.flags.c_contiguous
    pipeline = A.Compose(
        [A.Rotate(limit=20, p=1), A.RandomBrightnessContrast(p=1), A.GaussianBlur(p=1), A.CoarseDropout(p=1)],
        seed=0,
    )
    out = pipeline(image=view, mask=view[:, :, 0])
    assert out["image"].shape == view.shape


def test_float64_in_unit_range_is_accepted_as_float32():
    out = A.Compose([A.HorizontalFlip(p=1)])(image=np.full((4, 4, 3), 0.5))
    assert out["image"].dtype == np.float32


def test_unknown_arguments_warn_and_deprecated_aliases_map():
    with pytest.warns(UserWarning, match="unknown argument"):
        A.HorizontalFlip(p=1, flavour=2)
    with pytest.warns(DeprecationWarning, match="'value' is deprecated"):
        rotate = A.Rotate(limit=10, value=7)
    assert rotate.fill == 7
    with pytest.warns(DeprecationWarning):
        dropout = A.CoarseDropout(max_holes=8, max_height=10, max_width=12, min_holes=2)
    assert dropout.num_holes_range == (2, 8) and dropout.hole_height_range == (10, 10)
    with pytest.warns(DeprecationWarning):
        crop = A.RandomResizedCrop(height=32, width=48)
    assert crop.size == (32, 48)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A.Rotate(limit=10, fill=3)  # the current names warn about nothing


def test_inputs_are_never_modified():
    image = np.random.default_rng(0).integers(0, 256, (30, 30, 3), dtype=np.uint8)
    boxes = [[1.0, 2.0, 10.0, 12.0]]
    keypoints = [[3.0, 4.0]]
    copies = (image.copy(), [list(b) for b in boxes], [list(k) for k in keypoints])
    A.Compose(
        [A.HorizontalFlip(p=1), A.Affine(rotate=30, p=1)],
        bbox_params=A.BboxParams(format="pascal_voc"),
        keypoint_params=A.KeypointParams(format="xy"),
    )(image=image, bboxes=boxes, keypoints=keypoints)
    np.testing.assert_array_equal(image, copies[0])
    assert boxes == copies[1] and keypoints == copies[2]
