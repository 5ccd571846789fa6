"""Colorize's uint8 kernel: the per-channel plane lookups and the grey-ramp shortcut must give
exactly the table looked up at each pixel's luminance, for every channel layout."""

from __future__ import annotations

import numpy as np
import pytest

from invariance.kernels import effects as ke

RAMPS = [
    ([[0, 0, 0], [255, 255, 255]], [0.0, 1.0]),  # the identity grey ramp
    ([[10, 10, 10], [200, 200, 200]], [0.0, 1.0]),  # a grey ramp that is not the identity
    ([[0, 20, 40], [255, 200, 100]], [0.0, 1.0]),
    ([[0, 0, 0], [100, 30, 200], [255, 255, 255]], [0.0, 0.4, 1.0]),
]


@pytest.mark.parametrize("shape", [(40, 50), (40, 50, 1), (40, 50, 3), (40, 50, 4)])
@pytest.mark.parametrize(("anchors", "positions"), RAMPS)
def test_uint8_colorize_is_the_table_at_each_luminance(
    shape: tuple[int, ...], anchors: list[list[int]], positions: list[float]
) -> None:
    rng = np.random.default_rng(0)
    image = (rng.random(shape) * 255).astype(np.uint8)
    before = image.copy()
    table = ke.colorize_table(anchors, positions)
    out = ke.colorize(image, table)
    gray = ke.gray_u8(image).reshape(shape[:2])
    expected = np.clip(np.rint(table), 0, 255).astype(np.uint8)[gray]
    np.testing.assert_array_equal(out, expected)
    assert out.shape == (*shape[:2], 3)
    assert not np.shares_memory(out, image)
    np.testing.assert_array_equal(image, before)


def test_two_calls_do_not_share_the_lookup_buffers() -> None:
    rng = np.random.default_rng(1)
    image = (rng.random((30, 20)) * 255).astype(np.uint8)
    first = ke.colorize(image, ke.colorize_table([[0, 20, 40], [255, 200, 100]], [0.0, 1.0]))
    kept = first.copy()
    ke.colorize(image, ke.colorize_table([[50, 0, 0], [60, 255, 255]], [0.0, 1.0]))
    np.testing.assert_array_equal(first, kept)
