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


def _clip(frames: int = 24) -> tuple[np.ndarray, np.ndarray]:
    video = (np.arange(frames)[:, None, None, None] * np.ones((frames, 6, 8, 3))).astype(np.uint8)
    masks = (np.arange(frames)[:, None, None] * np.ones((frames, 6, 8))).astype(np.uint8)
    return video, masks


@pytest.mark.parametrize(
    ("frames", "count", "expected"),
    [
        (24, 8, [0, 3, 6, 9, 13, 16, 19, 23]),  # both ends kept, positions rounded down
        (5, 1, [0]),
        (3, 5, [0, 0, 1, 1, 2]),  # longer than the clip: frames repeat
        (10, 10, list(range(10))),
    ],
)
def test_uniform_temporal_subsample_picks_evenly_spaced_frames(frames, count, expected):
    video, masks = _clip(frames)
    out = A.Compose([A.UniformTemporalSubsample(num_frames=count)])(images=video, masks=masks)
    assert out["images"].shape == (count, 6, 8, 3)
    assert out["images"][:, 0, 0, 0].tolist() == expected
    assert np.asarray(out["masks"])[:, 0, 0].tolist() == expected, "one mask per frame follows its frame"


def test_uniform_temporal_subsample_leaves_unbound_targets_alone():
    video, _ = _clip(12)
    image = video[0]
    instances = [np.ones((6, 8), np.uint8), np.zeros((6, 8), np.uint8)]  # not one per frame
    out = A.Compose([A.UniformTemporalSubsample(num_frames=4)])(image=image, images=video, masks=instances)
    np.testing.assert_array_equal(out["image"], image)
    assert len(out["masks"]) == 2
    assert out["images"][:, 0, 0, 0].tolist() == [0, 3, 7, 11]


def test_uniform_temporal_subsample_needs_a_positive_frame_count():
    with pytest.raises(A.ParameterError, match="num_frames"):
        A.UniformTemporalSubsample(num_frames=0)
