"""PyTorch integration: the Dataset wrapper, worker seeding through a DataLoader, collate helpers."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="torch is optional: pip install -e '.[test,torch]' to run this test"
)

import cv2  # noqa: E402

import invariance as A  # noqa: E402
from invariance.integrations.torch import (  # noqa: E402
    AugmentedDataset,
    ToTensorV2,
    collate_detection,
    collate_padded,
    image_folder,
)


def _folder(tmp_path):
    for c, name in enumerate(["cat", "dog"]):
        (tmp_path / name).mkdir()
        for i in range(3):
            img = np.zeros((16, 20, 3), np.uint8)
            img[:, : 5 + i] = (255, 0, 0)  # red on the left (RGB)
            img[0, 0] = (0, 0, 10 * c)
            cv2.imwrite(str(tmp_path / name / f"{i}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return tmp_path


def test_image_folder_reads_rgb_with_class_indices(tmp_path):
    root = _folder(tmp_path)
    items, classes = image_folder(root)
    assert classes == ["cat", "dog"] and [c for _, c in items] == [0, 0, 0, 1, 1, 1]
    ds = AugmentedDataset(root, A.Compose([A.HorizontalFlip(p=1.0), ToTensorV2()]))
    image, label = ds[4]
    assert label == 1 and tuple(image.shape) == (3, 16, 20) and image.dtype == torch.uint8
    # flipped: the red band is now on the right, and it is red in RGB order
    assert image[0, 8, -1] == 255 and image[2, 8, -1] == 0 and image[0, 8, 10] == 0


def test_dict_and_pair_sources():
    image = np.arange(12 * 10 * 3, dtype=np.uint8).reshape(12, 10, 3)
    samples = [{"image": image, "bboxes": [[1, 2, 5, 6]], "labels": [3], "id": "a"}]
    pipeline = A.Compose(
        [A.HorizontalFlip(p=1.0)], bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"])
    )
    out = AugmentedDataset(samples, pipeline)[0]
    assert out["id"] == "a" and out["labels"] == [3]
    assert tuple(out["bboxes"][0]) == pytest.approx((5, 2, 9, 6))
    np.testing.assert_array_equal(out["image"], image[:, ::-1])
    img, target = AugmentedDataset([(image, 7)], A.VerticalFlip(p=1.0))[0]
    assert target == 7
    np.testing.assert_array_equal(img, image[::-1])
    with pytest.raises(A.InputError, match="'image'"):
        AugmentedDataset([{"mask": image}], pipeline)[0]


class _Constant:
    def __init__(self, n):
        self.image = np.zeros((8, 8, 3), np.float32)
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"image": self.image}


def _draws(num_workers, seed):
    torch.manual_seed(seed)
    pipeline = A.Compose([A.RandomBrightnessContrast(brightness_limit=0.5, p=1.0)], seed=1)
    ds = AugmentedDataset(_Constant(8), pipeline)
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=num_workers)
    return torch.cat([batch["image"].reshape(2, -1)[:, 0] for batch in loader]).tolist()


def test_dataloader_workers_get_distinct_reproducible_streams():
    a = _draws(2, seed=0)
    b = _draws(2, seed=0)
    assert a == b  # torch seeded: the same run again
    # worker 0 takes batches 0, 2; worker 1 takes batches 1, 3: they must not repeat each other
    assert a[0:2] != a[2:4]
    assert _draws(2, seed=1) != a  # a new torch seed (a new epoch) gives new draws


def test_collate_keeps_variable_numbers_of_boxes_and_keypoints():
    batch = [
        {"image": np.zeros((4, 4, 3), np.uint8), "bboxes": [[0, 0, 2, 2], [1, 1, 3, 3]], "labels": [1, 2],
         "keypoints": [[1.0, 1.0]], "name": "a"},
        {"image": np.ones((4, 4, 3), np.uint8), "bboxes": [], "labels": [], "keypoints": [[0.0, 2.0], [3.0, 3.0]],
         "name": "b"},
    ]  # fmt: skip
    out = collate_detection(batch)
    assert tuple(out["image"].shape) == (2, 4, 4, 3)
    assert [tuple(b.shape) for b in out["bboxes"]] == [(2, 4), (0, 4)]
    assert [tuple(k.shape) for k in out["keypoints"]] == [(1, 2), (2, 2)]
    assert out["labels"][0].tolist() == [1, 2] and out["labels"][1].dtype == torch.int64
    assert out["name"] == ["a", "b"]

    padded = collate_padded(batch)
    assert tuple(padded["bboxes"].shape) == (2, 2, 4)
    assert padded["bboxes_mask"].tolist() == [[True, True], [False, False]]
    assert padded["labels"].tolist() == [[1, 2], [-1, -1]]
    assert tuple(padded["keypoints"].shape) == (2, 2, 2)
    assert padded["keypoints_mask"].tolist() == [[True, False], [True, True]]
    assert padded["keypoints"][1, 1].tolist() == [3.0, 3.0]


def test_collate_refuses_images_of_different_sizes():
    batch = [{"image": np.zeros((4, 4, 3), np.uint8)}, {"image": np.zeros((5, 4, 3), np.uint8)}]
    with pytest.raises(A.InputError, match="different shapes"):
        collate_detection(batch)


def test_importing_invariance_imports_no_optional_framework():
    import subprocess
    import sys

    code = (
        "import sys, invariance, invariance.integrations, invariance.transforms.auto;"
        "bad = [m for m in ('torch', 'torchvision', 'datasets', 'ray') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
