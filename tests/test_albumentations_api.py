"""The Albumentations 2.x API that user code relies on: class hierarchy, per-target methods on
built-in transforms, composition conventions, and the errors and warnings it expects."""

from __future__ import annotations

import random
import warnings
from typing import Any
from unittest.mock import MagicMock, Mock

import cv2
import numpy as np
import pytest

import invariance as A
from invariance.core.registry import registered

RNG = np.random.default_rng(0)
IMAGE = RNG.integers(0, 256, (40, 60, 3), dtype=np.uint8)


# -- class hierarchy ------------------------------------------------------------------------------


def test_builtins_are_albumentations_kind_subclasses() -> None:
    assert issubclass(A.Blur, A.ImageOnlyTransform) and not issubclass(A.Blur, A.DualTransform)
    assert issubclass(A.HorizontalFlip, A.DualTransform) and not issubclass(
        A.HorizontalFlip, A.ImageOnlyTransform
    )
    for cls in (A.CoarseDropout, A.Mosaic, A.NoOp, A.Morphological, A.PixelDropout, A.OverlayElements):
        assert issubclass(cls, A.DualTransform), cls
    for cls in (A.Compose, A.OneOf, A.SomeOf, A.Sequential, A.OneOrOther, A.RandomOrder):
        assert issubclass(cls, A.BaseCompose)
    catalogue = [c for c in registered().values() if c.__module__.startswith("invariance.transforms.")]
    pixel = [c for c in catalogue if issubclass(c, A.PixelTransform)]
    spatial = [c for c in catalogue if issubclass(c, A.SpatialTransform)]
    assert pixel and spatial
    assert all(issubclass(c, A.ImageOnlyTransform) for c in pixel)
    assert all(issubclass(c, A.DualTransform) for c in spatial)


def test_builtins_keep_the_engine_protocol_and_user_subclasses_get_the_adapter() -> None:
    """Built-ins construct through their schema and draw with sample(); a user subclass of the
    same public base is constructed and drawn the Albumentations way."""
    with pytest.raises(A.ParameterError):
        A.Blur(blur_limit="wide")  # schema validation: a built-in

    class Brighter(A.ImageOnlyTransform):
        def __init__(self, amount: int = 10, p: float = 1.0) -> None:
            super().__init__(p=p)
            self.amount = amount

        def get_params(self) -> dict[str, Any]:
            return {"delta": self.amount}

        def apply(self, img: np.ndarray, delta: int = 0, **params: Any) -> np.ndarray:
            return np.clip(img.astype(np.int32) + delta, 0, 255).astype(np.uint8)

    out = A.Compose([Brighter(amount=5)])(image=np.zeros((4, 4, 3), np.uint8))["image"]
    assert (out == 5).all()
    assert Brighter(amount=5).get_transform_init_args_names() == ("amount",)


def test_per_target_methods_of_a_spatial_builtin_run_its_effect() -> None:
    flip = A.HorizontalFlip(p=1)
    np.testing.assert_array_equal(flip.apply(IMAGE), IMAGE[:, ::-1])
    np.testing.assert_array_equal(flip.apply_to_mask(IMAGE[..., 0]), IMAGE[:, ::-1, 0])
    boxes = flip.apply_to_bboxes(np.array([[0.1, 0.2, 0.3, 0.4, 7.0]]), shape=IMAGE.shape)
    np.testing.assert_allclose(boxes, [[0.7, 0.2, 0.9, 0.4, 7.0]])
    # keypoints: x, y, z, angle (rad), scale; a horizontal flip sends x to W - 1 - x (pixel
    # centres) and the angle a to pi - a.
    points = flip.apply_to_keypoints(np.array([[10.0, 5.0, 2.0, 0.25, 1.0]]), shape=IMAGE.shape)
    np.testing.assert_allclose(points, [[49.0, 5.0, 2.0, np.pi - 0.25, 1.0]])
    assert set(flip.targets) == {"image", "images", "mask", "masks", "bboxes", "keypoints"}
    assert flip.targets["mask"] == flip.apply_to_mask


def test_get_params_dependent_on_data_draws_what_the_pipeline_draws() -> None:
    rotate = A.Rotate(limit=(20, 20), p=1)
    params = rotate.get_params_dependent_on_data({"shape": IMAGE.shape}, {"image": IMAGE})
    assert params["angle"] == 20 and params["shape"] == IMAGE.shape
    expected = A.Compose([rotate])(image=IMAGE, mask=IMAGE[..., 0])
    np.testing.assert_array_equal(rotate.apply(IMAGE, **params), expected["image"])
    np.testing.assert_array_equal(rotate.apply_to_mask(IMAGE[..., 0], **params), expected["mask"])
    noise = A.GaussNoise(p=1)
    drawn = noise.get_params_dependent_on_data({"shape": IMAGE.shape}, {"image": IMAGE})
    assert noise.apply(IMAGE, **drawn).shape == IMAGE.shape


