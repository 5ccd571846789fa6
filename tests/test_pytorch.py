"""ToTensorV2 (skipped cleanly when torch is not installed)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import invariance as A


def test_import_invariance_does_not_import_torch():
    code = "import sys, invariance; print('torch' in sys.modules)"
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "False"
    )


def test_to_tensor_layouts():
    torch = pytest.importorskip(
        "torch", reason="torch is optional: pip install -e '.[test,torch]' to run this test"
    )
    from invariance.pytorch import ToTensorV2

    image = np.random.default_rng(0).integers(0, 256, (10, 12, 3), dtype=np.uint8)
    mask = np.zeros((10, 12), np.uint8)
    out = A.Compose([A.HorizontalFlip(p=1), ToTensorV2()])(image=image, mask=mask, masks=[mask, mask])
    assert isinstance(out["image"], torch.Tensor) and tuple(out["image"].shape) == (3, 10, 12)
    assert out["image"].dtype == torch.uint8
    np.testing.assert_array_equal(out["image"].numpy().transpose(1, 2, 0), image[:, ::-1])
    assert tuple(out["mask"].shape) == (10, 12)
    gray = A.Compose([ToTensorV2(transpose_mask=True)])(
        image=image[:, :, 0], mask=np.zeros((10, 12, 2), np.uint8)
    )
    assert tuple(gray["image"].shape) == (1, 10, 12) and tuple(gray["mask"].shape) == (2, 10, 12)
    normalized = A.Compose([A.Normalize(), ToTensorV2()])(image=image)["image"]
    assert normalized.dtype == torch.float32
