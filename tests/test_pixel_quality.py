"""Quality (compression, downscale) and type/scale (Normalize, ToFloat, FromFloat) transforms."""

from __future__ import annotations

import numpy as np
import pytest

import invariance as A
from invariance.transforms.pixel.scale import FromFloat, ToFloat


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    try:
        from skimage import data

        return np.ascontiguousarray(data.astronaut()[::4, ::4])
    except ImportError:  # pragma: no cover
        return A.data.sample_scene(128, 128)["image"]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(float) - b.astype(float)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.mark.parametrize("kind", ["jpeg", "webp"])
def test_compression_quality_orders_the_error(rgb, kind):
    high = A.ImageCompression(kind, (100, 100), p=1)(image=rgb)["image"]
    low = A.ImageCompression(kind, (5, 5), p=1)(image=rgb)["image"]
    assert high.dtype == np.uint8 and high.shape == rgb.shape
    # this 128-pixel crop is all fine detail: even quality 100 loses some colour (chroma subsampling)
    assert psnr(high, rgb) > 32
    assert psnr(low, rgb) < 26
    assert psnr(high, rgb) > psnr(low, rgb) + 8


@pytest.mark.parametrize("channels", [1, 2, 4, 5])
def test_compression_any_channel_count_and_float(rgb, channels):
    image = np.ascontiguousarray(np.concatenate([rgb, rgb], axis=2)[..., :channels])
    out = A.ImageCompression("jpeg", (90, 90), p=1)(image=image)["image"]
    assert out.shape == image.shape and psnr(out, image) > 30
    f = image.astype(np.float32) / 255
    out_f = A.ImageCompression("jpeg", (90, 90), p=1)(image=f)["image"]
    assert out_f.dtype == np.float32 and out_f.min() >= 0 and out_f.max() <= 1
    np.testing.assert_allclose(out_f * 255, out, atol=1e-3)


def test_compression_validates_quality():
    with pytest.raises(A.ParameterError, match="quality_range"):
        A.ImageCompression(quality_range=(0, 50))
    with pytest.raises(A.ParameterError, match="compression_type"):
        A.ImageCompression(compression_type="png")


def test_downscale_loses_detail_and_keeps_size(rgb):
    out = A.Downscale((0.25, 0.25), p=1)(image=rgb)["image"]
    assert out.shape == rgb.shape
    # nearest down and up at 1/4: the image is made of 4x4 blocks of one value
    assert np.all(out[0::4] == out[1::4]) and np.all(out[:, 0::4] == out[:, 3::4])
    smooth = A.Downscale((0.5, 0.5), {"downscale": 3, "upscale": 1}, p=1)(image=rgb)["image"]
    assert (
        np.abs(np.diff(smooth.astype(float), axis=1)).mean()
        < np.abs(np.diff(rgb.astype(float), axis=1)).mean()
    )
    tiny = A.Downscale((0.01, 0.01), p=1)(image=rgb[:20, :20])["image"]
    assert tiny.shape == (20, 20, 3) and len(np.unique(tiny.reshape(-1, 3), axis=0)) == 1
    with pytest.raises(A.ParameterError, match="scale_range"):
        A.Downscale(scale_range=(0.5, 1.5))
    with pytest.raises(A.ParameterError, match="interpolation_pair"):
        A.Downscale(interpolation_pair={"upscale": 0})


def test_quality_leaves_targets_alone(rgb):
    mask = (rgb[..., 0] > 100).astype(np.uint8)
    pipeline = A.Compose(
        [A.ImageCompression(quality_range=(10, 10), p=1), A.Downscale(p=1)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=[]),
        keypoint_params=A.KeypointParams(format="xy"),
    )
    out = pipeline(image=rgb, mask=mask, bboxes=[[1.0, 2.0, 30.0, 40.0]], keypoints=[[5.0, 6.0]])
    np.testing.assert_array_equal(out["mask"], mask)
    assert [list(b) for b in out["bboxes"]] == [[1.0, 2.0, 30.0, 40.0]]
    assert [list(k) for k in out["keypoints"]] == [[5.0, 6.0]]


