"""Custom transforms written for Albumentations 2.x run unchanged on invariance.

Each custom class below is written once, the way Albumentations users write them, inside a factory
that takes the library module (``invariance`` or ``albumentations``). With their random parameters
pinned, both libraries must produce the same output. Albumentations is only a test oracle.
"""

from __future__ import annotations

import json
import types
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel, Field, field_validator

import invariance as A
from invariance.core import registry

# Albumentations notes that a pipeline with box/keypoint params has no transform using them.
pytestmark = pytest.mark.filterwarnings("ignore:Got processor for:UserWarning")

# ----------------------------------------------------------------------------------------------
# The custom transforms, written against an Albumentations-like module ``L``.


def make_channel_gain(L: types.ModuleType) -> type:
    class RandomChannelGain(L.ImageOnlyTransform):  # type: ignore[name-defined,misc]
        """Multiply each channel by a random gain and add a random offset (a colour cast)."""

        def __init__(self, gain_range=(0.8, 1.2), offset_limit=0.0, p=0.5):  # type: ignore[no-untyped-def]
            super().__init__(p=p)
            self.gain_range = gain_range
            self.offset_limit = offset_limit

        def get_params(self) -> dict[str, Any]:
            lo, hi = self.gain_range
            gains = self.random_generator.uniform(lo, hi, size=3)
            offset = self.py_random.uniform(-self.offset_limit, self.offset_limit)
            return {"gains": gains, "offset": offset}

        def apply(self, img, gains, offset, **params):  # type: ignore[no-untyped-def]
            channels = 1 if img.ndim == 2 else img.shape[-1]
            g = np.resize(np.asarray(gains, dtype=np.float32), channels)
            out = img.astype(np.float32) * (g if img.ndim == 3 else g[0])
            if img.dtype == np.uint8:
                return np.clip(out + offset * 255, 0, 255).astype(np.uint8)
            return np.clip(out + offset, 0, 1).astype(img.dtype)

    return RandomChannelGain


def make_top_crop(L: types.ModuleType) -> type:
    class RandomTopCrop(L.DualTransform):  # type: ignore[name-defined,misc]
        """Cut a random number of rows off the top; boxes and keypoints move up."""

        def __init__(self, rows_range=(0, 10), p=0.5):  # type: ignore[no-untyped-def]
            super().__init__(p=p)
            self.rows_range = rows_range

        def get_params(self) -> dict[str, Any]:
            return {"rows": self.py_random.randint(*self.rows_range)}

        def apply(self, img, rows, **params):  # type: ignore[no-untyped-def]
            return img[rows:]

        def apply_to_mask(self, mask, rows, **params):  # type: ignore[no-untyped-def]
            return mask[rows:]

        def apply_to_bboxes(self, bboxes, rows, **params):  # type: ignore[no-untyped-def]
            height = params["shape"][0]
            out = bboxes.copy()
            out[:, [1, 3]] = (bboxes[:, [1, 3]] * height - rows) / (height - rows)
            return out

        def apply_to_keypoints(self, keypoints, rows, **params):  # type: ignore[no-untyped-def]
            out = keypoints.copy()
            out[:, 1] -= rows
            return out

    return RandomTopCrop


