"""Nearest-neighbour upscaling by whole rows must stay bit-identical to OpenCV's own resize."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from invariance.kernels import geometry as kg


@pytest.mark.parametrize("channels", [(), (1,), (3,), (4,)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.uint16])
def test_nearest_upscale_equals_opencv(channels: tuple[int, ...], dtype: type) -> None:
    rng = np.random.default_rng(7)
    for _ in range(150):
        in_h, in_w = (int(v) for v in rng.integers(1, 90, 2))
        out_h = int(rng.integers(2 * in_h, 2 * in_h + 250))  # the row-copy path: at least twice the rows
        out_w = int(rng.integers(1, 300))
        image = (rng.random((in_h, in_w, *channels)) * 200).astype(dtype)
        before = image.copy()
        out = kg.resize(image, out_h, out_w, cv2.INTER_NEAREST)
        expected = cv2.resize(image, (out_w, out_h), interpolation=cv2.INTER_NEAREST).reshape(
            out_h, out_w, *channels
        )
        np.testing.assert_array_equal(out, expected)
        assert out.dtype == image.dtype and out.flags.c_contiguous
        np.testing.assert_array_equal(image, before)


def test_two_results_do_not_share_the_row_buffer() -> None:
    rng = np.random.default_rng(8)
    first = kg.resize((rng.random((10, 12, 3)) * 255).astype(np.uint8), 40, 30, cv2.INTER_NEAREST)
    kept = first.copy()
    kg.resize((rng.random((10, 12, 3)) * 255).astype(np.uint8), 40, 30, cv2.INTER_NEAREST)
    np.testing.assert_array_equal(first, kept)


def test_downscale_round_trip_uses_the_same_pixels() -> None:
    """Downscale (nearest down, nearest up) on a 4x grid: every 4x4 block repeats one input pixel."""
    import invariance as A

    rng = np.random.default_rng(9)
    image = (rng.random((64, 64, 3)) * 255).astype(np.uint8)
    out = A.Downscale(scale_range=(0.25, 0.25), p=1.0)(image=image)["image"]
    np.testing.assert_array_equal(out, np.repeat(np.repeat(image[::4, ::4], 4, axis=0), 4, axis=1))
