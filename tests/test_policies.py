"""Conditional policies and multi-view generation."""

from __future__ import annotations

import io

import numpy as np
import pytest

import invariance as A


def _image():
    return np.random.default_rng(0).integers(0, 255, (32, 40, 3), dtype=np.uint8)


def _conditional(**kw):
    return A.ConditionalCompose(
        key="domain",
        branches={"night": [A.HorizontalFlip(p=1.0)], "day": A.VerticalFlip(p=1.0), 3: [A.Transpose(p=1.0)]},
        **kw,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("night", lambda x: x[:, ::-1]), ("day", lambda x: x[::-1]), (3, lambda x: x.transpose(1, 0, 2))],
)
def test_each_branch_fires_only_on_its_value(value, expected):
    image = _image()
    pipe = A.Compose([_conditional()], seed=0)
    np.testing.assert_array_equal(pipe(image=image, domain=value)["image"], expected(image))


@pytest.mark.parametrize("value", ["dusk", None, True, "3"])
def test_other_values_run_the_default_or_nothing(value):
    image = _image()
    data = {} if value is None else {"domain": value}
    out = A.Compose([_conditional()], seed=0)(image=image, **data)
    np.testing.assert_array_equal(out["image"], image)
    out = A.Compose([_conditional(default=[A.Rotate(limit=(90, 90), p=1.0)])], seed=0)(image=image, **data)
    assert not np.array_equal(out["image"], image)


def test_branches_move_boxes_with_the_image():
    pipe = A.Compose([_conditional()], bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]))
    out = pipe(image=_image(), bboxes=[[0, 0, 10, 5]], labels=[1], domain="night")
    assert out["bboxes"] == [[30.0, 0.0, 40.0, 5.0]]


def test_numpy_scalar_values_pick_branches():
    image = _image()
    out = A.Compose([_conditional()], seed=0)(image=image, domain=np.int64(3))
    np.testing.assert_array_equal(out["image"], image.transpose(1, 0, 2))


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_round_trip_and_stable_fingerprint(fmt):
    pipe = A.Compose([_conditional(default=[A.Blur(p=1.0)] if hasattr(A, "Blur") else None, p=0.9)], seed=1)
    buffer = io.StringIO()
    A.save(pipe, buffer, data_format=fmt)
    buffer.seek(0)
    loaded = A.load(buffer, data_format=fmt)
    assert A.fingerprint(loaded) == A.fingerprint(pipe)
    assert A.to_dict(loaded) == A.to_dict(pipe)
    node = loaded.transforms[0]
    assert (
        isinstance(node, A.ConditionalCompose)
        and node.key == "domain"
        and set(node.branches) == {"night", "day", 3}
    )
    image = _image()
    for value in ("night", "day", 3, "other"):
        np.testing.assert_array_equal(
            loaded(image=image, domain=value)["image"], pipe(image=image, domain=value)["image"]
        )


def test_fingerprint_does_not_depend_on_branch_order():
    a = A.ConditionalCompose("k", {"x": A.HorizontalFlip(), "y": A.VerticalFlip()})
    b = A.ConditionalCompose("k", {"y": A.VerticalFlip(), "x": A.HorizontalFlip()})
    assert A.fingerprint(a) == A.fingerprint(b)
    c = A.ConditionalCompose("k", {"y": A.HorizontalFlip(), "x": A.VerticalFlip()})
    assert A.fingerprint(a) != A.fingerprint(c)


def test_replay_reproduces_the_branch():
    pipe = A.ReplayCompose([_conditional()], seed=0)
    image = _image()
    first = pipe(image=image, domain="day")
    again = A.ReplayCompose.replay(first["replay"], image=image)
    np.testing.assert_array_equal(again["image"], image[::-1])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"key": "", "branches": {"a": []}}, "key"),
        ({"key": "k", "branches": {}}, "branches"),
        ({"key": "k", "branches": {"a": A.HorizontalFlip}}, "not a transform"),
        ({"key": "k", "branches": {"a": [A.HorizontalFlip(), "blur"]}}, "not a transform"),
        ({"key": "k", "branches": {(1, 2): []}}, "branch value"),
        ({"key": "k", "branches": {"a": []}, "default": 3}, "not a transform"),
        ({"key": "k", "branches": {"a": []}, "p": 2}, "'p'"),
    ],
)
def test_branches_are_validated_at_construction(kwargs, match):
    with pytest.raises(A.ParameterError, match=match):
        A.ConditionalCompose(**kwargs)


def test_list_values_are_refused_at_call_time():
    with pytest.raises(A.InputError, match="single value"):
        A.Compose([_conditional()])(image=_image(), domain=["night"])


def _views(seed):
    pipe = A.Compose(
        [A.RandomResizedCrop(size=(24, 24), scale=(0.2, 0.6), p=1.0), A.HorizontalFlip(p=0.5)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], clip=True),
    )
    return A.MultiView(pipe, n_views=4, seed=seed)


def test_views_differ_and_reproduce_from_the_seed():
    data = {"image": _image(), "bboxes": [[5, 5, 35, 28]], "labels": ["x"]}
    first = _views(7)(**data)
    again = _views(7)(**data)
    other = _views(8)(**data)
    assert len(first) == 4
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a["image"], b["image"])
        assert a["bboxes"] == b["bboxes"]
    images = [v["image"] for v in first]
    assert all(not np.array_equal(images[i], images[j]) for i in range(4) for j in range(i + 1, 4))
    assert any(not np.array_equal(a["image"], b["image"]) for a, b in zip(first, other))
    # Each view has its own copy of the targets.
    assert len({tuple(v["bboxes"][0]) for v in first if v["bboxes"]}) > 1
    first[0]["labels"].append("y")
    assert first[1]["labels"] == ["x"] and data["labels"] == ["x"]


def test_successive_calls_give_new_views():
    views = _views(3)
    a = views(image=_image(), bboxes=[], labels=[])
    b = views(image=_image(), bboxes=[], labels=[])
    assert not np.array_equal(a[0]["image"], b[0]["image"])


def test_asymmetric_pipelines_and_multicrop():
    strong = A.Compose([A.HorizontalFlip(p=1.0)])
    weak = A.Compose([])
    views = A.MultiView([strong, weak], seed=0)(image=_image())
    np.testing.assert_array_equal(views[0]["image"], _image()[:, ::-1])
    np.testing.assert_array_equal(views[1]["image"], _image())
    crops = A.dino_multicrop(global_size=20, local_size=8, n_local=3, seed=0)(image=_image())
    assert [c["image"].shape[:2] for c in crops] == [(20, 20)] * 2 + [(8, 8)] * 3
    with pytest.raises(A.ParameterError, match="n_views"):
        A.MultiView([strong, weak], n_views=3)
    with pytest.raises(A.ParameterError, match="n_local"):
        A.MultiCrop(strong, weak, n_local=-1)
