"""The image-only short path (core/short_path.py) gives exactly what the full call gives.

``pipeline(image=img)`` runs on the short path; the same pipeline with ``save_applied_params``
takes the full call (it has a log to keep) and draws the same numbers. Every pipeline below
mixes steps the short path applies itself with steps it hands over (a second warp to fuse, a
nested composition, a paste, a transform that reads pixels after a held warp).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

import invariance as A


def _image() -> np.ndarray:
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (61, 83, 3), dtype=np.uint8)
    image[10:30, 20:50] = (250, 30, 30)  # an object, so geometry errors show
    return image


def _pipelines() -> dict[str, list[Any]]:
    return {
        "flip": [A.HorizontalFlip(p=1.0)],
        "crop": [A.RandomCrop(32, 40, p=1.0)],
        "pixel": [A.InvertImg(p=1.0)],
        "two warps fuse": [A.Affine(rotate=(-20, 20), p=1.0), A.Rotate(limit=15, p=1.0)],
        "warp then pixels": [A.RandomResizedCrop((48, 48), p=1.0), A.RandomBrightnessContrast(p=1.0)],
        "reads pixels after a warp": [A.HorizontalFlip(p=1.0), A.Equalize(p=1.0), A.VerticalFlip(p=1.0)],
        "occlusion": [A.CoarseDropout(num_holes_range=(2, 4), p=1.0), A.Transpose(p=1.0)],
        "nested": [
            A.HorizontalFlip(p=0.5),
            A.OneOf([A.Blur(p=1.0), A.Affine(scale=(0.8, 1.2), p=1.0)], p=1.0),
            A.Sequential([A.RandomCrop(40, 40, p=1.0), A.ToGray(p=0.5)], p=1.0),
        ],
        "random p": [A.HorizontalFlip(), A.VerticalFlip(), A.RandomRotate90(), A.GaussNoise()],
        "resize to float": [A.Resize(40, 50, p=1.0), A.Normalize(p=1.0)],
        # Several warps wait in the short path's own fusion buffer: the same chains and plans.
        "crop, flip, affine fuse": [
            A.RandomResizedCrop((48, 48), p=1.0),
            A.HorizontalFlip(p=0.5),
            A.Affine(rotate=(-15, 15), scale=(0.9, 1.1), p=0.7),
            A.ColorJitter(p=1.0),
        ],
        # A resize and a flip wait without a buffer and are resampled in turn; a third warp
        # puts both into one, where the chain joins as the full call's does.
        "resized crop, then flip": [A.RandomResizedCrop((48, 48), p=1.0), A.HorizontalFlip(p=1.0)],
        "resize, flip, pixels": [A.Resize(40, 70, p=1.0), A.Transpose(p=1.0), A.InvertImg(p=1.0)],
        "resized crop, flip, flip": [
            A.RandomResizedCrop((40, 56), p=1.0),
            A.HorizontalFlip(p=1.0),
            A.VerticalFlip(p=1.0),
        ],
        "resized crop, flip, rotate": [
            A.RandomResizedCrop((48, 48), p=1.0),
            A.HorizontalFlip(p=1.0),
            A.Rotate(limit=20, p=1.0),
        ],
        "area resize, then flip": [
            A.Resize(30, 40, interpolation=cv2.INTER_AREA, p=1.0),
            A.HorizontalFlip(p=1.0),
            A.Affine(scale=(0.8, 1.2), p=1.0),
        ],
        "a warp that cannot join": [
            A.Rotate(limit=20, p=1.0),
            A.LongestMaxSize(max_size=40, interpolation=cv2.INTER_AREA, p=1.0),
            A.Affine(rotate=(-10, 10), border_mode=cv2.BORDER_REFLECT_101, p=1.0),
            A.VerticalFlip(p=1.0),
        ],
        "borders painted later": [
            A.Affine(translate_percent=(0.1, 0.2), p=1.0),
            A.Rotate(limit=30, border_mode=cv2.BORDER_CONSTANT, fill=90, p=1.0),
            A.PadIfNeeded(min_height=80, min_width=100, fill=200, p=1.0),
        ],
    }


@pytest.mark.parametrize("name", list(_pipelines()))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_short_path_matches_the_full_call(name: str, seed: int) -> None:
    image = _image()
    short = A.Compose(_pipelines()[name], seed=seed)
    full = A.Compose(_pipelines()[name], seed=seed, save_applied_params=True)
    for _ in range(3):  # the streams stay in step call after call
        expected = full(image=image)
        got = short(image=image)
        assert set(got) == {"image"}
        np.testing.assert_array_equal(got["image"], expected["image"])
        assert got["image"].dtype == expected["image"].dtype


@pytest.mark.parametrize("fuse_warps", [True, False])
def test_a_standalone_transform_matches_its_one_step_pipeline(fuse_warps: bool) -> None:
    image = _image()
    makers = (
        lambda: A.Affine(rotate=(-30, 30), p=0.7),
        lambda: A.RandomCrop(20, 30, p=0.7),
        lambda: A.HorizontalFlip(p=0.7),
        # a pixel transform alone runs its apply without the effect object: the same draws
        lambda: A.ColorJitter(p=0.7),
        lambda: A.RandomBrightnessContrast(p=0.7),
        lambda: A.CoarseDropout(num_holes_range=(1, 3), p=0.7),
        lambda: A.PadIfNeeded(min_height=80, min_width=90, p=0.7),
    )
    for make in makers:
        alone = make()
        alone.set_random_seed(5)
        pipeline = A.Compose([make()], seed=5, fuse_warps=fuse_warps)
        for _ in range(4):
            np.testing.assert_array_equal(alone(image=image)["image"], pipeline(image=image)["image"])


def test_the_short_path_never_writes_to_the_input_nor_returns_it_moved() -> None:
    image = _image()
    before = image.copy()
    out = A.Compose([A.RandomCrop(30, 30, p=1.0)])(image=image)["image"]
    assert not np.shares_memory(out, image)  # a crop is a copy, never a view of the caller's array
    out[:] = 0
    np.testing.assert_array_equal(image, before)


def test_a_pipeline_that_does_not_fire_returns_the_image_unchanged() -> None:
    image = _image()
    out = A.Compose([A.HorizontalFlip(p=1.0)], p=0.0)(image=image)
    np.testing.assert_array_equal(out["image"], image)


def test_flips_of_images_of_different_shapes_alternate_correctly() -> None:
    """Flips reuse their warp per shape: alternating shapes must never get another shape's map."""
    rng = np.random.default_rng(3)
    flips = {"h": A.HorizontalFlip(p=1.0), "v": A.VerticalFlip(p=1.0), "t": A.Transpose(p=1.0)}
    expected = {"h": lambda a: a[:, ::-1], "v": lambda a: a[::-1], "t": lambda a: a.transpose(1, 0, 2)}
    for shape in [(5, 9, 3), (9, 5, 3), (5, 9, 3), (7, 7, 3), (9, 5, 3)]:
        image = rng.integers(0, 256, shape, dtype=np.uint8)
        for name, flip in flips.items():
            np.testing.assert_array_equal(flip(image=image)["image"], expected[name](image))
            pipeline = A.Compose([flip], bbox_params=A.BboxParams(format="pascal_voc", label_fields=[]))
            np.testing.assert_array_equal(pipeline(image=image, bboxes=[])["image"], expected[name](image))


def test_a_pixel_transform_alone_honours_an_effect_replaced_on_the_instance() -> None:
    from invariance.core.effects import Pixels

    image = _image()
    transform = A.InvertImg(p=1.0)
    np.testing.assert_array_equal(transform(image=image)["image"], 255 - image)
    # A wrapper (the profiler counts calls this way) replaces ``effect`` on the instance: the
    # standalone call must go through it, not straight to ``apply``.
    transform.effect = lambda params, sample: Pixels(lambda img: np.zeros_like(img))  # type: ignore[method-assign]
    assert not transform(image=image)["image"].any()
