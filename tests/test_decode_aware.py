"""Decode-aware reading (issue 23, item 5): the first step's window drawn from the header, the
JPEG decoded at 1/2, 1/4 or 1/8, and results equivalent to a full decode then the pipeline."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import invariance as A
from invariance.core.image_io import decode_image
from invariance.io import decode_augmented, read_augmented, reduction_for

#: The bounds docs/loading.md states, as the mean absolute difference per image (grey levels,
#: 0-255) on photographs saved as JPEG: against full decode + the same bilinear resize (which
#: aliases when it shrinks 4x or more), and against full decode + an area-filtered resize of the
#: same window (the anti-aliased ideal both paths approximate).
MEAN_ABS_BOUND = 8.0
MEAN_ABS_BOUND_IDEAL = 4.0


def jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, buffer = cv2.imencode(
        ".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    assert ok
    return buffer.tobytes()


def tiled(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """A real-size photograph: ``image`` mirrored and tiled to ``height x width`` at full detail."""
    reps_y, reps_x = -(-height // image.shape[0]), -(-width // image.shape[1])
    rows = [
        np.concatenate([image if (i + j) % 2 == 0 else image[:, ::-1] for j in range(reps_x)], axis=1)
        for i in range(reps_y)
    ]
    return np.ascontiguousarray(np.concatenate(rows, axis=0)[:height, :width])


@pytest.fixture(scope="module")
def photos() -> list[bytes]:
    data = pytest.importorskip("skimage.data")
    pictures = [data.astronaut(), data.coffee(), data.chelsea()]
    sizes = [(1200, 1500), (1100, 1700), (1400, 1000)]
    return [jpeg(tiled(p, h, w)) for p, (h, w) in zip(pictures, sizes)]


@pytest.fixture(scope="module")
def scene_jpeg() -> tuple[bytes, np.ndarray]:
    """A 1000 x 1300 synthetic scene as a JPEG, and its full decode."""
    from invariance.data import sample_scene

    scene = sample_scene(250, 325)["image"]
    big = cv2.resize(scene, (1300, 1000), interpolation=cv2.INTER_CUBIC)
    data = jpeg(big)
    return data, decode_image(data)


def classification(seed: int, **kwargs: object) -> A.Compose:
    return A.Compose(
        [A.RandomResizedCrop(size=(224, 224)), A.HorizontalFlip(p=0.5), A.RandomBrightnessContrast(p=0.5)],
        seed=seed,
        **kwargs,  # type: ignore[arg-type]
    )


def test_the_reduction_keeps_the_window_at_least_the_output_size():
    assert reduction_for((0, 0, 1800, 1800), (224, 224)) == 8
    assert reduction_for((0, 0, 1791, 1800), (224, 224)) == 4
    assert reduction_for((0, 0, 900, 448), (224, 224)) == 2
    assert reduction_for((0, 0, 447, 2000), (224, 224)) == 1
    assert reduction_for((5, 5, 300, 300), (300, 300)) == 1  # a plain crop keeps full resolution


def test_same_crop_windows_boxes_and_draws_as_full_decode_over_many_seeds(scene_jpeg):
    data, full = scene_jpeg
    boxes = [[100, 120, 700, 800], [600, 50, 1250, 400], [10, 600, 300, 990]]
    params = {
        "bbox_params": A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        "save_applied_params": True,
    }
    factors = []
    for seed in range(200):
        aware, how = decode_augmented(data, classification(seed, **params), bboxes=boxes, labels=[0, 1, 2])
        plain = classification(seed, **params)(image=full, bboxes=boxes, labels=[0, 1, 2])
        factors.append(how.factor)
        assert aware["applied_transforms"] == plain["applied_transforms"]  # windows, flips, colour draws
        np.testing.assert_array_equal(np.asarray(aware["bboxes"]), np.asarray(plain["bboxes"]))
        assert list(aware["labels"]) == list(plain["labels"])
        assert aware["image"].shape == plain["image"].shape == (224, 224, 3)
    # the shortcut is taken, at every factor the scale range allows
    assert {1, 2, 4}.issubset(set(factors))


def test_windows_follow_the_header_size_not_a_decoded_size(scene_jpeg):
    data, _ = scene_jpeg
    pipeline = A.Compose([A.RandomResizedCrop(size=(64, 64))], seed=3, save_applied_params=True)
    out, how = decode_augmented(data, pipeline)
    x, y, w, h = out["applied_transforms"][0][1]["crop"]
    assert (how.width, how.height) == (1300, 1000)
    assert x >= 0 and x + w <= 1300 and y >= 0 and y + h <= 1000


def test_pixels_are_within_the_documented_resampling_error_on_photographs(photos):
    reduced = 0
    for index, data in enumerate(photos):
        full = decode_image(data)
        for seed in range(12):
            aware, how = decode_augmented(data, classification(seed + 100 * index, save_applied_params=True))
            plain = classification(seed + 100 * index, save_applied_params=True)(image=full)
            difference = np.abs(aware["image"].astype(np.float64) - plain["image"]).mean()
            assert difference <= MEAN_ABS_BOUND, (index, seed, how.factor, difference)
            if how.factor == 1:
                np.testing.assert_array_equal(aware["image"], plain["image"])
            reduced += how.factor > 1
    assert reduced >= 18  # most windows of a 1.5-2 MP photo are shrunk 2x or more to 224


def test_the_reduced_decode_is_nearer_the_area_filtered_window_than_full_bilinear(photos):
    """Without later pixel steps, compare both paths with the anti-aliased ideal of the same window."""
    gaps = []
    for index, data in enumerate(photos):
        full = decode_image(data)
        for seed in range(12):

            def crop(seed: int = seed + 7 * index) -> A.Compose:
                return A.Compose([A.RandomResizedCrop(size=(224, 224))], seed=seed, save_applied_params=True)

            aware, how = decode_augmented(data, crop())
            plain = crop()(image=full)
            x, y, w, h = plain["applied_transforms"][0][1]["crop"]
            ideal = cv2.resize(full[y : y + h, x : x + w], (224, 224), interpolation=cv2.INTER_AREA).astype(
                np.float64
            )
            to_ideal = np.abs(aware["image"] - ideal).mean()
            assert to_ideal <= MEAN_ABS_BOUND_IDEAL, (index, seed, how.factor, to_ideal)
            if how.factor > 1:
                gaps.append(np.abs(plain["image"] - ideal).mean() - to_ideal)
    assert len(gaps) >= 18 and float(np.mean(gaps)) > 0


def test_masks_and_keypoints_follow_in_full_image_coordinates(scene_jpeg):
    data, full = scene_jpeg
    mask = np.zeros(full.shape[:2], np.uint8)
    mask[200:700, 300:900] = 1
    mask[750:950, 100:500] = 2
    points = [[350.0, 250.0], [880.0, 690.0], [120.0, 900.0], [1200.0, 40.0]]
    for seed in range(40):

        def pipeline(seed: int = seed) -> A.Compose:
            return A.Compose(
                [A.RandomResizedCrop(size=(128, 160), scale=(0.3, 1.0)), A.HorizontalFlip(p=0.5)],
                keypoint_params=A.KeypointParams(format="xy", remove_invisible=False),
                seed=seed,
            )

        aware, _ = decode_augmented(data, pipeline(), mask=mask, keypoints=points)
        plain = pipeline()(image=full, mask=mask, keypoints=points)
        np.testing.assert_array_equal(aware["mask"], plain["mask"])
        np.testing.assert_allclose(np.asarray(aware["keypoints"]), np.asarray(plain["keypoints"]))
        assert aware["image"].shape == plain["image"].shape


def test_a_step_that_is_not_a_crop_or_resize_decodes_as_usual(scene_jpeg):
    data, full = scene_jpeg
    for pipeline in (
        lambda: A.Compose([A.HorizontalFlip(p=0.5), A.RandomResizedCrop(size=(64, 64))], seed=1),
        lambda: A.Compose([A.RandomResizedCrop(size=(64, 64))], seed=1, p=0.9),
        lambda: A.ReplayCompose([A.RandomResizedCrop(size=(64, 64))], seed=1),
        lambda: A.Compose([A.OneOf([A.RandomResizedCrop(size=(64, 64))], p=1.0)], seed=1),
    ):
        out, how = decode_augmented(data, pipeline())
        assert how.factor == 1
        np.testing.assert_array_equal(out["image"], pipeline()(image=full)["image"])


def test_turned_off_and_non_jpeg_files_decode_in_full(scene_jpeg, tmp_path):
    data, full = scene_jpeg
    out, how = decode_augmented(data, classification(5), decode_aware=False)
    assert how.factor == 1
    np.testing.assert_array_equal(out["image"], classification(5)(image=full)["image"])
    png = tmp_path / "scene.png"
    assert cv2.imwrite(str(png), cv2.cvtColor(full, cv2.COLOR_RGB2BGR))
    np.testing.assert_array_equal(
        read_augmented(png, classification(5))["image"], classification(5)(image=full)["image"]
    )


def test_plain_crops_keep_full_resolution_and_exact_pixels(scene_jpeg):
    data, full = scene_jpeg
    for make in (
        lambda: A.Compose([A.RandomCrop(300, 400), A.HorizontalFlip()], seed=4),
        lambda: A.Compose([A.CenterCrop(200, 200)], seed=4),
        lambda: A.Compose([A.RandomCrop(1200, 1400, pad_if_needed=True)], seed=4),  # pads: not a window
    ):
        out, how = decode_augmented(data, make())
        assert how.factor == 1
        np.testing.assert_array_equal(out["image"], make()(image=full)["image"])


def test_a_resize_first_step_is_decoded_reduced_and_boxes_match(scene_jpeg):
    data, full = scene_jpeg
    boxes = [[100, 120, 700, 800], [600, 50, 1250, 400]]

    def detection() -> A.Compose:
        return A.Compose(
            [A.LongestMaxSize(max_size=320), A.PadIfNeeded(320, 320), A.HorizontalFlip(p=0.5)],
            bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
            seed=2,
        )

    aware, how = decode_augmented(data, detection(), bboxes=boxes, labels=[1, 2])
    plain = detection()(image=full, bboxes=boxes, labels=[1, 2])
    assert how.factor == 4  # 1300 x 1000 -> 320 x 246; at 1/4 the picture is 325 x 250
    np.testing.assert_allclose(np.asarray(aware["bboxes"]), np.asarray(plain["bboxes"]))
    assert aware["image"].shape == plain["image"].shape == (320, 320, 3)
    assert np.abs(aware["image"].astype(float) - plain["image"]).mean() <= MEAN_ABS_BOUND


def test_gray_jpegs_and_area_interpolation(scene_jpeg):
    _, full = scene_jpeg
    gray = cv2.cvtColor(full, cv2.COLOR_RGB2GRAY)
    ok, buffer = cv2.imencode(".jpg", gray)
    assert ok
    data = buffer.tobytes()
    reference = decode_image(data)

    def pipeline(seed: int) -> A.Compose:
        return A.Compose([A.RandomResizedCrop(size=(100, 100), area_for_downscale="image")], seed=seed)

    for seed in range(10):
        out, _ = decode_augmented(data, pipeline(seed))
        plain = pipeline(seed)(image=reference)
        assert out["image"].shape == plain["image"].shape == (100, 100)
        assert np.abs(out["image"].astype(float) - plain["image"]).mean() <= MEAN_ABS_BOUND


def test_fusion_off_and_a_seeded_stream_reproduce(scene_jpeg):
    data, _ = scene_jpeg
    pipeline = classification(11, fuse_warps=False)
    first = [decode_augmented(data, pipeline)[0]["image"] for _ in range(3)]
    again = classification(11, fuse_warps=False)
    second = [decode_augmented(data, again)[0]["image"] for _ in range(3)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])  # the stream moves on between calls


def test_bad_input_is_refused_early(scene_jpeg, tmp_path):
    data, _ = scene_jpeg
    with pytest.raises(A.ParameterError, match="image"):
        decode_augmented(data, classification(0), image=np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(A.ParameterError, match="pipeline"):
        decode_augmented(data, "not a pipeline")
    with pytest.raises(A.ImageFileError, match="empty"):
        decode_augmented(b"", classification(0))
    with pytest.raises(A.ImageFileError, match="cannot read"):
        read_augmented(tmp_path / "missing.jpg", classification(0))
    with pytest.raises(A.ImageTooLargeError):
        decode_augmented(data, classification(0), max_pixels=1000)


def test_exif_orientation_is_ignored_as_by_the_full_reader(scene_jpeg):
    """read_image keeps the stored pixel order (EXIF orientation is not applied); so does the
    reduced decode, so windows drawn from the header's size fit the decoded picture."""
    import io

    from PIL import Image

    _, full = scene_jpeg
    picture = Image.fromarray(
        np.ascontiguousarray(full[:, :1000])
    )  # 1000 x 1000: a transposed decode would fit too
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90, exif=exif)
    data = buffer.getvalue()
    reference = decode_image(data)
    for seed in range(8):

        def crop(seed: int = seed) -> A.Compose:
            return A.Compose([A.RandomResizedCrop(size=(96, 96), scale=(0.5, 1.0))], seed=seed)

        out, how = decode_augmented(data, crop())
        plain = crop()(image=reference)["image"]
        assert np.abs(out["image"].astype(np.float64) - plain).mean() <= MEAN_ABS_BOUND, how


def test_a_compose_subclass_that_chooses_its_own_order_decodes_as_usual(scene_jpeg):
    data, full = scene_jpeg

    class _ReversedCompose(A.Compose):
        def choose(self, rng):
            return [(i, False) for i in reversed(range(len(self.transforms)))]

    def pipeline() -> A.Compose:
        return _ReversedCompose([A.RandomResizedCrop(size=(64, 64)), A.Affine(rotate=(-30, 30))], seed=0)

    out, how = decode_augmented(data, pipeline())
    assert how.factor == 1
    np.testing.assert_array_equal(out["image"], pipeline()(image=full)["image"])
