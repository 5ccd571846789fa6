"""Resampling arguments (interpolation, mask_interpolation, border_mode, fill, fill_mask,
area_for_downscale) are declared once, in the shared schema parts of invariance.core.schema, and
typed once on the transform classes by the matching ``*Args`` mixins."""

from __future__ import annotations

import inspect
import warnings

import pytest

import invariance as A
import invariance.transforms.auto
from invariance.core import schema as cs
from invariance.core.registry import registered
from invariance.core.transform import BasicTransform, PixelTransform

RESAMPLING = ("interpolation", "mask_interpolation", "border_mode", "fill", "fill_mask", "area_for_downscale")
ARGS_MIXINS = (
    cs.FillArgs,
    cs.BorderArgs,
    cs.InterpolationArgs,
    cs.ResampleArgs,
    cs.WarpArgs,
    cs.DownscaleArgs,
)


def _resampling_transforms() -> dict[str, type[BasicTransform]]:
    """Transforms whose arguments include a warp's or a resize's resampling: those with a
    border_mode or a mask_interpolation, and the non-occlusion ones with a fill_mask (occlusion's
    ``fill_mask=None`` means "leave masks alone", another argument under the same name). A pixel
    filter's ``border_mode`` (how a convolution sees past the edge) is not a warp's and is left out."""
    out = {}
    for name, cls in sorted(registered().items()):
        if not (isinstance(cls, type) and issubclass(cls, BasicTransform)) or issubclass(cls, PixelTransform):
            continue
        fields = cls.InitSchema.model_fields
        if (
            "border_mode" in fields
            or "mask_interpolation" in fields
            # CoarseDropout3D is occlusion in 3-D: its fill_mask=None leaves 3-D masks alone.
            or ("fill_mask" in fields and cls.family != "occlusion" and name != "CoarseDropout3D")
        ):
            out[name] = cls
    return out


TRANSFORMS = _resampling_transforms()


def _declaring(klass: type, name: str) -> type | None:
    """The most derived class of ``klass``'s MRO that annotates ``name``."""
    return next((k for k in klass.__mro__ if name in inspect.get_annotations(k)), None)


def test_the_catalogue_has_the_expected_resampling_transforms():
    # A floor, so that the checks below cannot pass by finding nothing.
    assert {"Affine", "Rotate", "ElasticTransform", "Resize", "RandomCrop", "PadIfNeeded", "Mosaic"} <= set(
        TRANSFORMS
    )
    assert len(TRANSFORMS) >= 28


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_resampling_fields_come_from_a_shared_part(name):
    schema = TRANSFORMS[name].InitSchema
    for field in RESAMPLING:
        if field not in schema.model_fields:
            continue
        parts = [k for k in schema.__mro__ if k in cs.SHARED_PARTS and field in inspect.get_annotations(k)]
        assert parts, f"{name}.{field} is declared by the transform, not by a shared schema part"
        owner = _declaring(schema, field)
        if owner not in cs.SHARED_PARTS:
            # Allowed: a redeclaration that only changes the default, with the part's own type.
            part_field = parts[0].model_fields[field]
            assert schema.model_fields[field].annotation == part_field.annotation, (name, field)
            assert schema.model_fields[field].default != part_field.default, (
                f"{name}.{field} redeclares the shared field without changing its default"
            )


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_resampling_attributes_are_typed_by_a_shared_mixin(name):
    cls = TRANSFORMS[name]
    for field in RESAMPLING:
        if field in cls.InitSchema.model_fields:
            owner = _declaring(cls, field)
            assert owner in ARGS_MIXINS, (
                f"{name}.{field} is annotated on {owner}, not by a shared *Args mixin"
            )


def test_parts_carry_the_albumentations_defaults():
    warp = cs.WarpSchema()
    assert (warp.interpolation, warp.mask_interpolation, warp.border_mode, warp.fill, warp.fill_mask) == (
        1,
        0,
        0,
        0.0,
        0.0,
    )
    resize = cs.DownscaleSchema()
    assert (resize.interpolation, resize.mask_interpolation, resize.area_for_downscale) == (1, 0, None)
    with pytest.raises(ValueError):
        cs.WarpSchema(interpolation=5)  # warps take no exact variants
    assert cs.ResizeSchema(interpolation=6).interpolation == 6


def test_a_part_field_keeps_its_validation_and_error_naming_the_argument():
    with pytest.raises(A.ParameterError, match="border_mode"):
        A.Rotate(border_mode=9)
    with pytest.raises(A.ParameterError, match="mask_interpolation"):
        A.Resize(8, 8, mask_interpolation=12)


def test_argument_order_must_name_every_argument_once():
    class Bad(cs.WarpSchema):
        argument_order = ("limit", "interpolation")
        limit: float = 1.0

    with pytest.raises(TypeError, match="argument_order"):
        cs.positional_order(Bad)

    class Good(cs.WarpSchema):
        argument_order = ("interpolation", "limit", "mask_interpolation", "border_mode", "fill", "fill_mask")
        limit: float = 1.0

    assert cs.positional_order(Good) == [*Good.argument_order, "p"]


def test_default_order_puts_own_fields_first_then_parts_in_base_order():
    class Plain(cs.WarpSchema):
        scale: float = 1.0

    assert cs.positional_order(Plain) == [
        "scale",
        "interpolation",
        "mask_interpolation",
        "border_mode",
        "fill",
        "fill_mask",
        "p",
    ]


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_argument_order_and_resampling_defaults_match_albumentations(name):
    al = pytest.importorskip("albumentations")
    if not hasattr(al, name):
        pytest.skip(f"{name} is not in Albumentations")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = inspect.signature(getattr(al, name)).parameters
    ours = {k: v for k, v in inspect.signature(TRANSFORMS[name]).parameters.items() if k != "self"}
    # ``p`` is always our last argument; a few Albumentations distortions put it before border_mode.
    assert [k for k in ours if k != "p"] == [k for k in theirs if k != "p"]
    for field in RESAMPLING:
        if field in theirs:
            assert ours[field].default == theirs[field].default, (name, field)
