"""Spectrogram-style transforms: time reversal, time masking and frequency masking."""

from __future__ import annotations

import numpy as np
import pytest

import invariance as A


def _spectrogram(h: int = 64, w: int = 120) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(1, 256, (h, w), dtype=np.uint8)  # no zeros, so masked bands are visible


def test_time_reverse_flips_the_time_axis_with_its_targets():
    spec = _spectrogram()
    out = A.Compose(
        [A.TimeReverse(p=1)],
        keypoint_params=A.KeypointParams(format="xy"),
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=[]),
    )(image=spec, mask=spec > 128, keypoints=[[10.0, 5.0]], bboxes=[[0.0, 0.0, 30.0, 10.0]])
    np.testing.assert_array_equal(out["image"], spec[:, ::-1])
    np.testing.assert_array_equal(out["mask"], (spec > 128)[:, ::-1])
    np.testing.assert_allclose(out["keypoints"], [[109.0, 5.0]])
    np.testing.assert_allclose(out["bboxes"], [[90.0, 0.0, 120.0, 10.0]])
    assert isinstance(A.TimeReverse(), A.HorizontalFlip)


@pytest.mark.parametrize(
    ("cls", "arg", "axis"),
    [(A.TimeMasking, "time_mask_param", 1), (A.FrequencyMasking, "freq_mask_param", 0)],
)
def test_masking_zeros_one_contiguous_full_band_at_most_param_long(cls, arg, axis):
    spec = _spectrogram()
    mask = np.ones_like(spec)
    pipeline = A.Compose([cls(**{arg: 25}, p=1)], seed=1)
    lengths = []
    for _ in range(60):
        out = pipeline(image=spec, mask=mask)
        zero = out["image"] == 0
        lines = np.flatnonzero(zero.all(axis=0 if axis == 1 else 1))
        # Everything zeroed lies in full lines along the other axis.
        assert zero.sum() == len(lines) * spec.shape[0 if axis == 1 else 1]
        if len(lines):
            assert np.all(np.diff(lines) == 1), "one contiguous band"
        assert len(lines) <= 25
        np.testing.assert_array_equal(out["mask"] == 0, zero)  # the mask is zeroed too
        lengths.append(len(lines))
    assert max(lengths) > 10 and min(lengths) == 0


def test_time_masking_removes_keypoints_in_the_band_and_keeps_the_others():
    spec = _spectrogram()
    points = [[float(x), 30.0] for x in range(0, 120, 2)]
    pipeline = A.Compose(
        [A.TimeMasking(time_mask_param=40, p=1)],
        keypoint_params=A.KeypointParams(format="xy"),
        seed=5,
    )
    seen_removal = False
    for _ in range(20):
        out = pipeline(image=spec, keypoints=points)
        hidden = (out["image"] == 0).all(axis=0)
        kept = {int(k[0]) for k in out["keypoints"]}
        for x, _y in points:
            assert (int(x) in kept) == (not hidden[int(x)])
        seen_removal |= len(kept) < len(points)
    assert seen_removal


def test_masking_seeds_reproduce():
    spec = _spectrogram()
    a = A.Compose([A.FrequencyMasking(p=1)], seed=3)
    b = A.Compose([A.FrequencyMasking(p=1)], seed=3)
    for _ in range(5):
        np.testing.assert_array_equal(a(image=spec)["image"], b(image=spec)["image"])


def test_masking_arguments_are_validated_and_default_like_albumentations():
    with pytest.raises(A.ParameterError, match="time_mask_param"):
        A.TimeMasking(time_mask_param=0)
    with pytest.raises(A.ParameterError, match="freq_mask_param"):
        A.FrequencyMasking(freq_mask_param=-3)
    assert A.TimeMasking().time_mask_param == 40
    assert A.FrequencyMasking().freq_mask_param == 30
    assert A.TimeMasking().p == 0.5 and A.TimeReverse().p == 0.5


def test_time_reverse_matches_albumentations():
    al = pytest.importorskip("albumentations")
    spec = _spectrogram()
    np.testing.assert_array_equal(
        A.TimeReverse(p=1)(image=spec)["image"], al.TimeReverse(p=1)(image=spec)["image"]
    )