def test_a_transform_called_alone_takes_albumentations_row_layouts() -> None:
    image = np.zeros((100, 100), np.uint8)
    out = A.Crop(50, 50, 100, 100, p=1)(image=image, keypoints=np.array([(50, 50, 1, 0, 0)]))
    np.testing.assert_array_equal(out["keypoints"], [(0, 0, 1, 0, 0)])
    out = A.HorizontalFlip(p=1)(image=image, bboxes=np.array([[0.1, 0.2, 0.3, 0.4, 5]]))
    np.testing.assert_allclose(out["bboxes"], [[0.7, 0.2, 0.9, 0.4, 5]])


def test_to_tensor_v2_is_exported_at_top_level() -> None:
    from invariance.pytorch import ToTensorV2

    assert A.ToTensorV2 is ToTensorV2


# -- compositions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make", [A.Compose, A.Sequential, lambda t: A.SomeOf(t, n=2, p=1), lambda t: A.RandomOrder(t, n=2, p=1)]
)
def test_compositions_run_callables_that_quack_like_transforms(make: Any) -> None:
    children = [Mock(p=1, side_effect=lambda **kw: {"image": kw["image"] + 1}) for _ in range(2)]
    pipeline = make(children)
    pipeline.p = 1.0
    out = pipeline(image=np.zeros((4, 4), np.uint8))
    assert all(child.called for child in children)
    assert (out["image"] == 2).all()


@pytest.mark.parametrize("bad", ["HorizontalFlip", 3, 2.5, A.Blur])
def test_plain_values_are_still_refused(bad: Any) -> None:
    with pytest.raises(A.ParameterError, match="not a transform"):
        A.Compose([bad])


def test_one_or_other_with_one_or_a_list() -> None:
    only = MagicMock()
    A.OneOrOther(only, p=0.5)(image=np.ones((8, 8)))
    assert only.called
    both = A.OneOrOther([A.HorizontalFlip(p=1), A.VerticalFlip(p=1)], p=1)
    out = both(image=IMAGE)
    np.testing.assert_array_equal(out["image"], IMAGE[:, ::-1])


def test_sequential_runs_alone_and_nested() -> None:
    block = A.Sequential([A.HorizontalFlip(p=1)], p=1)
    np.testing.assert_array_equal(block(image=IMAGE)["image"], IMAGE[:, ::-1])
    nested = A.Compose([A.OneOf([A.Sequential([A.VerticalFlip(p=1), block], p=1)], p=1)])
    np.testing.assert_array_equal(nested(image=IMAGE)["image"], IMAGE[::-1, ::-1])


def test_a_single_transform_as_transforms_warns_and_is_wrapped() -> None:
    with pytest.warns(UserWarning, match="single transform"):
        pipeline = A.Compose(transforms=A.HorizontalFlip(p=1))
    assert isinstance(pipeline.transforms, list)


def test_add_targets() -> None:
    pipeline = A.Compose([A.HorizontalFlip(p=1)], additional_targets={"image2": "image"})
    pipeline.add_targets({"image2": "image", "depth": "mask"})
    out = pipeline(image=IMAGE, image2=IMAGE, depth=IMAGE[..., 0])
    np.testing.assert_array_equal(out["depth"], IMAGE[:, ::-1, 0])
    with pytest.raises(ValueError, match="already declared"):
        pipeline.add_targets({"image2": "mask"})


def test_strict_mode_accepts_labels_and_metadata_keys() -> None:
    pipeline = A.Compose(
        [A.HorizontalFlip(p=1), A.OverlayElements(p=1)],
        keypoint_params=A.KeypointParams(format="xy"),
        strict=True,
    )
    out = pipeline(image=IMAGE, keypoints=[(1, 1)], labels=[3], overlay_metadata=[])
    assert out["labels"] == [3]
    with pytest.raises(A.InputError, match="unknown input 'other'"):
        pipeline(image=IMAGE, other=1)
    near = A.Compose([A.RandomCropNearBBox(p=1)], strict=True)
    assert near(image=IMAGE, cropping_bbox=[5, 5, 20, 20])["image"].shape[0] <= IMAGE.shape[0]


@pytest.mark.parametrize(
    "args",
    [
        {"sigma_x_limit": (0.0, 1.0), "sigma_y_limit": (0.0, 1.0)},
        {"beta_limit": (0.1, 0.9)},
        {"beta_limit": (1.1, 8.0)},
    ],
)
def test_advanced_blur_refuses_degenerate_kernels(args: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"sigma|beta"):
        A.AdvancedBlur(**args)


