"""Hostile transform arguments and inputs (issue 20, part B).

Covers the resource budget (core/budget.py), NaN and infinity in arguments, Normalize's channel
count, integer and half-float masks of any width, and the OcclusionTransform base.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import invariance as A
from invariance.core import budget
from invariance.core.errors import InputError, InputTypeError, ParameterError

from .conftest import catalogue, make

IMAGE = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)


@pytest.fixture()
def default_limits() -> Iterator[None]:
    previous = A.get_limits()
    yield
    A.set_limits(**dataclasses.asdict(previous))


# -- the resource budget ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_transform", "argument"),
    [
        (lambda: A.MedianBlur(blur_limit=(99_999, 99_999), p=1), "blur_limit"),
        (lambda: A.Blur(blur_limit=10**9, p=1), "blur_limit"),
        (lambda: A.GaussianBlur(sigma_limit=(1e9, 1e9), p=1), "sigma_limit"),
        (lambda: A.GaussianBlur(blur_limit=(10**9 + 1, 10**9 + 1), p=1), "blur_limit"),
        (lambda: A.AdvancedBlur(blur_limit=(999, 999), p=1), "blur_limit"),
        (lambda: A.Defocus(radius=(10**9, 10**9), p=1), "radius"),
        (lambda: A.ElasticTransform(sigma=1e9, p=1), "sigma"),
        (lambda: A.CoarseDropout(num_holes_range=(10**9, 10**9), p=1), "num_holes_range"),
        (lambda: A.CLAHE(tile_grid_size=(10**9, 10**9), p=1), "tile_grid_size"),
        (lambda: A.RandomScale(scale_limit=(1e6, 1e6), p=1), "scale_limit"),
        (lambda: A.CropAndPad(percent=(1e6, 1e6), p=1), "percent"),
        (lambda: A.Pad(padding=10**6, p=1), "padding"),
        (lambda: A.Affine(scale=1e6, fit_output=True, p=1), "scale"),
        (lambda: A.Morphological(scale=(10**6, 10**6), p=1), "scale"),
        (lambda: A.PiecewiseAffine(nb_rows=10**6, p=1), "nb_rows"),
        (lambda: A.RandomShadow(shadow_dimension=10**9, p=1), "shadow_dimension"),
        (lambda: A.ZoomBlur(max_factor=(1e9, 1e9), p=1), "max_factor"),
    ],
)
def test_work_scaling_arguments_are_refused_before_work(make_transform: Any, argument: str) -> None:
    transform = make_transform()
    start = time.perf_counter()
    with pytest.raises(ParameterError, match=argument):
        transform(image=IMAGE)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    ("make_transform", "argument"),
    [
        (lambda: A.Resize(10**6, 10**6), "height"),
        (lambda: A.PadIfNeeded(min_height=10**6, min_width=10**6), "min_height"),
        (lambda: A.RandomCrop(10**6, 10**6, pad_if_needed=True), "height"),
        (lambda: A.RandomResizedCrop(size=(10**6, 10**6)), "size"),
        (lambda: A.Mosaic(target_size=(10**6, 10**6)), "target_size"),
        (lambda: A.LongestMaxSize(max_size=10**6), "max_size"),
        (lambda: A.GlassBlur(iterations=10**9), "iterations"),
        (lambda: A.ToGray(num_output_channels=10**9), "num_output_channels"),
        (lambda: A.RandAugment(num_ops=10**9), "num_ops"),
        (lambda: A.PlasmaShadow(plasma_size=10**6), "plasma_size"),
    ],
)
def test_absolute_sizes_are_refused_at_construction(make_transform: Any, argument: str) -> None:
    with pytest.raises(ParameterError, match=argument):
        make_transform()


def test_the_output_limit_can_be_raised_and_lowered(default_limits: None) -> None:
    with pytest.raises(ParameterError, match="max_output_pixels"):
        A.Resize(20_000, 20_000)
    A.set_limits(max_output_pixels=20_000 * 20_000)
    assert A.Resize(20_000, 20_000).height == 20_000
    previous = A.set_limits(max_output_pixels=32 * 32)
    assert previous.max_output_pixels == 20_000 * 20_000
    with pytest.raises(ParameterError, match="resource budget"):
        A.Resize(64, 64)
    # A transform built under a larger limit is checked again when it runs.
    transform = A.RandomScale(scale_limit=(1.0, 1.0), p=1)
    with pytest.raises(ParameterError, match="scale_limit"):
        transform(image=IMAGE)


@pytest.mark.parametrize("bad", [{"max_output_pixels": 0}, {"max_output_pixels": 1.5}, {"nope": 3}])
def test_set_limits_refuses_bad_values(bad: dict[str, Any], default_limits: None) -> None:
    with pytest.raises(ParameterError):
        A.set_limits(**bad)


def test_kernels_up_to_the_bound_still_run_on_small_images() -> None:
    tiny = IMAGE[:2, :2]
    # Defaults stay valid on a tiny image: the relative bounds have floors (a kernel of 255).
    assert A.AdvancedBlur(p=1)(image=tiny)["image"].shape == tiny.shape
    assert A.MedianBlur(blur_limit=(255, 255), p=1)(image=tiny)["image"].shape == tiny.shape
    with pytest.raises(ParameterError, match="at most 255"):
        A.MedianBlur(blur_limit=(257, 257), p=1)(image=tiny)
    # On a larger image the bound is twice its longer side plus one.
    wide = np.zeros((8, 300), np.uint8)
    assert A.MedianBlur(blur_limit=(601, 601), p=1)(image=wide)["image"].shape == wide.shape
    with pytest.raises(ParameterError, match="at most 601"):
        A.MedianBlur(blur_limit=(603, 603), p=1)(image=wide)


def test_the_budget_is_checked_inside_a_pipeline_even_when_p_is_zero() -> None:
    pipeline = A.Compose([A.HorizontalFlip(p=1), A.MedianBlur(blur_limit=(999, 999), p=0.0)])
    with pytest.raises(ParameterError, match="MedianBlur"):
        pipeline(image=IMAGE)


def test_every_bounded_argument_of_the_catalogue_is_documented() -> None:
    """The reliability page lists every argument that carries a budget marker."""
    from pathlib import Path

    page = (Path(__file__).parents[1] / "docs" / "reliability.md").read_text(encoding="utf-8")
    section = page.split("## Resource budget", 1)[1].split("\n## ", 1)[0]
    missing = [
        f"{cls.__name__}.{name}"
        for cls in catalogue()
        for name, _ in budget.bounded_fields(cls.InitSchema)
        if f"`{name}`" not in section or cls.__name__ not in section
    ]
    assert not missing


_WORK_WORDS = (
    "kernel",
    "sigma",
    "num_",
    "nb_",
    "holes",
    "grid",
    "iterations",
    "radius",
    "number_of",
    "n_segments",
    "plasma",
    "dimension",
)


def test_every_work_scaling_argument_carries_a_budget_marker() -> None:
    """An audit that fails when a new work-scaling argument is added without a bound."""
    exempt = {
        ("Illumination", "sigma_range"),  # a fraction of the image, in [0, 1] by its schema
        ("Posterize", "num_bits"),  # 0..8 by its schema
        ("RandomSunFlare", "src_radius"),  # the glow is computed once per pixel, whatever its radius
    }
    unmarked = []
    for cls in catalogue():
        marked = {name for name, _ in budget.bounded_fields(cls.InitSchema)}
        for name, info in cls.InitSchema.model_fields.items():
            if not any(word in name for word in _WORK_WORDS) or name in marked:
                continue
            if info.annotation in (bool, str) or (cls.__name__, name) in exempt:
                continue
            if "range" in name and "sigma" not in name and "num" not in name and "holes" not in name:
                continue
            unmarked.append(f"{cls.__name__}.{name}")
    assert not unmarked, f"arguments that scale work without a budget marker: {unmarked}"


# -- NaN and infinity ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: A.Rotate(limit=math.nan),
        lambda: A.Affine(rotate=(math.nan, math.nan)),
        lambda: A.Affine(scale=math.inf),
        lambda: A.RandomBrightnessContrast(brightness_limit=(-math.inf, 0.1)),
        lambda: A.Normalize(mean=(0.5, math.nan, 0.5)),
        lambda: A.CoarseDropout(fill=math.nan),
        lambda: A.GaussNoise(std_range=(0.1, math.inf)),
        lambda: A.HorizontalFlip(p=math.nan),
    ],
)
def test_nan_and_inf_arguments_are_refused_at_construction(build: Any) -> None:
    with pytest.raises(ParameterError, match="finite"):
        build()


def test_every_catalogue_transform_refuses_nan_in_every_float_argument() -> None:
    """One validator in the schema layer covers the whole catalogue."""
    accepted = []
    for cls in catalogue():
        base = {**cls.example_args, "p": 1.0}
        for name, info in cls.InitSchema.model_fields.items():
            default = base.get(name, info.get_default(call_default_factory=True))
            if isinstance(default, bool) or not isinstance(default, (int, float, tuple)) or default == ():
                continue
            value: Any = math.nan if not isinstance(default, tuple) else tuple(math.nan for _ in default)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    cls(**{**base, name: value})
            except ParameterError:
                continue
            accepted.append(f"{cls.__name__}.{name}")
    assert not accepted


# -- Normalize -------------------------------------------------------------------------------------


def test_normalize_refuses_statistics_that_fit_no_channel_count() -> None:
    with pytest.raises(ParameterError, match=r"'mean'.*2 values.*3 channels"):
        A.Normalize(mean=(0.5, 0.5), std=(0.2,), p=1)(image=IMAGE)
    with pytest.raises(ParameterError, match=r"'std'.*3 values.*4 channels"):
        A.Normalize(mean=0.5, std=(0.2, 0.2, 0.2), p=1)(image=np.zeros((8, 8, 4), np.uint8))


def test_normalize_keeps_broadcasting_and_grayscale_rules() -> None:
    out = A.Normalize(mean=0.5, std=(0.25,), p=1)(image=IMAGE)["image"]
    assert out.shape == IMAGE.shape
    gray = np.full((8, 8), 255, np.uint8)  # ImageNet's three values on a grayscale image: the first
    expected = (1.0 - 0.485) / 0.229
    np.testing.assert_allclose(A.Normalize(p=1)(image=gray)["image"], expected, rtol=1e-5)
    # The default ImageNet statistics keep Albumentations' first-value fallback on RGBA images.
    rgba = np.full((8, 8, 4), 255, np.uint8)
    np.testing.assert_allclose(A.Normalize(p=1)(image=rgba)["image"], expected, rtol=1e-5)


# -- masks of every dtype --------------------------------------------------------------------------

MASK_DTYPES = (np.uint32, np.uint64, np.int64, np.float16, np.int32, np.int8, np.uint16, np.bool_)


@pytest.mark.parametrize("dtype", MASK_DTYPES)
def test_every_mask_transform_keeps_every_mask_dtype(dtype: Any) -> None:
    labels = (np.arange(48 * 56).reshape(48, 56) % 7).astype(dtype)
    image = IMAGE[:48, :56]
    failures = []
    for cls in catalogue():
        if "mask" not in cls.supported_targets:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = make(cls)(image=image, mask=labels, **cls.example_data)
        except InputError as error:
            if "larger than the image" in str(error) or "leaves the image" in str(error):
                continue  # example arguments made for larger images
            failures.append(f"{cls.__name__}: {error}")
            continue
        except Exception as error:
            failures.append(f"{cls.__name__}: {type(error).__name__}: {error}")
            continue
        if out["mask"].dtype != labels.dtype:
            failures.append(f"{cls.__name__}: returned {out['mask'].dtype}")
    assert not failures


def test_wide_integer_masks_keep_their_values() -> None:
    big = np.full((32, 32), 2**31 - 1, np.int64)
    big[:, :16] = 7
    out = A.Compose([A.HorizontalFlip(p=1), A.Rotate(limit=(90, 90), p=1)])(
        image=IMAGE[:32, :32], mask=big, masks=[big.astype(np.uint32)]
    )
    assert out["mask"].dtype == np.int64
    assert set(np.unique(out["mask"]).tolist()) <= {0, 7, 2**31 - 1}
    assert out["masks"][0].dtype == np.uint32


def test_mask_values_beyond_int32_are_refused_up_front() -> None:
    mask = np.zeros((16, 16), np.uint64)
    mask[0, 0] = 2**40
    with pytest.raises(InputError, match=r"mask.*int32 range"):
        A.Compose([A.Rotate(p=1)])(image=IMAGE[:16, :16], mask=mask)


def test_complex_masks_are_refused_naming_the_accepted_dtypes() -> None:
    with pytest.raises(InputTypeError, match=r"mask.*uint32"):
        A.Compose([A.Rotate(p=1)])(image=IMAGE[:16, :16], mask=np.zeros((16, 16), np.complex64))


# -- OcclusionTransform ----------------------------------------------------------------------------


def test_occlusion_base_is_not_offered_and_cannot_be_built() -> None:
    from invariance.explore.catalogue import transform_classes
    from invariance.tools.catalogue import catalogue as listed

    names = {row["name"] for rows in listed().values() for row in rows}
    assert "OcclusionTransform" not in names
    assert "OcclusionTransform" not in transform_classes()
    assert "CoarseDropout" in names and "CoarseDropout" in transform_classes()
    with pytest.raises(TypeError, match="base class"):
        A.OcclusionTransform(p=1)
    with pytest.raises(A.SerializationError, match="base class"):
        A.from_dict({"transform": {"__class_fullname__": "OcclusionTransform", "p": 1.0}})


def test_a_subclass_of_the_occlusion_base_still_works() -> None:
    from pydantic import Field

    class OneHole(A.OcclusionTransform):
        class InitSchema(A.OcclusionTransform.InitSchema):
            fill: float = 0.0
            fill_mask: float | None = None
            size: int = Field(default=4, ge=1)

        def sample(self, rng: np.random.Generator, sample: Any) -> dict[str, Any]:
            return {"holes": np.array([[0, 0, self.size, self.size]])}

    out = OneHole(p=1)(image=np.full((8, 8), 9, np.uint8))["image"]
    assert (out[:4, :4] == 0).all() and (out[4:, 4:] == 9).all()


def test_an_out_of_range_channel_fill_saturates_instead_of_overflowing() -> None:
    out = A.ChannelDropout(channel_drop_range=(1, 1), fill=1e9, p=1)(image=IMAGE)["image"]
    assert out.dtype == np.uint8 and out.max() == 255