def make_crop_to_mask(L: types.ModuleType) -> type:
    class CropToMask(L.DualTransform):  # type: ignore[name-defined,misc]
        """Crop to the box around the mask's non-zero pixels, plus a margin (needs the mask)."""

        def __init__(self, margin=4, p=1.0):  # type: ignore[no-untyped-def]
            super().__init__(p=p)
            self.margin = margin

        @property
        def targets_as_params(self) -> list[str]:
            return ["mask"]

        def get_params_dependent_on_data(self, params, data):  # type: ignore[no-untyped-def]
            height, width = data["image"].shape[:2]
            ys, xs = np.nonzero(data["mask"])
            if len(xs) == 0:
                return {"window": (0, 0, width, height)}
            x0 = max(int(xs.min()) - self.margin, 0)
            y0 = max(int(ys.min()) - self.margin, 0)
            x1 = min(int(xs.max()) + 1 + self.margin, width)
            y1 = min(int(ys.max()) + 1 + self.margin, height)
            return {"window": (x0, y0, x1, y1)}

        def apply(self, img, window, **params):  # type: ignore[no-untyped-def]
            x0, y0, x1, y1 = window
            return img[y0:y1, x0:x1]

        def apply_to_bboxes(self, bboxes, window, **params):  # type: ignore[no-untyped-def]
            height, width = params["shape"][:2]
            x0, y0, x1, y1 = window
            out = bboxes.copy()
            out[:, [0, 2]] = (bboxes[:, [0, 2]] * width - x0) / (x1 - x0)
            out[:, [1, 3]] = (bboxes[:, [1, 3]] * height - y0) / (y1 - y0)
            return out

        def apply_to_keypoints(self, keypoints, window, **params):  # type: ignore[no-untyped-def]
            out = keypoints.copy()
            out[:, 0] -= window[0]
            out[:, 1] -= window[1]
            return out

    return CropToMask


def make_solarize(L: types.ModuleType) -> type:
    class SolarizeFraction(L.ImageOnlyTransform):  # type: ignore[name-defined,misc]
        """Invert pixels above a random fraction of the maximum value; arguments validated by pydantic."""

        class InitSchema(BaseModel):
            threshold_range: tuple[float, float] = (0.5, 0.5)
            p: float = Field(default=0.5, ge=0, le=1)

            @field_validator("threshold_range", mode="before")
            @classmethod
            def _pair(cls, value: Any) -> Any:
                if isinstance(value, (int, float)):
                    return (value, value)
                return value

            @field_validator("threshold_range")
            @classmethod
            def _within(cls, value: tuple[float, float]) -> tuple[float, float]:
                lo, hi = value
                if not 0 <= lo <= hi <= 1:
                    raise ValueError("threshold_range must satisfy 0 <= low <= high <= 1")
                return value

        def __init__(self, threshold_range=(0.5, 0.5), p=0.5):  # type: ignore[no-untyped-def]
            super().__init__(p=p)
            self.threshold_range = threshold_range

        def get_params(self) -> dict[str, Any]:
            return {"threshold": self.random_generator.uniform(*self.threshold_range)}

        def apply(self, img, threshold, **params):  # type: ignore[no-untyped-def]
            top = 255 if img.dtype == np.uint8 else 1.0
            return np.where(img >= threshold * top, top - img, img).astype(img.dtype)

    return SolarizeFraction


def make_drop_tiny(L: types.ModuleType) -> type:
    class DropTinyBoxes(L.DualTransform):  # type: ignore[name-defined,misc]
        """Leave pixels alone; drop boxes smaller than a fraction of the image and far keypoints."""

        def __init__(self, min_fraction=0.01, p=1.0):  # type: ignore[no-untyped-def]
            super().__init__(p=p)
            self.min_fraction = min_fraction

        def apply(self, img, **params):  # type: ignore[no-untyped-def]
            return img

        def apply_to_bboxes(self, bboxes, **params):  # type: ignore[no-untyped-def]
            area = (bboxes[:, 2] - bboxes[:, 0]) * (bboxes[:, 3] - bboxes[:, 1])
            return bboxes[area >= self.min_fraction]

        def apply_to_keypoints(self, keypoints, **params):  # type: ignore[no-untyped-def]
            return keypoints[::-1]  # reversed order: labels must follow

    return DropTinyBoxes