# -- OverlayElements ------------------------------------------------------------------------------


def test_overlay_elements_places_resizes_and_labels() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    mask = np.zeros((100, 100), np.uint8)
    element = {
        "image": np.full((10, 10, 3), 200, np.uint8),
        "bbox": [0.3, 0.3, 0.5, 0.6],
        "mask": np.tri(10, 10, dtype=np.uint8),
        "mask_id": 4,
    }
    out = A.Compose([A.OverlayElements(p=1)])(image=image, mask=mask, overlay_metadata=element)
    shown = out["image"][..., 0] == 200
    ys, xs = np.nonzero(shown)
    assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (30, 30, 50, 60)  # resized into the box
    np.testing.assert_array_equal(out["mask"] == 4, shown)  # labelled exactly where it shows
    assert shown.sum() < 20 * 30  # the triangular mask limits it


def test_overlay_elements_without_bbox_keeps_size_and_mask() -> None:
    mask = np.full((50, 60), 9, np.uint8)
    pipeline = A.Compose([A.OverlayElements(p=1)], seed=3)
    out = pipeline(
        image=np.zeros((50, 60, 3), np.uint8),
        mask=mask,
        overlay_metadata=[{"image": np.full((7, 5, 3), 1, np.uint8)}],
    )
    ys, xs = np.nonzero(out["image"][..., 0])
    assert (ys.max() - ys.min() + 1, xs.max() - xs.min() + 1) == (7, 5)
    np.testing.assert_array_equal(out["mask"], mask)  # no mask_id: the mask is unchanged


def test_overlay_elements_hides_boxes_as_mixing_does() -> None:
    pipeline = A.Compose(
        [A.OverlayElements(p=1)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["l"], min_visibility=0.5),
    )
    element = {"image": np.full((10, 10, 3), 1, np.uint8), "bbox": [0.0, 0.0, 0.5, 0.5]}
    out = pipeline(
        image=np.zeros((40, 40, 3), np.uint8),
        bboxes=[[2, 2, 12, 12], [25, 25, 35, 35]],
        l=[0, 1],
        overlay_metadata=element,
    )
    assert out["l"] == [1]


def test_overlay_preprocess_metadata_layout() -> None:
    element = {
        "image": np.ones((20, 20, 3), np.uint8),
        "bbox": [0.3, 0.3, 0.5, 0.5],
        "mask_id": 1,
        "bbox_id": 9,
    }
    result = A.OverlayElements.preprocess_metadata(element, (100, 100), random.Random(0))
    assert result["offset"] == (30, 30) and result["bbox"] == [30, 30, 50, 50, 9] and result["mask_id"] == 1
    assert result["overlay_image"].shape == (20, 20, 3) and result["overlay_mask"].shape == (20, 20)


def test_no_stray_warnings_from_a_list() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A.Compose([A.HorizontalFlip()])
        A.OneOf([A.Blur(), A.PadIfNeeded(10, 10, border_mode=cv2.BORDER_REFLECT)])


def test_assigning_random_generator_reproduces_a_standalone_call() -> None:
    blur = A.GlassBlur(p=1)
    blur.random_generator = np.random.default_rng(0)
    first = blur(image=IMAGE)["image"]
    blur.random_generator = np.random.default_rng(0)
    np.testing.assert_array_equal(blur(image=IMAGE)["image"], first)
    with pytest.raises(A.ParameterError, match="Generator"):
        blur.random_generator = 3  # type: ignore[assignment]


def test_crop_and_pad_accepts_ranges_written_high_first() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    spec = ((-0.1, -0.2), (-0.2, -0.3), (0.3, 0.4), (0.4, 0.5))
    for independently in (True, False):
        out = A.Compose(
            [A.CropAndPad(percent=spec, keep_size=False, sample_independently=independently, p=1)], seed=1
        )
        h, w = out(image=image)["image"].shape[:2]
        # top crops 10-20 px, bottom pads 30-40; right crops 20-30, left pads 40-50
        assert 100 - 20 + 30 <= h <= 100 - 10 + 40 and 100 - 30 + 40 <= w <= 100 - 20 + 50


def test_outputs_are_contiguous_for_strided_inputs() -> None:
    image = np.ones((3, 30, 40), np.uint8).transpose(1, 2, 0)
    mask = np.ones((2, 30, 40), np.uint8).transpose(1, 2, 0)
    for step in (A.Blur(p=1), A.CoarseDropout(p=1), A.ToFloat(p=1), A.HorizontalFlip(p=1)):
        for call in (A.Compose([step]), step):
            out = call(image=image, mask=mask)
            assert out["image"].flags.c_contiguous and out["mask"].flags.c_contiguous, step


