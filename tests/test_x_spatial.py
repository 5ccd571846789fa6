"""Properties of the AlbumentationsX spatial and occlusion transforms: annotations follow the
pixels they mark, holes stay where the rules put them."""

from __future__ import annotations

import numpy as np
import pytest

import invariance as A


def _pipeline(transform: A.BasicTransform, seed: int = 0, **kwargs: object) -> A.Compose:
    return A.Compose(
        [transform],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], **kwargs),  # type: ignore[arg-type]
        keypoint_params=A.KeypointParams(format="xy", label_fields=["kp_labels"]),
        seed=seed,
    )


def _marker_scene(h: int = 60, w: int = 100) -> dict:
    image = np.zeros((h, w, 3), np.uint8)
    image[20:40, 30:50] = 255
    mask = np.zeros((h, w), np.uint8)
    mask[20:40, 30:50] = 1
    return {
        "image": image,
        "mask": mask,
        "bboxes": [[30.0, 20.0, 50.0, 40.0]],
        "labels": [1],
        "keypoints": [[39.5, 29.5]],
        "kp_labels": [0],
    }


def _bright_box(image: np.ndarray) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(image[..., 0] > 127)
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


# -- LetterBox -----------------------------------------------------------------------------------


@pytest.mark.parametrize("position", ["center", "top_left", "bottom_right", "random"])
def test_letterbox_keeps_aspect_and_moves_every_target_alike(position: str) -> None:
    data = _marker_scene()  # 60 x 100: the width limits a 80 x 80 canvas, scale 0.8
    out = _pipeline(A.LetterBox(size=(80, 80), fill=114, position=position), seed=3)(**data)
    image = out["image"]
    assert image.shape == (80, 80, 3)
    rows_of_content = np.nonzero((image[:, 40] != 114).any(axis=1))[0]
    assert len(rows_of_content) == 48  # 60 * 0.8: the aspect ratio is kept
    x0, y0, x1, y1 = _bright_box(image)
    bx = np.asarray(out["bboxes"][0][:4])
    np.testing.assert_allclose(bx, [x0, y0, x1, y1], atol=1.0)
    np.testing.assert_allclose(bx[2] - bx[0], 16.0, atol=1e-6)
    ys, xs = np.nonzero(out["mask"])
    assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == pytest.approx((x0, y0, x1, y1), abs=1)
    kx, ky = out["keypoints"][0][:2]
    assert abs(kx - (x0 + x1 - 1) / 2) <= 1 and abs(ky - (y0 + y1 - 1) / 2) <= 1
    if position == "top_left":
        assert rows_of_content[0] == 0
    if position == "bottom_right":
        assert rows_of_content[-1] == 79


def test_letterbox_upscales_small_images_and_pads_masks_with_fill_mask() -> None:
    image = np.full((10, 20), 200, np.uint8)
    mask = np.ones((10, 20), np.uint8)
    out = A.LetterBox(size=(100, 60), fill_mask=0)(image=image, mask=mask)
    assert out["image"].shape == (100, 60)
    assert out["mask"].sum() == 30 * 60  # 10x20 scaled by 3, the rest padded with 0
    with pytest.raises(A.ParameterError, match="size"):
        A.LetterBox(size=(0, 10))


# -- BBoxSubsetSafeRandomCrop --------------------------------------------------------------------

BOXES = [[5.0, 5.0, 20.0, 20.0], [60.0, 10.0, 90.0, 30.0], [30.0, 40.0, 50.0, 58.0]]


def test_bbox_subset_crop_keeps_every_box_when_the_subset_is_all() -> None:
    image = np.zeros((60, 100, 3), np.uint8)
    t = A.BBoxSubsetSafeRandomCrop(subset_fraction_range=(1.0, 1.0))
    for seed in range(10):
        out = _pipeline(t, seed=seed)(image=image, bboxes=BOXES, labels=[0, 1, 2], keypoints=[], kp_labels=[])
        sizes = sorted((b[2] - b[0], b[3] - b[1]) for b in out["bboxes"])
        assert sizes == sorted((b[2] - b[0], b[3] - b[1]) for b in BOXES)


def test_bbox_subset_crop_keeps_at_least_one_box_whole_and_respects_the_aspect_range() -> None:
    image = np.zeros((60, 100, 3), np.uint8)
    t = A.BBoxSubsetSafeRandomCrop(subset_fraction_range=(0.0, 0.4), aspect_ratio_range=(1.0, 2.0))
    originals = {(b[2] - b[0], b[3] - b[1]) for b in BOXES}
    for seed in range(20):
        out = _pipeline(t, seed=seed)(image=image, bboxes=BOXES, labels=[0, 1, 2], keypoints=[], kp_labels=[])
        whole = {(b[2] - b[0], b[3] - b[1]) for b in out["bboxes"]} & originals
        assert whole, "the sampled box must survive whole"
        h, w = out["image"].shape[:2]
        assert (h, w) == (60, 100) or 1.0 - 1e-9 <= w / h <= 2.0 + 1e-9


# -- GridMask ------------------------------------------------------------------------------------


