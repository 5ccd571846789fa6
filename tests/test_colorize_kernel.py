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
    out = ke.colorize(image, anchors, positions)
    gray = ke.gray_u8(image).reshape(shape[:2])
    expected = np.clip(np.rint(table), 0, 255).astype(np.uint8)[gray]
    np.testing.assert_array_equal(out, expected)
    assert out.shape == (*shape[:2], 3)
    assert not np.shares_memory(out, image)
    np.testing.assert_array_equal(image, before)


def test_two_calls_do_not_share_the_lookup_buffers() -> None:
    rng = np.random.default_rng(1)
    image = (rng.random((30, 20)) * 255).astype(np.uint8)
    first = ke.colorize(image, [[0, 20, 40], [255, 200, 100]], [0.0, 1.0])
    kept = first.copy()
    ke.colorize(image, [[50, 0, 0], [60, 255, 255]], [0.0, 1.0])
    np.testing.assert_array_equal(first, kept)


def test_a_straight_ramp_equals_the_interpolated_table() -> None:
    ramp = np.linspace(0.0, 1.0, 256)
    rng = np.random.default_rng(2)
    for _ in range(20):
        black, white = rng.integers(0, 256, 3).tolist(), rng.integers(0, 256, 3).tolist()
        expected = np.stack([np.interp(ramp, [0.0, 1.0], [black[c], white[c]]) for c in range(3)], axis=1)
        np.testing.assert_array_equal(
            ke.colorize_table([black, white], [0.0, 1.0]), expected.astype(np.float32)
        )


def test_colorize_draws_each_anchor_channel_within_its_range() -> None:
    import invariance as A

    transform = A.Colorize(
        black_range=((0, 10, 20), (5, 10, 40)), white_range=((200, 250, 255), (220, 250, 255)), p=1.0
    )
    rng = np.random.default_rng(3)
    seen = [set(), set()]
    for _ in range(400):
        params = transform.sample(rng, None)  # type: ignore[arg-type]
        assert 0 <= params["black"][0] <= 5 and params["black"][1] == 10 and 20 <= params["black"][2] <= 40
        assert 200 <= params["white"][0] <= 220 and params["white"][1:] == [250, 255]
        seen[0].add(params["black"][0])
        seen[1].add(params["white"][0])
    assert seen[0] == set(range(6)) and seen[1] == set(range(200, 221))  # both ends reached
