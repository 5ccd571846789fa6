"""Splitting a policy into its deterministic head and random tail, and storing the head's output."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import invariance as A
from invariance.integrations import cache as cache_module
from invariance.integrations.cache import CacheError, PrefixCache, run_head, split_policy


def _image(seed: int = 0, shape: tuple[int, int] = (60, 80)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)


def test_head_is_the_leading_run_of_deterministic_steps():
    policy = A.Compose(
        [A.LongestMaxSize(max_size=64), A.CenterCrop(32, 32), A.HorizontalFlip(p=0.5), A.Resize(16, 16)]
    )
    split = split_policy(policy)
    assert split.head_names == ("LongestMaxSize", "CenterCrop")
    assert "HorizontalFlip" in split.stop and "p=0.5" in split.stop
    # the Resize after the first random step stays in the tail: order matters
    assert [type(t).__name__ for t in split.tail.transforms] == ["HorizontalFlip", "Resize"]


@pytest.mark.parametrize(
    ("step", "why"),
    [
        (A.Resize(16, 16, p=0.9), "p=0.9"),
        (A.LongestMaxSize(max_size=[32, 64]), "draws random numbers"),
        (A.PadIfNeeded(min_height=64, min_width=64, position="random"), "draws random numbers"),
        (A.CenterCrop(64, 64, pad_if_needed=True, pad_position="random"), "draws random numbers"),
        (A.OneOf([A.Resize(16, 16)], p=1.0), "composition"),
        (A.RandomCrop(16, 16), "not one of the deterministic"),
    ],
)
def test_steps_that_draw_or_may_not_fire_end_the_head(step, why):
    split = split_policy(A.Compose([step, A.HorizontalFlip()]))
    assert split.head is None and why in split.stop


@pytest.mark.parametrize("name", sorted(cache_module.DETERMINISTIC))
@pytest.mark.parametrize("shape", [(128, 160), (20, 24)])
def test_every_deterministic_entry_draws_nothing(name, shape):
    from invariance.core import registry

    cls = registry.lookup(name)
    for overrides in (
        {},
        {"pad_if_needed": True},
        {"pad_if_needed": True, "pad_position": "top_left"},
        {"pad_if_needed": True, "pad_position": "random"},
        {"position": "random"},
        {"position": "top_left"},
    ):
        if not set(overrides) <= set(cls.InitSchema.model_fields):
            continue  # an argument this class does not take
        step = cls(**{**cls.example_args, **overrides, "p": 1.0})
        split = split_policy(A.Compose([step, A.HorizontalFlip()]))
        if split.head is None:
            continue  # the entry's check refused these arguments
        # a crop larger than the image without padding is an input error, not a draw; a draw
        # would raise CacheError, which is not suppressed
        with contextlib.suppress(A.InputError):
            run_head(split, {"image": _image(shape=shape)})


def test_a_policy_that_may_not_fire_has_no_head():
    split = split_policy(A.Compose([A.Resize(16, 16)], p=0.5))
    assert split.head is None and "p=0.5" in split.stop


def _steps() -> list:
    return [
        A.SmallestMaxSize(max_size=48),
        A.CenterCrop(40, 40),
        A.RandomBrightnessContrast(p=0.7),
        A.HorizontalFlip(),
        A.Rotate(limit=30, p=0.5),
    ]


def test_head_then_tail_equals_the_full_policy_for_a_seed():
    full = A.Compose(_steps(), seed=3, fuse_warps=False)
    split = split_policy(A.Compose(_steps(), seed=3, fuse_warps=False))
    for i in range(8):
        image = _image(i)
        expected = full(image=image)["image"]
        got = split.tail(**run_head(split, {"image": image}))["image"]
        np.testing.assert_array_equal(got, expected)


def test_with_warp_fusion_the_draws_match_and_only_resampling_differs():
    full = A.Compose(_steps(), seed=3, save_applied_params=True)
    split = split_policy(A.Compose(_steps(), seed=3, save_applied_params=True))
    for i in range(8):
        image = _image(i)
        expected = full(image=image)["applied_transforms"][2:]  # without the head's two steps
        assert split.tail(**run_head(split, {"image": image}))["applied_transforms"] == expected


def test_the_key_follows_the_head_not_the_tail():
    a = split_policy(A.Compose([A.Resize(32, 32), A.HorizontalFlip()]))
    b = split_policy(A.Compose([A.Resize(32, 32), A.VerticalFlip(), A.Blur()]))
    c = split_policy(A.Compose([A.Resize(32, 32, interpolation=0), A.HorizontalFlip()]))
    assert a.key == b.key and a.key != c.key and len(a.key) == 64


def test_a_head_step_that_draws_is_refused_at_run_time(monkeypatch):
    monkeypatch.setitem(cache_module.DETERMINISTIC, "RandomBrightnessContrast", lambda t: True)
    split = split_policy(A.Compose([A.RandomBrightnessContrast(p=1.0), A.HorizontalFlip()]))
    assert split.head_names == ("RandomBrightnessContrast",)
    with pytest.raises(CacheError, match="drew random numbers"):
        run_head(split, {"image": _image()})


def test_disk_store_round_trips_images_and_targets(tmp_path):
    split = split_policy(A.Compose([A.Resize(16, 16), A.HorizontalFlip()]))
    store = PrefixCache(split, tmp_path, "sig")
    image = _image()
    store.put(0, image)
    sample = {"image": image, "bboxes": [[1.0, 2.0, 5.0, 6.0]], "labels": ["cat"], "id": None, "empty": []}
    store.put(1, sample)
    np.testing.assert_array_equal(store.get(0), image)
    got = store.get(1)
    assert got["bboxes"] == [[1.0, 2.0, 5.0, 6.0]] and got["labels"] == ["cat"]
    assert got["id"] is None and got["empty"] == []
    assert store.get(2) is None
    # reopened with the same key and source: the entries are still there
    assert PrefixCache(split, tmp_path, "sig").get(0) is not None
    # a different source signature empties the folder
    assert PrefixCache(split, tmp_path, "other").get(0) is None


def test_disk_store_refuses_python_objects_with_a_clear_error(tmp_path):
    split = split_policy(A.Compose([A.Resize(16, 16)]))
    store = PrefixCache(split, tmp_path, "")
    with pytest.raises(CacheError, match=r"'meta'.*cache='memory'"):
        store.put(0, {"image": _image(), "meta": object()})


def test_split_rejects_what_is_not_a_policy():
    with pytest.raises(A.ParameterError, match="split_policy"):
        split_policy("Resize")
