"""Domain adaptation (FDA, HistogramMatching, PixelDistributionAdaptation) and TextImage."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import invariance as A
from invariance.kernels import domain as kd

DOMAIN = [A.FDA, A.HistogramMatching, A.PixelDistributionAdaptation]
KEYS = {
    A.FDA: "fda_metadata",
    A.HistogramMatching: "hm_metadata",
    A.PixelDistributionAdaptation: "pda_metadata",
}


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    try:
        from skimage import data

        return np.ascontiguousarray(data.coffee()[::4, ::4])  # 100x150x3, warm and dark
    except ImportError:  # pragma: no cover
        rng = np.random.default_rng(1)
        return (rng.random((100, 150, 3)) * [200, 120, 60]).astype(np.uint8)


def _run(transform: A.BasicTransform, seed: int = 0, **data: object) -> dict:
    return A.Compose([transform], seed=seed)(**data)


def _low_freq_amplitude(img: np.ndarray, half: int) -> np.ndarray:
    f = np.fft.fftshift(np.fft.fft2(img.astype(np.float64), axes=(0, 1)), axes=(0, 1))
    cy, cx = img.shape[0] // 2, img.shape[1] // 2
    return np.abs(f[cy - half : cy + half + 1, cx - half : cx + half + 1])


def test_fda_moves_low_frequency_spectrum_to_reference(photo, reference):
    out = _run(A.FDA(beta_limit=(0.05, 0.05), p=1), image=photo, fda_metadata=[reference])["image"]
    import cv2

    ref = cv2.resize(reference, photo.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    half = 3
    before = np.abs(_low_freq_amplitude(photo, half) - _low_freq_amplitude(ref, half)).sum()
    after = np.abs(_low_freq_amplitude(out, half) - _low_freq_amplitude(ref, half)).sum()
    assert after < 0.2 * before
    assert abs(out.astype(float).mean() - ref.mean()) < abs(photo.astype(float).mean() - ref.mean())


def test_fda_beta_zero_is_identity_and_small_beta_moves_the_mean(photo, reference):
    np.testing.assert_array_equal(kd.fda(photo, reference, 0.0), photo)
    out = kd.fda(photo, reference, 1.0 / 128)  # b = 1: frequencies -1 and 0 on each axis
    assert abs(out.mean() - reference.mean()) < 0.5 * abs(photo.astype(float).mean() - reference.mean())


@pytest.mark.oracle
def test_fda_close_to_albumentations(photo, reference):
    Al = pytest.importorskip("albumentations")
    theirs = Al.FDA(beta_limit=(0.05, 0.05), p=1)(image=photo, fda_metadata=[reference])["image"]
    ours = _run(A.FDA(beta_limit=(0.05, 0.05), p=1), image=photo, fda_metadata=[reference])["image"]
    # the reference is resized with a different interpolation there, so the means differ slightly
    assert np.abs(theirs.astype(int) - ours).mean() < 0.25 * np.abs(theirs.astype(int) - photo).mean()


def _cdf_distance(a: np.ndarray, b: np.ndarray) -> float:
    ha = np.cumsum(np.bincount(a.ravel(), minlength=256)) / a.size
    hb = np.cumsum(np.bincount(b.ravel(), minlength=256)) / b.size
    return float(np.abs(ha - hb).sum())  # the 1-D Wasserstein distance in grey levels


def test_histogram_matching_brings_histogram_to_reference(photo, reference):
    out = _run(A.HistogramMatching(blend_ratio=(1, 1), p=1), image=photo, hm_metadata=[reference])["image"]
    for c in range(3):
        before = _cdf_distance(photo[..., c], reference[..., c])
        after = _cdf_distance(out[..., c], reference[..., c])
        assert after < 0.1 * before
    half = _run(A.HistogramMatching(blend_ratio=(0.5, 0.5), p=1), image=photo, hm_metadata=[reference])[
        "image"
    ]
    d_half = _cdf_distance(half[..., 0], reference[..., 0])
    assert (
        _cdf_distance(out[..., 0], reference[..., 0])
        < d_half
        < _cdf_distance(photo[..., 0], reference[..., 0])
    )


def test_histogram_matching_float_and_monotone(photo, reference):
    img = photo.astype(np.float32) / 255
    out = kd.histogram_matching(img, reference, 1.0)
    assert out.dtype == np.float32 and out.min() >= 0 and out.max() <= 1
    order = np.argsort(img[..., 1].ravel(), kind="stable")
    assert np.all(np.diff(out[..., 1].ravel()[order]) >= -1e-6)  # matching keeps the order of values


@pytest.mark.parametrize("kind", ["pca", "standard", "minmax"])
def test_pda_moves_channel_statistics_to_reference(photo, reference, kind):
    t = A.PixelDistributionAdaptation(blend_ratio=(1, 1), transform_type=kind, p=1)
    out = _run(t, image=photo, pda_metadata=[reference])["image"].astype(float)
    ref = reference.reshape(-1, 3).astype(float)
    src = photo.reshape(-1, 3).astype(float)
    res = out.reshape(-1, 3)
    if kind == "minmax":
        np.testing.assert_allclose(res.min(0), ref.min(0), atol=1)
        np.testing.assert_allclose(res.max(0), ref.max(0), atol=1)
    else:
        assert np.abs(res.mean(0) - ref.mean(0)).sum() < 0.3 * np.abs(src.mean(0) - ref.mean(0)).sum()
        assert np.abs(res.std(0) - ref.std(0)).sum() < 0.5 * np.abs(src.std(0) - ref.std(0)).sum() + 3


def test_pda_pca_matches_covariance():
    rng = np.random.default_rng(0)
    img = rng.random((64, 64, 3)).astype(np.float32) * 0.5
    ref = (rng.random((64, 64, 3)) @ np.array([[0.6, 0.2, 0.0], [0.0, 0.3, 0.1], [0.0, 0.0, 0.2]])).astype(
        np.float32
    )
    out = kd.pixel_distribution_adaptation(img, ref, 1.0, "pca")
    np.testing.assert_allclose(np.cov(out.reshape(-1, 3).T), np.cov(ref.reshape(-1, 3).T), atol=2e-3)


@pytest.mark.parametrize("cls", DOMAIN, ids=lambda c: c.__name__)
def test_missing_metadata_raises_naming_the_key(cls, photo):
    with pytest.raises(A.InputError, match=KEYS[cls]):
        _run(cls(p=1), image=photo)
    custom = cls(metadata_key="refs", p=1)
    with pytest.raises(A.InputError, match="refs"):
        _run(custom, image=photo)
    with pytest.raises(A.InputError, match="refs"):
        _run(custom, image=photo, refs=[])


@pytest.mark.parametrize("cls", DOMAIN, ids=lambda c: c.__name__)
def test_seed_picks_reference_and_targets_untouched(cls, photo, reference):
    refs = [reference, reference[::-1, ::-1].copy(), np.full_like(reference, 30)]
    data = {
        "image": photo,
        "mask": (photo[..., 0] > 100).astype(np.uint8),
        "bboxes": [[5, 5, 50, 60]],
        "labels": [0],
        "keypoints": [[10.0, 12.0]],
        KEYS[cls]: refs,
    }

    def pipe(seed: int) -> A.Compose:
        return A.Compose(
            [cls(p=1)],
            bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
            keypoint_params=A.KeypointParams(format="xy"),
            seed=seed,
        )

    a, b = pipe(9)(**data), pipe(9)(**data)
    np.testing.assert_array_equal(a["image"], b["image"])
    np.testing.assert_array_equal(a["mask"], data["mask"])
    assert a["bboxes"] == data["bboxes"] and a["keypoints"] == data["keypoints"]
    outs = {pipe(s)(**data)["image"].tobytes() for s in range(8)}
    assert len(outs) > 1
    replay = A.ReplayCompose([cls(p=1)], seed=1)
    first = replay(**{"image": photo, KEYS[cls]: refs})
    again = A.ReplayCompose.replay(first["replay"], image=photo, **{KEYS[cls]: refs})
    np.testing.assert_array_equal(first["image"], again["image"])


@pytest.mark.parametrize("cls", DOMAIN, ids=lambda c: c.__name__)
def test_references_of_other_dtype_and_channels(cls, photo, reference):
    grey_ref = reference.mean(axis=2).astype(np.uint8)
    out = _run(cls(p=1), image=photo.astype(np.float32) / 255, **{KEYS[cls]: [grey_ref]})["image"]
    assert out.dtype == np.float32 and out.min() >= 0 and out.max() <= 1
    out = _run(cls(p=1), image=photo[..., 0], **{KEYS[cls]: [reference.astype(np.float32) / 255]})["image"]
    assert out.shape == photo.shape[:2] and out.dtype == np.uint8


def test_reference_paths_are_read(tmp_path, photo, reference):
    import cv2

    path = tmp_path / "ref.png"
    cv2.imwrite(str(path), reference[..., ::-1])
    by_path = _run(A.HistogramMatching(blend_ratio=(1, 1), p=1), image=photo, hm_metadata=[str(path)])[
        "image"
    ]
    by_array = _run(A.HistogramMatching(blend_ratio=(1, 1), p=1), image=photo, hm_metadata=[reference])[
        "image"
    ]
    np.testing.assert_array_equal(by_path, by_array)


def test_deprecated_reference_images_still_work(photo, reference):
    with pytest.warns(DeprecationWarning, match="reference_images"):
        t = A.HistogramMatching(reference_images=[reference], blend_ratio=(1, 1), p=1)
    out = _run(t, image=photo)["image"]
    expected = _run(A.HistogramMatching(blend_ratio=(1, 1), p=1), image=photo, hm_metadata=[reference])[
        "image"
    ]
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize(
    ("cls", "kwargs", "name"),
    [
        (A.FDA, {"beta_limit": (0, 0.7)}, "beta_limit"),
        (A.HistogramMatching, {"blend_ratio": (0.5, 1.5)}, "blend_ratio"),
        (A.PixelDistributionAdaptation, {"transform_type": "zca"}, "transform_type"),
    ],
)
def test_bad_arguments_name_the_argument(cls, kwargs, name):
    with pytest.raises(A.ParameterError, match=name):
        cls(**kwargs)


@pytest.mark.oracle
def test_defaults_match_albumentations():
    Al = pytest.importorskip("albumentations")
    import inspect

    from invariance.transforms.domain.text import TextImage

    for cls in [*DOMAIN, TextImage]:
        ours = {k: v for k, v in inspect.signature(cls).parameters.items() if k != "self"}
        theirs = inspect.signature(getattr(Al, cls.__name__)).parameters
        assert list(ours) == list(theirs), cls.__name__
        for key, param in theirs.items():
            if key == "read_fn":
                continue
            assert ours[key].default == param.default, (cls.__name__, key)


@pytest.mark.oracle
def test_histogram_matching_close_to_albumentations(photo, reference):
    Al = pytest.importorskip("albumentations")
    theirs = Al.HistogramMatching(blend_ratio=(1, 1), p=1)(image=photo, hm_metadata=[reference])["image"]
    ours = _run(A.HistogramMatching(blend_ratio=(1, 1), p=1), image=photo, hm_metadata=[reference])["image"]
    assert np.abs(theirs.astype(int) - ours).mean() < 3


# -- TextImage -----------------------------------------------------------------------------------


@pytest.fixture()
def font_path() -> str:
    pytest.importorskip("PIL")
    pytest.importorskip("fontpkg_roboto")
    from invariance.transforms.domain.text import default_font_path

    return default_font_path()


def _text_image(**kwargs: object) -> A.BasicTransform:
    # Imported at test time: TextImage joins the public catalogue once the contract tests can feed
    # it metadata and the font extra is installed in CI.
    from invariance.transforms.domain.text import TextImage

    return TextImage(**kwargs)


def test_text_is_drawn_inside_its_box_only(font_path):
    white = np.full((100, 200, 3), 255, np.uint8)
    meta = [{"bbox": [0.1, 0.2, 0.9, 0.5], "text": "Hello world"}]
    out = _run(_text_image(font_path=font_path, p=1), image=white, textimage_metadata=meta)["image"]
    dark = np.any(out < 128, axis=2)
    ys, xs = np.nonzero(dark)
    assert len(ys) > 100
    assert xs.min() >= 20 and xs.max() < 180 and ys.min() >= 20 and ys.max() < 50
    red = _run(
        _text_image(font_path=font_path, font_color=(255, 0, 0), p=1), image=white, textimage_metadata=meta
    )
    changed = np.any(red["image"] != 255, axis=2)
    assert (red["image"][changed][:, 0] == 255).all() and red["image"][changed][:, 1].min() < 64


def test_text_float_and_fraction_and_seed(font_path):
    img = np.full((80, 160, 3), 0.9, np.float32)
    meta = [
        {"bbox": [0.0, 0.0, 0.5, 0.4], "text": "one two three"},
        {"bbox": [0.5, 0.5, 1.0, 0.9], "text": "four five"},
    ]
    t = _text_image(font_path=font_path, augmentations=("swap", "deletion", "insertion"), p=1)
    a = _run(t, seed=4, image=img, textimage_metadata=meta)["image"]
    b = _run(t, seed=4, image=img, textimage_metadata=meta)["image"]
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and a.min() >= 0 and a.max() <= 1 and a.min() < 0.5
    none = _text_image(font_path=font_path, fraction_range=(0, 0), p=1)
    np.testing.assert_array_equal(_run(none, image=img, textimage_metadata=meta)["image"], img)


def test_text_augmentations_keep_words():
    from invariance.transforms.domain.text import augment_text

    rng = np.random.default_rng(0)
    assert sorted(augment_text("a b c", "swap", (), rng).split()) == ["a", "b", "c"]
    assert len(augment_text("a b c", "deletion", (), rng).split()) == 2
    inserted = augment_text("a b c", "insertion", ("the",), rng).split()
    assert len(inserted) == 4 and "the" in inserted
    assert augment_text("a b c", None, ("the",), rng) == "a b c"


def test_text_clear_bg_removes_old_content(font_path):
    img = np.full((60, 120, 3), 200, np.uint8)
    img[10:40, 10:110] = 0  # old dark text block
    meta = [{"bbox": [0.0, 0.0, 1.0, 0.8], "text": "."}]
    out = _run(_text_image(font_path=font_path, clear_bg=True, p=1), image=img, textimage_metadata=meta)[
        "image"
    ]
    assert out[10:40, 10:110].mean() > 100


def test_text_missing_metadata_raises(font_path):
    with pytest.raises(A.InputError, match="textimage_metadata"):
        _run(_text_image(font_path=font_path, p=1), image=np.zeros((20, 20, 3), np.uint8))


def test_text_keeps_other_targets(font_path):
    img = np.full((64, 64, 3), 255, np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = A.Compose(
            [_text_image(font_path=font_path, p=1)],
            bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        )(
            image=img,
            mask=np.ones((64, 64), np.uint8),
            bboxes=[[1, 1, 30, 30]],
            labels=[3],
            textimage_metadata=[{"bbox": [0, 0, 1, 0.5], "text": "x"}],
        )
    assert out["bboxes"] == [[1, 1, 30, 30]] and out["labels"] == [3]
    assert (out["mask"] == 1).all()
