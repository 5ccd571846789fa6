"""Typos in a policy are refused where the user asked for it: label_mapping names, strict arguments."""

from __future__ import annotations

import warnings

import pytest
import yaml

import invariance as A


def test_label_mapping_with_a_misspelled_transform_is_refused_with_a_suggestion():
    with pytest.raises(A.ParameterError) as info:
        A.KeypointParams(
            format="xy", label_fields=["names"], label_mapping={"HorizontlFlip": {"names": {"l": "r"}}}
        )
    message = str(info.value)
    assert "'HorizontlFlip'" in message and "did you mean 'HorizontalFlip'" in message


def test_label_mapping_with_no_close_name_says_it_is_not_a_transform():
    with pytest.raises(A.ParameterError, match="'Zzzz', which is not a registered transform") as info:
        A.KeypointParams(format="xy", label_fields=["names"], label_mapping={"Zzzz": {"names": {0: 1}}})
    assert "did you mean" not in str(info.value)


def test_label_mapping_of_real_and_custom_transforms_is_accepted():
    class MirrorForTest(A.HorizontalFlip):
        pass

    params = A.KeypointParams(
        format="xy",
        label_fields=["names"],
        label_mapping={"HorizontalFlip": {"names": {"l": "r"}}, "MirrorForTest": {"names": {"l": "r"}}},
    )
    assert set(params.label_mapping) == {"HorizontalFlip", "MirrorForTest"}


def test_a_policy_file_with_a_misspelled_label_mapping_does_not_load(tmp_path):
    policy = A.Compose(
        [A.HorizontalFlip(p=1)],
        keypoint_params=A.KeypointParams(
            format="xy", label_fields=["names"], label_mapping={"HorizontalFlip": {"names": {"l": "r"}}}
        ),
    )
    document = A.to_dict(policy)
    document.pop("fingerprint", None)
    mapping = document["transform"]["keypoint_params"]["label_mapping"]
    mapping["HorizontlFlip"] = mapping.pop("HorizontalFlip")
    with pytest.raises(A.InvarianceError, match="did you mean 'HorizontalFlip'"):
        A.from_dict(document)


def _policy_with_typo(strict: bool) -> dict:
    document = A.to_dict(A.Compose([A.OneOf([A.Rotate(limit=10, p=1)], p=1)], strict=strict))
    document.pop("fingerprint", None)
    rotate = document["transform"]["transforms"][0]["transforms"][0]
    rotate["limt"] = rotate.pop("limit")
    return document


def test_a_strict_policy_file_rejects_a_misspelled_argument(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(_policy_with_typo(strict=True)))
    with pytest.raises(A.SerializationError) as info:
        A.load(path)
    message = str(info.value)
    assert "'limt'" in message and "transforms[0].transforms[0]" in message and "'limit'" in message


def test_strict_load_rejects_a_misspelled_argument_of_a_lenient_file(tmp_path):
    path = tmp_path / "policy.json"
    A.save(A.Compose([A.Rotate(limit=10, p=1)]), path)
    text = path.read_text().replace('"limit"', '"limt"')
    path.write_text(text)
    with pytest.raises(A.SerializationError, match="'limt'"):
        A.load(path, strict=True)
    with pytest.raises(A.SerializationError, match="'limt'"):
        A.from_dict(_policy_with_typo(strict=False), strict=True)


def test_a_lenient_policy_still_warns_and_ignores_the_argument():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        policy = A.from_dict(_policy_with_typo(strict=False))
    assert any("'limt'" in str(w.message) for w in caught)
    assert policy.transforms[0].transforms[0].limit == (-90.0, 90.0)


def test_unknown_arguments_are_named_together_with_the_transform_and_what_it_takes():
    with pytest.raises(A.ParameterError) as error:
        A.Blur(strict=True, blur_radius=3, sharpness=2)
    text = str(error.value)
    # Every unknown name in one list, the transform, and the arguments it does take.
    assert "'blur_radius, sharpness' are not valid for transform Blur" in text
    assert "['blur_limit', 'p']" in text
    with pytest.warns(
        UserWarning, match="Argument\\(s\\) 'blur_radius' are not valid for transform Blur"
    ) as caught:
        blur = A.Blur(blur_radius=3, p=0.3)
    assert blur.p == 0.3 and not hasattr(blur, "blur_radius")
    assert str(caught[0].message).endswith("(ignored)")


def test_a_custom_schema_names_unknown_arguments_the_same_way():
    from pydantic import BaseModel

    class Stamp(A.ImageOnlyTransform):
        class InitSchema(BaseModel):
            size: int = 3

        def __init__(self, size: int = 3, p: float = 0.5):
            super().__init__(p=p)
            self.size = size

        def apply(self, img, **params):
            return img

    with pytest.raises(A.ParameterError, match="'radius' are not valid for transform Stamp"):
        Stamp(radius=2, strict=True)
