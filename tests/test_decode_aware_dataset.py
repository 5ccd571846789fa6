"""Decode-aware reading in the PyTorch dataset helper (issue 23, item 5): on by default, same
windows and boxes as a full decode for a seed, and a switch to turn it off."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="torch is optional: pip install -e '.[test,torch]' to run this test"
)

import cv2  # noqa: E402

import invariance as A  # noqa: E402
from invariance.core.image_io import read_image  # noqa: E402
from invariance.integrations.torch import AugmentedDataset  # noqa: E402


@pytest.fixture
def folder(tmp_path):
    from invariance.data import sample_scene

    scene = cv2.resize(sample_scene(240, 320)["image"], (1280, 960), interpolation=cv2.INTER_CUBIC)
    for name in ("cat", "dog"):
        (tmp_path / name).mkdir()
        for i in range(2):
            picture = np.ascontiguousarray(np.roll(scene, 100 * i, axis=1))
            assert cv2.imwrite(str(tmp_path / name / f"{i}.jpg"), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
    return tmp_path


def policy(**kwargs):
    return A.Compose(
        [A.RandomResizedCrop(size=(64, 64)), A.HorizontalFlip()], seed=5, save_applied_params=True, **kwargs
    )


def test_the_default_reader_decodes_reduced_with_the_same_draws(folder, monkeypatch):
    import invariance.io.decode as decode

    factors = []
    original = decode._reduced

    def counting(data, header, factor, name):
        factors.append(factor)
        return original(data, header, factor, name)

    monkeypatch.setattr(decode, "_reduced", counting)
    aware = AugmentedDataset([{"image": p} for p, _ in AugmentedDataset(folder).source], policy())
    plain = AugmentedDataset(
        [{"image": p} for p, _ in AugmentedDataset(folder).source], policy(), decode_aware=False
    )
    for index in range(len(aware)):
        a, b = aware[index], plain[index]
        assert a["applied_transforms"] == b["applied_transforms"]
        assert a["image"].shape == b["image"].shape == (64, 64, 3)
    assert factors and max(factors) >= 2  # the reduced decode ran
    assert len(factors) == len(aware)  # and only in the decode-aware dataset


def test_folder_pairs_and_boxes_go_through_a_dataloader(folder):
    dataset = AugmentedDataset(
        folder, A.Compose([A.RandomResizedCrop(size=(32, 32)), A.ToTensorV2()], seed=0)
    )
    loader = torch.utils.data.DataLoader(dataset, batch_size=2, num_workers=0)
    images, labels = next(iter(loader))
    assert tuple(images.shape) == (2, 3, 32, 32) and labels.tolist() == [0, 0]

    path = next(iter(sorted(folder.rglob("*.jpg"))))
    boxes = [[100.0, 100.0, 900.0, 700.0]]

    def detection(seed: int = 3):
        return A.Compose(
            [A.RandomSizedBBoxSafeCrop(height=96, width=96), A.HorizontalFlip()],
            bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
            seed=seed,
        )

    aware = AugmentedDataset([{"image": path, "bboxes": boxes, "labels": [1]}], detection())[0]
    full = detection()(image=read_image(path), bboxes=boxes, labels=[1])
    np.testing.assert_allclose(np.asarray(aware["bboxes"]), np.asarray(full["bboxes"]))
    assert list(aware["labels"]) == [1]


def test_a_custom_loader_turns_decode_aware_reading_off(folder):
    calls = []

    def loader(path):
        calls.append(path)
        return read_image(path)

    dataset = AugmentedDataset(folder, policy(), loader=loader)
    assert not dataset.decode_aware
    dataset[0]
    assert len(calls) == 1