def test_to_float_and_from_float_round_trip(rgb):
    f = ToFloat(p=1)(image=rgb)["image"]
    assert f.dtype == np.float32 and f.max() <= 1.0
    np.testing.assert_allclose(f, rgb / 255.0, atol=1e-7)
    back = FromFloat(p=1)(image=f)["image"]
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, rgb)
    # the pipeline accepts uint8 and float32 only; the other integer dtypes work on apply()
    wide = FromFloat(dtype="uint16", p=1).apply(f)
    assert wide.dtype == np.uint16 and wide.max() <= 65535
    np.testing.assert_allclose(ToFloat(p=1).apply(wide), f, atol=1e-4)
    clipped = FromFloat(max_value=255, p=1)(image=np.full((2, 2, 1), 1.5, np.float32))["image"]
    assert clipped.max() == 255


def test_normalize_standard_formula_and_modes(rgb):
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    out = A.Normalize()(image=rgb)["image"]
    np.testing.assert_allclose(out, (rgb / 255.0 - mean) / std, atol=1e-5)
    per_channel = A.Normalize(normalization="image_per_channel")(image=rgb)["image"]
    np.testing.assert_allclose(per_channel.mean(axis=(0, 1)), 0, atol=1e-4)
    np.testing.assert_allclose(per_channel.std(axis=(0, 1)), 1, atol=1e-3)
    mm = A.Normalize(normalization="min_max_per_channel")(image=rgb)["image"]
    np.testing.assert_allclose(mm.min(axis=(0, 1)), 0, atol=1e-6)
    np.testing.assert_allclose(mm.max(axis=(0, 1)), 1, atol=1e-3)


def test_normalize_statistics_in_any_container_give_the_formula(rgb):
    """The kernel caches its matrix by the statistics' values: a tuple, a list, an array, numpy
    scalars or one number must each give the formula, and changing them must not reuse a stale
    matrix."""
    from invariance.kernels import color as kc

    four = np.dstack([rgb, rgb[..., :1]])
    for mean, std in (
        ((0.485, 0.456, 0.406, 0.5), (0.229, 0.224, 0.225, 0.25)),
        ([0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]),
        (np.array([0.3, 0.2, 0.1, 0.0]), np.array([[0.2, 0.3, 0.4, 0.5]])),
        ((np.float32(0.25), 0.5, 0.75, 1.0), (np.float32(0.5),) * 4),
        (0.5, 0.25),
        ([[0.1], [0.2], [0.3], [0.4]], (0.3,)),
    ):
        out = kc.normalize_standard(four, mean, std, 255.0)  # type: ignore[arg-type]
        flat_mean = np.broadcast_to(np.asarray(mean, dtype=np.float64).reshape(-1), (4,))
        flat_std = np.broadcast_to(np.asarray(std, dtype=np.float64).reshape(-1), (4,))
        np.testing.assert_allclose(out, (four / 255.0 - flat_mean) / flat_std, atol=1e-5)


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"normalization": "image"},
        {"normalization": "image_per_channel"},
        {"normalization": "min_max"},
        {"normalization": "min_max_per_channel"},
        {"mean": 0.5, "std": 0.25, "max_pixel_value": 200},
    ],
)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_normalize_matches_albumentations(rgb, args, dtype):
    """Same formulas and epsilon; statistics modes within 1e-4 on uint8 (Albumentations computes
    them in float64, we in float32) and 1e-3 on float32 (accumulation order differs)."""
    Al = pytest.importorskip("albumentations")
    image = rgb if dtype == np.uint8 else rgb.astype(np.float32) / 255
    ours = A.Normalize(**args)(image=image)["image"]
    theirs = Al.Normalize(**args)(image=image)["image"]
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=1e-3 if dtype == np.float32 else 1e-4)


@pytest.mark.parametrize(
    ("name", "args", "max_tol"),
    [
        ("Downscale", {"scale_range": (0.3, 0.3)}, 0),
        ("Downscale", {"scale_range": (0.5, 0.5), "interpolation_pair": {"downscale": 1, "upscale": 1}}, 0),
        ("ImageCompression", {"quality_range": (50, 50)}, 0),
    ],
)
def test_quality_matches_albumentations(rgb, name, args, max_tol):
    """Pixel-exact on single-channel images. For RGB JPEG/WebP we deliberately differ: we hand the
    codec BGR (its native order) so it computes the true luma; Albumentations hands it RGB."""
    Al = pytest.importorskip("albumentations")
    for image in (np.ascontiguousarray(rgb[..., :1]), rgb):
        ours = getattr(A, name)(**args, p=1)(image=image)["image"].astype(int)
        theirs = getattr(Al, name)(**args, p=1)(image=image)["image"].astype(int)
        if name == "ImageCompression" and image.shape[2] == 3:
            assert np.abs(ours - theirs).mean() < 8
        else:
            assert np.abs(ours - theirs).max() <= max_tol