def test_empty_rows_through_curved_warps_and_standalone_calls() -> None:
    image = np.zeros((50, 50, 3), np.uint8)
    pipeline = A.Compose([A.ElasticTransform(p=1)], bbox_params=A.BboxParams(format="pascal_voc"))
    assert len(pipeline(image=image, bboxes=[])["bboxes"]) == 0
    out = A.RandomCropFromBorders(p=1)(image=image, bboxes=np.zeros((0, 4)), keypoints=np.zeros((0, 5)))
    assert out["bboxes"].shape == (0, 4) and out["keypoints"].shape == (0, 5)


def test_module_scan_finds_each_transform_class_once() -> None:
    """User code (and Albumentations' own test helpers) discover transforms by scanning the
    package; an alias must not make a class appear twice."""
    import inspect

    seen: dict[type, list[str]] = {}
    for name, cls in inspect.getmembers(A):
        if inspect.isclass(cls) and issubclass(cls, (A.BasicTransform, A.BaseCompose)):
            seen.setdefault(cls, []).append(name)
    assert {cls: names for cls, names in seen.items() if len(names) > 1} == {}
    assert A.RandomErasing is A.Erasing


def test_per_target_box_methods_move_boxes_outside_the_frame_too() -> None:
    """Like Albumentations' apply_to_bboxes: an intermediate box partly outside the frame is moved,
    not refused (the pipeline's last step clips and filters)."""
    flip = A.HorizontalFlip(p=1)
    np.testing.assert_allclose(
        flip.apply_to_bboxes(np.array([[-0.1, 0.2, 0.3, 0.4]]), shape=(100, 100)), [[0.7, 0.2, 1.1, 0.4]]
    )


def test_a_transform_alone_takes_added_targets() -> None:
    flip = A.HorizontalFlip(p=1)
    flip.add_targets({"image2": "image", "depth": "mask"})
    out = flip(image=IMAGE, image2=IMAGE, depth=IMAGE[..., 0])
    np.testing.assert_array_equal(out["image2"], IMAGE[:, ::-1])
    np.testing.assert_array_equal(out["depth"], IMAGE[:, ::-1, 0])
    with pytest.raises(A.ParameterError, match="already"):
        flip.add_targets({"image2": "mask"})


def test_gauss_noise_reports_the_noise_map_it_adds() -> None:
    image = np.full((40, 30, 3), 0.5, np.float32)
    noise = A.GaussNoise(std_range=(0.05, 0.05), mean_range=(0.1, 0.1), p=1)
    params = noise.get_params_dependent_on_data({"shape": image.shape}, {"image": image})
    assert params["noise_map"].shape == image.shape
    np.testing.assert_allclose(params["noise_map"].mean(), 0.1, atol=0.01)
    np.testing.assert_allclose(
        noise.apply(image, **params), np.clip(image + params["noise_map"], 0, 1), atol=1e-6
    )


@pytest.mark.parametrize("elementwise", [True, False])
def test_multiplicative_noise_reports_the_factors_it_applies(elementwise: bool) -> None:
    image = RNG.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    noise = A.MultiplicativeNoise(multiplier=(0.9, 1.1), elementwise=elementwise, p=1)
    params = noise.get_params_dependent_on_data({"shape": image.shape}, {"image": image})
    factors = params.pop("multiplier")
    assert factors.shape == (image.shape if elementwise else (3,))
    # Rounded to the nearest level, halves up (test_noise.py pins the convention).
    expected = np.clip(np.floor(image.astype(np.float64) * factors + 0.5), 0, 255)
    for applied in (noise.apply(image, factors), noise.apply(image, **params)):
        if elementwise:  # per-pixel factors multiply in float32: a near-half may round either way
            difference = np.abs(applied.astype(np.int16) - expected)
            assert difference.max() <= 1 and (difference > 0).mean() < 0.01
        else:  # one table per channel, computed exactly
            np.testing.assert_array_equal(applied, expected)


@pytest.mark.parametrize("factor", [0.96875, 31 / 32 + 2e-8, 23 / 22, 1.0454545, 0.9, 1.1])
def test_multiplicative_noise_tables_round_near_halves_exactly(factor: float) -> None:
    """A factor near a fraction with a small denominator puts many products near a half: the
    per-channel tables must still round each one as the float64 product does (the float32
    tables they replace were one level off for 1-2% of pixels, a flaky failure)."""
    image = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    factors = np.full(3, factor, dtype=np.float32)
    expected = np.clip(np.floor(image.astype(np.float64) * factors + 0.5), 0, 255)
    np.testing.assert_array_equal(A.MultiplicativeNoise(p=1).apply(image, factors), expected)