@pytest.mark.parametrize("rotation", [(0.0, 0.0), (0.3, 0.6)])
def test_grid_mask_hides_lines_of_the_drawn_width(rotation: tuple[float, float]) -> None:
    image = np.full((120, 160, 3), 200, np.uint8)
    t = A.GridMask(
        num_grid_range=(4, 4),
        line_width_range=(0.25, 0.25),
        rotation_range=rotation,
        fill=0,
        fill_mask=9,
        p=1.0,
    )
    out = t(image=image, mask=np.zeros((120, 160), np.uint8))
    hidden = (out["image"] == 0).all(axis=2)
    # Lines of a quarter of the period in both directions cover 1 - 0.75^2 of the plane.
    assert abs(hidden.mean() - (1 - 0.75**2)) < 0.05
    np.testing.assert_array_equal(out["mask"] == 9, hidden)
    if rotation == (0.0, 0.0):
        full_columns = hidden.all(axis=0).sum()
        assert 0 < full_columns < 160  # vertical stripes span the whole height


def test_grid_mask_drops_keypoints_on_lines() -> None:
    image = np.zeros((100, 100), np.uint8)
    t = A.GridMask(num_grid_range=(2, 2), line_width_range=(0.5, 0.5), fill=255, p=1.0)
    pts = [[float(x) + 0.5, float(y) + 0.5] for x in range(5, 100, 10) for y in range(5, 100, 10)]
    out = _pipeline(t, seed=2)(
        image=image, bboxes=[], labels=[], keypoints=pts, kp_labels=list(range(len(pts)))
    )
    for x, y in out["keypoints"]:
        assert out["image"][int(y), int(x)] == 0
    assert 0 < len(out["keypoints"]) < len(pts)


# -- GuidedCoarseDropout -------------------------------------------------------------------------


def test_guided_dropout_stays_in_the_region_and_spares_protected_boxes() -> None:
    image = np.full((80, 100, 3), 255, np.uint8)
    region = np.zeros((80, 100), np.uint8)
    region[:, 50:] = 1
    t = A.GuidedCoarseDropout(
        num_holes_range=(30, 30),
        hole_height_range=(0.3, 0.4),
        hole_width_range=(0.3, 0.4),
        protected_bbox_labels=["keep"],
        protection_margin=0.5,
        fill=0,
        p=1.0,
    )
    for seed in range(5):
        out = _pipeline(t, seed=seed)(
            image=image,
            dropout_region=region,
            bboxes=[[70.0, 30.0, 80.0, 40.0]],
            labels=["keep"],
            keypoints=[],
            kp_labels=[],
        )
        dropped = (out["image"] == 0).all(axis=2)
        assert dropped.any()
        assert not dropped[:, :50].any(), "outside the region nothing is dropped"
        assert not dropped[25:45, 65:85].any(), "the protected box and its margin are spared"


def test_guided_dropout_needs_its_region() -> None:
    t = A.GuidedCoarseDropout(p=1.0)
    with pytest.raises(A.InputError, match="dropout_region"):
        t(image=np.zeros((20, 20), np.uint8))
    with pytest.raises(A.InputError, match="2-D"):
        t(image=np.zeros((20, 20), np.uint8), dropout_region=np.zeros((20,)))


# -- WaterRefraction and PixelSpread -------------------------------------------------------------


def test_water_refraction_moves_masks_boxes_and_keypoints_with_the_pixels() -> None:
    data = _marker_scene(120, 160)
    data["image"][:] = 0
    data["image"][50:70, 70:90] = 255
    data["mask"][:] = 0
    data["mask"][50:70, 70:90] = 1
    data["bboxes"], data["keypoints"] = [[70.0, 50.0, 90.0, 70.0]], [[79.5, 59.5]]
    t = A.WaterRefraction(amplitude_range=(0.03, 0.03), p=1.0)
    for seed in range(3):
        out = _pipeline(t, seed=seed)(**data)
        bright = out["image"][..., 0] > 127
        assert (bright != (out["mask"] == 1)).mean() < 0.005
        ys, xs = np.nonzero(bright)
        kx, ky = out["keypoints"][0]
        assert abs(kx - xs.mean()) < 2.0 and abs(ky - ys.mean()) < 2.0
        x0, y0, x1, y1 = out["bboxes"][0][:4]
        assert x0 <= xs.min() + 1 and y0 <= ys.min() + 1 and x1 >= xs.max() and y1 >= ys.max()
        assert not np.array_equal(out["image"], data["image"])


def test_water_refraction_displacement_is_bounded_by_the_amplitude() -> None:
    from invariance.kernels.distortion import identity_maps, water_refraction_maps

    waves = np.array([[30.0, 0.3, 1.0], [17.0, 2.0, 0.2], [45.0, 4.0, 3.0]])
    mx, my = water_refraction_maps((50, 70), 6.0, waves)
    ix, iy = identity_maps(50, 70)
    assert np.hypot(mx - ix, my - iy).max() <= 6.0 + 1e-4


def test_pixel_spread_reads_every_pixel_from_its_neighbourhood() -> None:
    h, w, r = 40, 50, 2
    index = np.arange(h * w, dtype=np.float32).reshape(h, w)
    image = index / np.float32(h * w)
    mask = (np.arange(h * w) % 7).reshape(h, w).astype(np.uint8)
    out = A.PixelSpread(radius=r, p=1.0)(image=image, mask=mask)
    source = np.rint(out["image"] * (h * w)).astype(int)
    sy, sx = np.divmod(source, w)
    ys, xs = np.mgrid[0:h, 0:w]
    inner = (slice(r, h - r), slice(r, w - r))
    assert np.abs(sx - xs)[inner].max() <= r and np.abs(sy - ys)[inner].max() <= r
    assert (sx != xs).mean() > 0.5  # it does scatter
    np.testing.assert_array_equal(out["mask"], mask[sy, sx])  # masks move with the same map
