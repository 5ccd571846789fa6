"""AnnotationArtifacts' drawing blends only where strokes and callouts are: it must equal
blending every element over the whole image in float, as the transform is defined."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np
import pytest

import invariance as A
from invariance.kernels import markup
from invariance.kernels.weather import to_dtype


def whole_image_reference(img: np.ndarray, elements: Sequence[Mapping[str, Any]]) -> np.ndarray:
    values = img.astype(np.float32)
    for element in elements:
        if element["type"] == "callout":
            markup._zoom(values, element["source"], element["target"], (0, 0))
        cover = markup._coverage(img.shape[:2], element).astype(np.float32) * np.float32(1.0 / 255.0)
        colour = markup.ink(img, str(element["colour"]))
        if img.ndim == 3:
            values += (colour - values) * cover[..., None]
        else:
            values += (colour[0] - values) * cover
    return to_dtype(values, img.dtype)


@pytest.mark.parametrize("shape", [(96, 128, 3), (96, 128), (64, 80, 4)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_markup_equals_the_whole_image_blend(shape: tuple[int, ...], dtype: type) -> None:
    rng = np.random.default_rng(0)
    image = rng.random(shape).astype(np.float32)
    image = (image * 255).astype(np.uint8) if dtype == np.uint8 else image
    transform = A.AnnotationArtifacts(p=1.0)
    checked = 0
    for seed in range(40):
        transform.set_random_seed(seed)
        params = transform.draw_params(np.random.default_rng(seed), _sample(image))
        elements = params["elements"]
        out = markup.draw_markup(image, elements)
        np.testing.assert_array_equal(out, whole_image_reference(image, elements))
        assert not np.shares_memory(out, image)
        checked += any(e["type"] == "callout" for e in elements)
    assert checked, "no callout was drawn: the zoom path went untested"


def test_nothing_drawn_returns_a_copy() -> None:
    image = np.full((20, 20, 3), 7, np.uint8)
    out = markup.draw_markup(image, [])
    np.testing.assert_array_equal(out, image)
    assert not np.shares_memory(out, image)


def _sample(image: np.ndarray) -> Any:
    from invariance.core.basic import STANDALONE_CONFIG
    from invariance.core.kinds import kind_of
    from invariance.core.sample import Sample

    return Sample(image.shape[:2], {"image": image}, {"image": kind_of("image")}, STANDALONE_CONFIG, {})


_ = cv2  # OpenCV draws the strokes in both paths
