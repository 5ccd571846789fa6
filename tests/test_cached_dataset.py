"""CachedDataset: the deterministic head runs once, the random tail every epoch, same samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed: pip install 'invariance[torch]'")

import cv2  # noqa: E402

import invariance as A  # noqa: E402
from invariance.integrations.torch import AugmentedDataset, CachedDataset, ToTensorV2  # noqa: E402


def _folder(root: Path, count: int = 6) -> Path:
    rng = np.random.default_rng(0)
    for i in range(count):
        label = ("cat", "dog")[i % 2]
        (root / label).mkdir(parents=True, exist_ok=True)
        image = rng.integers(0, 256, (50 + i, 70, 3), dtype=np.uint8)
        cv2.imwrite(str(root / label / f"{i}.png"), image)
    return root


def _policy(seed: int = 11, size: int = 40, fuse_warps: bool = False) -> A.Compose:
    return A.Compose(
        [
            A.SmallestMaxSize(max_size=size),
            A.CenterCrop(size, size),
            A.HorizontalFlip(),
            A.RandomBrightnessContrast(p=0.7),
            A.Rotate(limit=20, p=0.5),
            ToTensorV2(),
        ],
        seed=seed,
        fuse_warps=fuse_warps,
    )


class _CountingLoader:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, path: Path) -> np.ndarray:
        self.calls += 1
        return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_cached_samples_equal_the_uncached_path_over_epochs(tmp_path, cache):
    root = _folder(tmp_path / "data")
    loader = _CountingLoader()
    cached = CachedDataset(root, _policy(), cache=cache, cache_dir=tmp_path / "cache", loader=loader)
    plain = AugmentedDataset(root, _policy())
    assert cached.split.head_names == ("SmallestMaxSize", "CenterCrop")
    for _epoch in range(3):
        for index in range(len(plain)):
            (a, la), (b, lb) = cached[index], plain[index]
            assert la == lb
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert loader.calls == len(plain)  # decoded once, in the first epoch only


def test_uncached_mode_equals_the_cached_one_with_warp_fusion(tmp_path):
    root = _folder(tmp_path / "data")
    cached = CachedDataset(root, _policy(fuse_warps=True), cache="memory")
    reference = CachedDataset(root, _policy(fuse_warps=True), cache=None)
    assert reference.store is None
    for _epoch in range(2):
        for index in range(len(cached)):
            torch.testing.assert_close(cached[index][0], reference[index][0], rtol=0, atol=0)


def test_a_changed_head_invalidates_the_disk_cache(tmp_path):
    root = _folder(tmp_path / "data")
    first = CachedDataset(root, _policy(size=40), cache="disk", cache_dir=tmp_path / "cache")
    assert first.warm() == len(first)
    assert first.warm() == 0  # everything stored
    second = CachedDataset(root, _policy(size=24), cache="disk", cache_dir=tmp_path / "cache")
    assert tuple(second[0][0].shape) == (3, 24, 24)
    assert second.store is not None and first.store is not None
    assert second.store.folder != first.store.folder


def test_a_changed_source_file_is_read_again(tmp_path):
    root = _folder(tmp_path / "data", count=2)
    policy = A.Compose([A.Resize(8, 8, interpolation=cv2.INTER_NEAREST)])
    CachedDataset(root, policy, cache="disk", cache_dir=tmp_path / "cache").warm()
    path = root / "cat" / "0.png"
    cv2.imwrite(str(path), np.full((30, 30, 3), 77, np.uint8))
    again = CachedDataset(root, policy, cache="disk", cache_dir=tmp_path / "cache")
    assert int(again[0][0].max()) == 77


def test_dict_samples_with_boxes_match_the_uncached_path(tmp_path):
    rng = np.random.default_rng(1)
    samples = [
        {
            "image": rng.integers(0, 256, (64, 80, 3), dtype=np.uint8),
            "bboxes": [[5.0, 6.0, 40.0, 50.0], [50.0, 10.0, 79.0, 30.0]],
            "labels": ["cat", "dog"],
        }
        for _ in range(4)
    ]

    def policy() -> A.Compose:
        return A.Compose(
            [A.Resize(48, 60), A.CenterCrop(40, 40), A.HorizontalFlip(), A.Affine(scale=(0.8, 1.2), p=0.5)],
            bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
            seed=5,
            fuse_warps=False,
        )

    cached = CachedDataset(samples, policy(), cache="disk", cache_dir=tmp_path)
    plain = AugmentedDataset(samples, policy())
    for _epoch in range(2):
        for index in range(len(samples)):
            got, expected = cached[index], plain[index]
            np.testing.assert_array_equal(got["image"], expected["image"])
            np.testing.assert_allclose(np.asarray(got["bboxes"]), np.asarray(expected["bboxes"]), atol=1e-4)
            assert list(got["labels"]) == list(expected["labels"])


def test_workers_fill_one_disk_cache_and_reproduce_with_a_torch_seed(tmp_path):
    root = _folder(tmp_path / "data")

    def epoch(dataset: object) -> list:
        torch.manual_seed(0)
        loader = torch.utils.data.DataLoader(dataset, batch_size=2, num_workers=2)
        return [batch[0] for batch in loader]

    cached = CachedDataset(root, _policy(), cache="disk", cache_dir=tmp_path / "cache")
    plain = AugmentedDataset(root, _policy())
    first, second, reference = epoch(cached), epoch(cached), epoch(plain)
    for a, b, c in zip(first, second, reference):
        torch.testing.assert_close(a, c, rtol=0, atol=0)
        torch.testing.assert_close(b, c, rtol=0, atol=0)
    assert cached.store is not None and cached.store.folder is not None
    assert len(list(cached.store.folder.glob("*.npy"))) == len(cached)


def test_bad_cache_arguments_are_named(tmp_path):
    with pytest.raises(A.ParameterError, match="cache='disk' needs cache_dir"):
        CachedDataset(_folder(tmp_path), _policy(), cache="disk")
    with pytest.raises(A.ParameterError, match="cache='ram'"):
        CachedDataset(_folder(tmp_path), _policy(), cache="ram")