def make_apply_if_large(L: types.ModuleType) -> type:
    class ApplyIfLarge(L.BaseCompose):  # type: ignore[name-defined,misc]
        """Run the children in order, only on images whose short side reaches ``min_side``."""

        def __init__(self, transforms, min_side=32, p=1.0):  # type: ignore[no-untyped-def]
            super().__init__(transforms, p)
            self.min_side = min_side

        def __call__(self, *args, force_apply=False, **data):  # type: ignore[no-untyped-def]
            if min(data["image"].shape[:2]) < self.min_side:
                return data
            for t in self.transforms:
                data = t(**data)
            return data

    return ApplyIfLarge


# ----------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def alb() -> types.ModuleType:
    return pytest.importorskip("albumentations")


def _image(h: int = 40, w: int = 60, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _mask(h: int = 40, w: int = 60) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    mask[12:25, 20:41] = 3
    return mask


BOXES = [[5.0, 2.0, 30.0, 20.0, 7], [20.0, 15.0, 50.0, 35.0, 8], [40.0, 30.0, 42.0, 31.0, 9]]
LABELS = ["cat", "dog", "ant"]
POINTS = [[10.0, 3.0, 30.0, 2.0], [25.0, 20.0, 90.0, 1.5], [55.0, 38.0, 0.0, 1.0]]
POINT_LABELS = [1, 2, 3]


def _run(L: types.ModuleType, transforms: list[Any], **extra: Any) -> dict[str, Any]:
    pipeline = L.Compose(
        transforms,
        bbox_params=L.BboxParams(format="pascal_voc", label_fields=["labels"]),
        keypoint_params=L.KeypointParams(format="xyas", label_fields=["kp_labels"]),
        seed=3,
    )
    return pipeline(
        image=_image(),
        mask=_mask(),
        masks=[_mask(), 1 - _mask()],
        bboxes=BOXES,
        labels=LABELS,
        keypoints=POINTS,
        kp_labels=POINT_LABELS,
        **extra,
    )


def _assert_same(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    np.testing.assert_array_equal(ours["image"], theirs["image"])
    np.testing.assert_array_equal(ours["mask"], theirs["mask"])
    for a, b in zip(ours["masks"], theirs["masks"]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.asarray(ours["bboxes"]), np.asarray(theirs["bboxes"]), atol=1e-4)
    assert list(ours["labels"]) == list(theirs["labels"])
    np.testing.assert_allclose(np.asarray(ours["keypoints"]), np.asarray(theirs["keypoints"]), atol=1e-4)
    assert [int(v) for v in ours["kp_labels"]] == [int(v) for v in theirs["kp_labels"]]


# ----------------------------------------------------------------------------------------------
# The five ports: the same output as Albumentations 2.0.8 with pinned parameters


def test_pixel_colour_transform_matches_albumentations(alb: types.ModuleType) -> None:
    ours = _run(A, [make_channel_gain(A)(gain_range=(1.3, 1.3), p=1.0)])
    theirs = _run(alb, [make_channel_gain(alb)(gain_range=(1.3, 1.3), p=1.0)])
    _assert_same(ours, theirs)
    assert not np.array_equal(ours["image"], _image())  # it did something
    np.testing.assert_array_equal(ours["mask"], _mask())  # and left the mask alone


def test_spatial_transform_with_box_and_keypoint_methods_matches_albumentations(
    alb: types.ModuleType,
) -> None:
    ours = _run(A, [make_top_crop(A)(rows_range=(8, 8), p=1.0)])
    theirs = _run(alb, [make_top_crop(alb)(rows_range=(8, 8), p=1.0)])
    _assert_same(ours, theirs)
    assert ours["image"].shape == (32, 60, 3)
    # The first keypoint (y = 3) left the image and was removed with its label.
    assert list(ours["kp_labels"]) == [2, 3]
    np.testing.assert_allclose(ours["bboxes"][0][:4], [5.0, 0.0, 30.0, 12.0], atol=1e-6)
    assert ours["bboxes"][0][4] == 7  # the extra column is carried with its type


def test_data_dependent_transform_matches_albumentations(alb: types.ModuleType) -> None:
    ours = _run(A, [make_crop_to_mask(A)(margin=3)])
    theirs = _run(alb, [make_crop_to_mask(alb)(margin=3)])
    _assert_same(ours, theirs)
    assert ours["image"].shape[:2] == (13 + 6, 21 + 6)


def test_data_dependent_transform_requires_its_targets() -> None:
    with pytest.raises(A.InputError, match="mask"):
        A.Compose([make_crop_to_mask(A)()])(image=_image())


def test_transform_with_init_schema_matches_albumentations(alb: types.ModuleType) -> None:
    ours = _run(A, [make_solarize(A)(0.6, p=1.0)])  # positional scalar, widened by the schema
    theirs = _run(alb, [make_solarize(alb)(0.6, p=1.0)])
    _assert_same(ours, theirs)
    assert make_solarize(A)(0.6).threshold_range == (0.6, 0.6)


def test_init_schema_rejects_bad_arguments_by_name(alb: types.ModuleType) -> None:
    with pytest.raises(A.ParameterError, match="threshold_range"):
        make_solarize(A)(threshold_range=(0.9, 0.2))
    with pytest.raises(ValueError):
        make_solarize(alb)(threshold_range=(0.9, 0.2))
    with pytest.raises(A.ParameterError, match="'p'"):
        make_solarize(A)(p=2.0)
    with pytest.warns(UserWarning, match="colour"):
        make_solarize(A)(colour=3)


def test_custom_compose_matches_albumentations(alb: types.ModuleType) -> None:
    def run(L: types.ModuleType, image: np.ndarray) -> dict[str, Any]:
        gain = make_channel_gain(L)(gain_range=(0.5, 0.5), p=1.0)
        block = make_apply_if_large(L)([gain, L.HorizontalFlip(p=1.0)], min_side=32)
        return block(image=image, mask=_mask(image.shape[0], image.shape[1]))  # type: ignore[no-any-return]

    for image in (_image(), _image(20, 30)):
        ours, theirs = run(A, image), run(alb, image)
        np.testing.assert_array_equal(ours["image"], theirs["image"])
        np.testing.assert_array_equal(ours["mask"], theirs["mask"])
    big = run(A, _image())
    np.testing.assert_array_equal(big["mask"], _mask()[:, ::-1])
    np.testing.assert_array_equal(run(A, _image(20, 30))["image"], _image(20, 30))


def test_dropped_and_reordered_rows_keep_their_labels(alb: types.ModuleType) -> None:
    ours = _run(A, [make_drop_tiny(A)(min_fraction=0.01)])
    theirs = _run(alb, [make_drop_tiny(alb)(min_fraction=0.01)])
    _assert_same(ours, theirs)
    assert list(ours["labels"]) == ["cat", "dog"]
    assert [b[4] for b in ours["bboxes"]] == [7, 8]
    assert list(ours["kp_labels"]) == [3, 2, 1]
    np.testing.assert_allclose(ours["keypoints"][0], POINTS[2])


# ----------------------------------------------------------------------------------------------
# What the methods receive: the same layout as Albumentations


def make_probe(L: types.ModuleType, seen: dict[str, Any]) -> type:
    class LayoutProbe(L.DualTransform):  # type: ignore[name-defined,misc]
        def __init__(self, p=1.0):  # type: ignore[no-untyped-def]
            super().__init__(p=p)

        def get_params_dependent_on_data(self, params, data):  # type: ignore[no-untyped-def]
            seen["data_keys"] = sorted(
                k for k in data if k in ("image", "mask", "masks", "bboxes", "keypoints")
            )
            seen["data_bboxes"] = np.asarray(data["bboxes"], dtype=np.float64)
            seen["params"] = sorted(params)
            return {}

        def apply(self, img, **params):  # type: ignore[no-untyped-def]
            seen["shape"] = tuple(params["shape"])
            return img

        def apply_to_masks(self, masks, **params):  # type: ignore[no-untyped-def]
            seen["masks"] = (type(masks).__name__, masks.shape)
            return masks

        def apply_to_bboxes(self, bboxes, **params):  # type: ignore[no-untyped-def]
            seen["bboxes"] = np.asarray(bboxes, dtype=np.float64)
            return bboxes

        def apply_to_keypoints(self, keypoints, **params):  # type: ignore[no-untyped-def]
            seen["keypoints"] = np.asarray(keypoints, dtype=np.float64)
            return keypoints

    return LayoutProbe


@pytest.mark.parametrize("kp_format", ["xyas", "xy"])
def test_methods_receive_albumentations_layout(alb: types.ModuleType, kp_format: str) -> None:
    views: list[dict[str, Any]] = []
    for L in (A, alb):
        seen: dict[str, Any] = {}
        pipeline = L.Compose(
            [make_probe(L, seen)()],
            bbox_params=L.BboxParams(format="coco", label_fields=["labels", "ids"]),
            keypoint_params=L.KeypointParams(format=kp_format, label_fields=["kp_labels"]),
        )
        points = [p[: len(kp_format)] + [4.5] for p in POINTS]  # one extra column
        pipeline(
            image=_image(),
            mask=_mask(),
            masks=[_mask(), _mask()],
            bboxes=np.array([[1.0, 2, 10, 5, 0.5], [3, 4, 20, 6, 0.25]]),
            labels=["b", "a"],
            ids=[11, 12],
            keypoints=points,
            kp_labels=POINT_LABELS,
        )
        views.append(seen)
    ours, theirs = views
    assert ours["shape"] == theirs["shape"] == (40, 60, 3)
    assert ours["data_keys"] == theirs["data_keys"]
    assert ours["masks"] == theirs["masks"]
    assert ours["params"] == theirs["params"]
    # Boxes: normalized x_min, y_min, x_max, y_max, the extra column, then one column per label
    # field (strings as codes, numbers as themselves).
    np.testing.assert_allclose(ours["bboxes"][:, :5], theirs["bboxes"][:, :5], atol=1e-6)
    np.testing.assert_allclose(ours["bboxes"][:, 6], [11, 12])
    np.testing.assert_allclose(theirs["bboxes"][:, 6], [11, 12])
    np.testing.assert_allclose(ours["data_bboxes"], ours["bboxes"])
    # Keypoints: x, y, z (0), angle (radians), scale (0 when the format has none), extras, labels.
    np.testing.assert_allclose(ours["keypoints"], theirs["keypoints"], atol=1e-5)


# ----------------------------------------------------------------------------------------------
# Seeds, serialization, and the rest of the engine


def test_seeded_pipelines_reproduce_custom_randomness() -> None:
    Gain = make_channel_gain(A)
    TopCrop = make_top_crop(A)

    def run(seed: int) -> dict[str, Any]:
        pipeline = A.Compose(
            [Gain(gain_range=(0.5, 1.5), offset_limit=0.1, p=1.0), TopCrop(rows_range=(0, 20), p=1.0)],
            seed=seed,
        )
        return pipeline(image=_image(), mask=_mask())

    a, b, c = run(7), run(7), run(8)
    np.testing.assert_array_equal(a["image"], b["image"])
    assert a["image"].shape != c["image"].shape or not np.array_equal(a["image"], c["image"])
    # Repeated calls of one seeded pipeline draw new parameters, and reseeding restarts them.
    pipeline = A.Compose([TopCrop(rows_range=(0, 20), p=1.0)], seed=1)
    shapes = [pipeline(image=_image())["image"].shape[0] for _ in range(8)]
    assert len(set(shapes)) > 1
    pipeline.set_random_seed(1)
    assert [pipeline(image=_image())["image"].shape[0] for _ in range(8)] == shapes


def test_probability_and_standalone_call() -> None:
    Gain = make_channel_gain(A)
    never = A.Compose([Gain(gain_range=(2.0, 2.0), p=0.0)])
    np.testing.assert_array_equal(never(image=_image())["image"], _image())
    alone = Gain(gain_range=(2.0, 2.0), p=1.0)
    out = alone(image=_image())["image"]
    np.testing.assert_array_equal(out, np.clip(_image().astype(np.float32) * 2, 0, 255).astype(np.uint8))
    with pytest.raises(A.ParameterError, match="'p'"):
        Gain(p=1.5)


def test_custom_transforms_register_serialize_and_load_by_name(tmp_path: Any) -> None:
    Gain = make_channel_gain(A)
    Solarize = make_solarize(A)
    assert registry.lookup("RandomChannelGain") is Gain
    pipeline = A.Compose([Gain(gain_range=(0.9, 1.1), offset_limit=0.05, p=0.7), Solarize(0.4, p=0.2)])
    saved = A.to_dict(pipeline)
    body = saved["transform"]["transforms"]
    assert body[0] == {
        "__class_fullname__": "RandomChannelGain",
        "gain_range": [0.9, 1.1],
        "offset_limit": 0.05,
        "p": 0.7,
    }
    assert body[1]["threshold_range"] == [0.4, 0.4]
    path = tmp_path / "policy.json"
    A.save(pipeline, str(path))
    loaded = A.load(str(path))
    assert isinstance(loaded.transforms[0], Gain)
    assert loaded.transforms[0].gain_range == [0.9, 1.1]  # JSON gives lists back, as in Albumentations
    assert loaded.transforms[1].threshold_range == (0.4, 0.4)  # the InitSchema converts it back
    assert A.fingerprint(loaded) == A.fingerprint(pipeline)
    assert (
        json.loads(path.read_text())["transform"]["transforms"][1]["__class_fullname__"] == "SolarizeFraction"
    )


def test_unregistered_names_do_not_import_anything() -> None:
    policy = {"transform": {"__class_fullname__": "some_module.NotDefinedAnywhere", "p": 1.0}}
    with pytest.raises(A.SerializationError, match="define"):
        A.from_dict(policy)


def test_attribute_missing_for_serialization_is_reported() -> None:
    class Forgetful(A.ImageOnlyTransform):
        def __init__(self, strength: float = 1.0, p: float = 0.5) -> None:
            super().__init__(p=p)

        def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
            return img

    with pytest.raises(A.SerializationError, match="strength"):
        A.to_dict(Forgetful())
    assert repr(Forgetful()) == "Forgetful(p=0.5)"


def test_old_style_always_apply_is_accepted_with_a_warning() -> None:
    class Legacy(A.ImageOnlyTransform):
        def __init__(self, always_apply: bool = False, p: float = 0.5) -> None:
            super().__init__(always_apply=always_apply, p=p)

        def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
            return 255 - img

    with pytest.warns(DeprecationWarning, match="always_apply"):
        t = Legacy(always_apply=True, p=1.0)
    np.testing.assert_array_equal(t(image=_image())["image"], 255 - _image())


def test_adapted_transforms_work_with_the_engine_features() -> None:
    Gain = make_channel_gain(A)
    TopCrop = make_top_crop(A)
    # Pixel-level custom transforms can act on selected channels.
    block = A.SelectiveChannelTransform([Gain(gain_range=(0.0, 0.0), p=1.0)], channels=[1], p=1.0)
    out = A.Compose([block])(image=_image())["image"]
    assert (out[..., 1] == 0).all()
    np.testing.assert_array_equal(out[..., [0, 2]], _image()[..., [0, 2]])
    # Replay re-applies the recorded parameters to new data.
    replay = A.ReplayCompose([TopCrop(rows_range=(0, 15), p=1.0)], seed=5)
    first = replay(image=_image())
    again = A.ReplayCompose.replay(first["replay"], image=_image(seed=1))
    assert again["image"].shape == first["image"].shape
    # Video frames go through apply_to_images; masks through apply_to_masks.
    frames = np.stack([_image(), _image(seed=2)])
    video = A.Compose([TopCrop(rows_range=(5, 5), p=1.0)])(images=frames, masks=[_mask(), _mask()])
    assert video["images"].shape == (2, 35, 60, 3)
    assert isinstance(video["masks"], list) and video["masks"][0].shape == (35, 60)
    # Additional targets of a kind go through that kind's method.
    twin = A.Compose(
        [TopCrop(rows_range=(4, 4), p=1.0)], additional_targets={"right": "image", "seg": "mask"}
    )
    res = twin(image=_image(), right=_image(seed=9), mask=_mask(), seg=_mask())
    np.testing.assert_array_equal(res["right"], _image(seed=9)[4:])
    np.testing.assert_array_equal(res["seg"], _mask()[4:])
    # Mixing custom and built-in transforms keeps every target in step.
    pipeline = A.Compose(
        [TopCrop(rows_range=(10, 10), p=1.0), A.HorizontalFlip(p=1.0)],
        bbox_params=A.BboxParams(format="pascal_voc"),
    )
    res = pipeline(image=_image(), bboxes=[[0.0, 10.0, 10.0, 20.0]])
    np.testing.assert_allclose(res["bboxes"], [[50.0, 0.0, 60.0, 10.0]])


def test_custom_compose_inside_a_pipeline_moves_every_target(alb: types.ModuleType) -> None:
    """A composition whose own ``__call__`` calls ``t(**data)``, nested in a pipeline with boxes.

    The engine reaches such a composition through ``BaseCompose.run``, which routes a user
    ``__call__`` to ``run_custom_compose``: it hands over the targets and the pipeline's Generator.
    """
    from invariance.core.compat import overrides_call

    RoutedBlock = make_apply_if_large(A)
    assert overrides_call(RoutedBlock) and not overrides_call(A.OneOf)

    def children(L: types.ModuleType) -> list[Any]:
        gain = make_channel_gain(L)(gain_range=(0.5, 0.5), p=1.0)
        return [gain, make_top_crop(L)(rows_range=(6, 6), p=1.0), L.HorizontalFlip(p=1.0)]

    ours = _run(A, [RoutedBlock(children(A), min_side=32)])
    theirs = _run(alb, [make_apply_if_large(alb)(children(alb), min_side=32)])
    _assert_same(ours, theirs)
    assert ours["image"].shape == (34, 60, 3)
    # Reproducible under a seed: the children draw from the pipeline's Generator.
    Gain = make_channel_gain(A)
    pipeline = A.Compose([RoutedBlock([Gain(gain_range=(0.2, 2.0), p=1.0)], min_side=8)], seed=11)
    first = pipeline(image=_image())["image"]
    pipeline.set_random_seed(11)
    np.testing.assert_array_equal(pipeline(image=_image())["image"], first)


def test_empty_boxes_and_keypoints_and_methods_that_drop_everything() -> None:
    TopCrop = make_top_crop(A)
    DropTiny = make_drop_tiny(A)
    params = {
        "bbox_params": A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        "keypoint_params": A.KeypointParams(format="xy", label_fields=["kp_labels"]),
    }
    empty = A.Compose([TopCrop(rows_range=(3, 3), p=1.0), DropTiny()], **params)(
        image=_image(), bboxes=[], labels=[], keypoints=np.zeros((0, 2)), kp_labels=[]
    )
    assert len(empty["bboxes"]) == 0 and empty["labels"] == [] and len(empty["keypoints"]) == 0
    everything = A.Compose([DropTiny(min_fraction=2.0)], **params)(
        image=_image(), bboxes=[b[:4] for b in BOXES], labels=LABELS, keypoints=[(1, 1)], kp_labels=[5]
    )
    assert len(everything["bboxes"]) == 0 and everything["labels"] == []
    assert everything["kp_labels"] == [5]


class Invert(A.ImageOnlyTransform):
    """A module-level custom transform (so that pickle can find it)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(p=p)

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return 255 - img


def test_custom_transforms_pickle_and_copy_with_their_pipeline() -> None:
    import copy
    import pickle

    pipeline = A.Compose([Invert(p=1.0), make_top_crop(A)(rows_range=(2, 2), p=1.0)], seed=4)
    pipeline.transforms.pop()  # locally defined classes cannot be pickled (as anywhere in Python)
    for clone in (pickle.loads(pickle.dumps(pipeline)), copy.deepcopy(pipeline)):
        np.testing.assert_array_equal(clone(image=_image())["image"], 255 - _image())


def test_albumentations_style_update_transform_params_override() -> None:
    class WithExtras(A.ImageOnlyTransform):
        def __init__(self, p: float = 1.0) -> None:
            super().__init__(p=p)

        def update_transform_params(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
            params = super().update_transform_params(params, data)
            params["mean"] = float(data["image"].mean())
            return params

        def apply(self, img: np.ndarray, mean: float, shape: tuple[int, ...], **params: Any) -> np.ndarray:
            assert tuple(shape) == img.shape
            return np.where(img > mean, 255, 0).astype(np.uint8)

    out = WithExtras()(image=_image())["image"]
    np.testing.assert_array_equal(out, np.where(_image() > _image().mean(), 255, 0))


def test_builtin_blocks_inside_a_custom_compose_and_its_arguments_serialize() -> None:
    Block = make_apply_if_large(A)
    inner = A.OneOf([A.HorizontalFlip(p=1.0)], p=1.0)
    pipeline = A.Compose([Block([inner], min_side=16)], seed=0)
    image = _image()
    np.testing.assert_array_equal(pipeline(image=image)["image"], image[:, ::-1])
    small = _image(10, 12)
    np.testing.assert_array_equal(pipeline(image=small)["image"], small)  # below min_side: untouched

    document = A.to_dict(pipeline)
    assert document["transform"]["transforms"][0]["min_side"] == 16
    rebuilt = A.from_dict(document)
    assert type(rebuilt.transforms[0]).__name__ == "ApplyIfLarge" and rebuilt.transforms[0].min_side == 16
    np.testing.assert_array_equal(rebuilt(image=image)["image"], image[:, ::-1])


def test_a_compose_subclass_whose_call_extends_the_parent_call_runs_its_children_once() -> None:
    """``super().__call__`` from a user ``__call__`` runs the children (it used to dispatch back
    to the user ``__call__`` and recurse without end), alone and nested in a pipeline."""

    class Tagged(A.Compose):
        calls = 0

        def __call__(self, *args: Any, **data: Any) -> dict[str, Any]:
            type(self).calls += 1
            out = super().__call__(*args, **data)
            out["tagged"] = True
            return out

    image = np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)
    out = Tagged([A.HorizontalFlip(p=1.0)])(image=image)
    assert out["tagged"] and Tagged.calls == 1
    np.testing.assert_array_equal(out["image"], image[:, ::-1])
    nested = A.Compose([Tagged([A.VerticalFlip(p=1.0)]), A.HorizontalFlip(p=1.0)])(image=image)
    assert Tagged.calls == 2
    np.testing.assert_array_equal(nested["image"], image[::-1, ::-1])


def test_a_per_target_method_that_returns_no_array_is_named_in_the_error() -> None:
    class Average(A.ImageOnlyTransform):
        def apply(self, img: np.ndarray, **params: Any) -> Any:
            return float(img.mean())  # a number, not an image

    with pytest.raises(A.InputError, match=r"Average\.apply returned 0\.0; expected an array"):
        Average(p=1)(image=np.zeros((8, 8, 3), np.uint8))
