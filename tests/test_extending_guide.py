"""The worked examples of docs/extending.md run, in order, as written (so the guide cannot rot)."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import invariance as A

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "extending.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks() -> list[str]:
    return BLOCK.findall(GUIDE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def guide() -> dict[str, Any]:
    # Run the blocks as one user script would: a real module, without this file's __future__ flags.
    module = types.ModuleType("extending_guide")
    sys.modules[module.__name__] = module
    try:
        for number, code in enumerate(_blocks(), 1):
            exec(compile(code, f"{GUIDE.name}[block {number}]", "exec", dont_inherit=True), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module.__dict__


def test_guide_has_both_worked_examples() -> None:
    text = "\n".join(_blocks())
    assert "class ChannelGain(A.PixelTransform)" in text
    assert "class RandomSkewX(A.SpatialTransform)" in text
    assert "apply_to_bboxes" not in text  # the spatial example gets boxes from its geometry


def test_guide_blocks_run(guide: dict[str, Any]) -> None:
    assert issubclass(guide["ChannelGain"], A.PixelTransform)
    assert issubclass(guide["RandomSkewX"], A.SpatialTransform)


def test_pixel_example_behaves(guide: dict[str, Any]) -> None:
    gain = guide["ChannelGain"](gain_range=(0.5, 0.5), p=1.0)
    img = np.linspace(0, 1, 4 * 5 * 3, dtype=np.float32).reshape(4, 5, 3)
    np.testing.assert_allclose(gain(image=img)["image"], img * 0.5, rtol=1e-6)
    five = np.full((4, 5, 5), 200, np.uint8)
    assert (guide["ChannelGain"](gain_range=(2.0, 2.0), p=1.0)(image=five)["image"] == 255).all()


def test_spatial_example_moves_every_target_consistently(guide: dict[str, Any]) -> None:
    skew = guide["RandomSkewX"](limit=(15, 15), p=1.0)
    pipeline = A.Compose(
        [skew],
        bbox_params=A.BboxParams(format="pascal_voc"),
        keypoint_params=A.KeypointParams(format="xy"),
    )
    mask = np.zeros((60, 80), np.uint8)
    mask[50:54, 10:14] = 1
    out = pipeline(
        image=np.zeros((60, 80, 3), np.uint8), mask=mask, bboxes=[(10, 50, 14, 54)], keypoints=[(11.5, 51.5)]
    )
    ys, xs = np.nonzero(out["mask"])
    x0, y0, x1, y1 = out["bboxes"][0]
    assert x0 - 1 <= xs.min() and xs.max() + 1 <= x1 + 1 and y0 <= ys.min() and ys.max() < y1
    kx, ky = out["keypoints"][0]
    assert abs(kx - xs.mean()) < 1 and abs(ky - ys.mean()) < 1
    # The middle row does not move.
    kp = pipeline(image=np.zeros((60, 80, 3), np.uint8), keypoints=[(40.0, 29.5)])["keypoints"][0]
    np.testing.assert_allclose(kp, (40.0, 29.5), atol=1e-9)
